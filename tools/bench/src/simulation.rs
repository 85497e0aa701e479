//! Load simulations in virtual time: bursts of webhooks through the real pipeline, the real
//! REST clients and shared budget, a retry queue with SQS's delays and the real retry worker,
//! against the sandbox served in the same process. Tokio's clock is paused, so an hour of
//! traffic runs in seconds and every wait (deadlines, timeouts, backoff, rate limits, queue
//! delays) is the real code's.
//!
//! The retry worker's event source is SQS's as the template sets it: up to [`BATCH`] (10)
//! messages an invocation, gathered for up to [`BATCHING_WINDOW`] (1 s) while fewer are visible.
//! The sandbox charges a bulk request [`Plan::bulk_request_cost`] requests of CloudTalk's 60 a
//! minute (CloudTalk does not document whether it is 1 or 10).
//!
//! Run with [`run`] inside a runtime whose time is paused (`tools/bench/src/bin/load-sim.rs`,
//! and a small version in `tools/bench/tests/load.rs`).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body as AxumBody;
use bridge::clock::{Clock, TokioClock};
use bridge::deadline::Deadline;
use bridge::retry_queue::{QueuedEvent, RetryQueue};
use bridge::store::StoreError;
use bridge::Deps;
use lambda_http::tower::ServiceExt;
use serde_json::json;

use bridge_local::sandbox::{Faults, Sandbox, SandboxClock, SandboxConfig};

const LOCATION: &str = "sim-location";
const GHL_SECRET: &str = "sim-ghl-secret";
const CLOUDTALK_SECRET: &str = "sim-cloudtalk-secret";
/// SQS's visibility timeout for a message the worker hands back (the template's).
const VISIBILITY_SECS: i64 = 360;
/// How many messages one worker invocation takes at most (the template's batch size).
pub const BATCH: usize = 10;
/// How long SQS's poller waits for more visible messages, up to [`BATCH`], before it invokes
/// the worker with fewer (the template's batching window).
pub const BATCHING_WINDOW: Duration = Duration::from_secs(1);
/// The commands one `POST /bulk/contacts.json` carries at most.
const BULK_COMMANDS: usize = 10;
/// The worker's Lambda timeout (the template's).
const WORKER_TIMEOUT: Duration = Duration::from_secs(60);

/// What kind of events a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traffic {
    /// GHL workflow new-contact events: CloudTalk is the upstream.
    GhlNewContacts,
    /// CloudTalk call-ended events: GoHighLevel is the upstream.
    CloudTalkCallsEnded,
    /// A GHL CSV import: GHL workflow new-contact events of distinct leads, each with its own
    /// phone, which the bridge may create in bulk (10 to a `POST /bulk/contacts.json`);
    /// CloudTalk is the upstream. Its floor is that of the bulk requests the leads need.
    GhlImport,
}

impl Traffic {
    /// Whether CloudTalk is the budgeted upstream (else GoHighLevel).
    fn to_cloudtalk(self) -> bool {
        matches!(self, Traffic::GhlNewContacts | Traffic::GhlImport)
    }
}

/// One run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub traffic: Traffic,
    pub events: usize,
    /// The events arrive evenly over this.
    pub spread: Duration,
    /// The sandbox's faults while the burst arrives, and until `recovery_after`.
    pub faults: Faults,
    /// When the faults stop (from the start).
    pub recovery_after: Duration,
    /// Probability that an attempt (a webhook or a worker invocation) is cut off at a random
    /// point, as a killed Lambda would be; a cut-off webhook is delivered again a minute later.
    pub abandon_rate: f64,
    /// Every Nth store call fails (0: never).
    pub store_failure_every: u64,
    /// The deployment's budgets.
    pub cloudtalk_rate_per_min: u32,
    pub ghl_rate_per_10s: u32,
    /// How many of CloudTalk's 60 requests a minute the sandbox charges one
    /// `POST /bulk/contacts.json` (see `SandboxConfig::bulk_request_cost`): 1 or 10.
    pub bulk_request_cost: u32,
    /// Give up (and count what is left as lost) after this much virtual time.
    pub horizon: Duration,
}

