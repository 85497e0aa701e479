//! `POST /api/ghl-webhooks/dnd-change` (and GHL's Marketplace `ContactDndUpdate` on the app's
//! URL): a contact's Do Not Disturb changed in GHL → CloudTalk's blacklist for outgoing calls
//! follows it, so that agents cannot dial an opted-out contact from CloudTalk's own app either.
//!
//! The event only says which contact to look at: what GHL holds **now** decides (the contact
//! read with the tenant's token, in the tenant's location), so late or reordered deliveries
//! converge on GHL's state. With calls barred (`dnd`, or `dndSettings.Call` active or
//! permanent) each of the contact's numbers gets an `outgoing` entry unless one already bars
//! it; lifted, the entries the bridge added for the contact are removed, never one it did not
//! add (the bridge's own are kept per contact in the state table,
//! `value#dnd-blacklist#<location>#<contact>`, entry ids only).
//!
//! Each number is a step: its intent recorded before the write, so that an addition whose
//! answer was lost is found again on the blacklist and known as the bridge's own.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Value;

use crate::clients::ContactRecord;
use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::handlers::require_cloudtalk;
use crate::idempotency::Steps;
use crate::payload::ghl::{parse_contact, GhlContact};
use crate::payload::PayloadError;
use crate::phone::to_e164;

pub struct DndChange;

/// The state value naming the blacklist entries the bridge added for a contact.
pub fn owned_entries_name(location: &str, contact: &str) -> String {
    format!("dnd-blacklist#{location}#{contact}")
}

/// Entry id → the number's hash (never the number).
type Owned = BTreeMap<String, String>;

async fn owned(deps: &Deps, name: &str) -> Result<Owned, BridgeError> {
    let text = deps.state.get_value(name).await?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

async fn save_owned(deps: &Deps, name: &str, entries: &Owned) -> Result<(), BridgeError> {
    let text = serde_json::to_string(entries).unwrap_or_else(|_| "{}".into());
    deps.state.put_value(name, &text).await?;
    Ok(())
}

fn number_hash(e164: &str) -> String {
    let digest = crate::digest::sha256(e164.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl Handler for DndChange {
    type Event = GhlContact;

    fn parse(&self, body: &Value) -> Result<GhlContact, PayloadError> {
        parse_contact(body)
    }

    async fn apply(
        &self,
        deps: &Deps,
        contact: &GhlContact,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        require_cloudtalk(deps)?;
        let location = deps.location_for(contact.location_id.as_deref());
        let mut outcome = Outcome::with_result("applied");
        outcome.ghl_contact_id = Some(contact.id.clone());
        let record = match deps.ghl.get_contact(&contact.id).await {
            Ok(record) => record,
            Err(e) if e.is_not_found() => return Ok(with_result(outcome, "not_in_ghl")),
            Err(e) => return Err(e.into()),
        };
        let known = location != "default";
        if known && record.location_id.as_deref() != Some(location.as_str()) {
            return Ok(with_result(outcome, "other_location"));
        }
        let name = owned_entries_name(&location, &record.id);
        match record.consent.refuses_calls() {
            Some(_) => {
                let added = bar(deps, &record, &name, steps).await?;
                Ok(outcome.detail("callDnd", true).detail("blacklisted", added))
            }
            None => {
                let removed = lift(deps, &name).await?;
                Ok(outcome
                    .detail("callDnd", false)
                    .detail("unblacklisted", removed))
            }
        }
    }
}

fn with_result(mut outcome: Outcome, result: &'static str) -> Outcome {
    outcome.result = result;
    outcome
}

/// Bars each of the contact's numbers from outgoing calls: how many entries the bridge added.
async fn bar(
    deps: &Deps,
    record: &ContactRecord,
    name: &str,
    steps: &mut Steps,
) -> Result<usize, BridgeError> {
    let region = deps.config.default_phone_region.as_deref();
    let mut numbers: Vec<String> = record
        .phones
        .iter()
        .filter_map(|p| to_e164(p, region).ok())
        .collect();
    numbers.dedup();
    let mut added = 0;
    for number in numbers {
        if bar_number(deps, &number, name, steps).await? {
            added += 1;
        }
    }
    Ok(added)
}

/// One number (step `blacklist:<hash>`): whether the bridge added its entry.
async fn bar_number(
    deps: &Deps,
    number: &str,
    name: &str,
    steps: &mut Steps,
) -> Result<bool, BridgeError> {
    let hash = number_hash(number);
    let step = format!("blacklist:{hash}");
    if let Some(done) = steps.get(&step) {
        return Ok(done != "present");
    }
    let intent = format!("{step}?");
    let existing = deps.cloudtalk.blacklist_of(number).await?;
    let barring = existing.iter().find(|e| e.blocks_outgoing());
    let id = match (barring, steps.get(&intent).is_some()) {
        // Already barred, and not by an earlier try of this event: not the bridge's.
        (Some(_), false) => {
            steps.record(&step, "present").await?;
            return Ok(false);
        }
        // An earlier try's addition whose answer was lost: the bridge's own.
        (Some(entry), true) => entry.id.clone(),
        (None, _) => {
            steps.record(&intent, "sent").await?;
            deps.cloudtalk.blacklist_outgoing(number).await?
        }
    };
    let mut entries = owned(deps, name).await?;
    entries.insert(id.clone(), hash);
    save_owned(deps, name, &entries).await?;
    steps.record(&step, &id).await?;
    Ok(true)
}

/// Removes the entries the bridge added for the contact: how many.
async fn lift(deps: &Deps, name: &str) -> Result<usize, BridgeError> {
    let mut entries = owned(deps, name).await?;
    let ids: Vec<String> = entries.keys().cloned().collect();
    for id in &ids {
        deps.cloudtalk.remove_blacklist_entry(id).await?;
        entries.remove(id);
        save_owned(deps, name, &entries).await?;
    }
    Ok(ids.len())
}
