//! The CloudTalk calls pass: every ended call in the history since the checkpoint goes through
//! the call-ended handler (and, with a recording, the recording-available handler) under the
//! idempotency key its webhook would have had, `cloudtalk-call-ended#call-id#<id>`. A call the
//! webhook already applied is a duplicate; a webhook arriving after reconciliation applied the
//! call is one too.
//!
//! CloudTalk does not document the history's order, so the window is read in slices of at most
//! [`SLICE_MS`] (`date_from`/`date_to`) and the checkpoint moves to a slice's end only once
//! every page of it is applied. A run starts [`super::Settings::overlap_ms`] before the
//! checkpoint and stops [`SETTLE_MS`] short of now, where calls may still be ringing.

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

/// Where the calls pass is: the end of the last slice it applied in full, and when it last
/// reached the present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallsCheckpoint {
    pub applied_until_ms: Option<i64>,
    pub caught_up_at_ms: Option<i64>,
}

const CHECKPOINT: &str = "reconcile#calls";

/// The calls checkpoint of `deps`'s tenant (the default tenant keeps the plain name, so a
/// single-location deployment's checkpoint is the one it always had).
fn checkpoint_name(deps: &Deps) -> String {
    match deps.config.tenant_id.as_deref() {
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

/// Runs the pass; the summary says how far it got.
pub async fn run(deps: &Deps, settings: &Settings, now_ms: i64) -> PassSummary {
    let mut summary = PassSummary::new("calls");
    if !deps.cloudtalk_configured() || !deps.ghl_configured() {
        return summary.skipped("the CloudTalk key and the GHL token are both needed");
    }
    let name = checkpoint_name(deps);
    let mut checkpoint: CallsCheckpoint = match super::load(deps, &name).await {
        Ok(c) => c,
        Err(e) => return summary.stopped(e),
    };
    let start = checkpoint
        .applied_until_ms
        .map(|until| until - settings.overlap_ms)
        .unwrap_or(now_ms - settings.lookback_ms);
    let end = now_ms - SETTLE_MS;
    let mut from = start;
    while from < end {
        let to = (from + SLICE_MS).min(end);
        if let Err(why) = slice(deps, settings, from, to, &mut summary).await {
            return summary
                .stopped(why)
                .lagging(checkpoint.caught_up_at_ms, now_ms);
        }
        checkpoint.applied_until_ms = Some(to.max(checkpoint.applied_until_ms.unwrap_or(to)));
        if let Err(e) = super::save(deps, &name, &checkpoint).await {
            return summary
                .stopped(e)
                .lagging(checkpoint.caught_up_at_ms, now_ms);
        }
        from = to;
    }
    checkpoint.caught_up_at_ms = Some(now_ms);
    if let Err(e) = super::save(deps, &name, &checkpoint).await {
        return summary.stopped(e);
    }
    summary.lagging(checkpoint.caught_up_at_ms, now_ms)
}

/// Applies every ended call of `[from, to)`, page by page; an error says why it stopped.
async fn slice(
    deps: &Deps,
    settings: &Settings,
    from: i64,
    to: i64,
    summary: &mut PassSummary,
) -> Result<(), String> {
    let offset = settings.cloudtalk_offset;
    let date_from = company_time::format(from, offset);
    // Inclusive at CloudTalk's end; the call on the boundary is the next slice's.
    let date_to = company_time::format(to, offset);
    let mut page = 1;
    loop {
        super::check_time()?;
        let calls = deps
            .cloudtalk
            .list_calls(&date_from, &date_to, page, PAGE_LIMIT)
            .await
            .map_err(|e| format!("reading the call history: {e}"))?;
        for call in &calls.items {
            let started = call
                .started_at
                .as_deref()
                .and_then(|t| company_time::parse(t, offset));
            // The slice is [from, to); a call still going on has no end yet.
            if started.is_none_or(|s| s >= to) || call.ended_at.is_none() {
                continue;
            }
            apply_call(deps, call, offset, summary).await?;
        }
        if !calls.has_more() {
            return Ok(());
        }
        page += 1;
    }
}

async fn apply_call(
    deps: &Deps,
    call: &CallRecord,
    offset: chrono::FixedOffset,
    summary: &mut PassSummary,
) -> Result<(), String> {
    summary.scanned += 1;
    let ended = call_ended_body(call, offset);
    let mut outcomes = vec![apply_event(deps, EndpointId::CloudtalkCallEnded, &ended).await];
    if let Some(recording) = recording_body(call) {
        outcomes.push(apply_event(deps, EndpointId::CloudtalkRecordingAvailable, &recording).await);
    }
    summary.count(&outcomes);
    match outcomes.into_iter().find_map(|o| match o {
        Applied::Later(why) => Some(why),
        _ => None,
    }) {
        Some(why) => Err(format!("call {}: {why}", call.call_id)),
        None => Ok(()),
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
