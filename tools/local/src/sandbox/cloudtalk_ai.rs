//! CloudTalk's Conversation Intelligence API (`https://api.cloudtalk.io/v1`), under
//! `/cloudtalk/ai/v1`: a call's summary, smart notes, overall sentiment, transcription and
//! topics (`GET /ai/calls/{callId}/summary`, `/smart-notes`, `/overall-sentiment`,
//! `/transcription`, `/topics`; the last two paged by `limit` and `offset`).
//!
//! As the spec documents it: answers are not wrapped in `responseData`; errors are
//! `{"code": "NOT_FOUND", "message": …}`; the same Basic auth as the CloudTalk API, and the same
//! company rate limit and headers.
//!
//! When there is something to read:
//! - nothing, `403 FORBIDDEN`, on every path when the company's plan has no Conversation
//!   Intelligence ([`super::config::SandboxConfig::ai_enabled`] false);
//! - `404 NOT_FOUND` for a call that is not in the history, or that nobody answered;
//! - for an answered call, `404` until it has ended and
//!   [`super::config::SandboxConfig::ai_ready_after_secs`] have passed since its end (in whole seconds
//!   of the sandbox's clock), then content derived from the call: its id picks a subject, its
//!   contact's and agent's names fill the text;
//! - content a test set ([`CallAi`]: [`super::base::Sandbox::set_call_ai`], `PUT
//!   /sandbox/calls/{id}/ai`) replaces the derived parts it names, and is ready after
//!   [`CallAi::ready_after_requests`] requests for that call (on any AI path) have been answered
//!   `404`, whatever the call's times.

use serde_json::{json, Value};

use super::api::{Api, Call, Headers, Incoming, Outcome, Reply, Route};
use super::base::{Fault, Inner};
use super::call_ai::{CallAi, Sentiment, Speaker, TranscriptSegment};
use super::call_spec::CallSpec;
use super::cloudtalk_common::{authorized, limit_headers, next_minute, over_limit};
use super::routes::get;
use super::state::{millis_iso, CtCall, State};

/// Items a page when the request has no `limit` (the spec documents none; 10 is its example).
const DEFAULT_LIMIT: usize = 10;

/// The language of the derived transcription.
const LANGUAGE: &str = "en";

/// The local identifiers of a transcription's callers, as in the spec's examples.
const CONTACT_CALLER: &str = "caller1";
const AGENT_CALLER: &str = "caller2";

/// What a derived call is about, and what the agent promised: picked by the call's id.
const SUBJECTS: &[(&str, &str)] = &[
    ("the spring offer", "a quote by Friday"),
    ("a delivery date", "a confirmation by tomorrow"),
    ("the annual plan", "a comparison of the plans by email"),
    ("an open invoice", "a corrected invoice this week"),
];

#[rustfmt::skip]
const ROUTES: &[Route] = &[
    get("/ai/calls/{id}/summary", summary),
    get("/ai/calls/{id}/smart-notes", smart_notes),
    get("/ai/calls/{id}/overall-sentiment", overall_sentiment),
    get("/ai/calls/{id}/transcription", transcription),
    get("/ai/calls/{id}/topics", topics),
];

pub(crate) struct CloudTalkAi;

impl Api for CloudTalkAi {
    const NAME: &'static str = "cloudtalk-ai";
    const VENDOR: bridge_contracts::Vendor = bridge_contracts::Vendor::CloudTalk;
    const PREFIX: &'static str = "/cloudtalk/ai/v1";
    const ROUTES: &'static [Route] = ROUTES;
    /// When the company's limit window resets, in Unix seconds.
    type Quota = i64;

    fn fault(req: &Incoming, fault: Fault) -> (Reply, i64) {
        match fault {
            Fault::ServerError => (Self::server_error(), next_minute(req)),
            Fault::RateLimited => (
                error(429, "TOO_MANY_REQUESTS", "Too many requests."),
                req.received + 2,
            ),
        }
    }

