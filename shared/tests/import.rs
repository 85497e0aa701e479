//! A lead import at the rate limit's pace, through the real worker: leads queued together are
//! looked up in the account's contact list (one request for all) and created with one bulk
//! request; a command CloudTalk refuses is that lead's failure alone; what a bulk request costs
//! is learned from CloudTalk's `X-CloudTalkAPI-Remaining` header and paces the lane; a lone
//! lead is never held back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bridge::registry::EndpointId;
use bridge::retry_queue::{MemoryRetryQueue, QueuedEvent};
use bridge::worker::{SqsEvent, SqsMessage};
use bridge::Deps;
use bridge_testkit::*;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

struct Run {
    fakes: Fakes,
    deps: Deps,
    queue: Arc<MemoryRetryQueue>,
}

async fn start(pairs: &[(&str, &str)]) -> Run {
    let fakes = Fakes::start().await;
    let queue = Arc::new(MemoryRetryQueue::new());
    let mut backends = bridge::Backends::in_memory();
    backends.retry_queue = queue.clone();
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    let map: std::collections::HashMap<&str, &str> = pairs.iter().cloned().collect();
    if let Some(rate) = map.get("CLOUDTALK_RATE_PER_MIN") {
        settings.config.cloudtalk_rate_per_min = rate.parse().unwrap();
    }
    let deps = Deps::build(settings, backends).unwrap();
    Run { fakes, deps, queue }
}

/// The account's contact list (one page), a bulk endpoint that creates each command's
/// contact unless its name says "Refused" (406, as CloudTalk refuses a command), and the
/// `Remaining` header of CloudTalk's rate limit, dropping by `bulk_cost` per bulk request.
async fn mount_account(run: &Run, existing: Value, bulk_cost: u64) -> Arc<AtomicU64> {
    let remaining = Arc::new(AtomicU64::new(60));
    let left = remaining.clone();
    let rows = existing.as_array().map(Vec::len).unwrap_or(0);
    let page = json!({"responseData": {"itemsCount": rows, "pageCount": 1, "pageNumber": 1,
        "limit": 1000, "data": existing}});
    Mock::given(method("GET"))
        .and(path("/api/contacts/index.json"))
        .respond_with(move |_: &wiremock::Request| {
            let now = take(&left, 1);
            ResponseTemplate::new(200)
                .set_body_json(page.clone())
                .insert_header("X-CloudTalkAPI-Remaining", now.to_string().as_str())
                .insert_header("X-CloudTalkAPI-ResetTime", "4102444800")
        })
        .with_priority(1)
        .mount(&run.fakes.cloudtalk)
        .await;
    let left = remaining.clone();
    Mock::given(method("POST"))
        .and(path("/api/bulk/contacts.json"))
        .respond_with(move |req: &wiremock::Request| {
            let now = take(&left, bulk_cost);
            let commands: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let results: Vec<Value> = commands
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(
                    |(i, c)| match c["data"]["name"].as_str().unwrap_or("").contains("Refused") {
                        true => json!({"command_id": c["command_id"], "status": 406,
                        "message": "Invalid input data."}),
                        false => json!({"command_id": c["command_id"], "status": 201,
                        "data": {"id": (7000 + i).to_string()}}),
                    },
                )
                .collect();
            ResponseTemplate::new(200)
                .set_body_json(json!({"responseData": {"status": 200, "data": results}}))
                .insert_header("X-CloudTalkAPI-Remaining", now.to_string().as_str())
                .insert_header("X-CloudTalkAPI-ResetTime", "4102444800")
        })
        .with_priority(1)
        .mount(&run.fakes.cloudtalk)
        .await;
    mount_cloudtalk(&run.fakes.cloudtalk, json!([])).await;
    mount_ghl(&run.fakes.ghl, json!(null), json!([])).await;
    remaining
}

/// Takes `n` of what is left of the window (never below 0); what is left after.
fn take(left: &AtomicU64, n: u64) -> u64 {
    let before = left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
            Some(v.saturating_sub(n))
        })
        .unwrap_or(0);
    before.saturating_sub(n)
}

