//! `POST /api/ghl-webhooks/new-note`: a note was added in GHL → add a CloudTalk note
//! `[GHL Note] <body> - Added by User ID: <userId> - <timestamp>`.

use async_trait::async_trait;
use serde_json::Value;

use super::{add_note_once, cloudtalk_contact_of};
use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::mapping::ghl_to_cloudtalk::note_text;
use crate::payload::ghl::{parse_new_note, NewNoteEvent};
use crate::payload::PayloadError;

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
        let contact = &event.contact;
        let resolved = cloudtalk_contact_of(deps, contact, &contact.tags, steps).await?;
        let text: String = note_text(event).chars().take(NOTE_MAX_CHARS).collect();
        let note_id = add_note_once(deps, &resolved.cloudtalk_id, &text, steps).await?;
        Ok(super::outcome(&contact.id, &resolved).detail("cloudtalkNoteId", note_id))
    }
}