    fn admit(inner: &Inner, req: &Incoming) -> Result<i64, (Reply, i64)> {
        let reset = next_minute(req);
        if !authorized(inner, req) {
            let message = "You are not authorized to access this resource.";
            return Err((error(401, "UNAUTHORIZED", message), reset));
        }
        if over_limit(inner, req, 1) {
            return Err((error(429, "TOO_MANY_REQUESTS", "Too many requests."), reset));
        }
        Ok(reset)
    }

    fn limit_headers(inner: &Inner, status: u16, reset_at: i64) -> Headers {
        limit_headers(inner, status, reset_at)
    }

    fn server_error() -> Reply {
        let message = "An unexpected error occurred on the server.";
        error(500, "INTERNAL_SERVER_ERROR", message)
    }

    fn bad_body() -> Reply {
        bad_request("The request could not be understood or was missing required parameters.")
    }

    fn no_route(_req: &Incoming) -> Reply {
        not_found()
    }

    fn refusal(violation: &bridge_contracts::Violation) -> Reply {
        match violation.kind {
            bridge_contracts::Kind::UnknownOperation => not_found(),
            _ => bad_request(&violation.problems.join("; ")),
        }
    }

    fn needs_body(_req: &Incoming) -> bool {
        false
    }
}

/// The spec's error shape.
fn error(status: u16, code: &str, message: &str) -> Reply {
    (status, json!({"code": code, "message": message}))
}

fn not_found() -> Reply {
    error(404, "NOT_FOUND", "The requested resource was not found.")
}

fn bad_request(message: &str) -> Reply {
    error(400, "BAD_REQUEST", message)
}

fn forbidden() -> Reply {
    let message = "Conversation Intelligence is not included in the company's plan.";
    error(403, "FORBIDDEN", message)
}

/// A topic of a transcript: its name, its weight and the indexes of its segments.
type Topic = (String, f64, Vec<usize>);

/// Everything the AI API says about one call.
struct Content {
    call_id: Value,
    summary: String,
    sentiment: Sentiment,
    call_date_time: String,
    participants: Vec<Value>,
    call_metadata: String,
    action_items: Vec<String>,
    decisions_made: Vec<String>,
    open_questions: Vec<String>,
    segments: Vec<TranscriptSegment>,
    topics: Vec<Topic>,
    callers: Vec<Value>,
    language: String,
}

/// The content of the call the path names, once it is ready; `403`, or `404`, otherwise.
fn ready(call: &mut Call) -> Result<Content, Reply> {
    if !call.inner.config.ai_enabled {
        return Err(forbidden());
    }
    let id = call.param("id");
    let delay = i64::try_from(call.inner.config.ai_ready_after_secs).unwrap_or(i64::MAX);
    let now = call.req.received;
    let state = &mut *call.state;
    let found = state.ct_calls.iter_mut().find(|c| c.id == id);
    let found = found.ok_or_else(not_found)?;
    found.ai_requests = found.ai_requests.saturating_add(1);
    let is_ready = match &found.ai {
        Some(ai) => found.ai_requests > ai.ready_after_requests,
        None => {
            let spec = &found.spec;
            let ended = spec.ended_ms.div_euclid(1000);
            spec.answered_ms.is_some() && now >= ended.saturating_add(delay)
        }
    };
    if !is_ready {
        return Err(not_found());
    }
    let found = found.clone();
    Ok(content(state, &found))
}

/// Who a call's derived content names, and what the call is about (picked by its id).
struct Cast {
    /// The contact's name, when the sandbox knows one.
    contact: Option<String>,
    /// The contact's name, else "the caller".
    contact_name: String,
    /// The agent's full name, else "the agent".
    agent_name: String,
    /// The agent's first name, else their name.
    agent_first: String,
    subject: &'static str,
    promise: &'static str,
}

