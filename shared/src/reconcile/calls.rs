//! The CloudTalk calls pass: every ended call in the history goes through the call-ended
//! handler (and, with a recording, the recording-available handler) under the idempotency key
//! its webhook would have had, `cloudtalk-call-ended#call-id#<id>`. A call the webhook already
//! applied is a duplicate; a webhook arriving after reconciliation applied the call is one too.
//!
//! CloudTalk does not document the history's order, so a window is read in slices of at most
//! [`SLICE_MS`] (`date_from`/`date_to`) and a checkpoint moves to a slice's end only once every
//! page of it is applied. Three reads, each with its own part of the checkpoint:
//! - **the leading window**, from [`super::Settings::overlap_ms`] before the checkpoint to
//!   [`SETTLE_MS`] short of now: most calls are applied within a run of ending;
//! - **calls still in progress**: a call read before it ended is kept in the checkpoint
//!   (`pending`) and its stretch of history read again every run until it has ended, for up to
//!   [`MAX_CALL_MS`] of call; the checkpoint never forgets an unfinished call;
//! - **the trailing sweep**, [`SWEEP_DELAY_MS`] behind (14 hours and the settle time): the
//!   history's times are the company's local time with no zone, converted with
//!   `CLOUDTALK_UTC_OFFSET`, and an offset wrong by up to ±14 h shifts the leading window by as
//!   much; a window that lies in the future finds nothing and moves on. The sweep reads every
//!   stretch again once even a 14-hour error leaves it in the past, so a wrong offset costs
//!   re-reads and delay, never a call. What the sweep finds that the leading read missed, and
//!   calls dated in the future, say that the offset looks wrong (`offset_suspect`), and raise the
//!   pass's lag so the lag alarm fires.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::company_time;
use super::{apply_event, Applied, PassSummary, Settings};
use crate::clients::cloudtalk::CallRecord;
use crate::deps::Deps;
use crate::registry::EndpointId;

/// The longest stretch of history read as one slice.
pub const SLICE_MS: i64 = 3600 * 1000;
/// Calls this recent are left for the next run.
pub const SETTLE_MS: i64 = 2 * 60 * 1000;
/// Calls a page: few requests, most of a page per CloudTalk call.
pub const PAGE_LIMIT: u32 = 250;
/// How long a call in progress is waited for: one still going on after this long is given up
/// (logged and counted as `abandoned`).
pub const MAX_CALL_MS: i64 = 8 * 3600 * 1000;
/// The largest error in `CLOUDTALK_UTC_OFFSET` the sweep makes up for (offsets span -12:00 to
/// +14:00, so a wrong sign or a forgotten daylight-saving hour are well within it).
pub const MAX_OFFSET_ERROR_MS: i64 = 14 * 3600 * 1000;
/// How far behind the present the trailing sweep reads.
pub const SWEEP_DELAY_MS: i64 = MAX_OFFSET_ERROR_MS + SETTLE_MS;
/// A call dated further than this ahead of now says the offset is behind the company's.
const FUTURE_TOLERANCE_MS: i64 = 5 * 60 * 1000;

/// A call read before it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCall {
    pub call_id: String,
    /// When it started (UTC ms, as read with the configured offset).
    pub started_ms: i64,
}

/// Where the calls pass is: the end of the last slice it applied in full, when it last
/// reached the present, the calls still in progress, and how far the sweep has read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallsCheckpoint {
    pub applied_until_ms: Option<i64>,
    pub caught_up_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swept_until_ms: Option<i64>,
}

const CHECKPOINT: &str = "reconcile#calls";

/// The calls checkpoint of `deps`'s tenant.
fn checkpoint_name(deps: &Deps) -> String {
    checkpoint_of(deps.config.tenant_id.as_deref())
}

/// The calls checkpoint of a tenant, by its id, or of the deployment's own location (`None`:
/// the plain name, so a single-location deployment's checkpoint is the one it always had).
pub fn checkpoint_of(tenant: Option<&str>) -> String {
    match tenant {
        Some(tenant) => format!("{CHECKPOINT}#{tenant}"),
        None => CHECKPOINT.to_string(),
    }
}

