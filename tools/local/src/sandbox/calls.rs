//! CloudTalk's call history: the calls the sandbox's company made and took
//! ([`super::base::Sandbox::record_call`], seeding), served by `GET /calls/index.json`.
//!
//! As the real API: `date_from` / `date_to` are inclusive, `YYYY-MM-DD HH:MM:SS` in the
//! company's time zone ([`super::config::SandboxConfig::cloudtalk_utc_offset`]), and so are the times in
//! the rows; rows come oldest first; counts (`billsec`, `talking_time`, the envelope's
//! `itemsCount`…) are strings.
//!
//! A call carries the tags, rating (1–5) and agent notes set in CloudTalk after it: rows show
//! them as `Tags: [{id, name}]`, `Notes: [{id, note}]` and `Ratings: [{id, rating, type}]`
//! (ids and the rating as strings). Changing them ([`super::base::Sandbox::modify_call`],
//! `PUT /sandbox/calls/{id}`) fires CloudTalk's "Call Modified" workflow trigger: the bridge's
//! `POST /api/cloudtalk-webhooks/call-modified` (see [`modified_body`]).

use bridge::reconcile::company_time;
use chrono::FixedOffset;
use serde_json::{json, Value};

use super::api::{add_tags, Call, Outcome, Reply};
use super::call_spec::{CallAgent, CallChange, CallChangeError, CallSpec};
use super::cloudtalk_common::{invalid_field, list_envelope, paging};
use super::state::{CtCall, State};

/// Adds a call to the history, with a uuid when it has none ([`CallSpec::derived_uuid`]);
/// returns its id.
pub(crate) fn record(state: &mut State, mut spec: CallSpec) -> String {
    let id = state.ct_id();
    if spec.uuid.as_deref().is_none_or(|u| u.trim().is_empty()) {
        spec.uuid = Some(spec.derived_uuid(&id));
    }
    let mut call = CtCall {
        id: id.clone(),
        spec: CallSpec::default(),
        note_ids: Vec::new(),
        rating_id: None,
        ai: None,
        ai_requests: 0,
    };
    let change = CallChange {
        tags: spec.tags.clone(),
        rating: spec.rating.filter(|r| (1..=5).contains(r)),
        notes: spec.notes.clone(),
    };
    call.spec = spec;
    apply_change(state, &mut call, change);
    state.ct_calls.push(call);
    id
}

/// Replaces a call's tags, rating and notes; the call as it now is.
pub(crate) fn modify(
    state: &mut State,
    id: &str,
    change: CallChange,
) -> Result<CtCall, CallChangeError> {
    if let Some(r) = change.rating.filter(|r| !(1..=5).contains(r)) {
        return Err(CallChangeError::InvalidRating(r));
    }
    let at = state.ct_calls.iter().position(|c| c.id == id);
    let at = at.ok_or(CallChangeError::UnknownCall)?;
    let mut call = state.ct_calls[at].clone();
    apply_change(state, &mut call, change);
    state.ct_calls[at] = call.clone();
    Ok(call)
}

/// Sets the change on the call: tags (trimmed, no repeats compared case-insensitively) in the
/// tag catalogue; a note keeps its id while its text stays, a new one gets a new id; the
/// rating keeps its id.
fn apply_change(state: &mut State, call: &mut CtCall, change: CallChange) {
    let mut tags = Vec::new();
    let names: Vec<String> = change
        .tags
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    add_tags(&mut tags, &names);
    for tag in &tags {
        state.tag_id(tag);
    }
    let notes: Vec<String> = change
        .notes
        .iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    let mut note_ids = Vec::new();
    for note in &notes {
        let kept = call
            .spec
            .notes
            .iter()
            .zip(&call.note_ids)
            .find(|(text, id)| *text == note && !note_ids.contains(*id))
            .map(|(_, id)| id.clone());
        note_ids.push(kept.unwrap_or_else(|| state.ct_id()));
    }
    if change.rating.is_some() && call.rating_id.is_none() {
        call.rating_id = Some(state.ct_id());
    }
    call.spec.tags = tags;
    call.spec.notes = notes;
    call.note_ids = note_ids;
    call.spec.rating = change.rating;
}

/// The body of CloudTalk's "Call Modified" workflow webhook for the call: `call_id`,
/// `contact_id` and `agent_id` (numbers; the last two left out when the call has none),
/// `external_number`, `tags` (names), `rating` (left out when there is none) and `notes`.
pub(crate) fn modified_body(call: &CtCall) -> Value {
    let number = |id: &str| id.parse::<u64>().map(Value::from).unwrap_or(json!(id));
    let spec = &call.spec;
    let mut body = json!({
        "call_id": number(&call.id),
        "external_number": spec.external_number,
        "tags": spec.tags,
        "notes": spec.notes,
    });
    if let Some(contact) = &spec.contact_id {
        body["contact_id"] = number(contact);
    }
    if let Some(agent) = &spec.agent {
        body["agent_id"] = number(&agent.id);
    }
    if let Some(rating) = spec.rating {
        body["rating"] = json!(rating);
    }
    body
}

/// `GET /calls/index.json`: `date_from`, `date_to`, `contact_id`, `public_external`,
/// `public_internal`, `user_id`, `type`, `status`, `limit`, `page` (see [`Filters`]).
pub(crate) fn list_calls(call: &mut Call) -> Outcome {
    let offset = call.inner.config.cloudtalk_utc_offset;
    let from = bound(call, "date_from", offset)?;
    let to = bound(call, "date_to", offset)?;
    let filters = Filters::read(call);
    let mut calls: Vec<&CtCall> = call
        .state
        .ct_calls
        .iter()
        .filter(|c| within(started_second(c), from, to))
        .filter(|c| filters.keep(c))
        .collect();
    calls.sort_by(|a, b| (a.spec.started_ms, &a.id).cmp(&(b.spec.started_ms, &b.id)));
    let rows = calls.iter().map(|c| row(call.state, c, offset)).collect();
    let (page, limit) = paging(call);
    Ok((200, list_envelope(rows, page, limit)))
}

