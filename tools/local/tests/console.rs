//! The local console in a real headless Chromium: the page served by the sandbox, the bridge's
//! real handlers over HTTP (contact map and state on the DynamoDB test server), a parked event
//! on an SQS dead-letter queue. A click sends a sample; the CloudTalk contact it creates
//! appears, and so does the loop-prevention line of CloudTalk's echo. A GHL contact shows its
//! owner and its callback task, which turns completed live, and its call's Conversation
//! Intelligence summary note as a "Summary" block, with its `call: …` tags apart. The dials
//! CloudTalk's click-to-call answered are listed, newest first, with the agent, the number and
//! the answer.
//!
//! The browser is driven through WebDriver (`fantoccini`, a chromedriver of the test's own on a
//! free port). Needs Chromium and chromedriver (`apt-get install -y chromium chromium-driver`,
//! which `scripts/chromium.sh` does when they are missing; `CHROMIUM` and `CHROMEDRIVER` name
//! other binaries): without them the test fails in CI and is skipped elsewhere with a message.

mod browser;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bridge::registry::EndpointId;
use bridge::retry_queue::{QueuedEvent, RetryQueue, SqsRetryQueue};
use bridge_local::sandbox::{ConsoleConfig, Sandbox, SandboxConfig};
use bridge_testkit::aws::{aws_endpoint, dynamo_backends, sqs_client, unique_name};
use bridge_testkit::e2e::{serve_bridge, settings, CLOUDTALK_SECRET, GHL_SECRET};
use serde_json::{json, Value};

