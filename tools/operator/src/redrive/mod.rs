//! Redrive: the events parked on the dead-letter queue, listed by reason, and moved back to the
//! retry queue.
//!
//! A parked event is the retry queue's [`QueuedEvent`] with `parked_at` set and the reason in
//! `last_error` and in the `reason` message attribute (see `bridge::retry_queue::sqs`). A
//! message SQS moved there itself (after the retry queue's `maxReceiveCount`) has no
//! `parked_at`; its reason is its last error, if any.
//!
//! Moving never loses a message: each chosen message is held (its visibility timeout), sent to
//! the retry queue as it is, and deleted from the dead-letter queue only once SQS confirmed that
//! send (entry by entry: a batch can fail in part). A message whose send failed becomes visible
//! again at once and stays parked. The retry worker gives a redriven event (`parked_at` set) its
//! attempts afresh. Messages that are not queued events stay where they are: the worker would
//! drop them.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageAttributeValue, MessageSystemAttributeName, SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;
use bridge::retry_queue::QueuedEvent;

/// SQS's most messages in one receive, send or delete.
pub const BATCH: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    #[error("{operation} on {queue}: {reason}")]
    Sqs {
        operation: &'static str,
        queue: String,
        reason: String,
    },
}

fn sqs_error<E: std::error::Error + 'static>(
    operation: &'static str,
    queue: &str,
    error: E,
) -> RedriveError {
    RedriveError::Sqs {
        operation,
        queue: queue.to_string(),
        reason: DisplayErrorContext(&error).to_string(),
    }
}

/// One message on the dead-letter queue.
#[derive(Debug, Clone, PartialEq)]
pub struct ParkedMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    /// The queued event, when the body is one.
    pub event: Option<QueuedEvent>,
    pub reason: String,
    /// The endpoint's function name (`ghl-new-contact`), `?` when unreadable.
    pub endpoint: String,
    pub parked_at: Option<String>,
}

impl ParkedMessage {
    /// Reads a received message.
    pub fn read(
        message_id: String,
        receipt_handle: String,
        body: String,
        reason_attr: Option<String>,
    ) -> Self {
        let event = serde_json::from_str::<QueuedEvent>(&body).ok();
        let reason = match (&event, reason_attr) {
            (_, Some(reason)) if !reason.is_empty() => reason,
            (None, _) => "not a queued event (left on the dead-letter queue)".to_string(),
            (Some(e), _) => match (&e.last_error, &e.parked_at) {
                (Some(error), Some(_)) => error.clone(),
                (Some(error), None) => {
                    format!("moved by SQS after repeated deliveries; last error {error}")
                }
                (None, _) => "moved by SQS after repeated deliveries".to_string(),
            },
        };
        let endpoint = event
            .as_ref()
            .map_or("?".to_string(), |e| e.endpoint.name().to_string());
        let parked_at = event.as_ref().and_then(|e| e.parked_at.clone());
        Self {
            message_id,
            receipt_handle,
            body,
            event,
            reason,
            endpoint,
            parked_at,
        }
    }

    /// Whether it can go back to the retry queue.
    pub fn movable(&self) -> bool {
        self.event.is_some()
    }

    /// Whether it was parked (or, moved by SQS itself, first received) so long ago that its
    /// idempotency record may be gone: records live `RECORD_TTL_SECS` (21 days) from an
    /// event's last attempt, and with a day's margin anything parked 20 days ago or more is
    /// past it. Redriven, such an event could repeat the steps it finished. The dead-letter
    /// queue keeps messages 14 days, so this happens only where its retention was raised.
    pub fn outlived_record(&self, now_secs: i64) -> bool {
        let when = self
            .parked_at
            .clone()
            .or_else(|| self.event.as_ref().map(|e| e.first_received_at.clone()));
        let Some(at) = when.and_then(|w| chrono::DateTime::parse_from_rfc3339(&w).ok()) else {
            return false;
        };
        now_secs - at.timestamp() > OUTLIVED_AFTER_SECS
    }
}

/// How long after parking a redrive may repeat finished steps: a day short of the records'
/// lifetime.
pub const OUTLIVED_AFTER_SECS: i64 = bridge::idempotency::RECORD_TTL_SECS - 24 * 3600;

