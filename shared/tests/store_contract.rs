//! One contract per storage trait, run against every implementation of it: the in-memory
//! stores, the local store file and DynamoDB (on the server `scripts/test.sh` starts; see
//! [`bridge_testkit::aws_endpoint`] for when those cases are skipped).
//!
//! Each contract case is written once, over `Arc<dyn Trait>`; the `contract_tests!` lists at
//! the end run every case against every implementation, one test each.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use bridge::contact_map::{
    ContactLink, ContactMap, DynamoContactMap, LinkOrigin, LinkOutcome, MemoryContactMap,
};
use bridge::idempotency::{
    Claim, DynamoIdempotencyStore, IdempotencyStore, Lease, MemoryIdempotencyStore, RECORD_TTL_SECS,
};
use bridge::local_store::LocalStore;
use bridge::state::{AgentStatus, DynamoStateStore, MemoryStateStore, StateStore, StoredEvent};
use bridge::store::StoreError;
use serde_json::json;

// --- Implementations -------------------------------------------------------------------------

static LOCAL_FILES: AtomicU32 = AtomicU32::new(0);

/// A local store on a file of its own.
fn local_store() -> LocalStore {
    let n = LOCAL_FILES.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("bridge-contract-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    LocalStore::new(dir.join("store.json"))
}

/// A store on a fresh DynamoDB table, or `None` when the DynamoDB cases are skipped.
async fn on_dynamodb<T>(prefix: &str, make: impl FnOnce(Client, String) -> T) -> Option<T> {
    let (client, table) = bridge_testkit::dynamodb_table(prefix).await?;
    Some(make(client, table))
}

// --- ContactMap ------------------------------------------------------------------------------

async fn links_are_found_in_both_directions(map: Arc<dyn ContactMap>) {
    assert_eq!(map.find_by_ghl("loc", "g1").await.unwrap(), None);
    assert_eq!(map.find_by_cloudtalk("loc", "c1").await.unwrap(), None);
    let link = ContactLink::new("loc", "g1", "c1", LinkOrigin::GoHighLevel);
    assert_eq!(map.link(&link).await.unwrap(), LinkOutcome::Created);
    assert_eq!(
        map.find_by_ghl("loc", "g1").await.unwrap(),
        Some(link.clone())
    );
    assert_eq!(
        map.find_by_cloudtalk("loc", "c1").await.unwrap(),
        Some(link.clone())
    );
    // Keys include the location, and the two id spaces are apart.
    assert_eq!(map.find_by_ghl("other-loc", "g1").await.unwrap(), None);
    assert_eq!(
        map.find_by_cloudtalk("other-loc", "c1").await.unwrap(),
        None
    );
    assert_eq!(map.find_by_cloudtalk("loc", "g1").await.unwrap(), None);
    assert_eq!(map.find_by_ghl("loc", "c1").await.unwrap(), None);
    // The origin is kept.
    let back = ContactLink::new("loc", "g2", "c2", LinkOrigin::CloudTalk);
    assert_eq!(map.link(&back).await.unwrap(), LinkOutcome::Created);
    assert_eq!(
        map.find_by_cloudtalk("loc", "c2").await.unwrap(),
        Some(back)
    );
}

async fn a_second_link_for_either_contact_returns_the_first(map: Arc<dyn ContactMap>) {
    let first = ContactLink::new("loc", "g1", "c1", LinkOrigin::GoHighLevel);
    assert_eq!(map.link(&first).await.unwrap(), LinkOutcome::Created);
    let existing = LinkOutcome::Existing(first.clone());
    let same_ghl = ContactLink::new("loc", "g1", "c2", LinkOrigin::GoHighLevel);
    assert_eq!(map.link(&same_ghl).await.unwrap(), existing);
    let same_cloudtalk = ContactLink::new("loc", "g2", "c1", LinkOrigin::CloudTalk);
    assert_eq!(map.link(&same_cloudtalk).await.unwrap(), existing);
    let again = ContactLink {
        created_at: "2000-01-01T00:00:00Z".into(),
        ..first.clone()
    };
    assert_eq!(map.link(&again).await.unwrap(), existing);
    // The refused links left nothing behind, and the first is unchanged.
    assert_eq!(map.find_by_cloudtalk("loc", "c2").await.unwrap(), None);
    assert_eq!(map.find_by_ghl("loc", "g2").await.unwrap(), None);
    assert_eq!(
        map.find_by_ghl("loc", "g1").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        map.find_by_cloudtalk("loc", "c1").await.unwrap(),
        Some(first)
    );
    // The same ids in another location are another contact.
    let elsewhere = ContactLink::new("loc-2", "g1", "c1", LinkOrigin::GoHighLevel);
    assert_eq!(map.link(&elsewhere).await.unwrap(), LinkOutcome::Created);
}

async fn concurrent_links_for_one_contact_make_exactly_one(map: Arc<dyn ContactMap>) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let map = map.clone();
            let link = ContactLink::new("loc", "g-race", &format!("c{i}"), LinkOrigin::GoHighLevel);
            tokio::spawn(async move { map.link(&link).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task").expect("link"));
    }
    let created = outcomes
        .iter()
        .filter(|o| **o == LinkOutcome::Created)
        .count();
    assert_eq!(created, 1, "{outcomes:?}");
    let winner = map
        .find_by_ghl("loc", "g-race")
        .await
        .unwrap()
        .expect("winner");
    for outcome in &outcomes {
        if let LinkOutcome::Existing(existing) = outcome {
            assert_eq!(existing, &winner);
        }
    }
    for i in 0..8 {
        let found = map
            .find_by_cloudtalk("loc", &format!("c{i}"))
            .await
            .unwrap();
        let expected = (winner.cloudtalk_contact_id == format!("c{i}")).then(|| winner.clone());
        assert_eq!(found, expected, "c{i}");
    }
}

async fn unlinking_removes_only_the_link_it_names(map: Arc<dyn ContactMap>) {
    let stale = ContactLink::new("loc", "g1", "c1", LinkOrigin::GoHighLevel);
    assert_eq!(map.link(&stale).await.unwrap(), LinkOutcome::Created);
    // A link naming another pair removes nothing.
    let other = ContactLink::new("loc", "g1", "c2", LinkOrigin::GoHighLevel);
    assert!(!map.unlink(&other).await.unwrap());
    assert!(map.find_by_ghl("loc", "g1").await.unwrap().is_some());
    // The link itself: both items go, and either contact can be linked afresh.
    assert!(map.unlink(&stale).await.unwrap());
    assert!(map.find_by_ghl("loc", "g1").await.unwrap().is_none());
    assert!(map.find_by_cloudtalk("loc", "c1").await.unwrap().is_none());
    let healed = ContactLink::new("loc", "g1", "c3", LinkOrigin::GoHighLevel);
    assert_eq!(map.link(&healed).await.unwrap(), LinkOutcome::Created);
    // A late unlink of the stale link (a concurrent healer) leaves the new link alone.
    assert!(!map.unlink(&stale).await.unwrap());
    let found = map.find_by_ghl("loc", "g1").await.unwrap().unwrap();
    assert_eq!(found.cloudtalk_contact_id, "c3");
    assert!(map.find_by_cloudtalk("loc", "c3").await.unwrap().is_some());
}

async fn map_ping_and_kind(map: Arc<dyn ContactMap>, kind: &str) {
    map.ping().await.unwrap();
    assert_eq!(map.kind(), kind);
}

// --- StateStore ------------------------------------------------------------------------------

fn agent(location_id: &str, agent_id: &str) -> AgentStatus {
    AgentStatus {
        location_id: location_id.into(),
        agent_id: agent_id.into(),
        agent_name: Some("Roberto".into()),
        status: "online".into(),
        changed_at: "2026-11-28T10:00:00Z".into(),
        ghl_custom_value_id: Some("cv-1".into()),
    }
}

async fn agents_are_kept_per_location_and_replaced(state: Arc<dyn StateStore>) {
    assert_eq!(state.get_agent("loc", "493933").await.unwrap(), None);
    let first = agent("loc", "493933");
    state.put_agent(&first).await.unwrap();
    assert_eq!(
        state.get_agent("loc", "493933").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(state.get_agent("other-loc", "493933").await.unwrap(), None);
    assert_eq!(state.get_agent("loc", "1").await.unwrap(), None);
    // A later status replaces the whole record, optional fields included.
    let second = AgentStatus {
        agent_name: None,
        status: "busy".into(),
        changed_at: "2026-11-28T10:05:00Z".into(),
        ghl_custom_value_id: None,
        ..first
    };
    state.put_agent(&second).await.unwrap();
    assert_eq!(
        state.get_agent("loc", "493933").await.unwrap(),
        Some(second)
    );
}

async fn events_are_kept_until_they_expire(state: Arc<dyn StateStore>) {
    assert_eq!(state.get_event("1-abc").await.unwrap(), None);
    let now = chrono::Utc::now().timestamp();
    let event = StoredEvent {
        id: "1-abc".into(),
        route: "/api/cloudtalk-webhooks/generic".into(),
        received_at: "2026-11-28T10:00:00.000Z".into(),
        body: r#"{"a":1,"text":"Ciao"}"#.into(),
        expires_at: now + 14 * 86_400,
    };
    state.put_event(&event).await.unwrap();
    assert_eq!(state.get_event("1-abc").await.unwrap(), Some(event.clone()));
    assert_eq!(state.get_event("1-abd").await.unwrap(), None);
    // Past its expiry an event is gone, whether or not it was removed yet.
    let expired = StoredEvent {
        id: "2-old".into(),
        expires_at: now - 60,
        ..event.clone()
    };
    state.put_event(&expired).await.unwrap();
    assert_eq!(state.get_event("2-old").await.unwrap(), None);
    assert_eq!(state.get_event("1-abc").await.unwrap(), Some(event));
}

async fn state_ping_and_kind(state: Arc<dyn StateStore>, kind: &str) {
    state.ping().await.unwrap();
    assert_eq!(state.kind(), kind);
}

// --- IdempotencyStore ------------------------------------------------------------------------

const LOCK_MS: i64 = 30_000;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The lease of a claim that acquired the event with exactly `steps`; fails otherwise.
fn acquired(claim: Claim, steps: &[(&str, &str)]) -> Lease {
    let expected: BTreeMap<String, String> = steps
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    match claim {
        Claim::Acquired { steps, lease } => {
            assert_eq!(steps, expected);
            assert!(!lease.owner.is_empty());
            lease
        }
        other => panic!("expected the claim to acquire, got {other:?}"),
    }
}

/// The expiry of a record completed at `now_ms` under a delivery id.
fn kept(now_ms: i64) -> i64 {
    now_ms / 1000 + RECORD_TTL_SECS
}

async fn claim(store: &Arc<dyn IdempotencyStore>, key: &str, at: i64) -> Claim {
    store.claim(key, at, at + LOCK_MS).await.unwrap()
}

async fn a_first_claim_acquires_and_a_second_is_in_progress(store: Arc<dyn IdempotencyStore>) {
    let now = now_ms();
    let first = acquired(claim(&store, "e1", now).await, &[]);
    assert!(!first.takeover);
    assert_eq!(claim(&store, "e1", now + 10).await, Claim::InProgress);
    assert_eq!(
        store
            .claim("e1", now + LOCK_MS - 1, now + 2 * LOCK_MS)
            .await
            .unwrap(),
        Claim::InProgress,
        "the lock holds until its last millisecond"
    );
    // Another key is another event, with another owner.
    let other = acquired(claim(&store, "e2", now).await, &[]);
    assert_ne!(first.owner, other.owner);
}

async fn after_lock_expiry_a_claim_acquires_with_the_recorded_steps(
    store: Arc<dyn IdempotencyStore>,
) {
    let now = now_ms();
    let first = acquired(claim(&store, "e1", now).await, &[]);
    store
        .record_step("e1", &first.owner, "note", "n-1")
        .await
        .unwrap();
    store
        .record_step("e1", &first.owner, "task", "t-0")
        .await
        .unwrap();
    store
        .record_step("e1", &first.owner, "task", "t-1")
        .await
        .unwrap();
    // The first attempt died: at its lock's end another takes over, with the steps.
    let later = now + LOCK_MS;
    let second = acquired(
        claim(&store, "e1", later).await,
        &[("note", "n-1"), ("task", "t-1")],
    );
    assert!(second.takeover, "a lock that ran out is a takeover");
    // The new attempt holds a lock of its own.
    assert_eq!(claim(&store, "e1", later + 1).await, Claim::InProgress);
}

async fn an_attempt_that_outlived_its_lock_cannot_touch_the_new_one(
    store: Arc<dyn IdempotencyStore>,
) {
    let now = now_ms();
    let old = acquired(claim(&store, "e1", now).await, &[]);
    store
        .record_step("e1", &old.owner, "contact", "c-1")
        .await
        .unwrap();
    // Its lock runs out while it is still at work; a new attempt takes over.
    let new = acquired(
        claim(&store, "e1", now + LOCK_MS).await,
        &[("contact", "c-1")],
    );
    let contended = |r: Result<(), StoreError>| matches!(r, Err(StoreError::Contended(_)));
    // The old attempt's writes are refused: no step, no answer, no release.
    assert!(contended(
        store.record_step("e1", &old.owner, "note", "stale").await
    ));
    assert!(contended(
        store
            .complete("e1", &old.owner, &json!({"by": "old"}), kept(now))
            .await
    ));
    assert!(contended(store.release("e1", &old.owner).await));
    assert_eq!(
        claim(&store, "e1", now + LOCK_MS + 1).await,
        Claim::InProgress,
        "still held by the new attempt"
    );
    // The new attempt's writes land.
    store
        .record_step("e1", &new.owner, "note", "n-2")
        .await
        .unwrap();
    store
        .complete("e1", &new.owner, &json!({"by": "new"}), kept(now))
        .await
        .unwrap();
    assert_eq!(
        claim(&store, "e1", now + 2 * LOCK_MS).await,
        Claim::Completed {
            response: json!({"by": "new"})
        }
    );
}

async fn a_completed_event_answers_every_later_claim(store: Arc<dyn IdempotencyStore>) {
    let now = now_ms();
    let lease = acquired(claim(&store, "e1", now).await, &[]);
    store
        .record_step("e1", &lease.owner, "note", "n-1")
        .await
        .unwrap();
    let answer =
        json!({"ok": true, "cloudtalkNoteId": "n-1", "nested": {"list": [1, "two", null]}});
    store
        .complete("e1", &lease.owner, &answer, kept(now))
        .await
        .unwrap();
    let completed = Claim::Completed {
        response: answer.clone(),
    };
    assert_eq!(claim(&store, "e1", now + 1).await, completed);
    let later = now + 2 * LOCK_MS;
    assert_eq!(claim(&store, "e1", later).await, completed);
    store.release("e1", &lease.owner).await.unwrap();
    assert_eq!(claim(&store, "e1", later).await, completed);
}

async fn a_released_event_is_taken_over_at_once(store: Arc<dyn IdempotencyStore>) {
    let now = now_ms();
    let lease = acquired(claim(&store, "e1", now).await, &[]);
    store
        .record_step("e1", &lease.owner, "contact", "c-9")
        .await
        .unwrap();
    store.release("e1", &lease.owner).await.unwrap();
    let next = acquired(claim(&store, "e1", now + 1).await, &[("contact", "c-9")]);
    assert!(!next.takeover, "a released event is no takeover");
    assert_eq!(claim(&store, "e1", now + 2).await, Claim::InProgress);
}

async fn seen_once_a_record_exists(store: Arc<dyn IdempotencyStore>) {
    let now = now_ms();
    assert!(!store.seen("e1", now).await.unwrap());
    let lease = acquired(claim(&store, "e1", now).await, &[]);
    assert!(store.seen("e1", now).await.unwrap());
    store.release("e1", &lease.owner).await.unwrap();
    assert!(store.seen("e1", now + 1).await.unwrap());
    let lease = acquired(claim(&store, "e1", now + 1).await, &[]);
    store
        .complete("e1", &lease.owner, &json!({"ok": true}), kept(now))
        .await
        .unwrap();
    assert!(store.seen("e1", now + 2).await.unwrap());
    assert!(!store.seen("e2", now).await.unwrap());
}

async fn records_expire_after_their_lifetime(store: Arc<dyn IdempotencyStore>) {
    let now = now_ms();
    let lifetime_ms = RECORD_TTL_SECS * 1000;
    let done = acquired(claim(&store, "done", now).await, &[]);
    store
        .complete("done", &done.owner, &json!({"ok": true}), kept(now))
        .await
        .unwrap();
    let dead = acquired(claim(&store, "dead", now).await, &[]);
    store
        .record_step("dead", &dead.owner, "note", "n-1")
        .await
        .unwrap();
    // Still there on the record's last second.
    assert!(store.seen("done", now + lifetime_ms).await.unwrap());
    assert!(store.seen("dead", now + lifetime_ms).await.unwrap());
    // After it, a record is gone, whether or not it was removed yet.
    let after = now + lifetime_ms + 1000;
    assert!(!store.seen("done", after).await.unwrap());
    assert!(!store.seen("dead", after).await.unwrap());
    acquired(claim(&store, "done", after).await, &[]);
    acquired(claim(&store, "dead", after).await, &[]);
    // The fresh records live a lifetime of their own.
    assert!(store.seen("dead", after + 1).await.unwrap());
    assert_eq!(claim(&store, "dead", after + 1).await, Claim::InProgress);
}

async fn a_completed_record_lives_as_long_as_it_was_kept(store: Arc<dyn IdempotencyStore>) {
    let now = now_ms();
    let lease = acquired(claim(&store, "body", now).await, &[]);
    store
        .record_step("body", &lease.owner, "tags", "")
        .await
        .unwrap();
    let until = now / 1000 + 60;
    store
        .complete("body", &lease.owner, &json!({"ok": true}), until)
        .await
        .unwrap();
    let completed = Claim::Completed {
        response: json!({"ok": true}),
    };
    assert_eq!(claim(&store, "body", until * 1000).await, completed);
    assert!(store.seen("body", until * 1000 + 999).await.unwrap());
    // Past its keep, the same key is a new event, with nothing recorded.
    let after = (until + 1) * 1000;
    assert!(!store.seen("body", after).await.unwrap());
    acquired(claim(&store, "body", after).await, &[]);
}

async fn writes_for_unknown_events_change_nothing(store: Arc<dyn IdempotencyStore>) {
    let now = now_ms();
    store
        .record_step("ghost", "x", "note", "n-1")
        .await
        .unwrap();
    store
        .complete("ghost", "x", &json!({"ok": true}), kept(now))
        .await
        .unwrap();
    store.release("ghost", "x").await.unwrap();
    assert!(!store.seen("ghost", now).await.unwrap());
    acquired(claim(&store, "ghost", now).await, &[]);
}

async fn concurrent_claims_of_one_event_acquire_once(store: Arc<dyn IdempotencyStore>) {
    let now = now_ms();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim("same", now, now + LOCK_MS).await })
        })
        .collect();
    let mut claims = Vec::new();
    for task in tasks {
        claims.push(task.await.expect("task").expect("claim"));
    }
    let won = claims
        .iter()
        .filter(|c| matches!(c, Claim::Acquired { .. }))
        .count();
    let lost = claims.iter().filter(|c| **c == Claim::InProgress).count();
    assert_eq!((won, lost), (1, 7), "{claims:?}");
}

