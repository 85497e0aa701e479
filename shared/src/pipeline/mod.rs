//! The request pipeline every webhook endpoint shares: admission (the size check and one parse,
//! the tenant's record, authentication, the fences, whether the tenant may act: see
//! [`crate::admission`]), then the event applied once (or queued or parked), answered, and one
//! structured log line written.
//!
//! - [`auth`]: secrets, signatures, the location and app fences, the timestamp window;
//! - [`apply`]: exactly-once application, the retry queue and the dead-letter queue;
//! - [`answer`]: the HTTP answers and the log line;
//! - [`health`]: the health routes.

pub mod answer;
pub mod apply;
pub mod auth;
pub mod conflict;
pub mod health;
pub mod oauth_callback;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lambda_http::{http::StatusCode, Body, Request, RequestExt, Response};
use serde_json::json;

use crate::admission::{self, Inbound, Named, Target, Tenancy};
use crate::deadline::Deadline;
use crate::deps::Deps;
use crate::endpoint::{Outcome, Prepared};
use crate::error::BridgeError;
use crate::handlers::Bind;
use crate::idempotency::{key_of, DEFAULT_LOCK_MS};
use crate::payload::{named_contacts, NamedContacts};
use crate::registry::{self, EndpointId, Sender};
use crate::retry_queue::QueuedEvent;
use answer::{json_response, respond, Cost};
use apply::{apply_once, defer, run_follow_ups, Handled};
use auth::{authenticate, check_freshness, check_install_origin, check_origin, Authenticated};

/// Time kept at the end of a request to queue the event and answer.
const ANSWER_RESERVE: Duration = Duration::from_millis(1_500);
/// The in-progress lock outlives the attempt's deadline by this much.
const LOCK_MARGIN_MS: i64 = 5_000;

/// The deadline of a request's work: `REQUEST_DEADLINE_MS` after it arrived, less the time to
/// queue and answer, and never past the Lambda invocation's own deadline.
fn work_deadline(deps: &Deps, req: &Request) -> Deadline {
    let budget = deps.config.request_deadline.saturating_sub(ANSWER_RESERVE);
    let request = Deadline::after(budget);
    let now = deps.clock.now_ms();
    let invocation = req
        .lambda_context_ref()
        .map(|c| c.deadline as i64 - now)
        .filter(|left| *left > 0)
        .map(|left| {
            Deadline::after(Duration::from_millis(left as u64).saturating_sub(ANSWER_RESERVE))
        });
    invocation.map_or(request, |i| request.min(i))
}

/// The in-progress lock of an attempt: a little past its deadline, so that an attempt that was
/// cut off (a killed Lambda) is taken over soon after.
fn lock_until_ms(deps: &Deps, deadline: Deadline) -> i64 {
    let left = i64::try_from(deadline.remaining().as_millis()).unwrap_or(DEFAULT_LOCK_MS);
    deps.clock.now_ms() + left + LOCK_MARGIN_MS
}

/// The first queued copy of an event received now, for `tenant` (none: the deployment's own),
/// with the credential it was received with.
fn first_attempt(deps: &Deps, id: EndpointId, raw: &[u8], accepted: &Accepted) -> QueuedEvent {
    QueuedEvent::fresh(
        id,
        String::from_utf8_lossy(raw).into_owned(),
        accepted.key.clone(),
        accepted.tenant.clone(),
        Some(accepted.credential),
        deps.clock.now_ms(),
    )
}

/// An event that passed every check and is being applied: what the pipeline needs to queue it
/// should the attempt run out of time.
#[derive(Debug, Clone)]
struct Accepted {
    id: EndpointId,
    key: String,
    lock_until_ms: i64,
    tenant: Option<String>,
    credential: Authenticated,
}

