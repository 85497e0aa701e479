//! `POST /api/ghl-webhooks/new-contact`: a GHL contact was created → create (or find) the
//! CloudTalk contact with its name, phones, emails, tags, company and a link back to GHL, and
//! record the mapping. A contact the bridge created from CloudTalk is not written back. With
//! speed to lead on, the new lead is then dialled (see [`super::speed_to_lead`]); the dial job
//! comes back to this endpoint as its own event.

use async_trait::async_trait;
use serde_json::Value;

use super::speed_to_lead::{self, Trigger};
use super::{add_tags_once, cloudtalk_contact_of};
use crate::contact_map::LinkOrigin;
use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::handlers::require_cloudtalk;
use crate::idempotency::Steps;
use crate::payload::ghl::{
    is_dial_job, parse_dial_job, parse_new_contact, DialJob, NewContactEvent,
};
use crate::payload::PayloadError;
use crate::resolve::FoundBy;

pub struct NewContact;

/// What arrives for the new-contact endpoint: a contact GHL created, or the bridge's own job
/// to dial it.
pub enum NewContactOrDial {
    Created(NewContactEvent),
    Dial(DialJob),
}

#[async_trait]
impl Handler for NewContact {
    type Event = NewContactOrDial;

    fn parse(&self, body: &Value) -> Result<NewContactOrDial, PayloadError> {
        if is_dial_job(body) {
            return parse_dial_job(body).map(NewContactOrDial::Dial);
        }
        parse_new_contact(body).map(NewContactOrDial::Created)
    }

    async fn apply(
        &self,
        deps: &Deps,
        event: &NewContactOrDial,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        require_cloudtalk(deps)?;
        let event = match event {
            NewContactOrDial::Created(event) => event,
            NewContactOrDial::Dial(job) => return speed_to_lead::dial(deps, job, steps).await,
        };
        // A lead: when CloudTalk's budget is spent it waits in the import lane.
        crate::rate_limit::in_lane(created(deps, event, steps)).await
    }
}

/// A contact GHL created: linked to its CloudTalk contact (found or created).
async fn created(
    deps: &Deps,
    event: &NewContactEvent,
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    let contact = &event.contact;
    let location = deps.location_for(contact.location_id.as_deref());
    // Loop prevention: a GHL contact the bridge itself created from a CloudTalk contact
    // comes back as "contact created"; it is already linked and nothing is written.
    if steps.is_fresh() {
        if let Some(link) = deps.contacts.find_by_ghl(&location, &contact.id).await? {
            if link.origin == LinkOrigin::CloudTalk {
                let mut outcome = Outcome::with_result("already_linked");
                outcome.ghl_contact_id = Some(link.ghl_contact_id);
                outcome.cloudtalk_contact_id = Some(link.cloudtalk_contact_id);
                return Ok(outcome.detail("linkOrigin", "cloudtalk"));
            }
        }
    }
    let resolved = cloudtalk_contact_of(deps, contact, &contact.tags, steps).await?;
    // An existing CloudTalk contact keeps its data; GHL's tags are appended to it.
    if resolved.found_by != FoundBy::Created && !contact.tags.is_empty() {
        add_tags_once(deps, &resolved.cloudtalk_id, &contact.tags, steps).await?;
    }
    let dial = speed_to_lead::start(deps, contact, Trigger::NewContact, steps).await?;
    Ok(super::outcome(&contact.id, &resolved).follow_up(dial))
}
