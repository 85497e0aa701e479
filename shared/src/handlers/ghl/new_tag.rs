//! `POST /api/ghl-webhooks/new-tag`: a tag was added in GHL → append it to the CloudTalk
//! contact. The contact's other tags are never touched (CloudTalk's `addTags` appends).

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::error::BridgeError;
use crate::handlers::require_cloudtalk;
use crate::idempotency::Steps;
use crate::payload::ghl::parse_new_tag;
use crate::resolve::resolve_cloudtalk_contact;
use crate::webhook::{Outcome, Sender, Webhook};

pub struct NewTag;

#[async_trait]
impl Webhook for NewTag {
    const NAME: &'static str = "ghl-new-tag";
    const ROUTE: &'static str = "/api/ghl-webhooks/new-tag";
    const SENDER: Sender = Sender::GoHighLevel;

    fn validate(&self, body: &Value) -> Result<(), BridgeError> {
        parse_new_tag(body).map(|_| ())
    }

    async fn apply(
        &self,
        deps: &Deps,
        body: &Value,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let event = parse_new_tag(body)?;
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
