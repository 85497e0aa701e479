//! Cue cards: a call that starts gets the caller's GHL record in front of the agent, in
//! CloudTalk, before the call-started note, run through the real call-started handler against
//! `wiremock` fakes of GoHighLevel and of CloudTalk's platform API (`POST /cuecards`, checked
//! against CloudTalk's published contract like every request to the fakes).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bridge::contact_map::{ContactLink, ContactMap, LinkOrigin, MemoryContactMap};
use bridge::pipeline::handle;
use bridge::Deps;
use bridge::EndpointId;
use bridge_testkit::*;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const ROUTE: &str = "/api/cloudtalk-webhooks/call-started";
/// A call from Mario, CloudTalk contact 1451646073 (linked to GHL contact `ghl-9`).
const LINKED_CALL: &str = r#"{"call_uuid":"uuid-linked-1","contact_id":1451646073,"external_number":393513416607,"agent_id":42,"direction":"incoming","started_at":"2026-12-07T10:00:00Z"}"#;
/// A call from a number neither side knows.
const UNKNOWN_CALL: &str =
    r#"{"call_uuid":"uuid-unknown-1","external_number":393471112223,"direction":"incoming"}"#;

/// One test at a time: a log line is captured only while no other test thread takes its
/// callsite first without a subscriber.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Setup {
    _serial: Option<tokio::sync::MutexGuard<'static, ()>>,
    fakes: Fakes,
    deps: Deps,
    queue: Arc<bridge::retry_queue::MemoryRetryQueue>,
}

/// Both fakes with their usual answers, Mario linked, and `fields` as `CUE_CARD_FIELDS`.
async fn setup(fields: Option<&str>) -> Setup {
    let serial = SERIAL.lock().await;
    Setup {
        _serial: Some(serial),
        ..another(fields).await
    }
}

/// A second setup, within a test that holds [`SERIAL`].
async fn another(fields: Option<&str>) -> Setup {
    another_with(fields, None).await
}

/// A setup with the CloudTalk budget at `per_minute` (default: the deployment's 50).
async fn another_with(fields: Option<&str>, per_minute: Option<u32>) -> Setup {
    let fakes = Fakes::start().await;
    let opportunities = json!([
        {"id": "opp-1", "name": "Website redesign", "monetaryValue": 1200, "status": "open",
            "pipelineId": "pipe-1", "pipelineStageId": "stage-2", "contactId": "ghl-9"},
        {"id": "opp-2", "name": "Old deal", "monetaryValue": 90, "status": "lost",
            "pipelineId": "pipe-1", "pipelineStageId": "stage-1", "contactId": "ghl-9"}]);
    mount_ghl(&fakes.ghl, json!(null), opportunities).await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_mario(&fakes, json!(["vip", "lead"]), "Wants a quote by Friday").await;
    let map = Arc::new(MemoryContactMap::new());
    let link = ContactLink::new(LOCATION, "ghl-9", "1451646073", LinkOrigin::GoHighLevel);
    map.link(&link).await.unwrap();
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.config.cue_cards = bridge::cue_card::CueCardOptions::read(fields);
    if let Some(per_minute) = per_minute {
        settings.config.cloudtalk_rate_per_min = per_minute;
    }
    let mut backends = bridge::Backends::in_memory();
    backends.contacts = map;
    let queue = Arc::new(bridge::retry_queue::MemoryRetryQueue::new());
    backends.retry_queue = queue.clone();
    let deps = Deps::build(settings, backends).unwrap();
    Setup {
        _serial: None,
        fakes,
        deps,
        queue,
    }
}

/// GHL contact `ghl-9` (Mario, owned by Anna Verdi, SMS barred) with `tags`, one note with
/// `note`, and the location's pipeline.
async fn mount_mario(fakes: &Fakes, tags: Value, note: &str) {
    let contact = json!({"contact": {"id": "ghl-9", "locationId": LOCATION, "firstName": "Mario",
        "lastName": "Rossi", "phone": "+393513416607", "assignedTo": "ghl-user-other",
        "tags": tags, "dnd": false, "dndSettings": {"SMS": {"status": "active"}}}});
    let notes = json!({"notes": [
        {"id": "n-1", "body": "First call", "dateAdded": "2026-11-01T10:00:00.000Z"},
        {"id": "n-2", "body": note, "dateAdded": "2026-11-20T10:00:00.000Z"}]});
    let pipelines = json!({"pipelines": [{"id": "pipe-1", "name": "Sales", "stages": [
        {"id": "stage-1", "name": "New Lead"}, {"id": "stage-2", "name": "Proposal Sent"}]}]});
    for (route, body) in [
        ("/contacts/ghl-9", contact),
        ("/contacts/ghl-9/notes", notes),
        ("/opportunities/pipelines", pipelines),
    ] {
        Mock::given(method("GET"))
            .and(path(route))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .with_priority(2)
            .mount(&fakes.ghl)
            .await;
    }
}

