//! What was said: a call's CloudTalk AI summary (with its smart notes and sentiment) as one GHL
//! note, and, when the tenant asks for it, its transcript as speaker-labelled notes.
//!
//! CloudTalk computes them minutes after the call. So when a call ends the bridge queues a job
//! for the call (`INSIGHTS_JOB_KEY` in the body, keyed `…#call-id#<id>#insights`) two minutes
//! out; the job reads the AI API and, while it answers "not ready" (404), waits on the retry
//! queue until 5, 15 and 60 minutes after the call, then stops quietly (logged, not parked).
//! A plan without Conversation Intelligence (403) stops at once. CloudTalk's `cidata.ready` /
//! `transcript.ready` announcements, sent to the call-ended route, run the same job at once
//! under the same key, so whichever comes first writes and the other is a duplicate; an
//! announcement that finds the data not ready yet leaves the key open (it never stands in for
//! the job). Notes are
//! steps with a marker read back before any retry: exactly once. No AI text is logged.

use serde_json::{json, Map, Value};

use crate::clients::cloudtalk_ai::{Ai, CallInsights, Turn};
use crate::deps::Deps;
use crate::endpoint::Outcome;
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::payload::cloudtalk::{CallEvent, INSIGHTS_JOB_KEY};
use crate::registry::EndpointId;
use crate::resolve::ResolvedGhlContact;

/// When the job reads the AI API again, in minutes after the call ended.
pub const CHECKS_AFTER_MINUTES: [i64; 4] = [2, 5, 15, 60];
use crate::clients::notes::MARKER_CHARS;
pub use crate::clients::notes::MAX_NOTE_CHARS;

/// A job for a call's AI data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightsJob {
    /// When the call ended (epoch ms): the checks are timed from it. `None` for CloudTalk's
    /// announcement, which is read once.
    pub ended_ms: Option<i64>,
}

/// The job in a body: the bridge's own (with its time), or an announcement.
pub fn job(body: &Value) -> InsightsJob {
    InsightsJob {
        ended_ms: body
            .get(INSIGHTS_JOB_KEY)
            .and_then(|j| j.get("ended_ms"))
            .and_then(Value::as_i64),
    }
}

/// The body of the job of `call`: what resolving its contact and agent needs, and the time.
fn job_body(call: &CallEvent, ended_ms: i64) -> Value {
    let mut body = Map::new();
    let mut put = |key: &str, value: &Option<String>| {
        if let Some(v) = value {
            body.insert(key.to_string(), json!(v));
        }
    };
    put("call_id", &call.call_id);
    put("call_uuid", &call.call_uuid);
    put("contact_id", &call.contact.cloudtalk_id);
    put("external_number", &call.contact.phone);
    put("contact_email", &call.contact.email);
    put("contact_name", &call.contact.name);
    put("agent_id", &call.agent_id);
    put("agent_name", &call.agent_name);
    put("direction", &call.direction);
    put("started_at", &call.started_at);
    put("ended_at", &call.ended_at);
    body.insert(INSIGHTS_JOB_KEY.into(), json!({ "ended_ms": ended_ms }));
    Value::Object(body)
}

/// Queues the AI job of a call that just ended (the `insights` step), when summaries or
/// transcripts are on. Without a retry queue (a local run) nothing is queued: the
/// announcements still bring the data.
pub(crate) async fn schedule(
    deps: &Deps,
    call: &CallEvent,
    steps: &mut Steps,
) -> Result<(), BridgeError> {
    let options = &deps.config.insights;
    if !(options.summaries || options.transcripts) || call.call_id.is_none() {
        return Ok(());
    }
    steps
        .run("insights", || async {
            let body = job_body(call, deps.clock.now_ms());
            let first_wait = CHECKS_AFTER_MINUTES[0] * 60;
            let event = deps.own_event(EndpointId::CloudtalkCallEnded, &body);
            if let Err(e) = deps.retry_queue.enqueue(&event, first_wait as u32).await {
                tracing::warn!(detail = %e, "the call's AI summary could not be scheduled");
            }
            Ok(String::new())
        })
        .await?;
    Ok(())
}

/// How long to wait before the next check, or `None` past the last one.
fn next_wait_secs(ended_ms: i64, now_ms: i64) -> Option<u64> {
    let elapsed = now_ms - ended_ms;
    CHECKS_AFTER_MINUTES
        .iter()
        .map(|m| m * 60_000)
        .find(|at| *at > elapsed + 1_000)
        .map(|at| ((at - elapsed) / 1000).max(30) as u64)
}

