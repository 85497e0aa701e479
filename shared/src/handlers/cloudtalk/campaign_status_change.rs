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
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::handlers::require_ghl;
use crate::idempotency::Steps;
use crate::payload::cloudtalk::{parse_campaign, CampaignEvent, ContactRef};
use crate::payload::PayloadError;
use crate::registry::EndpointId;
use crate::resolve::resolve_ghl_contact;

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

/// The contacts a campaign event is about: the one it names, or (up to
/// [`MAX_CONTACTS_PER_EVENT`]) those carrying the campaign's tag; and whether there were more.
async fn campaign_contacts(
    deps: &Deps,
    event: &CampaignEvent,
    tag: Option<&str>,
) -> Result<(Vec<ContactRef>, bool), BridgeError> {
    if event.contact.is_identifiable() {
        return Ok((vec![event.contact.clone()], false));
    }
    let Some(tag) = tag else {
        return Ok((vec![], false));
    };
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
    let mut contacts: Vec<ContactRef> = Vec::new();
    let mut page = 1;
    loop {
        let (rows, pages) = deps.cloudtalk.contacts_with_tag(&tag_id, page).await?;
        for row in rows {
            if contacts.len() == MAX_CONTACTS_PER_EVENT {
                return Ok((contacts, true));
            }
            contacts.push(ContactRef {
                cloudtalk_id: Some(row.id),
                phone: row.phones.first().cloned(),
                email: row.emails.first().cloned(),
                name: row.name,
            });
        }
        if page >= pages {
            return Ok((contacts, false));
        }
        if contacts.len() == MAX_CONTACTS_PER_EVENT {
            return Ok((contacts, true));
        }
        page += 1;
    }
}

/// Moves one contact's opportunity: its GHL contact, and what the move did.
async fn move_contact(
    deps: &Deps,
    location: &str,
    contact: &ContactRef,
    target: &StageTarget,
    campaign: &str,
) -> Result<(String, Move), BridgeError> {
    let mut contact_steps = Steps::untracked();
    let resolved = resolve_ghl_contact(deps, location, contact, &mut contact_steps).await?;
    let who = contact.name.as_deref().unwrap_or(resolved.ghl_id.as_str());
    let name = format!("{who} - {campaign}");
    let moved = move_opportunity(deps, location, &resolved.ghl_id, target, &name).await?;
    Ok((resolved.ghl_id, moved))
}

/// How the contacts' opportunities fared.
#[derive(Debug, Default)]
struct Tally {
    moved: u32,
    unchanged: u32,
    created: u32,
    failed: u32,
    ghl_ids: Vec<String>,
}

impl Tally {
    fn count(&mut self, ghl_id: String, m: Move) {
        self.ghl_ids.push(ghl_id);
        match m {
            Move::Moved => self.moved += 1,
            Move::AlreadyThere => self.unchanged += 1,
            Move::Created => self.created += 1,
        }
    }
}

/// Moves every contact in turn, pausing between them; each move is a recorded step. One
/// contact's failure fails the event only when it is the event's only contact.
async fn move_all(
    deps: &Deps,
    contacts: &[ContactRef],
    target: &StageTarget,
    campaign: &str,
    steps: &mut Steps,
) -> Result<Tally, BridgeError> {
    let location = deps.location_for(None);
    let mut tally = Tally::default();
    for (i, contact) in contacts.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(PACE).await;
        }
        let step = format!("move:{i}");
        if let Some(done) = steps.get(&step) {
            // Moved by an earlier attempt of this event.
            tally.count(done.to_string(), Move::AlreadyThere);
            continue;
        }
        match move_contact(deps, &location, contact, target, campaign).await {
            Ok((id, m)) => {
                steps.record(&step, &id).await?;
                tally.count(id, m);
            }
            Err(e) if contacts.len() == 1 => return Err(e),
            Err(e) => {
                tally.failed += 1;
                tracing::warn!(endpoint = %EndpointId::CloudtalkCampaignStatusChange, error = e.code(), detail = %e.public_message(), "campaign contact not moved");
            }
        }
    }
    Ok(tally)
}

#[async_trait]
impl Handler for CampaignStatusChange {
    type Event = CampaignEvent;

    fn parse(&self, body: &Value) -> Result<CampaignEvent, PayloadError> {
        parse_campaign(body)
    }

    async fn apply(
        &self,
        deps: &Deps,
        event: &CampaignEvent,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let rules = deps
            .config
            .campaign_stage_map
            .as_ref()
            .map_err(|e| BridgeError::Config(e.clone()))?;
        let Some(target) = rules.target(event.campaign_name.as_deref(), &event.status) else {
            return Ok(Outcome::with_result("no_rule").detail("status", &event.status));
        };
        let tag = event
            .campaign_tag
            .as_deref()
            .or(event.campaign_name.as_deref());
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
        let campaign = event
            .campaign_name
            .as_deref()
            .unwrap_or("CloudTalk campaign");
        let (contacts, truncated) = campaign_contacts(deps, event, tag).await?;
        let tally = move_all(deps, &contacts, target, campaign, steps).await?;
        let mut outcome = Outcome::applied();
        if tally.ghl_ids.len() == 1 {
            outcome.ghl_contact_id = tally.ghl_ids.first().cloned();
            outcome.cloudtalk_contact_id = contacts.first().and_then(|c| c.cloudtalk_id.clone());
        }
        let Tally {
            moved,
            unchanged,
            created,
            failed,
            ..
        } = tally;
        Ok(outcome
            .detail(
                "opportunities",
                json!({"moved": moved, "unchanged": unchanged, "created": created, "failed": failed, "truncated": truncated}),
            )
            .detail("pipelineId", &target.pipeline_id)
            .detail("stageId", &target.stage_id))
    }
}
