//! CloudTalk's call history: the calls the sandbox's company made and took
//! ([`super::Sandbox::record_call`], seeding), served by `GET /calls/index.json`.
//!
//! As the real API: `date_from` / `date_to` are inclusive, `YYYY-MM-DD HH:MM:SS` in the
//! company's time zone ([`super::SandboxConfig::cloudtalk_utc_offset`]), and so are the times in
//! the rows; rows come oldest first; counts (`billsec`, `talking_time`, the envelope's
//! `itemsCount`…) are strings.

use bridge::reconcile::company_time;
use chrono::FixedOffset;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::api::{Call, Outcome, Reply};
use super::state::{CtCall, State};

/// Rows a page when the request says nothing (the spec documents no default; its examples
/// page by 30).
const DEFAULT_LIMIT: usize = 30;
/// The spec's maximum `limit`.
const MAX_LIMIT: usize = 1000;

/// Which way a call went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallDirection {
    #[default]
    Incoming,
    Outgoing,
    Internal,
}

/// The agent on a call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallAgent {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
}

/// A call that happened in CloudTalk (one whose webhook may never have reached the bridge).
/// Times are UTC epoch milliseconds; the history shows them in the company's time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSpec {
    /// The CloudTalk contact the call is assigned to, if any.
    pub contact_id: Option<String>,
    /// The customer's number (E.164).
    pub external_number: String,
    /// The company's number (E.164).
    pub internal_number: String,
    pub direction: CallDirection,
    pub agent: Option<CallAgent>,
    pub started_ms: i64,
    /// `None` for a call nobody answered.
    pub answered_ms: Option<i64>,
    pub ended_ms: i64,
    /// Seconds the agent and the customer were connected (0 for a missed call).
    pub talking_secs: u64,
    pub voicemail: bool,
    pub recording_link: Option<String>,
}

impl CallSpec {
    /// Whole seconds from `from` to `to`, never negative.
    fn secs_between(from: i64, to: i64) -> u64 {
        u64::try_from((to - from).max(0) / 1000).unwrap_or(0)
    }

    fn billsec(&self) -> u64 {
        Self::secs_between(self.started_ms, self.ended_ms)
    }

    fn waiting_secs(&self) -> u64 {
        Self::secs_between(self.started_ms, self.answered_ms.unwrap_or(self.ended_ms))
    }
}

/// Adds a call to the history; returns its id.
pub(crate) fn record(state: &mut State, spec: CallSpec) -> String {
    let id = state.ct_id();
    state.ct_calls.push(CtCall {
        id: id.clone(),
        spec,
    });
    id
}

/// `GET /calls/index.json`: `date_from`, `date_to`, `contact_id`, `limit`, `page`.
pub(crate) fn list_calls(call: &mut Call) -> Outcome {
    let offset = call.inner.config.cloudtalk_utc_offset;
    let from = bound(call, "date_from", offset)?;
    let to = bound(call, "date_to", offset)?;
    let contact = call.req.query("contact_id").filter(|c| !c.is_empty());
    let mut calls: Vec<&CtCall> = call
        .state
        .ct_calls
        .iter()
        .filter(|c| within(started_second(c), from, to))
        .filter(|c| contact.is_none_or(|id| c.spec.contact_id.as_deref() == Some(id)))
        .collect();
    calls.sort_by(|a, b| (a.spec.started_ms, &a.id).cmp(&(b.spec.started_ms, &b.id)));
    let rows = calls.iter().map(|c| row(call.state, c, offset)).collect();
    let (page, limit) = paging(call);
    Ok((200, envelope(rows, page, limit)))
}

/// A `date_from` / `date_to` bound in epoch milliseconds; 406 when it cannot be read.
fn bound(call: &Call, name: &str, offset: FixedOffset) -> Result<Option<i64>, Reply> {
    let Some(text) = call.req.query(name).filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    company_time::parse(text, offset).map(Some).ok_or_else(|| {
        let message = "Invalid date. Use the format YYYY-MM-DD HH:MM:SS.";
        super::cloudtalk::invalid_field(name, message)
    })
}

/// The history shows whole seconds, and filters on them.
fn started_second(call: &CtCall) -> i64 {
    call.spec.started_ms.div_euclid(1000) * 1000
}

fn within(at: i64, from: Option<i64>, to: Option<i64>) -> bool {
    from.is_none_or(|f| at >= f) && to.is_none_or(|t| at <= t)
}

/// `page` (from 1) and `limit` (1..=1000).
pub(crate) fn paging(call: &Call) -> (usize, usize) {
    let number = |name: &str| call.req.query(name).and_then(|v| v.parse::<usize>().ok());
    let limit = number("limit").unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    (number("page").unwrap_or(1).max(1), limit)
}

/// One page of `rows` in CloudTalk's list envelope, counts as strings.
pub(crate) fn envelope(rows: Vec<Value>, page: usize, limit: usize) -> Value {
    let count = rows.len();
    let data: Vec<Value> = rows
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect();
    json!({"responseData": {
        "itemsCount": count.to_string(),
        "pageCount": count.div_ceil(limit).max(1).to_string(),
        "pageNumber": page.to_string(),
        "limit": limit.to_string(),
        "data": data,
    }})
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
    })
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
    fn counts_come_from_the_call_times() {
        let spec = CallSpec {
            started_ms: 10_000,
            answered_ms: Some(14_500),
            ended_ms: 70_999,
            ..CallSpec::default()
        };
        assert_eq!((spec.billsec(), spec.waiting_secs()), (60, 4));
        let missed = CallSpec {
            answered_ms: None,
            ..spec
        };
        assert_eq!(missed.waiting_secs(), 60, "a missed call waits to its end");
    }

    #[test]
    fn bounds_are_inclusive_and_optional() {
        assert!(within(5, Some(5), Some(5)));
        assert!(!within(4, Some(5), None));
        assert!(!within(6, None, Some(5)));
        assert!(within(6, None, None));
    }

    #[test]
    fn the_envelope_pages_and_counts_as_strings() {
        let rows: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let page = envelope(rows, 2, 2);
        assert_eq!(
            page["responseData"],
            json!({"itemsCount": "5", "pageCount": "3", "pageNumber": "2", "limit": "2", "data": [2, 3]})
        );
    }
}