/// What a read of the AI API means for the job: go on with the data, or stop (with the
/// outcome's result), or wait.
fn settle<T>(
    answer: Ai<T>,
    job: &InsightsJob,
    now_ms: i64,
    call_id: &str,
) -> Result<Result<T, &'static str>, BridgeError> {
    match answer {
        Ai::Ready(value) => Ok(Ok(value)),
        Ai::Unavailable => {
            tracing::info!(
                call_id,
                "no Conversation Intelligence on this CloudTalk plan"
            );
            Ok(Err("no_ai"))
        }
        Ai::NotReady => match job.ended_ms.and_then(|ended| next_wait_secs(ended, now_ms)) {
            Some(wait_secs) => Err(BridgeError::Waiting {
                message: format!("the AI data of call {call_id} is not ready yet"),
                wait_secs,
            }),
            None if job.ended_ms.is_some() => {
                tracing::info!(
                    call_id,
                    "no AI summary an hour after the call; not waited for any longer"
                );
                Ok(Err("insights_unavailable"))
            }
            // An announcement read too early: the call's own job still comes, under the same
            // key, which this answer leaves open.
            None => Ok(Err(NOT_READY)),
        },
    }
}

/// The summary note's text.
pub fn summary_note(insights: &CallInsights, call: &CallEvent) -> String {
    let mut text = format!(
        "[CloudTalk AI summary] Call {}",
        call.call_id.as_deref().unwrap_or("?")
    );
    if let Some(agent) = &call.agent_name {
        text.push_str(&format!(" with {agent}"));
    }
    text.push('\n');
    text.push_str(insights.summary.trim());
    for (title, items) in [
        ("Action items", &insights.action_items),
        ("Decisions", &insights.decisions),
        ("Open questions", &insights.open_questions),
    ] {
        if !items.is_empty() {
            text.push_str(&format!("\n\n{title}:"));
            for item in items {
                text.push_str(&format!("\n- {}", item.trim()));
            }
        }
    }
    if let Some(sentiment) = &insights.sentiment {
        text.push_str(&format!("\n\nSentiment: {sentiment}"));
    }
    text
}

/// The transcript as notes of at most [`MAX_NOTE_CHARS`] each, headers and the `[ref …]` marker
/// the note gets included: one line per turn, a turn longer than a note split across notes.
pub fn transcript_notes(turns: &[Turn], call_id: &str) -> Vec<String> {
    let lines: Vec<String> = turns
        .iter()
        .map(|t| {
            let who = match t.speaker.as_str() {
                "agent" => "Agent",
                "contact" => "Contact",
                other => other,
            };
            format!("{who}: {}", t.text.trim())
        })
        .collect();
    // The header with the widest part numbers a transcript this long can have.
    let total_chars: usize = lines.iter().map(|l| l.chars().count() + 1).sum();
    let widest = header(call_id, total_chars + 1, total_chars + 1)
        .chars()
        .count();
    let room = MAX_NOTE_CHARS.saturating_sub(widest + MARKER_CHARS).max(1);
    let chunks = pack(&lines, room);
    let parts = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, body)| format!("{}{body}", header(call_id, i + 1, parts)))
        .collect()
}

fn header(call_id: &str, part: usize, parts: usize) -> String {
    format!("[CloudTalk transcript] Call {call_id} ({part}/{parts})\n")
}

