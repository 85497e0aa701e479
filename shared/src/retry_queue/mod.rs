//! The retry queue and the dead-letter queue.
//!
//! When an event cannot be applied now (an upstream is rate limited or down, DynamoDB fails)
//! and the in-request retries have used their time budget, the event is put on the retry queue
//! with a delay, and the sender gets a 2xx once it is durably queued. The retry worker runs it
//! again through the same code. An event that fails for good (an upstream refused it) or that
//! has used all its attempts is parked on the dead-letter queue with its reason.

pub mod memory;
pub mod sqs;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use memory::MemoryRetryQueue;
pub use sqs::SqsRetryQueue;

use crate::registry::EndpointId;
use crate::store::StoreError;

/// Attempts before an event is parked (the first, in-request attempt included): the first and
/// one after each delay of [`FAILURE_SCHEDULE_SECS`].
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// After the n-th failed attempt the next comes `FAILURE_SCHEDULE_SECS[n - 1]` later (Svix's
/// schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), so an outage of about a day is ridden
/// out before an event is parked. Only real failures (5xx, timeouts, connection errors) use
/// an attempt; rate limits, the shared budget and the deadline only make the event wait.
pub const FAILURE_SCHEDULE_SECS: [u64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/// SQS delays a message 15 minutes at most; longer waits are chained (`not_before_ms`).
pub const MAX_QUEUE_DELAY_SECS: u64 = 900;

/// An event that has only waited (rate limits) this long is parked: SQS keeps a message 4 days.
pub const MAX_WAITING_SECS: i64 = 2 * 24 * 3600;

/// An event waiting for another attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedEvent {
    /// The endpoint that applies it (serialised as its function name, e.g. `ghl-new-contact`).
    #[serde(rename = "function")]
    pub endpoint: EndpointId,
    /// The webhook body as received (empty when it is kept aside: `body_ref`).
    pub body: String,
    /// Where a body too large for a queue message is kept (see [`offload`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_ref: Option<String>,
    /// Its idempotency key.
    pub key: String,
    /// Attempts that failed so far (waits for a rate limit or the deadline do not count).
    pub attempt: u32,
    pub first_received_at: String,
    /// Why the last attempt failed (no personal data: codes and upstream messages, masked).
    pub last_error: Option<String>,
    /// Set on the copy parked on the dead-letter queue. A parked event that an operator
    /// redrives starts its attempts afresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked_at: Option<String>,
    /// Not to be applied before this time (epoch ms): a wait longer than SQS's delay is a chain
    /// of delays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before_ms: Option<i64>,
    /// The tenant (GHL location) it is for; absent for the deployment's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// How the webhook was authenticated when it was received; absent for work the bridge
    /// started itself (reconciliation) and for events queued before it was recorded. The worker
    /// applies an install only when it came with GoHighLevel's signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<crate::signature::Credential>,
}

impl QueuedEvent {
    /// An event about to get its first attempt, received (or started by the bridge) now.
    pub fn fresh(
        endpoint: EndpointId,
        body: String,
        key: String,
        tenant: Option<String>,
        credential: Option<crate::signature::Credential>,
        now_ms: i64,
    ) -> Self {
        Self {
            endpoint,
            body,
            body_ref: None,
            key,
            attempt: 0,
            first_received_at: crate::clock::rfc3339(now_ms),
            last_error: None,
            parked_at: None,
            not_before_ms: None,
            tenant,
            credential,
        }
    }
}

