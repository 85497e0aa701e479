//! The click-to-calls of a dial job: each intent recorded before the request leaves and each
//! answer after it (steps `dial:<n>?` and `dial:<n>`), the lost ones settled from CloudTalk's
//! call history, the agents in the order speed to lead gives them.

use crate::clients::UpstreamError;
use crate::company_time;
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::speed_to_lead::choose::{self, Available};

use super::guard::Lead;

/// After this long, a dial whose answer was lost and that the call history does not show is
/// taken as never placed (the agent rings for 20 s at most).
const UNKNOWN_SETTLE_MS: i64 = 3 * 60 * 1000;
/// While a lost dial may still be ringing or talking, the next look is this much later.
pub(super) const UNKNOWN_WAIT_SECS: u64 = 60;
/// The most agents tried in one attempt.
const MAX_AGENTS_PER_TRY: usize = 5;

/// One recorded try: the agent and what CloudTalk said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Attempt {
    pub agent: String,
    pub answer: String,
}

impl Attempt {
    /// Whether the try counts against `SPEED_TO_LEAD_MAX_ATTEMPTS`: every answer but "not
    /// online" and "already calling" (the agent's phone never rang), and a request that never
    /// left (the shared budget) does not either. A lost answer counts.
    pub fn counts(&self) -> bool {
        !matches!(
            self.answer.as_str(),
            "not_online" | "already_calling" | "not_sent"
        )
    }
}

