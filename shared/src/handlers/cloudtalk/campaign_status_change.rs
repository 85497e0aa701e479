//! `POST /api/cloudtalk-webhooks/campaign-status-change`: a campaign's status changed → move
//! the affected contacts' opportunity to the GHL pipeline stage that `CAMPAIGN_STAGE_MAP`
//! gives for that status (optionally per campaign name), creating the opportunity when the
//! contact has none in that pipeline.
//!
//! When the payload names a contact, only that contact moves. When it names only a campaign,
//! its contacts are found the way CloudTalk campaigns select them, by contact tag: the tag is
//! `campaign_tag` from the payload, else the campaign's name; the bridge looks the tag up
//! (`/tags/index.json`) and counts the pages of `/contacts/index.json?tag_id=…`. Campaigns
//! of any size: each page becomes its own queued event (with its own idempotency key) that the
//! retry worker applies contact by contact, each move a recorded step, paced by the shared
//! budget; the answer says how many pages and contacts were queued. Without a retry queue (a
//! local run) the pages are moved in the request, as far as its deadline allows.

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
use crate::resolve::{heal_stale_link, resolve_ghl_contact};
use crate::retry_queue::QueuedEvent;

/// The body key that marks a queued page of a campaign (set by the bridge, never by a sender's
/// meaning; a sender that sets it only asks for one page of its own campaign).
const PAGE_KEY: &str = "_bridge_page";

pub struct CampaignStatusChange;

/// What a campaign event asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignWork {
    pub event: CampaignEvent,
    /// The original body, copied into the queued pages.
    pub body: Value,
    /// A queued page: the tag's id and the page number.
    pub page: Option<(String, u32)>,
}

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

/// A CloudTalk contact row as the contact a move is about.
fn contact_of(row: crate::clients::ContactRecord) -> ContactRef {
    ContactRef {
        cloudtalk_id: Some(row.id),
        phone: row.phones.first().cloned(),
        email: row.emails.first().cloned(),
        name: row.name,
    }
}

/// Moves one contact's opportunity: its GHL contact, what the move did, and whether its stale
/// link was healed on the way (the linked GHL contact was gone).
async fn move_contact(
    deps: &Deps,
    location: &str,
    contact: &ContactRef,
    target: &StageTarget,
    campaign: &str,
) -> Result<(String, Move, u32), BridgeError> {
    let mut contact_steps = Steps::untracked();
    loop {
        let resolved =
            resolve_ghl_contact(deps, location, contact, None, &mut contact_steps).await?;
        let who = contact.name.as_deref().unwrap_or(resolved.ghl_id.as_str());
        let name = format!("{who} - {campaign}");
        match move_opportunity(deps, location, &resolved.ghl_id, target, &name).await {
            Ok(moved) => return Ok((resolved.ghl_id, moved, contact_steps.relinked())),
            // Healed at most once, so this loops at most twice.
            Err(e) if heal_stale_link(deps, &mut contact_steps, &e).await? => continue,
            Err(e) => return Err(e),
        }
    }
}

/// How the contacts' opportunities fared.
#[derive(Debug, Default)]
struct Tally {
    moved: u32,
    unchanged: u32,
    created: u32,
    failed: u32,
    relinked: u32,
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

    fn add(&mut self, other: Tally) {
        self.moved += other.moved;
        self.unchanged += other.unchanged;
        self.created += other.created;
        self.failed += other.failed;
        self.relinked += other.relinked;
        self.ghl_ids.extend(other.ghl_ids);
    }

    fn json(&self, extra: Value) -> Value {
        let mut counts = json!({"moved": self.moved, "unchanged": self.unchanged,
            "created": self.created, "failed": self.failed});
        if let (Some(counts), Value::Object(extra)) = (counts.as_object_mut(), extra) {
            counts.extend(extra);
        }
        counts
    }
}

/// Moves every contact in turn; each move is a recorded step (`<prefix>:<i>`), so a retried
/// page resumes where it stopped. A contact's failure fails the event only when it is the
/// event's only contact, or when it is a wait (the budget, the deadline): the page then
/// resumes later.
async fn move_all(
    deps: &Deps,
    contacts: &[ContactRef],
    target: &StageTarget,
    campaign: &str,
    prefix: &str,
    steps: &mut Steps,
) -> Result<Tally, BridgeError> {
    let location = deps.location_for(None);
    let mut tally = Tally::default();
    for (i, contact) in contacts.iter().enumerate() {
        let step = format!("{prefix}:{i}");
        if let Some(done) = steps.get(&step) {
            // Moved by an earlier attempt of this event.
            tally.count(done.to_string(), Move::AlreadyThere);
            continue;
        }
        match move_contact(deps, &location, contact, target, campaign).await {
            Ok((id, m, relinked)) => {
                steps.record(&step, &id).await?;
                tally.count(id, m);
                tally.relinked += relinked;
            }
            Err(e) if contacts.len() == 1 || !e.uses_an_attempt() => return Err(e),
            Err(e) => {
                tally.failed += 1;
                tracing::warn!(endpoint = %EndpointId::CloudtalkCampaignStatusChange, error = e.code(), detail = %e.public_message(), "campaign contact not moved");
            }
        }
    }
    Ok(tally)
}