// --- RateLimiter -----------------------------------------------------------------------------

use bridge::rate_limit::{Admission, Bucket, RateLimiter};

fn bucket() -> Bucket {
    // 10 calls in any 10 s: a burst of 1, then one every 10/9 s.
    Bucket::new(
        format!("ct#{}", now_ms()),
        10,
        std::time::Duration::from_secs(10),
    )
}

async fn a_bucket_admits_its_burst_then_reserves_then_gives_spread_turns(
    limiter: Arc<dyn RateLimiter>,
) {
    let (b, now) = (bucket(), now_ms());
    assert_eq!(limiter.acquire(&b, now, 0).await.unwrap(), Admission::Now);
    // Empty: a caller that can wait 5 s reserves the next token.
    let reserved = limiter.acquire(&b, now, 5_000).await.unwrap();
    assert!(
        matches!(reserved, Admission::After(w) if w.as_millis() <= 1_112),
        "{reserved:?}"
    );
    // Callers that cannot wait get turns one token apart.
    let turn = |a: Admission| match a {
        Admission::Throttled { turn_in } => turn_in.as_millis(),
        other => panic!("expected a turn, got {other:?}"),
    };
    let first = turn(limiter.acquire(&b, now, 0).await.unwrap());
    let second = turn(limiter.acquire(&b, now, 0).await.unwrap());
    assert!(second >= first + 1_000, "{first} then {second}");
    // The bucket refills with time.
    assert_eq!(
        limiter.acquire(&b, now + 60_000, 0).await.unwrap(),
        Admission::Now
    );
}

