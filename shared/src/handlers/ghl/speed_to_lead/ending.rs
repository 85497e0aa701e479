//! How a dial job ends: the lead dialled (a note naming who took it), handed over to the owner
//! (a task and a note), or refused by a rule (a note saying which, when the lead exists; a
//! `dial_refused` line always). Each end is counted per tenant and hour for `bridge status`.

use crate::clients::ghl::TaskInput;
use crate::deps::Deps;
use crate::endpoint::Outcome;
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::payload::ghl::DialJob;
use crate::speed_to_lead::rules::Rule;

use super::guard::{self, Lead};
use super::tries::{answer_text, tries};

/// How long the per-hour counts of dial outcomes are kept (`bridge status` reads 24 hours).
const STATS_KEEP_SECS: i64 = 2 * 24 * 3600;

/// The counters of a tenant's dial outcomes in the hour that holds `ms`: `dialled`,
/// `refused_<rule>` and `task_<why>`.
pub fn stats_name(location: &str, ms: i64) -> String {
    let hour = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y%m%d%H");
    format!("dial-stats#{location}#{hour}")
}

/// Counts one end of the job, once per job (the `stat` step); a store failure is logged, never
/// the reason a dial fails.
async fn count_end(deps: &Deps, location: &str, field: &str, steps: &mut Steps) {
    let now = deps.clock.now_ms();
    let name = stats_name(location, now);
    let counted = steps
        .run("stat", || async {
            let until = now / 1000 + STATS_KEEP_SECS;
            if let Err(e) = deps.state.count(&name, field, u64::MAX, until).await {
                tracing::warn!(detail = %e, "speed to lead: the outcome could not be counted");
            }
            Ok(field.to_string())
        })
        .await;
    if let Err(e) = counted {
        tracing::warn!(detail = %e, "speed to lead: the outcome's count was not recorded");
    }
}

pub(super) fn job_outcome(job: &DialJob, result: &'static str) -> Outcome {
    let mut outcome = Outcome::with_result(result);
    outcome.ghl_contact_id = Some(job.contact.id.clone());
    outcome.detail("trigger", &job.trigger)
}

/// The lead's note: the end, then every agent tried and what CloudTalk said.
async fn lead_note(deps: &Deps, trigger: &str, steps: &Steps, end: &str) -> String {
    let (tried, _) = tries(steps);
    let mut lines = vec![format!(
        "[Speed to lead] {end} ({})",
        trigger.replace("tag:", "tag ")
    )];
    for t in tried.iter().filter(|t| t.answer != "not_sent") {
        let agent = crate::resolve::agent::agent(deps, &t.agent).await;
        let name = agent.name.unwrap_or_else(|| format!("agent {}", t.agent));
        lines.push(format!("- {name}: {}", answer_text(&t.answer)));
    }
    lines.join("\n")
}

/// The note, once, found again by its marker if an earlier try's answer was lost.
async fn note(
    deps: &Deps,
    contact: &str,
    text: &str,
    user: Option<&str>,
    steps: &mut Steps,
) -> Result<String, BridgeError> {
    crate::handlers::marked_note_once(deps, contact, "note", text, user, steps).await
}

/// The "call this lead" task for the owner, once.
async fn task(
    deps: &Deps,
    lead: &Lead,
    why: &str,
    due_ms: i64,
    steps: &mut Steps,
) -> Result<String, BridgeError> {
    let marker = steps
        .marker("task")
        .unwrap_or_else(|| "untracked".to_string());
    let who = lead.name.clone().unwrap_or_else(|| lead.phone.clone());
    let task = TaskInput {
        title: format!("Call {who} (new lead)"),
        body: Some(format!("{why}\nPhone: {}\n[ref {marker}]", lead.phone)),
        due_date: crate::clock::rfc3339(due_ms),
        completed: false,
        assigned_to: lead.owner.clone(),
    };
    let contact = lead.id.as_str();
    let read_back = || async { Ok(deps.ghl.find_task(contact, &marker).await?) };
    let write = || async { Ok(deps.ghl.create_task(contact, &task).await?) };
    steps.run_checked("task", read_back, write).await
}

