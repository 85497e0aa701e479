//! A lead import at the rate limit's pace. Agencies import lead lists into GHL; GHL then sends
//! one new-contact webhook per lead. One by one, each lead costs a CloudTalk search and a
//! create: 25 leads a minute on a 50-a-minute budget. So when leads come faster than the budget
//! drains them:
//! - a lead whose CloudTalk call is throttled waits in the import lane ([`lane`]), whose turns
//!   come ten leads per bulk request, so the leads of one turn reach one worker invocation
//!   together;
//! - the worker, given several new-contact events of one tenant, looks their numbers and emails
//!   up in the account's index ([`index`]: the contact list, 1,000 a request, instead of one
//!   search per lead) and creates the ones CloudTalk does not have through one
//!   `POST /bulk/contacts.json` of up to 10 commands ([`prepare`]), budgeted at what a bulk
//!   request was measured to cost ([`bulk_cost`]);
//! - then each lead's own event is applied as ever, under its own key: it finds the contact
//!   its step recorded (or the link) and links it, with no other CloudTalk request.
//!
//! Exactly once still holds per lead: each lead's key is claimed while its contact is made,
//! the contact is a step of that lead's event, and one contact per phone is guarded by the same
//! creation claims as a lone event's. A bulk command that fails is that lead's alone: its event
//! then creates its contact by itself, and is retried or parked on its own. A lead whose claim
//! the store fails takes another turn in the lane (an attempt used) rather than be applied
//! alone, which would cost a search and a bulk request for that one lead. A lone lead, with
//! the budget free, never waits for a batch.
//!
//! The contact list is read, when the import must read it, waiting for its token as a bulk
//! request does ([`crate::rate_limit::patient`]); refused all the same, the leads that needed
//! it come back at the turn the budget booked for it, together.

pub mod bulk_cost;
pub mod index;
pub mod lane;

use serde_json::Value;

use crate::clients::cloudtalk::{bulk_result, BulkCommand};
use crate::contact_map::{ContactLink, LinkOrigin};
use crate::deps::Deps;
use crate::idempotency::{Claim, Steps};
use crate::mapping::ghl_to_cloudtalk::{cloudtalk_contact, ghl_contact_url, reachable, Reachable};
use crate::payload::ghl::{is_dial_job, parse_new_contact, GhlContact};
use crate::registry::EndpointId;
use crate::resolve::cloudtalk_contact::{creation_key, CREATE_UNSURE_STEP};
use crate::retry_queue::QueuedEvent;

/// How long the import holds a lead's key while it makes the lead's contact.
const LEAD_LOCK_MS: i64 = 30_000;
/// How long it holds the right to create a contact (as a lone event does).
const CREATION_LOCK_MS: i64 = 20_000;
/// Commands in one bulk request (CloudTalk's most).
pub const BULK_COMMANDS: usize = 10;

/// A lead of the batch whose contact the import makes: its claimed event and what it knows.
struct Lead {
    contact: GhlContact,
    reach: Reachable,
    steps: Steps,
    owner: String,
    key: String,
}

/// What [`prepare`] did, for the worker's log line, and the leads it sends back to the lane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prepared {
    /// Leads whose contact was found in the account's index and linked.
    pub found: usize,
    /// Leads whose contact a bulk request created.
    pub created: usize,
    pub bulk_requests: usize,
    /// Leads (by event key) to queue again together rather than apply alone now: their bulk
    /// request had to wait or failed, or a create of theirs that may have been applied is too
    /// recent for the account's list to show it.
    pub later: std::collections::BTreeMap<String, Later>,
    /// The contact list read this time was refused (the budget's turn, why): the other leads
    /// waiting for it go back for as long, without asking again.
    list_refused: Option<(u64, String)>,
}

/// Why a lead goes back to the lane, and for how long at least.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Later {
    pub wait_secs: u64,
    pub reason: String,
    /// The failure uses one of the lead's attempts (a server error, no answer), unlike a wait.
    pub failed: bool,
}

/// How long after a create that may have been applied the account's contact list is trusted
/// to show it: longer than a request's timeout.
const SETTLE_MS: i64 = 30_000;

/// Whether a queued event is a lead the import can batch: a new contact (not a dial job).
pub fn is_lead(event: &QueuedEvent) -> bool {
    event.endpoint == EndpointId::GhlNewContact
        && serde_json::from_str::<Value>(&event.body).is_ok_and(|b| !is_dial_job(&b))
}

