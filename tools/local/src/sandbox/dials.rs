//! CloudTalk's click-to-call, `POST /calls/create.json`, and the agents' availability it
//! depends on.
//!
//! As CloudTalk documents it: the body is `{"agent_id": <integer>, "callee_number": "+E164"}`;
//! CloudTalk rings the agent (up to ~20 s), then dials the number, and answers
//! `200 {"responseData": {"status": 200}}` with no call id. An unknown agent is 404
//! "Not found.", an agent already `calling` 409 "Agent is already calling.", one `offline` or
//! `paused` 403 "Agent is not online.", a body without either field or with a callee that is
//! not E.164 406 "Invalid input data." (fields missing or mistyped are refused by the contract
//! check before the handler).
//!
//! Click-to-call's own fault ([`super::config::DialFault`], `PUT /sandbox/faults/click-to-call`,
//! [`super::base::Sandbox::set_dial_fault`]): while it is on for the body's agent (or for every
//! agent), a dial with a valid body answers CloudTalk's 500 `Something went wrong.` before the
//! agent is even looked up, and dials nothing (it counts as an injected fault).
//!
//! A dial that rings becomes a call of the history: outgoing, by the agent, to the callee
//! (`public_external`), the CloudTalk contact with that number if the sandbox holds one,
//! started now on the sandbox's clock, answered [`RING_MS`] later and ended [`CALL_MS`] after
//! its start; the agent shows as `calling` until then (the agents list, `GET /sandbox/state`,
//! [`super::base::Sandbox::agents`]). Setting an agent's availability (`PUT /sandbox/agents/{id}`,
//! [`super::base::Sandbox::set_agent_availability`]) ends that hold at once.
//!
//! Every click-to-call request is a `Dial` (`state.rs`) in `GET /sandbox/state`'s `cloudtalk.dials` and
//! the console's "Dials" list, whatever it was answered: a fault, the rate limit or a refused
//! contract too.

use axum::http::Method;
use serde_json::Value;

use super::api::{text, Call, Incoming, Outcome, Reply};
use super::base::Inner;
use super::call_spec::{CallDirection, CallSpec};
use super::calls;
use super::cloudtalk_common::{done, envelope, invalid_field, not_found, valid_number};
use super::state::{millis_iso, Dial, State};
use super::team::{Agent, AgentStatus, COMPANY_NUMBER};

/// The click-to-call path, after the API's prefix.
pub(crate) const PATH: &str = "/calls/create.json";
/// From the dial to the callee's answer: the agent picks up, then the number is dialled.
pub(crate) const RING_MS: i64 = 5_000;
/// From the dial to the call's end (55 s of talking after [`RING_MS`]).
pub(crate) const CALL_MS: i64 = 60_000;

/// What a status means for a dial.
fn answer(status: u16) -> String {
    match status {
        200 => "ringing".into(),
        401 => "unauthorized".into(),
        403 => "not online".into(),
        404 => "unknown agent".into(),
        406 => "invalid input".into(),
        409 => "already calling".into(),
        429 => "rate limited".into(),
        500 => "server error".into(),
        other => format!("status {other}"),
    }
}

/// Sets agent `id`'s availability and ends any dial's hold on them; false for an unknown agent.
pub(crate) fn set_availability(state: &mut State, id: &str, status: AgentStatus) -> bool {
    let Some(agent) = state.ct_agents.iter_mut().find(|a| a.id == id) else {
        return false;
    };
    agent.availability_status = status;
    for dial in state.ct_dials.iter_mut() {
        if dial.agent_id.as_deref() == Some(id) {
            dial.busy_until_ms = None;
        }
    }
    true
}

/// The agent's id and the callee of a click-to-call body; 406 when either is missing or the
/// callee is not E.164.
fn dial_request(data: &Value) -> Result<(String, String), Reply> {
    let agent_id = match data.get("agent_id") {
        Some(Value::Number(n)) => n.as_u64().map(|n| n.to_string()),
        Some(Value::String(s)) if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) => {
            Some(s.clone())
        }
        _ => None,
    };
    let agent_id = agent_id.ok_or_else(|| {
        invalid_field("agent_id", "This field is required and must be an integer.")
    })?;
    let callee = text(data.get("callee_number"))
        .ok_or_else(|| invalid_field("callee_number", "This field is required."))?;
    if !valid_number(&callee) {
        let message = "Phone numbers must be in E.164 format (e.g., +442012345678).";
        return Err(invalid_field("callee_number", message));
    }
    Ok((agent_id, callee))
}