/// `lines` joined by newlines into chunks of at most `room` characters; a line longer than
/// `room` is cut into pieces that fill chunks of their own.
fn pack(lines: &[String], room: usize) -> Vec<String> {
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for line in lines {
        let chars: Vec<char> = line.chars().collect();
        for piece in chars.chunks(room) {
            let len = piece.len();
            let needed = if used == 0 { len } else { len + 1 };
            if used > 0 && used + needed > room {
                chunks.push(std::mem::take(&mut current));
                used = 0;
            }
            if used > 0 {
                current.push('\n');
                used += 1;
            }
            current.extend(piece);
            used += len;
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// Runs the AI job of a call for its GHL contact.
pub(crate) async fn apply(
    deps: &Deps,
    call: &CallEvent,
    job: &InsightsJob,
    resolved: &ResolvedGhlContact,
    user: Option<&str>,
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    let options = &deps.config.insights;
    let call_id = call.call_id.clone().unwrap_or_default();
    let contact = resolved.ghl_id.as_str();
    let now = deps.clock.now_ms();
    let mut outcome = Outcome::applied();
    if options.summaries {
        let answer = deps.cloudtalk_ai.insights(&call_id).await?;
        match settle(answer, job, now, &call_id)? {
            Ok(insights) => {
                let note = summary_note(&insights, call);
                let id =
                    crate::handlers::marked_note_once(deps, contact, "summary", &note, user, steps)
                        .await?;
                outcome = outcome.detail("ghlSummaryNoteId", id);
            }
            Err(result) => return Ok(stopped(result)),
        }
    }
    if options.transcripts {
        let answer = deps.cloudtalk_ai.transcript(&call_id).await?;
        match settle(answer, job, now, &call_id)? {
            Ok(turns) => {
                let notes = transcript_notes(&turns, &call_id);
                for (i, note) in notes.iter().enumerate() {
                    let step = format!("transcript:{i}");
                    crate::handlers::marked_note_once(deps, contact, &step, note, user, steps)
                        .await?;
                }
                outcome = outcome.detail("transcriptNotes", notes.len());
            }
            // An announcement read before the transcript is ready leaves the key open even
            // when the summary is written: the call's own job writes the transcript.
            Err(result) if !options.summaries || result == NOT_READY => {
                return Ok(stopped(result));
            }
            Err(_) => {}
        }
    }
    Ok(outcome)
}

/// The result of an announcement read before the AI data is ready: not the job's end.
const NOT_READY: &str = "not_ready";

/// The outcome of a job that stopped for `result`: the end of the job, or, for an announcement
/// read too early, not yet (the key stays open for the call's own job).
fn stopped(result: &'static str) -> Outcome {
    match result {
        NOT_READY => Outcome::not_yet(result),
        _ => Outcome::with_result(result),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every part of any transcript, header and marker included, is within the limit, and
        /// nothing of the transcript is lost or reordered.
        #[test]
        fn every_transcript_note_is_within_the_limit_with_its_marker(
            sizes in proptest::collection::vec(0usize..12_000, 0..60),
        ) {
            let turns: Vec<Turn> = sizes
                .iter()
                .enumerate()
                .map(|(i, n)| Turn {
                    speaker: if i % 2 == 0 { "agent".into() } else { "contact".into() },
                    text: "é".repeat(*n),
                })
                .collect();
            let notes = transcript_notes(&turns, "1002402487");
            let mut text = String::new();
            for (i, note) in notes.iter().enumerate() {
                prop_assert!(note.chars().count() + MARKER_CHARS <= MAX_NOTE_CHARS);
                let head = header("1002402487", i + 1, notes.len());
                prop_assert!(note.starts_with(&head));
                text.push_str(&note[head.len()..]);
            }
            let all: String = turns
                .iter()
                .map(|t| format!("{}: ", if t.speaker == "agent" { "Agent" } else { "Contact" }) + &t.text)
                .collect();
            let kept: String = text.chars().filter(|c| *c != '\n').collect();
            prop_assert_eq!(kept, all.replace('\n', ""));
        }
    }

    #[test]
    fn checks_come_at_2_5_15_and_60_minutes_then_stop() {
        let min = 60_000;
        assert_eq!(next_wait_secs(0, 2 * min), Some(180));
        assert_eq!(next_wait_secs(0, 5 * min), Some(600));
        assert_eq!(next_wait_secs(0, 15 * min), Some(2_700));
        assert_eq!(next_wait_secs(0, 60 * min), None);
        assert_eq!(
            next_wait_secs(0, 59 * min + 50_000),
            Some(30),
            "never under 30 s"
        );
        assert_eq!(
            next_wait_secs(0, 60 * min - 500),
            None,
            "within a second of the last"
        );
    }

    #[test]
    fn a_long_transcript_is_split_and_every_part_says_which() {
        let turn = |speaker: &str, n: usize| Turn {
            speaker: speaker.into(),
            text: "x".repeat(n),
        };
        let turns: Vec<Turn> = (0..30)
            .map(|i| turn(if i % 2 == 0 { "agent" } else { "contact" }, 500))
            .collect();
        let notes = transcript_notes(&turns, "77");
        assert!(notes.len() >= 2);
        assert!(notes
            .iter()
            .all(|n| n.chars().count() + MARKER_CHARS <= MAX_NOTE_CHARS));
        assert!(notes[0].starts_with("[CloudTalk transcript] Call 77 (1/"));
        assert!(notes[0].contains("\nAgent: ") && notes[0].contains("\nContact: "));
    }
}
