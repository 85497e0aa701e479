//! `POST /api/cloudtalk-webhooks/campaign-status-change`: a campaign's status changed → move
//! the affected contacts' opportunity to the GHL pipeline stage that `CAMPAIGN_STAGE_MAP`
//! gives for that status (optionally per campaign name), creating the opportunity when the
//! contact has none in that pipeline.
//!
//! When the payload names a contact, only that contact moves. When it names only a campaign,
//! its contacts are found the way CloudTalk campaigns select them, by contact tag: the tag is
//! `campaign_tag` from the payload, else the campaign's name; the bridge looks the tag up
//! (`/tags/index.json`) and pages through `/contacts/index.json?tag_id=…`. Contacts are
//! processed one after another with a pause between them, at most `MAX_CONTACTS_PER_EVENT`
//! per event; the answer says how many remain.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::config::StageTarget;
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::handlers::require_ghl;
use crate::idempotency::Steps;
use crate::payload::cloudtalk::{parse_campaign, ContactRef};
use crate::resolve::resolve_ghl_contact;
use crate::webhook::{Outcome, Sender, Webhook};

/// Contacts moved per event: about 4 GHL calls each keeps well inside GHL's 100 requests per
/// 10 seconds and the function's timeout.
pub const MAX_CONTACTS_PER_EVENT: usize = 25;
/// Pause between contacts.
const PACE: Duration = Duration::from_millis(150);

pub struct CampaignStatusChange;

/// What happened to one contact's opportunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    Moved,
    AlreadyThere,
    Created,
}

async fn move_opportunity(
    deps: &Deps,
    location: &str,
    ghl_id: &str,
    target: &StageTarget,
    name: &str,
) -> Result<Move, BridgeError> {
    let opportunities = deps
        .ghl
        .search_opportunities(location, ghl_id, Some(&target.pipeline_id))
        .await?;
    let current = opportunities
        .iter()
        .filter(|o| {
            o.pipeline_id
                .as_deref()
                .is_none_or(|p| p == target.pipeline_id)
        })
        .find(|o| {
            o.status
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case("open"))
        })
        .or_else(|| opportunities.first());
    match current {
        Some(o) if o.pipeline_stage_id.as_deref() == Some(target.stage_id.as_str()) => {
            Ok(Move::AlreadyThere)
        }
        Some(o) => {
            deps.ghl
                .update_opportunity_stage(&o.id, &target.pipeline_id, &target.stage_id)
                .await?;
            Ok(Move::Moved)
        }
        None => {
            deps.ghl
                .create_opportunity(
                    location,
                    ghl_id,
                    &target.pipeline_id,
                    &target.stage_id,
                    name,
                )
                .await?;
            Ok(Move::Created)
        }
    }
}

#[async_trait]
impl Webhook for CampaignStatusChange {
    const NAME: &'static str = "cloudtalk-campaign-status-change";
    const ROUTE: &'static str = "/api/cloudtalk-webhooks/campaign-status-change";
    const SENDER: Sender = Sender::CloudTalk;

    fn validate(&self, body: &Value) -> Result<(), BridgeError> {
        parse_campaign(body).map(|_| ())
    }

