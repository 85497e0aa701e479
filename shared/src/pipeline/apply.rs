//! Applying an accepted event exactly once, and what happens when that cannot be done now:
//! shared by the webhook routes and the retry worker.

use lambda_http::http::StatusCode;
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::endpoint::{Outcome, Prepared};
use crate::error::BridgeError;
use crate::idempotency::{completed_expiry_secs, key_of, Claim, Steps};
use crate::identity::CallIdentity;
use crate::registry::EndpointId;
use crate::retry_queue::{
    failure_delay_secs, wait_delay_secs, QueuedEvent, MAX_QUEUE_DELAY_SECS, MAX_WAITING_SECS,
};

/// What happened to an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    Applied(Outcome),
    /// Applied before: the answer given then.
    Duplicate(Value),
    /// Could not be applied now; queued for another attempt.
    Queued {
        delay_secs: u32,
        reason: String,
    },
    /// Could not be applied (refused upstream, or out of attempts); parked on the dead-letter
    /// queue with its reason.
    Parked {
        reason: String,
        code: &'static str,
        status: StatusCode,
    },
}

/// The JSON answer of an applied event, also stored for duplicates.
pub fn outcome_body(id: EndpointId, outcome: &Outcome) -> Value {
    let mut body = json!({
        "ok": true,
        "endpoint": id,
        "result": outcome.result,
        "ghlContactId": outcome.ghl_contact_id,
        "cloudtalkContactId": outcome.cloudtalk_contact_id,
        "contactCreated": outcome.contact_created,
    });
    if outcome.relinked > 0 {
        body["relinked"] = json!(outcome.relinked);
    }
    for (k, v) in &outcome.details {
        body[k] = v.clone();
    }
    body
}

/// Applies an event once: claims its idempotency record `key`, applies it with its recorded
/// steps, and marks it completed. A completed event is answered as a duplicate without any
/// write.
pub async fn apply_once(
    deps: &Deps,
    id: EndpointId,
    event: &dyn Prepared,
    key: &str,
    lock_until_ms: i64,
) -> Result<Handled, BridgeError> {
    let now = deps.clock.now_ms();
    let (done, lease) = match deps.idempotency.claim(key, now, lock_until_ms).await? {
        Claim::Completed { response } => {
            return duplicate(deps, (id, event), key, lock_until_ms, response).await
        }
        Claim::InProgress => return Err(BridgeError::InProgress),
        Claim::Acquired { steps, lease } => (steps, lease),
    };
    let owner = lease.owner.clone();
    let mut steps = Steps::new(key, done, lease, deps.idempotency.clone());
    let mut result = event.apply(deps, &mut steps).await;
    if let Err(error) = &result {
        // The contact it wrote to through the map is gone: the link is healed, once.
        match crate::resolve::heal_stale_link(deps, &mut steps, error).await {
            Ok(true) => result = event.apply(deps, &mut steps).await,
            Ok(false) => {}
            Err(heal_error) => result = Err(heal_error),
        }
    }
    match result {
        Ok(outcome) if outcome.not_yet => {
            // "Not yet" never spends the key: it is released, with its steps, for the event
            // that does the work.
            if let Err(release) = deps.idempotency.release(key, &owner).await {
                tracing::warn!(endpoint = %id, detail = %release, "could not release the event; its lock will expire");
            }
            Ok(Handled::Applied(outcome))
        }
        Ok(mut outcome) => {
            outcome.relinked += steps.relinked();
            if let Some(identity) = event.identity(deps) {
                outcome
                    .details
                    .insert("identity".into(), identity.to_json());
            }
            let answer = outcome_body(id, &outcome);
            let completed_at = deps.clock.now_ms();
            let expires_at =
                completed_expiry_secs(key, completed_at, deps.config.body_key_ttl_secs);
            if let Err(e) = deps
                .idempotency
                .complete(key, &owner, &answer, expires_at)
                .await
            {
                // The writes are done and recorded as steps; a redelivery re-runs no write.
                tracing::error!(endpoint = %id, error = "store_unavailable", detail = %e, "could not mark the event completed");
            }
            Ok(Handled::Applied(outcome))
        }
        Err(e) => {
            if let Err(release) = deps.idempotency.release(key, &owner).await {
                tracing::warn!(endpoint = %id, detail = %release, "could not release the event; its lock will expire");
            }
            Err(e)
        }
    }
}

