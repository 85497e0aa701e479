//! `POST /api/ghl-webhooks/status-change`: a GHL contact's status changed → add a CloudTalk
//! note with the old and new status and the reason, and append the tag `GHL-<STATUS>`.

use async_trait::async_trait;
use serde_json::Value;

use super::{add_note_once, add_tags_once, cloudtalk_contact_of};
use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::mapping::ghl_to_cloudtalk::{status_note, status_tag};
use crate::payload::ghl::{parse_status_change, StatusChangeEvent};
use crate::payload::PayloadError;

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
        let contact = &event.contact;
        let tag = status_tag(&event.status);
        let mut create_tags = contact.tags.clone();
        create_tags.push(tag.clone());
        let resolved = cloudtalk_contact_of(deps, contact, &create_tags, steps).await?;
        let id = &resolved.cloudtalk_id;
        let note_id = add_note_once(deps, id, &status_note(event), steps).await?;
        if !resolved.created_with_tags {
            add_tags_once(deps, id, std::slice::from_ref(&tag), steps).await?;
        }
        Ok(super::outcome(&contact.id, &resolved)
            .detail("cloudtalkNoteId", note_id)
            .detail("tag", tag))
    }
}
