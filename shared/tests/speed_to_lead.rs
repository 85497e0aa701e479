//! Speed to lead through the real handlers, the real pipeline and the real worker: a new GHL
//! lead (or the trigger tag) rings a CloudTalk agent through click-to-call; excluded sources
//! are not dialled; outside business hours the lead waits for the opening on a manual clock;
//! 403 and 409 go on to the next agent; nobody free for the window ends in a task; concurrent
//! deliveries dial once; round robin is fair across containers; a lost answer is settled from
//! the call history, never by a second dial.

use std::collections::HashMap;
use std::sync::Arc;

use bridge::clock::{Clock, ManualClock};
use bridge::Deps;
use bridge_testkit::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const ROUTE: &str = NEW_CONTACT_ROUTE;

fn options(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    dial_options(pairs)
}

async fn start(settings: Vec<(String, String)>) -> Dialing {
    Dialing::start(settings).await
}

async fn start_at(settings: Vec<(String, String)>, clock: ManualClock) -> Dialing {
    Dialing::start_at(settings, clock).await
}

#[tokio::test]
async fn a_new_contact_rings_an_agent_at_once_and_the_note_says_who() {
    let run = start(options(&[])).await;
    let answer = run.send(ROUTE, &run.lead("lead-1")).await;
    assert_eq!(answer["dial"], "dialled", "{answer}");
    assert_eq!(
        run.dials().await,
        vec![("42".to_string(), LEAD_PHONE.to_string())]
    );
    let notes = run.ghl_posts("/notes").await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    let text = notes[0]["body"].as_str().unwrap();
    assert!(
        text.starts_with("[Speed to lead] New lead dialled"),
        "{text}"
    );
    assert!(text.contains("Roberto Bianchi: rang"), "{text}");
    assert_eq!(notes[0]["userId"], AGENT_USER, "the note is the agent's");
    // The body posted to CloudTalk is what its spec asks: an integer agent id.
    let sent = received(&run.fakes.cloudtalk).await;
    let create = sent
        .iter()
        .find(|r| r.path == "/api/calls/create.json")
        .unwrap();
    assert_eq!(
        create.body,
        json!({"agent_id": 42, "callee_number": LEAD_PHONE})
    );
    // Off: nothing rings.
    let off = start(vec![]).await;
    let answer = off.send(ROUTE, &off.lead("lead-2")).await;
    assert!(answer.get("dial").is_none(), "{answer}");
    assert!(off.dials().await.is_empty());
}

#[tokio::test]
async fn the_trigger_tag_dials_and_another_tag_does_not() {
    let run = start(options(&[
        ("SPEED_TO_LEAD_ON_NEW_CONTACT", "off"),
        ("SPEED_TO_LEAD_TAG", "call-now"),
    ]))
    .await;
    let created = run.send(ROUTE, &run.lead("lead-3")).await;
    assert!(
        created.get("dial").is_none(),
        "new contacts are not a trigger here: {created}"
    );
    let mut other = run.lead("lead-3");
    other["tag"] = json!({"name": "newsletter"});
    run.send("/api/ghl-webhooks/new-tag", &other).await;
    assert!(run.dials().await.is_empty());
    let mut tagged = run.lead("lead-3");
    tagged["tag"] = json!({"name": "Call-Now"});
    let answer = run.send("/api/ghl-webhooks/new-tag", &tagged).await;
    assert_eq!(answer["dial"], "dialled", "{answer}");
    assert_eq!(run.dials().await.len(), 1);
}

#[tokio::test]
async fn an_excluded_source_or_tag_is_never_dialled() {
    let run = start(options(&[
        ("SPEED_TO_LEAD_EXCLUDE_SOURCES", "website form, import"),
        ("SPEED_TO_LEAD_EXCLUDE_TAGS", "dnc"),
    ]))
    .await;
    let answer = run.send(ROUTE, &run.lead("lead-4")).await;
    assert_eq!(answer["dial"], "excluded_source", "{answer}");
    // What GHL holds decides, not what the webhook said.
    let tagged = run.lead("lead-5");
    run.edit_contact("lead-5", |c| {
        c["source"] = json!("Facebook ad");
        c["tags"] = json!(["DNC"]);
    });
    let answer = run.send(ROUTE, &tagged).await;
    assert_eq!(answer["dial"], "excluded_tag", "{answer}");
    assert!(run.dials().await.is_empty());
    assert!(run.ghl_posts("/notes").await.is_empty(), "nothing to say");
}

