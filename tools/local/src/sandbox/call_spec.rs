//! A call of CloudTalk's history as a test or a seed describes it ([`CallSpec`]: its
//! [`CallAgent`] and [`CallDirection`]), and a change of its tags, rating and notes
//! ([`CallChange`], [`CallChangeError`]).

use serde::{Deserialize, Serialize};

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
    /// The call's tags (names), as set in CloudTalk after the call.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The agent's rating of the call, 1–5 (another value is left out when recorded).
    #[serde(default)]
    pub rating: Option<u8>,
    /// The agent's notes on the call.
    #[serde(default)]
    pub notes: Vec<String>,
    /// CloudTalk's unguessable id of the call (its webhooks' `call_uuid`, the analytics API's
    /// `uuid`); `None` when recorded: one derived from the call ([`CallSpec::derived_uuid`]).
    #[serde(default)]
    pub uuid: Option<String>,
}

/// New tags, rating and notes of a call (`PUT /sandbox/calls/{id}`'s body): they replace the
/// call's; what is left out is emptied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallChange {
    pub tags: Vec<String>,
    /// 1–5; `None` clears it.
    pub rating: Option<u8>,
    pub notes: Vec<String>,
}

/// Why a call could not be changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallChangeError {
    /// No call with this id in the history.
    UnknownCall,
    /// A rating outside 1–5.
    InvalidRating(u8),
}

impl std::fmt::Display for CallChangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallChangeError::UnknownCall => f.write_str("no call with this id"),
            CallChangeError::InvalidRating(r) => write!(f, "rating {r} is not within 1-5"),
        }
    }
}

impl CallSpec {
    /// Whole seconds from `from` to `to`, never negative.
    fn secs_between(from: i64, to: i64) -> u64 {
        u64::try_from((to - from).max(0) / 1000).unwrap_or(0)
    }

    pub(crate) fn billsec(&self) -> u64 {
        Self::secs_between(self.started_ms, self.ended_ms)
    }

    pub(crate) fn waiting_secs(&self) -> u64 {
        Self::secs_between(self.started_ms, self.answered_ms.unwrap_or(self.ended_ms))
    }

    /// A uuid for call `id` that has none: deterministic (the same call, the same uuid), and
    /// different for another id, start or number (a call id a reset sandbox gives again is
    /// another call). Shaped as CloudTalk's, `8-4-4-4-12` lower-case hex.
    pub fn derived_uuid(&self, id: &str) -> String {
        let seed = format!("{id}|{}|{}", self.started_ms, self.external_number);
        let hex: String = bridge::digest::sha256(seed.as_bytes())
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }
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
    fn a_derived_uuid_is_stable_per_call() {
        let spec = CallSpec {
            external_number: "+393501234567".into(),
            started_ms: 10_000,
            ..CallSpec::default()
        };
        let uuid = spec.derived_uuid("1000001");
        assert_eq!(uuid, spec.derived_uuid("1000001"));
        assert_ne!(uuid, spec.derived_uuid("1000002"));
        let later = CallSpec {
            started_ms: 20_000,
            ..spec.clone()
        };
        assert_ne!(uuid, later.derived_uuid("1000001"));
        let parts: Vec<usize> = uuid.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{uuid}");
        assert!(uuid.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }
}