/// CloudTalk's platform API answers the cue card with `status` and `body`.
async fn mount_card_answer(fakes: &Fakes, status: u16, body: Value) {
    Mock::given(method("POST"))
        .and(path("/platform/cuecards"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .with_priority(2)
        .mount(&fakes.cloudtalk)
        .await;
}

async fn call_started(s: &Setup, body: &str) -> Value {
    let res = handle(
        EndpointId::CloudtalkCallStarted,
        &s.deps,
        post(ROUTE, body, Some(CLOUDTALK_SECRET)),
    )
    .await;
    let answer = response_json(&res);
    assert!(res.status().is_success(), "{} {answer}", res.status());
    answer
}

/// The cue cards CloudTalk received, in order.
async fn cards(fakes: &Fakes) -> Vec<Value> {
    received(&fakes.cloudtalk)
        .await
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/platform/cuecards")
        .map(|r| r.body)
        .collect()
}

/// The call-started notes GHL received.
async fn notes(fakes: &Fakes) -> usize {
    received(&fakes.ghl)
        .await
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/notes"))
        .filter(|r| {
            r.body["body"]
                .as_str()
                .is_some_and(|b| b.contains("Call started"))
        })
        .count()
}

#[tokio::test]
async fn a_known_caller_gets_one_card_with_the_opportunity_and_the_owner_then_the_note() {
    let s = setup(None).await;
    let answer = call_started(&s, LINKED_CALL).await;
    assert_eq!(answer["cueCard"], "shown", "{answer}");
    let cards = cards(&s.fakes).await;
    assert_eq!(cards.len(), 1);
    let card = &cards[0];
    assert_eq!(card["call_uuid"], "uuid-linked-1");
    assert_eq!(card["type"], "html");
    assert_eq!(card["title"], "Mario Rossi");
    assert_eq!(card["subtitle"], "GoHighLevel contact · owner Anna Verdi");
    let content = card["content"].as_str().unwrap();
    for part in [
        "https://app.gohighlevel.com/v2/location/loc-test/contacts/detail/ghl-9",
        "<p><b>Owner:</b> Anna Verdi</p>",
        "<p><b>Tags:</b> vip, lead</p>",
        "<li><b>Website redesign</b> · Sales › Proposal Sent · 1,200</li>",
        "<p><b>Last note:</b> Wants a quote by Friday</p>",
        "<p><b>Do not disturb:</b> SMS</p>",
    ] {
        assert!(content.contains(part), "{part} not in {content}");
    }
    assert!(
        !content.contains("Old deal"),
        "a lost opportunity is not open"
    );
    assert_eq!(
        notes(&s.fakes).await,
        1,
        "the call-started note is written too"
    );
    // The card came first: its reads and post precede the note.
    let ghl = calls(&s.fakes.ghl).await;
    let note_at = ghl
        .iter()
        .position(|(m, p)| m == "POST" && p.ends_with("/notes"));
    let read_at = ghl.iter().position(|(_, p)| p == "/contacts/ghl-9/notes");
    assert!(read_at < note_at, "{ghl:?}");
}

#[tokio::test]
async fn an_unknown_number_gets_the_not_in_ghl_card_and_the_card_writes_nothing() {
    let s = setup(None).await;
    let answer = call_started(&s, UNKNOWN_CALL).await;
    assert_eq!(answer["cueCard"], "shown_not_in_ghl", "{answer}");
    let cards = cards(&s.fakes).await;
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["title"], "Not in GoHighLevel");
    assert_eq!(cards[0]["subtitle"], "+393471112223");
    let content = cards[0]["content"].as_str().unwrap();
    assert!(content.contains("Create in GoHighLevel"), "{content}");
    assert!(content.contains("/v2/location/loc-test/contacts/smart_list/All"));
    // The card searched and wrote nothing; the note's own resolution then searched again and
    // created the contact, to write the note on it.
    let ghl = calls(&s.fakes.ghl).await;
    assert_eq!(ghl[0], ("GET".into(), "/contacts/search/duplicate".into()));
    let writes: Vec<&str> = ghl
        .iter()
        .filter(|(m, _)| m != "GET")
        .map(|(_, p)| p.as_str())
        .collect();
    assert_eq!(writes, ["/contacts/upsert", "/contacts/ghl-new-1/notes"]);
    assert_eq!(notes(&s.fakes).await, 1);
}

#[tokio::test]
async fn a_redelivered_call_posts_no_second_card() {
    let s = setup(None).await;
    call_started(&s, LINKED_CALL).await;
    let again = call_started(&s, LINKED_CALL).await;
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(cards(&s.fakes).await.len(), 1);
    assert_eq!(notes(&s.fakes).await, 1);
}

#[tokio::test]
async fn a_call_applied_again_after_its_note_failed_posts_no_second_card() {
    let s = setup(None).await;
    Mock::given(method("POST"))
        .and(path("/contacts/ghl-9/notes"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "down"})))
        .with_priority(2)
        .mount(&s.fakes.ghl)
        .await;
    let first = handle(
        EndpointId::CloudtalkCallStarted,
        &s.deps,
        post(ROUTE, LINKED_CALL, Some(CLOUDTALK_SECRET)),
    )
    .await;
    assert_eq!(first.status(), 202, "{}", response_json(&first));
    assert_eq!(
        s.queue.queued_len(),
        1,
        "the note waits for another attempt"
    );
    assert_eq!(cards(&s.fakes).await.len(), 1);
    // GHL is back; CloudTalk sends the webhook again.
    s.fakes.reset_ghl().await;
    mount_ghl(&s.fakes.ghl, json!(null), json!([])).await;
    mount_mario(&s.fakes, json!([]), "x").await;
    let again = call_started(&s, LINKED_CALL).await;
    assert_eq!(again["cueCard"], "duplicate", "{again}");
    assert_eq!(again["result"], "applied");
    assert_eq!(cards(&s.fakes).await.len(), 1, "no second card");
    assert_eq!(notes(&s.fakes).await, 1, "the note, this time");
}