fn lead(i: usize, name: &str) -> Value {
    json!({"contact": {"id": format!("lead-{i}"), "name": name,
        "phone": format!("+3935012{i:05}"), "tags": ["import"]}})
}

/// The leads' events, as the retry queue holds them after the lane.
fn queued(run: &Run, leads: &[Value]) -> Vec<QueuedEvent> {
    leads
        .iter()
        .map(|body| {
            let id = EndpointId::GhlNewContact;
            let key = bridge::idempotency::key_of(None, id, body);
            let _ = &run.deps;
            QueuedEvent::fresh(id, body.to_string(), key, None, None, 0)
        })
        .collect()
}

/// One SQS batch of `events`, as the retry worker's event source gives it.
fn batch(events: &[QueuedEvent]) -> SqsEvent {
    let mut batch = SqsEvent::default();
    for (i, event) in events.iter().enumerate() {
        let mut message = SqsMessage::default();
        message.message_id = Some(format!("m-{i}"));
        message.body = Some(serde_json::to_string(event).unwrap());
        batch.records.push(message);
    }
    batch
}

async fn cloudtalk_paths(run: &Run) -> Vec<String> {
    received(&run.fakes.cloudtalk)
        .await
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test]
async fn ten_leads_of_one_batch_cost_one_list_and_one_bulk_request() {
    let run = start(&[]).await;
    // One of the leads is in CloudTalk already, by its number.
    let existing = json!([{"Contact": {"id": "555", "name": "Known"},
        "ContactNumber": [{"public_number": "+393501200003"}]}]);
    mount_account(&run, existing, 1).await;
    let leads: Vec<Value> = (0..10).map(|i| lead(i, "Imported Lead")).collect();
    let events = queued(&run, &leads);
    let failed = bridge::worker::handle_batch(&run.deps, batch(&events), None).await;
    assert!(failed.batch_item_failures.is_empty(), "{failed:?}");
    let paths = cloudtalk_paths(&run).await;
    let count = |p: &str| paths.iter().filter(|x| x.as_str() == p).count();
    assert_eq!(count("GET /api/contacts/index.json"), 1, "{paths:?}");
    assert_eq!(count("POST /api/bulk/contacts.json"), 1, "{paths:?}");
    let bulk = received(&run.fakes.cloudtalk)
        .await
        .into_iter()
        .find(|r| r.path == "/api/bulk/contacts.json")
        .unwrap();
    assert_eq!(
        bulk.body.as_array().unwrap().len(),
        9,
        "the known one is linked, not created"
    );
    // The known lead got the import's tag (its one request); no other request per lead.
    assert_eq!(paths.len(), 3, "{paths:?}");
    for i in 0..10 {
        let link = run
            .deps
            .contacts
            .find_by_ghl(LOCATION, &format!("lead-{i}"))
            .await
            .unwrap();
        assert!(link.is_some(), "lead-{i} is linked");
    }
    // Each lead's event is done: a redelivery is a duplicate.
    let again = bridge::worker::process(&run.deps, events[4].clone()).await;
    assert_eq!(
        again,
        bridge::worker::WorkerResult::Done { duplicate: true }
    );
    assert_eq!(cloudtalk_paths(&run).await.len(), 3);
}

#[tokio::test]
async fn a_bulk_command_cloudtalk_refuses_parks_that_lead_only() {
    let run = start(&[]).await;
    mount_account(&run, json!([]), 1).await;
    let leads: Vec<Value> = (0..5)
        .map(|i| {
            lead(
                i,
                if i == 2 {
                    "Refused Lead"
                } else {
                    "Imported Lead"
                },
            )
        })
        .collect();
    let events = queued(&run, &leads);
    bridge::worker::handle_batch(&run.deps, batch(&events), None).await;
    let parked = run.queue.parked();
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert_eq!(parked[0].0.key, events[2].key, "the refused lead only");
    for i in [0, 1, 3, 4] {
        let link = run
            .deps
            .contacts
            .find_by_ghl(LOCATION, &format!("lead-{i}"))
            .await;
        assert!(link.unwrap().is_some(), "lead-{i} is linked");
    }
}

