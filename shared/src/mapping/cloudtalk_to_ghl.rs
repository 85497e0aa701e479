//! CloudTalk events → GoHighLevel writes.

use serde_json::{json, Value};

use super::timestamp_or_now;
use crate::clients::ghl::GhlContactInput;
use crate::config::LastCallFields;
use crate::payload::cloudtalk::{CallEvent, ContactCreatedEvent};

/// `source` written on GHL contacts the bridge creates.
pub const SOURCE: &str = "CloudTalk";

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    Answered,
    Missed,
    Voicemail,
    /// The payload carried neither a status, a voicemail flag nor a talking time.
    Unknown,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Answered => "answered",
            CallOutcome::Missed => "missed",
            CallOutcome::Voicemail => "voicemail",
            CallOutcome::Unknown => "unknown",
        }
    }
}

/// Voicemail when CloudTalk says so; then the status words; then talking time (0 = missed);
/// `Unknown` when the payload carries none of these.
pub fn call_outcome(call: &CallEvent) -> CallOutcome {
    if call.is_voicemail == Some(true) {
        return CallOutcome::Voicemail;
    }
    if let Some(status) = call.status.as_deref().map(str::to_lowercase) {
        if status.contains("voicemail") {
            return CallOutcome::Voicemail;
        }
        if [
            "missed",
            "no-answer",
            "no answer",
            "noanswer",
            "unanswered",
            "busy",
            "failed",
            "abandoned",
            "cancel",
        ]
        .iter()
        .any(|w| status.contains(w))
        {
            return CallOutcome::Missed;
        }
        if ["answered", "completed", "connected", "success"]
            .iter()
            .any(|w| status.contains(w))
        {
            return CallOutcome::Answered;
        }
    }
    match call.talking_secs {
        Some(0) => CallOutcome::Missed,
        Some(_) => CallOutcome::Answered,
        None => CallOutcome::Unknown,
    }
}

/// `125` → `2m 05s`; `3725` → `1h 02m 05s`.
pub fn format_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

fn direction_label(call: &CallEvent) -> &str {
    match call.direction.as_deref() {
        Some("incoming") => "inbound",
        Some("outgoing") => "outbound",
        Some(other) => other,
        None => "unknown",
    }
}

fn call_ref(call: &CallEvent) -> String {
    call.call_id
        .clone()
        .or_else(|| call.call_uuid.clone())
        .unwrap_or_else(|| "unknown".to_string())
}

fn agent(call: &CallEvent) -> String {
    call.agent_name
        .clone()
        .or_else(|| call.agent_id.as_ref().map(|id| format!("agent #{id}")))
        .unwrap_or_else(|| "unknown".to_string())
}

/// Note for a call that started: direction, agent, number, time.
pub fn call_started_note(call: &CallEvent, number: Option<&str>) -> String {
    format!(
        "[CloudTalk] Call started - Direction: {} - Agent: {} - Number: {} - Time: {} - Call ID: {}",
        direction_label(call),
        agent(call),
        number.unwrap_or("unknown"),
        timestamp_or_now(call.started_at.as_deref()),
        call_ref(call)
    )
}

/// Note for a call that ended: outcome, direction, agent, duration, talking time.
pub fn call_ended_note(call: &CallEvent, number: Option<&str>) -> String {
    let mut text = format!(
        "[CloudTalk] Call ended - Outcome: {} - Direction: {} - Agent: {}",
        call_outcome(call).as_str(),
        direction_label(call),
        agent(call)
    );
    if let Some(d) = call.duration_secs {
        text.push_str(&format!(" - Duration: {}", format_duration(d)));
    }
    if let Some(t) = call.talking_secs {
        text.push_str(&format!(" - Talking time: {}", format_duration(t)));
    }
    if let Some(w) = call.waiting_secs {
        text.push_str(&format!(" - Waiting time: {}", format_duration(w)));
    }
    text.push_str(&format!(
        " - Number: {} - Time: {} - Call ID: {}",
        number.unwrap_or("unknown"),
        timestamp_or_now(call.ended_at.as_deref().or(call.started_at.as_deref())),
        call_ref(call)
    ));
    if let Some(url) = &call.recording_url {
        text.push_str(&format!(" - Recording: {url}"));
    }
    text
}

