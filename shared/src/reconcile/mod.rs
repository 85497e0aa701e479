//! Reconciliation: what the webhooks missed, read back from the upstreams every
//! `ReconcileSchedule` (15 minutes by default) by the `reconcile` Lambda.
//!
//! GHL re-delivers a webhook only after a 429 and CloudTalk documents no retries at all, so an
//! event lost on the way (an outage, a timeout, a workflow switched off) is gone unless someone
//! reads it back. Two feeds allow that:
//! - [`calls`]: CloudTalk's call history (`GET /calls/index.json`), applied through the
//!   call-ended and recording-available handlers under the webhooks' own keys;
//! - [`contacts`]: GHL contacts updated since the checkpoint (`POST /contacts/search`),
//!   created or linked in CloudTalk when new to the map, with the tags added since the last
//!   sync appended.
//!
//! GHL notes, stage changes and status changes have no "changed since" feed: only their
//! webhooks carry them.
//!
//! Each pass keeps a checkpoint in the state table that moves only after a slice or page is
//! applied in full, so a run that dies mid-page repeats that page (every event in it is a
//! duplicate by then) and loses nothing. Every upstream call is a **background** call: it takes
//! a token of the shared budget only while the bucket holds more than the tokens kept for live
//! webhooks, so reconciliation lives on what the webhooks leave and never starves them.

pub mod calls;
pub use crate::company_time;
pub mod contacts;

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::deadline::Deadline;
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::pipeline::apply::{apply_once, defer, Handled};
use crate::registry::EndpointId;

/// The Lambda function's name.
pub const FUNCTION: &str = "reconcile";

/// What EventBridge's schedule invokes the function with (its content is not used).
pub type ScheduledEvent = Value;
/// Time kept at the end of a run to save checkpoints and log.
const RESERVE: Duration = Duration::from_secs(20);

/// How reconciliation reads the feeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Each run re-reads this much before the checkpoint (`RECONCILE_OVERLAP_SECS`, 15 min).
    pub overlap_ms: i64,
    /// How far back the first run reads (`RECONCILE_LOOKBACK_HOURS`, 24 h).
    pub lookback_ms: i64,
    /// The CloudTalk company's offset from UTC (`CLOUDTALK_UTC_OFFSET`).
    pub cloudtalk_offset: chrono::FixedOffset,
    /// How GHL's search takes a time: epoch milliseconds or ISO 8601 (`GHL_SEARCH_DATE_FORMAT`).
    pub ghl_dates_as_epoch_ms: bool,
}

impl Settings {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            overlap_ms: config.reconcile_overlap_secs * 1000,
            lookback_ms: config.reconcile_lookback_hours * 3600 * 1000,
            cloudtalk_offset: cloudtalk_offset(config.cloudtalk_utc_offset.as_deref()),
            ghl_dates_as_epoch_ms: config.ghl_search_dates_as_epoch_ms,
        }
    }
}

/// `CLOUDTALK_UTC_OFFSET`, or UTC (with a warning when it cannot be read).
fn cloudtalk_offset(text: Option<&str>) -> chrono::FixedOffset {
    let utc = chrono::Offset::fix(&chrono::Utc);
    match text.map(|t| (t, company_time::parse_offset(t))) {
        None => utc,
        Some((_, Some(offset))) => offset,
        Some((t, None)) => {
            tracing::warn!(value = %t, "CLOUDTALK_UTC_OFFSET is not an offset like +01:00; using UTC");
            utc
        }
    }
}

