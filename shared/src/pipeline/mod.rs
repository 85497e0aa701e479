//! The request pipeline every webhook endpoint shares: authenticate, read the body, check that
//! the event is for this deployment, parse it once, apply it once (or queue or park it), answer,
//! and write one structured log line.
//!
//! - [`auth`]: secrets, signatures, the location and app fences, the timestamp window;
//! - [`apply`]: exactly-once application, the retry queue and the dead-letter queue;
//! - [`answer`]: the HTTP answers and the log line;
//! - [`health`]: the health routes.

pub mod answer;
pub mod apply;
pub mod auth;
pub mod health;

use std::time::Instant;

use lambda_http::{http::StatusCode, Body, Request, RequestExt, Response};
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::endpoint::Outcome;
use crate::error::BridgeError;
use crate::idempotency::{event_key, DEFAULT_LOCK_MS};
use crate::payload::parse_body;
use crate::registry::{self, EndpointId, Entry, Sender};
use crate::retry_queue::QueuedEvent;
use answer::{json_response, respond, Cost};
use apply::{apply_once, defer, deferrable, Handled};
use auth::{authenticate, check_freshness, check_origin, Authenticated};

/// The in-progress lock of an attempt: until the invocation's deadline, or 30 s.
fn lock_until_ms(deps: &Deps, req: &Request) -> i64 {
    let now = deps.clock.now_ms();
    let deadline = req
        .lambda_context_ref()
        .map(|c| c.deadline as i64)
        .filter(|d| *d > now + 1_000);
    deadline.map(|d| d + 1_000).unwrap_or(now + DEFAULT_LOCK_MS)
}

/// A GHL Marketplace app sends every event type to one URL. A signed-shape Marketplace event
/// (it has `type` and `webhookId`) is applied by the endpoint for its type: `Some(Some(entry))`,
/// `Some(None)` for a type the bridge does not act on; `None` when the body is not one.
fn marketplace_target(entry: &Entry, body: &Value) -> Option<Option<&'static Entry>> {
    if entry.sender != Sender::GoHighLevel {
        return None;
    }
    body.get("webhookId")?;
    let kind = body.get("type")?.as_str()?;
    Some(registry::by_marketplace_type(kind))
}

/// The first queued copy of an event received now.
fn first_attempt(deps: &Deps, id: EndpointId, raw: &[u8], key: String) -> QueuedEvent {
    QueuedEvent {
        endpoint: id,
        body: String::from_utf8_lossy(raw).into_owned(),
        key,
        attempt: 1,
        first_received_at: chrono::DateTime::from_timestamp_millis(deps.clock.now_ms())
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        last_error: None,
        parked_at: None,
    }
}

/// Everything from the raw request to what became of the event.
async fn receive(id: EndpointId, deps: &Deps, req: &Request) -> Result<Handled, BridgeError> {
    let entry = id.entry();
    let authenticated = authenticate(deps, entry.sender, req)?;
    let raw = req.body().as_ref();
    let body = parse_body(raw)?;
    if entry.sender == Sender::GoHighLevel {
        check_origin(deps, authenticated, &body)?;
    }
    let marketplace = marketplace_target(entry, &body);
    let target = match marketplace {
        Some(Some(target)) => target,
        _ => entry,
    };
    let key = event_key(target.id, &body);
    if authenticated == Authenticated::Signature {
        check_freshness(deps, &key, &body).await?;
    }
    if matches!(marketplace, Some(None)) {
        return Ok(Handled::Applied(Outcome::with_result("ignored")));
    }
    let event = crate::handlers::handler(target.id).prepare(&body)?;
    let lock_until = lock_until_ms(deps, req);
    match apply_once(deps, target.id, event.as_ref(), &key, lock_until).await {
        Ok(Handled::Applied(outcome)) if target.id != id => {
            Ok(Handled::Applied(outcome.detail("appliedBy", target.id)))
        }
        Ok(handled) => Ok(handled),
        Err(error) if deferrable(&error) => {
            defer(deps, first_attempt(deps, target.id, raw, key), error).await
        }
        Err(error) => Err(error),
    }
}

/// Runs one webhook request for endpoint `id` through the pipeline. Never fails: every failure
/// is a JSON answer, and every request logs exactly one `webhook` line.
pub async fn handle(id: EndpointId, deps: &Deps, req: Request) -> Response<Body> {
    let started = Instant::now();
    let calls_before = deps.calls.get();
    deps.secrets.refresh_if_due().await;
    let result = receive(id, deps, &req).await;
    let cost = Cost {
        upstream_calls: deps.calls.get().saturating_sub(calls_before),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    respond(id, &result, cost)
}

/// Routes a request by method and path, the way API Gateway does in AWS. Used where one
/// process serves every route (tests, local tools); each Lambda serves one endpoint directly.
pub async fn route(deps: &Deps, req: Request) -> Response<Body> {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let method = req.method().as_str().to_string();
    let post = method == "POST";
    let get = method == "GET" || method == "HEAD";
    if let Some(entry) = registry::by_route(&path).filter(|_| post) {
        return handle(entry.id, deps, req).await;
    }
    if registry::HEALTH_ROUTES.contains(&path.as_str()) && get {
        return health::handle(deps, req).await;
    }
    let known = registry::routes().iter().any(|r| r.route == path);
    let status = match known {
        true => StatusCode::METHOD_NOT_ALLOWED,
        false => StatusCode::NOT_FOUND,
    };
    json_response(
        status,
        &json!({"error": "no_route", "message": format!("no route for {method} {path}")}),
    )
}

/// The `main` of a webhook function: starts (or refuses to, see [`crate::startup`]), then runs
/// endpoint `id` for every invocation.
pub async fn run(id: EndpointId) -> Result<(), lambda_http::Error> {
    let needs = crate::startup::Needs {
        contact_map: id.entry().uses_contact_map,
    };
    let deps = Deps::start(id.name(), needs).await?;
    serve(&deps, id).await
}

/// Serves endpoint `id` for every invocation.
pub async fn serve(deps: &Deps, id: EndpointId) -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(|req: Request| async move {
        Ok::<_, std::convert::Infallible>(handle(id, deps, req).await)
    }))
    .await
}