/// A call as the parts of a conversation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallMessageParts {
    /// `inbound` or `outbound`.
    pub direction: &'static str,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The status GHL knows the call by.
    pub status: &'static str,
    /// What GHL has no field for: outcome, duration, agent, the call id.
    pub text: String,
}

/// The conversation message of a call; `customer` is the customer's number (E.164).
pub fn call_message_parts(call: &CallEvent, customer: Option<&str>) -> CallMessageParts {
    let outbound = call.direction.as_deref() == Some("outgoing");
    let company = call.internal_number.clone();
    let customer = customer.map(str::to_string);
    let (direction, from, to) = match outbound {
        true => ("outbound", company, customer),
        false => ("inbound", customer, company),
    };
    let status = match call_outcome(call) {
        CallOutcome::Answered | CallOutcome::Unknown => "completed",
        CallOutcome::Missed => "no-answer",
        CallOutcome::Voicemail => "voicemail",
    };
    let mut text = format!(
        "CloudTalk call - Outcome: {} - Agent: {}",
        call_outcome(call).as_str(),
        agent(call)
    );
    if let Some(d) = call.duration_secs {
        text.push_str(&format!(" - Duration: {}", format_duration(d)));
    }
    if let Some(t) = call.talking_secs {
        text.push_str(&format!(" - Talking time: {}", format_duration(t)));
    }
    text.push_str(&format!(" - Call ID: {}", call_ref(call)));
    CallMessageParts {
        direction,
        from,
        to,
        status,
        text,
    }
}

/// Note with the recording link and the call it belongs to.
pub fn recording_note(call: &CallEvent, url: &str) -> String {
    format!(
        "[CloudTalk] Call recording available: {url} - Call ID: {} - Agent: {}",
        call_ref(call),
        agent(call)
    )
}

/// The custom field values written after a call, for the fields that are configured.
pub fn last_call_custom_fields(fields: &LastCallFields, call: &CallEvent) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(id) = &fields.date {
        let when = timestamp_or_now(call.ended_at.as_deref().or(call.started_at.as_deref()));
        out.push(json!({"id": id, "field_value": when}));
    }
    if let Some(id) = &fields.outcome {
        out.push(json!({"id": id, "field_value": call_outcome(call).as_str()}));
    }
    if let Some(id) = &fields.duration {
        out.push(
            json!({"id": id, "field_value": call.duration_secs.or(call.talking_secs).unwrap_or(0)}),
        );
    }
    out
}

/// Splits "Mario Rossi" into first and last name for GHL.
pub fn split_name(name: &str) -> (Option<String>, Option<String>) {
    let name = name.trim();
    match name.split_once(' ') {
        Some((first, last)) => (Some(first.to_string()), Some(last.trim().to_string())),
        None if name.is_empty() => (None, None),
        None => (Some(name.to_string()), None),
    }
}

/// The GHL contact to upsert for a CloudTalk contact (phone already normalised).
pub fn ghl_contact(
    location_id: &str,
    name: Option<&str>,
    phone: Option<&str>,
    email: Option<&str>,
    company: Option<&str>,
) -> GhlContactInput {
    let (first_name, last_name) = name.map(split_name).unwrap_or((None, None));
    GhlContactInput {
        location_id: location_id.to_string(),
        first_name,
        last_name,
        name: name.map(str::to_string),
        email: email.map(str::to_lowercase),
        phone: phone.map(str::to_string),
        company_name: company.map(str::to_string),
        source: Some(SOURCE.to_string()),
        assigned_to: None,
    }
}

