//! `POST /api/cloudtalk-webhooks/call-started`: a call started → a note on the GHL contact with
//! the direction, agent, number and time.

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::handlers::require_ghl;
use crate::idempotency::Steps;
use crate::mapping::cloudtalk_to_ghl::call_started_note;
use crate::payload::cloudtalk::{parse_call, CallEvent};
use crate::payload::PayloadError;
use crate::resolve::resolve_ghl_contact;

pub struct CallStarted;

#[async_trait]
impl Handler for CallStarted {
    type Event = CallEvent;

    fn parse(&self, body: &Value) -> Result<CallEvent, PayloadError> {
        let call = parse_call(body);
        call.contact.require_identifiable()?;
        Ok(call)
    }

    async fn apply(
        &self,
        deps: &Deps,
        call: &CallEvent,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        require_ghl(deps)?;
        let location = deps.location_for(None);
        let resolved = resolve_ghl_contact(deps, &location, &call.contact, steps).await?;
        let note = call_started_note(call, resolved.phone.as_deref());
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