    async fn apply(
        &self,
        deps: &Deps,
        body: &Value,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let event = parse_campaign(body)?;
        let rules = deps
            .config
            .campaign_stage_map
            .as_ref()
            .map_err(|e| BridgeError::Config(e.clone()))?;
        let Some(target) = rules
            .target(event.campaign_name.as_deref(), &event.status)
            .cloned()
        else {
            let mut outcome = Outcome {
                result: "no_rule",
                ..Outcome::default()
            };
            outcome.details.insert("status".into(), json!(event.status));
            return Ok(outcome);
        };
        let tag = event
            .campaign_tag
            .clone()
            .or_else(|| event.campaign_name.clone());
        if !event.contact.is_identifiable() && tag.is_none() {
            return Err(BridgeError::missing_fields(
                "no contact and no campaign to find contacts by",
                &[
                    "contact_id",
                    "external_number",
                    "campaign_tag",
                    "campaign_name",
                ],
            ));
        }
        require_ghl(deps)?;
        let location = deps.location_for(None);
        let campaign = event
            .campaign_name
            .clone()
            .unwrap_or_else(|| "CloudTalk campaign".into());

        // The contacts to move: the one named, or the campaign's tagged contacts.
        let mut contacts: Vec<ContactRef> = Vec::new();
        let mut truncated = false;
        if event.contact.is_identifiable() {
            contacts.push(event.contact.clone());
        } else if let Some(tag) = &tag {
            if !deps.cloudtalk_configured() {
                return Err(BridgeError::Config(
                    "CLOUDTALK_API_KEY_ID and CLOUDTALK_API_KEY_SECRET are needed to find a campaign's contacts".into(),
                ));
            }
            let Some(tag_id) = deps.cloudtalk.find_tag(tag).await? else {
                return Err(BridgeError::Unprocessable {
                    message: format!("CloudTalk has no contact tag named \"{tag}\""),
                    missing: vec![],
                });
            };
            let mut page = 1;
            loop {
                let (rows, pages) = deps.cloudtalk.contacts_with_tag(&tag_id, page).await?;
                for row in rows {
                    if contacts.len() == MAX_CONTACTS_PER_EVENT {
                        truncated = true;
                        break;
                    }
                    contacts.push(ContactRef {
                        cloudtalk_id: Some(row.id),
                        phone: row.numbers.first().cloned(),
                        email: row.emails.first().cloned(),
                        name: row.name,
                    });
                }
                if truncated || page >= pages {
                    break;
                }
                if contacts.len() == MAX_CONTACTS_PER_EVENT {
                    truncated = true;
                    break;
                }
                page += 1;
            }
        }

        let (mut moved, mut unchanged, mut created, mut failed) = (0, 0, 0, 0);
        let mut ghl_ids = Vec::new();
        for (i, contact) in contacts.iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(PACE).await;
            }
            let step = format!("move:{i}");
            let result = match steps.get(&step).map(str::to_string) {
                // Moved by an earlier attempt of this event.
                Some(done) => Ok((done, Move::AlreadyThere)),
                None => {
                    let moved = async {
                        let mut contact_steps = Steps::untracked();
                        let resolved =
                            resolve_ghl_contact(deps, &location, contact, &mut contact_steps)
                                .await?;
                        let name = format!(
                            "{} - {}",
                            contact.name.as_deref().unwrap_or(resolved.ghl_id.as_str()),
                            campaign
                        );
                        let m = move_opportunity(deps, &location, &resolved.ghl_id, &target, &name)
                            .await?;
                        Ok::<_, BridgeError>((resolved.ghl_id, m))
                    }
                    .await;
                    if let Ok((id, _)) = &moved {
                        steps.record(&step, id).await?;
                    }
                    moved
                }
            };
            match result {
                Ok((id, m)) => {
                    ghl_ids.push(id);
                    match m {
                        Move::Moved => moved += 1,
                        Move::AlreadyThere => unchanged += 1,
                        Move::Created => created += 1,
                    }
                }
                // One contact's failure is the whole event's when it is the only contact.
                Err(e) if contacts.len() == 1 => return Err(e),
                Err(e) => {
                    failed += 1;
                    tracing::warn!(endpoint = Self::NAME, error = e.code(), detail = %e.public_message(), "campaign contact not moved");
                }
            }
        }
        let mut outcome = Outcome::applied();
        if ghl_ids.len() == 1 {
            outcome.ghl_contact_id = ghl_ids.first().cloned();
            outcome.cloudtalk_contact_id = contacts.first().and_then(|c| c.cloudtalk_id.clone());
        }
        outcome.details.insert(
            "opportunities".into(),
            json!({"moved": moved, "unchanged": unchanged, "created": created, "failed": failed, "truncated": truncated}),
        );
        outcome
            .details
            .insert("pipelineId".into(), json!(target.pipeline_id));
        outcome
            .details
            .insert("stageId".into(), json!(target.stage_id));
        Ok(outcome)
    }
}
