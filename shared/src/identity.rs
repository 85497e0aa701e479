//! What matters about a call event beyond its key: the call's uuid, the contact, the number
//! (hashed), the direction and the outcome. Compared when a second version of a call arrives
//! under the same key, and against CloudTalk's own record of the call (see
//! [`crate::pipeline::conflict`]).

use serde_json::{json, Value};

use crate::clients::cloudtalk_calls::CallFacts;
use crate::payload::cloudtalk::CallEvent;

/// What matters about a call event; each part absent when the event does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallIdentity {
    /// The call it is about (not compared: it is in the key).
    pub call_id: String,
    /// CloudTalk's unguessable id of the call.
    pub uuid: Option<String>,
    /// The CloudTalk contact.
    pub contact: Option<String>,
    /// A hash of the contact's number (E.164), never the number.
    pub number: Option<String>,
    pub direction: Option<String>,
    /// `answered`, `missed` or `voicemail` (call-ended only).
    pub outcome: Option<String>,
}

fn number_hash(raw: &str, region: Option<&str>) -> String {
    let e164 = crate::phone::to_e164(raw, region).unwrap_or_else(|_| {
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        format!("+{digits}")
    });
    let digest = crate::digest::sha256(e164.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn direction(raw: &str) -> String {
    match raw.trim().to_ascii_lowercase().as_str() {
        "inbound" | "incoming" | "in" => "incoming".into(),
        "outbound" | "outgoing" | "out" => "outgoing".into(),
        other => other.to_string(),
    }
}

/// `answered`, `missed` or `voicemail`, the way the bridge reads a call (unknown: none).
fn outcome_of(call: &CallEvent) -> Option<String> {
    use crate::mapping::cloudtalk_to_ghl::{call_outcome, CallOutcome};
    match call_outcome(call) {
        CallOutcome::Unknown => None,
        known => Some(known.as_str().to_string()),
    }
}

impl CallIdentity {
    /// The identity of a call event (`with_outcome` for call-ended); none without a call id.
    pub fn of_call(call: &CallEvent, region: Option<&str>, with_outcome: bool) -> Option<Self> {
        Some(Self {
            call_id: call.call_id.clone()?,
            uuid: call.call_uuid.clone(),
            contact: call.contact.cloudtalk_id.clone(),
            number: call
                .contact
                .phone
                .as_deref()
                .map(|n| number_hash(n, region)),
            direction: call.direction.as_deref().map(direction),
            outcome: with_outcome.then(|| outcome_of(call)).flatten(),
        })
    }

    /// What CloudTalk's record of the call says.
    pub fn of_facts(call_id: &str, facts: &CallFacts, region: Option<&str>) -> Self {
        let as_call = CallEvent {
            status: facts.status.clone(),
            ..CallEvent::default()
        };
        Self {
            call_id: call_id.to_string(),
            uuid: facts.uuid.clone(),
            contact: facts.contact_id.clone(),
            number: facts.number.as_deref().map(|n| number_hash(n, region)),
            direction: facts.direction.as_deref().map(direction),
            outcome: outcome_of(&as_call),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({"callId": self.call_id, "uuid": self.uuid, "contact": self.contact,
            "number": self.number, "direction": self.direction, "outcome": self.outcome})
    }

    pub fn from_json(value: &Value) -> Option<Self> {
        let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
        Some(Self {
            call_id: text("callId")?,
            uuid: text("uuid"),
            contact: text("contact"),
            number: text("number"),
            direction: text("direction"),
            outcome: text("outcome"),
        })
    }

    /// The parts on which the two disagree (each said by both, and differently). Outcomes are
    /// compared as answered or not: CloudTalk's record words a voicemail `missed`.
    pub fn disagreements(&self, other: &CallIdentity) -> Vec<&'static str> {
        let answered = |o: &Option<String>| o.as_ref().map(|o| o == "answered");
        let (mine, theirs) = (
            answered(&self.outcome).map(|a| a.to_string()),
            answered(&other.outcome).map(|a| a.to_string()),
        );
        let parts = [
            ("uuid", &self.uuid, &other.uuid),
            ("contact", &self.contact, &other.contact),
            ("number", &self.number, &other.number),
            ("direction", &self.direction, &other.direction),
            ("outcome", &mine, &theirs),
        ];
        parts
            .into_iter()
            .filter(|(_, a, b)| matches!((a, b), (Some(a), Some(b)) if a != b))
            .map(|(name, _, _)| name)
            .collect()
    }

    /// One line for reasons and logs: ids, hashes and words only.
    pub fn summary(&self) -> String {
        let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        format!(
            "uuid {}, contact {}, number #{}, {}, {}",
            or(&self.uuid),
            or(&self.contact),
            or(&self.number),
            or(&self.direction),
            or(&self.outcome)
        )
    }

    /// A short hash of the identity, naming the key of a settled version.
    pub fn hash(&self) -> String {
        let digest = crate::digest::sha256(self.to_json().to_string().as_bytes());
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(outcome: &str) -> CallEvent {
        let mut call = CallEvent {
            call_id: Some("1002".into()),
            status: Some(outcome.into()),
            direction: Some("inbound".into()),
            ..CallEvent::default()
        };
        call.contact.cloudtalk_id = Some("77".into());
        call.contact.phone = Some("393513416607".into());
        call
    }

    #[test]
    fn what_matters_is_compared_where_both_say_it() {
        let answered = CallIdentity::of_call(&call("answered"), None, true).unwrap();
        let missed = CallIdentity::of_call(&call("missed"), None, true).unwrap();
        assert_eq!(answered.disagreements(&missed), vec!["outcome"]);
        let mut with_uuid = answered.clone();
        with_uuid.uuid = Some("u-1".into());
        assert!(
            answered.disagreements(&with_uuid).is_empty(),
            "one says none"
        );
        let mut other_uuid = answered.clone();
        other_uuid.uuid = Some("u-2".into());
        assert_eq!(with_uuid.disagreements(&other_uuid), vec!["uuid"]);
        assert_eq!(
            CallIdentity::from_json(&answered.to_json()),
            Some(answered.clone())
        );
        assert!(!answered.summary().contains("3513416607"), "no number");
        let facts = CallFacts {
            uuid: Some("u-1".into()),
            contact_id: Some("77".into()),
            number: Some("+393513416607".into()),
            direction: Some("incoming".into()),
            status: Some("missed".into()),
        };
        let truth = CallIdentity::of_facts("1002", &facts, None);
        assert!(truth.disagreements(&missed).is_empty());
        assert_eq!(truth.disagreements(&answered), vec!["outcome"]);
        // CloudTalk's record words a voicemail "missed".
        let voicemail = CallIdentity::of_call(&call("voicemail"), None, true).unwrap();
        assert_eq!(voicemail.outcome.as_deref(), Some("voicemail"));
        assert!(truth.disagreements(&voicemail).is_empty());
    }
}
