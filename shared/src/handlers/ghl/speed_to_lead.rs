//! Speed to lead: a new GHL lead rings a CloudTalk agent within seconds.
//!
//! A new contact (or the trigger tag) asks for a **dial job** (see [`start`]): its own event,
//! keyed `speed-to-lead#<contact>#<trigger>`, so however often the lead's webhooks arrive (a
//! redelivery, a retry, a second webhook for the same contact, concurrent containers) one
//! claim dials it at most once per trigger. The pipeline runs the job at once after the
//! webhook; a copy waits on the retry queue in case the container dies first.
//!
//! Each attempt of the job ([`dial`]):
//! 1. outside business hours, waits on the retry queue for the opening (or, when asked, opens
//!    a task and stops);
//! 2. settles a dial whose answer was lost, from the call history (the call to that number by
//!    that agent) before anything else: found, the lead was dialled; not found while it could
//!    still be ringing or talking, it waits; only after that is it tried again;
//! 3. tries the owner's agent first when online, else the online eligible agents in round-robin
//!    order (the turn counter is in the state table, shared by every container); 403 (not
//!    online) and 409 (already calling) go on to the next;
//! 4. with nobody free, waits `SPEED_TO_LEAD_RETRY_SECONDS` on the retry queue (no Lambda
//!    waits) until the window has passed, then opens a task for the owner.
//!
//! Every intent to dial is recorded before the request leaves, and every answer after it, as
//! steps of the job: the note (one per lead and trigger) lists each agent tried and what
//! CloudTalk said. Each attempt logs one `dial` line with ids only.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::clients::ghl::TaskInput;
use crate::clients::UpstreamError;
use crate::company_time;
use crate::deps::Deps;
use crate::endpoint::{FollowUp, Outcome};
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::payload::ghl::{DialJob, GhlContact, DIAL_JOB_KEY};
use crate::phone::to_e164;
use crate::registry::EndpointId;
use crate::retry_queue::QueuedEvent;
use crate::speed_to_lead::choose::{self, Available};
use crate::speed_to_lead::options::AfterHours;

/// After this long, a dial whose answer was lost and that the call history does not show is
/// taken as never placed (the agent rings for 20 s at most).
const UNKNOWN_SETTLE_MS: i64 = 3 * 60 * 1000;
/// While a lost dial may still be ringing or talking, the next look is this much later.
const UNKNOWN_WAIT_SECS: u64 = 60;
/// The queued copy of a dial job arrives this much later (the inline run has finished by then).
const SAFETY_COPY_DELAY_SECS: u32 = 90;
/// The most agents tried in one attempt.
const MAX_AGENTS_PER_TRY: usize = 5;

/// What starts a dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    NewContact,
    Tag(String),
}

impl Trigger {
    fn as_text(&self) -> String {
        match self {
            Trigger::NewContact => "new-contact".to_string(),
            Trigger::Tag(tag) => format!("tag:{}", tag.trim().to_lowercase()),
        }
    }
}

/// The dial job of `contact` for `trigger`, as an event body.
fn job_body(deps: &Deps, contact: &GhlContact, trigger: &Trigger) -> Value {
    let mut lead = json!({"id": contact.id, "tags": contact.tags});
    if let Some((first, more)) = contact.phones.split_first() {
        lead["phone"] = json!(first);
        lead["additionalPhones"] = json!(more);
    }
    for (key, value) in [
        ("name", &contact.name),
        ("source", &contact.source),
        ("assignedTo", &contact.owner),
    ] {
        if let Some(v) = value {
            lead[key] = json!(v);
        }
    }
    json!({
        "contact": lead,
        "locationId": deps.location_for(contact.location_id.as_deref()),
        DIAL_JOB_KEY: {"trigger": trigger.as_text(), "created_ms": deps.clock.now_ms()},
    })
}

