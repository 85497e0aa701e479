//! CloudTalk webhook payloads.
//!
//! CloudTalk's workflow automation ("API Request" action) sends a flat JSON body whose keys the
//! CloudTalk admin chooses, so every field is looked up under several names (matched without
//! regard to case, `_` or `-`: `call_id`, `Call_id` and `callId` are the same key). Ids and
//! numbers may be strings or JSON numbers; numbers often lack the `+`. The signed
//! "Account → Webhooks" envelope `{event_id, type, data: {...}}` is unwrapped to its `data`.
//! The manual (`docs/src/sales/payloads.md`) lists the exact keys each endpoint reads.

use serde_json::Value;

use super::error::PayloadError;
use super::fields::{find, find_id, find_string, lookup, scalar_string};

/// Ids longer than this are broken payloads.
pub const MAX_ID_CHARS: usize = 128;

pub const CALL_ID_KEYS: &[&str] = &["call_id", "cdr_id", "callid"];
pub const CALL_UUID_KEYS: &[&str] = &["call_uuid", "uuid"];
pub const CONTACT_ID_KEYS: &[&str] = &["contact_id", "contact.id", "cloudtalk_contact_id"];
pub const PHONE_KEYS: &[&str] = &[
    "external_number",
    "contact_phone",
    "contact_number",
    "phone",
    "phone_number",
    "customer_number",
    "caller_number",
    "number",
    "contact.number",
    "contact.phone",
];
pub const EMAIL_KEYS: &[&str] = &["contact_email", "email", "contact.email"];
pub const NAME_KEYS: &[&str] = &["contact_name", "name", "contact.name", "full_name"];
pub const AGENT_NAME_KEYS: &[&str] = &[
    "agent_name",
    "agent",
    "agent_full_name",
    "agent.name",
    "user_name",
];
pub const AGENT_ID_KEYS: &[&str] = &["agent_id", "user_id", "agent.id"];

/// The `data` of an `{event_id|type, data: {...}}` envelope, else the body itself.
pub fn unwrap_envelope(root: &Value) -> &Value {
    match root.get("data") {
        Some(data @ Value::Object(_))
            if root.get("type").is_some() || root.get("event_id").is_some() =>
        {
            data
        }
        _ => root,
    }
}

/// Who a CloudTalk event is about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactRef {
    pub cloudtalk_id: Option<String>,
    /// As sent; normalised to E.164 where it is used.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
}

impl ContactRef {
    pub fn is_identifiable(&self) -> bool {
        self.cloudtalk_id.is_some() || self.phone.is_some() || self.email.is_some()
    }

    /// 422 naming the fields that would have identified the contact.
    pub fn require_identifiable(&self) -> Result<(), PayloadError> {
        if self
            .cloudtalk_id
            .as_ref()
            .is_some_and(|id| id.len() > MAX_ID_CHARS)
        {
            return Err(PayloadError::Malformed(format!(
                "contact_id is longer than {MAX_ID_CHARS} characters"
            )));
        }
        if self.is_identifiable() {
            Ok(())
        } else {
            Err(PayloadError::missing_fields(
                "no way to identify the contact",
                &[
                    "contact_id",
                    "external_number",
                    "contact_phone",
                    "contact_email",
                ],
            ))
        }
    }
}

/// A CloudTalk record id (a contact's): CloudTalk's API types them as integers and puts them
/// in paths (`/contacts/show/{contactId}.json`), so only digits count; anything else (an
/// unresolved placeholder, `true`) is absent.
pub fn record_id(root: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| {
        crate::payload::fields::lookup(root, k)
            .and_then(crate::payload::fields::id_string)
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    })
}

pub fn parse_contact_ref(root: &Value) -> ContactRef {
    ContactRef {
        cloudtalk_id: record_id(root, CONTACT_ID_KEYS),
        phone: find_id(root, PHONE_KEYS),
        email: find_string(root, EMAIL_KEYS).filter(|e| e.contains('@')),
        name: find_string(root, NAME_KEYS),
    }
}

/// A call event (started, ended, recording available).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallEvent {
    pub call_id: Option<String>,
    pub call_uuid: Option<String>,
    pub contact: ContactRef,
    pub agent_name: Option<String>,
    pub agent_id: Option<String>,
    /// `incoming` / `outgoing` / `internal` as sent (`inbound`/`outbound` are normalised).
    pub direction: Option<String>,
    pub internal_number: Option<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_secs: Option<u64>,
    pub talking_secs: Option<u64>,
    pub waiting_secs: Option<u64>,
    pub status: Option<String>,
    pub is_voicemail: Option<bool>,
    pub recording_url: Option<String>,
}