#[tokio::test]
async fn a_call_that_is_over_ends_the_card_quietly_and_the_note_is_written() {
    let s = setup(None).await;
    let over =
        json!({"success": false, "errors": ["no such active call - call_uuid: uuid-linked-1"]});
    mount_card_answer(&s.fakes, 424, over).await;
    let (_guard, logs) = capture_logs();
    let answer = call_started(&s, LINKED_CALL).await;
    assert_eq!(answer["cueCard"], "call_over", "{answer}");
    assert_eq!(answer["result"], "applied");
    assert_eq!(cards(&s.fakes).await.len(), 1, "sent once");
    assert_eq!(notes(&s.fakes).await, 1);
    let card_lines: Vec<Value> = logs
        .lines()
        .into_iter()
        .filter(|l| l["fields"]["message"] == "cue_card")
        .collect();
    assert_eq!(card_lines.len(), 1, "{}", logs.text());
    assert_eq!(card_lines[0]["level"], "INFO", "quiet: {}", logs.text());
}

#[tokio::test]
async fn a_server_error_is_not_retried_and_the_note_is_written() {
    let s = setup(None).await;
    let failed = json!({"success": false, "errors": ["error processing cue card"]});
    mount_card_answer(&s.fakes, 500, failed).await;
    let answer = call_started(&s, LINKED_CALL).await;
    assert_eq!(answer["cueCard"], "failed", "{answer}");
    assert_eq!(answer["result"], "applied");
    assert_eq!(cards(&s.fakes).await.len(), 1, "never repeated");
    assert_eq!(notes(&s.fakes).await, 1);
    assert_eq!(s.queue.queued_len(), 0, "nothing waits for a card");
}

#[tokio::test]
async fn ghl_text_with_markup_is_escaped_in_the_card() {
    let s = setup(None).await;
    s.fakes.reset_ghl().await;
    mount_ghl(&s.fakes.ghl, json!(null), json!([])).await;
    let tags = json!(["<img src=x onerror=alert(1)>"]);
    mount_mario(&s.fakes, tags, "<script>alert('note')</script> & more").await;
    call_started(&s, LINKED_CALL).await;
    let cards = cards(&s.fakes).await;
    let content = cards[0]["content"].as_str().unwrap();
    assert!(!content.contains("<script"), "{content}");
    assert!(!content.contains("<img"), "{content}");
    assert!(
        content.contains("&lt;script&gt;alert(&#39;note&#39;)&lt;/script&gt; &amp; more"),
        "{content}"
    );
    assert!(
        content.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{content}"
    );
    assert!(
        content.contains("<p><b>Open opportunities:</b> none</p>"),
        "{content}"
    );
}

