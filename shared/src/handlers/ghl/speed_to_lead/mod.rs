//! Speed to lead: a new GHL lead rings a CloudTalk agent within seconds, and only a real lead
//! who may be called, within bounds.
//!
//! A new contact (or the trigger tag) asks for a **dial job** (see [`start`]): its own event,
//! keyed `speed-to-lead#<contact>#<trigger>`, so however often the lead's webhooks arrive (a
//! redelivery, a retry, a second webhook for the same contact, concurrent containers) one
//! claim dials it at most once per trigger. The pipeline runs the job at once after the
//! webhook; a copy waits on the retry queue in case the container dies first. The job names
//! the contact only: what is dialled is what GHL holds.
//!
//! Each attempt of the job ([`dial`]):
//! 1. reads the contact from GHL with the tenant's token and checks every rule of
//!    [`guard`]: it exists in this location, has a number of an allowed type and country, no
//!    Do Not Disturb, and CloudTalk's blacklist does not bar the number (a refusal ends the job,
//!    see [`ending::refused`]);
//! 2. past its horizon (`SPEED_TO_LEAD_HORIZON_HOURS` after the trigger), ends with a task;
//! 3. outside business hours, waits for the opening (or, when asked or when the opening is
//!    past the horizon, opens a task);
//! 4. settles a dial whose answer was lost, from the call history (the call to that number by
//!    that agent) before anything else: found, the lead was dialled; not found while it could
//!    still be ringing or talking, it waits; only after that can it be tried again;
//! 5. takes its place under the caps (per tenant and hour, per number and day), once;
//! 6. with its attempts used up, or a redial past the window, ends with a task;
//! 7. tries the owner's agent first when online, else the online eligible agents in round-robin
//!    order (the turn counter is in the state table, shared by every container); 403 (not
//!    online) and 409 (already calling) go on to the next;
//! 8. with nobody free, waits `SPEED_TO_LEAD_RETRY_SECONDS` on the retry queue (no Lambda
//!    waits) until the window has passed, then opens a task for the owner.
//!
//! No wait takes a job past its horizon. Every intent to dial is recorded before the request
//! leaves, and every answer after it, as steps of the job: the note (one per lead and trigger)
//! lists each agent tried and what CloudTalk said. Each try logs one `dial` line with ids
//! only; each refusal one `dial_refused` line.

mod ending;
mod guard;
mod tries;

pub use ending::{recent_outcomes, stats_name};
pub use guard::{hour_cap_name, number_cap_name};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::endpoint::{FollowUp, Outcome};
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::payload::ghl::{DialJob, GhlContact, DIAL_JOB_KEY};
use crate::registry::EndpointId;
use crate::speed_to_lead::options::AfterHours;

use ending::job_outcome;
use guard::{Lead, Verdict};
use tries::Tried;

/// The queued copy of a dial job arrives this much later (the inline run has finished by then).
const SAFETY_COPY_DELAY_SECS: u32 = 90;

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

