//! The retry worker: runs queued events again through the same code as the webhook routes.
//!
//! Fed by the retry queue (SQS event source). For each message: a completed event is a
//! duplicate and is dropped; an event whose wait is longer than SQS's 15-minute delay goes back
//! for the rest of it; otherwise it is applied with the steps earlier attempts recorded, under
//! the same deadline as a webhook. A failure is queued again (see
//! [`crate::pipeline::apply::defer`]) or parked; only when even that fails is the message
//! reported as a batch item failure, so SQS delivers it again (and, after the queue's
//! `maxReceiveCount`, moves it to the dead-letter queue itself).
//!
//! Before each message the worker checks the time left in its invocation: the messages it
//! cannot finish in time go back on the retry queue at once, untouched (a batch item failure
//! only if that fails), so the Lambda timeout never cuts a batch in half.
//!
//! The worker leases its batch: SQS hands the messages out for the queue's visibility timeout
//! (360 s, six times the worker's timeout, as AWS advises for throttled invocations), and the
//! worker shortens that at once to [`LEASE_SECS`], renewed every [`RENEW_EVERY`] while the
//! invocation runs. An invocation that dies (killed, out of memory, timed out) stops renewing,
//! so its messages come back [`LEASE_SECS`] after its last renewal, not 6 minutes later; so do
//! the messages it hands back as batch item failures. A lease that cannot be taken or renewed
//! is logged and the batch goes on: the messages then keep the visibility they have.

pub use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};

/// The Lambda function that runs this worker.
pub use crate::registry::RETRY_WORKER_FUNCTION as FUNCTION;

use std::time::Duration;

use crate::clients::CallCounts;
use crate::deadline::Deadline;
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::payload::NamedContacts;
use crate::pipeline::apply::{apply_once, defer, run_follow_ups, Handled};
use crate::retry_queue::{QueuedEvent, MAX_QUEUE_DELAY_SECS};

/// The in-progress lock outlives a message's deadline by this much.
const LOCK_MARGIN_MS: i64 = 5_000;
/// Time kept after a message for queueing it again.
const REQUEUE_RESERVE: Duration = Duration::from_millis(1_500);
/// The most an invocation spends making an import's contacts together.
const IMPORT_TIME: Duration = Duration::from_secs(30);
/// What it keeps after that, to apply each lead's event (each quick by then).
const AFTER_IMPORT: Duration = Duration::from_secs(20);
/// How long the worker's lease keeps its batch's messages from others, from each renewal.
pub const LEASE_SECS: u32 = 30;
/// How often the lease is renewed while the invocation runs: two renewals may fail before the
/// messages come back while they are still being worked on.
pub const RENEW_EVERY: Duration = Duration::from_secs(10);
/// The longest one lease call may take before it is left (the next renewal tries again).
const LEASE_CALL_LIMIT: Duration = Duration::from_secs(3);

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