async fn concurrent_callers_share_the_burst(limiter: Arc<dyn RateLimiter>) {
    let (b, now) = (
        Bucket::new(
            format!("burst#{}", now_ms()),
            100,
            std::time::Duration::from_secs(60),
        ),
        now_ms(),
    );
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let (limiter, b) = (limiter.clone(), b.clone());
            tokio::spawn(async move { limiter.acquire(&b, now, 0).await })
        })
        .collect();
    let mut now_count = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() == Admission::Now {
            now_count += 1;
        }
    }
    assert_eq!(now_count, 10, "exactly the burst of 10 goes at once");
}

#[tokio::test]
async fn two_containers_draw_from_one_bucket_in_dynamodb() {
    let Some((client, table)) = bridge_testkit::dynamodb_table("rate").await else {
        return;
    };
    let a = bridge::rate_limit::DynamoRateLimiter::new(client.clone(), table.clone());
    let b = bridge::rate_limit::DynamoRateLimiter::new(client, table);
    let (bucket, now) = (bucket(), now_ms());
    assert_eq!(a.acquire(&bucket, now, 0).await.unwrap(), Admission::Now);
    assert!(
        matches!(
            b.acquire(&bucket, now, 0).await.unwrap(),
            Admission::Throttled { .. }
        ),
        "the other container sees the token taken"
    );
}

