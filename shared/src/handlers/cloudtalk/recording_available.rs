//! `POST /api/cloudtalk-webhooks/recording-available`: a recording is ready → a note on the GHL
//! contact with the link and the call it belongs to; with a Call conversation provider, the
//! attachment of the message the call became.

use async_trait::async_trait;
use serde_json::Value;

use super::{
    add_note_once, attributed, call_note_outcome, conversation, ghl_contact_of, Attributed,
};
use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::identity::CallIdentity;
use crate::mapping::cloudtalk_to_ghl::recording_note;
use crate::payload::cloudtalk::{parse_call, sent_recording_link, CallEvent};
use crate::payload::PayloadError;

pub struct RecordingAvailable;

/// A call whose recording is ready, and the recording's link.
pub struct RecordingEvent {
    pub call: CallEvent,
    pub url: String,
}

#[async_trait]
impl Handler for RecordingAvailable {
    type Event = RecordingEvent;

    fn parse(&self, body: &Value) -> Result<RecordingEvent, PayloadError> {
        let call = parse_call(body);
        if call.recording_url.is_none() && sent_recording_link(body).is_some() {
            return Err(PayloadError::Invalid(
                "the recording link is not a CloudTalk link (https on cloudtalk.io)".into(),
            ));
        }
        let url = call.recording_url.clone().ok_or_else(|| {
            PayloadError::missing_fields("no recording link", &["recording_url", "recording_link"])
        })?;
        call.contact.require_identifiable()?;
        Ok(RecordingEvent { call, url })
    }

    fn identity(&self, deps: &Deps, event: &RecordingEvent) -> Option<CallIdentity> {
        let region = deps.config.default_phone_region.as_deref();
        CallIdentity::of_call(&event.call, region, false)
    }

    async fn apply(
        &self,
        deps: &Deps,
        event: &RecordingEvent,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let RecordingEvent { call, url } = event;
        let Attributed { call, user_id } = attributed(deps, call).await;
        let (call, user) = (&call, user_id.as_deref());
        let resolved = ghl_contact_of(deps, call, user, steps).await?;
        if conversation::provider(deps, call).is_some() {
            if let Some(message_id) = conversation::attach_recording(deps, call, url, steps).await?
            {
                let outcome = super::outcome(call.contact.cloudtalk_id.as_deref(), &resolved);
                return Ok(super::with_call(
                    outcome.detail("ghlMessageId", message_id),
                    call,
                ));
            }
        }
        let note = recording_note(call, url);
        let note_id = add_note_once(deps, &resolved.ghl_id, &note, user, steps).await?;
        Ok(call_note_outcome(call, &resolved, note_id))
    }
}
