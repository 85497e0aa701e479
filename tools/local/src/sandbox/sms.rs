//! Texts, as the sandbox holds them: CloudTalk's ([`SmsBook`]: every `POST /sms/send.json` its
//! operation answered ([`SentSms`]), the texts CloudTalk received ([`ReceivedSms`]), the
//! company's SMS settings ([`SmsSettings`]) and the operation's own fault ([`SmsFault`])), and
//! the status history of a GHL message ([`StatusChange`]).
//!
//! The operation is in `cloudtalk_sms.rs`; GHL's side (SMS messages, their status) in
//! `ghl_conversations.rs`; what a test or the console does (a user texting a contact from GHL,
//! a text arriving in CloudTalk, the settings and the fault) in `sms_control.rs`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A `POST /sms/send.json` the operation answered: sent, or why not. (Requests refused before
/// it, by the API key, the rate limit, an injected fault or the contract check, are in the
/// request log only.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentSms {
    /// The sandbox's own id, a numeric string (CloudTalk's answer carries none).
    pub id: String,
    /// When it arrived, RFC 3339 UTC with milliseconds (the sandbox's clock).
    pub at: String,
    /// The body's `sender`, `recipient` and `message`, as sent (`None` when absent).
    pub sender: Option<String>,
    pub recipient: Option<String>,
    pub message: Option<String>,
    /// The body's `images_by_url`.
    pub images: Vec<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// `sent`; the reason of a `success: false` (`Unknown number`, `Bad number configuration`,
    /// `SMS send failed`); `Insufficient Funds` (403); `invalid input` (406); `server error`
    /// (500, the fault).
    pub result: String,
    /// Whether the text went out: a 200 with `success: true`.
    pub sent: bool,
    /// How long the answer was held back by the fault's late answer (the text went out all
    /// the same when `sent`).
    pub answered_late_ms: Option<u64>,
}

/// A text CloudTalk received, sent on to the bridge as CloudTalk's "SMS received" workflow
/// webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceivedSms {
    /// The webhook's `sms_id`, a uuid.
    pub sms_id: String,
    /// RFC 3339 UTC (the webhook's `date`).
    pub at: String,
    /// `external_number`: who texted.
    pub from: String,
    /// `internal_number`: the company's number texted.
    pub to: String,
    pub text: String,
    /// The bridge's status; `None` without a bridge or without an answer.
    pub bridge_status: Option<u16>,
}

/// The CloudTalk company's SMS settings (`GET|PUT /sandbox/cloudtalk/sms-settings`), until set
/// again or a reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSettings {
    /// The company has no credit: every text is refused, 403 `Insufficient Funds`.
    pub no_credit: bool,
    /// Recipients whose texts fail (200, `success: false`, `SMS send failed`), compared by
    /// digits.
    pub undeliverable: Vec<String>,
}

/// `POST /sms/send.json`'s own fault (`GET|PUT /sandbox/faults/sms`), for a text with a valid
/// body: while `failing`, CloudTalk's 500 `Something went wrong.` and nothing is sent; with
/// `late_answer_ms`, the text is handled as usual (sent, when it can be) and its answer held
/// back that long: past the client's timeout the answer is lost, the text sent. For the next
/// `times` texts (then it clears itself), or until `{}` or a reset when `times` is unset.
/// Each text it touches counts as an injected fault.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsFault {
    pub failing: bool,
    pub late_answer_ms: u64,
    pub times: Option<u32>,
}

impl SmsFault {
    /// Whether it touches the next text.
    pub fn is_on(&self) -> bool {
        (self.failing || self.late_answer_ms > 0) && self.times != Some(0)
    }

    /// The fault for the next text, when it is on; one of its `times` used.
    pub(crate) fn take(&mut self) -> Option<SmsFault> {
        if !self.is_on() {
            return None;
        }
        let now = self.clone();
        if let Some(times) = self.times.as_mut() {
            *times -= 1;
        }
        Some(now)
    }
}

/// CloudTalk's texts: those sent through the API and those received, the settings and the
/// fault.
#[derive(Debug, Default)]
pub(crate) struct SmsBook {
    pub sent: Vec<SentSms>,
    pub received: Vec<ReceivedSms>,
    pub settings: SmsSettings,
    pub fault: SmsFault,
}

impl SmsBook {
    /// Texts that went out.
    pub fn sent_count(&self) -> usize {
        self.sent.iter().filter(|s| s.sent).count()
    }

    /// As `GET /sandbox/state` shows it (`cloudtalk.sms`).
    pub fn to_json(&self) -> Value {
        json!({
            "sent": self.sent,
            "received": self.received,
            "settings": self.settings,
            "fault": self.fault,
        })
    }
}

/// A status a GHL message was given (`PUT /conversations/messages/{id}/status`, or `pending`
/// when it was created to be delivered by the provider).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusChange {
    pub status: String,
    /// The provider's error (`{code, type, message}`), when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    pub date: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_with_times_clears_itself() {
        let mut fault = SmsFault {
            late_answer_ms: 50,
            times: Some(2),
            ..SmsFault::default()
        };
        assert!(fault.take().is_some());
        assert!(fault.take().is_some());
        assert_eq!(fault.take(), None);
        assert!(!fault.is_on());
        let mut forever = SmsFault {
            failing: true,
            ..SmsFault::default()
        };
        for _ in 0..3 {
            assert!(forever.take().is_some_and(|f| f.failing));
        }
        assert_eq!(SmsFault::default().take(), None);
    }
}
