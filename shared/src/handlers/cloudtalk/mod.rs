//! CloudTalk → GoHighLevel endpoints, under `/api/cloudtalk-webhooks/`. Each acts on the GHL
//! contact linked to the CloudTalk contact, found or created first
//! ([`crate::resolve::resolve_ghl_contact`]).

pub mod agent_status_change;
pub mod call_ended;
pub mod call_started;
pub mod campaign_status_change;
pub mod contact_created;
pub(crate) mod conversation;
pub mod generic;
pub mod recording_available;

pub use agent_status_change::AgentStatusChange;
pub use call_ended::CallEnded;
pub use call_started::CallStarted;
pub use campaign_status_change::CampaignStatusChange;
pub use contact_created::ContactCreated;
pub use generic::Generic;
pub use recording_available::RecordingAvailable;

use crate::deps::Deps;
use crate::endpoint::Outcome;
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::payload::cloudtalk::CallEvent;
use crate::resolve::{resolve_ghl_contact, ResolvedGhlContact};

/// The outcome the contact-based CloudTalk → GHL endpoints report.
pub(crate) fn outcome(cloudtalk_id: Option<&str>, resolved: &ResolvedGhlContact) -> Outcome {
    Outcome::for_contact(
        Some(resolved.ghl_id.clone()),
        cloudtalk_id.map(str::to_string),
        resolved.found_by,
    )
}

/// Adds the call's ids to an outcome.
pub(crate) fn with_call(mut outcome: Outcome, call: &CallEvent) -> Outcome {
    if let Some(id) = &call.call_id {
        outcome = outcome.detail("callId", id);
    }
    if let Some(uuid) = &call.call_uuid {
        outcome = outcome.detail("callUuid", uuid);
    }
    outcome
}

/// The GHL contact of a call's contact, found or created and linked; the GHL token and
/// location must be configured.
pub(crate) async fn ghl_contact_of(
    deps: &Deps,
    call: &CallEvent,
    steps: &mut Steps,
) -> Result<ResolvedGhlContact, BridgeError> {
    super::require_ghl(deps)?;
    let location = deps.location_for(None);
    resolve_ghl_contact(deps, &location, &call.contact, steps).await
}

/// Adds a note to the GHL contact once per event (the `note` step).
pub(crate) async fn add_note_once(
    deps: &Deps,
    ghl_id: &str,
    note: &str,
    steps: &mut Steps,
) -> Result<String, BridgeError> {
    steps
        .run("note", || async {
            Ok(deps.ghl.add_note(ghl_id, note).await?)
        })
        .await
}

/// A call note's outcome: the contacts, the note and the call's ids.
pub(crate) fn call_note_outcome(
    call: &CallEvent,
    resolved: &ResolvedGhlContact,
    note_id: String,
) -> Outcome {
    let outcome = outcome(call.contact.cloudtalk_id.as_deref(), resolved);
    with_call(outcome.detail("ghlNoteId", note_id), call)
}