/// Everything from the raw request to what became of the event: admission (one parse, the
/// tenant's record, authentication, the origin fences, whether the tenant may act; see
/// [`crate::admission`]), then the event applied once, queued or parked.
async fn receive(
    (id, bind): (EndpointId, Bind),
    deps: &Deps,
    req: &Request,
    accepted: &Mutex<Option<Accepted>>,
    named: &Mutex<NamedContacts>,
) -> Result<Handled, BridgeError> {
    let entry = id.entry();
    let raw = req.body().as_ref();
    let inbound = Inbound::read(id, req.uri().path(), req.headers(), raw)?;
    if let Ok(mut slot) = named.lock() {
        *slot = named_contacts(inbound.endpoint(), &inbound.body);
    }
    let tenancy = admission::tenancy(
        deps,
        inbound.tenant_location(),
        match entry.sender {
            Sender::GoHighLevel => Named::GhlBody,
            Sender::CloudTalk => Named::Tenant,
        },
    )
    .await?;
    let secrets = tenancy.webhook_secrets(deps, entry.sender);
    let authenticated = authenticate(deps, entry.sender, req, &secrets)?;
    match (&inbound.target, entry.sender) {
        (Target::Install(install), _) => {
            check_install_origin(deps, authenticated, install, &inbound.body)?
        }
        (_, Sender::GoHighLevel) => check_origin(deps, &tenancy, authenticated, &inbound)?,
        (_, Sender::CloudTalk) => {}
    }
    let target = inbound.endpoint();
    admission::check_credential(target, Some(authenticated))?;
    admission::may_act(&tenancy)?;
    let tenant = tenancy.location().map(str::to_string);
    let now = deps.clock.now_ms();
    crate::arrivals::note(deps.state.as_ref(), tenant.as_deref(), target, now).await;
    let key = key_of(tenant.as_deref(), target, &inbound.body);
    if authenticated == Authenticated::Signature {
        check_freshness(deps, &key, &inbound.body).await?;
    }
    if inbound.target == Target::Ignored {
        return Ok(Handled::Applied(Outcome::with_result("ignored")));
    }
    let Some(handler) = bind(target) else {
        // Not this function's work (a Marketplace event of another type on the app's URL): the
        // retry worker, which carries every handler, applies it.
        let raw = req.body().as_ref();
        let event = QueuedEvent::fresh(
            target,
            String::from_utf8_lossy(raw).into_owned(),
            key,
            tenant,
            Some(authenticated),
            deps.clock.now_ms(),
        );
        return hand_to_worker(deps, event).await;
    };
    let event = handler.prepare(&inbound.body)?;
    let lock_until = lock_until_ms(
        deps,
        Deadline::current().unwrap_or(Deadline::after(Duration::ZERO)),
    );
    let this = Accepted {
        id: target,
        key: key.clone(),
        lock_until_ms: lock_until,
        tenant,
        credential: authenticated,
    };
    if let Ok(mut slot) = accepted.lock() {
        *slot = Some(this.clone());
    }
    apply_accepted(deps, (id, bind), &tenancy, &this, event.as_ref(), raw).await
}

/// Queues an accepted event for the retry worker at once.
async fn hand_to_worker(deps: &Deps, event: QueuedEvent) -> Result<Handled, BridgeError> {
    match deps.retry_queue.enqueue(&event, 0).await {
        Ok(()) => Ok(Handled::Queued {
            delay_secs: 0,
            reason: "applied by the retry worker".into(),
        }),
        Err(e) => Err(BridgeError::Store(e)),
    }
}

/// An accepted event: from here on it is never only answered. What can succeed later (a token
/// being renewed by another container, an upstream outage) is queued; what cannot is parked
/// with its reason (and answered with its status, `parked: true`).
async fn apply_accepted(
    deps: &Deps,
    (id, bind): (EndpointId, Bind),
    tenancy: &Tenancy,
    this: &Accepted,
    event: &dyn Prepared,
    raw: &[u8],
) -> Result<Handled, BridgeError> {
    let target = this.id;
    let applied = match admission::deployment(deps, tenancy).await {
        Ok(tenant_deps) => {
            let deps = tenant_deps.as_ref().unwrap_or(deps);
            let attempt = apply_once(deps, target, event, &this.key, this.lock_until_ms);
            match crate::rate_limit::arriving(attempt).await {
                Ok(Handled::Applied(mut outcome)) => {
                    let origin = (this.tenant.clone(), Some(this.credential));
                    run_follow_ups(deps, &mut outcome, origin, (this.lock_until_ms, bind)).await;
                    Ok(Handled::Applied(outcome))
                }
                other => other,
            }
        }
        Err(error) => Err(error),
    };
    match applied {
        Ok(Handled::Applied(outcome)) if target != id => {
            Ok(Handled::Applied(outcome.detail("appliedBy", target)))
        }
        Ok(handled) => Ok(handled),
        Err(error) => defer(deps, first_attempt(deps, target, raw, this), error).await,
    }
}

