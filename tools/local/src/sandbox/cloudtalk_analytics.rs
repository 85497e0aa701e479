//! CloudTalk's analytics API (`https://analytics-api.cloudtalk.io/api/`), under
//! `/cloudtalk/analytics`: CloudTalk's record of one call, `GET /calls/{callId}`, the system of
//! record the bridge settles two versions of a call event with.
//!
//! As the spec documents it: the answer is the `Call` schema, plain JSON (not wrapped in
//! `responseData`); errors are NestJS's `{"statusCode", "message", "error"}` (404 for a call
//! that is not in the history, 400 for a call id that is no number); the same Basic auth as
//! the CloudTalk API, and the same company rate limit and headers.
//!
//! The record of a call of the history ([`super::base::Sandbox::record_call`], seeding, a dial
//! that rang): its id as `cdr_id`, its `uuid` (the one it was recorded with, else one derived
//! from it: [`CallSpec::derived_uuid`]), its `contact` (`id`, `name`, `number` in E.164),
//! `direction` (`incoming`, `outgoing`, `internal`), `status` (`answered`, else `missed`: the
//! spec has no other word, a voicemail is a missed call), `date` (its start), `call_times`,
//! `internal_number`, its tags, rating and notes, `recorded`, and one agent step for its agent.

use serde_json::{json, Value};

use super::api::{Api, Call, Headers, Incoming, Outcome, Reply, Route};
use super::base::{Fault, Inner};
use super::call_spec::{CallAgent, CallSpec};
use super::cloudtalk_common::{authorized, limit_headers, next_minute, over_limit};
use super::routes::get;
use super::state::{millis_iso, CtCall, State};

/// The sandbox's CloudTalk company, as the spec's examples number it.
const COMPANY_ID: u64 = 100_123;

#[rustfmt::skip]
const ROUTES: &[Route] = &[
    get("/calls/{id}", call_record),
];

pub(crate) struct CloudTalkAnalytics;

impl Api for CloudTalkAnalytics {
    const NAME: &'static str = "cloudtalk-analytics";
    const VENDOR: bridge_contracts::Vendor = bridge_contracts::Vendor::CloudTalk;
    const PREFIX: &'static str = "/cloudtalk/analytics";
    const ROUTES: &'static [Route] = ROUTES;
    /// When the company's limit window resets, in Unix seconds.
    type Quota = i64;

    fn fault(req: &Incoming, fault: Fault) -> (Reply, i64) {
        match fault {
            Fault::ServerError => (Self::server_error(), next_minute(req)),
            Fault::RateLimited => (too_many_requests(), req.received + 2),
        }
    }

    fn admit(inner: &Inner, req: &Incoming) -> Result<i64, (Reply, i64)> {
        let reset = next_minute(req);
        if !authorized(inner, req) {
            return Err((error(401, "Unauthorized", "Unauthorized"), reset));
        }
        if over_limit(inner, req, 1) {
            return Err((too_many_requests(), reset));
        }
        Ok(reset)
    }

    fn limit_headers(inner: &Inner, status: u16, reset_at: i64) -> Headers {
        limit_headers(inner, status, reset_at)
    }

    fn server_error() -> Reply {
        error(500, "Internal Server Error", "Internal server error")
    }

    fn bad_body() -> Reply {
        bad_request("The request could not be understood.")
    }

    fn no_route(req: &Incoming) -> Reply {
        let message = format!("Cannot {} {}", req.method, req.path);
        error(404, "Not Found", &message)
    }

    /// A call id that is no number is the spec's 400; a path it does not have, 404.
    fn refusal(violation: &bridge_contracts::Violation) -> Reply {
        match violation.kind {
            bridge_contracts::Kind::UnknownOperation => {
                let message = format!("Cannot {} {}", violation.method, violation.path);
                error(404, "Not Found", &message)
            }
            _ => bad_request("callId must be a number conforming to the specified constraints"),
        }
    }

    fn needs_body(_req: &Incoming) -> bool {
        false
    }
}

/// The spec's error shape.
fn error(status: u16, name: &str, message: &str) -> Reply {
    (
        status,
        json!({"statusCode": status, "message": message, "error": name}),
    )
}

fn bad_request(message: &str) -> Reply {
    error(400, "Bad Request", message)
}

fn too_many_requests() -> Reply {
    error(
        429,
        "Too Many Requests",
        "ThrottlerException: Too Many Requests",
    )
}