#[tokio::test]
async fn outside_business_hours_the_lead_waits_for_the_opening_then_rings() {
    // Saturday 5 December 2026, 20:00 in Rome; the office opens Monday at 09:00 (08:00 UTC).
    let saturday_evening = chrono::DateTime::parse_from_rfc3339("2026-12-05T19:00:00Z")
        .unwrap()
        .timestamp_millis();
    let monday_opening = chrono::DateTime::parse_from_rfc3339("2026-12-07T08:00:00Z")
        .unwrap()
        .timestamp_millis();
    let settings = options(&[
        ("SPEED_TO_LEAD_HOURS", "mon-fri 09:00-18:00"),
        ("SPEED_TO_LEAD_TIME_ZONE", "Europe/Rome"),
    ]);
    let run = start_at(settings, ManualClock::at_ms(saturday_evening)).await;
    let answer = run.send(ROUTE, &run.lead("lead-6")).await;
    assert_eq!(answer["dial"], "queued", "{answer}");
    assert!(
        run.dials().await.is_empty(),
        "nothing rings on a Saturday evening"
    );
    // The queue holds it until Monday's opening (chained 15-minute delays in SQS).
    for _ in 0..400 {
        run.clock.advance_ms(15 * MINUTE);
        run.drain().await;
        if !run.dials().await.is_empty() || run.clock.now_ms() > monday_opening + MINUTE {
            break;
        }
    }
    assert_eq!(run.dials().await.len(), 1, "dialled once, at the opening");
    let now = run.clock.now_ms();
    assert!(
        now >= monday_opening && now <= monday_opening + 16 * MINUTE,
        "dialled at {now}, opening {monday_opening}"
    );
    // Task mode: a task instead, at once.
    let settings = options(&[
        ("SPEED_TO_LEAD_HOURS", "mon-fri 09:00-18:00"),
        ("SPEED_TO_LEAD_TIME_ZONE", "Europe/Rome"),
        ("SPEED_TO_LEAD_AFTER_HOURS", "task"),
    ]);
    let tasked = start_at(settings, ManualClock::at_ms(saturday_evening)).await;
    let answer = tasked.send(ROUTE, &tasked.lead("lead-7")).await;
    assert_eq!(answer["dial"], "after_hours_task", "{answer}");
    assert!(tasked.dials().await.is_empty());
    assert_eq!(tasked.ghl_posts("/tasks").await.len(), 1);
}

#[tokio::test]
async fn not_online_then_already_calling_then_the_third_agent_takes_it() {
    let run = start(options(&[])).await;
    run.answers
        .lock()
        .unwrap()
        .extend([("42".to_string(), vec![403]), ("43".to_string(), vec![409])]);
    let answer = run.send(ROUTE, &run.lead("lead-8")).await;
    assert_eq!(answer["dial"], "dialled", "{answer}");
    let agents: Vec<String> = run.dials().await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(agents, vec!["42", "43", "44"]);
    let notes = run.ghl_posts("/notes").await;
    assert_eq!(notes.len(), 1, "one note per lead");
    let text = notes[0]["body"].as_str().unwrap();
    for line in [
        "Roberto Bianchi: not online",
        "Anna Verdi: already on a call",
        "Marco Neri: rang",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
}

#[tokio::test]
async fn nobody_free_for_the_window_ends_in_a_task_for_the_owner() {
    let run = start(options(&[("SPEED_TO_LEAD_WINDOW_MINUTES", "5")])).await;
    for agent in ["42", "43", "44"] {
        run.set(agent, "calling");
    }
    let owned = run.lead("lead-9");
    run.edit_contact("lead-9", |c| c["assignedTo"] = json!("ghl-user-other"));
    let answer = run.send(ROUTE, &owned).await;
    assert_eq!(answer["dial"], "queued", "{answer}");
    let mut rounds = 0;
    while run.ghl_posts("/tasks").await.is_empty() && rounds < 30 {
        run.clock.advance_ms(MINUTE / 2);
        run.drain().await;
        rounds += 1;
    }
    assert!(run.dials().await.is_empty(), "nobody was online to ring");
    let tasks = run.ghl_posts("/tasks").await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["assignedTo"], "ghl-user-other", "the owner's");
    assert!(tasks[0]["title"]
        .as_str()
        .unwrap()
        .starts_with("Call Mario Rossi"));
    assert!(
        (9..=12).contains(&rounds),
        "tried every 30 s for 5 minutes, then gave up: {rounds} rounds"
    );
    let notes = run.ghl_posts("/notes").await;
    assert_eq!(notes.len(), 1);
    assert!(notes[0]["body"]
        .as_str()
        .unwrap()
        .contains("No agent was free"));
    // Once it is over, nothing more is queued.
    run.clock.advance_ms(10 * MINUTE);
    run.drain().await;
    assert!(run.queue.drain().is_empty());
}