/// Which parked events to move.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Part of the reason, any case.
    pub reason: Option<String>,
    /// The endpoint's function name.
    pub endpoint: Option<String>,
    /// At most this many.
    pub limit: Option<usize>,
    /// Move events parked so long that their records may be gone too (their finished steps
    /// may be written again: see [`ParkedMessage::outlived_record`]).
    pub allow_repeats: bool,
}

impl Filter {
    pub fn matches(&self, message: &ParkedMessage) -> bool {
        let reason = self
            .reason
            .as_ref()
            .is_none_or(|r| message.reason.to_lowercase().contains(&r.to_lowercase()));
        let endpoint = self
            .endpoint
            .as_ref()
            .is_none_or(|e| message.endpoint == *e);
        reason && endpoint
    }
}

/// One reason and the messages parked for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Group {
    pub reason: String,
    /// Count per endpoint.
    pub endpoints: BTreeMap<String, usize>,
    pub count: usize,
    pub oldest: Option<String>,
}

/// Messages grouped by reason, the largest group first.
pub fn group(messages: &[ParkedMessage]) -> Vec<Group> {
    let mut groups: BTreeMap<&str, Group> = BTreeMap::new();
    for m in messages {
        let g = groups.entry(m.reason.as_str()).or_insert_with(|| Group {
            reason: m.reason.clone(),
            endpoints: BTreeMap::new(),
            count: 0,
            oldest: None,
        });
        g.count += 1;
        *g.endpoints.entry(m.endpoint.clone()).or_default() += 1;
        if let Some(at) = &m.parked_at {
            if g.oldest.as_ref().is_none_or(|o| at < o) {
                g.oldest = Some(at.clone());
            }
        }
    }
    let mut groups: Vec<Group> = groups.into_values().collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
    groups
}

/// The groups as text, one line per reason and one per endpoint under it.
pub fn describe(groups: &[Group]) -> String {
    let total: usize = groups.iter().map(|g| g.count).sum();
    let mut out = format!("{total} parked event(s), {} reason(s)\n", groups.len());
    for g in groups {
        let oldest = g
            .oldest
            .as_ref()
            .map(|o| format!(" (oldest parked {o})"))
            .unwrap_or_default();
        out.push_str(&format!("{:>5}  {}{oldest}\n", g.count, g.reason));
        for (endpoint, n) in &g.endpoints {
            out.push_str(&format!("         {n:>4} {endpoint}\n"));
        }
    }
    out
}

/// Where moved messages go: the retry queue. One result per entry, in order.
#[async_trait]
pub trait Destination: Send + Sync {
    async fn send_batch(&self, messages: &[&ParkedMessage]) -> Vec<Result<(), String>>;
}

/// The retry queue on SQS.
pub struct SqsDestination {
    pub client: Client,
    pub queue_url: String,
}

fn attribute(value: &str) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .ok()
}

#[async_trait]
impl Destination for SqsDestination {
    async fn send_batch(&self, messages: &[&ParkedMessage]) -> Vec<Result<(), String>> {
        let entries: Vec<SendMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let mut entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(&m.body);
                if let Some(function) = attribute(&m.endpoint) {
                    entry = entry.message_attributes("function", function);
                }
                entry.build().ok()
            })
            .collect();
        let mut results: Vec<Result<(), String>> = vec![Err("not sent".into()); messages.len()];
        if entries.is_empty() {
            return results;
        }
        let answer = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await;
        match answer {
            Ok(answer) => {
                let succeeded = answer.successful().iter().map(|ok| ok.id());
                entry_results(&mut results, succeeded, answer.failed());
            }
            Err(e) => {
                let reason = format!("SendMessageBatch: {}", DisplayErrorContext(&e));
                results.iter_mut().for_each(|r| *r = Err(reason.clone()));
            }
        }
        results
    }
}

