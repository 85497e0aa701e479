//! The sandbox's CloudTalk platform API (`POST /cuecards`) against the bridge's real client:
//! a card shown and kept, 424 for a call of the history that is over, the spec's 400 for a
//! body that breaks it, the API key and the company's limit; then the bridge end to end over
//! HTTP: a call from a new number gets the "not in GoHighLevel" card, the next call from the
//! same caller the contact's record (its opportunity with pipeline, stage and value, its owner,
//! its last note), and the console shows each card.

use std::sync::Arc;

use bridge::clients::cloudtalk_platform::{
    CloudTalkPlatformClient, CueCard as CardRequest, CueCardsApi, Shown,
};
use bridge::clients::CallCounter;
use bridge_local::sandbox::{CallSpec, Sandbox, SandboxConfig};
use bridge_testkit::e2e::{serve_bridge, settings, CLOUDTALK_SECRET};
use serde_json::{json, Value};

fn quiet() -> SandboxConfig {
    SandboxConfig {
        quiet: true,
        ..SandboxConfig::default()
    }
}

fn platform(base: &str, key_secret: &str) -> CloudTalkPlatformClient {
    let secrets = bridge::secrets::Secrets {
        cloudtalk_api_key_id: Some("sandbox-key-id".into()),
        cloudtalk_api_key_secret: Some(key_secret.into()),
        ..Default::default()
    };
    CloudTalkPlatformClient::new(
        reqwest::Client::new(),
        &format!("{base}/cloudtalk/platform"),
        Arc::new(bridge::secrets::SecretStore::fixed(secrets)),
        CallCounter::default(),
    )
}

fn card(uuid: &str) -> CardRequest {
    CardRequest {
        call_uuid: uuid.into(),
        kind: "html",
        title: "Mario Rossi".into(),
        subtitle: Some("GoHighLevel contact".into()),
        icon_url: None,
        content: "<p><b>Tags:</b> vip</p>".into(),
    }
}

