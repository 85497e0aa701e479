//! The GHL contacts pass: contacts updated since the checkpoint (`POST /contacts/search`,
//! sorted by `dateUpdated`, paged with `searchAfter`).
//!
//! - A contact new to the map is found or created in CloudTalk and linked, as a new-contact
//!   webhook would do (the same resolution, with its creation claim).
//! - For a linked contact, the tags added in GHL since the last sync are appended. The tags last
//!   synced are kept per link (`synced-tags#<location>#<ghlId>`), so additions are derived and
//!   no tag is ever removed. A link never synced before gets all its tags appended once
//!   (appending a tag CloudTalk has changes nothing).
//!
//! The checkpoint (the `dateUpdated` of the last contact of the last page applied in full)
//! moves after each page.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{PassSummary, Settings};
use crate::clients::ghl::{ContactQuery, SearchedContact};
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::payload::ghl::GhlContact;
use crate::registry::EndpointId;
use crate::resolve::{heal_stale_link, resolve_cloudtalk_contact, FoundBy};

/// Contacts a page.
pub const PAGE_LIMIT: u32 = 100;

/// Where the contacts pass is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsCheckpoint {
    /// `dateUpdated` (epoch ms) of the last contact applied.
    pub updated_until_ms: Option<i64>,
    pub caught_up_at_ms: Option<i64>,
}

/// The contacts checkpoint of a location.
pub fn checkpoint_name(location: &str) -> String {
    format!("reconcile#contacts#{location}")
}

fn synced_tags_name(location: &str, ghl_id: &str) -> String {
    format!("synced-tags#{location}#{ghl_id}")
}

/// `tags` not in `synced`, compared without regard to case.
pub fn added_tags(tags: &[String], synced: &[String]) -> Vec<String> {
    tags.iter()
        .filter(|t| !synced.iter().any(|s| s.eq_ignore_ascii_case(t)))
        .cloned()
        .collect()
}

fn as_ghl_contact(found: &SearchedContact, location: &str) -> GhlContact {
    let r = &found.record;
    GhlContact {
        id: r.id.clone(),
        location_id: Some(location.to_string()),
        name: r.name.clone(),
        phones: r.phones.clone(),
        emails: r.emails.clone(),
        tags: r.tags.clone(),
        company: r.company.clone(),
        ..GhlContact::default()
    }
}

fn updated_ms(found: &SearchedContact) -> Option<i64> {
    let text = found.date_updated.as_deref()?;
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
        .or_else(|| text.parse().ok())
}

/// Runs the pass; the summary says how far it got.
pub async fn run(deps: &Deps, settings: &Settings, now_ms: i64) -> PassSummary {
    let mut summary = PassSummary::new("contacts");
    if !deps.cloudtalk_configured() || !deps.ghl_configured() {
        return summary.skipped("the CloudTalk key and the GHL token are both needed");
    }
    let location = deps.location_for(None);
    let name = checkpoint_name(&location);
    let mut checkpoint: ContactsCheckpoint = match super::load(deps, &name).await {
        Ok(c) => c,
        Err(e) => return summary.stopped(e),
    };
    let since = checkpoint
        .updated_until_ms
        .map(|until| until - settings.overlap_ms)
        .unwrap_or(now_ms - settings.lookback_ms);
    let since = match settings.ghl_dates_as_epoch_ms {
        true => json!(since),
        false => json!(super::company_time::rfc3339(since)),
    };
    let mut query = ContactQuery {
        location_id: &location,
        updated_since: Some(since),
        search_after: None,
        limit: PAGE_LIMIT,
    };
    loop {
        if let Err(why) = super::check_time() {
            return summary
                .stopped(why)
                .lagging(checkpoint.caught_up_at_ms, now_ms);
        }
        let page = match deps.ghl.search_contacts(&query).await {
            Ok(page) => page,
            Err(e) => {
                let why = format!("searching GHL contacts: {e}");
                return summary
                    .stopped(why)
                    .lagging(checkpoint.caught_up_at_ms, now_ms);
            }
        };
        for found in &page {
            if let Err(why) = reconcile_one(deps, &location, found, &mut summary).await {
                return summary
                    .stopped(why)
                    .lagging(checkpoint.caught_up_at_ms, now_ms);
            }
        }
        let last = page.last();
        if let Some(until) = last.and_then(updated_ms) {
            checkpoint.updated_until_ms =
                Some(until.max(checkpoint.updated_until_ms.unwrap_or(until)));
        }
        let full = page.len() as u32 >= PAGE_LIMIT;
        let cursor = last.and_then(|c| c.search_after.clone());
        if !full || cursor.is_none() {
            checkpoint.caught_up_at_ms = Some(now_ms);
        }
        if let Err(e) = super::save(deps, &name, &checkpoint).await {
            return summary
                .stopped(e)
                .lagging(checkpoint.caught_up_at_ms, now_ms);
        }
        match cursor.filter(|_| full) {
            Some(cursor) => query.search_after = Some(cursor),
            None => return summary.lagging(checkpoint.caught_up_at_ms, now_ms),
        }
    }
}