/// The webhook body CloudTalk's "call ended" workflow would have sent for `call`.
pub fn call_ended_body(call: &CallRecord, offset: chrono::FixedOffset) -> Value {
    let mut body = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            body.insert(key.to_string(), v);
        }
    };
    let text = |v: &Option<String>| v.as_ref().map(|s| json!(s));
    let time = |v: &Option<String>| {
        v.as_deref()
            .and_then(|t| company_time::parse(t, offset))
            .map(|ms| json!(company_time::rfc3339(ms)))
    };
    let answered = call.answered_at.is_some() || call.talking_time.unwrap_or(0) > 0;
    put("call_id", Some(json!(call.call_id)));
    put("contact_id", text(&call.contact_id));
    put("contact_name", text(&call.contact_name));
    put("contact_email", text(&call.contact_email));
    put("external_number", text(&call.external_number));
    put("internal_number", text(&call.internal_number));
    put("direction", text(&call.direction));
    put("agent_id", text(&call.agent_id));
    put("agent_name", text(&call.agent_name));
    put(
        "status",
        Some(json!(if answered { "answered" } else { "missed" })),
    );
    put("is_voicemail", Some(json!(call.is_voicemail)));
    put("duration", call.billsec.map(|n| json!(n)));
    put("talking_time", call.talking_time.map(|n| json!(n)));
    put("waiting_time", call.waiting_time.map(|n| json!(n)));
    put("started_at", time(&call.started_at));
    put("ended_at", time(&call.ended_at));
    put("recording_url", text(&call.recording_link));
    Value::Object(body)
}

/// The body CloudTalk's "recording available" workflow would have sent for `call`.
pub fn recording_body(call: &CallRecord) -> Option<Value> {
    let link = call.recording_link.as_ref()?;
    let mut body = json!({"call_id": call.call_id, "recording_url": link});
    for (key, value) in [
        ("contact_id", &call.contact_id),
        ("external_number", &call.external_number),
        ("contact_name", &call.contact_name),
        ("agent_name", &call.agent_name),
    ] {
        if let Some(v) = value {
            body[key] = json!(v);
        }
    }
    Some(body)
}

/// Which read a slice belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    Leading,
    Pending,
    Sweep,
}

impl Read {
    /// Only the sweep's finds say the leading read missed something.
    fn is_sweep(self) -> bool {
        self == Read::Sweep
    }
}

/// What reading the history saw, besides what it applied.
#[derive(Debug, Default)]
struct Seen {
    /// Calls started but not ended when read.
    unfinished: Vec<PendingCall>,
    /// Ended calls seen (they leave the pending list).
    ended: Vec<String>,
    /// The furthest a call was dated ahead of now (ms).
    ahead_ms: i64,
    /// The oldest start of a call the sweep applied now (the leading read missed it).
    missed_since_ms: Option<i64>,
}

/// The Call Modified body of a history row that has tags, a rating or notes.
pub fn call_modified_body(call: &CallRecord) -> Option<Value> {
    if call.tags.is_empty() && call.rating.is_none() && call.notes.is_empty() {
        return None;
    }
    let mut body = json!({"call_id": call.call_id, "tags": call.tags, "notes": call.notes});
    if let Some(rating) = call.rating {
        body["rating"] = json!(rating);
    }
    for (key, value) in [
        ("contact_id", &call.contact_id),
        ("external_number", &call.external_number),
        ("contact_name", &call.contact_name),
        ("agent_id", &call.agent_id),
        ("agent_name", &call.agent_name),
    ] {
        if let Some(v) = value {
            body[key] = json!(v);
        }
    }
    Some(body)
}

