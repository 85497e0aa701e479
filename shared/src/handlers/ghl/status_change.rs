//! `POST /api/ghl-webhooks/status-change`: a GHL contact's status changed → add a CloudTalk
//! note with the old and new status and the reason, and append the tag `GHL-<STATUS>`.

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::handlers::require_cloudtalk;
use crate::idempotency::Steps;
use crate::mapping::ghl_to_cloudtalk::{status_note, status_tag};
use crate::payload::ghl::{parse_status_change, StatusChangeEvent};
use crate::payload::PayloadError;
use crate::resolve::resolve_cloudtalk_contact;

pub struct StatusChange;

#[async_trait]
impl Handler for StatusChange {
    type Event = StatusChangeEvent;

    fn parse(&self, body: &Value) -> Result<StatusChangeEvent, PayloadError> {
        parse_status_change(body)
    }

    async fn apply(
        &self,
        deps: &Deps,
        event: &StatusChangeEvent,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        require_cloudtalk(deps)?;
        let contact = &event.contact;
        let location = deps.location_for(contact.location_id.as_deref());
        let tag = status_tag(&event.status);
        let mut create_tags = contact.tags.clone();
        create_tags.push(tag.clone());
        let resolved =
            resolve_cloudtalk_contact(deps, &location, contact, &create_tags, steps).await?;
        let note_id = steps
            .run("note", || async {
                Ok(deps
                    .cloudtalk
                    .add_note(&resolved.cloudtalk_id, &status_note(event))
                    .await?)
            })
            .await?;
        if !resolved.created_with_tags {
            steps
                .run("tags", || async {
                    deps.cloudtalk
                        .add_tags(&resolved.cloudtalk_id, std::slice::from_ref(&tag))
                        .await?;
                    Ok(String::new())
                })
                .await?;
        }
        let mut outcome = super::outcome(&contact.id, &resolved);
        outcome
            .details
            .insert("cloudtalkNoteId".into(), json!(note_id));
        outcome.details.insert("tag".into(), json!(tag));
        Ok(outcome)
    }
}