impl Plan {
    pub fn burst(traffic: Traffic, events: usize) -> Self {
        Self {
            traffic,
            events,
            spread: Duration::from_secs(10),
            faults: Faults::default(),
            recovery_after: Duration::ZERO,
            abandon_rate: 0.0,
            store_failure_every: 0,
            cloudtalk_rate_per_min: 50,
            ghl_rate_per_10s: 100,
            bulk_request_cost: 1,
            horizon: Duration::from_secs(48 * 3600),
        }
    }

    /// A GHL CSV import of `leads` new contacts arriving over a minute, against a CloudTalk
    /// that charges a bulk request `bulk_request_cost` requests.
    pub fn import(leads: usize, bulk_request_cost: u32) -> Self {
        Self {
            spread: Duration::from_secs(60),
            bulk_request_cost,
            ..Self::burst(Traffic::GhlImport, leads)
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Report {
    pub events: usize,
    /// Answered 200 (applied, duplicate) or 202 (queued).
    pub answered_ok: usize,
    /// Answered anything else.
    pub answered_other: usize,
    /// The slowest answer, in virtual milliseconds.
    pub slowest_answer_ms: u64,
    /// Written upstream exactly once.
    pub applied: usize,
    pub parked: usize,
    /// Written upstream more than once.
    pub duplicated: usize,
    /// Neither written nor parked by the horizon.
    pub lost: usize,
    /// From the first event until every event was applied or parked.
    pub drain_secs: f64,
    /// The least time the upstream calls made could take within the budget. For an import
    /// ([`Traffic::GhlImport`]), the least time its leads could take: ceil(leads / 10) bulk
    /// requests at [`Plan::bulk_request_cost`] each, plus the contact list requests made (the
    /// number index), within the budget.
    pub floor_secs: f64,
    /// The budget the calls actually made took (their cost, at the budget's rate): with faults,
    /// requests that failed and were made again count too.
    pub spent_secs: f64,
    pub upstream_calls: usize,
    /// The most calls to the budgeted upstream in any window of its limit.
    pub peak_in_window: usize,
    /// The most CloudTalk counted against its limit in any minute, as the sandbox counts: a
    /// bulk request at [`Plan::bulk_request_cost`] unless answered 429, any other request (a
    /// refused one too) as one; so over 60 only with requests answered 429.
    /// [`Report::peak_in_window`] for GHL.
    pub peak_cost_in_window: usize,
    pub window_secs: u64,
    /// `POST /bulk/contacts.json` requests made.
    pub bulk_requests: usize,
    /// Contact list requests made (`GET /contacts/index.json` without a `keyword`).
    pub list_requests: usize,
    /// Calls to the budgeted upstream answered 429.
    pub rate_limited: usize,
    pub worker_invocations: usize,
    /// Messages the worker handed back (batch item failures, as when it could neither queue
    /// nor park one): each is delivered again when the worker's lease on it ends.
    pub handed_back: usize,
    pub faults_injected: u64,
    pub store_failures: u64,
    pub abandoned: usize,
}

/// A message on the simulated queue.
struct Message {
    /// When it is (again) visible: after its delay, or when it was received, after its
    /// visibility timeout or the lease its worker took.
    visible_at: i64,
    /// The receipt handle of its latest receipt (0: never received).
    handle: u64,
    event: QueuedEvent,
}

/// The retry queue as SQS keeps it: each message invisible until its delay is over; a message
/// received stays on the queue, invisible for the visibility timeout ([`VISIBILITY_SECS`]) or
/// the lease its worker takes ([`RetryQueue::lease`]), until its worker deletes it.
#[derive(Default)]
pub struct SimQueue {
    messages: Mutex<Vec<Message>>,
    parked: Mutex<Vec<(QueuedEvent, String)>>,
    clock: Option<Arc<dyn Clock>>,
    /// The last receipt handle handed out.
    handles: std::sync::atomic::AtomicU64,
}

impl SimQueue {
    fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock: Some(clock),
            ..Self::default()
        }
    }

    fn now(&self) -> i64 {
        self.clock.as_ref().map_or(0, |c| c.now_ms())
    }

    fn push(&self, visible_at: i64, event: QueuedEvent) {
        if let Ok(mut m) = self.messages.lock() {
            m.push(Message {
                visible_at,
                handle: 0,
                event,
            });
        }
    }

    /// Up to `max` messages visible now, with their new receipt handles; each stays invisible
    /// for the visibility timeout unless its worker leases it.
    fn receive(&self, max: usize) -> Vec<(u64, QueuedEvent)> {
        let now = self.now();
        let Ok(mut m) = self.messages.lock() else {
            return vec![];
        };
        m.sort_by_key(|message| message.visible_at);
        let ready = m.iter().take_while(|x| x.visible_at <= now).count();
        m.iter_mut()
            .take(ready.min(max))
            .map(|message| {
                message.handle = self.handles.fetch_add(1, Ordering::SeqCst) + 1;
                message.visible_at = now + VISIBILITY_SECS * 1000;
                (message.handle, message.event.clone())
            })
            .collect()
    }

    /// Deletes the message received with `handle` (a handle of an earlier receipt deletes
    /// nothing, as in SQS).
    fn delete(&self, handle: u64) {
        if let Ok(mut m) = self.messages.lock() {
            m.retain(|message| message.handle != handle);
        }
    }

    /// When the next message becomes visible (again, for one in flight).
    fn next_visible(&self) -> Option<i64> {
        let m = self.messages.lock().ok()?;
        m.iter().map(|message| message.visible_at).min()
    }

    /// Whether no message is left, waiting or in flight.
    fn is_empty(&self) -> bool {
        self.messages.lock().map(|m| m.is_empty()).unwrap_or(true)
    }

    fn parked(&self) -> Vec<(QueuedEvent, String)> {
        self.parked.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl RetryQueue for SimQueue {
    async fn enqueue(&self, event: &QueuedEvent, delay_secs: u32) -> Result<(), StoreError> {
        if std::env::var_os("SIM_TRACE").is_some() {
            let lead = serde_json::from_str::<serde_json::Value>(&event.body)
                .ok()
                .and_then(|b| b["contact_id"].as_str().map(str::to_string))
                .unwrap_or_default();
            eprintln!(
                "{} enqueue {} {lead} attempt {} delay {} {:?}",
                self.now(),
                event.key,
                event.attempt,
                delay_secs,
                event.last_error
            );
        }
        self.push(self.now() + i64::from(delay_secs) * 1000, event.clone());
        Ok(())
    }

    async fn park(&self, event: &QueuedEvent, reason: &str) -> Result<(), StoreError> {
        if std::env::var_os("SIM_TRACE").is_some() {
            eprintln!("{} park {} {reason}", self.now(), event.key);
        }
        if let Ok(mut p) = self.parked.lock() {
            p.push((event.clone(), reason.to_string()));
        }
        Ok(())
    }

    /// As SQS's `ChangeMessageVisibility`: a message still in flight under one of these handles
    /// becomes visible `secs` from now; one visible again (or deleted) is not changed.
    async fn lease(&self, receipt_handles: &[String], secs: u32) -> Result<(), StoreError> {
        let now = self.now();
        let handles: std::collections::BTreeSet<u64> = receipt_handles
            .iter()
            .filter_map(|h| h.parse().ok())
            .collect();
        if std::env::var_os("SIM_TRACE").is_some() {
            eprintln!("{now} lease {} messages {secs} s", handles.len());
        }
        let mut m = self
            .messages
            .lock()
            .map_err(|_| StoreError::new("queue lock poisoned"))?;
        let mut not_in_flight = 0;
        for message in m.iter_mut().filter(|x| handles.contains(&x.handle)) {
            if message.visible_at > now {
                message.visible_at = now + i64::from(secs) * 1000;
            } else {
                not_in_flight += 1;
            }
        }
        match not_in_flight {
            0 => Ok(()),
            n => Err(StoreError::new(format!("{n} messages not in flight"))),
        }
    }

    /// The simulated queue carries typed events only, so the worker never meets a message it
    /// cannot read; one would be a fault of the simulation, reported as a failure.
    async fn park_raw(&self, _: &str, reason: &str) -> Result<(), StoreError> {
        Err(StoreError::new(format!(
            "the simulated queue holds only queued events: {reason}"
        )))
    }

    fn kind(&self) -> &'static str {
        "simulated-sqs"
    }
}

/// What an upstream call was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallKind {
    /// `POST /bulk/contacts.json`.
    Bulk,
    /// `GET /contacts/index.json` without a `keyword`: a page of the contact list.
    List,
    Other,
}

/// An upstream call as it left the bridge.
#[derive(Debug, Clone)]
struct Call {
    at_ms: i64,
    cloudtalk: bool,
    kind: CallKind,
    /// The answer's status; 0 when the bridge stopped waiting for it.
    status: u16,
    /// The commands of a bulk request (0 for other calls).
    commands: usize,
    /// Their ids, for the trace.
    command_ids: Option<Arc<str>>,
}

impl Call {
    fn new(at_ms: i64, req: &lambda_http::http::Request<Vec<u8>>) -> Self {
        let path = req.uri().path();
        let method = req.method();
        let searching = req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("keyword=")));
        let kind = match path {
            "/cloudtalk/api/bulk/contacts.json" if method == "POST" => CallKind::Bulk,
            "/cloudtalk/api/contacts/index.json" if method == "GET" && !searching => CallKind::List,
            _ => CallKind::Other,
        };
        Self {
            at_ms,
            cloudtalk: path.starts_with("/cloudtalk/"),
            kind,
            status: 0,
            command_ids: match kind {
                CallKind::Bulk if std::env::var_os("SIM_TRACE").is_some() => {
                    serde_json::from_slice::<serde_json::Value>(req.body())
                        .ok()
                        .and_then(|b| {
                            b.as_array().map(|commands| {
                                let ids: Vec<&str> = commands
                                    .iter()
                                    .filter_map(|c| c["command_id"].as_str())
                                    .collect();
                                Arc::from(ids.join(","))
                            })
                        })
                }
                _ => None,
            },
            commands: match kind {
                CallKind::Bulk => serde_json::from_slice::<serde_json::Value>(req.body())
                    .ok()
                    .and_then(|b| b.as_array().map(Vec::len))
                    .unwrap_or(0),
                _ => 0,
            },
        }
    }
}