/// A completed event's key again: a duplicate, answered as the first, unless the two disagree
/// on what matters (see [`super::conflict`]).
async fn duplicate(
    deps: &Deps,
    (id, event): (EndpointId, &dyn Prepared),
    key: &str,
    lock_until_ms: i64,
    response: Value,
) -> Result<Handled, BridgeError> {
    let recorded = response.get("identity").and_then(CallIdentity::from_json);
    let Some((recorded, received)) = recorded.zip(event.identity(deps)) else {
        return Ok(Handled::Duplicate(response));
    };
    if recorded.disagreements(&received).is_empty() {
        return Ok(Handled::Duplicate(response));
    }
    let settled = super::conflict::settle(deps, id, key, (recorded, received)).await?;
    let applied = Box::pin(apply_once(deps, id, event, &settled.key, lock_until_ms)).await?;
    // Reported once: when the genuine version is applied, not at each of its copies.
    if matches!(applied, Handled::Applied(_)) {
        super::conflict::report_superseded(deps, id, key, &settled.both).await;
    }
    Ok(applied)
}

/// Runs the jobs an applied event asked for (see [`crate::endpoint::FollowUp`]), each as its
/// own event: claimed under its own key, applied, or queued or parked like any event when it
/// cannot be done now; a job whose handler this function does not carry (`bind`) is handed to
/// the retry worker at once. `origin` is the tenant and credential of the event that asked.
/// Each job's result becomes a detail of the outcome under its label (`"dial": "dialled"`).
pub async fn run_follow_ups(
    deps: &Deps,
    outcome: &mut Outcome,
    origin: (Option<String>, Option<crate::signature::Credential>),
    (lock_until_ms, bind): (i64, crate::handlers::Bind),
) {
    for job in std::mem::take(&mut outcome.follow_ups) {
        let key = key_of(origin.0.as_deref(), job.endpoint, &job.body);
        let event = || {
            let (tenant, credential) = origin.clone();
            let now = deps.clock.now_ms();
            QueuedEvent::fresh(
                job.endpoint,
                job.body.to_string(),
                key.clone(),
                tenant,
                credential,
                now,
            )
        };
        let result = match bind(job.endpoint).map(|h| h.prepare(&job.body)) {
            None => match deps.retry_queue.enqueue(&event(), 0).await {
                Ok(()) => Ok(json!("queued")),
                Err(e) => Err(BridgeError::Store(e).code()),
            },
            Some(Ok(prepared)) => {
                let applied =
                    apply_once(deps, job.endpoint, prepared.as_ref(), &key, lock_until_ms).await;
                follow_up_result(deps, applied, event).await
            }
            Some(Err(e)) => Err(BridgeError::from(e).code()),
        };
        let answer = result.unwrap_or_else(|code| {
            tracing::warn!(
                job = job.label,
                error = code,
                "a follow-up job could not be run or queued"
            );
            json!("failed")
        });
        outcome.details.insert(job.label.to_string(), answer);
    }
}

/// What became of a follow-up job, as its detail says it; a failure queued or parked as the
/// event `event` makes.
async fn follow_up_result(
    deps: &Deps,
    applied: Result<Handled, BridgeError>,
    event: impl FnOnce() -> QueuedEvent,
) -> Result<Value, &'static str> {
    match applied {
        Ok(Handled::Applied(done)) => Ok(json!(done.result)),
        Ok(Handled::Duplicate(_)) => Ok(json!("duplicate")),
        Ok(_) => Ok(json!("applied")),
        Err(error) => match defer(deps, event(), error).await {
            Ok(Handled::Queued { .. }) => Ok(json!("queued")),
            Ok(Handled::Parked { .. }) => Ok(json!("parked")),
            Ok(_) => Ok(json!("applied")),
            Err(e) => Err(e.code()),
        },
    }
}

