//! A key is spent only by the work it names, through the real handlers: a forged call event for
//! the next call id cannot stand in for the genuine one (CloudTalk's record of the call settles
//! two versions, the loser is parked as `conflicting_duplicate`), a forged call-modified on one
//! contact cannot silence the real one on another, and one request cannot write without bound.

use std::sync::Arc;

use bridge::retry_queue::MemoryRetryQueue;
use bridge::Deps;
use bridge_testkit::*;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const ENDED: &str = "/api/cloudtalk-webhooks/call-ended";
const MODIFIED: &str = "/api/cloudtalk-webhooks/call-modified";

struct Run {
    fakes: Fakes,
    deps: Deps,
    queue: Arc<MemoryRetryQueue>,
}

async fn start() -> Run {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!({"id": "ghl-found"}), json!([])).await;
    let queue = Arc::new(MemoryRetryQueue::new());
    let mut backends = bridge::Backends::in_memory();
    backends.retry_queue = queue.clone();
    let deps = Deps::build(config(&fakes.cloudtalk, &fakes.ghl), backends).unwrap();
    Run { fakes, deps, queue }
}

impl Run {
    async fn send(&self, route: &str, body: &Value) -> (u16, Value) {
        let res = bridge::route(
            &self.deps,
            post(route, &body.to_string(), Some(CLOUDTALK_SECRET)),
        )
        .await;
        (res.status().as_u16(), response_json(&res))
    }

    async fn ghl(&self, verb: &str, suffix: &str) -> Vec<Seen> {
        received(&self.fakes.ghl)
            .await
            .into_iter()
            .filter(|r| r.method == verb && r.path.ends_with(suffix))
            .collect()
    }

    /// CloudTalk's record of call `id` (its analytics API): missed, with `uuid`.
    async fn record(&self, id: u64, uuid: &str, status: &str) {
        let record = json!({"cdr_id": id, "uuid": uuid, "company_id": 100123,
            "contact": {"id": 1451646073, "name": "Mario Rossi", "number": "+393513416607"},
            "direction": "incoming", "type": "regular", "status": status});
        Mock::given(method("GET"))
            .and(path(format!("/analytics/calls/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(record))
            .mount(&self.fakes.cloudtalk)
            .await;
    }
}

fn call_ended(id: u64, status: &str, talking: u64) -> Value {
    json!({"call_id": id, "contact_id": 1451646073, "contact_name": "Mario Rossi",
        "external_number": "+393513416607", "direction": "incoming", "status": status,
        "talking_time": talking, "waiting_time": 25, "agent_id": 42,
        "started_at": "2026-12-01T10:00:00Z"})
}

fn parked_reasons(run: &Run) -> Vec<String> {
    run.queue.parked().into_iter().map(|(_, r)| r).collect()
}

#[tokio::test]
async fn a_forged_call_ended_for_the_next_call_cannot_swallow_the_genuine_missed_call() {
    let run = start().await;
    // Forged first: the next call id, "answered", with the tenant's CloudTalk secret.
    let (status, forged) = run.send(ENDED, &call_ended(9301, "answered", 60)).await;
    assert_eq!(status, 200, "{forged}");
    assert!(run.ghl("POST", "/tasks").await.is_empty());
    // The genuine event: the call was missed, and CloudTalk's record says so.
    run.record(9301, "c0ffee-9301", "missed").await;
    let mut genuine = call_ended(9301, "missed", 0);
    genuine["call_uuid"] = json!("c0ffee-9301");
    let (status, answer) = run.send(ENDED, &genuine).await;
    assert_eq!(status, 200, "{answer}");
    assert_ne!(
        answer["duplicate"], true,
        "not answered as the forged one: {answer}"
    );
    assert_eq!(answer["callOutcome"], "missed", "{answer}");
    assert_eq!(
        run.ghl("POST", "/tasks").await.len(),
        1,
        "the callback task"
    );
    let reasons = parked_reasons(&run);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].starts_with("conflicting_duplicate:"),
        "{}",
        reasons[0]
    );
    assert!(
        reasons[0].contains("answered") && reasons[0].contains("missed"),
        "both summaries: {}",
        reasons[0]
    );
    // The genuine event again, and the call history's copy: one call, one task.
    let (_, again) = run.send(ENDED, &genuine).await;
    assert_eq!(again["duplicate"], true, "{again}");
    let (_, history) = run.send(ENDED, &call_ended(9301, "missed", 0)).await;
    assert_eq!(history["duplicate"], true, "{history}");
    assert_eq!(run.ghl("POST", "/tasks").await.len(), 1);
    assert_eq!(parked_reasons(&run).len(), 1, "reported once");
}

#[tokio::test]
async fn a_forged_version_after_the_genuine_one_is_parked_not_answered_as_it() {
    let run = start().await;
    run.record(9302, "c0ffee-9302", "missed").await;
    let mut genuine = call_ended(9302, "missed", 0);
    genuine["call_uuid"] = json!("c0ffee-9302");
    assert_eq!(run.send(ENDED, &genuine).await.0, 200);
    let (status, answer) = run.send(ENDED, &call_ended(9302, "answered", 60)).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"], "conflicting_duplicate", "{answer}");
    assert_eq!(answer["parked"], true, "{answer}");
    let reasons = parked_reasons(&run);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        !reasons[0].contains("3513416607"),
        "no number in the reason"
    );
    // A plain redelivery of the genuine one is still a duplicate.
    assert_eq!(run.send(ENDED, &genuine).await.1["duplicate"], true);
    assert_eq!(run.ghl("POST", "/notes").await.len(), 1);
}

