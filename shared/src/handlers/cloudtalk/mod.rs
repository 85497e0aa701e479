//! CloudTalk → GoHighLevel endpoints, under `/api/cloudtalk-webhooks/`. Each acts on the GHL
//! contact linked to the CloudTalk contact, found or created first
//! ([`crate::resolve::resolve_ghl_contact`]).

pub mod agent_status_change;
pub mod call_ended;
pub mod call_modified;
pub mod call_started;
pub(crate) mod callback;
pub mod campaign_status_change;
pub mod contact_created;
pub(crate) mod conversation;
pub(crate) mod cue_card;
pub mod generic;
pub mod insights;
pub mod recording_available;
pub mod sms_received;

pub use agent_status_change::AgentStatusChange;
pub use call_ended::CallEnded;
pub use call_modified::CallModified;
pub use call_started::CallStarted;
pub use campaign_status_change::CampaignStatusChange;
pub use contact_created::ContactCreated;
pub use generic::Generic;
pub use recording_available::RecordingAvailable;
pub use sms_received::SmsReceived;

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

/// A call with its agent as GHL knows people: the agent's name (the payload's, else the
/// directory's; never only an id when a name is known) and the agent's GHL user.
pub(crate) struct Attributed {
    pub call: CallEvent,
    pub user_id: Option<String>,
}

/// Attributes a call to its agent (see [`crate::resolve::agent`]); a call without an agent id
/// is left as it is.
pub(crate) async fn attributed(deps: &Deps, call: &CallEvent) -> Attributed {
    let Some(agent_id) = call.agent_id.as_deref() else {
        return Attributed {
            call: call.clone(),
            user_id: None,
        };
    };
    let agent = crate::resolve::agent::agent(deps, agent_id).await;
    let mut call = call.clone();
    if call.agent_name.is_none() {
        call.agent_name = agent.name;
    }
    Attributed {
        call,
        user_id: agent.user_id,
    }
}

/// The GHL contact of a call's contact, found or created and linked (a contact it creates is
/// owned by `owner`, the agent's user); the GHL token and location must be configured.
pub(crate) async fn ghl_contact_of(
    deps: &Deps,
    call: &CallEvent,
    owner: Option<&str>,
    steps: &mut Steps,
) -> Result<ResolvedGhlContact, BridgeError> {
    super::require_ghl(deps)?;
    let location = deps.location_for(None);
    resolve_ghl_contact(deps, &location, &call.contact, owner, steps).await
}

/// Adds a note to the GHL contact once per event (the `note` step), attributed to `user_id`.
pub(crate) async fn add_note_once(
    deps: &Deps,
    ghl_id: &str,
    note: &str,
    user_id: Option<&str>,
    steps: &mut Steps,
) -> Result<String, BridgeError> {
    steps
        .run("note", || async {
            Ok(deps.ghl.add_note(ghl_id, note, user_id).await?)
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