/// Makes the CloudTalk contacts of several leads of one tenant at once (see the module):
/// found in the index and linked, or created in bulk and recorded as each lead's `contact`
/// step. Whatever it cannot do is left to each lead's event; it never fails the batch.
pub async fn prepare(deps: &Deps, events: &[QueuedEvent]) -> Prepared {
    let mut done = Prepared::default();
    let mut leads = Vec::new();
    for event in events {
        match claim(deps, event).await {
            Ok(Some(lead)) => leads.push(lead),
            Ok(None) => {}
            // Applied alone now, it would cost a search and a bulk request of its own: it takes
            // another turn in the lane instead, with the leads of that turn (an attempt used).
            Err(reason) => {
                done.later.insert(event.key.clone(), store_failure(reason));
            }
        }
    }
    if leads.is_empty() {
        return done;
    }
    // What a bulk request costs, as another container may have measured it.
    bulk_cost::known(deps).await;
    // The list is read when it must be, waiting for its token as a bulk request would.
    let index = crate::rate_limit::patient(index::current(deps)).await;
    let mut index = match index {
        Ok(Some(index)) => index,
        other => {
            if let Err(e) = other {
                tracing::warn!(detail = %e, "import: the account's contacts could not be read");
            }
            for lead in &leads {
                release(deps, lead).await;
            }
            return done;
        }
    };
    let mut to_create = link_found(deps, &mut index, leads, &mut done).await;
    for chunk in to_create.chunks_mut(BULK_COMMANDS) {
        create(deps, chunk, &mut index, &mut done).await;
    }
    let account = crate::deps::cloudtalk_account(&deps.secrets.current());
    index::store(deps, &account, index);
    bulk_cost::keep(deps).await;
    done
}

/// A lead sent back to the lane because a store call of its failed.
fn store_failure(reason: String) -> Later {
    Later {
        wait_secs: 1,
        reason,
        failed: true,
    }
}

/// Claims a lead's event for the import, when it is one whose contact is still to be made;
/// `Err` (why) when the store failed.
async fn claim(deps: &Deps, event: &QueuedEvent) -> Result<Option<Lead>, String> {
    let Some(contact) = serde_json::from_str::<Value>(&event.body)
        .ok()
        .and_then(|body| parse_new_contact(&body).ok())
        .map(|parsed| parsed.contact)
    else {
        return Ok(None);
    };
    let region = deps.config.default_phone_region.as_deref();
    let reach = reachable(&contact, region);
    if reach.is_empty() {
        return Ok(None);
    }
    let now = deps.clock.now_ms();
    let claimed = deps
        .idempotency
        .claim(&event.key, now, now + LEAD_LOCK_MS)
        .await;
    let (steps, lease) = match claimed {
        Ok(Claim::Acquired { steps, lease }) => (steps, lease),
        Ok(_) => return Ok(None),
        Err(e) => return Err(format!("store_unavailable: {e}")),
    };
    let owner = lease.owner.clone();
    let steps = Steps::new(&event.key, steps, lease, deps.idempotency.clone());
    let lead = Lead {
        contact,
        reach,
        steps,
        owner,
        key: event.key.clone(),
    };
    let location = deps.location_for(lead.contact.location_id.as_deref());
    let linked = deps.contacts.find_by_ghl(&location, &lead.contact.id).await;
    let made = lead.steps.get(crate::resolve::CONTACT_STEP).is_some();
    if made || !matches!(linked, Ok(None)) {
        release(deps, &lead).await;
        return match linked {
            Err(e) if !made => Err(format!("store_unavailable: {e}")),
            _ => Ok(None),
        };
    }
    Ok(Some(lead))
}

async fn release(deps: &Deps, lead: &Lead) {
    if let Err(e) = deps.idempotency.release(&lead.key, &lead.owner).await {
        tracing::warn!(detail = %e, "import: a lead's claim could not be released; it expires");
    }
}

/// Links the leads whose contact the index knows; returns the others.
async fn link_found(
    deps: &Deps,
    index: &mut index::NumberIndex,
    leads: Vec<Lead>,
    done: &mut Prepared,
) -> Vec<Lead> {
    let mut left = Vec::new();
    for lead in leads {
        let Some(id) = index.find(&lead.reach) else {
            left.push(lead);
            continue;
        };
        let location = deps.location_for(lead.contact.location_id.as_deref());
        let link = ContactLink::new(&location, &lead.contact.id, &id, LinkOrigin::GoHighLevel);
        if deps.contacts.link(&link).await.is_ok() {
            done.found += 1;
        }
        release(deps, &lead).await;
    }
    left
}