/// No call lasts longer: a larger duration is a sender's mistake (or an attack on the
/// arithmetic) and is read as absent, never written.
pub const MAX_DURATION_SECS: u64 = 7 * 24 * 3600;

/// A duration in seconds: a number, or text as seconds or `h:m:s` / `m:s`. Read with checked
/// arithmetic; anything that overflows or exceeds [`MAX_DURATION_SECS`] is absent.
fn seconds(root: &Value, keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|k| {
        let v = lookup(root, k)?;
        let secs = match v {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| (0.0..=MAX_DURATION_SECS as f64).contains(f))
                    .map(|f| f.round() as u64)
            }),
            Value::String(s) => {
                let s = s.trim();
                s.parse::<u64>().ok().or_else(|| {
                    // "00:02:05" or "2:05"
                    let parts: Vec<u64> = s
                        .split(':')
                        .map(|p| p.trim().parse().ok())
                        .collect::<Option<_>>()?;
                    if parts.len() < 2 {
                        return None;
                    }
                    parts.iter().try_fold(0u64, |acc, p| {
                        acc.checked_mul(60).and_then(|a| a.checked_add(*p))
                    })
                })
            }
            _ => None,
        };
        secs.filter(|s| *s <= MAX_DURATION_SECS)
    })
}

fn boolean(root: &Value, keys: &[&str]) -> Option<bool> {
    keys.iter().find_map(|k| match lookup(root, k)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_u64().map(|n| n != 0),
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

fn direction(root: &Value) -> Option<String> {
    let raw = find_string(root, &["direction", "call_direction", "call_type"])?;
    Some(match raw.to_lowercase().as_str() {
        "inbound" | "incoming" | "in" => "incoming".to_string(),
        "outbound" | "outgoing" | "out" => "outgoing".to_string(),
        other => other.to_string(),
    })
}

/// CloudTalk's Call Modified trigger: a call's tags, rating and agent notes as they are now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallModifiedEvent {
    pub call: CallEvent,
    /// Tag names.
    pub tags: Vec<String>,
    /// 1 to 5.
    pub rating: Option<u8>,
    /// The agent's notes on the call.
    pub notes: Vec<String>,
}

/// The most notes one Call Modified event may write (a call's agent notes).
pub const MAX_CALL_NOTES: usize = 20;
/// The most tags one Call Modified event may write.
pub const MAX_CALL_TAGS: usize = 50;

/// One request writes within bounds: a body over them is refused whole (422), nothing written.
fn check_fan_out(tags: &[String], notes: &[String]) -> Result<(), PayloadError> {
    let over = |what: &str, n: usize, max: usize| {
        PayloadError::Invalid(format!(
            "the call carries {n} {what}; one event writes at most {max}"
        ))
    };
    if notes.len() > MAX_CALL_NOTES {
        return Err(over("notes", notes.len(), MAX_CALL_NOTES));
    }
    if tags.len() > MAX_CALL_TAGS {
        return Err(over("tags", tags.len(), MAX_CALL_TAGS));
    }
    Ok(())
}

/// Reads a Call Modified body (the workflow's keys, or the call history's `Tags`, `Ratings`,
/// `Notes`); 422 without a call id or a contact.
pub fn parse_call_modified(body: &Value) -> Result<CallModifiedEvent, PayloadError> {
    let root = unwrap_envelope(body);
    let call = parse_call(body);
    if call.call_id.is_none() {
        return Err(PayloadError::missing_fields(
            "no call id",
            &["call_id", "cdr_id"],
        ));
    }
    call.contact.require_identifiable()?;
    let tags = crate::payload::fields::find(root, &["tags", "call_tags", "Tags"])
        .map(crate::payload::fields::tag_list)
        .unwrap_or_default();
    let rating = crate::payload::fields::find(root, &["rating", "call_rating", "Ratings"])
        .and_then(|v| match v {
            Value::Array(items) => items
                .iter()
                .filter_map(|i| i.get("rating").or(Some(i)))
                .filter_map(|r| crate::payload::fields::id_string(r)?.parse::<u8>().ok())
                .next_back(),
            other => crate::payload::fields::id_string(other)?.parse::<u8>().ok(),
        })
        .filter(|r| (1..=5).contains(r));
    let notes = match crate::payload::fields::find(root, &["notes", "call_notes", "Notes", "note"])
    {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|n| match n {
                Value::Object(_) => crate::payload::fields::find_string(n, &["note", "text"]),
                other => scalar_string(other),
            })
            .collect(),
        Some(other) => scalar_string(other).into_iter().collect(),
        None => Vec::new(),
    };
    let notes: Vec<String> = notes.into_iter().filter(|n| !n.trim().is_empty()).collect();
    check_fan_out(&tags, &notes)?;
    Ok(CallModifiedEvent {
        call,
        tags,
        rating,
        notes,
    })
}