impl Cast {
    fn of(state: &State, call: &CtCall, number: u64) -> Self {
        let spec = &call.spec;
        let (subject, promise) = SUBJECTS[(number % SUBJECTS.len() as u64) as usize];
        let contact = spec
            .contact_id
            .as_deref()
            .and_then(|id| state.ct_contacts.get(id))
            .map(|c| c.name.clone())
            .filter(|n| !n.trim().is_empty());
        let agent = spec.agent.as_ref();
        let agent_name = agent
            .map(|a| {
                format!("{} {}", a.first_name, a.last_name)
                    .trim()
                    .to_string()
            })
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "the agent".into());
        let agent_first = agent
            .map(|a| a.first_name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| agent_name.clone());
        Self {
            contact_name: contact.clone().unwrap_or_else(|| "the caller".into()),
            contact,
            agent_name,
            agent_first,
            subject,
            promise,
        }
    }

    /// The transcript of a call nobody set one for.
    fn segments(&self) -> Vec<TranscriptSegment> {
        let Self {
            contact_name,
            agent_first,
            subject,
            promise,
            ..
        } = self;
        vec![
            segment(
                Speaker::Agent,
                0.6,
                3.8,
                format!("Good morning, this is {agent_first}. How can I help?"),
            ),
            segment(
                Speaker::Contact,
                4.2,
                8.9,
                format!("Hi, this is {contact_name}. I am calling about {subject}."),
            ),
            segment(
                Speaker::Agent,
                9.3,
                14.7,
                format!("Of course. I will send you {promise}."),
            ),
            segment(Speaker::Contact, 15.0, 17.2, "Perfect, thank you.".into()),
        ]
    }

    /// The call's participants, as smart notes name them.
    fn participants(&self) -> Vec<Value> {
        let contact = match &self.contact {
            Some(name) => json!({"name": name, "callerType": "contact"}),
            None => json!({"callerType": "contact"}),
        };
        vec![
            json!({"name": self.agent_name, "callerType": "agent"}),
            contact,
        ]
    }
}

/// The transcript and its topics: what a test set, else derived (each topic with its
/// weight and the indexes of its segments).
fn transcript(set: &CallAi, cast: &Cast) -> (Vec<TranscriptSegment>, Vec<Topic>) {
    let subject = capitalised(cast.subject);
    match (set.transcript.clone(), set.topics.clone()) {
        (segments, Some(names)) => {
            let weight = 1.0 / names.len().max(1) as f64;
            let topics = names.into_iter().map(|t| (t, weight, Vec::new())).collect();
            (segments.unwrap_or_else(|| cast.segments()), topics)
        }
        (Some(segments), None) => (segments, vec![(subject, 1.0, Vec::new())]),
        (None, None) => {
            let topics = vec![
                (subject, 0.6, vec![1]),
                ("Next steps".to_string(), 0.4, vec![2]),
            ];
            (cast.segments(), topics)
        }
    }
}

/// The transcription's callers: the contact's and the agent's ids (numbers), and their local
/// identifiers.
fn callers(spec: &CallSpec) -> Vec<Value> {
    let id_of = |id: Option<&str>| {
        id.and_then(|i| i.parse::<u64>().ok())
            .map(Value::from)
            .unwrap_or(Value::Null)
    };
    let agent = spec.agent.as_ref().map(|a| a.id.as_str());
    vec![
        json!({"id": id_of(spec.contact_id.as_deref()), "type": "contact", "localIdentifier": CONTACT_CALLER}),
        json!({"id": id_of(agent), "type": "agent", "localIdentifier": AGENT_CALLER}),
    ]
}

fn content(state: &State, call: &CtCall) -> Content {
    let spec = &call.spec;
    let set = call.ai.clone().unwrap_or_default();
    let number: u64 = call.id.parse().unwrap_or(0);
    let cast = Cast::of(state, call, number);
    let (segments, topics) = transcript(&set, &cast);
    let sentiment = [
        Sentiment::Positive,
        Sentiment::Neutral,
        Sentiment::VeryPositive,
        Sentiment::Positive,
    ][(number % 4) as usize];
    let Cast {
        contact_name,
        agent_name,
        subject,
        promise,
        ..
    } = &cast;
    Content {
        call_id: Value::from(number),
        summary: set.summary.unwrap_or_else(|| {
            capitalised(&format!(
                "{contact_name} asked about {subject}; {agent_name} promised {promise}."
            ))
        }),
        sentiment: set.overall_sentiment.unwrap_or(sentiment),
        call_date_time: second_iso(spec.started_ms),
        participants: cast.participants(),
        call_metadata: format!("CloudTalk call {}", call.id),
        action_items: set
            .action_items
            .unwrap_or_else(|| vec![format!("Send {contact_name} {promise}")]),
        decisions_made: set
            .decisions_made
            .unwrap_or_else(|| vec![format!("{agent_name} follows up on {subject}")]),
        open_questions: set
            .open_questions
            .unwrap_or_else(|| vec![capitalised(&format!("{subject}: which option fits best?"))]),
        segments,
        topics,
        callers: callers(spec),
        language: set.language.unwrap_or_else(|| LANGUAGE.into()),
    }
}