/// `POST /calls/create.json`: see the module's documentation.
pub(crate) fn create_call(call: &mut Call) -> Outcome {
    let (agent_id, callee) = dial_request(&call.data)?;
    if call.state.dial_fault.fails(&agent_id) {
        call.state.faults_injected += 1;
        return Err((500, envelope(500, "Something went wrong.")));
    }
    let now = call.inner.config.clock.now_ms();
    let agent = call.state.ct_agents.iter().find(|a| a.id == agent_id);
    let agent = agent.cloned().ok_or_else(not_found)?;
    match call.state.availability(&agent, now) {
        AgentStatus::Online => {}
        AgentStatus::Calling => return Err((409, envelope(409, "Agent is already calling."))),
        AgentStatus::Offline | AgentStatus::Paused => {
            return Err((403, envelope(403, "Agent is not online.")))
        }
    }
    let spec = dialled_call(call.state, &agent, &callee, now);
    let busy_until = spec.ended_ms;
    let call_id = calls::record(call.state, spec);
    let dial = Dial {
        at: millis_iso(now),
        agent_id: Some(agent.id.clone()),
        agent_name: Some(agent.full_name()),
        callee: Some(callee),
        status: 200,
        answer: answer(200),
        message: None,
        call_id: Some(call_id.clone()),
        busy_until_ms: Some(busy_until),
    };
    call.say(describe(&dial));
    call.state.ct_dials.push(dial);
    Ok(done())
}

/// The call a dial that rang makes: outgoing from the agent's default number, to `callee`
/// (assigned to the contact with that number, if any), from `now` for [`CALL_MS`].
fn dialled_call(state: &State, agent: &Agent, callee: &str, now: i64) -> CallSpec {
    let digits = |n: &str| n.chars().filter(char::is_ascii_digit).collect::<String>();
    let wanted = digits(callee);
    let contact = state
        .ct_contacts
        .values()
        .find(|c| c.numbers.iter().any(|n| digits(n) == wanted))
        .map(|c| c.id.clone());
    CallSpec {
        contact_id: contact,
        external_number: callee.to_string(),
        internal_number: agent
            .default_number
            .clone()
            .unwrap_or_else(|| COMPANY_NUMBER.into()),
        direction: CallDirection::Outgoing,
        agent: Some(agent.call_agent()),
        started_ms: now,
        answered_ms: Some(now + RING_MS),
        ended_ms: now + CALL_MS,
        talking_secs: u64::try_from((CALL_MS - RING_MS) / 1000).unwrap_or(0),
        ..CallSpec::default()
    }
}

/// The console line of a dial.
fn describe(dial: &Dial) -> String {
    let callee = dial.callee.as_deref().map(bridge::telemetry::mask_phone);
    format!(
        "CloudTalk ← click to call: agent {} → {} → {} {}",
        dial.agent_id.as_deref().unwrap_or("?"),
        callee.as_deref().unwrap_or("?"),
        dial.status,
        dial.answer
    )
}

/// Records a click-to-call request answered otherwise than by a dial that rang (those record
/// themselves, with their call): a refusal of the handler, a fault, the rate limit, a refused
/// contract. Anything else is left alone.
pub(crate) fn record_refused(inner: &Inner, req: &Incoming, (status, body): &Reply) {
    if req.method != Method::POST || req.path != PATH || *status == 200 {
        return;
    }
    let data = req.json().unwrap_or(Value::Null);
    let now = inner.config.clock.now_ms();
    let Ok(mut state) = inner.state.lock() else {
        return;
    };
    let agent_id = text(data.get("agent_id"));
    let agent_name = agent_id.as_deref().and_then(|id| {
        let agent = state.ct_agents.iter().find(|a| a.id == id);
        agent.map(Agent::full_name)
    });
    let message = body
        .pointer("/responseData/message")
        .and_then(Value::as_str);
    let dial = Dial {
        at: millis_iso(now),
        agent_id,
        agent_name,
        callee: text(data.get("callee_number")),
        status: *status,
        answer: answer(*status),
        message: message.map(str::to_string),
        call_id: None,
        busy_until_ms: None,
    };
    inner.say(describe(&dial));
    state.ct_dials.push(dial);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_needs_an_agent_and_an_e164_callee() {
        let ok = dial_request(&json!({"agent_id": 42, "callee_number": "+393501234567"}));
        assert_eq!(ok, Ok(("42".into(), "+393501234567".into())));
        for bad in [
            json!({"callee_number": "+393501234567"}),
            json!({"agent_id": -1, "callee_number": "+393501234567"}),
            json!({"agent_id": 42}),
            json!({"agent_id": 42, "callee_number": "3501234567"}),
            json!({"agent_id": 42, "callee_number": "+39 350 123"}),
        ] {
            let (status, body) = dial_request(&bad).unwrap_err();
            assert_eq!(status, 406, "{bad}");
            assert_eq!(body["responseData"]["message"], "Invalid input data.");
        }
    }

    #[test]
    fn every_status_has_an_answer() {
        assert_eq!(answer(200), "ringing");
        assert_eq!(answer(403), "not online");
        assert_eq!(answer(409), "already calling");
        assert_eq!(answer(418), "status 418");
    }
}