/// Ends a job without a dial: a task for the owner (due `due_ms`) and the note.
pub(super) async fn hand_over(
    deps: &Deps,
    job: &DialJob,
    lead: &Lead,
    (result, why): (&'static str, &str),
    due_ms: i64,
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    let task_id = task(deps, lead, why, due_ms, steps).await?;
    let text = lead_note(deps, &lead.trigger, steps, why).await;
    let note_id = note(deps, &lead.id, &text, None, steps).await?;
    count_end(deps, &lead.location, &format!("task_{result}"), steps).await;
    let (tried, _) = tries(steps);
    Ok(job_outcome(job, result)
        .detail("ghlTaskId", task_id)
        .detail("ghlNoteId", note_id)
        .detail("agentsTried", tried.len()))
}

/// Ends a job that a rule stopped: the `dial_refused` line (ids and the rule only), the note
/// when GHL holds the lead in this location, and a task when the rule asks for one.
pub(super) async fn refused(
    deps: &Deps,
    job: &DialJob,
    rule: Rule,
    lead: Option<Lead>,
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    let location = guard::location(deps, job);
    log_refusal(deps, job, &location, &rule);
    let mut outcome = job_outcome(job, "refused").detail("rule", rule.name());
    if let Some(lead) = lead.filter(|_| rule.lead_exists()) {
        let why = format!("Not dialled: {}", rule.why());
        if rule.opens_task() {
            let now = deps.clock.now_ms();
            let task_id = task(deps, &lead, &why, now, steps).await?;
            outcome = outcome.detail("ghlTaskId", task_id);
        }
        let text = lead_note(deps, &lead.trigger, steps, &why).await;
        let note_id = note(deps, &lead.id, &text, None, steps).await?;
        outcome = outcome.detail("ghlNoteId", note_id);
    }
    count_end(deps, &location, &format!("refused_{}", rule.name()), steps).await;
    Ok(outcome)
}

/// The `dial_refused` line: ids and the rule, never the number.
fn log_refusal(deps: &Deps, job: &DialJob, location: &str, rule: &Rule) {
    let metrics = crate::telemetry::dial_refused_metrics(deps.config.metrics_namespace.as_deref());
    tracing::warn!(
        endpoint = "speed-to-lead",
        location = %location,
        ghl_contact_id = %job.contact.id,
        trigger = %job.trigger,
        rule = rule.name(),
        dial_refused = 1,
        dial_refused_by_cap = u8::from(rule.is_cap()),
        _aws = metrics.as_deref(),
        "dial_refused"
    );
}

/// The lead was dialled (`agent` took it, or the history showed the lost dial): the note, by
/// the user of the agent who rang.
pub(super) async fn dialled(
    deps: &Deps,
    job: &DialJob,
    lead: &Lead,
    agent: Option<&str>,
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    let (tried, _) = tries(steps);
    let taken_by = agent.map(str::to_string).or_else(|| {
        tried
            .iter()
            .rev()
            .find(|t| t.answer == "confirmed")
            .map(|t| t.agent.clone())
    });
    let user = match &taken_by {
        Some(a) => crate::resolve::agent::agent(deps, a).await.user_id,
        None => None,
    };
    let end = "New lead dialled through CloudTalk";
    let text = lead_note(deps, &lead.trigger, steps, end).await;
    let note_id = note(deps, &lead.id, &text, user.as_deref(), steps).await?;
    count_end(deps, &lead.location, "dialled", steps).await;
    Ok(job_outcome(job, "dialled")
        .detail("agentId", taken_by)
        .detail("ghlNoteId", note_id)
        .detail("agentsTried", tried.len()))
}

/// A tenant's dial outcomes over the last `hours` hours before `now_ms`, summed by field.
pub async fn recent_outcomes(
    state: &dyn crate::state::StateStore,
    location: &str,
    now_ms: i64,
    hours: i64,
) -> Result<std::collections::BTreeMap<String, u64>, crate::store::StoreError> {
    let mut sums = std::collections::BTreeMap::new();
    for back in 0..hours {
        let name = stats_name(location, now_ms - back * 3_600_000);
        for (field, n) in state.counters(&name).await? {
            *sums.entry(field).or_insert(0) += n;
        }
    }
    Ok(sums)
}