/// Sends an event back for the rest of a wait longer than SQS allows in one delay.
async fn wait_more(deps: &Deps, event: QueuedEvent, wait_ms: i64) -> WorkerResult {
    let delay_secs = (wait_ms as u64).div_ceil(1000).min(MAX_QUEUE_DELAY_SECS) as u32;
    match deps.retry_queue.enqueue(&event, delay_secs).await {
        Ok(()) => WorkerResult::Requeued { delay_secs },
        Err(e) => WorkerResult::Failed {
            message: e.message().to_string(),
        },
    }
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

/// What [`defer`] made of a failure, as the worker reports it.
async fn deferred(deps: &Deps, event: QueuedEvent, error: BridgeError) -> WorkerResult {
    match defer(deps, event, error).await {
        Ok(Handled::Queued { delay_secs, .. }) => WorkerResult::Requeued { delay_secs },
        Ok(Handled::Parked { reason, .. }) => WorkerResult::Parked { reason },
        Ok(_) => WorkerResult::Done { duplicate: false },
        Err(e) => WorkerResult::Failed {
            message: e.public_message(),
        },
    }
}

/// Runs one queued event, for its tenant. It passes admission again first (see
/// [`crate::admission::readmit`]): its tenant, read now, must exist and be active, and the
/// credential it was received with must allow what it does. An event that may not act is
/// parked with the reason (`tenant_disabled`, `unknown_tenant`, ...): never applied, never
/// dropped, so that it can be redriven once its tenant is served again.
pub async fn process(deps: &Deps, mut event: QueuedEvent) -> WorkerResult {
    let (id, attempt) = (event.endpoint, event.attempt);
    if let Some(reason) = event.binding_error() {
        let result = park_unreadable(deps, &event, reason).await;
        return logged(deps, id, attempt, &event.body, result);
    }
    if let Err(reason) = crate::retry_queue::load_body(deps.state.as_ref(), &mut event).await {
        let result = park_unreadable(deps, &event, reason).await;
        return logged(deps, id, attempt, &event.body, result);
    }
    let admitted = match crate::admission::check_credential(event.endpoint, event.credential) {
        Ok(()) => crate::admission::readmit(deps, event.tenant.as_deref()).await,
        Err(e) => Err(e),
    };
    let body = event.body.clone();
    let tenancy = match admitted {
        Ok(tenancy) => tenancy,
        Err(e) if e.is_retryable() => {
            let result = deferred(deps, event, e).await;
            return logged(deps, id, attempt, &body, result);
        }
        Err(e) => {
            let reason = format!("{}: {}", e.code(), e.public_message());
            let result = park_unreadable(deps, &event, reason).await;
            return logged(deps, id, attempt, &body, result);
        }
    };
    match crate::admission::deployment(deps, &tenancy).await {
        Ok(Some(tenant_deps)) => process_for(&tenant_deps, event).await,
        Ok(None) => process_for(deps, event).await,
        Err(e) => {
            let result = deferred(deps, event, e).await;
            logged(deps, id, attempt, &body, result)
        }
    }
}

/// The `retry` line of an event that was not admitted to an attempt.
fn logged(
    deps: &Deps,
    id: crate::registry::EndpointId,
    attempt: u32,
    body: &str,
    result: WorkerResult,
) -> WorkerResult {
    let named = serde_json::from_str(body)
        .map(|b| crate::payload::named_contacts(id, &b))
        .unwrap_or_default();
    let metrics = crate::telemetry::retry_metrics(deps.config.metrics_namespace.as_deref());
    let line = RetryLine {
        calls: CallCounts::default(),
        ids: named,
        metrics: metrics.as_deref(),
    };
    log(id, attempt, &result, &line);
    result
}

/// Runs one queued event with `deps` (its tenant's).
async fn process_for(deps: &Deps, mut event: QueuedEvent) -> WorkerResult {
    let calls_before = deps.calls.counts();
    if event.parked_at.take().is_some() {
        // An operator redrove it from the dead-letter queue: it gets its attempts afresh.
        event.attempt = 0;
        event.not_before_ms = None;
    }
    let now_ms = deps.clock.now_ms();
    if let Some(not_before) = event.not_before_ms.filter(|t| *t > now_ms + 1_000) {
        return wait_more(deps, event, not_before - now_ms).await;
    }
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
    let left = Deadline::time_left().unwrap_or(deps.config.request_deadline);
    let lock_until = now_ms + i64::try_from(left.as_millis()).unwrap_or(0) + LOCK_MARGIN_MS;
    let (id, attempt, key) = (event.endpoint, event.attempt, event.key.clone());
    let mut applied = apply_once(deps, id, prepared.as_ref(), &key, lock_until).await;
    if let Ok(Handled::Applied(outcome)) = &mut applied {
        let origin = (event.tenant.clone(), event.credential);
        run_follow_ups(deps, outcome, origin, (lock_until, crate::handlers::every)).await;
    }
    let named = crate::payload::named_contacts(id, &body);
    let ids = match &applied {
        Ok(Handled::Applied(outcome)) => NamedContacts {
            ghl: outcome.ghl_contact_id.clone().or(named.ghl),
            cloudtalk: outcome.cloudtalk_contact_id.clone().or(named.cloudtalk),
        },
        _ => named,
    };
    let result = match applied {
        Ok(Handled::Duplicate(_)) => WorkerResult::Done { duplicate: true },
        Ok(_) => WorkerResult::Done { duplicate: false },
        // Retried when it can succeed later; refused for good (e.g. a contact CloudTalk no
        // longer has): parked, never dropped.
        Err(error) => deferred(deps, event, error).await,
    };
    let calls = deps.calls.counts().since(calls_before);
    let metrics = crate::telemetry::retry_metrics(deps.config.metrics_namespace.as_deref());
    let line = RetryLine {
        calls,
        ids,
        metrics: metrics.as_deref(),
    };
    log(id, attempt, &result, &line);
    result
}

/// What a `retry` line tells besides the outcome.
struct RetryLine<'a> {
    calls: CallCounts,
    ids: NamedContacts,
    metrics: Option<&'a str>,
}