/// Sets each entry's result from an SQS batch answer: entries are identified by their index.
fn entry_results<'a>(
    results: &mut [Result<(), String>],
    succeeded: impl Iterator<Item = &'a str>,
    failed: &[aws_sdk_sqs::types::BatchResultErrorEntry],
) {
    let mut set = |id: &str, result: Result<(), String>| {
        if let Some(slot) = id.parse::<usize>().ok().and_then(|i| results.get_mut(i)) {
            *slot = result;
        }
    };
    for id in succeeded {
        set(id, Ok(()));
    }
    for entry in failed {
        let reason = format!("{}: {}", entry.code(), entry.message().unwrap_or_default());
        set(entry.id(), Err(reason));
    }
}

/// The dead-letter queue.
pub struct DeadLetterQueue {
    pub client: Client,
    pub url: String,
    /// How long received messages are held while a run decides (seconds).
    pub hold_secs: i32,
}

impl DeadLetterQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
            hold_secs: 300,
        }
    }

    /// Its approximate depth.
    pub async fn depth(&self) -> Result<Option<usize>, RedriveError> {
        let answer = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|e| sqs_error("GetQueueAttributes", &self.url, e))?;
        Ok(answer
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            })
            .and_then(|n| n.parse().ok()))
    }

    /// Up to ten more messages, held for [`DeadLetterQueue::hold_secs`].
    async fn receive(&self) -> Result<Vec<ParkedMessage>, RedriveError> {
        let answer = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(BATCH as i32)
            .visibility_timeout(self.hold_secs)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .map_err(|e| sqs_error("ReceiveMessage", &self.url, e))?;
        Ok(answer
            .messages()
            .iter()
            .map(|m| {
                let reason = m
                    .message_attributes()
                    .and_then(|a| a.get("reason"))
                    .and_then(|v| v.string_value())
                    .map(str::to_string);
                ParkedMessage::read(
                    m.message_id().unwrap_or_default().to_string(),
                    m.receipt_handle().unwrap_or_default().to_string(),
                    m.body().unwrap_or_default().to_string(),
                    reason,
                )
            })
            .collect())
    }

    /// Every message, each held until [`DeadLetterQueue::release`] (or its hold ends): receives
    /// until two receives in a row bring nothing new.
    pub async fn receive_all(
        &self,
        mut seen: impl FnMut(usize),
    ) -> Result<Vec<ParkedMessage>, RedriveError> {
        let mut all: Vec<ParkedMessage> = Vec::new();
        let mut empty = 0;
        while empty < 2 {
            let batch = self.receive().await?;
            let before = all.len();
            for m in batch {
                // Seen before (its hold ended): the newest receipt is the one that counts.
                match all.iter_mut().find(|a| a.message_id == m.message_id) {
                    Some(known) => known.receipt_handle = m.receipt_handle,
                    None => all.push(m),
                }
            }
            empty = if all.len() == before { empty + 1 } else { 0 };
            seen(all.len());
        }
        Ok(all)
    }

    /// Makes held messages visible again at once.
    pub async fn release(&self, messages: &[&ParkedMessage]) -> Result<(), RedriveError> {
        for chunk in messages.chunks(BATCH) {
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&m.receipt_handle)
                        .visibility_timeout(0)
                        .build()
                        .ok()
                })
                .collect();
            self.client
                .change_message_visibility_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sqs_error("ChangeMessageVisibilityBatch", &self.url, e))?;
        }
        Ok(())
    }

    /// Deletes messages; one result per message, in order.
    async fn delete(&self, messages: &[&ParkedMessage]) -> Vec<Result<(), String>> {
        let entries: Vec<_> = messages
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&m.receipt_handle)
                    .build()
                    .ok()
            })
            .collect();
        let mut results: Vec<Result<(), String>> = vec![Err("not deleted".into()); messages.len()];
        if entries.is_empty() {
            return results;
        }
        match self
            .client
            .delete_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(answer) => {
                let succeeded = answer.successful().iter().map(|ok| ok.id());
                entry_results(&mut results, succeeded, answer.failed());
            }
            Err(e) => {
                let reason = format!("DeleteMessageBatch: {}", DisplayErrorContext(&e));
                results.iter_mut().for_each(|r| *r = Err(reason.clone()));
            }
        }
        results
    }

    /// Lists every parked message and makes them all visible again.
    pub async fn list(&self, seen: impl FnMut(usize)) -> Result<Vec<ParkedMessage>, RedriveError> {
        let all = self.receive_all(seen).await?;
        self.release(&all.iter().collect::<Vec<_>>()).await?;
        Ok(all)
    }
}

