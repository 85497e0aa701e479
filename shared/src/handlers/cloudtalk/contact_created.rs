//! `POST /api/cloudtalk-webhooks/contact-created`: a contact was created in CloudTalk → create
//! or update the GHL contact (name, phone, email) and record the mapping.
//!
//! Loop prevention: when the CloudTalk contact is already linked (for example because the
//! bridge itself created it from a GHL contact), nothing is written to GHL.

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::contact_map::{ContactLink, LinkOrigin, LinkOutcome};
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::handlers::require_ghl;
use crate::idempotency::Steps;
use crate::mapping::cloudtalk_to_ghl::ghl_contact_from_created;
use crate::payload::cloudtalk::parse_contact_created;
use crate::phone::to_e164;
use crate::webhook::{Outcome, Sender, Webhook};

pub struct ContactCreated;

#[async_trait]
impl Webhook for ContactCreated {
    const NAME: &'static str = "cloudtalk-contact-created";
    const ROUTE: &'static str = "/api/cloudtalk-webhooks/contact-created";
    const SENDER: Sender = Sender::CloudTalk;

    fn validate(&self, body: &Value) -> Result<(), BridgeError> {
        parse_contact_created(body).map(|_| ())
    }

    async fn apply(
        &self,
        deps: &Deps,
        body: &Value,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let event = parse_contact_created(body)?;
        let region = deps.config.default_phone_region.as_deref();
        let phone = match event.phones.first() {
            Some(raw) => Some(
                to_e164(raw, region).map_err(|e| BridgeError::Unprocessable {
                    message: format!("invalid phone number: {e}"),
                    missing: vec![],
                })?,
            ),
            None => None,
        };
        if phone.is_none() && event.emails.is_empty() {
            return Err(BridgeError::missing_fields(
                "the contact has no phone number or email",
                &["external_number", "contact_phone", "contact_email"],
            ));
        }
        require_ghl(deps)?;
        let location = deps.location_for(None);
        if let Some(link) = deps
            .contacts
            .find_by_cloudtalk(&location, &event.cloudtalk_id)
            .await?
        {
            let mut outcome = Outcome {
                result: "already_linked",
                ghl_contact_id: Some(link.ghl_contact_id),
                cloudtalk_contact_id: Some(event.cloudtalk_id),
                ..Outcome::default()
            };
            outcome
                .details
                .insert("linkOrigin".into(), json!(link.origin.as_str()));
            return Ok(outcome);
        }
        let input = ghl_contact_from_created(&location, &event, phone.as_deref());
        let upserted = steps
            .run("ghl_contact", || async {
                let (id, new) = deps.ghl.upsert_contact(&input).await?;
                Ok(format!("{}|{id}", if new { "new" } else { "existing" }))
            })
            .await?;
        let (new, ghl_id) = match upserted.split_once('|') {
            Some((flag, id)) => (flag == "new", id.to_string()),
            None => (false, upserted.clone()),
        };
        let link = ContactLink::new(
            &location,
            &ghl_id,
            &event.cloudtalk_id,
            LinkOrigin::CloudTalk,
        );
        let linked = match deps.contacts.link(&link).await? {
            LinkOutcome::Created => true,
            LinkOutcome::Existing(existing) => {
                tracing::warn!(
                    ghl_contact_id = %ghl_id,
                    cloudtalk_contact_id = %event.cloudtalk_id,
                    linked_cloudtalk_contact_id = %existing.cloudtalk_contact_id,
                    "GHL contact is already linked to another CloudTalk contact"
                );
                existing.cloudtalk_contact_id == event.cloudtalk_id
            }
        };
        let mut outcome = Outcome::applied();
        outcome.ghl_contact_id = Some(ghl_id);
        outcome.cloudtalk_contact_id = Some(event.cloudtalk_id);
        outcome.contact_created = new;
        outcome.details.insert("linked".into(), json!(linked));
        Ok(outcome)
    }
}