/// The tag's id, or 422 when CloudTalk has no such tag.
async fn tag_id(deps: &Deps, tag: &str) -> Result<String, BridgeError> {
    if !deps.cloudtalk_configured() {
        return Err(BridgeError::Config(
            "CLOUDTALK_API_KEY_ID and CLOUDTALK_API_KEY_SECRET are needed to find a campaign's contacts".into(),
        ));
    }
    deps.cloudtalk
        .find_tag(tag)
        .await?
        .ok_or_else(|| BridgeError::Unprocessable {
            message: format!("CloudTalk has no contact tag named \"{tag}\""),
            missing: vec![],
        })
}

/// Moves the contacts of one page of the tag.
async fn move_page(
    deps: &Deps,
    work: &CampaignWork,
    target: &StageTarget,
    tag_id: &str,
    page: u32,
    steps: &mut Steps,
) -> Result<Tally, BridgeError> {
    let campaign = work
        .event
        .campaign_name
        .as_deref()
        .unwrap_or("CloudTalk campaign");
    let (rows, _) = deps.cloudtalk.contacts_with_tag(tag_id, page).await?;
    let contacts: Vec<ContactRef> = rows.into_iter().map(contact_of).collect();
    move_all(
        deps,
        &contacts,
        target,
        campaign,
        &format!("move:{page}"),
        steps,
    )
    .await
}

/// The queued event of one page of a campaign: the original body with the page marked.
fn page_event(deps: &Deps, work: &CampaignWork, tag_id: &str, page: u32) -> QueuedEvent {
    let mut body = work.body.clone();
    body[PAGE_KEY] = json!({ "tagId": tag_id, "page": page });
    deps.own_event(EndpointId::CloudtalkCampaignStatusChange, &body)
}

/// Queues every page of the tag as its own event (once per event: the `fanout` step), or,
/// without a retry queue, moves them here.
async fn fan_out(
    deps: &Deps,
    work: &CampaignWork,
    target: &StageTarget,
    tag: &str,
    steps: &mut Steps,
) -> Result<Outcome, BridgeError> {
    let tag_id = tag_id(deps, tag).await?;
    let (rows, pages) = deps.cloudtalk.contacts_with_tag(&tag_id, 1).await?;
    let pages = pages.max(1);
    if deps.retry_queue.kind() == "none" {
        let mut tally = Tally::default();
        for page in 1..=pages {
            tally.add(move_page(deps, work, target, &tag_id, page, steps).await?);
        }
        return Ok(Outcome::applied().detail("opportunities", tally.json(json!({"pages": pages}))));
    }
    let queued = steps
        .run("fanout", || async {
            for page in 1..=pages {
                let event = page_event(deps, work, &tag_id, page);
                deps.retry_queue.enqueue(&event, 0).await?;
            }
            Ok(pages.to_string())
        })
        .await?;
    Ok(Outcome::with_result("queued")
        .detail("pagesQueued", queued.parse::<u32>().unwrap_or(pages))
        .detail("contactsOnFirstPage", rows.len()))
}

#[async_trait]
impl Handler for CampaignStatusChange {
    type Event = CampaignWork;

    fn parse(&self, body: &Value) -> Result<CampaignWork, PayloadError> {
        let event = parse_campaign(body)?;
        let page = body.get(PAGE_KEY).and_then(|p| {
            let tag_id = crate::payload::fields::find_id(p, &["tagId"])?;
            let page = p.get("page")?.as_u64()?;
            Some((tag_id, u32::try_from(page).ok()?.max(1)))
        });
        let named = event.contact.is_identifiable();
        let tag = event
            .campaign_tag
            .as_deref()
            .or(event.campaign_name.as_deref());
        if !named && tag.is_none() && page.is_none() {
            return Err(PayloadError::missing_fields(
                "no contact and no campaign to find contacts by",
                &[
                    "contact_id",
                    "external_number",
                    "campaign_tag",
                    "campaign_name",
                ],
            ));
        }
        Ok(CampaignWork {
            event,
            body: body.clone(),
            page,
        })
    }

    async fn apply(
        &self,
        deps: &Deps,
        work: &CampaignWork,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let event = &work.event;
        let rules = deps
            .config
            .campaign_stage_map
            .as_ref()
            .map_err(|e| BridgeError::Config(e.clone()))?;
        let Some(target) = rules.target(event.campaign_name.as_deref(), &event.status) else {
            return Ok(Outcome::with_result("no_rule").detail("status", &event.status));
        };
        require_ghl(deps)?;
        let campaign = event
            .campaign_name
            .as_deref()
            .unwrap_or("CloudTalk campaign");
        let tally = if let Some((tag_id, page)) = &work.page {
            move_page(deps, work, target, tag_id, *page, steps).await?
        } else if event.contact.is_identifiable() {
            let one = std::slice::from_ref(&event.contact);
            move_all(deps, one, target, campaign, "move", steps).await?
        } else {
            let tag = event
                .campaign_tag
                .as_deref()
                .or(event.campaign_name.as_deref());
            let outcome = fan_out(deps, work, target, tag.unwrap_or_default(), steps).await?;
            return Ok(outcome
                .detail("pipelineId", &target.pipeline_id)
                .detail("stageId", &target.stage_id));
        };
        let mut outcome = Outcome::applied();
        outcome.relinked = tally.relinked;
        if tally.ghl_ids.len() == 1 && work.page.is_none() {
            outcome.ghl_contact_id = tally.ghl_ids.first().cloned();
            outcome.cloudtalk_contact_id = event.contact.cloudtalk_id.clone();
        }
        Ok(outcome
            .detail("opportunities", tally.json(json!({})))
            .detail("pipelineId", &target.pipeline_id)
            .detail("stageId", &target.stage_id))
    }
}
