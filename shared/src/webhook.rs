//! The request pipeline every webhook endpoint shares: authenticate, read the body, apply,
//! answer, and write one structured log line.

use std::time::Instant;

use async_trait::async_trait;
use lambda_http::{http::StatusCode, Body, Request, RequestExt, Response};
use serde_json::{json, Map, Value};
use subtle::ConstantTimeEq;

use crate::deps::Deps;
use crate::error::{json_response, BridgeError};
use crate::idempotency::{event_key, Claim, Steps, DEFAULT_LOCK_MS};
use crate::payload::parse_body;
use crate::retry_queue::{backoff_secs, QueuedEvent};
use crate::signature::{timestamp_freshness, Freshness, SignatureCheck};

/// Who sends an endpoint's webhooks, which decides the credential it must present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    GoHighLevel,
    CloudTalk,
}

/// What applying an event did, returned to the sender and logged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// `applied`, or why nothing was written (e.g. `already_linked`).
    pub result: &'static str,
    pub ghl_contact_id: Option<String>,
    pub cloudtalk_contact_id: Option<String>,
    /// The bridge created the contact on the target side for this event.
    pub contact_created: bool,
    /// Extra safe fields for the response (ids, counts; never personal data).
    pub details: Map<String, Value>,
}

impl Outcome {
    pub fn applied() -> Self {
        Self {
            result: "applied",
            ..Self::default()
        }
    }

    /// An applied event about a contact pair, saying how the other side's contact was found.
    pub fn for_contact(
        ghl_id: Option<String>,
        cloudtalk_id: Option<String>,
        found_by: crate::resolve::FoundBy,
    ) -> Self {
        let mut outcome = Self::applied();
        outcome.ghl_contact_id = ghl_id;
        outcome.cloudtalk_contact_id = cloudtalk_id;
        outcome.contact_created = found_by == crate::resolve::FoundBy::Created;
        outcome
            .details
            .insert("foundBy".into(), json!(found_by.as_str()));
        outcome
    }
}

/// One webhook endpoint: its name (the Lambda binary), route, sender and what it does.
#[async_trait]
pub trait Webhook: Sync {
    /// The Lambda binary and function name, e.g. `ghl-new-contact`.
    const NAME: &'static str;
    /// The API Gateway route, e.g. `/api/ghl-webhooks/new-contact`.
    const ROUTE: &'static str;
    const SENDER: Sender;
    /// Whether the endpoint reads or writes the contact map (its Lambda then needs
    /// `CONTACT_MAP_TABLE`).
    const USES_CONTACT_MAP: bool = true;

    /// Refuses a payload that cannot be applied (422 naming what is missing), before the event
    /// is claimed: an invalid payload is never answered as a duplicate of a valid one.
    fn validate(&self, body: &Value) -> Result<(), BridgeError> {
        let _ = body;
        Ok(())
    }