/// Upstream calls as they left the bridge, with their answers' statuses.
#[derive(Default)]
struct CallLog(Mutex<Vec<Call>>);

impl CallLog {
    /// Logs a call; its index, for [`CallLog::answered`].
    fn push(&self, call: Call) -> usize {
        self.0.lock().map_or(usize::MAX, |mut l| {
            l.push(call);
            l.len() - 1
        })
    }

    fn answered(&self, index: usize, status: u16) {
        if let Some(call) = self.0.lock().ok().as_mut().and_then(|l| l.get_mut(index)) {
            call.status = status;
        }
    }
}

/// The sandbox, answering in this process, with every call logged.
fn upstream(
    sandbox: &Sandbox,
    clock: Arc<dyn Clock>,
    log: Arc<CallLog>,
) -> bridge::clients::rest::InProcess {
    let router = sandbox.router();
    Arc::new(move |req: lambda_http::http::Request<Vec<u8>>| {
        let router = router.clone();
        let log = log.clone();
        let at = clock.now_ms();
        Box::pin(async move {
            let logged = log.push(Call::new(at, &req));
            let (parts, body) = req.into_parts();
            let req = axum::http::Request::from_parts(parts, AxumBody::from(body));
            let answer = match router.oneshot(req).await {
                Ok(answer) => answer,
                Err(never) => match never {},
            };
            let (parts, body) = answer.into_parts();
            log.answered(logged, parts.status.as_u16());
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            lambda_http::http::Response::from_parts(parts, bytes.to_vec())
        })
    })
}

