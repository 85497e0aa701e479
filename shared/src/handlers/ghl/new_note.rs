//! `POST /api/ghl-webhooks/new-note`: a note was added in GHL → add a CloudTalk note
//! `[GHL Note] <body> - Added by User ID: <userId> - <timestamp>`.

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::handlers::require_cloudtalk;
use crate::idempotency::Steps;
use crate::mapping::ghl_to_cloudtalk::note_text;
use crate::payload::ghl::{parse_new_note, NewNoteEvent};
use crate::payload::PayloadError;
use crate::resolve::resolve_cloudtalk_contact;

/// CloudTalk notes are text fields; very long bodies are cut rather than refused.
const NOTE_MAX_CHARS: usize = 10_000;

pub struct NewNote;

#[async_trait]
impl Handler for NewNote {
    type Event = NewNoteEvent;

    fn parse(&self, body: &Value) -> Result<NewNoteEvent, PayloadError> {
        parse_new_note(body)
    }

    async fn apply(
        &self,
        deps: &Deps,
        event: &NewNoteEvent,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        require_cloudtalk(deps)?;
        let contact = &event.contact;
        let location = deps.location_for(contact.location_id.as_deref());
        let resolved =
            resolve_cloudtalk_contact(deps, &location, contact, &contact.tags, steps).await?;
        let text: String = note_text(event).chars().take(NOTE_MAX_CHARS).collect();
        let note_id = steps
            .run("note", || async {
                Ok(deps
                    .cloudtalk
                    .add_note(&resolved.cloudtalk_id, &text)
                    .await?)
            })
            .await?;
        let mut outcome = super::outcome(&contact.id, &resolved);
        outcome
            .details
            .insert("cloudtalkNoteId".into(), json!(note_id));
        Ok(outcome)
    }
}