/// Runs the pass; the summary says how far it got.
pub async fn run(deps: &Deps, settings: &Settings, now_ms: i64) -> PassSummary {
    let summary = PassSummary::new("calls");
    if !deps.cloudtalk_configured() || !deps.ghl_configured() {
        return summary.skipped("the CloudTalk key and the GHL token are both needed");
    }
    let name = checkpoint_name(deps);
    let mut checkpoint: CallsCheckpoint = match super::load(deps, &name).await {
        Ok(c) => c,
        Err(e) => return summary.stopped(e),
    };
    let mut seen = Seen::default();
    let mut summary = summary;
    let mut pass = Pass {
        deps,
        settings,
        now_ms,
        name: &name,
        seen: &mut seen,
        summary: &mut summary,
    };
    let result = pass.all(&mut checkpoint).await;
    summary.in_progress = u32::try_from(checkpoint.pending.len()).unwrap_or(u32::MAX);
    let mut summary = match result {
        Ok(()) => {
            checkpoint.caught_up_at_ms = Some(now_ms);
            match super::save(deps, &name, &checkpoint).await {
                Ok(()) => summary.lagging(checkpoint.caught_up_at_ms, now_ms),
                Err(e) => summary.stopped(e),
            }
        }
        Err(why) => summary
            .stopped(why)
            .lagging(checkpoint.caught_up_at_ms, now_ms),
    };
    offset_verdict(&mut summary, &seen, now_ms);
    summary
}

/// One run of the pass over its three reads.
struct Pass<'a> {
    deps: &'a Deps,
    settings: &'a Settings,
    now_ms: i64,
    name: &'a str,
    seen: &'a mut Seen,
    summary: &'a mut PassSummary,
}