#[tokio::test]
async fn a_card_for_an_active_call_is_shown_and_one_for_a_call_that_is_over_is_424() {
    let (url, sandbox) = Sandbox::spawn(quiet()).await;
    let client = platform(&url, "sandbox-key-secret");
    assert_eq!(
        client.post_cue_card(&card("u-live")).await.unwrap(),
        Shown::Shown
    );
    let now = chrono::Utc::now().timestamp_millis();
    let ended = sandbox.record_call(CallSpec {
        external_number: "+393501234567".into(),
        started_ms: now - 120_000,
        answered_ms: Some(now - 110_000),
        ended_ms: now - 60_000,
        talking_secs: 50,
        uuid: Some("u-over".into()),
        ..CallSpec::default()
    });
    assert!(!ended.is_empty());
    assert_eq!(
        client.post_cue_card(&card("u-over")).await.unwrap(),
        Shown::CallOver
    );
    let cards = sandbox.cue_cards();
    assert_eq!(cards.len(), 2);
    assert_eq!(
        (cards[0].call_uuid.as_str(), cards[0].status),
        ("u-live", 200)
    );
    assert_eq!(cards[0].content, "<p><b>Tags:</b> vip</p>");
    assert_eq!(
        (cards[1].call_uuid.as_str(), cards[1].status),
        ("u-over", 424)
    );
    let state = sandbox.state_json();
    assert_eq!(state["cloudtalk"]["cueCards"][0]["callUuid"], "u-live");
    assert_eq!(
        state["counters"]["cloudtalkRequests"], 2,
        "CloudTalk's limit counts them"
    );
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

#[tokio::test]
async fn a_card_that_breaks_the_spec_is_400_and_a_wrong_key_401() {
    let (url, sandbox) = Sandbox::spawn(quiet()).await;
    let refused = reqwest::Client::new()
        .post(format!("{url}/cloudtalk/platform/cuecards"))
        .basic_auth("sandbox-key-id", Some("sandbox-key-secret"))
        .json(&json!({"call_uuid": "u-1", "type": "html", "content": 42}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert!(!body["errors"].as_array().unwrap().is_empty(), "{body}");
    let planted = sandbox.take_violations();
    assert_eq!(planted.len(), 1, "{planted:?}");
    assert_eq!(planted[0].operation.as_deref(), Some("/cuecards"));
    assert!(
        sandbox.cue_cards().is_empty(),
        "a refused card is not shown"
    );
    let wrong = platform(&url, "wrong").post_cue_card(&card("u-2")).await;
    assert_eq!(wrong.unwrap_err().status(), Some(401));
}

/// The bridge over HTTP against the sandbox, with stores in memory.
async fn bridge(sandbox_url: &str) -> String {
    let deps = bridge::Deps::build(settings(sandbox_url), bridge::Backends::in_memory()).unwrap();
    serve_bridge(Arc::new(deps)).await
}

async fn call_started(bridge: &str, body: Value) -> Value {
    let url = format!("{bridge}/api/cloudtalk-webhooks/call-started");
    let (status, answer) =
        bridge_testkit::e2e::post(&reqwest::Client::new(), &url, CLOUDTALK_SECRET, body).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// Gives GHL contact `id` an open opportunity of 2,500 at "Proposal Sent", an owner and a note.
async fn give_mario_a_record(sandbox_url: &str, id: &str) {
    let http = reqwest::Client::new();
    let ghl = |path: &str| format!("{sandbox_url}/ghl{path}");
    let writes = [
        (
            reqwest::Method::POST,
            "/opportunities/".to_string(),
            json!({"pipelineId": "sandbox-pipeline", "pipelineStageId": "proposal",
                "locationId": "sandbox-location", "name": "Kitchen <renovation>",
                "status": "open", "contactId": id, "monetaryValue": 2500}),
        ),
        (
            reqwest::Method::PUT,
            format!("/contacts/{id}"),
            json!({"assignedTo": "usr_anna"}),
        ),
        (
            reqwest::Method::POST,
            format!("/contacts/{id}/notes"),
            json!({"body": "Prefers calls after 5 pm"}),
        ),
    ];
    for (method, path, body) in writes {
        let r = http
            .request(method, ghl(&path))
            .bearer_auth("sandbox-ghl-token")
            .header("version", "2021-07-28")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }
}

#[tokio::test]
async fn the_bridge_s_cards_reach_the_sandbox_and_its_console() {
    let (sandbox_url, sandbox) = Sandbox::spawn(quiet()).await;
    let bridge = bridge(&sandbox_url).await;
    let first = json!({"call_uuid": "u-first", "contact_id": 1451646073u64,
        "contact_name": "Mario Rossi", "external_number": 393513416607u64, "direction": "incoming"});
    let answer = call_started(&bridge, first).await;
    assert_eq!(answer["cueCard"], "shown_not_in_ghl", "{answer}");
    let mario = answer["ghlContactId"].as_str().unwrap().to_string();
    give_mario_a_record(&sandbox_url, &mario).await;
    let second = json!({"call_uuid": "u-second", "contact_id": 1451646073u64,
        "external_number": 393513416607u64, "direction": "incoming"});
    let answer = call_started(&bridge, second).await;
    assert_eq!(answer["cueCard"], "shown", "{answer}");
    let cards = sandbox.cue_cards();
    assert_eq!(cards.len(), 2);
    assert_eq!(cards[0].title, "Not in GoHighLevel");
    assert_eq!(cards[1].title, "Mario Rossi");
    for part in [
        "<li><b>Kitchen &lt;renovation&gt;</b> · Sales Pipeline › Proposal Sent · 2,500</li>",
        "<p><b>Owner:</b> Anna Verdi</p>",
        "<p><b>Last note:</b> Prefers calls after 5 pm</p>",
    ] {
        assert!(
            cards[1].content.contains(part),
            "{part} in {}",
            cards[1].content
        );
    }
    let page = reqwest::get(format!("{sandbox_url}/console/live"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"data-call-uuid="u-second""#), "{page}");
    assert!(page.contains("<b>Mario Rossi</b>"), "{page}");
    assert!(page.contains(r#"<iframe sandbox="""#), "{page}");
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}
