//! One module per endpoint. GoHighLevel → CloudTalk endpoints are in [`ghl`], CloudTalk →
//! GoHighLevel endpoints in [`cloudtalk`]. [`handler`] binds
//! each [`EndpointId`] of the registry to its handler.

pub mod cloudtalk;
pub mod ghl;

use crate::deps::Deps;
use crate::endpoint::Endpoint;
use crate::error::BridgeError;
use crate::registry::EndpointId;

/// The handler of each endpoint; exhaustive, so an endpoint without a handler does not build.
pub fn handler(id: EndpointId) -> &'static dyn Endpoint {
    use EndpointId as E;
    match id {
        E::GhlNewContact => &ghl::NewContact,
        E::GhlNewTag => &ghl::NewTag,
        E::GhlNewNote => &ghl::NewNote,
        E::GhlPipelineChange => &ghl::PipelineChange,
        E::GhlStatusChange => &ghl::StatusChange,
        E::CloudtalkCallStarted => &cloudtalk::CallStarted,
        E::CloudtalkCallEnded => &cloudtalk::CallEnded,
        E::CloudtalkRecordingAvailable => &cloudtalk::RecordingAvailable,
        E::CloudtalkAgentStatusChange => &cloudtalk::AgentStatusChange,
        E::CloudtalkContactCreated => &cloudtalk::ContactCreated,
        E::CloudtalkCampaignStatusChange => &cloudtalk::CampaignStatusChange,
        E::CloudtalkGeneric => &cloudtalk::Generic,
        E::GhlAppInstall => &ghl::AppInstall,
        E::CloudtalkCallModified => &cloudtalk::CallModified,
        E::GhlDndChange => &ghl::DndChange,
    }
}

/// A GHL note written once (step `step`), carrying the step's marker, so that a write whose
/// answer was lost is found again (`GET /contacts/{id}/notes`) before any retry.
pub(crate) async fn marked_note_once(
    deps: &Deps,
    contact: &str,
    step: &str,
    text: &str,
    user: Option<&str>,
    steps: &mut crate::idempotency::Steps,
) -> Result<String, BridgeError> {
    let marker = steps.marker(step);
    let text = steps.marked(step, text);
    let read_back = || async {
        match &marker {
            Some(m) => Ok(deps.ghl.find_note(contact, m).await?),
            None => Ok(None),
        }
    };
    let write = || async { Ok(deps.ghl.add_note(contact, &text, user).await?) };
    steps.run_checked(step, read_back, write).await
}

/// GHL → CloudTalk endpoints need the CloudTalk API key; checked after the request has been
/// authenticated and parsed, before any upstream call.
pub(crate) fn require_cloudtalk(deps: &Deps) -> Result<(), BridgeError> {
    if deps.cloudtalk_configured() {
        Ok(())
    } else {
        Err(BridgeError::Config(
            "CLOUDTALK_API_KEY_ID and CLOUDTALK_API_KEY_SECRET are not configured".into(),
        ))
    }
}

/// CloudTalk → GHL endpoints need the GHL token and location; checked after the request has
/// been authenticated and parsed, before any upstream call.
pub(crate) fn require_ghl(deps: &Deps) -> Result<(), BridgeError> {
    if deps.ghl_configured() {
        Ok(())
    } else {
        Err(BridgeError::Config(
            "GHL_API_TOKEN and GHL_LOCATION_ID are not configured".into(),
        ))
    }
}
