//! `POST /api/cloudtalk-webhooks/call-ended`: a call ended → a note with the outcome
//! (answered / missed / voicemail), duration, talking time, agent and direction; missed calls
//! also get the `MISSED_CALL_TAG` tag; configured custom fields get the last call's date,
//! outcome and duration.

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::handlers::require_ghl;
use crate::idempotency::Steps;
use crate::mapping::cloudtalk_to_ghl::{
    call_ended_note, call_outcome, last_call_custom_fields, CallOutcome,
};
use crate::payload::cloudtalk::{parse_call, CallEvent};
use crate::payload::PayloadError;
use crate::resolve::resolve_ghl_contact;

pub struct CallEnded;

#[async_trait]
impl Handler for CallEnded {
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
        let note = call_ended_note(call, resolved.phone.as_deref());
        let note_id = steps
            .run("note", || async {
                Ok(deps.ghl.add_note(&resolved.ghl_id, &note).await?)
            })
            .await?;
        let result = call_outcome(call);
        if result == CallOutcome::Missed {
            let tag = std::slice::from_ref(&deps.config.missed_call_tag);
            steps
                .run("tag", || async {
                    deps.ghl.add_tags(&resolved.ghl_id, tag).await?;
                    Ok(String::new())
                })
                .await?;
        }
        let fields = last_call_custom_fields(&deps.config.last_call_fields, call);
        if !fields.is_empty() {
            let update = json!({ "customFields": fields });
            steps
                .run("fields", || async {
                    deps.ghl.update_contact(&resolved.ghl_id, &update).await?;
                    Ok(String::new())
                })
                .await?;
        }
        let mut outcome = super::outcome(call.contact.cloudtalk_id.as_deref(), &resolved);
        outcome.details.insert("ghlNoteId".into(), json!(note_id));
        outcome
            .details
            .insert("callOutcome".into(), json!(result.as_str()));
        Ok(super::with_call(outcome, call))
    }
}
