//! CloudTalk's Conversation Intelligence (`https://api.cloudtalk.io/v1/ai/calls/{callId}/…`,
//! `CLOUDTALK_AI_API_BASE`): a call's summary, smart notes, overall sentiment and transcript.
//! Its answers are not wrapped in `responseData`. The data is ready some minutes after the call:
//! until then each path answers 404 ([`Ai::NotReady`]); a plan without it answers 403
//! ([`Ai::Unavailable`]).

use async_trait::async_trait;
use reqwest::StatusCode;
use serde_json::Value;

use super::rest::{Auth, Dialect, RateLimitHeaders, RestClient};
use super::{Service, UpstreamError};
use crate::payload::fields::scalar_string;

/// What the AI API had for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ai<T> {
    Ready(T),
    /// Not yet (404): it is computed some minutes after the call.
    NotReady,
    /// The company's plan has no Conversation Intelligence (403).
    Unavailable,
}

/// A call's summary and smart notes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallInsights {
    pub summary: String,
    pub action_items: Vec<String>,
    pub decisions: Vec<String>,
    pub open_questions: Vec<String>,
    /// `very negative` … `very positive`.
    pub sentiment: Option<String>,
}

/// One speaker's turn in a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// `agent` or `contact` (or the caller's own identifier when CloudTalk gives no type).
    pub speaker: String,
    pub text: String,
}

#[async_trait]
pub trait CloudTalkAiApi: Send + Sync {
    /// The summary, smart notes and sentiment of a call (ready once the summary is).
    async fn insights(&self, call_id: &str) -> Result<Ai<CallInsights>, UpstreamError>;
    /// The call's transcript, every page of it.
    async fn transcript(&self, call_id: &str) -> Result<Ai<Vec<Turn>>, UpstreamError>;
}

pub struct CloudTalkAiDialect;

impl Dialect for CloudTalkAiDialect {
    const SERVICE: Service = Service::CloudTalk;
    const REQUIRES_JSON_ANSWER: bool = true;
    const AUTH: Auth = Auth::CloudTalkApiKey;
    const RATE_LIMIT: RateLimitHeaders = RateLimitHeaders::ResetTime;

    fn failed_status(status: StatusCode, _body: &Value) -> Option<u16> {
        (!status.is_success()).then_some(status.as_u16())
    }

    fn error_message(body: &Value, status: StatusCode) -> String {
        body.get("message")
            .and_then(scalar_string)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string())
    }
}

pub type CloudTalkAiClient = RestClient<CloudTalkAiDialect>;

/// 404 (not computed yet) and 403 (not on this plan) are answers, not failures.
fn ai<T>(answer: Result<T, UpstreamError>) -> Result<Ai<T>, UpstreamError> {
    match answer {
        Ok(value) => Ok(Ai::Ready(value)),
        Err(e) if e.status() == Some(404) => Ok(Ai::NotReady),
        Err(e) if e.status() == Some(403) => Ok(Ai::Unavailable),
        Err(e) => Err(e),
    }
}

fn texts(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(scalar_string).collect())
        .unwrap_or_default()
}

fn call_path(call_id: &str, what: &str) -> String {
    format!("/ai/calls/{}/{what}", urlencoding::encode(call_id))
}

/// The most transcript pages read (100 segments a page).
const MAX_TRANSCRIPT_PAGES: u32 = 50;

#[async_trait]
impl CloudTalkAiApi for CloudTalkAiClient {
    async fn insights(&self, call_id: &str) -> Result<Ai<CallInsights>, UpstreamError> {
        if self.meter().knows_no_ai(self.now_ms()) {
            return Ok(Ai::Unavailable);
        }
        let summary = match self.noted(ai(self
            .get("ai summary", &call_path(call_id, "summary"), &[])
            .await))?
        {
            Ai::Ready(value) => value,
            Ai::NotReady => return Ok(Ai::NotReady),
            Ai::Unavailable => return Ok(Ai::Unavailable),
        };
        let mut insights = CallInsights {
            summary: summary
                .get("summary")
                .and_then(scalar_string)
                .unwrap_or_default(),
            ..CallInsights::default()
        };
        let path = call_path(call_id, "smart-notes");
        if let Ai::Ready(notes) = ai(self.get("ai smart notes", &path, &[]).await)? {
            let notes = notes.get("smartNotes").unwrap_or(&Value::Null);
            insights.action_items = texts(notes.get("actionItems"));
            insights.decisions = texts(notes.get("decisionsMade"));
            insights.open_questions = texts(notes.get("openQuestions"));
        }
        let path = call_path(call_id, "overall-sentiment");
        if let Ai::Ready(sentiment) = ai(self.get("ai sentiment", &path, &[]).await)? {
            insights.sentiment = sentiment.get("overallSentiment").and_then(scalar_string);
        }
        Ok(Ai::Ready(insights))
    }

    async fn transcript(&self, call_id: &str) -> Result<Ai<Vec<Turn>>, UpstreamError> {
        if self.meter().knows_no_ai(self.now_ms()) {
            return Ok(Ai::Unavailable);
        }
        let mut turns = Vec::new();
        let path = call_path(call_id, "transcription");
        for page in 0..MAX_TRANSCRIPT_PAGES {
            let offset = (page * 100).to_string();
            let query = [("limit", "100"), ("offset", offset.as_str())];
            let value = match self.noted(ai(self.get("ai transcript", &path, &query).await))? {
                Ai::Ready(value) => value,
                other if page == 0 => return Ok(other.map_none()),
                _ => break,
            };
            let data = value.get("data").unwrap_or(&Value::Null);
            let callers: Vec<(String, String)> = data
                .get("callers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| {
                    let id = c.get("localIdentifier").and_then(scalar_string)?;
                    let kind = c.get("type").and_then(scalar_string).unwrap_or(id.clone());
                    Some((id, kind))
                })
                .collect();
            let segments = data.get("segments").and_then(Value::as_array);
            let count = segments.map_or(0, Vec::len);
            for segment in segments.into_iter().flatten() {
                let caller = segment
                    .get("caller")
                    .and_then(scalar_string)
                    .unwrap_or_default();
                let speaker = callers
                    .iter()
                    .find(|(id, _)| *id == caller)
                    .map_or(caller.clone(), |(_, kind)| kind.clone());
                let text = segment
                    .get("text")
                    .and_then(scalar_string)
                    .unwrap_or_default();
                turns.push(Turn { speaker, text });
            }
            let total = value.pointer("/pagination/total").and_then(Value::as_u64);
            let read = u64::from(page + 1) * 100;
            if count < 100 || total.is_some_and(|t| read >= t) {
                break;
            }
        }
        Ok(Ai::Ready(turns))
    }
}

impl CloudTalkAiClient {
    /// Notes an answer that the plan has no AI, so that the next reads for an hour are
    /// answered without a request (each would cost one of the account's 60 a minute).
    fn noted<T>(&self, answer: Result<Ai<T>, UpstreamError>) -> Result<Ai<T>, UpstreamError> {
        if let Ok(Ai::Unavailable) = &answer {
            self.meter().saw_no_ai(self.now_ms());
        }
        answer
    }
}

impl<T> Ai<T> {
    /// The same "not ready" or "unavailable" for another type (not for `Ready`).
    fn map_none<U>(self) -> Ai<U> {
        match self {
            Ai::NotReady => Ai::NotReady,
            _ => Ai::Unavailable,
        }
    }
}