/// The tries recorded so far, in order, and the number of the next.
pub(super) fn tries(steps: &Steps) -> (Vec<Attempt>, usize) {
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

/// How many tries count against the attempts (see [`Attempt::counts`]).
pub(super) fn counted(steps: &Steps) -> u32 {
    let (tried, _) = tries(steps);
    tried.iter().filter(|t| t.counts()).count() as u32
}

/// What an answer to a click-to-call means.
fn answer_of(result: &Result<(), UpstreamError>) -> String {
    let Err(e) = result else {
        return "ringing".into();
    };
    if matches!(
        e,
        UpstreamError::Throttled { .. } | UpstreamError::OutOfTime { .. }
    ) {
        return "not_sent".into();
    }
    match e.status() {
        Some(403) => "not_online".into(),
        Some(409) => "already_calling".into(),
        Some(404) => "unknown_agent".into(),
        Some(406) => "number_refused".into(),
        Some(429) => "throttled".into(),
        Some(status @ 400..=499) => format!("refused:{status}"),
        // A 5xx, a timeout or an unreadable answer: it may have rung.
        _ => "unknown".into(),
    }
}

pub(super) fn answer_text(answer: &str) -> String {
    let text = match answer {
        "ringing" => "rang",
        "confirmed" => "rang (confirmed from the call history)",
        "not_online" => "not online",
        "already_calling" => "already on a call",
        "unknown_agent" => "not an agent of the account",
        "number_refused" => "CloudTalk refused the number",
        "throttled" => "CloudTalk's rate limit",
        "not_in_history" => "no answer from CloudTalk and no such call in the history",
        "unknown" => "no answer from CloudTalk",
        other => match other.strip_prefix("refused:") {
            Some(status) => return format!("CloudTalk refused the request ({status})"),
            None => other,
        },
    };
    text.to_string()
}

/// The one `dial` line of a try (ids only).
pub(super) fn log_try(lead: &Lead, n: usize, agent: &str, answer: &str) {
    tracing::info!(
        endpoint = "speed-to-lead",
        location = %lead.location,
        ghl_contact_id = %lead.id,
        trigger = %lead.trigger,
        attempt = n,
        agent_id = agent,
        outcome = answer,
        "dial"
    );
}

/// Settles the last try if its answer was lost: `Some(call id)` when the history shows the
/// call (the lead was dialled), an error to wait while it may still ring, `None` to go on.
pub(super) async fn settle_unknown(
    deps: &Deps,
    lead: &Lead,
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
        .calls_with(&lead.phone, &last.agent, &from, &to)
        .await?;
    let step = format!("dial:{index}");
    if let Some(call) = calls.first() {
        steps.record(&step, "confirmed").await?;
        log_try(lead, index, &last.agent, "confirmed");
        return Ok(Some(call.call_id.clone()));
    }
    if now - at < UNKNOWN_SETTLE_MS {
        return Err(BridgeError::Waiting {
            message: "a dial's answer was lost; the call history does not show it yet".into(),
            wait_secs: UNKNOWN_WAIT_SECS,
        });
    }
    steps.record(&step, "not_in_history").await?;
    log_try(lead, index, &last.agent, "not_in_history");
    Ok(None)
}

/// The online agents that may take the lead, in the order they are tried (the owner's agent
/// first when online, else round robin), and the round-robin turn when one was taken.
pub(super) async fn agent_order(
    deps: &Deps,
    lead: &Lead,
) -> Result<(Vec<String>, Option<u64>), BridgeError> {
    let listed = deps.cloudtalk.list_agents(1).await?;
    let agents: Vec<Available> = listed
        .items
        .into_iter()
        .map(|a| Available {
            id: a.id,
            status: a.availability,
        })
        .collect();
    let owner_agent = match &lead.owner {
        Some(user) => crate::resolve::agent::agent_of_user(deps, user).await,
        None => None,
    };
    let owner_agent = owner_agent.as_deref();
    let options = &deps.config.speed_to_lead;
    let online = choose::online(&agents, &options.eligible, owner_agent);
    let turn = match choose::needs_turn(&online, owner_agent) {
        true => Some(next_turn(deps, &lead.location).await),
        false => None,
    };
    Ok((choose::order(&online, owner_agent, turn.unwrap_or(0)), turn))
}

/// The round-robin turn counter of the tenant (shared by every container).
async fn next_turn(deps: &Deps, location: &str) -> u64 {
    let name = format!("speed-to-lead#turn#{location}");
    match deps.state.next_turn(&name).await {
        Ok(turn) => turn,
        Err(e) => {
            tracing::warn!(detail = %e, "speed to lead: the round-robin turn could not be read");
            deps.clock.now_ms() as u64 / 1000
        }
    }
}

/// How the agents of one attempt answered.
pub(super) enum Tried {
    /// This agent's phone is ringing: the lead is dialled.
    Taken(String),
    /// CloudTalk refused the lead's number (406): no agent can dial it.
    NumberRefused,
    /// The job's attempts are used up.
    OutOfAttempts,
    /// Nobody took it.
    Nobody,
}

/// Tries the agents in order, each intent recorded before the request and each answer after,
/// until one takes the lead or the job's attempts are used up.
pub(super) async fn try_agents(
    deps: &Deps,
    lead: &Lead,
    order: &[String],
    steps: &mut Steps,
) -> Result<Tried, BridgeError> {
    let max = deps.config.speed_to_lead.max_attempts;
    for agent in order.iter().take(MAX_AGENTS_PER_TRY) {
        if counted(steps) >= max {
            return Ok(Tried::OutOfAttempts);
        }
        let (_, n) = tries(steps);
        let now = deps.clock.now_ms();
        steps
            .record(&format!("dial:{n}?"), &format!("{agent}@{now}"))
            .await?;
        let result = deps.cloudtalk.create_call(agent, &lead.phone).await;
        let answer = answer_of(&result);
        log_try(lead, n, agent, &answer);
        if answer == "unknown" {
            // Whether it rang is for the call history to say, never for a second dial.
            return Err(BridgeError::Waiting {
                message: "CloudTalk's answer to a dial was lost".into(),
                wait_secs: UNKNOWN_WAIT_SECS,
            });
        }
        steps.record(&format!("dial:{n}"), &answer).await?;
        match (answer.as_str(), result) {
            ("ringing", _) => return Ok(Tried::Taken(agent.clone())),
            ("number_refused", _) => return Ok(Tried::NumberRefused),
            ("throttled" | "not_sent", Err(e)) => return Err(e.into()),
            _ => {}
        }
    }
    match counted(steps) >= max {
        true => Ok(Tried::OutOfAttempts),
        false => Ok(Tried::Nobody),
    }
}
