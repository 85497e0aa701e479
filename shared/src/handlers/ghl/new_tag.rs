//! `POST /api/ghl-webhooks/new-tag`: a tag was added in GHL → append it to the CloudTalk
//! contact. The contact's other tags are never touched (CloudTalk's `addTags` appends).

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::handlers::require_cloudtalk;
use crate::idempotency::Steps;
use crate::payload::ghl::{parse_new_tag, NewTagEvent};
use crate::payload::PayloadError;
use crate::resolve::resolve_cloudtalk_contact;

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
        require_cloudtalk(deps)?;
        let contact = &event.contact;
        let location = deps.location_for(contact.location_id.as_deref());
        let mut create_tags = contact.tags.clone();
        for tag in &event.tags {
            if !create_tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
                create_tags.push(tag.clone());
            }
        }
        let resolved =
            resolve_cloudtalk_contact(deps, &location, contact, &create_tags, steps).await?;
        if !resolved.created_with_tags {
            steps
                .run("tags", || async {
                    deps.cloudtalk
                        .add_tags(&resolved.cloudtalk_id, &event.tags)
                        .await?;
                    Ok(String::new())
                })
                .await?;
        }
        let mut outcome = super::outcome(&contact.id, &resolved);
        outcome.details.insert("tags".into(), json!(event.tags));
        Ok(outcome)
    }
}
