//! The retry worker: runs queued events again through the same code as the webhook routes.
//!
//! Fed by the retry queue (SQS event source). For each message: a completed event is a
//! duplicate and is dropped; otherwise it is applied with the steps earlier attempts recorded.
//! A retryable failure is queued again with a longer delay, until `RETRY_MAX_ATTEMPTS`, then
//! parked on the dead-letter queue with its reason; a permanent failure is parked at once. Only
//! when even that fails is the message reported as a batch item failure, so SQS delivers it
//! again (and, after the queue's `maxReceiveCount`, moves it to the dead-letter queue itself).

pub use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

/// The Lambda function that runs this worker.
pub use crate::registry::RETRY_WORKER_FUNCTION as FUNCTION;

use crate::deps::Deps;
use crate::pipeline::apply::{apply_once, defer, Handled};
use crate::retry_queue::QueuedEvent;

/// Lock held by a worker attempt.
const WORKER_LOCK_MS: i64 = 60_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerResult {
    Done {
        duplicate: bool,
    },
    Requeued {
        delay_secs: u32,
    },
    Parked {
        reason: String,
    },
    /// Neither applied nor queued nor parked: SQS must deliver the message again.
    Failed {
        message: String,
    },
}

/// Parks a queued event that can no longer be read, with the reason.
async fn park_unreadable(deps: &Deps, event: &QueuedEvent, reason: String) -> WorkerResult {
    match deps.retry_queue.park(event, &reason).await {
        Ok(()) => WorkerResult::Parked { reason },
        Err(e) => WorkerResult::Failed {
            message: e.message().to_string(),
        },
    }
}

/// Runs one queued event.
pub async fn process(deps: &Deps, mut event: QueuedEvent) -> WorkerResult {
    if event.parked_at.take().is_some() {
        // An operator redrove it from the dead-letter queue: it gets its attempts afresh.
        event.attempt = 0;
    }
    event.attempt += 1;
    let body: serde_json::Value = match serde_json::from_str(&event.body) {
        Ok(body) => body,
        Err(_) => return park_unreadable(deps, &event, "the queued body is not JSON".into()).await,
    };
    let prepared = match crate::handlers::handler(event.endpoint).prepare(&body) {
        Ok(prepared) => prepared,
        Err(e) => {
            let reason = format!("the queued event no longer parses: {e}");
            return park_unreadable(deps, &event, reason).await;
        }
    };
    let lock_until = deps.clock.now_ms() + WORKER_LOCK_MS;
    let (id, attempt, key) = (event.endpoint, event.attempt, event.key.clone());
    let result = match apply_once(deps, id, prepared.as_ref(), &key, lock_until).await {
        Ok(Handled::Duplicate(_)) => WorkerResult::Done { duplicate: true },
        Ok(_) => WorkerResult::Done { duplicate: false },
        Err(error) => match defer(deps, event, error).await {
            Ok(Handled::Queued { delay_secs, .. }) => WorkerResult::Requeued { delay_secs },
            Ok(Handled::Parked { reason, .. }) => WorkerResult::Parked { reason },
            Ok(_) => WorkerResult::Done { duplicate: false },
            Err(e) => WorkerResult::Failed {
                message: e.public_message(),
            },
        },
    };
    log(id, attempt, &result);
    result
}

/// The worker's one `retry` line per queued event.
fn log(id: crate::registry::EndpointId, attempt: u32, result: &WorkerResult) {
    match result {
        WorkerResult::Done { duplicate } => {
            tracing::info!(endpoint = %id, attempt, outcome = if *duplicate { "duplicate" } else { "applied" }, "retry")
        }
        WorkerResult::Requeued { delay_secs } => {
            tracing::warn!(endpoint = %id, attempt, outcome = "queued", retry_in_secs = delay_secs, "retry")
        }
        WorkerResult::Parked { reason } => {
            tracing::error!(endpoint = %id, attempt, outcome = "parked", reason = %reason, "retry")
        }
        WorkerResult::Failed { message } => {
            tracing::error!(endpoint = %id, attempt, outcome = "failed", detail = %message, "retry")
        }
    }
}

/// Runs an SQS batch one message at a time (CloudTalk allows 60 requests a minute), reporting
/// the messages SQS must deliver again.
pub async fn handle_batch(deps: &Deps, batch: SqsEvent) -> SqsBatchResponse {
    deps.secrets.refresh_if_due().await;
    let mut response = SqsBatchResponse::default();
    for record in batch.records {
        let id = record.message_id.clone().unwrap_or_default();
        let event = record
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<QueuedEvent>(b).ok());
        let Some(event) = event else {
            tracing::error!(message_id = %id, "retry queue message is not a queued event; dropped");
            continue;
        };
        if let WorkerResult::Failed { .. } = process(deps, event).await {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}