impl Pass<'_> {
    /// The three reads, each saving its part of the checkpoint as it goes.
    async fn all(&mut self, checkpoint: &mut CallsCheckpoint) -> Result<(), String> {
        let (settings, now_ms) = (self.settings, self.now_ms);
        // The calls that were in progress: their stretch of history, read again.
        if !checkpoint.pending.is_empty() {
            let starts = checkpoint.pending.iter().map(|p| p.started_ms);
            let from = starts.clone().min().unwrap_or(now_ms);
            let to = starts.max().unwrap_or(now_ms) + 1000;
            let mut at = from;
            while at < to {
                let end = (at + SLICE_MS).min(to);
                self.slice(at, end, Read::Pending).await?;
                at = end;
            }
            self.settle(checkpoint).await?;
        }
        // The leading window.
        let mut from = checkpoint
            .applied_until_ms
            .map(|until| until - settings.overlap_ms)
            .unwrap_or(now_ms - settings.lookback_ms);
        let end = now_ms - SETTLE_MS;
        while from < end {
            let to = (from + SLICE_MS).min(end);
            self.slice(from, to, Read::Leading).await?;
            checkpoint.applied_until_ms = Some(to.max(checkpoint.applied_until_ms.unwrap_or(to)));
            self.settle(checkpoint).await?;
            from = to;
        }
        // The trailing sweep.
        let end = now_ms - SWEEP_DELAY_MS;
        let mut from = checkpoint
            .swept_until_ms
            .map(|until| until - settings.overlap_ms)
            .unwrap_or(end - settings.lookback_ms);
        while from < end {
            let to = (from + SLICE_MS).min(end);
            self.slice(from, to, Read::Sweep).await?;
            checkpoint.swept_until_ms = Some(to.max(checkpoint.swept_until_ms.unwrap_or(to)));
            self.settle(checkpoint).await?;
            from = to;
        }
        self.probe().await;
        Ok(())
    }

    /// One page of the history from the settle time to [`MAX_OFFSET_ERROR_MS`] past now, read
    /// only to see whether calls are dated in the future (an offset behind the company's puts
    /// them there). Applies nothing; a failure only leaves the question open.
    async fn probe(&mut self) {
        let offset = self.settings.cloudtalk_offset;
        let date_from = company_time::format(self.now_ms - SETTLE_MS, offset);
        let date_to = company_time::format(self.now_ms + MAX_OFFSET_ERROR_MS, offset);
        if let Ok(calls) = self
            .deps
            .cloudtalk
            .list_calls(&date_from, &date_to, 1, PAGE_LIMIT)
            .await
        {
            for call in &calls.items {
                if let Some(started) = call
                    .started_at
                    .as_deref()
                    .and_then(|t| company_time::parse(t, offset))
                {
                    self.seen.ahead_ms = self.seen.ahead_ms.max(started - self.now_ms);
                }
            }
        }
    }

    /// Folds what was seen into the pending list (new unfinished calls in, ended ones out,
    /// those past [`MAX_CALL_MS`] given up), then saves the checkpoint.
    async fn settle(&mut self, checkpoint: &mut CallsCheckpoint) -> Result<(), String> {
        let seen = &mut *self.seen;
        for call in seen.unfinished.drain(..) {
            if !checkpoint.pending.iter().any(|p| p.call_id == call.call_id) {
                checkpoint.pending.push(call);
            }
        }
        let ended = std::mem::take(&mut seen.ended);
        checkpoint.pending.retain(|p| !ended.contains(&p.call_id));
        let horizon = self.now_ms - MAX_CALL_MS;
        let summary = &mut *self.summary;
        checkpoint.pending.retain(|p| {
            let keep = p.started_ms >= horizon;
            if !keep {
                summary.abandoned += 1;
                tracing::warn!(call_id = %p.call_id, started_at = %company_time::rfc3339(p.started_ms), "reconcile: a call still in progress after 8 hours is no longer waited for");
            }
            keep
        });
        super::save(self.deps, self.name, checkpoint).await
    }

    /// Applies every ended call of `[from, to)`, page by page, and notes the unfinished ones;
    /// an error says why it stopped.
    async fn slice(&mut self, from: i64, to: i64, read: Read) -> Result<(), String> {
        let offset = self.settings.cloudtalk_offset;
        let date_from = company_time::format(from, offset);
        // Inclusive at CloudTalk's end; the call on the boundary is the next slice's.
        let date_to = company_time::format(to, offset);
        let mut page = 1;
        loop {
            super::check_time()?;
            let calls = self
                .deps
                .cloudtalk
                .list_calls(&date_from, &date_to, page, PAGE_LIMIT)
                .await
                .map_err(|e| format!("reading the call history: {e}"))?;
            for call in &calls.items {
                let Some(started) = call
                    .started_at
                    .as_deref()
                    .and_then(|t| company_time::parse(t, offset))
                else {
                    continue;
                };
                // The slice is [from, to).
                if started >= to {
                    continue;
                }
                self.seen.ahead_ms = self.seen.ahead_ms.max(started - self.now_ms);
                if call.ended_at.is_none() {
                    self.seen.unfinished.push(PendingCall {
                        call_id: call.call_id.clone(),
                        started_ms: started,
                    });
                    continue;
                }
                self.seen.ended.push(call.call_id.clone());
                let now = apply_call(self.deps, call, offset, self.summary).await?;
                if now && read.is_sweep() {
                    self.summary.late += 1;
                    let since = self
                        .seen
                        .missed_since_ms
                        .map_or(started, |s| s.min(started));
                    self.seen.missed_since_ms = Some(since);
                }
            }
            if !calls.has_more() {
                return Ok(());
            }
            page += 1;
        }
    }
}

/// Says when the history's times and the configured offset disagree, and makes the pass lag
/// by as much, so that the lag alarm sees it.
fn offset_verdict(summary: &mut PassSummary, seen: &Seen, now_ms: i64) {
    if seen.ahead_ms > FUTURE_TOLERANCE_MS {
        summary.offset_suspect = Some(format!(
            "calls are dated up to {} minutes ahead of now: CLOUDTALK_UTC_OFFSET is probably \
             behind the company's offset",
            seen.ahead_ms / 60_000
        ));
        summary.lag_seconds = summary.lag_seconds.max(seen.ahead_ms / 1000);
    }
    if let Some(since) = seen.missed_since_ms {
        summary.offset_suspect = Some(format!(
            "the trailing sweep applied {} call(s) the leading read missed, the oldest started \
             {}: CLOUDTALK_UTC_OFFSET is probably ahead of the company's offset",
            summary.late,
            company_time::rfc3339(since)
        ));
        summary.lag_seconds = summary.lag_seconds.max((now_ms - since).max(0) / 1000);
    }
}