fn settings(plan: &Plan) -> bridge::config::Settings {
    let vars: HashMap<&str, String> = HashMap::from([
        (
            "CLOUDTALK_API_BASE",
            "http://sandbox/cloudtalk/api".to_string(),
        ),
        (
            "CLOUDTALK_AI_API_BASE",
            "http://sandbox/cloudtalk/ai/v1".to_string(),
        ),
        (
            "CLOUDTALK_ANALYTICS_API_BASE",
            "http://sandbox/cloudtalk/analytics".to_string(),
        ),
        ("CLOUDTALK_API_KEY_ID", "sandbox-key-id".into()),
        ("CLOUDTALK_API_KEY_SECRET", "sandbox-key-secret".into()),
        ("GHL_API_BASE", "http://sandbox/ghl".into()),
        ("GHL_API_TOKEN", "sandbox-ghl-token".into()),
        ("GHL_LOCATION_ID", LOCATION.into()),
        ("GHL_WEBHOOK_SECRET", GHL_SECRET.into()),
        ("CLOUDTALK_WEBHOOK_SECRET", CLOUDTALK_SECRET.into()),
        ("DEFAULT_PHONE_REGION", "IT".into()),
        (
            "CLOUDTALK_RATE_PER_MIN",
            plan.cloudtalk_rate_per_min.to_string(),
        ),
        ("GHL_RATE_PER_10S", plan.ghl_rate_per_10s.to_string()),
    ]);
    bridge::config::Settings::from_lookup(|k| vars.get(k).cloned())
}

