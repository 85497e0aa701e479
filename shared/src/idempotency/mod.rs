//! Idempotency records: every accepted event is applied once, even when it is delivered twice,
//! delivered concurrently, or retried after a failure.
//!
//! A record per event key moves from `IN_PROGRESS` (held by one attempt until `lock_until`,
//! derived from the Lambda's remaining time) to `COMPLETED` (with the answer given). A second
//! delivery of a completed event gets that answer back, marked duplicate, with no upstream
//! write. An attempt that dies leaves its lock to expire, so a later delivery or the retry
//! worker takes over.
//!
//! How long a record lives depends on what its key is made of:
//! - a key from an id the sender gave the delivery (GHL's `webhookId`, CloudTalk's `event_id`,
//!   a call's uuid or id) is kept [`RECORD_TTL_SECS`] (21 days from its last attempt: longer
//!   than the dead-letter queue keeps a parked event, 14 days, so an event redriven on its
//!   last day still finds the steps it completed, and longer than GHL's retry window and the
//!   bridge's own retries): the same id is always the same event;
//! - a key hashed from the body (workflow webhooks carry no delivery id) is kept that long while
//!   the event is pending, but once completed only `BODY_KEY_TTL_SECS` (2 hours by default,
//!   past GHL's ~70-minute redelivery horizon): after it, an identical body is a real repeat
//!   (a tag removed and added again, a second "No answer" note, a stage moved A→B→A).
//!
//! Multi-write events record each completed step (`steps`: name → id), so a retry resumes
//! after the last completed write instead of repeating it.

pub mod dynamodb;
pub mod memory;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

pub use dynamodb::DynamoIdempotencyStore;
pub use memory::MemoryIdempotencyStore;

use crate::clients::Service;
use crate::contact_map::ContactLink;
use crate::error::BridgeError;
use crate::payload::fields::find_id;
use crate::registry::{EndpointId, EventKeys};
use crate::store::StoreError;

/// How long a record is kept after its last attempt: 21 days, past the dead-letter queue's
/// 14 (its `MessageRetentionPeriod`) and the retry queue's 4 with a margin. Every attempt
/// (a claim) pushes it on, so however often an event is parked and redriven, its record
/// outlives its parked copy.
pub const RECORD_TTL_SECS: i64 = 21 * 24 * 3600;
/// The default of `BODY_KEY_TTL_SECS`: 2 hours.
pub const DEFAULT_BODY_KEY_TTL_SECS: i64 = 2 * 3600;

/// The part of a key that says it was hashed from the body.
const BODY_KEY_MARK: &str = "#body#";

/// Whether `key` was hashed from the event's body rather than taken from a delivery id.
pub fn is_body_key(key: &str) -> bool {
    key.contains(BODY_KEY_MARK)
}

/// Until when (Unix seconds) a record completed at `now_ms` answers redeliveries: see the
/// module's notes on key classes.
pub fn completed_expiry_secs(key: &str, now_ms: i64, body_key_ttl_secs: i64) -> i64 {
    let keep = match is_body_key(key) {
        true => body_key_ttl_secs,
        false => RECORD_TTL_SECS,
    };
    now_ms.div_euclid(1000) + keep
}

/// In-progress lock when the remaining invocation time is unknown.
pub const DEFAULT_LOCK_MS: i64 = 30_000;

/// The attempt that holds an event's record: every later write names it, and a write by an
/// attempt that lost the record (it outlived its lock and another took over) is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub owner: String,
    /// The record was taken from an attempt that died without releasing it: that attempt's
    /// last write may have reached the upstream without being recorded.
    pub takeover: bool,
}

/// A token no other attempt holds: process, a counter and the time.
pub fn new_owner() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{n}-{nanos:x}", std::process::id())
}

/// The result of claiming an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This attempt owns the event; `steps` are those an earlier attempt completed.
    Acquired {
        steps: BTreeMap<String, String>,
        lease: Lease,
    },
    /// The event was applied before; this is the answer that was given.
    Completed { response: Value },
    /// Another attempt is applying it right now.
    InProgress,
}