/// chromedriver and Chromium; without them, a failure in CI and a skip elsewhere.
fn browser_or_fail() -> Option<(PathBuf, PathBuf)> {
    let (chromedriver, chromium) = (browser::chromedriver(), browser::chromium());
    if let (Some(chromedriver), Some(chromium)) = (chromedriver.clone(), chromium.clone()) {
        return Some((chromedriver, chromium));
    }
    let missing = [
        chromium.is_none().then_some("Chromium (CHROMIUM)"),
        chromedriver
            .is_none()
            .then_some("chromedriver (CHROMEDRIVER)"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" and ");
    let advice = "apt-get install -y chromium chromium-driver (scripts/chromium.sh installs them)";
    assert!(
        std::env::var("CI").is_err(),
        "the console's browser test needs {missing}: {advice}"
    );
    eprintln!("skipped: no {missing} ({advice})");
    None
}

/// A dead-letter queue on the test server with one event parked on it the bridge's way.
async fn parked_queue(endpoint: &str) -> String {
    let sqs = sqs_client(endpoint);
    let url = |name: String| {
        let sqs = sqs.clone();
        async move {
            sqs.create_queue()
                .queue_name(name)
                .send()
                .await
                .unwrap()
                .queue_url()
                .unwrap()
                .to_string()
        }
    };
    let retry = url(unique_name("console-retry")).await;
    let dlq = url(unique_name("console-dlq")).await;
    let event = QueuedEvent {
        endpoint: EndpointId::GhlNewTag,
        body: r#"{"contact": {"id": "ghl_9"}, "tag": {"name": "VIP"}}"#.into(),
        body_ref: None,
        key: "console-parked".into(),
        attempt: 8,
        first_received_at: "2026-11-30T10:00:00Z".into(),
        last_error: None,
        parked_at: None,
        not_before_ms: None,
        tenant: None,
        credential: None,
    };
    SqsRetryQueue::new(sqs, retry, Some(dlq.clone()))
        .park(
            &event,
            "gave up after 8 attempts; last error upstream_error: 503",
        )
        .await
        .unwrap();
    dlq
}

/// The sandbox with its console, serving on a port of its own, and the bridge's real handlers
/// it calls (and which call it), with a parked event on a dead-letter queue at `endpoint`.
async fn start_console(endpoint: String) -> (String, Sandbox) {
    // The sandbox's port first: the bridge's settings point at it, and the sandbox at the
    // bridge.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox_url = format!("http://{}", listener.local_addr().unwrap());
    let deps = bridge::Deps::build(settings(&sandbox_url), dynamo_backends().await).unwrap();
    let bridge = serve_bridge(Arc::new(deps)).await;
    let config = SandboxConfig {
        bridge_url: Some(bridge.clone()),
        cloudtalk_webhook_secret: Some(CLOUDTALK_SECRET.into()),
        callback_delay_ms: 200,
        quiet: true,
        console: ConsoleConfig {
            bridge_url: bridge,
            events_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events"),
            ghl_webhook_secret: Some(GHL_SECRET.into()),
            dead_letter_queue_url: Some(parked_queue(&endpoint).await),
            aws_endpoint_url: Some(endpoint),
        },
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::new(config);
    let router = sandbox.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (sandbox_url, sandbox)
}

/// The GHL contact `owned` on screen: its owner, its open task, its summary note as a
/// "Summary" block, its `call: …` tags apart, and its other notes as notes.
async fn owned_contact_shown(b: &browser::Browser, owned: &str) {
    let ghl = b.text(&format!("#ghl-{owned}")).await;
    assert!(ghl.contains("owner: Roberto Bianchi"), "{ghl}");
    assert!(
        ghl.contains("Call back Giulia · due 2026-12-01 10:00 UTC · Anna Verdi · open"),
        "{ghl}"
    );
    let summary = b.text(&format!("#ghl-{owned} .summary")).await;
    // The heading is upper case on screen (WebDriver's text applies the CSS).
    assert!(summary.to_lowercase().starts_with("summary"), "{summary}");
    assert!(
        summary.contains(
            "Giulia Ricci asked about the spring offer; Roberto Bianchi promised a quote by Friday."
        ),
        "{summary}"
    );
    assert!(summary.contains("Next: send the quote"), "{summary}");
    assert!(!summary.contains("[CloudTalk AI summary]"), "{summary}");
    let call_tags = b.text(&format!("#ghl-{owned} .call-tags")).await;
    assert!(
        call_tags.contains("interested") && call_tags.contains("callback"),
        "{call_tags}"
    );
    assert!(!call_tags.contains("vip"), "{call_tags}");
    assert!(ghl.contains("Plain note"), "other notes stay notes: {ghl}");
}

/// After the click, on screen: the CloudTalk column's new contact, and the feed's events.
fn clicked_sample_shown(contacts: &str, events: &str) {
    // The CloudTalk column: the contact with its tags and the link the bridge answered.
    assert!(contacts.contains("+393501234567"), "{contacts}");
    assert!(
        contacts.contains("lead") && contacts.contains("priority"),
        "{contacts}"
    );
    assert!(contacts.contains("GHL ghl_123456"), "{contacts}");
    // The feed, newest first: CloudTalk's echo ignored, above the sample that caused it.
    let echo = events
        .find("cloudtalk-contact-created")
        .expect("the echo in the feed");
    let sample = events
        .find("ghl-new-contact")
        .expect("the sample in the feed");
    assert!(echo < sample, "newest first: {events}");
    assert!(events.contains("already_linked"), "{events}");
    assert!(events.contains("applied"), "{events}");
    assert!(
        events.contains("CloudTalk POST /bulk/contacts.json → 200"),
        "{events}"
    );
    assert!(
        events.contains("ghl-new-tag × 1"),
        "the dead-letter queue by reason: {events}"
    );
}

/// The sandbox's feed recorded the click and CloudTalk's echo, which loop prevention stopped.
fn sample_and_echo_recorded(sandbox: &Sandbox) {
    let feed = sandbox.feed();
    let echo = feed
        .iter()
        .find(|e| e.endpoint.as_deref() == Some("cloudtalk-contact-created"))
        .expect("the echo was recorded");
    assert!(echo.loop_prevention && echo.upstream.is_empty(), "{echo:?}");
    let sent = feed
        .iter()
        .find(|e| e.sample.as_deref() == Some("ghl-new-contact/nested.json"))
        .expect("the click was recorded");
    assert_eq!(sent.status, Some(200), "{sent:?}");
    assert!(
        !sent.upstream.is_empty() && sent.duration_ms.is_some(),
        "{sent:?}"
    );
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_click_sends_a_sample_and_the_contact_and_the_loop_prevention_line_appear() {
    let Some(endpoint) = aws_endpoint() else {
        return;
    };
    let Some((chromedriver, chromium)) = browser_or_fail() else {
        return;
    };

    let (sandbox_url, sandbox) = start_console(endpoint).await;
    // A GHL contact owned by Roberto Bianchi, with a callback task for Anna Verdi, a call's
    // summary note and its call tags.
    let (owned, task) = owned_contact_with_task(&sandbox_url).await;
    summarised(&sandbox_url, &owned).await;
    // Roberto Bianchi (online) dials a lead; then Franco Neri, who is offline, is refused.
    assert_eq!(dial(&sandbox_url, 42, "+393409998877").await, 200);
    assert_eq!(dial(&sandbox_url, 44, "+393401112233").await, 403);

    let b = browser::Browser::launch(&chromedriver, &chromium)
        .await
        .unwrap_or_else(|e| panic!("in the browser: {e}"));
    b.goto(&format!("{sandbox_url}/")).await;
    let before = b.text("#cloudtalk").await;
    assert!(before.contains("no contacts yet"), "{before}");
    assert!(!b.text("#events").await.contains("Loop prevention"));
    owned_contact_shown(&b, &owned).await;
    dials_listed(&b).await;
    ghl_request(
        &sandbox_url,
        reqwest::Method::PUT,
        &format!("/contacts/{owned}/tasks/{task}/completed"),
        json!({"completed": true}),
    )
    .await;
    // The task turns completed live.
    b.wait_for_text(&format!("#ghl-{owned}"), "Anna Verdi · completed")
        .await;

    b.click(r#"button[data-sample="ghl-new-contact/nested.json"]"#)
        .await;
    b.wait_for_text("#cloudtalk", "Mario Rossi").await;
    b.wait_for_text("#events", "Loop prevention").await;
    b.wait_for_text("#events", "gave up after 8 attempts").await;
    let (contacts, events) = (b.text("#cloudtalk").await, b.text("#events").await);
    b.close()
        .await
        .unwrap_or_else(|e| panic!("closing the browser: {e}"));

    clicked_sample_shown(&contacts, &events);
    sample_and_echo_recorded(&sandbox);
}

#[tokio::test]
async fn the_proxy_records_what_other_senders_send_through_it() {
    let Some(_) = aws_endpoint() else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sandbox_url = format!("http://{}", listener.local_addr().unwrap());
    let deps = bridge::Deps::build(settings(&sandbox_url), dynamo_backends().await).unwrap();
    let bridge = serve_bridge(Arc::new(deps)).await;
    let sandbox = Sandbox::new(SandboxConfig {
        quiet: true,
        console: ConsoleConfig {
            bridge_url: bridge,
            ..ConsoleConfig::default()
        },
        ..SandboxConfig::default()
    });
    let router = sandbox.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let options = bridge_operator::sender::SendOptions {
        base_url: format!("{sandbox_url}/bridge"),
        ghl_secret: Some(GHL_SECRET.into()),
        cloudtalk_secret: Some(CLOUDTALK_SECRET.into()),
        timeout: Duration::from_secs(30),
        resign: true,
    };
    let events = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let client = reqwest::Client::new();
    let created = bridge_operator::sender::send(
        &client,
        &options,
        &events.join("ghl-new-contact/nested.json"),
    )
    .await;
    assert!(
        created.as_expected(),
        "{}",
        bridge_operator::sender::line(&created)
    );
    let refused = bridge_operator::sender::send(
        &client,
        &options,
        &events.join("ghl-new-contact/unauthorized.json"),
    )
    .await;
    assert!(
        refused.as_expected(),
        "{}",
        bridge_operator::sender::line(&refused)
    );

    let feed = sandbox.feed();
    assert_eq!(feed.len(), 2, "{feed:?}");
    assert_eq!(feed[0].status, Some(401));
    assert_eq!(feed[1].outcome.as_deref(), Some("applied"));
    assert_eq!(feed[1].endpoint.as_deref(), Some("ghl-new-contact"));
    assert!(
        feed[1]
            .upstream
            .iter()
            .any(|c| c.starts_with("CloudTalk POST /bulk/contacts.json")),
        "{:?}",
        feed[1].upstream
    );
}

/// A request to the sandbox's GHL API; its JSON answer, which must be a success.
async fn ghl_request(base: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
    let answer = reqwest::Client::new()
        .request(method, format!("{base}/ghl{path}"))
        .bearer_auth("sandbox-ghl-token")
        .header("version", "2021-07-28")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{path}: {}", answer.status());
    answer.json().await.unwrap()
}

/// The "Dials" list shows both dials, newest first, each with its agent, number and answer.
async fn dials_listed(b: &browser::Browser) {
    let dials = b.text("#dials").await;
    let rang = dials
        .find("Roberto Bianchi → +393409998877 · ringing")
        .unwrap_or_else(|| panic!("Roberto's dial: {dials}"));
    let refused = dials
        .find("Franco Neri → +393401112233 · not online")
        .unwrap_or_else(|| panic!("Franco's dial: {dials}"));
    assert!(refused < rang, "newest first: {dials}");
}

/// A click-to-call request to the sandbox's CloudTalk API: its status.
async fn dial(base: &str, agent_id: u64, callee: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/cloudtalk/api/calls/create.json"))
        .basic_auth("sandbox-key-id", Some("sandbox-key-secret"))
        .json(&json!({"agent_id": agent_id, "callee_number": callee}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A GHL contact owned by `usr_roberto` with an open task assigned to `usr_anna`: their ids.
async fn owned_contact_with_task(base: &str) -> (String, String) {
    let contact = ghl_request(
        base,
        reqwest::Method::POST,
        "/contacts/upsert",
        json!({"locationId": "sandbox-location", "firstName": "Giulia", "lastName": "Ricci",
            "phone": "+393409998877", "assignedTo": "usr_roberto"}),
    )
    .await;
    let id = contact["contact"]["id"].as_str().unwrap().to_string();
    let task = ghl_request(
        base,
        reqwest::Method::POST,
        &format!("/contacts/{id}/tasks"),
        json!({"title": "Call back Giulia", "dueDate": "2026-12-01T10:00:00Z",
            "completed": false, "assignedTo": "usr_anna"}),
    )
    .await;
    let task = task["task"]["id"].as_str().unwrap().to_string();
    (id, task)
}

/// A summary note as the bridge writes it after a call, another note, and call tags beside an
/// ordinary one, on GHL contact `id`.
async fn summarised(base: &str, id: &str) {
    let note = "[CloudTalk AI summary]\nGiulia Ricci asked about the spring offer; Roberto \
        Bianchi promised a quote by Friday.\nNext: send the quote";
    for body in [note, "Plain note"] {
        ghl_request(
            base,
            reqwest::Method::POST,
            &format!("/contacts/{id}/notes"),
            json!({ "body": body }),
        )
        .await;
    }
    ghl_request(
        base,
        reqwest::Method::POST,
        &format!("/contacts/{id}/tags"),
        json!({"tags": ["vip", "call: interested", "call: callback"]}),
    )
    .await;
}

/// The section `[name]` of a manifest: its lines up to the next section.
fn section<'t>(manifest: &'t str, name: &str) -> Vec<&'t str> {
    manifest
        .lines()
        .skip_while(|l| l.trim() != name)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .collect()
}

/// The tools' crates, by package name and folder: the sandbox and its console are in
/// `bridge-local`, which links `bridge-operator`; `bridge-bench` links them both.
const TOOLS: [(&str, &str); 3] = [
    ("bridge-operator", "tools/operator"),
    ("bridge-local", "tools/local"),
    ("bridge-bench", "tools/bench"),
];

#[test]
fn the_console_is_never_linked_into_the_lambda_binaries() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    for (name, dir) in TOOLS {
        let manifest = std::fs::read_to_string(root.join(dir).join("Cargo.toml")).unwrap();
        assert!(
            section(&manifest, "[package]").contains(&format!("name = \"{name}\"").as_str()),
            "{dir} is the crate {name}"
        );
    }
    for krate in ["functions", "shared"] {
        let manifest = std::fs::read_to_string(root.join(krate).join("Cargo.toml")).unwrap();
        let dependencies = section(&manifest, "[dependencies]");
        assert!(!dependencies.is_empty(), "{krate} has dependencies");
        for line in dependencies {
            // A dependency's line, without its comment: its name, or a `package = "…"`.
            let line = line.split('#').next().unwrap_or_default();
            for (tool, _) in TOOLS {
                assert!(
                    !line.contains(tool),
                    "{krate}'s binaries would link {tool} (the sandbox and its console): {line}"
                );
            }
        }
    }
}
