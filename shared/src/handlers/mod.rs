//! One module per endpoint. GoHighLevel → CloudTalk endpoints are in [`ghl`], CloudTalk →
//! GoHighLevel endpoints in [`cloudtalk`]. [`handler`] binds
//! each [`EndpointId`] of the registry to its handler.
//!
//! A function carries only the handlers it can run ([`Bind`]): its own endpoint's, and those of
//! the jobs that handler starts ([`bound`]); the retry worker and reconciliation, which apply
//! any event, carry [`every`]. A function asked for an event it does not carry (a Marketplace
//! event of another type on the app's URL) hands it to the retry worker. So the linker leaves
//! out of each function the code of every other endpoint.

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
        E::GhlSmsDelivery => &ghl::SmsDelivery,
        E::CloudtalkSmsReceived => &cloudtalk::SmsReceived,
    }
}

/// The handlers a function carries: the handler of an endpoint, when this function can run it.
pub type Bind = fn(EndpointId) -> Option<&'static dyn Endpoint>;

/// Every handler: the retry worker, reconciliation, and a process serving every route.
pub fn every(id: EndpointId) -> Option<&'static dyn Endpoint> {
    Some(handler(id))
}

/// The handlers of each webhook function, named after it: its own endpoint's, and the
/// endpoints of the jobs its handler starts (a tag's dial job is a new-contact event; the app's
/// URL receives every Marketplace event type).
pub mod bound {
    use super::{cloudtalk, ghl};
    use crate::endpoint::Endpoint;
    use crate::registry::EndpointId;

    macro_rules! binder {
        ($name:ident: $($id:ident => $handler:expr),+ $(,)?) => {
            pub fn $name(id: EndpointId) -> Option<&'static dyn Endpoint> {
                match id {
                    $(EndpointId::$id => Some($handler),)+
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        };
    }

    binder!(ghl_new_contact: GhlNewContact => &ghl::NewContact);
    binder!(ghl_new_tag: GhlNewTag => &ghl::NewTag, GhlNewContact => &ghl::NewContact);
    binder!(ghl_new_note: GhlNewNote => &ghl::NewNote);
    binder!(ghl_pipeline_change: GhlPipelineChange => &ghl::PipelineChange);
    binder!(ghl_status_change: GhlStatusChange => &ghl::StatusChange);
    binder!(ghl_dnd_change: GhlDndChange => &ghl::DndChange);
    binder!(ghl_sms_delivery: GhlSmsDelivery => &ghl::SmsDelivery);
    binder!(ghl_app_install:
        GhlAppInstall => &ghl::AppInstall,
        GhlNewContact => &ghl::NewContact,
        GhlNewTag => &ghl::NewTag,
        GhlNewNote => &ghl::NewNote,
        GhlPipelineChange => &ghl::PipelineChange,
        GhlStatusChange => &ghl::StatusChange,
        GhlDndChange => &ghl::DndChange,
    );
    binder!(cloudtalk_call_started: CloudtalkCallStarted => &cloudtalk::CallStarted);
    binder!(cloudtalk_call_ended: CloudtalkCallEnded => &cloudtalk::CallEnded);
    binder!(cloudtalk_call_modified: CloudtalkCallModified => &cloudtalk::CallModified);
    binder!(cloudtalk_recording_available: CloudtalkRecordingAvailable => &cloudtalk::RecordingAvailable);
    binder!(cloudtalk_agent_status_change: CloudtalkAgentStatusChange => &cloudtalk::AgentStatusChange);
    binder!(cloudtalk_contact_created: CloudtalkContactCreated => &cloudtalk::ContactCreated);
    binder!(cloudtalk_campaign_status_change: CloudtalkCampaignStatusChange => &cloudtalk::CampaignStatusChange);
    binder!(cloudtalk_generic: CloudtalkGeneric => &cloudtalk::Generic);
    binder!(cloudtalk_sms_received: CloudtalkSmsReceived => &cloudtalk::SmsReceived);
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