    /// Applies the event. Expected failures are errors with a 4xx mapping, never panics.
    /// Each upstream write goes through `steps`, so a retried event resumes where it failed.
    async fn apply(
        &self,
        deps: &Deps,
        body: &Value,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError>;
}

fn presented_secret(req: &Request) -> Option<&str> {
    let headers = req.headers();
    if let Some(v) = headers
        .get("x-webhook-secret")
        .and_then(|v| v.to_str().ok())
    {
        return Some(v.trim());
    }
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
}

/// How a request proved who sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authenticated {
    /// A valid GHL Marketplace signature; the body's timestamp must still be fresh.
    Signature,
    /// One of the shared secrets.
    Secret,
    /// No credential configured and the local-only switch is on.
    LocalInsecure,
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Authenticates a webhook. GHL routes accept a valid Marketplace signature (`x-ghl-signature`,
/// else `x-wh-signature`) or a shared secret; a signature header that does not verify is refused
/// even when a secret is also sent. Secrets are compared in constant time, and two may be
/// configured during a rotation. A route with no credential configured refuses everything,
/// unless the local-only switch `BRIDGE_LOCAL_INSECURE_NO_AUTH` is on outside Lambda.
pub fn authenticate(
    deps: &Deps,
    sender: Sender,
    req: &Request,
) -> Result<Authenticated, BridgeError> {
    if sender == Sender::GoHighLevel {
        let check = deps.ghl_signatures.check(
            header(req, "x-ghl-signature"),
            header(req, "x-wh-signature"),
            req.body().as_ref(),
        );
        match check {
            SignatureCheck::Valid => return Ok(Authenticated::Signature),
            SignatureCheck::Invalid(reason) => return Err(BridgeError::InvalidSignature(reason)),
            SignatureCheck::Absent => {}
        }
    }
    let secrets = deps.secrets();
    let accepted = match sender {
        Sender::GoHighLevel => &secrets.ghl_webhook_secrets,
        Sender::CloudTalk => &secrets.cloudtalk_webhook_secrets,
    };
    if accepted.is_empty() && deps.config.insecure_local_no_auth {
        tracing::warn!("no webhook credential configured: accepted without authentication (BRIDGE_LOCAL_INSECURE_NO_AUTH)");
        return Ok(Authenticated::LocalInsecure);
    }
    match presented_secret(req) {
        Some(presented) if secret_matches(accepted, presented) => Ok(Authenticated::Secret),
        _ => Err(BridgeError::Unauthorized),
    }
}

/// Whether `presented` is one of the `accepted` secrets, compared in constant time.
pub fn secret_matches(accepted: &[String], presented: &str) -> bool {
    let mut ok = subtle::Choice::from(0u8);
    for secret in accepted {
        ok |= secret.as_bytes().ct_eq(presented.as_bytes());
    }
    bool::from(ok)
}

/// Whether the request presents either sender's webhook secret (the health routes show their
/// details only to such a caller).
pub fn presents_a_webhook_secret(deps: &Deps, req: &Request) -> bool {
    let secrets = deps.secrets();
    presented_secret(req).is_some_and(|presented| {
        secret_matches(&secrets.ghl_webhook_secrets, presented)
            | secret_matches(&secrets.cloudtalk_webhook_secrets, presented)
    })
}

/// Checks that an authenticated GHL event belongs to this deployment. GHL signs every
/// Marketplace app's webhooks with the same key, so a valid signature proves only that GHL sent
/// the body: anyone's app can point its webhook at this API. A signed event must therefore name
/// its location (and carry its timestamp), that location must be the one this deployment
/// serves, and, when `GHL_APP_ID` is set, an `appId` it carries must be that app. A workflow
/// webhook (shared secret) whose body names another location is refused too: a workflow
/// copied from another sub-account must not write into this one.
pub fn check_origin(
    deps: &Deps,
    authenticated: Authenticated,
    body: &Value,
) -> Result<(), BridgeError> {
    let location = crate::payload::ghl::event_location(body);
    if authenticated == Authenticated::Signature {
        if body.get("timestamp").is_none_or(Value::is_null) {
            return Err(BridgeError::missing_fields(
                "a signed event must carry its timestamp",
                &["timestamp"],
            ));
        }
        let Some(location) = &location else {
            return Err(BridgeError::missing_fields(
                "a signed event must name its GoHighLevel location",
                &["locationId"],
            ));
        };
        if let (Some(expected), Some(sent)) = (
            deps.config.ghl_app_id.as_deref(),
            crate::payload::fields::find_id(body, &["appId", "app_id"]),
        ) {
            if expected != sent {
                return Err(BridgeError::Forbidden {
                    code: "foreign_app",
                    message: "the event was sent for another GoHighLevel app".into(),
                });
            }
        }
        if !deps.serves_location(location) {
            return Err(foreign_location(location));
        }
        return Ok(());
    }
    match (&deps.config.ghl_location_id, &location) {
        (Some(_), Some(sent)) if !deps.serves_location(sent) => Err(foreign_location(sent)),
        _ => Ok(()),
    }
}

fn foreign_location(sent: &str) -> BridgeError {
    BridgeError::Forbidden {
        code: "foreign_location",
        message: format!(
            "GoHighLevel location {} is not served by this deployment",
            crate::payload::fields::clip(sent, 64)
        ),
    }
}

/// Refuses a signed event whose `timestamp` is more than five minutes away, unless it is a
/// redelivery: GHL re-delivers an event answered 429 ten minutes to hours later with its
/// original body and timestamp, and the bridge has a record of every event it answered that
/// way. A stale body the bridge has never seen stays refused.
async fn check_freshness(deps: &Deps, key: &str, body: &Value) -> Result<(), BridgeError> {
    let now_ms = deps.clock.now_ms();
    match timestamp_freshness(body, now_ms.div_euclid(1000)) {
        Freshness::Fresh => Ok(()),
        Freshness::Stale if deps.idempotency.seen(key, now_ms).await? => Ok(()),
        Freshness::Stale => Err(BridgeError::InvalidSignature(
            "the signed timestamp is more than 5 minutes old and the event was never received before",
        )),
        Freshness::Future => Err(BridgeError::InvalidSignature(
            "the signed timestamp is more than 5 minutes in the future",
        )),
        Freshness::Unreadable => Err(BridgeError::InvalidSignature(
            "the signed timestamp is not a date",
        )),
    }
}

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
pub fn outcome_body(function: &str, outcome: &Outcome) -> Value {
    let mut body = json!({
        "ok": true,
        "endpoint": function,
        "result": outcome.result,
        "ghlContactId": outcome.ghl_contact_id,
        "cloudtalkContactId": outcome.cloudtalk_contact_id,
        "contactCreated": outcome.contact_created,
    });
    for (k, v) in &outcome.details {
        body[k] = v.clone();
    }
    body
}

/// The in-progress lock of an attempt: until the invocation's deadline, or 30 s.
fn lock_until_ms(deps: &Deps, req: &Request) -> i64 {
    let now = deps.clock.now_ms();
    let deadline = req
        .lambda_context_ref()
        .map(|c| c.deadline as i64)
        .filter(|d| *d > now + 1_000);
    deadline.map(|d| d + 1_000).unwrap_or(now + DEFAULT_LOCK_MS)
}

/// Applies an event once: claims its idempotency record, applies it with its recorded steps,
/// and marks it completed. A completed event is answered as a duplicate without any write.
pub async fn apply_once(
    deps: &Deps,
    function: &str,
    body: &Value,
    lock_until_ms: i64,
) -> Result<Handled, BridgeError> {
    let key = event_key(function, body);
    let now = deps.clock.now_ms();
    match deps.idempotency.claim(&key, now, lock_until_ms).await? {
        Claim::Completed { response } => Ok(Handled::Duplicate(response)),
        Claim::InProgress => Err(BridgeError::InProgress),
        Claim::Acquired { steps } => {
            let mut steps = Steps::new(&key, steps, deps.idempotency.clone());
            match crate::apply_by_name(function, deps, body, &mut steps).await {
                Ok(outcome) => {
                    let answer = outcome_body(function, &outcome);
                    if let Err(e) = deps.idempotency.complete(&key, &answer).await {
                        // The writes are done and recorded as steps; a redelivery re-runs no write.
                        tracing::error!(endpoint = function, error = "store_unavailable", detail = %e, "could not mark the event completed");
                    }
                    Ok(Handled::Applied(outcome))
                }
                Err(e) => {
                    if let Err(release) = deps.idempotency.release(&key).await {
                        tracing::warn!(endpoint = function, detail = %release, "could not release the event; its lock will expire");
                    }
                    Err(e)
                }
            }
        }
    }
}

/// After a failed attempt: queue a retryable failure with a delay, park a permanent one with
/// its reason, and leave refusals of the request itself (4xx) to the caller.
pub async fn defer(
    deps: &Deps,
    mut event: QueuedEvent,
    error: BridgeError,
) -> Result<Handled, BridgeError> {
    let reason = format!("{}: {}", error.code(), error.public_message());
    event.last_error = Some(reason.clone());
    let parked = |reason: String| Handled::Parked {
        reason,
        code: error.code(),
        status: if error.is_retryable() {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            error.status()
        },
    };
    if error.is_retryable() {
        if event.attempt >= deps.config.max_attempts {
            let why = format!(
                "gave up after {} attempts; last error {reason}",
                event.attempt
            );
            return match deps.retry_queue.park(&event, &why).await {
                Ok(()) => Ok(parked(why)),
                Err(_) => Err(error),
            };
        }
        let delay_secs = backoff_secs(event.attempt, error.retry_after_secs());
        match deps.retry_queue.enqueue(&event, delay_secs).await {
            Ok(()) => Ok(Handled::Queued { delay_secs, reason }),
            Err(queue_error) => {
                tracing::warn!(endpoint = %event.function, detail = %queue_error, "event could not be queued");
                Err(error)
            }
        }
    } else {
        // Refused for good (an upstream rejected the data): retrying cannot help, an operator
        // must look.
        match deps.retry_queue.park(&event, &reason).await {
            Ok(()) => Ok(parked(reason)),
            Err(park_error) => {
                tracing::error!(endpoint = %event.function, detail = %park_error, "event could not be parked");
                Err(error)
            }
        }
    }
}

/// Runs one webhook request through the shared pipeline. Never returns an `Err`: every failure
/// is a JSON response, and every request logs exactly one `webhook` line.
pub async fn handle<W: Webhook>(webhook: &W, deps: &Deps, req: Request) -> Response<Body> {
    let started = Instant::now();
    let calls_before = deps.calls.get();
    deps.secrets.refresh_if_due().await;
    let lock_until = lock_until_ms(deps, &req);
    let result = async {
        let authenticated = authenticate(deps, W::SENDER, &req)?;
        let raw = req.body().as_ref();
        let body = parse_body(raw)?;
        if W::SENDER == Sender::GoHighLevel {
            check_origin(deps, authenticated, &body)?;
        }
        // A Marketplace app sends every event type to one URL: route by type.
        let marketplace = match W::SENDER {
            Sender::GoHighLevel => crate::payload::ghl::marketplace_function(&body),
            Sender::CloudTalk => None,
        };
        let function = match marketplace {
            Some(Some(function)) => function,
            _ => W::NAME,
        };
        if authenticated == Authenticated::Signature {
            check_freshness(deps, &event_key(function, &body), &body).await?;
        }
        if marketplace == Some(None) {
            return Ok(Handled::Applied(Outcome {
                result: "ignored",
                ..Outcome::default()
            }));
        }
        if function == W::NAME {
            webhook.validate(&body)?;
        } else {
            crate::validate_by_name(function, &body)?;
        }
        match apply_once(deps, function, &body, lock_until).await {
            Ok(Handled::Applied(mut outcome)) if function != W::NAME => {
                outcome.details.insert("appliedBy".into(), json!(function));
                Ok(Handled::Applied(outcome))
            }
            Ok(handled) => Ok(handled),
            Err(error) if error.is_retryable() || matches!(error, BridgeError::Upstream(_)) => {
                let event = QueuedEvent {
                    function: function.to_string(),
                    body: String::from_utf8_lossy(raw).into_owned(),
                    key: event_key(function, &body),
                    attempt: 1,
                    first_received_at: chrono::DateTime::from_timestamp_millis(deps.clock.now_ms())
                        .unwrap_or_default()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    last_error: None,
                    parked_at: None,
                };
                defer(deps, event, error).await
            }
            Err(error) => Err(error),
        }
    }
    .await;
    let upstream_calls = deps.calls.get().saturating_sub(calls_before);
    let duration_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(Handled::Applied(outcome)) => {
            tracing::info!(
                endpoint = W::NAME,
                outcome = outcome.result,
                status = 200,
                ghl_contact_id = outcome.ghl_contact_id.as_deref(),
                cloudtalk_contact_id = outcome.cloudtalk_contact_id.as_deref(),
                contact_created = outcome.contact_created,
                upstream_calls,
                duration_ms,
                "webhook"
            );
            json_response(StatusCode::OK, &outcome_body(W::NAME, &outcome))
        }
        Ok(Handled::Duplicate(mut answer)) => {
            tracing::info!(
                endpoint = W::NAME,
                outcome = "duplicate",
                status = 200,
                upstream_calls,
                duration_ms,
                "webhook"
            );
            if !answer.is_object() {
                answer = json!({ "ok": true, "endpoint": W::NAME });
            }
            answer["duplicate"] = json!(true);
            json_response(StatusCode::OK, &answer)
        }
        Ok(Handled::Queued { delay_secs, reason }) => {
            tracing::warn!(endpoint = W::NAME, outcome = "queued", status = 202, reason = %reason, retry_in_secs = delay_secs, upstream_calls, duration_ms, "webhook");
            json_response(
                StatusCode::ACCEPTED,
                &json!({ "ok": true, "endpoint": W::NAME, "result": "queued", "queued": true, "retryInSeconds": delay_secs, "reason": reason }),
            )
        }
        Ok(Handled::Parked {
            reason,
            code,
            status,
        }) => {
            tracing::error!(endpoint = W::NAME, outcome = "parked", status = status.as_u16(), reason = %reason, upstream_calls, duration_ms, "webhook");
            json_response(
                status,
                &json!({ "error": code, "message": reason, "parked": true }),
            )
        }
        Err(err) => {
            let status = err.status().as_u16();
            if status >= 500 || matches!(err, BridgeError::Upstream(_) | BridgeError::Store(_)) {
                tracing::error!(endpoint = W::NAME, outcome = "failed", status, error = err.code(), detail = %err, upstream_calls, duration_ms, "webhook");
            } else {
                tracing::warn!(endpoint = W::NAME, outcome = "refused", status, error = err.code(), detail = %err.public_message(), upstream_calls, duration_ms, "webhook");
            }
            err.to_response()
        }
    }
}

/// The `main` of a webhook function: starts (or refuses to, see [`crate::startup`]), then runs
/// `webhook` for every invocation.
pub async fn run<W: Webhook>(webhook: &W) -> Result<(), lambda_http::Error> {
    let needs = crate::startup::Needs {
        contact_map: W::USES_CONTACT_MAP,
    };
    let deps = Deps::start(W::NAME, needs).await?;
    serve(&deps, webhook).await
}

/// Serves `webhook` for every invocation.
pub async fn serve<W: Webhook>(deps: &Deps, webhook: &W) -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(|req: Request| async move {
        Ok::<_, std::convert::Infallible>(handle(webhook, deps, req).await)
    }))
    .await
}