/// The key a queued AI-insights job of a call carries (see
/// [`crate::handlers::cloudtalk::insights`]).
pub const INSIGHTS_JOB_KEY: &str = "_bridge_insights";

/// CloudTalk's signed announcements that a call's AI data is ready.
pub const INSIGHTS_ANNOUNCEMENTS: [&str; 2] = ["cidata.ready", "transcript.ready"];

/// Whether a call body asks for the call's AI data rather than reporting the call: the
/// bridge's own queued job, or CloudTalk's `cidata.ready` / `transcript.ready` envelope.
pub fn is_insights_event(body: &Value) -> bool {
    body.get(INSIGHTS_JOB_KEY).is_some()
        || body
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| INSIGHTS_ANNOUNCEMENTS.contains(&t.trim()))
            && body.get("data").is_some()
}

pub fn parse_call(body: &Value) -> CallEvent {
    let root = unwrap_envelope(body);
    CallEvent {
        call_id: find_id(root, CALL_ID_KEYS),
        call_uuid: find_id(root, CALL_UUID_KEYS),
        contact: parse_contact_ref(root),
        agent_name: find_string(root, AGENT_NAME_KEYS),
        agent_id: find_id(root, AGENT_ID_KEYS),
        direction: direction(root),
        internal_number: find_id(
            root,
            &["internal_number", "internal_number.number_e164", "did"],
        ),
        started_at: find_string(
            root,
            &["started_at", "start_time", "call_start", "date", "time"],
        ),
        ended_at: find_string(root, &["ended_at", "end_time", "call_end"]),
        duration_secs: seconds(
            root,
            &["duration", "call_duration", "billsec", "total_time"],
        ),
        talking_secs: seconds(root, &["talking_time", "talk_time", "talking_duration"]),
        waiting_secs: seconds(root, &["waiting_time", "wait_time", "ringing_time"]),
        status: find_string(
            root,
            &["status", "call_status", "outcome", "result", "disposition"],
        ),
        is_voicemail: boolean(root, &["is_voicemail", "voicemail"]),
        recording_url: sent_recording_link(root).filter(|u| is_cloudtalk_link(u)),
    }
}

/// The recording link a call body carries, whatever its host.
pub fn sent_recording_link(root: &Value) -> Option<String> {
    let keys = [
        "recording_url",
        "recording_link",
        "recording",
        "recordingUrl",
    ];
    find_string(unwrap_envelope(root), &keys)
}

/// Whether `url` is a link CloudTalk gives to a recording: `https` on CloudTalk's own domain
/// (`my.cloudtalk.io/r/play/…`, `my.cloudtalk.io/pub/r/…` and its other hosts under
/// `cloudtalk.io`), with no credentials or port. A link anywhere else is never written into
/// GHL, where an agent would click it.
pub fn is_cloudtalk_link(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url.trim()) else {
        return false;
    };
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    parsed.scheme() == "https"
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && parsed.port().is_none()
        && (host == "cloudtalk.io" || host.ends_with(".cloudtalk.io"))
}

/// An agent's availability changed.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentStatusEvent {
    pub agent_id: String,
    pub agent_name: Option<String>,
    pub status: String,
    pub changed_at: Option<String>,
}