fn segment(speaker: Speaker, start: f64, end: f64, text: String) -> TranscriptSegment {
    TranscriptSegment {
        speaker,
        start,
        end,
        text,
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Epoch milliseconds as RFC 3339 UTC in whole seconds.
fn second_iso(ms: i64) -> String {
    let iso = millis_iso(ms.div_euclid(1000) * 1000);
    iso.replace(".000Z", "Z")
}

fn caller_of(speaker: Speaker) -> &'static str {
    match speaker {
        Speaker::Agent => AGENT_CALLER,
        Speaker::Contact => CONTACT_CALLER,
    }
}

fn segment_json(s: &TranscriptSegment) -> Value {
    json!({"start": s.start, "end": s.end, "caller": caller_of(s.speaker), "text": s.text})
}

/// `limit` (from 1; [`DEFAULT_LIMIT`] when absent) and `offset` (from 0).
fn paging(call: &Call) -> (usize, usize) {
    let number = |name: &str| call.req.query(name).and_then(|v| v.parse::<usize>().ok());
    let limit = number("limit").unwrap_or(DEFAULT_LIMIT).max(1);
    (limit, number("offset").unwrap_or(0))
}

/// One page of `items`, and the spec's `Pagination` of it.
fn page(call: &Call, items: Vec<Value>) -> (Vec<Value>, Value) {
    let (limit, offset) = paging(call);
    let total = items.len();
    let items = items.into_iter().skip(offset).take(limit).collect();
    let pagination = json!({"limit": limit, "offset": offset, "total": total});
    (items, pagination)
}

fn summary(call: &mut Call) -> Outcome {
    let c = ready(call)?;
    Ok((200, json!({"callId": c.call_id, "summary": c.summary})))
}

fn overall_sentiment(call: &mut Call) -> Outcome {
    let c = ready(call)?;
    Ok((
        200,
        json!({"callId": c.call_id, "overallSentiment": c.sentiment}),
    ))
}

fn smart_notes(call: &mut Call) -> Outcome {
    let c = ready(call)?;
    Ok((
        200,
        json!({"callId": c.call_id, "smartNotes": {
            "callDetails": {
                "callDateTime": c.call_date_time,
                "participants": c.participants,
                "callMetadata": c.call_metadata,
            },
            "actionItems": c.action_items,
            "decisionsMade": c.decisions_made,
            "openQuestions": c.open_questions,
        }}),
    ))
}

fn transcription(call: &mut Call) -> Outcome {
    let c = ready(call)?;
    let segments = c.segments.iter().map(segment_json).collect();
    let (segments, pagination) = page(call, segments);
    Ok((
        200,
        json!({
            "data": {"callId": c.call_id, "segments": segments, "callers": c.callers, "language": c.language},
            "pagination": pagination,
        }),
    ))
}

fn topics(call: &mut Call) -> Outcome {
    let c = ready(call)?;
    let topics = c
        .topics
        .iter()
        .map(|(topic, weight, spans)| {
            let spans: Vec<Value> = spans
                .iter()
                .filter_map(|i| c.segments.get(*i))
                .map(segment_json)
                .collect();
            json!({"topic": topic, "weight": weight, "spans": spans})
        })
        .collect();
    let (topics, pagination) = page(call, topics);
    Ok((
        200,
        json!({
            "data": {"callId": c.call_id, "topics": topics, "callers": c.callers},
            "pagination": pagination,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_start_with_a_capital_and_times_are_whole_seconds() {
        assert_eq!(capitalised("the caller asked"), "The caller asked");
        assert_eq!(second_iso(1_796_112_000_999), "2026-12-01T08:00:00Z");
    }
}
