//! CloudTalk → GoHighLevel endpoints, under `/api/cloudtalk-webhooks/`. Each acts on the GHL
//! contact linked to the CloudTalk contact, found or created first
//! ([`crate::resolve::resolve_ghl_contact`]).

pub mod agent_status_change;
pub mod call_ended;
pub mod call_started;
pub mod campaign_status_change;
pub mod contact_created;
pub mod generic;
pub mod recording_available;

pub use agent_status_change::AgentStatusChange;
pub use call_ended::CallEnded;
pub use call_started::CallStarted;
pub use campaign_status_change::CampaignStatusChange;
pub use contact_created::ContactCreated;
pub use generic::Generic;
pub use recording_available::RecordingAvailable;

use serde_json::json;

use crate::endpoint::Outcome;
use crate::payload::cloudtalk::CallEvent;
use crate::resolve::ResolvedGhlContact;

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
        outcome.details.insert("callId".into(), json!(id));
    }
    if let Some(uuid) = &call.call_uuid {
        outcome.details.insert("callUuid".into(), json!(uuid));
    }
    outcome
}