/// The worker's one `retry` line per queued event: the endpoint, the attempt, its outcome, the
/// contacts it acted on, the upstream calls it made and (`_aws`) their metrics.
macro_rules! retry_line {
    ($level:ident, $id:expr, $attempt:expr, $line:expr, $($field:tt)*) => {
        tracing::$level!(
            endpoint = %$id,
            attempt = $attempt,
            $($field)*
            ghl_contact_id = $line.ids.ghl.as_deref(),
            cloudtalk_contact_id = $line.ids.cloudtalk.as_deref(),
            upstream_calls = $line.calls.total(),
            cloudtalk_calls = $line.calls.cloudtalk,
            ghl_calls = $line.calls.ghl,
            cloudtalk_429s = $line.calls.cloudtalk_429s,
            ghl_429s = $line.calls.ghl_429s,
            _aws = $line.metrics,
            "retry"
        )
    };
}

fn log(id: crate::registry::EndpointId, attempt: u32, result: &WorkerResult, line: &RetryLine) {
    match result {
        WorkerResult::Done { duplicate } => {
            let outcome = if *duplicate { "duplicate" } else { "applied" };
            retry_line!(info, id, attempt, line, outcome,)
        }
        WorkerResult::Requeued { delay_secs } => {
            retry_line!(
                warn,
                id,
                attempt,
                line,
                outcome = "queued",
                retry_in_secs = delay_secs,
            )
        }
        WorkerResult::Parked { reason } => {
            retry_line!(error, id, attempt, line, outcome = "parked", reason = %reason,)
        }
        WorkerResult::Failed { message } => {
            retry_line!(error, id, attempt, line, outcome = "failed", detail = %message,)
        }
    }
}

/// The leads of an import in this batch (several new contacts of one tenant, due now): their
/// contacts are made together first ([`crate::import::prepare`]), within a bounded time; each
/// lead's event is then applied as ever. Returns the keys of the leads sent back to the lane
/// together (their bulk request must wait or failed), which are not applied alone now.
async fn prepare_imports(
    deps: &Deps,
    records: &[SqsMessage],
    until: Option<Deadline>,
) -> std::collections::BTreeSet<String> {
    let now_ms = deps.clock.now_ms();
    let mut by_tenant: std::collections::BTreeMap<Option<String>, Vec<QueuedEvent>> =
        Default::default();
    for record in records {
        let body = record.body.as_deref().unwrap_or_default();
        let Ok(event) = serde_json::from_str::<QueuedEvent>(body) else {
            continue;
        };
        let due = event.not_before_ms.is_none_or(|t| t <= now_ms + 1_000);
        if due && event.binding_error().is_none() && crate::import::is_lead(&event) {
            by_tenant
                .entry(event.tenant.clone())
                .or_default()
                .push(event);
        }
    }
    let mut sent_back = std::collections::BTreeSet::new();
    for (tenant, leads) in by_tenant {
        // Long enough for a bulk request to wait for what it costs (see `rest::admit`), and
        // leaving the invocation time to apply each lead's event after.
        let deadline = Deadline::after(IMPORT_TIME);
        let deadline = until.map_or(deadline, |u| {
            deadline.min(Deadline::after(u.remaining().saturating_sub(AFTER_IMPORT)))
        });
        let work = async {
            let Ok(tenancy) = crate::admission::readmit(deps, tenant.as_deref()).await else {
                return None;
            };
            let own;
            let tenant_deps = match crate::admission::deployment(deps, &tenancy).await {
                Ok(Some(tenant_deps)) => {
                    own = tenant_deps;
                    &own
                }
                Ok(None) => deps,
                Err(_) => return None,
            };
            // One lead alone is looked up through the index only when it is already read.
            if leads.len() < 2 && !crate::import::index::is_current(tenant_deps) {
                return None;
            }
            let done = crate::import::prepare(tenant_deps, &leads).await;
            let back = send_back(tenant_deps, &leads, &done.later).await;
            Some((done, back))
        };
        if let Some((done, back)) = deadline.scope(work).await {
            tracing::info!(
                leads = leads.len(),
                found = done.found,
                created = done.created,
                bulk_requests = done.bulk_requests,
                sent_back = back.len(),
                "import"
            );
            sent_back.extend(back);
        }
    }
    sent_back
}