/// The spec's 404 for a call the company does not have.
fn no_such_call(id: &str) -> Reply {
    let message = format!("Call with id '{id}' doesn't exist on company '{COMPANY_ID}'");
    error(404, "Not Found", &message)
}

/// An id of the sandbox (a numeric string) as the number the spec types it as; `null` when
/// it is none.
fn number(id: Option<&str>) -> Value {
    id.and_then(|i| i.trim().parse::<u64>().ok())
        .map(Value::from)
        .unwrap_or(Value::Null)
}

/// A number in E.164 (as recorded when it cannot be read).
fn e164(raw: &str) -> String {
    bridge::phone::to_e164(raw, None).unwrap_or_else(|_| {
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        format!("+{digits}")
    })
}

/// `answered` or `missed`, as the spec words a call's (and a step's) status.
fn status(spec: &CallSpec) -> &'static str {
    match spec.answered_ms {
        Some(_) => "answered",
        None => "missed",
    }
}

/// The call's times in whole seconds: ringing (and waiting) until answered or ended, talking,
/// and the total; the sandbox knows no wrap-up time.
fn call_times(spec: &CallSpec) -> Value {
    let waiting = spec.waiting_secs();
    json!({
        "ringing_time": waiting,
        "talking_time": spec.talking_secs,
        "waiting_time": waiting,
        "wrap_up_time": Value::Null,
        "total_time": spec.billsec(),
    })
}

/// The call's contact: its id, its name when the sandbox has the contact, and the number.
fn contact(state: &State, spec: &CallSpec) -> Value {
    let name = spec
        .contact_id
        .as_deref()
        .and_then(|id| state.ct_contacts.get(id))
        .map(|c| c.name.clone())
        .filter(|n| !n.trim().is_empty());
    json!({
        "id": number(spec.contact_id.as_deref()),
        "name": name,
        "country": Value::Null,
        "number": e164(&spec.external_number),
    })
}

/// The agent the call rang: answered, or missed because they did not pick up.
fn agent_step(spec: &CallSpec, agent: &CallAgent) -> Value {
    let name = format!("{} {}", agent.first_name, agent.last_name);
    let mut step = json!({
        "type": "agent",
        "id": number(Some(&agent.id)),
        "name": name.trim(),
        "date": millis_iso(spec.started_ms),
        "call_times": call_times(spec),
        "status": status(spec),
    });
    // The spec's `reason` is not nullable: only a missed step has one.
    if spec.answered_ms.is_none() {
        step["reason"] = json!("not_picked_up");
    }
    step
}

/// The catalogue id of a tag, as a number.
fn tag_id(state: &State, name: &str) -> Value {
    let id = state
        .ct_tags
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(id, _)| id.as_str());
    number(id)
}

/// The spec's `Call` for a call of the history.
fn record(state: &State, call: &CtCall) -> Value {
    let spec = &call.spec;
    let uuid = spec
        .uuid
        .clone()
        .unwrap_or_else(|| spec.derived_uuid(&call.id));
    let tags: Vec<Value> = spec
        .tags
        .iter()
        .map(|t| json!({"id": tag_id(state, t), "label": t}))
        .collect();
    let steps: Vec<Value> = spec.agent.iter().map(|a| agent_step(spec, a)).collect();
    json!({
        "cdr_id": number(Some(&call.id)),
        "uuid": uuid,
        "company_id": COMPANY_ID,
        "date": millis_iso(spec.started_ms),
        "contact": contact(state, spec),
        "call_tags": tags,
        "call_rating": spec.rating,
        "internal_number": {"number": e164(&spec.internal_number)},
        "call_times": call_times(spec),
        "direction": spec.direction,
        "type": "regular",
        "status": status(spec),
        "call_steps": steps,
        "notes": spec.notes,
        "recorded": spec.recording_link.is_some(),
        "out_of_office": false,
    })
}

/// `GET /calls/{callId}`: the record of a call of the history; 404 for another.
fn call_record(call: &mut Call) -> Outcome {
    let id = call.param("id");
    let state = &*call.state;
    let found = state.ct_calls.iter().find(|c| c.id == id);
    let found = found.ok_or_else(|| no_such_call(&id))?;
    Ok((200, record(state, found)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_numbers_and_numbers_e164() {
        assert_eq!(number(Some("1000001")), json!(1_000_001));
        assert_eq!(number(Some("abc")), Value::Null);
        assert_eq!(number(None), Value::Null);
        assert_eq!(e164("+39 350 123 4567"), "+393501234567");
        assert_eq!(e164("393501234567"), "+393501234567");
    }
}