pub fn parse_agent_status(body: &Value) -> Result<AgentStatusEvent, PayloadError> {
    let root = unwrap_envelope(body);
    let agent_id = find_id(root, &["agent_id", "user_id", "agent.id", "id"])
        .ok_or_else(|| PayloadError::missing_fields("no agent id", &["agent_id", "user_id"]))?;
    let status = find_string(
        root,
        &[
            "status",
            "agent_status",
            "new_status",
            "availability",
            "state",
        ],
    )
    .ok_or_else(|| PayloadError::missing_fields("no agent status", &["status", "agent_status"]))?;
    Ok(AgentStatusEvent {
        agent_id,
        agent_name: find_string(root, AGENT_NAME_KEYS),
        status,
        changed_at: find_string(
            root,
            &["changed_at", "timestamp", "time", "date", "updated_at"],
        ),
    })
}

/// A contact created in CloudTalk.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactCreatedEvent {
    pub cloudtalk_id: String,
    pub name: Option<String>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub company: Option<String>,
}

fn all_values(root: &Value, keys: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for key in keys {
        let values = match find(root, &[key]) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| match i {
                    Value::Object(_) => find_id(i, &["public_number", "number", "email", "value"]),
                    other => super::fields::id_string(other),
                })
                .collect(),
            Some(other) => super::fields::id_string(other).into_iter().collect(),
            None => Vec::new(),
        };
        for v in values {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

fn dedupe(values: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    values.retain(|v| seen.insert(v.to_lowercase()));
}

pub fn parse_contact_created(body: &Value) -> Result<ContactCreatedEvent, PayloadError> {
    let root = unwrap_envelope(body);
    let cloudtalk_id = record_id(
        root,
        &["contact_id", "contact.id", "id", "cloudtalk_contact_id"],
    )
    .ok_or_else(|| {
        PayloadError::missing_fields("no CloudTalk contact id", &["contact_id", "id"])
    })?;
    let mut phones = all_values(root, PHONE_KEYS);
    phones.extend(all_values(
        root,
        &["contact_numbers", "ContactNumber", "numbers"],
    ));
    let mut emails: Vec<String> = all_values(root, EMAIL_KEYS);
    emails.extend(all_values(
        root,
        &["contact_emails", "ContactEmail", "emails"],
    ));
    emails.retain(|e| e.contains('@'));
    dedupe(&mut phones);
    dedupe(&mut emails);
    Ok(ContactCreatedEvent {
        cloudtalk_id,
        name: find_string(root, NAME_KEYS),
        phones,
        emails,
        company: find_string(root, &["company", "contact_company", "contact.company"]),
    })
}

/// A campaign's status changed.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignEvent {
    pub campaign_id: Option<String>,
    pub campaign_name: Option<String>,
    pub status: String,
    /// The contact tag the campaign dials (CloudTalk campaigns select contacts by tag).
    pub campaign_tag: Option<String>,
    /// The contact the change is about, when the payload names one.
    pub contact: ContactRef,
}

pub fn parse_campaign(body: &Value) -> Result<CampaignEvent, PayloadError> {
    let root = unwrap_envelope(body);
    let status = find_string(root, &["campaign_status", "status", "new_status", "state"])
        .ok_or_else(|| {
            PayloadError::missing_fields("no campaign status", &["campaign_status", "status"])
        })?;
    Ok(CampaignEvent {
        campaign_id: find_id(root, &["campaign_id", "campaign.id"]),
        campaign_name: find_string(root, &["campaign_name", "campaign", "campaign.name"]),
        status,
        campaign_tag: find_string(root, &["campaign_tag", "contact_tag", "tag"]),
        contact: parse_contact_ref(root),
    })
}

/// Names of the top-level keys, for logs that must not carry values.
pub fn key_names(body: &Value) -> Vec<String> {
    body.as_object()
        .map(|o| {
            o.keys()
                .take(50)
                .map(|k| k.chars().take(64).collect())
                .collect()
        })
        .unwrap_or_default()
}