/// Queues the leads [`crate::import::prepare`] sent back: those that must wait, after the wait
/// they were given (together); those whose bulk request failed, for another turn in the lane
/// (an attempt used). The keys of those queued.
async fn send_back(
    deps: &Deps,
    leads: &[QueuedEvent],
    later: &std::collections::BTreeMap<String, crate::import::Later>,
) -> Vec<String> {
    if later.is_empty() {
        return Vec::new();
    }
    let mut queued = Vec::new();
    for event in leads {
        let Some(why) = later.get(&event.key) else {
            continue;
        };
        let mut event = event.clone();
        event.last_error = Some(why.reason.clone());
        // A wait keeps the leads together, at the turn they were given; a failure takes a
        // turn in the lane again.
        let mut wait_secs = why.wait_secs.max(1);
        if why.failed {
            event.attempt += 1;
            let failures = crate::import::lane::scheduled_failures(&event);
            if failures >= deps.config.max_attempts {
                // Its last attempt is its own, alone: parked if that fails too.
                continue;
            }
            wait_secs = wait_secs.max(match failures {
                0 => crate::import::lane::retry_delay_secs(deps, &event.key).await,
                n => crate::retry_queue::failure_delay_secs(n, None, &event.key),
            });
        }
        event.not_before_ms = (wait_secs > MAX_QUEUE_DELAY_SECS)
            .then(|| deps.clock.now_ms() + (wait_secs as i64) * 1000);
        let delay = wait_secs.min(MAX_QUEUE_DELAY_SECS) as u32;
        if deps.retry_queue.enqueue(&event, delay).await.is_ok() {
            queued.push(event.key.clone());
        }
    }
    queued
}

/// Whether the message is a lead the import queued again (this message is then done).
fn lead_sent_back(record: &SqsMessage, sent_back: &std::collections::BTreeSet<String>) -> bool {
    !sent_back.is_empty()
        && serde_json::from_str::<QueuedEvent>(record.body.as_deref().unwrap_or_default())
            .is_ok_and(|e| sent_back.contains(&e.key))
}

/// Queues a message the invocation has no time for again, at once; whether it could.
async fn requeue_unread(deps: &Deps, body: &str) -> bool {
    match serde_json::from_str::<QueuedEvent>(body) {
        Ok(event) => deps.retry_queue.enqueue(&event, 0).await.is_ok(),
        Err(_) => false,
    }
}

/// Takes or renews the lease on the batch's messages; a failure is logged, never the batch's.
async fn renew_lease(deps: &Deps, receipt_handles: &[String]) {
    let leased = tokio::time::timeout(
        LEASE_CALL_LIMIT,
        deps.retry_queue.lease(receipt_handles, LEASE_SECS),
    )
    .await;
    let detail = match leased {
        Ok(Ok(())) => return,
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {} s", LEASE_CALL_LIMIT.as_secs()),
    };
    tracing::warn!(
        messages = receipt_handles.len(),
        detail = %detail,
        "retry: the batch's lease could not be renewed; its messages keep the visibility they have"
    );
}

