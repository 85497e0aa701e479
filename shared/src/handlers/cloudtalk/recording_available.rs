//! `POST /api/cloudtalk-webhooks/recording-available`: a recording is ready → a note on the GHL
//! contact with the link and the call it belongs to.

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::handlers::require_ghl;
use crate::idempotency::Steps;
use crate::mapping::cloudtalk_to_ghl::recording_note;
use crate::payload::cloudtalk::{parse_call, CallEvent};
use crate::payload::PayloadError;
use crate::resolve::resolve_ghl_contact;

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
        let url = call.recording_url.clone().ok_or_else(|| {
            PayloadError::missing_fields("no recording link", &["recording_url", "recording_link"])
        })?;
        call.contact.require_identifiable()?;
        Ok(RecordingEvent { call, url })
    }

    async fn apply(
        &self,
        deps: &Deps,
        event: &RecordingEvent,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let RecordingEvent { call, url } = event;
        require_ghl(deps)?;
        let location = deps.location_for(None);
        let resolved = resolve_ghl_contact(deps, &location, &call.contact, steps).await?;
        let note = recording_note(call, url);
        let note_id = steps
            .run("note", || async {
                Ok(deps.ghl.add_note(&resolved.ghl_id, &note).await?)
            })
            .await?;
        let mut outcome = super::outcome(call.contact.cloudtalk_id.as_deref(), &resolved);
        outcome.details.insert("ghlNoteId".into(), json!(note_id));
        Ok(super::with_call(outcome, call))
    }
}