// --- DynamoDB without its table --------------------------------------------------------------

fn is_unavailable<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Unavailable(_)))
}

#[tokio::test]
async fn dynamodb_stores_without_their_table_are_unavailable() {
    let Some(endpoint) = bridge_testkit::aws_endpoint() else {
        return;
    };
    let client = bridge_testkit::dynamodb_client(&endpoint);
    let map = DynamoContactMap::new(client.clone(), "no-such-table");
    assert!(is_unavailable(map.ping().await));
    assert!(is_unavailable(map.find_by_ghl("loc", "g").await));
    let link = ContactLink::new("loc", "g", "c", LinkOrigin::GoHighLevel);
    assert!(is_unavailable(map.link(&link).await));
    let state = DynamoStateStore::new(client.clone(), "no-such-table");
    assert!(is_unavailable(state.ping().await));
    assert!(is_unavailable(state.get_agent("loc", "1").await));
    assert!(is_unavailable(state.put_agent(&agent("loc", "1")).await));
    let idempotency = DynamoIdempotencyStore::new(client, "no-such-table");
    let now = now_ms();
    assert!(is_unavailable(
        idempotency.claim("e", now, now + LOCK_MS).await
    ));
    assert!(is_unavailable(idempotency.seen("e", now).await));
    assert!(is_unavailable(
        idempotency.complete("e", "o", &json!({}), kept(now)).await
    ));
}