/// Creates up to [`BULK_COMMANDS`] leads' contacts with one bulk request, each under its
/// creation claim; every lead of `chunk` is released at the end. When the request itself
/// fails or must wait, its leads go back to the lane together (`done.later`).
async fn create(
    deps: &Deps,
    chunk: &mut [Lead],
    index: &mut index::NumberIndex,
    done: &mut Prepared,
) {
    let mut claimed = Vec::new();
    for (i, lead) in chunk.iter_mut().enumerate() {
        match creation_claim(deps, lead).await {
            Creation::Claimed(key, owner) => claimed.push((i, (key, owner))),
            Creation::Unsure(key, owner, since) => {
                if settled(deps, lead, (&key, &owner, since), index, done).await {
                    claimed.push((i, (key, owner)));
                }
            }
            Creation::Not => {}
            Creation::Failed(reason) => {
                done.later.insert(lead.key.clone(), store_failure(reason));
            }
        }
    }
    let commands: Vec<BulkCommand> = claimed
        .iter()
        .map(|(i, _)| command(deps, &chunk[*i]))
        .collect();
    let answer = match commands.is_empty() {
        true => Ok(Vec::new()),
        false => deps.cloudtalk.bulk(&commands).await,
    };
    done.bulk_requests += usize::from(!commands.is_empty());
    match answer {
        Ok(results) => {
            for ((i, (key, owner)), command) in claimed.iter().zip(&commands) {
                let lead = &mut chunk[*i];
                let made = bulk_result(&results, &command.command_id)
                    .filter(|r| r.succeeded())
                    .and_then(|r| r.id.clone());
                settle(deps, lead, (key, owner), made.as_deref(), index).await;
                done.created += usize::from(made.is_some());
            }
        }
        Err(e) => {
            // The leads go back to the lane together. When the request may have been applied
            // (no answer, a server error), their claims say so and when: the contact list is
            // read again before they are created.
            tracing::warn!(detail = %e, "import: a bulk request failed; its leads wait for another turn");
            let unsure = e.may_have_applied();
            let at = deps.clock.now_ms().to_string();
            let wait_secs = e.retry_after_secs().unwrap_or(1);
            for (i, (key, owner)) in &claimed {
                if unsure {
                    let _ = deps
                        .idempotency
                        .record_step(key, owner, CREATE_UNSURE_STEP, &at)
                        .await;
                }
                let _ = deps.idempotency.release(key, owner).await;
                let later = Later {
                    wait_secs,
                    reason: e.to_string(),
                    failed: !e.is_a_wait(),
                };
                done.later.insert(chunk[*i].key.clone(), later);
            }
        }
    }
    for lead in chunk.iter() {
        release(deps, lead).await;
    }
}

/// What taking a lead's creation claim gave.
enum Creation {
    /// The right to create it: (claim key, owner).
    Claimed(String, String),
    /// The right, but an earlier create may have been applied at `since` (Unix ms): the
    /// contact list must be read after it has settled before creating.
    Unsure(String, String, i64),
    /// Another event holds it, or made the contact (its id is then the lead's `contact` step).
    Not,
    /// The store failed (why): the lead takes another turn in the lane.
    Failed(String),
}

async fn creation_claim(deps: &Deps, lead: &mut Lead) -> Creation {
    let location = deps.location_for(lead.contact.location_id.as_deref());
    let key = creation_key(&location, &lead.contact.id, &lead.reach, None);
    let now = deps.clock.now_ms();
    match deps
        .idempotency
        .claim(&key, now, now + CREATION_LOCK_MS)
        .await
    {
        Ok(Claim::Acquired { lease, steps }) => {
            let unsure = steps
                .get(CREATE_UNSURE_STEP)
                .map(|v| v.parse().unwrap_or(0));
            match (unsure, lease.takeover) {
                (Some(since), false) => Creation::Unsure(key, lease.owner, since),
                (unsure, true) => {
                    // An earlier creator died holding it: its request may yet be applied.
                    let since = unsure.unwrap_or(0).max(now);
                    let at = since.to_string();
                    let _ = deps
                        .idempotency
                        .record_step(&key, &lease.owner, CREATE_UNSURE_STEP, &at)
                        .await;
                    Creation::Unsure(key, lease.owner, since)
                }
                (None, false) => Creation::Claimed(key, lease.owner),
            }
        }
        Ok(Claim::Completed { response }) => {
            if let Some(id) = response.get("cloudtalkContactId").and_then(Value::as_str) {
                let _ = lead.steps.record(crate::resolve::CONTACT_STEP, id).await;
            }
            Creation::Not
        }
        Ok(_) => Creation::Not,
        Err(e) => Creation::Failed(format!("store_unavailable: {e}")),
    }
}