#[tokio::test]
async fn the_cost_a_bulk_request_is_measured_at_paces_the_import_lane() {
    let run = start(&[("CLOUDTALK_RATE_PER_MIN", "50")]).await;
    mount_account(&run, json!([]), 10).await;
    // Until measured, a bulk request counts as one: the lane's slot is 2 s.
    assert_eq!(bridge::import::lane::delay_secs(&run.deps).await, 2);
    let leads: Vec<Value> = (0..3).map(|i| lead(i, "Imported Lead")).collect();
    bridge::worker::handle_batch(&run.deps, batch(&queued(&run, &leads)), None).await;
    assert_eq!(
        run.deps.cloudtalk.bulk_cost(),
        Some(10),
        "Remaining dropped by 10"
    );
    let account = bridge::deps::cloudtalk_account(&run.deps.secrets.current());
    let kept = run
        .deps
        .state
        .get_value(&format!("cloudtalk-bulk-cost#{account}"))
        .await;
    assert_eq!(
        kept.unwrap().as_deref(),
        Some("10"),
        "kept for every container"
    );
    // Ten leads per bulk request of 10 of the 50 a minute: a slot is 12 s now.
    assert_eq!(bridge::import::lane::delay_secs(&run.deps).await, 12);
}

#[tokio::test]
async fn a_lone_lead_with_the_budget_free_is_created_at_once() {
    let run = start(&[("CLOUDTALK_RATE_PER_MIN", "50")]).await;
    mount_account(&run, json!([]), 1).await;
    let res = bridge::route(
        &run.deps,
        post(
            "/api/ghl-webhooks/new-contact",
            &lead(1, "Lone Lead").to_string(),
            Some(GHL_SECRET),
        ),
    )
    .await;
    let answer = response_json(&res);
    assert_eq!(res.status(), 200, "{answer}");
    assert_eq!(answer["contactCreated"], true, "{answer}");
    assert!(run.queue.drain().is_empty(), "nothing waits for a batch");
}

#[tokio::test]
async fn a_burst_beyond_the_budget_waits_in_slots_of_a_bulk_request() {
    let run = start(&[("CLOUDTALK_RATE_PER_MIN", "50")]).await;
    mount_account(&run, json!([]), 1).await;
    let deps = Arc::new(run.deps);
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..40 {
        let deps = deps.clone();
        sends.spawn(async move {
            let body = lead(i, "Burst Lead").to_string();
            let req = post("/api/ghl-webhooks/new-contact", &body, Some(GHL_SECRET));
            bridge::route(&deps, req).await.status().is_success()
        });
    }
    while let Some(sent) = sends.join_next().await {
        assert!(sent.unwrap());
    }
    let delays: Vec<u32> = run.queue.drain().into_iter().map(|(_, d)| d).collect();
    assert!(delays.len() >= 25, "most of the burst waits: {delays:?}");
    // The lane's turns come in whole slots (2 s at one token a bulk request), up to ten and
    // more leads a slot: they reach the worker together.
    assert!(delays.iter().all(|d| d % 2 == 0), "{delays:?}");
    let mut per_slot = std::collections::BTreeMap::new();
    for d in &delays {
        *per_slot.entry(*d).or_insert(0) += 1;
    }
    assert!(per_slot.values().any(|n| *n >= 10), "{per_slot:?}");
    assert!(
        delays.iter().max().unwrap() <= &20,
        "40 leads in a few slots: {delays:?}"
    );
}