/// Applies a call (and its recording); whether anything was applied now (not a duplicate).
async fn apply_call(
    deps: &Deps,
    call: &CallRecord,
    offset: chrono::FixedOffset,
    summary: &mut PassSummary,
) -> Result<bool, String> {
    summary.scanned += 1;
    let ended = call_ended_body(call, offset);
    let mut outcomes = vec![apply_event(deps, EndpointId::CloudtalkCallEnded, &ended).await];
    if let Some(recording) = recording_body(call) {
        outcomes.push(apply_event(deps, EndpointId::CloudtalkRecordingAvailable, &recording).await);
    }
    if let Some(modified) = call_modified_body(call) {
        outcomes.push(apply_event(deps, EndpointId::CloudtalkCallModified, &modified).await);
    }
    summary.count(&outcomes);
    // Whether the call itself was new to the bridge (its tags' event may be new content of a
    // call the webhooks applied).
    let now = outcomes.first() == Some(&Applied::Now);
    match outcomes.into_iter().find_map(|o| match o {
        Applied::Later(why) => Some(why),
        _ => None,
    }) {
        Some(why) => Err(format!("call {}: {why}", call.call_id)),
        None => Ok(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> CallRecord {
        CallRecord {
            call_id: "1002402487".into(),
            contact_id: Some("1451646073".into()),
            external_number: Some("393513416607".into()),
            direction: Some("incoming".into()),
            agent_name: Some("Roberto Bianchi".into()),
            started_at: Some("2026-12-01 11:00:00".into()),
            answered_at: Some("2026-12-01 11:00:12".into()),
            ended_at: Some("2026-12-01 11:02:05".into()),
            billsec: Some(113),
            talking_time: Some(100),
            waiting_time: Some(12),
            recording_link: Some("https://my.cloudtalk.io/r/play/27".into()),
            ..CallRecord::default()
        }
    }

    #[test]
    fn a_history_row_becomes_the_webhook_body_with_utc_times() {
        let rome = company_time::parse_offset("+01:00").unwrap();
        let body = call_ended_body(&call(), rome);
        assert_eq!(body["call_id"], "1002402487");
        assert_eq!(body["status"], "answered");
        assert_eq!(body["started_at"], "2026-12-01T10:00:00Z");
        assert_eq!(body["ended_at"], "2026-12-01T10:02:05Z");
        assert_eq!(body["talking_time"], 100);
        // The handler reads it as the webhook.
        let parsed = crate::payload::cloudtalk::parse_call(&body);
        assert_eq!(parsed.call_id.as_deref(), Some("1002402487"));
        assert_eq!(parsed.contact.cloudtalk_id.as_deref(), Some("1451646073"));
        // The webhook's key, so each is the other's duplicate.
        let webhook =
            json!({"call_id": 1002402487, "call_uuid": "44fe27cd", "contact_id": 1451646073});
        let id = EndpointId::CloudtalkCallEnded;
        assert_eq!(
            crate::idempotency::event_key(id, &body),
            crate::idempotency::event_key(id, &webhook)
        );
    }

    #[test]
    fn an_unanswered_call_is_missed_and_only_a_recorded_one_has_a_recording() {
        let mut c = call();
        c.answered_at = None;
        c.talking_time = Some(0);
        c.recording_link = None;
        let body = call_ended_body(&c, company_time::parse_offset("Z").unwrap());
        assert_eq!(body["status"], "missed");
        assert!(recording_body(&c).is_none());
        let recorded = recording_body(&call()).unwrap();
        assert_eq!(
            recorded["recording_url"],
            "https://my.cloudtalk.io/r/play/27"
        );
        let id = EndpointId::CloudtalkRecordingAvailable;
        assert_eq!(
            crate::idempotency::event_key(id, &recorded),
            "cloudtalk-recording-available#call-id#1002402487"
        );
    }
}