/// A number in `[0, 1)` that differs from event to event and attempt to attempt, so that the
/// retries of a burst are spread instead of coming back in waves.
fn spread(key: &str, salt: i64) -> f64 {
    let digest = crate::digest::sha256(format!("{key}\n{salt}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// The wait after the `failures`-th failed attempt: the schedule's delay, from half to one
/// and a half times it, and at least what the upstream asked for.
pub fn failure_delay_secs(failures: u32, upstream_hint: Option<u64>, key: &str) -> u64 {
    let index = (failures.max(1) as usize - 1).min(FAILURE_SCHEDULE_SECS.len() - 1);
    let base = FAILURE_SCHEDULE_SECS[index] as f64;
    let delay = (base * (0.5 + spread(key, i64::from(failures)))).round() as u64;
    delay.max(upstream_hint.unwrap_or(0)).max(1)
}

/// The wait for a rate limit or the shared budget: the turn the budget gave (or the
/// upstream's reset), and up to a tenth more.
pub fn wait_delay_secs(hint_secs: u64, key: &str, salt: i64) -> u64 {
    let hint = hint_secs.max(1);
    hint + (hint as f64 * 0.1 * spread(key, salt)).round() as u64
}

/// The delay before the first retry, for callers that answer "try later" themselves.
pub fn backoff_secs(attempt: u32, upstream_hint: Option<u64>) -> u32 {
    let exponential = 30u64.saturating_mul(1 << attempt.saturating_sub(1).min(5));
    let jitter = u64::from(chrono::Utc::now().timestamp_subsec_millis() % 10);
    (exponential.max(upstream_hint.unwrap_or(0)) + jitter).min(900) as u32
}

#[async_trait]
pub trait RetryQueue: Send + Sync {
    /// Queues an event for another attempt after `delay_secs`.
    async fn enqueue(&self, event: &QueuedEvent, delay_secs: u32) -> Result<(), StoreError>;
    /// Parks an event on the dead-letter queue with the reason it could not be applied.
    async fn park(&self, event: &QueuedEvent, reason: &str) -> Result<(), StoreError>;
    /// Parks a message that is not a queued event this version can read, as it is, with the
    /// reason (`redrive` leaves such messages where they are, for an operator).
    async fn park_raw(&self, body: &str, reason: &str) -> Result<(), StoreError>;
    /// Keeps the messages being worked on (by their receipt handles) invisible for `secs` from
    /// now: the worker's lease on its batch (SQS's `ChangeMessageVisibility`; see
    /// [`crate::worker::handle_batch`]). When the invocation dies, its messages come back when
    /// the lease ends rather than after the queue's whole visibility timeout. Queues that do not
    /// hand messages out this way have nothing to do.
    async fn lease(&self, receipt_handles: &[String], secs: u32) -> Result<(), StoreError> {
        let _ = (receipt_handles, secs);
        Ok(())
    }
    fn kind(&self) -> &'static str;
}

/// The largest queue message the bridge sends. SQS counts the body and the message attributes
/// against the queue's `MaximumMessageSize`: 256 KiB unless set higher (the template sets it
/// explicitly). A body of the largest size a webhook may have (256 KiB) grows when escaped
/// into the queued event's JSON (every `"` and `\` doubles), so an event above this size keeps
/// its body in the state table and the message carries a reference ([`Offloading`]).
pub const MAX_MESSAGE_BYTES: usize = 192 * 1024;

/// How long a body kept aside lives: longer than the retry queue's 4 days plus the dead-letter
/// queue's 14, with a margin. Each time the worker queues the event again the body is kept
/// again, from that day.
pub const KEPT_BODY_SECS: i64 = 21 * 24 * 3600;

/// A retry queue whose messages never exceed [`MAX_MESSAGE_BYTES`]: a larger event's body is
/// written to the state table (`event#queued-body#…`, with a TTL) and the message carries its
/// reference (`body_ref`), read back by the worker ([`load_body`]).
pub struct Offloading {
    pub inner: std::sync::Arc<dyn RetryQueue>,
    pub state: std::sync::Arc<dyn crate::state::StateStore>,
}

impl Offloading {
    async fn fit(&self, event: &QueuedEvent) -> Result<QueuedEvent, StoreError> {
        let size = serde_json::to_string(event)
            .map(|s| s.len())
            .map_err(|e| StoreError::new(e.to_string()))?;
        if size <= MAX_MESSAGE_BYTES || event.body.is_empty() {
            return Ok(event.clone());
        }
        let id = kept_body_id(&event.key, &event.body);
        let now = chrono::Utc::now();
        self.state
            .put_event(&crate::state::StoredEvent {
                id: id.clone(),
                route: event.endpoint.name().to_string(),
                received_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                body: event.body.clone(),
                expires_at: now.timestamp() + KEPT_BODY_SECS,
            })
            .await?;
        let mut small = event.clone();
        small.body = String::new();
        small.body_ref = Some(id);
        Ok(small)
    }
}

#[async_trait]
impl RetryQueue for Offloading {
    async fn enqueue(&self, event: &QueuedEvent, delay_secs: u32) -> Result<(), StoreError> {
        self.inner
            .enqueue(&self.fit(event).await?, delay_secs)
            .await
    }
    async fn park(&self, event: &QueuedEvent, reason: &str) -> Result<(), StoreError> {
        self.inner.park(&self.fit(event).await?, reason).await
    }
    async fn park_raw(&self, body: &str, reason: &str) -> Result<(), StoreError> {
        self.inner.park_raw(body, reason).await
    }
    async fn lease(&self, receipt_handles: &[String], secs: u32) -> Result<(), StoreError> {
        self.inner.lease(receipt_handles, secs).await
    }
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
}

/// Where the body of the event keyed `key` is kept aside: a hash of the key and the body, so
/// the reference binds the body to its event (and its tenant, which the key carries).
fn kept_body_id(key: &str, body: &str) -> String {
    let digest = crate::digest::sha256(format!("{key}\n{body}").as_bytes());
    let id: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("queued-body#{id}")
}

impl QueuedEvent {
    /// Why the event's key and tenant disagree, if they do: a tenant's keys carry its location
    /// (`tenant#<location>#…`), the deployment's own never do. Such an event is never applied.
    pub fn binding_error(&self) -> Option<String> {
        let in_key = self
            .key
            .strip_prefix("tenant#")
            .and_then(|rest| rest.split_once('#'))
            .map(|(tenant, _)| tenant);
        match (in_key, self.tenant.as_deref()) {
            (a, b) if a == b => None,
            (a, b) => Some(format!(
                "the queued event's key is {}'s, its tenant {}",
                a.unwrap_or("the deployment"),
                b.unwrap_or("the deployment")
            )),
        }
    }
}

/// Puts back the body of an event whose body was kept aside. `Err` says why it cannot be read
/// (the event is then parked with that reason).
pub async fn load_body(
    state: &dyn crate::state::StateStore,
    event: &mut QueuedEvent,
) -> Result<(), String> {
    let Some(id) = event.body_ref.clone() else {
        return Ok(());
    };
    match state.get_event(&id).await {
        // The reference names a hash of the event's key and the body: a body kept for another
        // event (another key, so another tenant) is never read as this one's.
        Ok(Some(kept)) if kept_body_id(&event.key, &kept.body) != id => Err(format!(
            "the queued body {id} does not belong to this event's key"
        )),
        Ok(Some(kept)) if kept.route != event.endpoint.name() => Err(format!(
            "the queued body {id} was kept for {}, not {}",
            kept.route, event.endpoint
        )),
        Ok(Some(kept)) => {
            event.body = kept.body;
            event.body_ref = None;
            Ok(())
        }
        Ok(None) => Err(format!("the queued body {id} is no longer kept")),
        Err(e) => Err(format!("the queued body {id} could not be read: {e}")),
    }
}

/// No queue configured (local runs): nothing can be queued, so senders are asked to retry.
#[derive(Debug, Default)]
pub struct NoRetryQueue;

#[async_trait]
impl RetryQueue for NoRetryQueue {
    async fn enqueue(&self, _: &QueuedEvent, _: u32) -> Result<(), StoreError> {
        Err(StoreError::new(
            "no retry queue is configured (RETRY_QUEUE_URL)",
        ))
    }
    async fn park(&self, event: &QueuedEvent, reason: &str) -> Result<(), StoreError> {
        tracing::error!(endpoint = %event.endpoint, key = %event.key, reason, "event could not be applied and no dead-letter queue is configured");
        Err(StoreError::new(
            "no dead-letter queue is configured (DEAD_LETTER_QUEUE_URL)",
        ))
    }
    async fn park_raw(&self, _: &str, reason: &str) -> Result<(), StoreError> {
        tracing::error!(
            reason,
            "a message could not be read and no dead-letter queue is configured"
        );
        Err(StoreError::new(
            "no dead-letter queue is configured (DEAD_LETTER_QUEUE_URL)",
        ))
    }
    fn kind(&self) -> &'static str {
        "none"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_event_s_key_and_tenant_agree() {
        let event = |key: &str, tenant: Option<&str>| {
            QueuedEvent::fresh(
                EndpointId::GhlNewNote,
                "{}".into(),
                key.into(),
                tenant.map(str::to_string),
                None,
                0,
            )
        };
        assert_eq!(event("ghl-webhook#1", None).binding_error(), None);
        assert_eq!(
            event("tenant#loc_a#ghl-webhook#1", Some("loc_a")).binding_error(),
            None
        );
        assert!(event("tenant#loc_a#ghl-webhook#1", Some("loc_b"))
            .binding_error()
            .is_some());
        assert!(event("tenant#loc_a#ghl-webhook#1", None)
            .binding_error()
            .is_some());
        assert!(event("ghl-webhook#1", Some("loc_a"))
            .binding_error()
            .is_some());
    }

    #[test]
    fn backoff_grows_and_respects_hints_and_the_sqs_cap() {
        assert!((30..40).contains(&backoff_secs(1, None)));
        assert!((60..70).contains(&backoff_secs(2, None)));
        assert!((480..490).contains(&backoff_secs(5, None)));
        assert_eq!(backoff_secs(30, None), 900);
        assert!((120..130).contains(&backoff_secs(1, Some(120))));
        assert_eq!(backoff_secs(1, Some(5000)), 900);
    }
}