/// Runs one webhook request for endpoint `id` through the pipeline. Never fails: every failure
/// is a JSON answer, and every request logs exactly one `webhook` line.
pub async fn handle(id: EndpointId, deps: &Deps, req: Request) -> Response<Body> {
    handle_with((id, crate::handlers::every), deps, req).await
}

/// [`handle`] with the handlers `bind` gives (a function's own: [`crate::handlers::bound`]).
pub async fn handle_with(
    (id, bind): (EndpointId, Bind),
    deps: &Deps,
    req: Request,
) -> Response<Body> {
    let started = Instant::now();
    let calls_before = deps.calls.counts();
    deps.secrets.refresh_if_due().await;
    let deadline = work_deadline(deps, &req);
    let accepted = Mutex::new(None);
    let named = Mutex::new(NamedContacts::default());
    let work = deadline.scope(receive((id, bind), deps, &req, &accepted, &named));
    let hard_stop = deadline.instant() + ANSWER_RESERVE / 3;
    let result = match tokio::time::timeout_at(hard_stop, work).await {
        Ok(result) => result,
        Err(_) => rescue(deps, &req, accepted.lock().ok().and_then(|a| a.clone())).await,
    };
    let cost = Cost {
        calls: deps.calls.counts().since(calls_before),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    let named = named.into_inner().unwrap_or_default();
    respond(
        id,
        &result,
        cost,
        &named,
        deps.config.metrics_namespace.as_deref(),
    )
}

/// The attempt ran out of time at an await that has no deadline of its own (a slow store): an
/// accepted event is queued to resume after its lock expires; one not yet accepted is answered
/// 429, so that the sender tries again.
async fn rescue(
    deps: &Deps,
    req: &Request,
    accepted: Option<Accepted>,
) -> Result<Handled, BridgeError> {
    let Some(accepted) = accepted else {
        return Err(BridgeError::Store(crate::store::StoreError::new(
            "the request ran out of time before it was accepted",
        )));
    };
    let mut event = first_attempt(deps, accepted.id, req.body().as_ref(), &accepted);
    let wait_ms = (accepted.lock_until_ms - deps.clock.now_ms()).max(1_000);
    event.not_before_ms = Some(accepted.lock_until_ms);
    event.last_error = Some("out of time: the attempt was cut off at its deadline".into());
    let delay_secs = (wait_ms as u64)
        .div_ceil(1000)
        .min(crate::retry_queue::MAX_QUEUE_DELAY_SECS) as u32;
    match deps.retry_queue.enqueue(&event, delay_secs).await {
        Ok(()) => Ok(Handled::Queued {
            delay_secs,
            reason: "out of time: resumes from its recorded steps".into(),
        }),
        Err(e) => Err(BridgeError::Store(e)),
    }
}

/// Routes a request by method and path, the way API Gateway does in AWS. Used where one
/// process serves every route (tests, local tools); each Lambda serves one endpoint directly.
pub async fn route(deps: &Deps, req: Request) -> Response<Body> {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let method = req.method().as_str().to_string();
    let post = method == "POST";
    let get = method == "GET" || method == "HEAD";
    let by_tenant_route = || {
        registry::REGISTRY
            .iter()
            .find(|e| crate::admission::path_tenant(&path, e).is_some())
    };
    if let Some(entry) = registry::by_route(&path)
        .or_else(by_tenant_route)
        .filter(|_| post)
    {
        return handle(entry.id, deps, req).await;
    }
    if registry::HEALTH_ROUTES.contains(&path.as_str()) && get {
        return health::handle(deps, req).await;
    }
    if path == oauth_callback::ROUTE && get {
        return oauth_callback::handle(deps, req).await;
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
/// endpoint `id` for every invocation with the handlers `bind` gives (see
/// [`crate::handlers::bound`]).
pub async fn run(id: EndpointId, bind: Bind) -> Result<(), lambda_http::Error> {
    let needs = crate::startup::Needs {
        contact_map: id.entry().uses_contact_map,
    };
    let deps = Deps::start(id.name(), needs).await?;
    serve(&deps, (id, bind)).await
}

/// Serves endpoint `id` for every invocation.
pub async fn serve(deps: &Deps, (id, bind): (EndpointId, Bind)) -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(|req: Request| async move {
        Ok::<_, std::convert::Infallible>(handle_with((id, bind), deps, req).await)
    }))
    .await
}