/// What one pass did, for the run's summary line.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PassSummary {
    pub pass: &'static str,
    /// Calls or contacts read.
    pub scanned: u32,
    /// Events applied now: the webhook never came.
    pub applied: u32,
    /// Events the bridge had applied already.
    pub already_applied: u32,
    /// Events refused for good (parked on the dead-letter queue with their reason).
    pub failed: u32,
    /// Since when (seconds) the pass has not caught up with the present.
    pub lag_seconds: i64,
    /// Why the pass stopped before the present (it resumes from its checkpoint next run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Why the pass did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Calls still in progress, kept to be read again (the calls pass).
    #[serde(skip_serializing_if = "is_zero")]
    pub in_progress: u32,
    /// Calls still in progress after `calls::MAX_CALL_MS`, no longer waited for.
    #[serde(skip_serializing_if = "is_zero")]
    pub abandoned: u32,
    /// Calls only the trailing sweep found (the leading read missed them).
    #[serde(skip_serializing_if = "is_zero")]
    pub late: u32,
    /// Why the CloudTalk offset looks wrong, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset_suspect: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl PassSummary {
    fn new(pass: &'static str) -> Self {
        Self {
            pass,
            ..Self::default()
        }
    }

    fn skipped(mut self, why: &str) -> Self {
        self.skipped = Some(why.to_string());
        self
    }

    fn stopped(mut self, why: impl std::fmt::Display) -> Self {
        self.stopped = Some(why.to_string());
        self
    }

    /// Sets the lag from when the pass last caught up (never: since the lookback began).
    fn lagging(mut self, caught_up_at_ms: Option<i64>, now_ms: i64) -> Self {
        self.lag_seconds = caught_up_at_ms.map_or(0, |at| (now_ms - at).max(0) / 1000);
        self
    }

    fn count(&mut self, outcomes: &[Applied]) {
        for outcome in outcomes {
            match outcome {
                Applied::Now => self.applied += 1,
                Applied::Before => self.already_applied += 1,
                Applied::Parked => self.failed += 1,
                Applied::Later(_) => {}
            }
        }
    }
}

/// What became of one event reconciliation applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    Now,
    /// A duplicate: its webhook (or an earlier run) applied it.
    Before,
    /// Refused for good, parked with its reason.
    Parked,
    /// Cannot be applied now (a rate limit, an outage, a concurrent delivery): the pass stops
    /// here and the next run resumes from the checkpoint.
    Later(String),
}

/// Applies one event as its webhook would be: parsed by the endpoint's handler and applied
/// once under the webhook's idempotency key.
pub async fn apply_event(deps: &Deps, id: EndpointId, body: &Value) -> Applied {
    let key = crate::idempotency::key_of(deps.config.tenant_id.as_deref(), id, body);
    let prepared = match crate::handlers::handler(id).prepare(body) {
        Ok(p) => p,
        Err(e) => return park(deps, id, body, &key, BridgeError::from(e)).await,
    };
    let left = Deadline::time_left().unwrap_or(deps.config.request_deadline);
    let lock_until = deps.clock.now_ms() + i64::try_from(left.as_millis()).unwrap_or(0) + 5_000;
    match apply_once(deps, id, prepared.as_ref(), &key, lock_until).await {
        Ok(Handled::Duplicate(_)) => Applied::Before,
        Ok(_) => Applied::Now,
        Err(e) if e.is_retryable() => {
            Applied::Later(format!("{}: {}", e.code(), e.public_message()))
        }
        Err(e) => park(deps, id, body, &key, e).await,
    }
}

pub(crate) async fn park(
    deps: &Deps,
    id: EndpointId,
    body: &Value,
    key: &str,
    error: BridgeError,
) -> Applied {
    let event = deps.own_event_keyed(id, body, key.to_string());
    match defer(deps, event, error).await {
        Ok(Handled::Parked { .. }) => Applied::Parked,
        Ok(_) => Applied::Later("queued".into()),
        Err(e) => Applied::Later(format!("could not park: {}", e.public_message())),
    }
}

/// Stops a pass that has too little time left to apply another page.
fn check_time() -> Result<(), String> {
    match Deadline::time_left() {
        Some(left) if left < RESERVE => Err("out of time; resumes next run".into()),
        _ => Ok(()),
    }
}