#[tokio::test]
async fn the_fields_option_decides_what_is_read_and_none_means_no_card() {
    let s = setup(Some("tags,dnd")).await;
    // No agent: the note reads no agent directory, so every read here is the card's.
    let no_agent = LINKED_CALL.replace(r#""agent_id":42,"#, "");
    let answer = call_started(&s, &no_agent).await;
    assert_eq!(answer["cueCard"], "shown");
    let content = cards(&s.fakes).await[0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        content.contains("Tags") && content.contains("Do not disturb"),
        "{content}"
    );
    assert!(
        !content.contains("Owner") && !content.contains("Last note"),
        "{content}"
    );
    let reads: Vec<String> = calls(&s.fakes.ghl)
        .await
        .into_iter()
        .filter(|(m, _)| m == "GET")
        .map(|(_, p)| p)
        .collect();
    assert_eq!(reads, ["/contacts/ghl-9"], "the contact alone is read");
    let off = another(Some("none")).await;
    let answer = call_started(&off, &no_agent).await;
    assert_eq!(answer.get("cueCard"), None, "{answer}");
    assert!(cards(&off.fakes).await.is_empty());
    assert_eq!(calls(&off.fakes.ghl).await.len(), 1, "the note alone");
}

#[tokio::test]
async fn a_slow_ghl_never_holds_the_note_past_the_card_s_second() {
    let s = setup(None).await;
    Mock::given(method("GET"))
        .and(path("/contacts/ghl-9"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .with_priority(1)
        .mount(&s.fakes.ghl)
        .await;
    let started = Instant::now();
    let answer = call_started(&s, LINKED_CALL).await;
    assert_eq!(answer["cueCard"], "timed_out", "{answer}");
    assert!(
        started.elapsed() < Duration::from_millis(1800),
        "{:?}",
        started.elapsed()
    );
    assert!(cards(&s.fakes).await.is_empty());
    assert_eq!(notes(&s.fakes).await, 1);
}

#[tokio::test]
async fn a_call_without_a_uuid_has_no_card() {
    let s = setup(None).await;
    let body = r#"{"call_id":"77","contact_id":1451646073,"direction":"outbound"}"#;
    let answer = call_started(&s, body).await;
    assert_eq!(answer.get("cueCard"), None, "{answer}");
    assert!(cards(&s.fakes).await.is_empty());
    assert_eq!(calls(&s.fakes.ghl).await.len(), 1, "the note alone");
}

#[tokio::test]
async fn the_retry_worker_never_posts_a_card_late() {
    let s = setup(None).await;
    let body: Value = serde_json::from_str(LINKED_CALL).unwrap();
    let mut queued = s.deps.own_event(EndpointId::CloudtalkCallStarted, &body);
    queued.credential = Some(bridge::signature::Credential::Secret);
    let result = bridge::worker::process(&s.deps, queued).await;
    assert!(
        matches!(result, bridge::worker::WorkerResult::Done { .. }),
        "{result:?}"
    );
    assert!(cards(&s.fakes).await.is_empty(), "too late for a card");
    assert_eq!(notes(&s.fakes).await, 1, "the note is written");
}

#[tokio::test]
async fn a_card_leaves_the_cloudtalk_tokens_kept_for_live_writes() {
    let _serial = SERIAL.lock().await;
    // 30 a minute: a burst of 3 tokens, one of them kept for live writes (a dial, a sync).
    // The first call takes two (the agents, once a day; its card), leaving the one kept.
    let s = another_with(None, Some(30)).await;
    let first = call_started(&s, LINKED_CALL).await;
    assert_eq!(first["cueCard"], "shown", "{first}");
    let again = LINKED_CALL.replace("uuid-linked-1", "uuid-linked-2");
    let second = call_started(&s, &again).await;
    assert_eq!(
        second["cueCard"], "throttled",
        "the last token is not the card's: {second}"
    );
    assert_eq!(
        second["result"], "applied",
        "the note is written all the same"
    );
    assert_eq!(cards(&s.fakes).await.len(), 1);
}