/// Claims, records and completion of events. Every write after the claim names the claim's
/// `owner` and is refused with [`StoreError::Contended`] once another attempt holds the record;
/// a write for a key with no record changes nothing.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a new owner unless it is completed or held by a live attempt.
    async fn claim(&self, key: &str, now_ms: i64, lock_until_ms: i64) -> Result<Claim, StoreError>;
    /// Records that a step completed, with the id it produced.
    async fn record_step(
        &self,
        key: &str,
        owner: &str,
        step: &str,
        value: &str,
    ) -> Result<(), StoreError>;
    /// Marks the event completed with the answer given, kept until `expires_at_secs` (Unix
    /// seconds; see [`completed_expiry_secs`]).
    async fn complete(
        &self,
        key: &str,
        owner: &str,
        response: &Value,
        expires_at_secs: i64,
    ) -> Result<(), StoreError>;
    /// Gives up the lock (keeping the steps), so the next attempt can take over at once.
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError>;
    /// Whether an unexpired record of `key` exists: the bridge has received this event before
    /// (whatever became of it). Read consistently.
    async fn seen(&self, key: &str, now_ms: i64) -> Result<bool, StoreError>;
}

/// The idempotency key of an event for endpoint `id`: GoHighLevel's `webhookId`; CloudTalk's
/// envelope `event_id`, or the call's `call_id` or `call_uuid` with the endpoint (for the
/// endpoints keyed by call); otherwise a hash of the endpoint and the canonical body. Never
/// random, so a redelivery always finds its record.
pub fn event_key(id: EndpointId, body: &Value) -> String {
    let entry = id.entry();
    let name = entry.name;
    let root = crate::payload::cloudtalk::unwrap_envelope(body);
    let sent_id = match entry.keys {
        // The bridge's own dial job: one per lead and trigger, whichever event asked for it.
        EventKeys::WebhookId if crate::payload::ghl::is_dial_job(body) => {
            crate::payload::ghl::dial_job_key(body)
        }
        EventKeys::WebhookId => {
            find_id(body, &["webhookId", "webhook_id"]).map(|id| format!("ghl-webhook#{id}"))
        }
        EventKeys::MessageId => {
            let message = find_id(root, &["messageId", "message_id", "sms_id", "smsId"]);
            let message = message.map(|id| format!("{name}#message#{id}"));
            message.or_else(|| find_id(body, &["event_id"]).map(|id| format!("{name}#event#{id}")))
        }
        EventKeys::EventId | EventKeys::CallIds => {
            let event = || find_id(body, &["event_id"]).map(|id| format!("{name}#event#{id}"));
            // One identity per call, whichever way it arrives (a workflow webhook, the signed
            // envelope, reconciliation, a redrive): the call id first, inside an envelope too,
            // since the call history has it; else the call's uuid; only then the envelope's
            // own `event_id`.
            let call = || {
                let id = find_id(root, crate::payload::cloudtalk::CALL_ID_KEYS)
                    .map(|c| format!("{name}#call-id#{c}"));
                id.or_else(|| {
                    find_id(root, crate::payload::cloudtalk::CALL_UUID_KEYS)
                        .map(|u| format!("{name}#call-uuid#{u}"))
                })
            };
            match entry.keys {
                // A call's AI data (its summary job, or CloudTalk's announcement that it is
                // ready) is the call's too, as another event: `…#call-id#<id>#insights`.
                EventKeys::CallIds if crate::payload::cloudtalk::is_insights_event(body) => {
                    call().or_else(event).map(|k| format!("{k}#insights"))
                }
                EventKeys::CallIds => call().or_else(event),
                _ => event(),
            }
        }
    };
    sent_id.unwrap_or_else(|| {
        // serde_json's map is ordered by key, so this text is canonical.
        let digest = crate::digest::sha256(format!("{name}\n{body}").as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("{name}{BODY_KEY_MARK}{hex}")
    })
}

/// The key an event for endpoint `id` is applied under, in `tenant`'s space: the one key of
/// every way in (webhook, follow-up job, reconciliation, fan-out page), so that one event,
/// whichever way it arrives, is applied once.
///
/// A tenant's keys carry its location; the deployment's own (default) tenant keeps its keys as
/// they are, so a single-location deployment needs no migration.
pub fn key_of(tenant: Option<&str>, id: EndpointId, body: &Value) -> String {
    let key = event_key(id, body);
    match tenant {
        Some(tenant) => format!("tenant#{tenant}#{key}"),
        None => key,
    }
}

/// The completed steps of the event being applied; see [`Steps::run`].
pub struct Steps {
    key: Option<String>,
    owner: String,
    done: BTreeMap<String, String>,
    store: Option<Arc<dyn IdempotencyStore>>,
    /// The attempt took the event over from one that died: the next write may already have
    /// been applied by it, so steps that can read back check before writing.
    uncertain: bool,
    /// The link through which the attempt found the contact it writes to, and the side whose
    /// contact that is: if that contact turns out to be gone, this link is stale.
    via_link: Option<(ContactLink, Service)>,
    /// A linked contact found gone: resolving never returns it again.
    replacing: Option<String>,
    /// Stale links healed while applying the event.
    relinked: u32,
}

impl Steps {
    pub fn new(
        key: &str,
        done: BTreeMap<String, String>,
        lease: Lease,
        store: Arc<dyn IdempotencyStore>,
    ) -> Self {
        Self {
            key: Some(key.to_string()),
            owner: lease.owner,
            done,
            store: Some(store),
            uncertain: lease.takeover,
            via_link: None,
            replacing: None,
            relinked: 0,
        }
    }

    /// Steps that are not recorded anywhere (unit tests, one-off runs).
    pub fn untracked() -> Self {
        Self {
            key: None,
            owner: String::new(),
            done: BTreeMap::new(),
            store: None,
            uncertain: false,
            via_link: None,
            replacing: None,
            relinked: 0,
        }
    }

    /// True when no earlier attempt of this event completed any step.
    pub fn is_fresh(&self) -> bool {
        self.done.is_empty()
    }

    /// The value of a completed step.
    pub fn get(&self, step: &str) -> Option<&str> {
        self.done.get(step).map(String::as_str)
    }

    /// Notes that the contact being written to was found through `link`, on `side`.
    pub fn found_via(&mut self, link: ContactLink, side: Service) {
        self.via_link = Some((link, side));
    }

    /// The link the contact being written to was found through, taken (a link is healed once).
    pub fn take_link(&mut self) -> Option<(ContactLink, Service)> {
        self.via_link.take()
    }

    /// Readies the event to resolve its contact again after the linked contact `gone`
    /// vanished: `gone` is never resolved to again, and a contact step recorded for it is
    /// dropped (a new one is recorded over it).
    pub fn replace_gone(&mut self, gone: String, contact_step: &str) {
        self.done.remove(contact_step);
        self.replacing = Some(gone);
        self.relinked += 1;
    }

    /// The contact found gone, which resolving must not return.
    pub fn replacing(&self) -> Option<&str> {
        self.replacing.as_deref()
    }

    /// How many stale links were healed.
    pub fn relinked(&self) -> u32 {
        self.relinked
    }

    /// Records a step as completed.
    pub async fn record(&mut self, step: &str, value: &str) -> Result<(), BridgeError> {
        if let (Some(key), Some(store)) = (&self.key, &self.store) {
            store.record_step(key, &self.owner, step, value).await?;
        }
        self.done.insert(step.to_string(), value.to_string());
        Ok(())
    }

    /// Like [`Steps::run`], for a step whose value has several parts: it is recorded as JSON.
    /// `legacy` reads a value recorded in an older text form (records outlive a deploy).
    pub async fn run_typed<T, F, Fut>(
        &mut self,
        step: &str,
        legacy: fn(&str) -> Option<T>,
        write: F,
    ) -> Result<T, BridgeError>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, BridgeError>>,
    {
        if let Some(done) = self.done.get(step) {
            if let Some(value) = serde_json::from_str(done).ok().or_else(|| legacy(done)) {
                return Ok(value);
            }
        }
        let value = write().await?;
        let text = serde_json::to_string(&value)
            .map_err(|e| BridgeError::Config(format!("recording step {step}: {e}")))?;
        self.record(step, &text).await?;
        Ok(value)
    }

    /// The marker the bridge puts in what step `step` writes (a note's trailing reference, an
    /// activity's `external_id`), so that a read-back finds exactly that write: a short hash
    /// of the event key and the step.
    pub fn marker(&self, step: &str) -> Option<String> {
        let key = self.key.as_deref()?;
        let digest = crate::digest::sha256(format!("{key}\n{step}").as_bytes());
        Some(digest.iter().take(5).map(|b| format!("{b:02x}")).collect())
    }

    /// The step's marker as a number, for a field the vendor types as an integer (CloudTalk's
    /// activity `external_id`): the same hash as [`Steps::marker`], read as a positive 31-bit
    /// integer (within any signed 32-bit column), never 0.
    pub fn numeric_marker(&self, step: &str) -> Option<u32> {
        let key = self.key.as_deref()?;
        let digest = crate::digest::sha256(format!("{key}\n{step}").as_bytes());
        let mut bytes = [0u8; 4];
        bytes.copy_from_slice(&digest[..4]);
        Some((u32::from_be_bytes(bytes) & 0x7fff_ffff).max(1))
    }

    /// `text` with the step's marker as a trailing reference (unchanged for untracked steps).
    pub fn marked(&self, step: &str, text: &str) -> String {
        match self.marker(step) {
            Some(marker) => format!("{text}\n[ref {marker}]"),
            None => text.to_string(),
        }
    }

    /// Like [`Steps::run`], for a write whose outcome can be unknown: one that timed out after
    /// it was sent, or the first write of an attempt that took over from one that died. Such a
    /// write is never repeated blindly: `read_back` looks first for what the earlier try may
    /// have written (by its [`Steps::marker`]), and only when it finds nothing is the write
    /// made again.
    pub async fn run_checked<R, RFut, F, Fut>(
        &mut self,
        step: &str,
        read_back: R,
        write: F,
    ) -> Result<String, BridgeError>
    where
        R: FnOnce() -> RFut,
        RFut: std::future::Future<Output = Result<Option<String>, BridgeError>>,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<String, BridgeError>>,
    {
        if let Some(value) = self.done.get(step) {
            return Ok(value.clone());
        }
        let unknown = format!("{step}?");
        if self.uncertain || self.done.contains_key(&unknown) {
            if let Some(found) = read_back().await? {
                self.record(step, &found).await?;
                return Ok(found);
            }
        }
        match write().await {
            Ok(value) => {
                self.record(step, &value).await?;
                Ok(value)
            }
            Err(BridgeError::Upstream(e)) if e.outcome_unknown() => {
                // Whether it was applied is for the next attempt to read back.
                self.record(&unknown, "sent").await?;
                Err(BridgeError::Upstream(e))
            }
            Err(e) => Err(e),
        }
    }

    /// Runs a write once per event: a step completed by an earlier attempt returns its recorded
    /// value without running again; otherwise `write` runs and its value is recorded.
    pub async fn run<F, Fut>(&mut self, step: &str, write: F) -> Result<String, BridgeError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<String, BridgeError>>,
    {
        if let Some(value) = self.done.get(step) {
            return Ok(value.clone());
        }
        let value = write().await?;
        self.record(step, &value).await?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_tenants_key_carries_its_location_and_the_default_tenants_does_not() {
        let body = json!({"call_id": 777, "status": "answered"});
        let id = EndpointId::CloudtalkCallEnded;
        let own = key_of(None, id, &body);
        assert_eq!(own, event_key(id, &body));
        assert_eq!(
            key_of(Some("loc_b"), id, &body),
            format!("tenant#loc_b#{own}")
        );
        assert_ne!(
            key_of(Some("loc_a"), id, &body),
            key_of(Some("loc_b"), id, &body)
        );
    }

    #[test]
    fn keys_prefer_sender_ids_and_are_never_random() {
        use EndpointId as E;
        assert_eq!(
            event_key(E::GhlNewTag, &json!({"webhookId": "w-1", "x": 1})),
            "ghl-webhook#w-1"
        );
        assert_eq!(
            event_key(
                E::CloudtalkCallEnded,
                &json!({"Call_uuid": "u-1", "call_id": 5})
            ),
            "cloudtalk-call-ended#call-id#5",
            "the call id, which the call history has too"
        );
        assert_eq!(
            event_key(E::CloudtalkCallEnded, &json!({"call_uuid": "u-1"})),
            "cloudtalk-call-ended#call-uuid#u-1"
        );
        assert_eq!(
            event_key(E::CloudtalkCallStarted, &json!({"call_id": 5})),
            "cloudtalk-call-started#call-id#5"
        );
        assert_eq!(
            event_key(
                E::CloudtalkGeneric,
                &json!({"event_id": "e1", "call_id": 5})
            ),
            "cloudtalk-generic#event#e1"
        );
        assert!(
            event_key(E::CloudtalkGeneric, &json!({"call_id": 5}))
                .starts_with("cloudtalk-generic#body#"),
            "generic events are not keyed by call"
        );
        // The same call on two endpoints is two events.
        assert_ne!(
            event_key(E::CloudtalkCallStarted, &json!({"call_id": 5})),
            event_key(E::CloudtalkCallEnded, &json!({"call_id": 5}))
        );
        let a = event_key(
            E::GhlNewNote,
            &json!({"contact": {"id": "1"}, "note": {"body": "x"}}),
        );
        let b = event_key(
            E::GhlNewNote,
            &json!({"note": {"body": "x"}, "contact": {"id": "1"}}),
        );
        assert_eq!(a, b, "key order does not matter");
        assert!(a.starts_with("ghl-new-note#body#"));
        assert_ne!(
            a,
            event_key(
                E::GhlNewNote,
                &json!({"contact": {"id": "1"}, "note": {"body": "y"}})
            )
        );
    }

    #[tokio::test]
    async fn steps_run_once() {
        let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryIdempotencyStore::new());
        let Claim::Acquired { steps, lease } = store.claim("k", 0, 1_000).await.unwrap() else {
            panic!()
        };
        let owner = lease.owner.clone();
        let mut s = Steps::new("k", steps, lease, store.clone());
        let mut runs = 0;
        let v = s
            .run("note", || {
                runs += 1;
                async { Ok("n1".to_string()) }
            })
            .await
            .unwrap();
        assert_eq!(v, "n1");
        store.release("k", &owner).await.unwrap();
        // A later attempt takes over and skips the completed step.
        let Claim::Acquired { steps, lease } = store.claim("k", 10, 1_000).await.unwrap() else {
            panic!()
        };
        let mut s = Steps::new("k", steps, lease, store.clone());
        let v = s
            .run("note", || {
                runs += 1;
                async { Ok("n2".to_string()) }
            })
            .await
            .unwrap();
        assert_eq!((v.as_str(), runs), ("n1", 1));
    }

    #[tokio::test]
    async fn typed_steps_round_trip_and_read_the_legacy_form() {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Found {
            id: String,
            new: bool,
        }
        fn legacy(text: &str) -> Option<Found> {
            let (flag, id) = text.split_once('|')?;
            Some(Found {
                id: id.into(),
                new: flag == "new",
            })
        }
        let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryIdempotencyStore::new());
        let mut done = BTreeMap::new();
        done.insert("old".to_string(), "new|g-1".to_string());
        let lease = Lease {
            owner: "o".into(),
            takeover: false,
        };
        let mut s = Steps::new("k", done, lease, store);
        let write = || async { panic!("recorded steps do not run again") };
        let old: Found = s.run_typed("old", legacy, write).await.unwrap();
        assert_eq!(
            old,
            Found {
                id: "g-1".into(),
                new: true
            }
        );
        let fresh = s
            .run_typed("fresh", legacy, || async {
                Ok(Found {
                    id: "g-2".into(),
                    new: false,
                })
            })
            .await
            .unwrap();
        assert_eq!(fresh.id, "g-2");
        assert_eq!(s.get("fresh"), Some(r#"{"id":"g-2","new":false}"#));
    }

    fn timed_out() -> BridgeError {
        BridgeError::Upstream(crate::clients::UpstreamError::Transport {
            service: crate::clients::Service::CloudTalk,
            operation: "add note",
            message: "request timed out".into(),
            timed_out: true,
        })
    }

    #[tokio::test]
    async fn a_write_whose_answer_was_lost_is_read_back_not_repeated() {
        let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryIdempotencyStore::new());
        let Claim::Acquired { steps, lease } = store.claim("k", 0, 1_000).await.unwrap() else {
            panic!()
        };
        let owner = lease.owner.clone();
        let mut s = Steps::new("k", steps, lease, store.clone());
        let marker = s.marker("note").unwrap();
        assert_eq!(s.marked("note", "hello"), format!("hello\n[ref {marker}]"));
        // The write times out after it was sent: its outcome is unknown.
        let first = s
            .run_checked("note", || async { Ok(None) }, || async { Err(timed_out()) })
            .await;
        assert!(first.is_err());
        store.release("k", &owner).await.unwrap();
        // The retry reads back first and finds the note: it is not written again.
        let Claim::Acquired { steps, lease } = store.claim("k", 10, 1_000).await.unwrap() else {
            panic!()
        };
        let mut s = Steps::new("k", steps, lease, store.clone());
        let found = s
            .run_checked(
                "note",
                || async { Ok(Some("note-7".to_string())) },
                || async { panic!("a write whose outcome is unknown is never repeated blindly") },
            )
            .await
            .unwrap();
        assert_eq!(found, "note-7");
        // When the read-back finds nothing, the write is made.
        let mut fresh = Steps::new(
            "k2",
            [("note?".to_string(), "sent".to_string())].into(),
            Lease {
                owner: "o".into(),
                takeover: false,
            },
            store.clone(),
        );
        let written = fresh
            .run_checked(
                "note",
                || async { Ok(None) },
                || async { Ok("note-8".into()) },
            )
            .await
            .unwrap();
        assert_eq!(written, "note-8");
    }
}