/// After a GHL event about `contact`: when `trigger` is one the tenant dials on, the dial job
/// to run (and its safety copy queued, the `dial-job` step). `None` when speed to lead is off
/// or this trigger is not one of its triggers.
pub(crate) async fn start(
    deps: &Deps,
    contact: &GhlContact,
    trigger: Trigger,
    steps: &mut Steps,
) -> Result<Option<FollowUp>, BridgeError> {
    let options = &deps.config.speed_to_lead;
    let wanted = match &trigger {
        Trigger::NewContact => options.on_new_contact,
        Trigger::Tag(tag) => options.is_trigger_tag(tag),
    };
    if !options.enabled || !wanted {
        return Ok(None);
    }
    let body = job_body(deps, contact, &trigger);
    let endpoint = EndpointId::GhlNewContact;
    let key = crate::idempotency::key_of(deps.config.tenant_id.as_deref(), endpoint, &body);
    let step = format!("dial-job:{}", trigger.as_text());
    let queued = body.clone();
    steps
        .run(&step, || async {
            let event = QueuedEvent::fresh(
                endpoint,
                queued.to_string(),
                key.clone(),
                deps.config.tenant_id.clone(),
                None,
                deps.clock.now_ms(),
            );
            if let Err(e) = deps
                .retry_queue
                .enqueue(&event, SAFETY_COPY_DELAY_SECS)
                .await
            {
                tracing::warn!(detail = %e, "the dial job's safety copy could not be queued");
            }
            Ok(String::new())
        })
        .await?;
    Ok(Some(FollowUp {
        label: "dial",
        endpoint,
        body,
    }))
}

/// One recorded try: the agent and what CloudTalk said.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Attempt {
    agent: String,
    answer: String,
}

/// The tries recorded so far, in order, and the number of the next.
fn tries(steps: &Steps) -> (Vec<Attempt>, usize) {
    let mut tried = Vec::new();
    let mut n = 0;
    while let Some(intent) = steps.get(&format!("dial:{n}?")) {
        let agent = intent.split('@').next().unwrap_or_default().to_string();
        let answer = steps
            .get(&format!("dial:{n}"))
            .unwrap_or("unknown")
            .to_string();
        tried.push(Attempt { agent, answer });
        n += 1;
    }
    (tried, n)
}

/// What an answer to a click-to-call means.
fn answer_of(result: &Result<(), UpstreamError>) -> &'static str {
    match result {
        Ok(()) => "ringing",
        Err(e) => match e.status() {
            Some(403) => "not_online",
            Some(409) => "already_calling",
            Some(404) => "unknown_agent",
            Some(406) => "number_refused",
            Some(429) => "throttled",
            _ if matches!(e, UpstreamError::Throttled { .. }) => "throttled",
            _ => "unknown",
        },
    }
}

fn when(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%H:%M UTC")
        .to_string()
}

fn answer_text(answer: &str) -> &str {
    match answer {
        "ringing" => "rang",
        "confirmed" => "rang (confirmed from the call history)",
        "not_online" => "not online",
        "already_calling" => "already on a call",
        "unknown_agent" => "not an agent of the account",
        "number_refused" => "CloudTalk refused the number",
        "not_in_history" => "no answer from CloudTalk and no such call in the history",
        "unknown" => "no answer from CloudTalk",
        other => other,
    }
}

/// The lead's note: the trigger, every agent tried and the end.
async fn lead_note(deps: &Deps, job: &DialJob, tried: &[Attempt], end: &str) -> String {
    let mut lines = vec![format!(
        "[Speed to lead] {} ({})",
        end,
        job.trigger.replace("tag:", "tag ")
    )];
    for t in tried.iter().filter(|t| t.answer != "throttled") {
        let agent = crate::resolve::agent::agent(deps, &t.agent).await;
        let name = agent.name.unwrap_or_else(|| format!("agent {}", t.agent));
        lines.push(format!("- {name}: {}", answer_text(&t.answer)));
    }
    lines.join("\n")
}