/// What a move did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MoveReport {
    pub dry_run: bool,
    /// Messages on the dead-letter queue when it started.
    pub parked: usize,
    /// Chosen by the filter (and the limit).
    pub chosen: usize,
    /// Sent to the retry queue and deleted from the dead-letter queue.
    pub moved: usize,
    /// Not sent: still parked, with why.
    pub send_failed: Vec<(String, String)>,
    /// Sent, but their deletion failed: on both queues (the worker's idempotency makes the
    /// second run a duplicate); with why.
    pub delete_failed: Vec<(String, String)>,
    /// Chosen but not queued events: left parked.
    pub unreadable: usize,
    /// Chosen but parked longer than their records live: left parked (`allow_repeats` moves
    /// them).
    pub outlived: usize,
    /// The chosen messages, grouped.
    pub groups: Vec<Group>,
}

impl std::fmt::Display for MoveReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run { "would move" } else { "moved" };
        let moved = if self.dry_run {
            self.chosen - self.unreadable
        } else {
            self.moved
        };
        write!(
            f,
            "{verb} {moved} of {} parked event(s) to the retry queue",
            self.parked
        )?;
        if !self.send_failed.is_empty() {
            write!(
                f,
                "; {} could not be sent and stay parked",
                self.send_failed.len()
            )?;
        }
        if !self.delete_failed.is_empty() {
            write!(
                f,
                "; {} sent but not deleted from the dead-letter queue (redriving them again is a duplicate)",
                self.delete_failed.len()
            )?;
        }
        if self.unreadable > 0 {
            write!(f, "; {} not queued events left parked", self.unreadable)?;
        }
        if self.outlived > 0 {
            write!(
                f,
                "; {} parked 20 days ago or more left parked: their records (kept 21 days from \
                 the last attempt) may be gone, so steps they finished could be written again \
                 (--allow-repeats moves them anyway)",
                self.outlived
            )?;
        }
        Ok(())
    }
}

/// Progress of a move.
pub trait Progress {
    /// Messages read from the dead-letter queue so far.
    fn reading(&mut self, _read: usize) {}
    /// Of `chosen`, `done` handled, `moved` moved, `failed` not.
    fn moving(&mut self, _done: usize, _chosen: usize, _moved: usize, _failed: usize) {}
}

/// No progress.
pub struct Quiet;
impl Progress for Quiet {}