/// A bulk endpoint that creates every command's contact and adds it to the account's contact
/// list, and then answers 500 the first time (applied, but the bridge cannot know); the list
/// shows what was created.
async fn mount_lossy_account(run: &Run) {
    let created: Arc<std::sync::Mutex<Vec<Value>>> = Arc::default();
    let calls = Arc::new(AtomicU64::new(0));
    let listed = created.clone();
    Mock::given(method("GET"))
        .and(path("/api/contacts/index.json"))
        .respond_with(move |_: &wiremock::Request| {
            let rows = listed.lock().unwrap().clone();
            ResponseTemplate::new(200).set_body_json(json!({"responseData": {
                "itemsCount": rows.len(), "pageCount": 1, "pageNumber": 1, "limit": 1000,
                "data": rows}}))
        })
        .with_priority(1)
        .mount(&run.fakes.cloudtalk)
        .await;
    let (store, count) = (created.clone(), calls.clone());
    Mock::given(method("POST"))
        .and(path("/api/bulk/contacts.json"))
        .respond_with(move |req: &wiremock::Request| {
            let commands: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let mut results = Vec::new();
            for c in commands.as_array().into_iter().flatten() {
                let mut rows = store.lock().unwrap();
                let id = (8000 + rows.len()).to_string();
                let phone = c["data"]["ContactNumber"][0]["public_number"].clone();
                rows.push(json!({"Contact": {"id": id, "name": c["data"]["name"]},
                    "ContactNumber": [{"public_number": phone}]}));
                results.push(json!({"command_id": c["command_id"], "status": 201,
                    "data": {"id": id}}));
            }
            match count.fetch_add(1, Ordering::SeqCst) {
                0 => ResponseTemplate::new(500).set_body_json(
                    json!({"responseData": {"status": 500, "message": "Something went wrong."}}),
                ),
                _ => ResponseTemplate::new(200)
                    .set_body_json(json!({"responseData": {"status": 200, "data": results}})),
            }
        })
        .with_priority(1)
        .mount(&run.fakes.cloudtalk)
        .await;
    mount_cloudtalk(&run.fakes.cloudtalk, json!([])).await;
    mount_ghl(&run.fakes.ghl, json!(null), json!([])).await;
}

#[tokio::test]
async fn a_bulk_request_that_may_have_been_applied_sends_its_leads_back_and_creates_none_twice() {
    let fakes = Fakes::start().await;
    let queue = Arc::new(MemoryRetryQueue::new());
    let mut backends = bridge::Backends::in_memory();
    backends.retry_queue = queue.clone();
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    // One try per request: the 500 is the bulk request's answer.
    settings.config.upstream_retry_budget = std::time::Duration::ZERO;
    let clock = Arc::new(bridge::clock::ManualClock::at_ms(1_796_000_000_000));
    let deps = Deps::build_with_clock(settings, backends, clock.clone()).unwrap();
    let run = Run { fakes, deps, queue };
    mount_lossy_account(&run).await;
    let leads: Vec<Value> = (0..4).map(|i| lead(i, "Imported Lead")).collect();
    let events = queued(&run, &leads);
    let failed = bridge::worker::handle_batch(&run.deps, batch(&events), None).await;
    assert!(failed.batch_item_failures.is_empty(), "{failed:?}");
    // The leads went back to the lane together, an attempt used; none was applied alone (no
    // search, no create of its own).
    let back = run.queue.drain();
    assert_eq!(back.len(), 4, "{back:?}");
    assert!(back.iter().all(|(e, _)| e.attempt == 1), "{back:?}");
    let paths = cloudtalk_paths(&run).await;
    let count = |p: &str| paths.iter().filter(|x| x.as_str() == p).count();
    assert_eq!(count("POST /api/bulk/contacts.json"), 1, "{paths:?}");
    assert!(
        !paths.iter().any(|p| p.contains("keyword")),
        "no lead searched alone: {paths:?}"
    );
    // Too soon for the list to be trusted: back again, nothing created.
    clock.advance_ms(5_000);
    let again: Vec<QueuedEvent> = back.into_iter().map(|(e, _)| e).collect();
    bridge::worker::handle_batch(&run.deps, batch(&again), None).await;
    assert_eq!(
        run.queue.drain().len(),
        4,
        "they wait for the list to settle"
    );
    assert_eq!(count_bulk(&run).await, 1);
    // Settled: the list, read again, shows the contacts the lost answer created; they are
    // linked, and none is created twice.
    clock.advance_ms(30_000);
    bridge::worker::handle_batch(&run.deps, batch(&again), None).await;
    assert_eq!(count_bulk(&run).await, 1, "no second create");
    for i in 0..4 {
        let link = run
            .deps
            .contacts
            .find_by_ghl(LOCATION, &format!("lead-{i}"))
            .await
            .unwrap();
        assert!(
            link.is_some_and(|l| l.cloudtalk_contact_id.starts_with("80")),
            "lead-{i}"
        );
    }
    assert!(run.queue.parked().is_empty());
}