async fn load<T: DeserializeOwned + Default>(deps: &Deps, name: &str) -> Result<T, String> {
    let text = deps
        .state
        .get_value(name)
        .await
        .map_err(|e| format!("reading {name}: {e}"))?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

async fn save<T: Serialize>(deps: &Deps, name: &str, value: &T) -> Result<(), String> {
    let text = serde_json::to_string(value).unwrap_or_default();
    deps.state
        .put_value(name, &text)
        .await
        .map_err(|e| format!("saving {name}: {e}"))
}

/// What a run did: both passes, and the totals of its summary line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// The registered tenant the run was for (none for the deployment's own location).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub scanned: u32,
    pub applied: u32,
    pub already_applied: u32,
    pub failed: u32,
    pub lag_seconds: i64,
    /// Why the CloudTalk offset looks wrong, when a pass says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset_suspect: Option<String>,
    pub passes: Vec<PassSummary>,
}

impl RunSummary {
    /// A pass stopped on an error (not on the clock): the run failed, and says so.
    pub fn failed_pass(&self) -> Option<&PassSummary> {
        self.passes.iter().find(|p| {
            p.stopped
                .as_deref()
                .is_some_and(|s| !s.starts_with("out of time"))
        })
    }
}

/// One reconciliation run: both passes as background work, then one `reconcile` log line.
pub async fn run(deps: &Deps) -> RunSummary {
    let started = std::time::Instant::now();
    let settings = Settings::from_config(&deps.config);
    let now = deps.clock.now_ms();
    let work = async {
        vec![
            calls::run(deps, &settings, now).await,
            contacts::run(deps, &settings, now).await,
        ]
    };
    let passes = crate::rate_limit::background(work).await;
    let total = |f: fn(&PassSummary) -> u32| passes.iter().map(f).sum();
    let summary = RunSummary {
        tenant: deps.config.tenant_id.clone(),
        scanned: total(|p| p.scanned),
        applied: total(|p| p.applied),
        already_applied: total(|p| p.already_applied),
        failed: total(|p| p.failed),
        lag_seconds: passes.iter().map(|p| p.lag_seconds).max().unwrap_or(0),
        offset_suspect: passes.iter().find_map(|p| p.offset_suspect.clone()),
        passes,
    };
    let passes = serde_json::to_string(&summary.passes).unwrap_or_default();
    tracing::info!(
        tenant = summary.tenant.as_deref(),
        scanned = summary.scanned,
        applied = summary.applied,
        already_applied = summary.already_applied,
        failed = summary.failed,
        lag_seconds = summary.lag_seconds,
        offset_suspect = summary.offset_suspect.as_deref(),
        run_failed = summary.failed_pass().is_some(),
        passes = %passes,
        duration_ms = started.elapsed().as_millis() as u64,
        "reconcile"
    );
    summary
}

/// Every run of one invocation: the deployment's own location, then each active registered
/// tenant with a CloudTalk key, each with its own accounts and checkpoints. The time left is
/// shared out evenly, so one tenant with a long backlog cannot starve the others (each resumes
/// from its checkpoint next run).
pub async fn run_all(deps: &Deps) -> Vec<RunSummary> {
    let tenants = match served_tenants(deps).await {
        Ok(t) => t,
        Err(e) => {
            let mut summary = run(deps).await;
            summary
                .passes
                .push(PassSummary::new("tenants").stopped(format!("listing tenants: {e}")));
            return vec![summary];
        }
    };
    let mut runs = Vec::with_capacity(tenants.len() + 1);
    runs.push(in_share(run(deps), tenants.len() + 1).await);
    for (i, location) in tenants.iter().enumerate() {
        // Each tenant passes admission as a webhook would: read now, it must exist and be
        // active (a tenant disabled since the listing reads nothing), then its GHL token.
        let work = async {
            let admitted = match crate::admission::readmit(deps, Some(location)).await {
                Ok(tenancy) => crate::admission::deployment(deps, &tenancy).await,
                Err(e) => Err(e),
            };
            match admitted {
                Ok(Some(tenant_deps)) => run(&tenant_deps).await,
                Ok(None) => run(deps).await,
                Err(e) => tenant_failed(location, e),
            }
        };
        runs.push(in_share(work, tenants.len() - i).await);
    }
    runs
}

