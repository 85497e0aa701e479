//! Callback tasks. A missed inbound call (or a voicemail) creates one GHL task on the contact,
//! due `CALLBACK_TASK_SLA_MINUTES` after the call, assigned to the contact's owner, else the
//! agent's user, else nobody. A later answered call (either direction) to the same contact
//! completes the callback tasks the bridge opened for it, with a note naming the call.
//!
//! Each is a step of the call-ended event, so a retry, a redelivery or reconciliation of the
//! same call writes nothing twice; the task carries the event's marker in its body, so a write
//! whose answer was lost is found again (`GET /contacts/{id}/tasks`) before any retry. The
//! tasks the bridge opened and has not closed are kept per contact in the state table
//! (`value#callback-tasks#<location>#<contact>`): only those are ever completed.

use chrono::{DateTime, Duration, Utc};

use crate::clients::ghl::TaskInput;
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::mapping::cloudtalk_to_ghl::{format_duration, CallOutcome};
use crate::payload::cloudtalk::CallEvent;
use crate::resolve::{FoundBy, ResolvedGhlContact};

fn open_tasks_name(location: &str, contact: &str) -> String {
    format!("callback-tasks#{location}#{contact}")
}

async fn open_tasks(deps: &Deps, contact: &str) -> Result<Vec<String>, BridgeError> {
    let name = open_tasks_name(&deps.location_for(None), contact);
    let text = deps.state.get_value(&name).await?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

async fn keep_open_tasks(deps: &Deps, contact: &str, ids: &[String]) -> Result<(), BridgeError> {
    let name = open_tasks_name(&deps.location_for(None), contact);
    let text = serde_json::to_string(ids).unwrap_or_default();
    Ok(deps.state.put_value(&name, &text).await?)
}

/// When the call happened: its start, else its end, else now.
fn call_time(deps: &Deps, call: &CallEvent) -> DateTime<Utc> {
    [&call.started_at, &call.ended_at]
        .into_iter()
        .flatten()
        .find_map(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| DateTime::from_timestamp_millis(deps.clock.now_ms()))
        .unwrap_or_default()
}

/// Whether a call asks for a callback: missed and not one the company made, or a voicemail.
pub(crate) fn wants_callback(call: &CallEvent, outcome: CallOutcome) -> bool {
    match outcome {
        CallOutcome::Voicemail => true,
        CallOutcome::Missed => call.direction.as_deref() != Some("outgoing"),
        _ => false,
    }
}

/// The task a missed call asks for (without its assignee).
pub(crate) fn callback_task(
    call: &CallEvent,
    number: Option<&str>,
    at: DateTime<Utc>,
    sla_minutes: u32,
    marker: &str,
) -> TaskInput {
    let when = at.format("%Y-%m-%d %H:%M UTC").to_string();
    let caller = call
        .contact
        .name
        .clone()
        .or_else(|| number.map(str::to_string))
        .unwrap_or_else(|| "the caller".to_string());
    let mut body = vec![format!(
        "Missed call from {} at {when}.",
        number.unwrap_or("an unknown number")
    )];
    if let Some(wait) = call.waiting_secs {
        body.push(format!(
            "Waited {} before hanging up.",
            format_duration(wait)
        ));
    }
    if let Some(url) = &call.recording_url {
        body.push(format!("Recording: {url}"));
    }
    if let Some(id) = &call.call_id {
        body.push(format!("CloudTalk call {id}."));
    }
    body.push(format!("[ref {marker}]"));
    TaskInput {
        title: format!("Call back {caller} (missed call {when})"),
        body: Some(body.join("\n")),
        due_date: (at + Duration::minutes(i64::from(sla_minutes)))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        completed: false,
        assigned_to: None,
    }
}

/// Opens the callback task of a missed call (the `task` step); its id.
pub(crate) async fn open(
    deps: &Deps,
    call: &CallEvent,
    resolved: &ResolvedGhlContact,
    agent_user: Option<&str>,
    steps: &mut Steps,
) -> Result<String, BridgeError> {
    let contact = resolved.ghl_id.as_str();
    let marker = steps
        .marker("task")
        .unwrap_or_else(|| "untracked".to_string());
    let task = callback_task(
        call,
        resolved.phone.as_deref(),
        call_time(deps, call),
        deps.config.people.callback_sla_minutes,
        &marker,
    );
    let read_back = || async { Ok(deps.ghl.find_task(contact, &marker).await?) };
    let write = || async {
        // The contact's owner first: known from the resolution, else read (only here, for a
        // missed call, and only for a contact found through the map).
        let owner = match (&resolved.owner, resolved.found_by) {
            (Some(owner), _) => Some(owner.clone()),
            (None, FoundBy::Map) => deps.ghl.get_contact(contact).await?.owner,
            (None, _) => None,
        };
        let mut task = task.clone();
        task.assigned_to = owner.or_else(|| agent_user.map(str::to_string));
        Ok(deps.ghl.create_task(contact, &task).await?)
    };
    let id = steps.run_checked("task", read_back, write).await?;
    steps
        .run("task-kept", || async {
            let mut ids = open_tasks(deps, contact).await?;
            if !ids.contains(&id) {
                ids.push(id.clone());
            }
            keep_open_tasks(deps, contact, &ids).await?;
            Ok(String::new())
        })
        .await?;
    Ok(id)
}

/// Completes the callback tasks the bridge opened for the contact of an answered call, and
/// notes which call closed them; how many.
pub(crate) async fn close(
    deps: &Deps,
    call: &CallEvent,
    resolved: &ResolvedGhlContact,
    agent_user: Option<&str>,
    steps: &mut Steps,
) -> Result<usize, BridgeError> {
    let contact = resolved.ghl_id.as_str();
    let ids = open_tasks(deps, contact).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    for id in &ids {
        steps
            .run(&format!("close:{id}"), || async {
                match deps.ghl.complete_task(contact, id).await {
                    // Deleted in GHL meanwhile: nothing left to close.
                    Err(e) if e.is_not_found() => Ok(String::new()),
                    other => Ok(other.map(|()| String::new())?),
                }
            })
            .await?;
    }
    let call_id = call.call_id.as_deref().unwrap_or("?");
    let when = call_time(deps, call).format("%Y-%m-%d %H:%M UTC");
    let text = format!(
        "[CloudTalk] {} callback task(s) completed: call {call_id} answered at {when}",
        ids.len()
    );
    let note = steps.marked("close-note", &text);
    steps
        .run("close-note", || async {
            Ok(deps.ghl.add_note(contact, &note, agent_user).await?)
        })
        .await?;
    steps
        .run("close-kept", || async {
            let left: Vec<String> = open_tasks(deps, contact)
                .await?
                .into_iter()
                .filter(|t| !ids.contains(t))
                .collect();
            keep_open_tasks(deps, contact, &left).await?;
            Ok(String::new())
        })
        .await?;
    Ok(ids.len())
}
