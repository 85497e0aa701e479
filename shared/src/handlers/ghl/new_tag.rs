//! `POST /api/ghl-webhooks/new-tag`: a tag was added in GHL → append it to the CloudTalk
//! contact. The contact's other tags are never touched (CloudTalk's `addTags` appends). The
//! speed-to-lead tag (`SPEED_TO_LEAD_TAG`) also dials the contact (see
//! [`super::speed_to_lead`]).

use async_trait::async_trait;
use serde_json::Value;

use super::speed_to_lead::{self, Trigger};
use super::{add_tags_once, cloudtalk_contact_of};
use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::payload::ghl::{parse_new_tag, NewTagEvent};
use crate::payload::PayloadError;

pub struct NewTag;

#[async_trait]
impl Handler for NewTag {
    type Event = NewTagEvent;

    fn parse(&self, body: &Value) -> Result<NewTagEvent, PayloadError> {
        parse_new_tag(body)
    }

    async fn apply(
        &self,
        deps: &Deps,
        event: &NewTagEvent,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let contact = &event.contact;
        let mut create_tags = contact.tags.clone();
        for tag in &event.tags {
            if !create_tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
                create_tags.push(tag.clone());
            }
        }
        let resolved = cloudtalk_contact_of(deps, contact, &create_tags, steps).await?;
        if !resolved.created_with_tags {
            add_tags_once(deps, &resolved.cloudtalk_id, &event.tags, steps).await?;
        }
        let trigger = event
            .tags
            .iter()
            .find(|t| deps.config.speed_to_lead.is_trigger_tag(t));
        let dial = match trigger {
            Some(tag) => {
                let trigger = Trigger::Tag(tag.clone());
                speed_to_lead::start(deps, contact, trigger, steps).await?
            }
            None => None,
        };
        let outcome = super::outcome(&contact.id, &resolved).detail("tags", &event.tags);
        Ok(outcome.follow_up(dial))
    }
}