/// Runs `work` while holding the lease on the batch's messages: taken at once, renewed every
/// [`RENEW_EVERY`] until `work` ends. Nothing is spawned: when the invocation is dropped
/// (killed), the renewals stop with it.
pub async fn leased<F: std::future::Future>(
    deps: &Deps,
    receipt_handles: &[String],
    work: F,
) -> F::Output {
    if receipt_handles.is_empty() {
        return work.await;
    }
    let heartbeat = async {
        loop {
            renew_lease(deps, receipt_handles).await;
            tokio::time::sleep(RENEW_EVERY).await;
        }
    };
    let mut work = std::pin::pin!(work);
    tokio::select! {
        biased;
        out = &mut work => out,
        () = heartbeat => work.await,
    }
}

/// Runs an SQS batch one message at a time (the shared budget paces the upstream calls), each
/// under a webhook's deadline, reporting the messages SQS must deliver again: those that could
/// not be queued or parked, and those left when the invocation (ending at `until`) had too
/// little time for another. The batch is leased while it runs (see the module).
pub async fn handle_batch(
    deps: &Deps,
    batch: SqsEvent,
    until: Option<Deadline>,
) -> SqsBatchResponse {
    let receipt_handles: Vec<String> = batch
        .records
        .iter()
        .filter_map(|r| r.receipt_handle.clone())
        .collect();
    leased(deps, &receipt_handles, run_batch(deps, batch, until)).await
}

/// [`handle_batch`]'s work, under its lease.
async fn run_batch(deps: &Deps, batch: SqsEvent, until: Option<Deadline>) -> SqsBatchResponse {
    deps.secrets.refresh_if_due().await;
    let per_message = deps.config.request_deadline;
    let mut response = SqsBatchResponse::default();
    let mut unreached = 0;
    let sent_back = prepare_imports(deps, &batch.records, until).await;
    for record in batch.records {
        let id = record.message_id.clone().unwrap_or_default();
        if lead_sent_back(&record, &sent_back) {
            continue;
        }
        let enough_time = until.is_none_or(|u| u.remaining() >= per_message + REQUEUE_RESERVE);
        let failed = if !enough_time {
            // Back on the retry queue at once, rather than handed back to SQS, which would
            // hold it for the whole visibility timeout.
            unreached += 1;
            !requeue_unread(deps, record.body.as_deref().unwrap_or_default()).await
        } else {
            let body = record.body.as_deref().unwrap_or_default();
            match serde_json::from_str::<QueuedEvent>(body) {
                Ok(event) => {
                    let deadline = Deadline::after(per_message.saturating_sub(REQUEUE_RESERVE));
                    let deadline = until.map_or(deadline, |u| deadline.min(u));
                    let result = deadline.scope(process(deps, event)).await;
                    matches!(result, WorkerResult::Failed { .. })
                }
                // Written by another version (a rollback, a field it does not know) or by
                // hand: kept, as it is, on the dead-letter queue with the reason, never
                // deleted unread.
                Err(e) => {
                    let reason =
                        format!("the message is not a queued event this version reads: {e}");
                    let parked = deps.retry_queue.park_raw(body, &reason).await;
                    match &parked {
                        Ok(()) => {
                            tracing::error!(message_id = %id, outcome = "parked", reason = %reason, "retry")
                        }
                        Err(e) => {
                            tracing::error!(message_id = %id, outcome = "failed", detail = %e, "retry: an unreadable message could not be parked; SQS delivers it again")
                        }
                    }
                    parked.is_err()
                }
            }
        };
        if failed {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    if unreached > 0 {
        tracing::warn!(
            unreached,
            "not enough time left in the invocation; returned to the queue"
        );
    }
    response
}
