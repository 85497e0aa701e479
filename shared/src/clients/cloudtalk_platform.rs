//! CloudTalk's platform API (`https://platform-api.cloudtalk.io/api/`,
//! `CLOUDTALK_PLATFORM_API_BASE`): cue cards, `POST /cuecards`, shown to the agent during an
//! active call (the spec's `CueCardRequest`: `call_uuid`, `type`, `title`, `subtitle`,
//! `icon_url`, and `content`, HTML text or a list of blocks). It takes the same API key as the
//! other CloudTalk APIs; its answers are plain JSON, `{"success": true}`, and its errors
//! `{"success": false, "errors": ["…"]}` (400 for a body that does not match, 424 when no call
//! with that uuid is active, 500).
//!
//! CloudTalk documents no separate limit for it: the bridge counts it against the account's
//! 60 requests a minute, with every other CloudTalk API (see [`crate::deps`]).

use async_trait::async_trait;
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::Value;

use super::rest::{Auth, Dialect, RateLimitHeaders, RestClient};
use super::{Service, UpstreamError};
use crate::payload::fields::scalar_string;

/// A cue card, as `POST /cuecards` takes it (HTML content).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CueCard {
    pub call_uuid: String,
    /// `html`: `content` is HTML text.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub subtitle: Option<String>,
    pub icon_url: Option<String>,
    pub content: String,
}

/// What became of a card CloudTalk answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// On the agent's screen.
    Shown,
    /// 424: the call is no longer active (answered elsewhere, hung up, over).
    CallOver,
}

#[async_trait]
pub trait CueCardsApi: Send + Sync {
    /// `POST /cuecards`, sent once: never repeated by the client (a card shown twice is two
    /// cards, and one shown late is of no use).
    async fn post_cue_card(&self, card: &CueCard) -> Result<Shown, UpstreamError>;
}

/// The platform API's dialect: the API key, CloudTalk's rate-limit headers, errors as a list.
pub struct CloudTalkPlatformDialect;

impl Dialect for CloudTalkPlatformDialect {
    const SERVICE: Service = Service::CloudTalk;
    const AUTH: Auth = Auth::CloudTalkApiKey;
    const RATE_LIMIT: RateLimitHeaders = RateLimitHeaders::ResetTime;

    /// A 2xx that says `"success": false` failed too (as a 400: the card was not shown).
    fn failed_status(status: StatusCode, body: &Value) -> Option<u16> {
        match (status.is_success(), body.get("success")) {
            (false, _) => Some(status.as_u16()),
            (true, Some(Value::Bool(false))) => Some(400),
            (true, _) => None,
        }
    }

    fn error_message(body: &Value, status: StatusCode) -> String {
        let errors: Vec<String> = body
            .get("errors")
            .and_then(Value::as_array)
            .map(|e| e.iter().filter_map(scalar_string).collect())
            .unwrap_or_default();
        match errors.is_empty() {
            true => status.canonical_reason().unwrap_or("error").to_string(),
            false => errors.join("; "),
        }
    }
}

pub type CloudTalkPlatformClient = RestClient<CloudTalkPlatformDialect>;

#[async_trait]
impl CueCardsApi for CloudTalkPlatformClient {
    async fn post_cue_card(&self, card: &CueCard) -> Result<Shown, UpstreamError> {
        match self.write_once("post cue card", "/cuecards", card).await {
            Ok(_) => Ok(Shown::Shown),
            Err(e) if e.status() == Some(424) => Ok(Shown::CallOver),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::rest::RateLimit;
    use serde_json::json;

    #[test]
    fn a_card_is_the_spec_s_request() {
        let card = CueCard {
            call_uuid: "aa-bb".into(),
            kind: "html",
            title: "Mario Rossi".into(),
            subtitle: None,
            icon_url: None,
            content: "<p>x</p>".into(),
        };
        assert_eq!(
            serde_json::to_value(&card).unwrap(),
            json!({"call_uuid": "aa-bb", "type": "html", "title": "Mario Rossi", "content": "<p>x</p>"})
        );
    }

    #[test]
    fn errors_are_read_from_their_list() {
        let limit = RateLimit::ResetAt(None);
        let over = r#"{"success": false, "errors": ["no such active call - call_uuid: aa-bb-cc"]}"#;
        let answer = CloudTalkPlatformClient::interpret(
            "post cue card",
            StatusCode::FAILED_DEPENDENCY,
            limit,
            over,
            0,
        );
        let error = answer.unwrap_err();
        assert_eq!(error.status(), Some(424));
        assert!(error.to_string().contains("no such active call"), "{error}");
        let refused = CloudTalkPlatformClient::interpret(
            "post cue card",
            StatusCode::OK,
            limit,
            r#"{"success": false}"#,
            0,
        );
        assert_eq!(refused.unwrap_err().status(), Some(400));
        let ok = CloudTalkPlatformClient::interpret(
            "post cue card",
            StatusCode::OK,
            limit,
            r#"{"success": true}"#,
            0,
        );
        assert_eq!(ok.unwrap(), json!({"success": true}));
    }
}