/// The call history's filters besides the dates; an empty one filters nothing. Numbers are
/// compared by their digits, so `+393501234567` and `393501234567` name the same one.
#[derive(Debug, Default)]
struct Filters {
    contact_id: Option<String>,
    public_external: Option<String>,
    public_internal: Option<String>,
    user_id: Option<String>,
    direction: Option<String>,
    /// `answered` or `missed`.
    status: Option<String>,
}

impl Filters {
    fn read(call: &Call) -> Self {
        let query = |name: &str| {
            let value = call.req.query(name).map(str::trim);
            value.filter(|v| !v.is_empty()).map(str::to_string)
        };
        let number = |name: &str| query(name).map(|n| digits(&n)).filter(|n| !n.is_empty());
        Self {
            contact_id: query("contact_id"),
            public_external: number("public_external"),
            public_internal: number("public_internal"),
            user_id: query("user_id"),
            direction: query("type"),
            status: query("status"),
        }
    }

    fn keep(&self, call: &CtCall) -> bool {
        let spec = &call.spec;
        let same = |wanted: &Option<String>, value: Option<&str>| {
            wanted.as_deref().is_none_or(|w| value == Some(w))
        };
        let agent = spec.agent.as_ref().map(|a| a.id.as_str());
        let direction = serde_json::to_value(spec.direction).unwrap_or_default();
        let status = if spec.answered_ms.is_some() {
            "answered"
        } else {
            "missed"
        };
        same(&self.contact_id, spec.contact_id.as_deref())
            && same(&self.public_external, Some(&digits(&spec.external_number)))
            && same(&self.public_internal, Some(&digits(&spec.internal_number)))
            && same(&self.user_id, agent)
            && same(&self.direction, direction.as_str())
            && same(&self.status, Some(status))
    }
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// A `date_from` / `date_to` bound in epoch milliseconds; 406 when it cannot be read.
fn bound(call: &Call, name: &str, offset: FixedOffset) -> Result<Option<i64>, Reply> {
    let Some(text) = call.req.query(name).filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    company_time::parse(text, offset).map(Some).ok_or_else(|| {
        let message = "Invalid date. Use the format YYYY-MM-DD HH:MM:SS.";
        invalid_field(name, message)
    })
}

/// The history shows whole seconds, and filters on them.
fn started_second(call: &CtCall) -> i64 {
    call.spec.started_ms.div_euclid(1000) * 1000
}

fn within(at: i64, from: Option<i64>, to: Option<i64>) -> bool {
    from.is_none_or(|f| at >= f) && to.is_none_or(|t| at <= t)
}

/// A history row: `Cdr`, `Contact`, `Agent`.
fn row(state: &State, call: &CtCall, offset: FixedOffset) -> Value {
    let spec = &call.spec;
    let time = |ms: i64| company_time::format(ms, offset);
    json!({
        "Cdr": {
            "id": call.id,
            "billsec": spec.billsec().to_string(),
            "type": spec.direction,
            "public_external": spec.external_number,
            "public_internal": spec.internal_number,
            "recorded": spec.recording_link.is_some(),
            "is_voicemail": spec.voicemail,
            "user_id": spec.agent.as_ref().map(|a| a.id.clone()),
            "talking_time": spec.talking_secs.to_string(),
            "waiting_time": spec.waiting_secs().to_string(),
            "started_at": time(spec.started_ms),
            "answered_at": spec.answered_ms.map(time),
            "ended_at": time(spec.ended_ms),
            "recording_link": spec.recording_link,
        },
        "Contact": contact_json(state, spec.contact_id.as_deref()),
        "Agent": spec.agent.as_ref().map(agent_json),
        "Tags": spec.tags.iter().map(|t| json!({"id": tag_id(state, t), "name": t})).collect::<Vec<_>>(),
        "Notes": call.note_ids.iter().zip(&spec.notes).map(|(id, note)| json!({"id": id, "note": note})).collect::<Vec<_>>(),
        "Ratings": call.rating_id.iter().zip(spec.rating).map(|(id, rating)| json!({"id": id, "rating": rating.to_string(), "type": "agent"})).collect::<Vec<_>>(),
    })
}

/// The catalogue id of a tag (every call tag is catalogued when set).
fn tag_id(state: &State, name: &str) -> Option<String> {
    state
        .ct_tags
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(id, _)| id.clone())
}

/// The call's contact in the spec's read shape (numbers and emails as plain strings).
fn contact_json(state: &State, id: Option<&str>) -> Value {
    let Some(contact) = id.and_then(|id| state.ct_contacts.get(id)) else {
        return json!({"id": id});
    };
    json!({
        "id": contact.id,
        "name": contact.name,
        "type": "contact",
        "contact_numbers": contact.numbers,
        "contact_emails": contact.emails,
        "tags": contact.tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
    })
}

fn agent_json(agent: &CallAgent) -> Value {
    json!({
        "id": agent.id,
        "firstname": agent.first_name,
        "lastname": agent.last_name,
        "fullname": format!("{} {}", agent.first_name, agent.last_name).trim(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_optional() {
        assert!(within(5, Some(5), Some(5)));
        assert!(!within(4, Some(5), None));
        assert!(!within(6, None, Some(5)));
        assert!(within(6, None, None));
    }
}