/// Runs `work` within its share of the time left, `left` runs (this one included) to go.
async fn in_share<F: std::future::Future<Output = RunSummary>>(work: F, left: usize) -> RunSummary {
    match Deadline::time_left() {
        Some(time) => {
            let share = time.saturating_sub(RESERVE) / u32::try_from(left.max(1)).unwrap_or(1);
            Deadline::after(share + RESERVE).scope(work).await
        }
        None => work.await,
    }
}

/// The registered tenants reconciliation serves: active, with a CloudTalk key (by location).
pub async fn served_tenants(deps: &Deps) -> Result<Vec<String>, String> {
    let Some(registry) = deps.tenants.as_deref() else {
        return Ok(Vec::new());
    };
    let mut served = Vec::new();
    for (record, _) in registry.list().await.map_err(|e| e.to_string())? {
        let has_key = record
            .cloudtalk_key_id
            .as_deref()
            .is_some_and(|k| !k.is_empty());
        if record.status == crate::tenants::TenantStatus::Active
            && has_key
            && !deps.serves_location(&record.location_id)
        {
            served.push(record.location_id);
        }
    }
    Ok(served)
}

/// The run of a tenant that could not be admitted now (disabled since the listing, its GHL
/// token not to be had).
fn tenant_failed(location: &str, error: BridgeError) -> RunSummary {
    let why = format!("{}: {}", error.code(), error.public_message());
    tracing::warn!(tenant = %location, error = %error.code(), "reconcile: the tenant could not be served");
    RunSummary {
        tenant: Some(location.to_string()),
        scanned: 0,
        applied: 0,
        already_applied: 0,
        failed: 0,
        lag_seconds: 0,
        offset_suspect: None,
        passes: vec![match error.code() {
            // Disabled since the listing: nothing to read, nothing failed.
            "tenant_disabled" => PassSummary::new("tenant").skipped(&why),
            _ => PassSummary::new("token").stopped(why),
        }],
    }
}

/// One scheduled invocation of the `reconcile` Lambda: every run under the invocation's
/// deadline, answered with their totals (and each tenant's run when there are several). A
/// pass stopped by an error fails the invocation, which the stack alarms on.
pub async fn handle(
    deps: &Deps,
    _event: Value,
    deadline_epoch_ms: Option<u64>,
) -> Result<Value, lambda_runtime::Error> {
    deps.secrets.refresh_if_due().await;
    let deadline = deadline_epoch_ms
        .and_then(crate::deadline::invocation_deadline)
        .unwrap_or(Deadline::after(Duration::from_secs(300)));
    let runs = deadline.scope(run_all(deps)).await;
    let failed: Vec<String> = runs
        .iter()
        .filter_map(|r| {
            let pass = r.failed_pass()?;
            let tenant = r.tenant.as_deref().unwrap_or("default");
            Some(format!(
                "{} of {tenant}: {}",
                pass.pass,
                pass.stopped.clone().unwrap_or_default()
            ))
        })
        .collect();
    if !failed.is_empty() {
        return Err(format!("reconciliation stopped: {}", failed.join("; ")).into());
    }
    let total = |f: fn(&RunSummary) -> u32| runs.iter().map(f).sum::<u32>();
    let mut answer = match runs.as_slice() {
        [only] => json!(only),
        _ => json!({ "runs": runs }),
    };
    answer["scanned"] = json!(total(|r| r.scanned));
    answer["applied"] = json!(total(|r| r.applied));
    answer["already_applied"] = json!(total(|r| r.already_applied));
    answer["failed"] = json!(total(|r| r.failed));
    answer["lag_seconds"] = json!(runs.iter().map(|r| r.lag_seconds).max().unwrap_or(0));
    Ok(answer)
}