/// A lead whose earlier create may have been applied: found in a contact list read after it
/// settled, or the right to create it after all (`true`); else it is sent back to the lane
/// (`false`, with its claim released).
async fn settled(
    deps: &Deps,
    lead: &mut Lead,
    (key, owner, since): (&str, &str, i64),
    index: &mut index::NumberIndex,
    done: &mut Prepared,
) -> bool {
    let now = deps.clock.now_ms();
    let settled_at = since + SETTLE_MS;
    if now < settled_at {
        let wait_secs = u64::try_from(settled_at - now).unwrap_or(0).div_ceil(1000);
        let why = "an earlier create may yet show in CloudTalk";
        send_back(deps, lead, (key, owner), done, wait_secs, why).await;
        return false;
    }
    if index.built_ms < settled_at {
        if let Some((wait_secs, why)) = done.list_refused.clone() {
            send_back(deps, lead, (key, owner), done, wait_secs, &why).await;
            return false;
        }
        match crate::rate_limit::patient(index::fresh(deps)).await {
            Ok(Some(fresh)) => *index = fresh,
            other => {
                // Back at the turn the budget gave the read (booked: it comes then), not at
                // once: each early return would book another turn, further away.
                let (wait_secs, why) = match other {
                    Err(e) => (
                        e.retry_after_secs().unwrap_or(1).max(1),
                        format!("the contact list could not be read: {e}"),
                    ),
                    _ => (1, "the contact list is too large to read".to_string()),
                };
                done.list_refused = Some((wait_secs, why.clone()));
                send_back(deps, lead, (key, owner), done, wait_secs, &why).await;
                return false;
            }
        }
    }
    if let Some(id) = index.find(&lead.reach) {
        settle(deps, lead, (key, owner), Some(&id), index).await;
        done.found += 1;
        return false;
    }
    true
}

/// Releases a lead's creation claim (its steps kept) and sends the lead back to the lane.
async fn send_back(
    deps: &Deps,
    lead: &Lead,
    (key, owner): (&str, &str),
    done: &mut Prepared,
    wait_secs: u64,
    reason: &str,
) {
    let _ = deps.idempotency.release(key, owner).await;
    done.later.insert(
        lead.key.clone(),
        Later {
            wait_secs,
            reason: reason.to_string(),
            failed: false,
        },
    );
}

/// The bulk command that creates a lead's contact, as a lone event creates it.
fn command(deps: &Deps, lead: &Lead) -> BulkCommand {
    let location = deps.location_for(lead.contact.location_id.as_deref());
    let link_back = ghl_contact_url(&deps.config.ghl_app_base, &location, &lead.contact.id);
    let input = cloudtalk_contact(
        &lead.contact,
        &lead.reach,
        &lead.contact.tags,
        Some(link_back),
    );
    BulkCommand {
        action: "add_contact",
        command_id: format!("ghl_contact_{}_{}", lead.contact.id, deps.clock.now_secs()),
        data: serde_json::to_value(&input).unwrap_or_default(),
    }
}

/// After the bulk request: a created contact becomes the lead's `contact` step and completes
/// its creation claim; a failed command releases the claim, and the lead's event creates the
/// contact by itself (its failure, if any, is that lead's alone).
async fn settle(
    deps: &Deps,
    lead: &mut Lead,
    (key, owner): (&str, &str),
    made: Option<&str>,
    index: &mut index::NumberIndex,
) {
    let Some(id) = made else {
        let _ = deps.idempotency.release(key, owner).await;
        return;
    };
    let recorded = lead.steps.record(crate::resolve::CONTACT_STEP, id).await;
    let answer = serde_json::json!({ "cloudtalkContactId": id });
    let keep = deps.clock.now_secs() + crate::resolve::cloudtalk_contact::CREATION_CLAIM_KEEP_SECS;
    let completed = deps.idempotency.complete(key, owner, &answer, keep).await;
    if let Err(e) = recorded
        .map_err(|e| e.to_string())
        .and(completed.map_err(|e| e.to_string()))
    {
        tracing::warn!(detail = %e, "import: a created contact could not be recorded");
    }
    index.learn(&lead.reach, id);
}