/// The note, once, found again by its marker if an earlier try's answer was lost.
async fn note(
    deps: &Deps,
    job: &DialJob,
    text: &str,
    user: Option<&str>,
    steps: &mut Steps,
) -> Result<String, BridgeError> {
    crate::handlers::marked_note_once(deps, &job.contact.id, "note", text, user, steps).await
}

/// The "call this lead" task for the owner, once.
async fn task(
    deps: &Deps,
    job: &DialJob,
    phone: Option<&str>,
    why: &str,
    due_ms: i64,
    steps: &mut Steps,
) -> Result<String, BridgeError> {
    let contact = job.contact.id.as_str();
    let marker = steps
        .marker("task")
        .unwrap_or_else(|| "untracked".to_string());
    let who = job
        .contact
        .name
        .clone()
        .or_else(|| phone.map(str::to_string))
        .unwrap_or_else(|| "this lead".to_string());
    let task = TaskInput {
        title: format!("Call {who} (new lead)"),
        body: Some(format!(
            "{why}\nPhone: {}\n[ref {marker}]",
            phone.unwrap_or("none")
        )),
        due_date: crate::clock::rfc3339(due_ms),
        completed: false,
        assigned_to: job.contact.owner.clone(),
    };
    let read_back = || async { Ok(deps.ghl.find_task(contact, &marker).await?) };
    let write = || async { Ok(deps.ghl.create_task(contact, &task).await?) };
    steps.run_checked("task", read_back, write).await
}

/// Ends a job without a dial: a task for the owner and the note.
async fn hand_over(
    deps: &Deps,
    job: &DialJob,
    phone: Option<&str>,
    result: &'static str,
    why: &str,
    due_ms: i64,
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    let task_id = task(deps, job, phone, why, due_ms, steps).await?;
    let (tried, _) = tries(steps);
    let text = lead_note(deps, job, &tried, why).await;
    let note_id = note(deps, job, &text, None, steps).await?;
    Ok(lead_outcome(job, result)
        .detail("ghlTaskId", task_id)
        .detail("ghlNoteId", note_id)
        .detail("agentsTried", tried.len()))
}

fn lead_outcome(job: &DialJob, result: &'static str) -> Outcome {
    let mut outcome = Outcome::with_result(result);
    outcome.ghl_contact_id = Some(job.contact.id.clone());
    outcome.detail("trigger", &job.trigger)
}

/// The one `dial` line of an attempt (ids only).
fn log_try(deps: &Deps, job: &DialJob, n: usize, agent: &str, answer: &str) {
    tracing::info!(
        endpoint = "speed-to-lead",
        location = %deps.location_for(job.contact.location_id.as_deref()),
        ghl_contact_id = %job.contact.id,
        trigger = %job.trigger,
        attempt = n,
        agent_id = agent,
        outcome = answer,
        "dial"
    );
}

/// The lead's number (E.164), from the job, else from GHL.
async fn lead_phone(deps: &Deps, job: &mut DialJob) -> Result<Option<String>, BridgeError> {
    let region = deps.config.default_phone_region.as_deref();
    let from_job = job
        .contact
        .phones
        .iter()
        .find_map(|p| to_e164(p, region).ok());
    if from_job.is_some() {
        return Ok(from_job);
    }
    let record = deps.ghl.get_contact(&job.contact.id).await?;
    job.contact.owner = job.contact.owner.take().or(record.owner);
    job.contact.source = job.contact.source.take().or(record.source);
    for tag in record.tags {
        if !job
            .contact
            .tags
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&tag))
        {
            job.contact.tags.push(tag);
        }
    }
    Ok(record.phones.iter().find_map(|p| to_e164(p, region).ok()))
}

