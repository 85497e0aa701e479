//! `POST /api/cloudtalk-webhooks/recording-available`: a recording is ready → a note on the GHL
//! contact with the link and the call it belongs to.

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::error::BridgeError;
use crate::handlers::require_ghl;
use crate::idempotency::Steps;
use crate::mapping::cloudtalk_to_ghl::recording_note;
use crate::payload::cloudtalk::parse_call;
use crate::resolve::resolve_ghl_contact;
use crate::webhook::{Outcome, Sender, Webhook};

pub struct RecordingAvailable;

#[async_trait]
impl Webhook for RecordingAvailable {
    const NAME: &'static str = "cloudtalk-recording-available";
    const ROUTE: &'static str = "/api/cloudtalk-webhooks/recording-available";
    const SENDER: Sender = Sender::CloudTalk;

    fn validate(&self, body: &Value) -> Result<(), BridgeError> {
        let call = parse_call(body);
        if call.recording_url.is_none() {
            return Err(BridgeError::missing_fields(
                "no recording link",
                &["recording_url", "recording_link"],
            ));
        }
        call.contact.require_identifiable()
    }

    async fn apply(
        &self,
        deps: &Deps,
        body: &Value,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let call = parse_call(body);
        let url = call.recording_url.clone().ok_or_else(|| {
            BridgeError::missing_fields("no recording link", &["recording_url", "recording_link"])
        })?;
        call.contact.require_identifiable()?;
        require_ghl(deps)?;
        let location = deps.location_for(None);
        let resolved = resolve_ghl_contact(deps, &location, &call.contact, steps).await?;
        let note = recording_note(&call, &url);
        let note_id = steps
            .run("note", || async {
                Ok(deps.ghl.add_note(&resolved.ghl_id, &note).await?)
            })
            .await?;
        let mut outcome = super::outcome(call.contact.cloudtalk_id.as_deref(), &resolved);
        outcome.details.insert("ghlNoteId".into(), json!(note_id));
        Ok(super::with_call(outcome, &call))
    }
}