/// After a failed attempt: a permanent failure is parked with its reason; a retryable one is
/// queued, after the failure schedule's delay when it used up an attempt, or after the wait the
/// rate limit gave when it only has to wait. When neither can be done the error is returned
/// for the caller to answer.
pub async fn defer(
    deps: &Deps,
    mut event: QueuedEvent,
    error: BridgeError,
) -> Result<Handled, BridgeError> {
    let reason = format!("{}: {}", error.code(), error.public_message());
    event.last_error = Some(reason.clone());
    if !error.is_retryable() {
        // Refused for good (an upstream rejected the data): retrying cannot help, an operator
        // must look.
        return park(deps, &event, reason, error).await;
    }
    let now_ms = deps.clock.now_ms();
    let wait_secs = if error.uses_an_attempt() {
        event.attempt += 1;
        let failures = crate::import::lane::scheduled_failures(&event);
        if failures >= deps.config.max_attempts {
            let why = format!(
                "gave up after {} attempts; last error {reason}",
                event.attempt
            );
            return park(deps, &event, why, error).await;
        }
        match failures {
            // A lead's first failures (a fault of one request, of the store) are retried in
            // the import lane, with the leads of a bulk request.
            0 => crate::import::lane::retry_delay_secs(deps, &event.key).await,
            n => failure_delay_secs(n, error.retry_after_secs(), &event.key),
        }
    } else if let BridgeError::Waiting { wait_secs, .. } = &error {
        // A wait the event itself asked for (a call's AI data, a lead's opening hour): at
        // that time, and bounded by the event, not by the time it has waited so far.
        (*wait_secs).max(1)
    } else {
        if waited_too_long(&event, now_ms) {
            let why = format!(
                "waited more than {} hours; last error {reason}",
                MAX_WAITING_SECS / 3600
            );
            return park(deps, &event, why, error).await;
        }
        if throttled_by_cloudtalk(&error) && crate::import::is_lead(&event) {
            // A lead of an import: its turn in the lane, with the leads of its bulk request.
            crate::import::lane::delay_secs(deps).await
        } else {
            let hint = error
                .retry_after_secs()
                .unwrap_or_else(|| default_wait_secs(&error));
            wait_delay_secs(hint, &event.key, now_ms)
        }
    };
    // SQS delays a message 15 minutes at most: a longer wait is a chain of delays.
    event.not_before_ms =
        (wait_secs > MAX_QUEUE_DELAY_SECS).then(|| now_ms + (wait_secs as i64) * 1000);
    let delay_secs = wait_secs.min(MAX_QUEUE_DELAY_SECS) as u32;
    match deps.retry_queue.enqueue(&event, delay_secs).await {
        Ok(()) => Ok(Handled::Queued {
            delay_secs: wait_secs.min(u64::from(u32::MAX)) as u32,
            reason,
        }),
        Err(queue_error) => {
            tracing::warn!(endpoint = %event.endpoint, detail = %queue_error, "event could not be queued");
            Err(error)
        }
    }
}

/// Whether CloudTalk's budget (the deployment's, or CloudTalk's own 429) held the event back.
fn throttled_by_cloudtalk(error: &BridgeError) -> bool {
    match error {
        BridgeError::Upstream(e) => {
            e.service() == crate::clients::Service::CloudTalk
                && e.is_a_wait()
                && !matches!(e, crate::clients::UpstreamError::OutOfTime { .. })
        }
        _ => false,
    }
}

/// How long an event waits when nobody said: for a concurrent delivery's lock, for a
/// contended store, or (out of time) to resume at once.
fn default_wait_secs(error: &BridgeError) -> u64 {
    match error {
        BridgeError::InProgress => 30,
        BridgeError::Upstream(_) => 1,
        _ => 5,
    }
}

fn waited_too_long(event: &QueuedEvent, now_ms: i64) -> bool {
    chrono::DateTime::parse_from_rfc3339(&event.first_received_at)
        .map(|first| now_ms / 1000 - first.timestamp() > MAX_WAITING_SECS)
        .unwrap_or(false)
}

async fn park(
    deps: &Deps,
    event: &QueuedEvent,
    reason: String,
    error: BridgeError,
) -> Result<Handled, BridgeError> {
    match deps.retry_queue.park(event, &reason).await {
        Ok(()) => Ok(Handled::Parked {
            reason,
            code: error.code(),
            status: if error.is_retryable() {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                error.status()
            },
        }),
        Err(park_error) => {
            tracing::error!(endpoint = %event.endpoint, detail = %park_error, "event could not be parked");
            Err(error)
        }
    }
}