fn modified(call: u64, contact: u64, tags: &str) -> Value {
    json!({"call_id": call, "contact_id": contact, "external_number": "+393513416607",
        "agent_id": 42, "tags": tags, "notes": "Wants a quote"})
}

#[tokio::test]
async fn a_forged_call_modified_on_one_contact_does_not_silence_the_real_one_on_another() {
    let run = start().await;
    // Two CloudTalk contacts, each linked to its own GHL contact.
    let map = &run.deps.contacts;
    for (ct, ghl) in [("5001", "ghl-a"), ("5002", "ghl-b")] {
        let link = bridge::contact_map::ContactLink::new(
            LOCATION,
            ghl,
            ct,
            bridge::contact_map::LinkOrigin::GoHighLevel,
        );
        map.link(&link).await.unwrap();
    }
    let (status, _) = run
        .send(MODIFIED, &modified(9400, 5001, "Interested"))
        .await;
    assert_eq!(status, 200);
    let (status, answer) = run
        .send(MODIFIED, &modified(9400, 5002, "Interested"))
        .await;
    assert_eq!(status, 200, "{answer}");
    let tagged: Vec<String> = run
        .ghl("POST", "/tags")
        .await
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert!(
        tagged.iter().any(|p| p.contains("ghl-b")),
        "B's tags written: {tagged:?}"
    );
    let notes: Vec<String> = run
        .ghl("POST", "/notes")
        .await
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert!(
        notes.iter().any(|p| p.contains("ghl-b")),
        "B's note: {notes:?}"
    );
}

#[tokio::test]
async fn a_call_modified_with_more_than_twenty_notes_is_refused_and_writes_nothing() {
    let run = start().await;
    let notes: Vec<String> = (0..300).map(|i| format!("note {i}")).collect();
    let mut body = modified(9500, 1451646073, "Interested");
    body["notes"] = json!(notes);
    let (status, answer) = run.send(MODIFIED, &body).await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("20"),
        "{answer}"
    );
    assert!(received(&run.fakes.ghl).await.is_empty(), "nothing written");
    assert!(received(&run.fakes.cloudtalk).await.is_empty());
    let tags: Vec<String> = (0..51).map(|i| format!("tag-{i}")).collect();
    let mut body = modified(9501, 1451646073, &tags.join(","));
    body["notes"] = json!("one");
    let (status, answer) = run.send(MODIFIED, &body).await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("50"),
        "{answer}"
    );
    assert!(received(&run.fakes.ghl).await.is_empty(), "nothing written");
}