async fn count_bulk(run: &Run) -> usize {
    cloudtalk_paths(run)
        .await
        .iter()
        .filter(|p| p.as_str() == "POST /api/bulk/contacts.json")
        .count()
}

/// An idempotency store whose first claim of one key fails, as a store call may.
struct FailingClaim {
    inner: Arc<dyn bridge::idempotency::IdempotencyStore>,
    key: String,
    failed: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl bridge::idempotency::IdempotencyStore for FailingClaim {
    async fn claim(
        &self,
        key: &str,
        now_ms: i64,
        lock_until_ms: i64,
    ) -> Result<bridge::idempotency::Claim, bridge::store::StoreError> {
        if key == self.key && !self.failed.swap(true, Ordering::SeqCst) {
            return Err(bridge::store::StoreError::new("injected store failure"));
        }
        self.inner.claim(key, now_ms, lock_until_ms).await
    }
    async fn record_step(
        &self,
        key: &str,
        owner: &str,
        step: &str,
        value: &str,
    ) -> Result<(), bridge::store::StoreError> {
        self.inner.record_step(key, owner, step, value).await
    }
    async fn complete(
        &self,
        key: &str,
        owner: &str,
        response: &Value,
        expires_at_secs: i64,
    ) -> Result<(), bridge::store::StoreError> {
        self.inner
            .complete(key, owner, response, expires_at_secs)
            .await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), bridge::store::StoreError> {
        self.inner.release(key, owner).await
    }
    async fn seen(&self, key: &str, now_ms: i64) -> Result<bool, bridge::store::StoreError> {
        self.inner.seen(key, now_ms).await
    }
}

/// A lead whose claim the store fails is not applied alone (a search and a bulk request of its
/// own, a whole bulk request's cost for one lead): it takes another turn in the lane, an
/// attempt used, to be created with the leads of that turn.
#[tokio::test]
async fn a_lead_whose_claim_fails_takes_another_turn_in_the_lane() {
    let mut run = start(&[]).await;
    mount_account(&run, json!([]), 1).await;
    let leads: Vec<Value> = (0..10).map(|i| lead(i, "Imported Lead")).collect();
    let events = queued(&run, &leads);
    run.deps.idempotency = Arc::new(FailingClaim {
        inner: run.deps.idempotency.clone(),
        key: events[3].key.clone(),
        failed: Default::default(),
    });
    let failed = bridge::worker::handle_batch(&run.deps, batch(&events), None).await;
    assert!(failed.batch_item_failures.is_empty(), "{failed:?}");
    let paths = cloudtalk_paths(&run).await;
    let count = |p: &str| paths.iter().filter(|x| x.as_str() == p).count();
    assert_eq!(count("POST /api/bulk/contacts.json"), 1, "{paths:?}");
    assert_eq!(paths.len(), 2, "the list and one bulk request: {paths:?}");
    let back = run.queue.drain();
    assert_eq!(back.len(), 1, "{back:?}");
    let (event, delay) = &back[0];
    assert_eq!(event.key, events[3].key);
    assert_eq!(event.attempt, 1, "an attempt used");
    assert!(*delay >= 1);
    assert!(event
        .last_error
        .as_deref()
        .is_some_and(|e| e.starts_with("store_unavailable")));
    let link = run
        .deps
        .contacts
        .find_by_ghl(LOCATION, "lead-3")
        .await
        .unwrap();
    assert!(link.is_none(), "not made yet");
}