#[tokio::test]
async fn ten_concurrent_deliveries_dial_once() {
    let run = start(options(&[])).await;
    let settings = options(&[]);
    let memory = bridge::Backends::in_memory();
    let deps = Arc::new(dial_deps(
        &run.fakes,
        &settings,
        run.clock.clone(),
        run.queue.clone(),
        memory,
    ));
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..10 {
        let mut body = run.lead("lead-10");
        // Ten deliveries for one lead (a webhook and workflows, and their redeliveries).
        body["webhookId"] = json!(format!("hook-{}", i % 4));
        // Each delivery as sent at its own moment: the lead's data differs a little.
        body["contact"]["tags"] = json!([format!("visit-{i}")]);
        let deps = deps.clone();
        sends.spawn(async move { send_dial(&deps, ROUTE, &body).await });
    }
    while let Some(sent) = sends.join_next().await {
        sent.unwrap();
    }
    for _ in 0..5 {
        run.clock.advance_ms(MINUTE);
        for (event, _) in run.queue.drain() {
            bridge::worker::process(&deps, event).await;
        }
    }
    assert_eq!(run.dials().await.len(), 1, "one lead, one dial");
    assert_eq!(run.ghl_posts("/notes").await.len(), 1);
}

#[tokio::test]
async fn round_robin_spreads_nine_leads_three_three_three_across_two_containers() {
    // Nine leads who share one number: its daily cap raised for the test.
    let settings = options(&[("SPEED_TO_LEAD_MAX_PER_NUMBER_PER_DAY", "9")]);
    let run = start(settings.clone()).await;
    // Two containers of one deployment: their own memory, one DynamoDB state table.
    let shared = dynamo_backends().await;
    let containers: Vec<Deps> = (0..2)
        .map(|_| {
            let mut backends = bridge::Backends::in_memory();
            backends.state = shared.state.clone();
            backends.idempotency = shared.idempotency.clone();
            backends.contacts = shared.contacts.clone();
            dial_deps(
                &run.fakes,
                &settings,
                run.clock.clone(),
                run.queue.clone(),
                backends,
            )
        })
        .collect();
    for i in 0..9 {
        let lead = run.lead(&format!("rr-{i}"));
        send_dial(&containers[i % 2], ROUTE, &lead).await;
    }
    let mut per_agent: HashMap<String, usize> = HashMap::new();
    for (agent, _) in run.dials().await {
        *per_agent.entry(agent).or_default() += 1;
    }
    assert_eq!(
        per_agent,
        HashMap::from([("42".into(), 3), ("43".into(), 3), ("44".into(), 3)])
    );
}

#[tokio::test]
async fn a_lost_answer_is_settled_from_the_call_history_not_by_a_second_dial() {
    let run = start(options(&[])).await;
    // The dial reaches CloudTalk, but its answer never comes back.
    Mock::given(method("POST"))
        .and(path("/api/calls/create.json"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(5)))
        .with_priority(1)
        .up_to_n_times(1)
        .mount(&run.fakes.cloudtalk)
        .await;
    let answer = run.send(ROUTE, &run.lead("lead-11")).await;
    assert_eq!(answer["dial"], "queued", "{answer}");
    assert_eq!(run.dials().await.len(), 1);
    // The history shows the call agent 42 made to the lead.
    let started = chrono::DateTime::from_timestamp_millis(run.clock.now_ms())
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let row = json!({"Cdr": {"id": "1002409777", "type": "outgoing", "billsec": "40",
        "public_external": "393501234567", "public_internal": "390212345678",
        "user_id": "42", "started_at": started, "talking_time": "35", "recorded": false,
        "is_voicemail": false}, "Agent": {"id": "42", "firstname": "Roberto", "lastname": "Bianchi"}});
    mount_call_history(&run.fakes.cloudtalk, vec![row]).await;
    for _ in 0..6 {
        run.clock.advance_ms(MINUTE);
        run.drain().await;
    }
    assert_eq!(run.dials().await.len(), 1, "never dialled twice");
    let asked: Vec<HashMap<String, String>> = received(&run.fakes.cloudtalk)
        .await
        .into_iter()
        .filter(|r| r.path == "/api/calls/index.json")
        .map(|r| r.query)
        .collect();
    let by = |k: &str, q: &HashMap<String, String>| q.get(k).cloned().unwrap_or_default();
    assert!(
        asked
            .iter()
            .any(|q| by("public_external", q) == "393501234567" && by("user_id", q) == "42"),
        "{asked:?}"
    );
    let notes = run.ghl_posts("/notes").await;
    assert_eq!(notes.len(), 1);
    assert!(notes[0]["body"]
        .as_str()
        .unwrap()
        .contains("confirmed from the call history"));
}