/// The dial job of `contact` for `trigger`, as an event body: the contact's id only (its
/// number, name, owner, tags and consent are read from GHL when it is dialled).
fn job_body(deps: &Deps, contact: &GhlContact, trigger: &Trigger) -> Value {
    json!({
        "contact": {"id": contact.id},
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
    let step = format!("dial-job:{}", trigger.as_text());
    steps
        .run(&step, || async {
            let event = deps.own_event(endpoint, &body);
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

/// When the job's horizon ends (epoch ms): `SPEED_TO_LEAD_HORIZON_HOURS` after the trigger (or
/// after its first attempt, for a job that does not say when it was made).
async fn horizon_end(deps: &Deps, job: &DialJob, steps: &mut Steps) -> Result<i64, BridgeError> {
    let now = deps.clock.now_ms();
    let since: i64 = steps
        .run("since", || async { Ok(now.to_string()) })
        .await?
        .parse()
        .unwrap_or(now);
    let created = match job.created_ms {
        ms if ms > 0 => ms.min(since),
        _ => since,
    };
    let hours = i64::from(deps.config.speed_to_lead.horizon_hours);
    Ok(created + hours * 3_600_000)
}

fn when(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%H:%M UTC")
        .to_string()
}

/// A wait of `wait_secs`, unless it would end past the job's horizon: then the job ends now,
/// with a task. No path queues a job past its horizon.
async fn wait_or_end(
    deps: &Deps,
    (job, lead): (&DialJob, &Lead),
    (message, wait_secs): (&str, u64),
    horizon: i64,
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    let now = deps.clock.now_ms();
    if now + (wait_secs as i64) * 1000 < horizon {
        return Err(BridgeError::Waiting {
            message: message.to_string(),
            wait_secs,
        });
    }
    past_horizon(deps, job, lead, steps).await
}

async fn past_horizon(
    deps: &Deps,
    job: &DialJob,
    lead: &Lead,
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    let hours = deps.config.speed_to_lead.horizon_hours;
    let why = format!("This lead could not be dialled within {hours} hours of arriving.");
    let now = deps.clock.now_ms();
    ending::hand_over(deps, job, lead, ("horizon_task", &why), now, steps).await
}

/// One attempt of a dial job (see the module's documentation).
pub(crate) async fn dial(
    deps: &Deps,
    job: &DialJob,
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    if !deps.config.speed_to_lead.enabled {
        return Ok(job_outcome(job, "speed_to_lead_off"));
    }
    let horizon = horizon_end(deps, job, steps).await?;
    let lead = match guard::check(deps, job).await? {
        Verdict::Dial(lead) => lead,
        Verdict::Excluded(why) => return Ok(job_outcome(job, why)),
        Verdict::Refused(rule, lead) => {
            return ending::refused(deps, job, rule, lead, steps).await;
        }
    };
    let now = deps.clock.now_ms();
    if now >= horizon {
        return past_horizon(deps, job, &lead, steps).await;
    }
    let hours = deps.config.speed_to_lead.hours.as_ref();
    if let Some(opening) = hours.and_then(|h| h.next_opening_ms(now)) {
        if opening > now {
            return after_hours(deps, (job, &lead), (now, opening), horizon, steps).await;
        }
    }
    if let Some(call_id) = tries::settle_unknown(deps, &lead, steps).await? {
        let outcome = ending::dialled(deps, job, &lead, None, steps).await?;
        return Ok(outcome.detail("callId", call_id));
    }
    if let Some(rule) = guard::take_caps(deps, &lead, steps).await? {
        return ending::refused(deps, job, rule, Some(lead), steps).await;
    }
    ring(deps, (job, &lead), horizon, steps).await
}

/// Tries the agents, within the job's attempts and window.
async fn ring(
    deps: &Deps,
    (job, lead): (&DialJob, &Lead),
    horizon: i64,
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    let options = &deps.config.speed_to_lead;
    let now = deps.clock.now_ms();
    let window_from: i64 = steps
        .run("window", || async { Ok(now.to_string()) })
        .await?
        .parse()
        .unwrap_or(now);
    let window_over = now >= window_from + i64::from(options.window_minutes) * 60_000;
    let counted = tries::counted(steps);
    if counted >= options.max_attempts {
        return out_of_attempts(deps, (job, lead), steps).await;
    }
    if counted > 0 && window_over {
        // A redial only within the window.
        return nobody_free(deps, (job, lead), steps).await;
    }
    let (order, turn) = tries::agent_order(deps, lead).await?;
    match tries::try_agents(deps, lead, &order, steps).await? {
        Tried::Taken(agent) => {
            let outcome = ending::dialled(deps, job, lead, Some(&agent), steps).await?;
            Ok(outcome.detail("roundRobinTurn", turn))
        }
        Tried::NumberRefused => {
            let why = "CloudTalk refused this lead's number; call it by hand.";
            let end = ("number_refused_task", why);
            ending::hand_over(deps, job, lead, end, now, steps).await
        }
        Tried::OutOfAttempts => out_of_attempts(deps, (job, lead), steps).await,
        Tried::Nobody if !window_over => {
            let wait = (
                "no agent is free to take the lead; trying again",
                u64::from(options.retry_secs),
            );
            wait_or_end(deps, (job, lead), wait, horizon, steps).await
        }
        Tried::Nobody => nobody_free(deps, (job, lead), steps).await,
    }
}

async fn out_of_attempts(
    deps: &Deps,
    (job, lead): (&DialJob, &Lead),
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    let max = deps.config.speed_to_lead.max_attempts;
    let why = format!(
        "The lead was dialled {max} times without reaching an agent's call; call it by hand."
    );
    let now = deps.clock.now_ms();
    ending::hand_over(deps, job, lead, ("attempts_task", &why), now, steps).await
}

async fn nobody_free(
    deps: &Deps,
    (job, lead): (&DialJob, &Lead),
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    let minutes = deps.config.speed_to_lead.window_minutes;
    let why = format!("No agent was free to take this new lead for {minutes} minutes.");
    let now = deps.clock.now_ms();
    ending::hand_over(deps, job, lead, ("no_agent_task", &why), now, steps).await
}

/// A lead outside business hours: a task for the opening time, or a wait until it (a task now
/// when the opening is past the job's horizon).
async fn after_hours(
    deps: &Deps,
    (job, lead): (&DialJob, &Lead),
    (now, opening): (i64, i64),
    horizon: i64,
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    if deps.config.speed_to_lead.after_hours == AfterHours::Task {
        let why = format!("New lead outside business hours; opening {}", when(opening));
        let end = ("after_hours_task", why.as_str());
        return ending::hand_over(deps, job, lead, end, opening, steps).await;
    }
    let message = "outside business hours: the lead is dialled at the opening";
    let wait_secs = ((opening - now) as u64).div_ceil(1000);
    wait_or_end(deps, (job, lead), (message, wait_secs), horizon, steps).await
}