/// Applies one searched contact and counts it; `Err` says why the pass must stop here (the
/// next run reads this contact again).
async fn reconcile_one(
    deps: &Deps,
    location: &str,
    found: &SearchedContact,
    summary: &mut PassSummary,
) -> Result<(), String> {
    summary.scanned += 1;
    let e = match sync_contact(deps, location, found).await {
        Ok(true) => {
            summary.applied += 1;
            return Ok(());
        }
        Ok(false) => {
            summary.already_applied += 1;
            return Ok(());
        }
        Err(e) if e.is_retryable() => {
            return Err(format!(
                "contact {}: {}",
                found.record.id,
                e.public_message()
            ))
        }
        Err(e) => e,
    };
    // Refused for good: parked with its reason, like every accepted event, as the new-contact
    // event it amounts to (a redrive applies it through that endpoint's handler).
    let body = new_contact_body(found, location);
    let endpoint = EndpointId::GhlNewContact;
    let key = crate::idempotency::key_of(deps.config.tenant_id.as_deref(), endpoint, &body);
    tracing::warn!(ghl_contact_id = %found.record.id, error = e.code(), detail = %e.public_message(), "reconcile: contact refused; parked");
    match super::park(deps, endpoint, &body, &key, e).await {
        super::Applied::Parked => {
            summary.failed += 1;
            Ok(())
        }
        // Not even parked.
        other => Err(format!("contact {}: {other:?}", found.record.id)),
    }
}

/// The GHL new-contact event a searched contact amounts to (what a refused contact is parked
/// as).
fn new_contact_body(found: &SearchedContact, location: &str) -> serde_json::Value {
    let record = &found.record;
    let mut contact = json!({"id": record.id, "locationId": location, "tags": record.tags});
    if let Some(name) = &record.name {
        contact["name"] = json!(name);
    }
    if let Some((first, rest)) = record.phones.split_first() {
        contact["phone"] = json!(first);
        contact["additionalPhones"] = json!(rest);
    }
    if let Some((first, rest)) = record.emails.split_first() {
        contact["email"] = json!(first);
        contact["additionalEmails"] = json!(rest);
    }
    if let Some(company) = &record.company {
        contact["companyName"] = json!(company);
    }
    json!({ "contact": contact })
}

/// Links a contact new to the map, or appends its new tags: whether anything was written.
async fn sync_contact(
    deps: &Deps,
    location: &str,
    found: &SearchedContact,
) -> Result<bool, BridgeError> {
    let contact = as_ghl_contact(found, location);
    let tags_name = synced_tags_name(location, &contact.id);
    let synced: Option<Vec<String>> = deps
        .state
        .get_value(&tags_name)
        .await?
        .and_then(|t| serde_json::from_str(&t).ok());
    let mut steps = Steps::untracked();
    let wrote = loop {
        let linked_before = deps.contacts.find_by_ghl(location, &contact.id).await?;
        let resolved =
            resolve_cloudtalk_contact(deps, location, &contact, &contact.tags, &mut steps).await?;
        let new_link = linked_before.is_none();
        let added = match (&synced, resolved.created_with_tags) {
            (_, true) => Vec::new(),
            (Some(synced), false) => added_tags(&contact.tags, synced),
            (None, false) => contact.tags.clone(),
        };
        if added.is_empty() {
            break new_link || resolved.found_by == FoundBy::Created;
        }
        match deps
            .cloudtalk
            .add_tags(&resolved.cloudtalk_id, &added)
            .await
        {
            Ok(()) => break true,
            Err(e) => {
                let e = BridgeError::from(e);
                // The linked contact is gone: healed once, then synced to its replacement.
                if !heal_stale_link(deps, &mut steps, &e).await? {
                    return Err(e);
                }
            }
        }
    };
    let text = serde_json::to_string(&contact.tags).unwrap_or_default();
    deps.state.put_value(&tags_name, &text).await?;
    Ok(wrote)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_additions_are_derived_and_nothing_is_removed() {
        let s = |v: &[&str]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        let synced = s(&["lead", "VIP"]);
        assert_eq!(
            added_tags(&s(&["lead", "vip", "webinar"]), &synced),
            s(&["webinar"])
        );
        // A tag removed in GHL is not removed anywhere: it is simply not added.
        assert!(added_tags(&s(&["lead"]), &synced).is_empty());
        assert_eq!(added_tags(&s(&["a"]), &[]), s(&["a"]));
    }
}
