//! `POST /api/ghl-webhooks/new-contact`: a GHL contact was created → create (or find) the
//! CloudTalk contact with its name, phones, emails, tags, company and a link back to GHL, and
//! record the mapping.

use async_trait::async_trait;
use serde_json::Value;

use crate::deps::Deps;
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::handlers::require_cloudtalk;
use crate::payload::ghl::parse_new_contact;
use crate::resolve::{resolve_cloudtalk_contact, FoundBy};
use crate::webhook::{Outcome, Sender, Webhook};

pub struct NewContact;

#[async_trait]
impl Webhook for NewContact {
    const NAME: &'static str = "ghl-new-contact";
    const ROUTE: &'static str = "/api/ghl-webhooks/new-contact";
    const SENDER: Sender = Sender::GoHighLevel;

    async fn apply(
        &self,
        deps: &Deps,
        body: &Value,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let event = parse_new_contact(body)?;
        require_cloudtalk(deps)?;
        let contact = &event.contact;
        let location = deps.location_for(contact.location_id.as_deref());
        let resolved = resolve_cloudtalk_contact(deps, &location, contact, &contact.tags, steps).await?;
        // An existing CloudTalk contact keeps its data; GHL's tags are appended to it.
        if resolved.found_by != FoundBy::Created && !contact.tags.is_empty() {
            steps
                .run("tags", || async {
                    deps.cloudtalk.add_tags(&resolved.cloudtalk_id, &contact.tags).await?;
                    Ok(String::new())
                })
                .await?;
        }
        Ok(super::outcome(&contact.id, &resolved))
    }
}