/// The event's type when the sender says it (`type`, `event`, `event_type`, `action`).
pub fn event_type(body: &Value) -> Option<String> {
    find_string(body, &["type", "event", "event_type", "action", "trigger"])
        .map(|t| t.chars().take(64).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn real_call_ended_capture() {
        let v = json!({"call_uuid":"44fe27cd-5268-4670-993e-01293c9f8833","internal_number":40312296109u64,
            "contact_id":1451646073,"agent_id":493933,"external_number":393513416607u64,"# di tentativi di chiamata":null});
        let c = parse_call(&v);
        assert_eq!(
            c.call_uuid.as_deref(),
            Some("44fe27cd-5268-4670-993e-01293c9f8833")
        );
        assert_eq!(c.contact.cloudtalk_id.as_deref(), Some("1451646073"));
        assert_eq!(c.contact.phone.as_deref(), Some("393513416607"));
        assert_eq!(c.agent_id.as_deref(), Some("493933"));
        assert_eq!(c.internal_number.as_deref(), Some("40312296109"));
    }

    #[test]
    fn recording_links_only_from_cloudtalk() {
        for ok in [
            "https://my.cloudtalk.io/r/play/27",
            "https://my.cloudtalk.io/pub/r/MTAw/abc.wav",
        ] {
            assert!(is_cloudtalk_link(ok), "{ok}");
        }
        for refused in [
            "http://my.cloudtalk.io/r/play/27",
            "https://my.cloudtalk.io.evil.example/r/play/27",
            "https://evilcloudtalk.io/r",
            "https://user:pw@my.cloudtalk.io/r/play/27",
            "https://my.cloudtalk.io:8443/r/play/27",
            "javascript:alert(1)",
            "https://example.com/my.cloudtalk.io/r",
        ] {
            assert!(!is_cloudtalk_link(refused), "{refused}");
        }
        let call = parse_call(&json!({"call_id": 1, "recording_url": "https://example.com/x.wav"}));
        assert_eq!(call.recording_url, None);
    }

    #[test]
    fn real_recording_capture_and_design_test_payload() {
        let v = json!({"call_id":1002402487,"recording_url":"https://my.cloudtalk.io/pub/r/MTAwMjQwMjQ4Nw==/abc.wav",
            "internal_number":40312296109u64,"external_number":393513416607u64});
        let c = parse_call(&v);
        assert_eq!(c.call_id.as_deref(), Some("1002402487"));
        assert!(c.recording_url.unwrap().ends_with(".wav"));

        let v = json!({"Call_id":"123456","Call_uuid":"uuid-123","Agent_name":"Roberto"});
        let c = parse_call(&v);
        assert_eq!(
            (
                c.call_id.as_deref(),
                c.call_uuid.as_deref(),
                c.agent_name.as_deref()
            ),
            (Some("123456"), Some("uuid-123"), Some("Roberto"))
        );
        assert!(!c.contact.is_identifiable());
        assert!(matches!(
            c.contact.require_identifiable(),
            Err(PayloadError::Missing { .. })
        ));
    }

    #[test]
    fn placeholders_times_and_envelopes() {
        let v = json!({"transcript":"[object Object]","callId":"7","talking_time":"00:01:40","duration":"125",
            "is_voicemail":"false","Contact_phone":"+393513416607","direction":"inbound"});
        let c = parse_call(&v);
        assert_eq!(c.talking_secs, Some(100));
        assert_eq!(c.duration_secs, Some(125));
        assert_eq!(c.is_voicemail, Some(false));
        assert_eq!(c.direction.as_deref(), Some("incoming"));
        assert_eq!(c.contact.phone.as_deref(), Some("+393513416607"));

        let v = json!({"event_id":"e1","type":"call.ended","data":{"call_id":"101","external_number":"+14155552671","talking_time":0}});
        let c = parse_call(&v);
        assert_eq!(c.call_id.as_deref(), Some("101"));
        assert_eq!(c.talking_secs, Some(0));
    }

    #[test]
    fn agent_contact_and_campaign_events() {
        let a = parse_agent_status(&json!({"action":"agent_status_changed","id":493933,"status":"online","agent_name":"Roberto"})).unwrap();
        assert_eq!(
            (a.agent_id.as_str(), a.status.as_str()),
            ("493933", "online")
        );
        assert!(parse_agent_status(&json!({"agent_id":1})).is_err());

        let c = parse_contact_created(
            &json!({"contact_id":"1451646073","contact_name":"Mario Rossi",
            "external_number":393513416607u64,"contact_email":"mario@example.com"}),
        )
        .unwrap();
        assert_eq!(c.phones, vec!["393513416607"]);
        assert_eq!(c.emails, vec!["mario@example.com"]);
        assert!(parse_contact_created(&json!({"name":"x"})).is_err());

        let e = parse_campaign(&json!({"campaign_name":"Spring","campaign_status":"completed","campaign_tag":"spring-2026"})).unwrap();
        assert_eq!(e.campaign_tag.as_deref(), Some("spring-2026"));
        assert!(!e.contact.is_identifiable());
        assert!(parse_campaign(&json!({"campaign_name":"x"})).is_err());
    }
}