/// The GHL contact for a CloudTalk contact-created event.
pub fn ghl_contact_from_created(
    location_id: &str,
    event: &ContactCreatedEvent,
    phone: Option<&str>,
) -> GhlContactInput {
    ghl_contact(
        location_id,
        event.name.as_deref(),
        phone,
        event.emails.first().map(String::as_str),
        event.company.as_deref(),
    )
}

/// Name of the location custom value that mirrors an agent's status.
pub fn agent_custom_value_name(agent_id: &str, agent_name: Option<&str>) -> String {
    match agent_name {
        Some(name) => format!("CloudTalk agent {name} ({agent_id}) status"),
        None => format!("CloudTalk agent {agent_id} status"),
    }
}

/// Value of that custom value: `online since 2026-11-28T10:00:00Z`.
pub fn agent_custom_value(status: &str, changed_at: &str) -> String {
    format!("{status} since {changed_at}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::cloudtalk::parse_call;
    use serde_json::json;

    #[test]
    fn outcomes() {
        let o = |v: Value| call_outcome(&parse_call(&v));
        assert_eq!(o(json!({"talking_time": 100})), CallOutcome::Answered);
        assert_eq!(o(json!({"talking_time": 0})), CallOutcome::Missed);
        assert_eq!(
            o(json!({"is_voicemail": true, "talking_time": 20})),
            CallOutcome::Voicemail
        );
        assert_eq!(
            o(json!({"status": "missed", "talking_time": 3})),
            CallOutcome::Missed
        );
        assert_eq!(o(json!({"status": "answered"})), CallOutcome::Answered);
        assert_eq!(o(json!({})), CallOutcome::Unknown);
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(125), "2m 05s");
        assert_eq!(format_duration(3725), "1h 02m 05s");
    }

    #[test]
    fn notes() {
        let call = parse_call(
            &json!({"call_id":"42","direction":"outbound","agent_name":"Roberto",
            "started_at":"2026-11-28T10:00:00Z","ended_at":"2026-11-28T10:02:05Z","duration":125,"talking_time":100}),
        );
        assert_eq!(
            call_started_note(&call, Some("+393513416607")),
            "[CloudTalk] Call started - Direction: outbound - Agent: Roberto - Number: +393513416607 - Time: 2026-11-28T10:00:00Z - Call ID: 42"
        );
        assert_eq!(
            call_ended_note(&call, Some("+393513416607")),
            "[CloudTalk] Call ended - Outcome: answered - Direction: outbound - Agent: Roberto - Duration: 2m 05s - Talking time: 1m 40s - Number: +393513416607 - Time: 2026-11-28T10:02:05Z - Call ID: 42"
        );
        assert_eq!(
            recording_note(&call, "https://x/r.wav"),
            "[CloudTalk] Call recording available: https://x/r.wav - Call ID: 42 - Agent: Roberto"
        );
    }

    #[test]
    fn custom_fields_only_when_configured() {
        let call = parse_call(&json!({"talking_time":0,"ended_at":"T"}));
        assert!(last_call_custom_fields(&LastCallFields::default(), &call).is_empty());
        let fields = LastCallFields {
            date: Some("f1".into()),
            outcome: Some("f2".into()),
            duration: Some("f3".into()),
        };
        assert_eq!(
            last_call_custom_fields(&fields, &call),
            vec![
                json!({"id":"f1","field_value":"T"}),
                json!({"id":"f2","field_value":"missed"}),
                json!({"id":"f3","field_value":0})
            ]
        );
    }

    #[test]
    fn contact_input() {
        let c = ghl_contact(
            "loc",
            Some("Mario Rossi"),
            Some("+393513416607"),
            Some("Mario@Example.com"),
            None,
        );
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({"locationId":"loc","firstName":"Mario","lastName":"Rossi","name":"Mario Rossi",
                "email":"mario@example.com","phone":"+393513416607","source":"CloudTalk"})
        );
    }
}