/// The phone of event `i`: distinct for every event.
fn phone(i: usize) -> String {
    format!("+39351{:07}", 1_000_000 + i)
}

/// The webhook of event `i`.
fn request(traffic: Traffic, i: usize) -> lambda_http::Request {
    let (path, secret, body) = match traffic {
        Traffic::GhlNewContacts | Traffic::GhlImport => (
            "/api/ghl-webhooks/new-contact",
            GHL_SECRET,
            json!({"contact_id": format!("sim-{i}"), "first_name": "Sim", "last_name": format!("{i}"),
                "phone": phone(i), "location": {"id": LOCATION}}),
        ),
        Traffic::CloudTalkCallsEnded => (
            "/api/cloudtalk-webhooks/call-ended",
            CLOUDTALK_SECRET,
            json!({"call_id": 9_000_000 + i, "external_number": phone(i), "status": "answered",
                "talking_time": 42, "agent_name": "Sim"}),
        ),
    };
    lambda_http::http::Request::builder()
        .method("POST")
        .uri(format!("https://bridge.sim{path}"))
        .header("authorization", format!("Bearer {secret}"))
        .body(lambda_http::Body::Text(body.to_string()))
        .unwrap_or_default()
}

/// A number in [0, 1) from a counter (deterministic runs).
fn roll(n: u64) -> f64 {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

mod flaky;
mod judge;
mod workers;

pub use flaky::Flaky;

/// What a run is made of: the sandbox, the calls it logs, the retry queue, the store failures
/// injected, and the bridge's deps over them.
struct World {
    clock: Arc<dyn Clock>,
    sandbox: Sandbox,
    log: Arc<CallLog>,
    queue: Arc<SimQueue>,
    failures: Arc<std::sync::atomic::AtomicU64>,
    deps: Arc<Deps>,
}

fn world(plan: &Plan) -> World {
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_now());
    let sandbox = Sandbox::new(SandboxConfig {
        ghl_location_id: LOCATION.into(),
        enforce_cloudtalk_limit: true,
        bulk_request_cost: plan.bulk_request_cost,
        faults: plan.faults.clone(),
        quiet: true,
        clock: SandboxClock(clock.clone()),
        // The simulated calls are not in the sandbox's call history, so their AI data would
        // never be ready and each summary job would wait out its hour: the company has no
        // Conversation Intelligence here (the summary job has its own tests).
        ai_enabled: false,
        ..SandboxConfig::default()
    });
    let log = Arc::new(CallLog::default());
    let queue = Arc::new(SimQueue::new(clock.clone()));
    let failures = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut backends = bridge::Backends::in_memory();
    backends.retry_queue = queue.clone();
    if plan.store_failure_every > 0 {
        backends.idempotency = Arc::new(Flaky::new(
            backends.idempotency.clone(),
            plan.store_failure_every,
            failures.clone(),
        ));
        backends.contacts = Arc::new(Flaky::new(
            backends.contacts.clone(),
            plan.store_failure_every + 6,
            failures.clone(),
        ));
    }
    let deps = Deps::simulated(
        settings(plan),
        backends,
        clock.clone(),
        upstream(&sandbox, clock.clone(), log.clone()),
    )
    .map(Arc::new)
    .expect("simulated deps");
    World {
        clock,
        sandbox,
        log,
        queue,
        failures,
        deps,
    }
}