// --- Every case against every implementation -------------------------------------------------

/// One test per case for one implementation: `$make` gives the store (`None`: skipped), used
/// as an `Arc<$store>`; `ping: $ping => $kind` adds the case that also checks `kind()`.
macro_rules! contract_tests {
    ($store:ty = $make:expr, $(ping: $ping:path => $kind:literal,)? [$($case:ident),+ $(,)?]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                if let Some(store) = $make.await {
                    let store: std::sync::Arc<$store> = std::sync::Arc::new(store);
                    crate::$case(store).await;
                }
            }
        )+
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn ping_and_kind() {
                if let Some(store) = $make.await {
                    let store: std::sync::Arc<$store> = std::sync::Arc::new(store);
                    $ping(store, $kind).await;
                }
            }
        )?
    };
}

macro_rules! contact_map_contract {
    ($make:expr, $kind:literal) => {
        contract_tests!(dyn bridge::contact_map::ContactMap = $make, ping: crate::map_ping_and_kind => $kind, [
            links_are_found_in_both_directions,
            a_second_link_for_either_contact_returns_the_first,
            concurrent_links_for_one_contact_make_exactly_one,
            unlinking_removes_only_the_link_it_names,
        ]);
    };
}

async fn values_are_kept_and_replaced(store: Arc<dyn StateStore>) {
    assert_eq!(store.get_value("checkpoint#calls").await.unwrap(), None);
    store
        .put_value("checkpoint#calls", r#"{"since":"2026-12-01 10:00:00"}"#)
        .await
        .unwrap();
    store.put_value("other", "x").await.unwrap();
    store
        .put_value("checkpoint#calls", r#"{"since":"2026-12-01 10:15:00"}"#)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_value("checkpoint#calls")
            .await
            .unwrap()
            .as_deref(),
        Some(r#"{"since":"2026-12-01 10:15:00"}"#)
    );
    assert_eq!(
        store.get_value("other").await.unwrap().as_deref(),
        Some("x")
    );
}

macro_rules! state_contract {
    ($make:expr, $kind:literal) => {
        contract_tests!(dyn bridge::state::StateStore = $make, ping: crate::state_ping_and_kind => $kind, [
            agents_are_kept_per_location_and_replaced,
            events_are_kept_until_they_expire,
            values_are_kept_and_replaced,
        ]);
    };
}

macro_rules! idempotency_contract {
    ($make:expr) => {
        contract_tests!(dyn bridge::idempotency::IdempotencyStore = $make, [
            a_first_claim_acquires_and_a_second_is_in_progress,
            after_lock_expiry_a_claim_acquires_with_the_recorded_steps,
            an_attempt_that_outlived_its_lock_cannot_touch_the_new_one,
            a_completed_event_answers_every_later_claim,
            a_released_event_is_taken_over_at_once,
            seen_once_a_record_exists,
            records_expire_after_their_lifetime,
            a_completed_record_lives_as_long_as_it_was_kept,
            writes_for_unknown_events_change_nothing,
        ]);
    };
    ($make:expr, with_concurrent_claims) => {
        idempotency_contract!($make);
        contract_tests!(dyn bridge::idempotency::IdempotencyStore = $make, [
            concurrent_claims_of_one_event_acquire_once,
        ]);
    };
}

mod contact_map {
    mod memory {
        contact_map_contract!(async { Some(crate::MemoryContactMap::new()) }, "memory");
    }
    mod local_file {
        contact_map_contract!(async { Some(crate::local_store()) }, "local-file");
    }
    mod dynamodb {
        contact_map_contract!(
            crate::on_dynamodb("contact-map", crate::DynamoContactMap::new),
            "dynamodb"
        );
    }
}

mod state {
    mod memory {
        state_contract!(async { Some(crate::MemoryStateStore::new()) }, "memory");
    }
    mod local_file {
        state_contract!(async { Some(crate::local_store()) }, "local-file");
    }
    mod dynamodb {
        state_contract!(
            crate::on_dynamodb("state", crate::DynamoStateStore::new),
            "dynamodb"
        );
    }
}

macro_rules! rate_limit_contract {
    ($make:expr) => {
        contract_tests!(dyn bridge::rate_limit::RateLimiter = $make, [
            a_bucket_admits_its_burst_then_reserves_then_gives_spread_turns,
        ]);
    };
    ($make:expr, with_concurrent_callers) => {
        rate_limit_contract!($make);
        contract_tests!(dyn bridge::rate_limit::RateLimiter = $make, [
            concurrent_callers_share_the_burst,
        ]);
    };
}

mod rate_limit {
    mod memory {
        rate_limit_contract!(
            async { Some(bridge::rate_limit::MemoryRateLimiter::new()) },
            with_concurrent_callers
        );
    }
    mod local_file {
        rate_limit_contract!(
            async { Some(crate::local_store()) },
            with_concurrent_callers
        );
    }
    // Not the concurrent callers, for the reason given for concurrent claims below.
    mod dynamodb {
        rate_limit_contract!(crate::on_dynamodb(
            "rate",
            bridge::rate_limit::DynamoRateLimiter::new
        ));
    }
}

mod idempotency {
    mod memory {
        idempotency_contract!(
            async { Some(crate::MemoryIdempotencyStore::new()) },
            with_concurrent_claims
        );
    }
    mod local_file {
        idempotency_contract!(async { Some(crate::local_store()) }, with_concurrent_claims);
    }
    // Not the concurrent claims: the test server (moto) checks an UpdateItem's condition and
    // writes the item without a lock, so two concurrent claims of a new key both succeed
    // there in a few runs out of a hundred. DynamoDB evaluates the condition atomically; the
    // claim's conditions are checked here one request at a time.
    mod dynamodb {
        idempotency_contract!(crate::on_dynamodb(
            "idempotency",
            crate::DynamoIdempotencyStore::new
        ));
    }
}

// --- TenantStore -----------------------------------------------------------------------------

async fn versions_guard_every_write_and_listing_finds_by_prefix(
    store: Arc<dyn bridge::tenants::TenantStore>,
) {
    assert_eq!(store.get("tenant#a").await.unwrap(), None);
    assert_eq!(store.put("tenant#a", "{\"v\":1}", None).await.unwrap(), 1);
    // A second creation, or a write over a version that is not the stored one, loses.
    let contended = |r: Result<i64, StoreError>| matches!(r, Err(StoreError::Contended(_)));
    assert!(contended(
        store.put("tenant#a", "{\"v\":\"again\"}", None).await
    ));
    assert!(contended(
        store.put("tenant#a", "{\"v\":\"stale\"}", Some(0)).await
    ));
    assert_eq!(
        store.put("tenant#a", "{\"v\":2}", Some(1)).await.unwrap(),
        2
    );
    assert!(contended(
        store.put("tenant#a", "{\"v\":\"late\"}", Some(1)).await
    ));
    let got = store.get("tenant#a").await.unwrap().unwrap();
    assert_eq!((got.doc.as_str(), got.version), ("{\"v\":2}", 2));
    store.put("tenant#b", "{}", None).await.unwrap();
    store.put("company#c", "{}", None).await.unwrap();
    let mut keys: Vec<String> = store
        .list("tenant#")
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    keys.sort();
    assert_eq!(keys, ["tenant#a", "tenant#b"]);
}

macro_rules! tenant_contract {
    ($make:expr) => {
        contract_tests!(dyn bridge::tenants::TenantStore = $make, [
            versions_guard_every_write_and_listing_finds_by_prefix,
        ]);
    };
}

mod tenants {
    mod memory {
        tenant_contract!(async { Some(bridge::tenants::MemoryTenantStore::new()) });
    }
    mod local_file {
        tenant_contract!(async { Some(crate::local_store()) });
    }
    mod dynamodb {
        tenant_contract!(crate::on_dynamodb(
            "tenants",
            bridge::tenants::DynamoTenantStore::new
        ));
    }
}
