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

/// Attempts before an event is parked (the first, in-request attempt included).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 6;

/// An event waiting for another attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedEvent {
    /// The endpoint that applies it (serialised as its function name, e.g. `ghl-new-contact`).
    #[serde(rename = "function")]
    pub endpoint: EndpointId,
    /// The webhook body as received.
    pub body: String,
    /// Its idempotency key.
    pub key: String,
    /// Attempts made so far.
    pub attempt: u32,
    pub first_received_at: String,
    /// Why the last attempt failed (no personal data: codes and upstream messages, masked).
    pub last_error: Option<String>,
    /// Set on the copy parked on the dead-letter queue. A parked event that an operator
    /// redrives starts its attempts afresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked_at: Option<String>,
}

/// The delay before attempt `attempt + 1`: exponential from 30 s, at least what the upstream
/// asked for, at most SQS's 15 minutes, with jitter.
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
    fn kind(&self) -> &'static str;
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
    fn kind(&self) -> &'static str {
        "none"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
