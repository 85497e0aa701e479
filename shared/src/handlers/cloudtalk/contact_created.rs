//! `POST /api/cloudtalk-webhooks/contact-created`: a contact was created in CloudTalk → create
//! or update the GHL contact (name, phone, email) and record the mapping.
//!
//! Loop prevention: when the CloudTalk contact is already linked (for example because the
//! bridge itself created it from a GHL contact), nothing is written to GHL.

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::contact_map::{ContactLink, LinkOrigin, LinkOutcome};
use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::handlers::require_ghl;
use crate::idempotency::Steps;
use crate::mapping::cloudtalk_to_ghl::ghl_contact_from_created;
use crate::payload::cloudtalk::{parse_contact_created, ContactCreatedEvent};
use crate::payload::PayloadError;
use crate::phone::to_e164;

pub struct ContactCreated;

/// The recorded value of the upsert step.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Upserted {
    id: String,
    /// GHL created the contact (rather than updating one it had).
    new: bool,
}

impl Upserted {
    /// The `new|<id>` / `existing|<id>` form earlier versions recorded.
    fn legacy(text: &str) -> Option<Self> {
        let (flag, id) = text.split_once('|')?;
        Some(Self {
            id: id.to_string(),
            new: flag == "new",
        })
    }
}

#[async_trait]
impl Handler for ContactCreated {
    type Event = ContactCreatedEvent;

    fn parse(&self, body: &Value) -> Result<ContactCreatedEvent, PayloadError> {
        parse_contact_created(body)
    }

    async fn apply(
        &self,
        deps: &Deps,
        event: &ContactCreatedEvent,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
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
                cloudtalk_contact_id: Some(event.cloudtalk_id.clone()),
                ..Outcome::default()
            };
            outcome
                .details
                .insert("linkOrigin".into(), json!(link.origin.as_str()));
            return Ok(outcome);
        }
        let input = ghl_contact_from_created(&location, event, phone.as_deref());
        let Upserted { id: ghl_id, new } = steps
            .run_typed("ghl_contact", Upserted::legacy, || async {
                let (id, new) = deps.ghl.upsert_contact(&input).await?;
                Ok(Upserted { id, new })
            })
            .await?;
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
        outcome.cloudtalk_contact_id = Some(event.cloudtalk_id.clone());
        outcome.contact_created = new;
        outcome.details.insert("linked".into(), json!(linked));
        Ok(outcome)
    }
}
