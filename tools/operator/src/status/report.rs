//! The report `bridge status` prints: one section per source, each read or saying why not, and
//! what needs attention. Plain data (Serialize): the gatherers fill it, [`super::render`] and
//! `--json` show it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::redrive::Group;

/// The retry queue's oldest message is a problem past this (the stack's `RetryQueueAgeAlarm`).
pub const RETRY_AGE_LIMIT_SECS: i64 = 30 * 60;
/// A reconciliation pass is behind past this (the stack's `ReconcileLagAlarm`).
pub const RECONCILE_LAG_LIMIT_SECS: i64 = 3600;

/// Why a section whose source is the stack has nothing: the stack itself could not be read
/// (the stack section says why).
pub const STACK_UNREAD: &str = "the stack could not be read";

/// One section: read (`ok`, with its `data`), or why not: `unavailable` (the source is there
/// but could not be read) or `not_configured` (nothing names a source for it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Section<T> {
    Ok { data: T },
    Unavailable { reason: String },
    NotConfigured { reason: String },
}

impl<T> Section<T> {
    pub fn ok(data: T) -> Self {
        Section::Ok { data }
    }

    pub fn unavailable(reason: impl Into<String>) -> Self {
        Section::Unavailable {
            reason: reason.into(),
        }
    }

    pub fn not_configured(reason: impl Into<String>) -> Self {
        Section::NotConfigured {
            reason: reason.into(),
        }
    }

    /// The data, when read.
    pub fn data(&self) -> Option<&T> {
        match self {
            Section::Ok { data } => Some(data),
            _ => None,
        }
    }
}

/// The deployment's stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackInfo {
    /// None when read from a saved copy of the outputs.
    pub name: Option<String>,
    /// `CREATE_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`, …; none from a saved copy.
    pub status: Option<String>,
    /// `cloudformation` or `outputs_file`.
    pub source: String,
}

/// `GET <ApiUrl>/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    pub url: String,
    pub http_status: u16,
    /// The answer's `status` field (`ok`, `degraded`), when it had one.
    pub status: Option<String>,
}

impl Health {
    pub fn is_ok(&self) -> bool {
        (200..300).contains(&self.http_status) && self.status.as_deref() == Some("ok")
    }
}

/// How old the retry queue's oldest message is. SQS has no such queue attribute: it comes
/// from CloudWatch's `AWS/SQS` `ApproximateAgeOfOldestMessage` metric (published every minute
/// for a real queue), so it may be a few minutes old itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum OldestAge {
    /// The latest datapoint (Maximum over a minute) and when it was taken.
    Cloudwatch { seconds: i64, at: String },
    /// No message on the queue: no oldest one.
    Empty,
    /// Not known, and why.
    Unknown { why: String },
}

/// The retry queue's depth (SQS's approximate counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryQueue {
    pub url: String,
    /// `ApproximateNumberOfMessages`: waiting to be received.
    pub visible: u64,
    /// `ApproximateNumberOfMessagesNotVisible`: received, being worked on.
    pub in_flight: u64,
    /// `ApproximateNumberOfMessagesDelayed`: waiting out their delay.
    pub delayed: u64,
    pub oldest_age: OldestAge,
}

/// The events parked on the dead-letter queue, by reason (as `bridge redrive` lists them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parked {
    pub url: String,
    pub total: usize,
    pub groups: Vec<Group>,
}

/// One reconciliation pass of one tenant, from its checkpoint in the state table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassLag {
    /// `default` (the deployment's own location) or the tenant's location id.
    pub tenant: String,
    /// `calls` or `contacts`.
    pub pass: String,
    /// The checkpoint's name in the state table; none when it cannot be named.
    pub checkpoint: Option<String>,
    /// When the pass last caught up with the present (RFC 3339).
    pub caught_up_at: Option<String>,
    /// Now minus that, in seconds.
    pub lag_seconds: Option<i64>,
    /// Why there is no lag: no checkpoint yet, never caught up, unknown location, unreadable.
    pub note: Option<String>,
}

/// The last reconciliation, pass by pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub passes: Vec<PassLag>,
    /// Why the registered tenants' passes are missing, when they are.
    pub tenants_unlisted: Option<String>,
}

/// The tenants of the registry, counted by status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantCounts {
    pub total: usize,
    /// Every status, 0 included: `active`, `disabled`, `awaiting_authorization`,
    /// `reauthorization_required`.
    pub by_status: BTreeMap<String, usize>,
    /// The disabled tenants by who disabled them: `operator` (a record written before the two
    /// were told apart counts as the operator's), `uninstall`; only those with any.
    pub disabled_by: BTreeMap<String, usize>,
    /// The tenants an operator disabled that were installed again since (not applied), by
    /// location.
    pub reinstalls_refused: Vec<ReinstallRefused>,
}

/// A tenant an operator disabled, installed again since: the latest re-install refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReinstallRefused {
    pub tenant: String,
    /// When (RFC 3339).
    pub at: String,
    /// `install_webhook` or `oauth_callback`.
    pub via: String,
    /// The company (agency) that installed, when named.
    pub company_id: Option<String>,
    /// The refused re-installs the record keeps (the latest few).
    pub count: usize,
}

/// One tenant's speed-to-lead dials of the last [`DIAL_WINDOW_HOURS`] hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantDials {
    /// `default` (the deployment's own location) or the tenant's location id.
    pub tenant: String,
    pub dialled: u64,
    /// Dials refused, by rule (`not_in_ghl`, `dnd_call`, `cap_per_hour`, …).
    pub refused: BTreeMap<String, u64>,
    /// Leads handed to their owner as a task, by why (`no_agent_task`, `attempts_task`, …).
    pub tasks: BTreeMap<String, u64>,
}