/// Runs a plan; tokio's time must be paused.
pub async fn run(plan: Plan) -> Report {
    let World {
        clock,
        sandbox,
        log,
        queue,
        failures,
        deps,
    } = world(&plan);
    let started = clock.now_ms();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let burst = {
        let (deps, plan, done) = (deps.clone(), plan.clone(), done.clone());
        tokio::spawn(async move { workers::send_burst(&deps, &plan, done).await })
    };
    let finished = workers::drain(&deps, &queue, &sandbox, &plan, done).await;
    let answers = burst.await.unwrap_or_default();
    if std::env::var_os("SIM_TRACE").is_some() {
        for call in log.0.lock().map(|l| l.clone()).unwrap_or_default() {
            let kind = match call.kind {
                CallKind::Bulk => "bulk",
                CallKind::List => "list",
                CallKind::Other => "other",
            };
            let side = if call.cloudtalk { "cloudtalk" } else { "ghl" };
            eprintln!(
                "{} call {side} {kind} {} {} {}",
                call.at_ms,
                call.status,
                call.commands,
                call.command_ids.as_deref().unwrap_or_default()
            );
        }
    }
    let mut report = judge::judge(
        &plan,
        &sandbox,
        &queue,
        &answers,
        &log.0.lock().map(|l| l.clone()).unwrap_or_default(),
    );
    report.drain_secs = (finished.last_done_ms - started) as f64 / 1000.0;
    report.worker_invocations = finished.invocations;
    report.handed_back = finished.handed_back;
    report.abandoned = answers.abandoned + finished.abandoned;
    report.store_failures = failures.load(std::sync::atomic::Ordering::Relaxed);
    report
}

/// The answers to the burst.
#[derive(Debug, Default)]
struct Answers {
    statuses: BTreeMap<u16, usize>,
    slowest_ms: u64,
    abandoned: usize,
}

/// How draining went.
#[derive(Debug, Default)]
struct Drained {
    last_done_ms: i64,
    invocations: usize,
    abandoned: usize,
    handed_back: usize,
}

/// The invocation deadline of a worker run.
fn worker_deadline() -> Deadline {
    Deadline::after(WORKER_TIMEOUT)
}