/// Settles the last try if its answer was lost: `Some(outcome)` when the history shows the call
/// (the lead was dialled), an error to wait while it may still ring, `None` to go on.
async fn settle_unknown(
    deps: &Deps,
    job: &DialJob,
    phone: &str,
    steps: &mut Steps,
) -> Result<Option<String>, BridgeError> {
    let (tried, n) = tries(steps);
    let Some(last) = tried.last().filter(|t| t.answer == "unknown") else {
        return Ok(None);
    };
    let index = n - 1;
    let intent = steps.get(&format!("dial:{index}?")).unwrap_or_default();
    let at: i64 = intent
        .split('@')
        .nth(1)
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let now = deps.clock.now_ms();
    let offset = company_time::offset(deps.config.cloudtalk_utc_offset.as_deref());
    let from = company_time::format(at - 60_000, offset);
    let to = company_time::format(now + 60_000, offset);
    let calls = deps
        .cloudtalk
        .calls_with(phone, &last.agent, &from, &to)
        .await?;
    let step = format!("dial:{index}");
    if let Some(call) = calls.first() {
        steps.record(&step, "confirmed").await?;
        log_try(deps, job, index, &last.agent, "confirmed");
        return Ok(Some(call.call_id.clone()));
    }
    if now - at < UNKNOWN_SETTLE_MS {
        return Err(BridgeError::Waiting {
            message: "a dial's answer was lost; the call history does not show it yet".into(),
            wait_secs: UNKNOWN_WAIT_SECS,
        });
    }
    steps.record(&step, "not_in_history").await?;
    log_try(deps, job, index, &last.agent, "not_in_history");
    Ok(None)
}

/// The agents online now, and the owner's agent.
async fn agents_now(
    deps: &Deps,
    job: &DialJob,
) -> Result<(Vec<Available>, Option<String>), BridgeError> {
    let listed = deps.cloudtalk.list_agents(1).await?;
    let agents = listed
        .items
        .into_iter()
        .map(|a| Available {
            id: a.id,
            status: a.availability,
        })
        .collect();
    let owner_agent = match &job.contact.owner {
        Some(user) => crate::resolve::agent::agent_of_user(deps, user).await,
        None => None,
    };
    Ok((agents, owner_agent))
}

/// How the agents of one attempt answered.
enum Tried {
    /// This agent's phone is ringing: the lead is dialled.
    Taken(String),
    /// CloudTalk refused the lead's number (406): no agent can dial it.
    NumberRefused,
    /// Nobody took it.
    Nobody,
}

/// Tries the agents in order, each intent recorded before the request and each answer after.
async fn try_agents(
    deps: &Deps,
    job: &DialJob,
    phone: &str,
    order: &[String],
    steps: &mut Steps,
) -> Result<Tried, BridgeError> {
    for agent in order.iter().take(MAX_AGENTS_PER_TRY) {
        let (_, n) = tries(steps);
        let now = deps.clock.now_ms();
        steps
            .record(&format!("dial:{n}?"), &format!("{agent}@{now}"))
            .await?;
        let result = deps.cloudtalk.create_call(agent, phone).await;
        let answer = answer_of(&result);
        log_try(deps, job, n, agent, answer);
        if answer == "unknown" {
            // Whether it rang is for the call history to say, never for a second dial.
            return Err(BridgeError::Waiting {
                message: "CloudTalk's answer to a dial was lost".into(),
                wait_secs: UNKNOWN_WAIT_SECS,
            });
        }
        steps.record(&format!("dial:{n}"), answer).await?;
        match (answer, result) {
            ("ringing", _) => return Ok(Tried::Taken(agent.clone())),
            ("number_refused", _) => return Ok(Tried::NumberRefused),
            ("throttled", Err(e)) => return Err(e.into()),
            _ => {}
        }
    }
    Ok(Tried::Nobody)
}

/// The round-robin turn counter of the tenant (shared by every container).
async fn next_turn(deps: &Deps) -> u64 {
    let name = format!("speed-to-lead#turn#{}", deps.location_for(None));
    match deps.state.next_turn(&name).await {
        Ok(turn) => turn,
        Err(e) => {
            tracing::warn!(detail = %e, "speed to lead: the round-robin turn could not be read");
            deps.clock.now_ms() as u64 / 1000
        }
    }
}

