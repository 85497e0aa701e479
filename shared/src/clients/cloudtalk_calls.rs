//! CloudTalk's record of one call (`GET /calls/{callId}` on its analytics API,
//! `https://analytics-api.cloudtalk.io/api/`, `CLOUDTALK_ANALYTICS_API_BASE`): the system of
//! record that settles two versions of one call (see [`crate::pipeline::conflict`]). Its answers
//! are plain JSON, like the AI API's, and it takes the same API key.

use async_trait::async_trait;
use serde_json::Value;

use super::cloudtalk_ai::CloudTalkAiDialect;
use super::rest::RestClient;
use super::UpstreamError;
use crate::payload::fields::{id_string, scalar_string};

/// What CloudTalk holds about a call: the facts an event about it must agree with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFacts {
    pub uuid: Option<String>,
    pub contact_id: Option<String>,
    /// The contact's number, as CloudTalk gives it.
    pub number: Option<String>,
    /// `incoming`, `outgoing` or `internal`.
    pub direction: Option<String>,
    /// `answered`, `missed`, … as CloudTalk words it.
    pub status: Option<String>,
}

#[async_trait]
pub trait CallRecordsApi: Send + Sync {
    /// The call's facts; `None` when CloudTalk has no such call (404, or 400 for an id it
    /// cannot read).
    async fn call_facts(&self, call_id: &str) -> Result<Option<CallFacts>, UpstreamError>;
}

/// The analytics API speaks the AI API's dialect (plain JSON, the API key).
pub type CloudTalkCallsClient = RestClient<CloudTalkAiDialect>;

fn facts(value: &Value) -> CallFacts {
    let text = |v: Option<&Value>| v.and_then(scalar_string);
    CallFacts {
        uuid: text(value.get("uuid")),
        contact_id: value.pointer("/contact/id").and_then(id_string),
        number: text(value.pointer("/contact/number")),
        direction: text(value.get("direction")),
        status: text(value.get("status")),
    }
}

#[async_trait]
impl CallRecordsApi for CloudTalkCallsClient {
    async fn call_facts(&self, call_id: &str) -> Result<Option<CallFacts>, UpstreamError> {
        let path = format!("/calls/{}", urlencoding::encode(call_id));
        match self.get("call record", &path, &[]).await {
            Ok(value) => Ok(Some(facts(&value))),
            Err(e) if matches!(e.status(), Some(404 | 400)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_facts_of_cloudtalks_call_record() {
        let record = json!({"cdr_id": 12345, "uuid": "aaaa-bbbb", "contact": {"id": 1,
            "name": "John Doe", "number": "+420123123123"}, "direction": "incoming",
            "status": "answered"});
        assert_eq!(
            facts(&record),
            CallFacts {
                uuid: Some("aaaa-bbbb".into()),
                contact_id: Some("1".into()),
                number: Some("+420123123123".into()),
                direction: Some("incoming".into()),
                status: Some("answered".into()),
            }
        );
    }
}
