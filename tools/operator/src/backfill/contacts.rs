//! Both sides read in full, page by page, through the bridge's real clients (and so through
//! the shared request budget), and normalised for matching: phones in E.164 with
//! `DEFAULT_PHONE_REGION`, emails trimmed and lower-cased.
//!
//! GoHighLevel: `POST /contacts/search` sorted by `dateUpdated`, paged with the last
//! contact's `searchAfter`. CloudTalk: `GET /contacts/index.json` page by page (its list rows
//! carry a contact's first number and email only). A contact met twice (changed while the
//! pages were read) is kept once, as last seen.

use std::collections::HashMap;

use bridge::clients::cloudtalk::CloudTalkContact;
use bridge::clients::ghl::ContactQuery;
use bridge::clients::ContactRecord;
use bridge::mapping::ghl_to_cloudtalk::{reachable, Reachable};
use bridge::payload::ghl::GhlContact;
use bridge::Deps;

use super::patience::Patience;
use super::progress::{Phase, Progress};
use super::BackfillError;

/// A contact of either side, with what it is matched by.
#[derive(Debug, Clone, PartialEq)]
pub struct Known {
    pub record: ContactRecord,
    /// E.164 phones and lower-cased emails, in order, without duplicates; and what could not be
    /// read (masked).
    pub reach: Reachable,
}

impl Known {
    pub fn new(record: ContactRecord, region: Option<&str>) -> Self {
        let reach = reachable(&as_ghl_contact(&record), region);
        Self { record, reach }
    }

    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// The contact in the shape the bridge's mapping functions take.
    pub fn as_ghl_contact(&self) -> GhlContact {
        as_ghl_contact(&self.record)
    }
}

fn as_ghl_contact(record: &ContactRecord) -> GhlContact {
    GhlContact {
        id: record.id.clone(),
        name: record.name.clone(),
        phones: record.phones.clone(),
        emails: record.emails.clone(),
        tags: record.tags.clone(),
        company: record.company.clone(),
        ..GhlContact::default()
    }
}

/// Contacts by id, in the order first met, the last version of each kept.
#[derive(Default)]
struct Collected {
    order: Vec<String>,
    by_id: HashMap<String, ContactRecord>,
}

impl Collected {
    fn add(&mut self, record: ContactRecord) {
        if !self.by_id.contains_key(&record.id) {
            self.order.push(record.id.clone());
        }
        self.by_id.insert(record.id.clone(), record);
    }

    /// Normalised, sorted by id.
    fn finish(mut self, region: Option<&str>) -> Vec<Known> {
        self.order.sort();
        self.order
            .iter()
            .filter_map(|id| self.by_id.remove(id))
            .map(|record| Known::new(record, region))
            .collect()
    }
}

/// What a side's reading saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SideRead {
    pub pages: u32,
    pub contacts: usize,
}

/// Every GHL contact of the location.
pub async fn read_ghl(
    deps: &Deps,
    location: &str,
    page_size: u32,
    patience: &Patience,
    progress: &mut dyn Progress,
) -> Result<(Vec<Known>, SideRead), BackfillError> {
    progress.phase(Phase::ReadGhl, None);
    let mut collected = Collected::default();
    let mut read = SideRead::default();
    let mut cursor = None;
    loop {
        let query = ContactQuery {
            location_id: location,
            updated_since: None,
            search_after: cursor.clone(),
            limit: page_size,
        };
        let page = patience
            .call(|| deps.ghl.search_contacts(&query))
            .await
            .map_err(|e| BackfillError::upstream("reading GHL contacts", e))?;
        read.pages += 1;
        progress.advance(page.len() as u64);
        let full = page.len() >= page_size as usize;
        cursor = page.last().and_then(|c| c.search_after.clone());
        page.into_iter().for_each(|c| collected.add(c.record));
        if !full {
            break;
        }
        if cursor.is_none() {
            return Err(BackfillError::NoCursor);
        }
    }
    let contacts = collected.finish(deps.config.default_phone_region.as_deref());
    read.contacts = contacts.len();
    Ok((contacts, read))
}

/// Every CloudTalk contact.
pub async fn read_cloudtalk(
    deps: &Deps,
    page_size: u32,
    patience: &Patience,
    progress: &mut dyn Progress,
) -> Result<(Vec<Known>, SideRead), BackfillError> {
    progress.phase(Phase::ReadCloudTalk, None);
    let mut collected = Collected::default();
    let mut read = SideRead::default();
    let mut page_number = 1;
    loop {
        let page = patience
            .call(|| deps.cloudtalk.list_contacts(page_number, page_size))
            .await
            .map_err(|e| BackfillError::upstream("reading CloudTalk contacts", e))?;
        read.pages += 1;
        progress.advance(page.items.len() as u64);
        let more = page.has_more() && !page.items.is_empty();
        page.items
            .into_iter()
            .for_each(|c: CloudTalkContact| collected.add(c));
        if !more {
            break;
        }
        page_number += 1;
    }
    let contacts = collected.finish(deps.config.default_phone_region.as_deref());
    read.contacts = contacts.len();
    Ok((contacts, read))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, phones: &[&str], emails: &[&str]) -> ContactRecord {
        ContactRecord {
            id: id.into(),
            phones: phones.iter().map(|p| p.to_string()).collect(),
            emails: emails.iter().map(|e| e.to_string()).collect(),
            ..ContactRecord::default()
        }
    }

    #[test]
    fn contacts_are_normalised_and_the_unreadable_named_masked() {
        let known = Known::new(
            record(
                "g1",
                &["350 123 4567", "+39 350 123 4567", "12"],
                &[" Mario@Example.COM "],
            ),
            Some("IT"),
        );
        assert_eq!(known.reach.phones, vec!["+393501234567"]);
        assert_eq!(known.reach.emails, vec!["mario@example.com"]);
        assert_eq!(known.reach.skipped, vec!["phone …12"]);
    }

    #[test]
    fn a_contact_met_twice_is_kept_once_as_last_seen_and_all_sorted_by_id() {
        let mut collected = Collected::default();
        collected.add(record("b", &[], &["old@example.com"]));
        collected.add(record("a", &[], &[]));
        collected.add(record("b", &[], &["new@example.com"]));
        let known = collected.finish(None);
        let ids: Vec<&str> = known.iter().map(Known::id).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(known[1].reach.emails, vec!["new@example.com"]);
    }
}