#[tokio::test]
async fn a_body_kept_aside_is_read_only_by_its_own_event() {
    use bridge::retry_queue::{Offloading, QueuedEvent, RetryQueue};
    use bridge::worker::WorkerResult;
    let run = start().await;
    let inner = Arc::new(MemoryRetryQueue::new());
    let offloading = Offloading {
        inner: inner.clone(),
        state: run.deps.state.clone(),
    };
    // A body too large for a queue message is kept in the state table by reference.
    let mut big = call_ended(9600, "answered", 60);
    big["padding"] = json!("x".repeat(200 * 1024));
    let id = bridge::registry::EndpointId::CloudtalkCallEnded;
    let own = QueuedEvent::fresh(
        id,
        big.to_string(),
        "tenant#loc_a#k-a".into(),
        Some("loc_a".into()),
        None,
        0,
    );
    offloading.enqueue(&own, 0).await.unwrap();
    let (kept, _) = inner.drain().remove(0);
    let reference = kept.body_ref.clone().expect("kept aside");
    // Another tenant's event naming that body.
    let mut other = QueuedEvent::fresh(
        id,
        String::new(),
        "tenant#loc_b#k-b".into(),
        Some("loc_b".into()),
        None,
        0,
    );
    other.body_ref = Some(reference);
    let result = bridge::worker::process(&run.deps, other).await;
    let WorkerResult::Parked { reason } = result else {
        panic!("not parked: {result:?}");
    };
    assert!(reason.contains("does not belong"), "{reason}");
    // A queued event whose key is another tenant's than its own.
    let crossed = QueuedEvent::fresh(
        id,
        "{}".into(),
        "tenant#loc_a#k-c".into(),
        Some("loc_b".into()),
        None,
        0,
    );
    let result = bridge::worker::process(&run.deps, crossed).await;
    assert!(matches!(result, WorkerResult::Parked { .. }), "{result:?}");
    assert!(received(&run.fakes.ghl).await.is_empty(), "nothing applied");
}

/// DynamoDB's size of an item: each attribute's name and value (strings in bytes, numbers at
/// most 21, maps and lists with 3 bytes of their own and 1 per element).
fn item_size(
    item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    fn value(v: &A) -> usize {
        match v {
            A::S(s) => s.len(),
            A::N(_) => 21,
            A::B(b) => b.as_ref().len(),
            A::Bool(_) | A::Null(_) => 1,
            A::Ss(items) => items.iter().map(String::len).sum(),
            A::M(map) => {
                3 + map
                    .iter()
                    .map(|(k, v)| k.len() + value(v) + 1)
                    .sum::<usize>()
            }
            A::L(items) => 3 + items.iter().map(|v| value(v) + 1).sum::<usize>(),
            _ => 0,
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}

/// The largest body the bridge accepts, for the fan-out that writes the most: a call-modified
/// event with every tag and note it may carry, each as long as the body allows.
fn largest_call_modified() -> Value {
    let tags: Vec<String> = (0..50)
        .map(|i| format!("{i:02}{}", "t".repeat(253)))
        .collect();
    let room = bridge::payload::MAX_BODY_BYTES - 50 * 260 - 1_000;
    let notes: Vec<String> = (0..20)
        .map(|i| format!("{i:02}{}", "n".repeat(room / 20 - 20)))
        .collect();
    let mut body = modified(9700, 1451646073, &tags.join(","));
    body["notes"] = json!(notes);
    body["rating"] = json!(5);
    body
}

#[tokio::test]
async fn every_item_the_largest_accepted_event_writes_stays_under_dynamodbs_400_kb() {
    let Some((client, table)) = dynamodb_table("size-state").await else {
        return;
    };
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!({"id": "ghl-found"}), json!([])).await;
    let mut backends = bridge::Backends::in_memory();
    backends.state = Arc::new(bridge::state::DynamoStateStore::new(
        client.clone(),
        table.clone(),
    ));
    backends.idempotency = Arc::new(bridge::idempotency::DynamoIdempotencyStore::new(
        client.clone(),
        table.clone(),
    ));
    let deps = Deps::build(config(&fakes.cloudtalk, &fakes.ghl), backends).unwrap();
    let body = largest_call_modified();
    assert!(body.to_string().len() <= bridge::payload::MAX_BODY_BYTES);
    let res = bridge::route(
        &deps,
        post(MODIFIED, &body.to_string(), Some(CLOUDTALK_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", response_json(&res));
    // The largest body the generic endpoint keeps as it is.
    let generic = json!({"event": "x", "data": "g".repeat(bridge::payload::MAX_BODY_BYTES - 100)});
    let route = "/api/cloudtalk-webhooks/generic";
    let res = bridge::route(
        &deps,
        post(route, &generic.to_string(), Some(CLOUDTALK_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", response_json(&res));
    let items = client.scan().table_name(&table).send().await.unwrap();
    let sizes: Vec<(String, usize)> = items
        .items()
        .iter()
        .map(|i| (format!("{:?}", i.get("pk")), item_size(i)))
        .collect();
    let largest = sizes.iter().map(|(_, s)| *s).max().unwrap_or(0);
    println!("the largest item: {largest} bytes of {} items", sizes.len());
    assert!(sizes.len() >= 3, "{sizes:?}");
    assert!(largest < 400 * 1024, "{sizes:?}");
}