/// The hours the dials section covers.
pub const DIAL_WINDOW_HOURS: i64 = 24;

/// Speed to lead over the last [`DIAL_WINDOW_HOURS`] hours, tenant by tenant (only those with
/// any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dials {
    pub hours: i64,
    pub tenants: Vec<TenantDials>,
}

impl Dials {
    /// Dials refused by a cap, over every tenant.
    pub fn refused_by_cap(&self) -> u64 {
        self.tenants
            .iter()
            .flat_map(|t| t.refused.iter())
            .filter(|(rule, _)| rule.starts_with("cap_"))
            .map(|(_, n)| n)
            .sum()
    }
}

/// One of the stack's CloudWatch alarms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alarm {
    pub logical_id: String,
    pub name: String,
    /// `OK`, `ALARM`, `INSUFFICIENT_DATA`, or `NOT_FOUND` (in the stack, not in CloudWatch).
    pub state: String,
    pub reason: Option<String>,
    /// When it entered that state (RFC 3339).
    pub since: Option<String>,
}

/// Everything `bridge status` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusReport {
    /// When it was read (RFC 3339, UTC).
    pub generated_at: String,
    pub stack: Section<StackInfo>,
    pub health: Section<Health>,
    pub retry_queue: Section<RetryQueue>,
    pub parked: Section<Parked>,
    pub reconciliation: Section<Reconciliation>,
    pub tenants: Section<TenantCounts>,
    pub dials: Section<Dials>,
    pub alarms: Section<Vec<Alarm>>,
    /// What needs someone's attention (see [`attention`]); `--check` exits 1 when not empty.
    pub attention: Vec<String>,
}

/// A section that could not be read needs attention: nothing can be said about it (once
/// only when it is because the stack could not be read).
fn unreadable<T>(what: &str, section: &Section<T>, out: &mut Vec<String>) {
    match section {
        Section::Unavailable { reason } if reason != STACK_UNREAD => {
            out.push(format!("{what} could not be read: {reason}"));
        }
        _ => {}
    }
}

/// What needs attention: a section that could not be read, a stack that failed or rolled
/// back, a health answer that is not `ok`, any parked event, a retry queue older than
/// [`RETRY_AGE_LIMIT_SECS`], a reconciliation pass behind by more than
/// [`RECONCILE_LAG_LIMIT_SECS`], a tenant waiting for a new install, a tenant an operator
/// disabled that was installed again, a dial refused by a cap, an alarm in `ALARM` or missing
/// from CloudWatch. `INSUFFICIENT_DATA` alarms and sections not configured do not.
pub fn attention(report: &StatusReport) -> Vec<String> {
    let mut out = Vec::new();
    let r = report;
    unreadable("the stack", &r.stack, &mut out);
    unreadable("the health route", &r.health, &mut out);
    unreadable("the retry queue", &r.retry_queue, &mut out);
    unreadable("the dead-letter queue", &r.parked, &mut out);
    unreadable(
        "the reconciliation checkpoints",
        &r.reconciliation,
        &mut out,
    );
    unreadable("the tenants", &r.tenants, &mut out);
    unreadable("the dials", &r.dials, &mut out);
    unreadable("the alarms", &r.alarms, &mut out);
    let status = r.stack.data().and_then(|s| s.status.as_deref());
    if let Some(status) = status.filter(|s| s.contains("FAILED") || s.contains("ROLLBACK")) {
        out.push(format!("the stack is {status}"));
    }
    if let Some(h) = r.health.data().filter(|h| !h.is_ok()) {
        let said = h.status.as_deref().unwrap_or("no status");
        out.push(format!("health is {said} (HTTP {})", h.http_status));
    }
    if let Some(p) = r.parked.data().filter(|p| p.total > 0) {
        out.push(format!(
            "{} parked event(s) on the dead-letter queue",
            p.total
        ));
    }
    if let Some(OldestAge::Cloudwatch { seconds, .. }) = r.retry_queue.data().map(|q| &q.oldest_age)
    {
        if *seconds > RETRY_AGE_LIMIT_SECS {
            let age = duration(*seconds);
            out.push(format!("the retry queue's oldest message is {age} old"));
        }
    }
    for p in r.reconciliation.data().map_or(&[][..], |d| &d.passes) {
        if p.lag_seconds.is_some_and(|l| l > RECONCILE_LAG_LIMIT_SECS) {
            let lag = duration(p.lag_seconds.unwrap_or_default());
            out.push(format!(
                "reconciliation ({} of {}) is {lag} behind",
                p.pass, p.tenant
            ));
        }
    }
    let reauth = r
        .tenants
        .data()
        .and_then(|t| t.by_status.get("reauthorization_required"));
    if let Some(n) = reauth.filter(|n| **n > 0) {
        out.push(format!("{n} tenant(s) need the app installed again"));
    }
    for t in r.tenants.data().map_or(&[][..], |t| &t.reinstalls_refused) {
        out.push(format!(
            "tenant {} was installed again ({} at {}) while disabled by an operator: not applied; `bridge tenants enable {}` serves it, `bridge tenants disable {} --yes` keeps it off",
            t.tenant, t.via, t.at, t.tenant, t.tenant
        ));
    }
    if let Some(n) = r.dials.data().map(Dials::refused_by_cap).filter(|n| *n > 0) {
        out.push(format!(
            "{n} speed-to-lead dial(s) refused by a cap in the last {DIAL_WINDOW_HOURS} h"
        ));
    }
    for a in r.alarms.data().into_iter().flatten() {
        if a.state == "ALARM" || a.state == "NOT_FOUND" {
            out.push(format!("alarm {} is {}", a.logical_id, a.state));
        }
    }
    out
}

/// A duration in seconds, as a person reads it: `45s`, `3m 20s`, `2h 5m`, `3d 4h`.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}
