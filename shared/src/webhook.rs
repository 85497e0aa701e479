//! The request pipeline every webhook endpoint shares: authenticate, read the body, apply,
//! answer, and write one structured log line.

use std::time::Instant;

use async_trait::async_trait;
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde_json::{json, Map, Value};
use subtle::ConstantTimeEq;

use crate::deps::Deps;
use crate::error::{json_response, BridgeError};
use crate::payload::parse_body;

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
}

/// One webhook endpoint: its name (the Lambda binary), route, sender and what it does.
#[async_trait]
pub trait Webhook: Sync {
    /// The Lambda binary and function name, e.g. `ghl-new-contact`.
    const NAME: &'static str;
    /// The API Gateway route, e.g. `/api/ghl-webhooks/new-contact`.
    const ROUTE: &'static str;
    const SENDER: Sender;

    /// Applies the event. Expected failures are errors with a 4xx mapping, never panics.
    async fn apply(&self, deps: &Deps, body: &Value) -> Result<Outcome, BridgeError>;
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

/// Checks the shared secret in constant time. With no secret configured every request is
/// refused: the bridge never runs open by accident.
pub fn authenticate(deps: &Deps, sender: Sender, req: &Request) -> Result<(), BridgeError> {
    let accepted = match sender {
        Sender::GoHighLevel => &deps.config.ghl_webhook_secrets,
        Sender::CloudTalk => &deps.config.cloudtalk_webhook_secrets,
    };
    let Some(presented) = presented_secret(req) else {
        return Err(BridgeError::Unauthorized);
    };
    let mut ok = subtle::Choice::from(0u8);
    for secret in accepted {
        ok |= secret.as_bytes().ct_eq(presented.as_bytes());
    }
    if bool::from(ok) {
        Ok(())
    } else {
        Err(BridgeError::Unauthorized)
    }
}

/// Runs one webhook request through the shared pipeline. Never returns an `Err`: every failure
/// is a JSON response, and every request logs exactly one `webhook` line.
pub async fn handle<W: Webhook>(webhook: &W, deps: &Deps, req: Request) -> Response<Body> {
    let started = Instant::now();
    let calls_before = deps.calls.get();
    let result = async {
        authenticate(deps, W::SENDER, &req)?;
        let body = parse_body(req.body().as_ref())?;
        webhook.apply(deps, &body).await
    }
    .await;
    let upstream_calls = deps.calls.get().saturating_sub(calls_before);
    let duration_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(outcome) => {
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
            let mut body = json!({
                "ok": true,
                "endpoint": W::NAME,
                "result": outcome.result,
                "ghlContactId": outcome.ghl_contact_id,
                "cloudtalkContactId": outcome.cloudtalk_contact_id,
                "contactCreated": outcome.contact_created,
            });
            for (k, v) in outcome.details {
                body[k] = v;
            }
            json_response(StatusCode::OK, &body)
        }
        Err(err) => {
            let status = err.status().as_u16();
            if status >= 500 || matches!(err, BridgeError::Upstream(_) | BridgeError::Store(_)) {
                tracing::error!(endpoint = W::NAME, outcome = "failed", status, error = err.code(), message = %err, upstream_calls, duration_ms, "webhook");
            } else {
                tracing::warn!(endpoint = W::NAME, outcome = "refused", status, error = err.code(), message = %err.public_message(), upstream_calls, duration_ms, "webhook");
            }
            err.to_response()
        }
    }
}

/// The Lambda entry point of a webhook function: runs `webhook` for every invocation.
pub async fn serve<W: Webhook>(deps: &Deps, webhook: &W) -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(|req: Request| async move {
        Ok::<_, std::convert::Infallible>(handle(webhook, deps, req).await)
    }))
    .await
}