/// Moves the parked messages the filter chooses to `destination`; with `dry_run`, only says
/// which (and moves nothing). Every message not moved is made visible again.
pub async fn redrive(
    dlq: &DeadLetterQueue,
    destination: &dyn Destination,
    filter: &Filter,
    dry_run: bool,
    progress: &mut dyn Progress,
) -> Result<MoveReport, RedriveError> {
    let all = dlq.receive_all(|n| progress.reading(n)).await?;
    let (mut chosen, mut rest): (Vec<&ParkedMessage>, Vec<&ParkedMessage>) =
        all.iter().partition(|m| filter.matches(m));
    if let Some(limit) = filter.limit {
        if chosen.len() > limit {
            rest.extend(chosen.split_off(limit));
        }
    }
    let mut report = MoveReport {
        dry_run,
        parked: all.len(),
        chosen: chosen.len(),
        groups: group(&chosen.iter().map(|m| (*m).clone()).collect::<Vec<_>>()),
        unreadable: chosen.iter().filter(|m| !m.movable()).count(),
        ..MoveReport::default()
    };
    let (movable, unreadable): (Vec<&ParkedMessage>, Vec<&ParkedMessage>) =
        chosen.into_iter().partition(|m| m.movable());
    rest.extend(unreadable);
    let now_secs = chrono::Utc::now().timestamp();
    let (movable, outlived): (Vec<&ParkedMessage>, Vec<&ParkedMessage>) = movable
        .into_iter()
        .partition(|m| filter.allow_repeats || !m.outlived_record(now_secs));
    report.outlived = outlived.len();
    rest.extend(outlived);
    if dry_run {
        rest.extend(movable);
        dlq.release(&rest).await?;
        return Ok(report);
    }
    // Not chosen: visible again before the move starts.
    dlq.release(&rest).await?;
    let total = movable.len();
    let mut done = 0;
    for chunk in movable.chunks(BATCH) {
        let sent = destination.send_batch(chunk).await;
        let mut to_delete = Vec::new();
        let mut not_sent = Vec::new();
        for (message, result) in chunk.iter().zip(sent) {
            match result {
                Ok(()) => to_delete.push(*message),
                Err(why) => {
                    report.send_failed.push((message.message_id.clone(), why));
                    not_sent.push(*message);
                }
            }
        }
        // Only what SQS confirmed is deleted; the rest is parked again at once.
        for (message, result) in to_delete.iter().zip(dlq.delete(&to_delete).await) {
            match result {
                Ok(()) => report.moved += 1,
                Err(why) => report.delete_failed.push((message.message_id.clone(), why)),
            }
        }
        if !not_sent.is_empty() {
            dlq.release(&not_sent).await?;
        }
        done += chunk.len();
        progress.moving(
            done,
            total,
            report.moved,
            report.send_failed.len() + report.delete_failed.len(),
        );
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parked(
        reason: Option<&str>,
        endpoint: &str,
        last_error: Option<&str>,
        at: Option<&str>,
    ) -> ParkedMessage {
        let body = serde_json::json!({"function": endpoint, "body": "{}", "key": "k", "attempt": 1,
            "first_received_at": "2026-01-01T00:00:00Z", "last_error": last_error, "parked_at": at});
        ParkedMessage::read(
            "id".into(),
            "rh".into(),
            body.to_string(),
            reason.map(str::to_string),
        )
    }

    #[test]
    fn the_reason_comes_from_the_attribute_then_the_body_and_unreadable_bodies_stay() {
        let m = parked(
            Some("refused: 406"),
            "ghl-new-tag",
            Some("other"),
            Some("2026-01-02T00:00:00Z"),
        );
        assert_eq!(
            (m.reason.as_str(), m.endpoint.as_str(), m.movable()),
            ("refused: 406", "ghl-new-tag", true)
        );
        let m = parked(
            None,
            "ghl-new-tag",
            Some("gave up"),
            Some("2026-01-02T00:00:00Z"),
        );
        assert_eq!(m.reason, "gave up");
        let m = parked(None, "ghl-new-tag", Some("upstream_error: 500"), None);
        assert!(m.reason.starts_with("moved by SQS"), "{}", m.reason);
        let m = ParkedMessage::read("id".into(), "rh".into(), "not json".into(), None);
        assert!(!m.movable());
        assert_eq!(m.endpoint, "?");
    }

    #[test]
    fn filters_and_groups() {
        let a = parked(
            Some("Refused: 406 invalid phone"),
            "ghl-new-contact",
            None,
            Some("2026-01-02T00:00:00Z"),
        );
        let b = parked(
            Some("Refused: 406 invalid phone"),
            "ghl-new-tag",
            None,
            Some("2026-01-01T00:00:00Z"),
        );
        let c = parked(Some("gave up after 8 attempts"), "ghl-new-tag", None, None);
        let by_reason = Filter {
            reason: Some("INVALID".into()),
            ..Filter::default()
        };
        assert!(by_reason.matches(&a) && by_reason.matches(&b) && !by_reason.matches(&c));
        let by_endpoint = Filter {
            endpoint: Some("ghl-new-tag".into()),
            ..Filter::default()
        };
        assert!(!by_endpoint.matches(&a) && by_endpoint.matches(&b) && by_endpoint.matches(&c));
        let groups = group(&[a, b, c]);
        assert_eq!(groups.len(), 2);
        assert_eq!(
            (groups[0].count, groups[0].oldest.as_deref()),
            (2, Some("2026-01-01T00:00:00Z"))
        );
        assert!(describe(&groups).starts_with("3 parked event(s), 2 reason(s)"));
    }
}