/// One attempt of a dial job (see the module's documentation).
pub(crate) async fn dial(
    deps: &Deps,
    job: &DialJob,
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    let options = &deps.config.speed_to_lead;
    if !options.enabled {
        return Ok(lead_outcome(job, "speed_to_lead_off"));
    }
    let mut job = job.clone();
    let phone = lead_phone(deps, &mut job).await?;
    if let Some(excluded) = options.exclusion(job.contact.source.as_deref(), &job.contact.tags) {
        return Ok(lead_outcome(&job, excluded));
    }
    let Some(phone) = phone else {
        return Ok(lead_outcome(&job, "no_phone"));
    };
    let now = deps.clock.now_ms();
    if let Some(opening) = options.hours.as_ref().and_then(|h| h.next_opening_ms(now)) {
        if opening > now {
            return after_hours(deps, &job, &phone, (now, opening), steps).await;
        }
    }
    let window_from: i64 = steps
        .run("window", || async { Ok(now.to_string()) })
        .await?
        .parse()
        .unwrap_or(now);
    if let Some(call_id) = settle_unknown(deps, &job, &phone, steps).await? {
        return finish(deps, &job, None, steps)
            .await
            .map(|o| o.detail("callId", call_id));
    }
    let (agents, owner_agent) = agents_now(deps, &job).await?;
    let owner_agent = owner_agent.as_deref();
    let online = choose::online(&agents, &options.eligible, owner_agent);
    let turn = match choose::needs_turn(&online, owner_agent) {
        true => Some(next_turn(deps).await),
        false => None,
    };
    let order = choose::order(&online, owner_agent, turn.unwrap_or(0));
    match try_agents(deps, &job, &phone, &order, steps).await? {
        Tried::Taken(agent) => {
            let outcome = finish(deps, &job, Some(&agent), steps).await?;
            return Ok(outcome.detail("roundRobinTurn", turn));
        }
        Tried::NumberRefused => {
            let why = "CloudTalk refused this lead's number; call it by hand.";
            let result = "number_refused_task";
            return hand_over(deps, &job, Some(&phone), result, why, now, steps).await;
        }
        Tried::Nobody => {}
    }
    let window_ms = i64::from(options.window_minutes) * 60_000;
    if now < window_from + window_ms {
        return Err(BridgeError::Waiting {
            message: "no agent is free to take the lead; trying again".into(),
            wait_secs: u64::from(options.retry_secs),
        });
    }
    let why = format!(
        "No agent was free to take this new lead for {} minutes.",
        options.window_minutes
    );
    hand_over(deps, &job, Some(&phone), "no_agent_task", &why, now, steps).await
}

/// A lead outside business hours: a task for the opening time, or a wait until it.
async fn after_hours(
    deps: &Deps,
    job: &DialJob,
    phone: &str,
    (now, opening): (i64, i64),
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    if deps.config.speed_to_lead.after_hours == AfterHours::Task {
        let why = format!("New lead outside business hours; opening {}", when(opening));
        let result = "after_hours_task";
        return hand_over(deps, job, Some(phone), result, &why, opening, steps).await;
    }
    Err(BridgeError::Waiting {
        message: "outside business hours: the lead is dialled at the opening".into(),
        wait_secs: ((opening - now) as u64).div_ceil(1000),
    })
}

/// The lead was dialled (`agent` took it, or the history showed the lost dial): the note.
async fn finish(
    deps: &Deps,
    job: &DialJob,
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
    let text = lead_note(deps, job, &tried, "New lead dialled through CloudTalk").await;
    let note_id = note(deps, job, &text, user.as_deref(), steps).await?;
    Ok(lead_outcome(job, "dialled")
        .detail("agentId", taken_by)
        .detail("ghlNoteId", note_id)
        .detail("agentsTried", tried.len()))
}
