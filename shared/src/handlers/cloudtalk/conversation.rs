//! Calls as entries of the GHL contact's conversation, when the deployment (or the tenant) has
//! a Call conversation provider (`GHL_CALL_PROVIDER_ID`, a tenant's `call_logging`): the call
//! becomes an inbound or outbound `Call` message whose `altId` is the CloudTalk call id, and
//! its recording, when it comes, that message's attachment. Without a provider calls are notes.
//!
//! The message a call became, and its attachments, are kept in the state store
//! (`call-message#<tenant>#<callId>`): GHL's attachments call replaces the list, so the list
//! is rebuilt from what was attached before.

use serde::{Deserialize, Serialize};

use crate::clients::ghl::{CallDetails, CallMessage};
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::mapping::cloudtalk_to_ghl::call_message_parts;
use crate::payload::cloudtalk::CallEvent;
use crate::resolve::ResolvedGhlContact;

/// GHL keeps at most this many attachments on a message.
const MAX_ATTACHMENTS: usize = 5;

/// A call's message and what is attached to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct CallEntry {
    message_id: String,
    attachments: Vec<String>,
}

/// The call's own id (its CloudTalk id, else its uuid): the message's `altId`.
fn call_ref(call: &CallEvent) -> Option<&str> {
    call.call_id.as_deref().or(call.call_uuid.as_deref())
}

fn entry_name(deps: &Deps, call_ref: &str) -> String {
    let tenant = deps.config.tenant_id.as_deref().unwrap_or("default");
    format!("call-message#{tenant}#{call_ref}")
}

async fn load(deps: &Deps, name: &str) -> Result<Option<CallEntry>, BridgeError> {
    let text = deps.state.get_value(name).await?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

async fn save(deps: &Deps, name: &str, entry: &CallEntry) -> Result<(), BridgeError> {
    let text = serde_json::to_string(entry).unwrap_or_default();
    Ok(deps.state.put_value(name, &text).await?)
}

/// The Call conversation provider calls are logged through, when there is one and the call
/// has an id to be found again by.
pub(crate) fn provider<'d>(deps: &'d Deps, call: &CallEvent) -> Option<&'d str> {
    match &deps.config.call_logging {
        crate::config::CallLogging::Conversations { provider_id } if call_ref(call).is_some() => {
            Some(provider_id)
        }
        _ => None,
    }
}

/// Adds the ended call to the contact's conversation once per event (the `message` step);
/// the message id.
pub(crate) async fn log_call(
    deps: &Deps,
    call: &CallEvent,
    resolved: &ResolvedGhlContact,
    provider_id: &str,
    steps: &mut Steps,
) -> Result<String, BridgeError> {
    let alt_id = call_ref(call).unwrap_or_default().to_string();
    let parts = call_message_parts(call, resolved.phone.as_deref());
    let attachments: Vec<String> = call.recording_url.iter().cloned().collect();
    let send = || async {
        let location = deps.location_for(None);
        let conversation_id = deps
            .ghl
            .conversation_of(&location, &resolved.ghl_id)
            .await?;
        let message = CallMessage {
            kind: "Call",
            conversation_id,
            contact_id: resolved.ghl_id.clone(),
            conversation_provider_id: provider_id.to_string(),
            direction: parts.direction,
            message: Some(parts.text.clone()),
            alt_id: alt_id.clone(),
            date: call.ended_at.clone().or(call.started_at.clone()),
            call: CallDetails {
                to: parts.to.clone(),
                from: parts.from.clone(),
                status: parts.status,
            },
            attachments: attachments.clone(),
        };
        Ok(deps.ghl.add_call_message(&message).await?)
    };
    let message_id = steps.run("message", send).await?;
    let entry = CallEntry {
        message_id: message_id.clone(),
        attachments,
    };
    save(deps, &entry_name(deps, &alt_id), &entry).await?;
    Ok(message_id)
}

/// Attaches a recording to the message its call became (the `attachments` step); `None`
/// when the call has no message (its call-ended event has not been applied).
pub(crate) async fn attach_recording(
    deps: &Deps,
    call: &CallEvent,
    url: &str,
    steps: &mut Steps,
) -> Result<Option<String>, BridgeError> {
    let Some(alt_id) = call_ref(call) else {
        return Ok(None);
    };
    let name = entry_name(deps, alt_id);
    let Some(mut entry) = load(deps, &name).await? else {
        return Ok(None);
    };
    if !entry.attachments.iter().any(|a| a == url) {
        entry.attachments.push(url.to_string());
        let skip = entry.attachments.len().saturating_sub(MAX_ATTACHMENTS);
        entry.attachments.drain(..skip);
        let (id, list) = (entry.message_id.clone(), entry.attachments.clone());
        steps
            .run("attachments", || async {
                deps.ghl.set_attachments(&id, &list).await?;
                Ok(String::new())
            })
            .await?;
        save(deps, &name, &entry).await?;
    }
    Ok(Some(entry.message_id))
}
