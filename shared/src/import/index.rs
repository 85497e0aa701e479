//! The account's numbers and emails, for the lookups of an import: CloudTalk's only contact
//! search is a keyword (one request per lead), but its contact list reads 1,000 contacts a
//! request. So for a batch of leads the bridge reads the whole list once (for an account of up
//! to [`MAX_PAGES`] thousand contacts) and matches every lead's E.164 numbers and emails in
//! memory, exactly as the keyword search's candidates are matched. The index is kept
//! [`KEEP_MS`] per container and learns the contacts the bridge itself creates; a larger
//! account is left to the one-request search of each lead.

use crate::deps::{cloudtalk_account, Deps};
use crate::error::BridgeError;
use crate::phone::to_e164;

pub use crate::number_index::{Indexes, NumberIndex};

/// The most pages (of 1,000 contacts) read for an index.
pub const MAX_PAGES: u32 = 20;
/// How long an index is used before it is read again.
pub const KEEP_MS: i64 = 10 * 60 * 1000;

/// The index of this tenant's account, read when missing or older than [`KEEP_MS`]; `None`
/// for an account too large to list.
pub async fn current(deps: &Deps) -> Result<Option<NumberIndex>, BridgeError> {
    let account = cloudtalk_account(&deps.secrets.current());
    let now = deps.clock.now_ms();
    let cached = deps
        .number_indexes
        .lock()
        .ok()
        .and_then(|all| all.get(&account).cloned())
        .filter(|i| now - i.built_ms < KEEP_MS);
    let index = match cached {
        Some(index) => index,
        None => {
            let index = read(deps, now).await?;
            store(deps, &account, index.clone());
            index
        }
    };
    Ok((!index.too_large).then_some(index))
}

/// Whether this container holds a current index of this tenant's account.
pub fn is_current(deps: &Deps) -> bool {
    let account = cloudtalk_account(&deps.secrets.current());
    let now = deps.clock.now_ms();
    deps.number_indexes
        .lock()
        .ok()
        .and_then(|all| {
            all.get(&account)
                .map(|i| now - i.built_ms < KEEP_MS && !i.too_large)
        })
        .unwrap_or(false)
}

/// The index of this tenant's account read now (kept for the next batches); `None` for an
/// account too large to list.
pub async fn fresh(deps: &Deps) -> Result<Option<NumberIndex>, BridgeError> {
    let account = cloudtalk_account(&deps.secrets.current());
    let index = read(deps, deps.clock.now_ms()).await?;
    store(deps, &account, index.clone());
    Ok((!index.too_large).then_some(index))
}

/// Keeps `index` as this account's.
pub fn store(deps: &Deps, account: &str, index: NumberIndex) {
    if let Ok(mut all) = deps.number_indexes.lock() {
        all.insert(account.to_string(), index);
    }
}

/// Reads the account's contact list, page by page.
async fn read(deps: &Deps, now: i64) -> Result<NumberIndex, BridgeError> {
    let region = deps.config.default_phone_region.as_deref();
    let mut index = NumberIndex {
        built_ms: now,
        ..NumberIndex::default()
    };
    let mut page = 1;
    loop {
        let listed = deps.cloudtalk.list_contacts(page, 1000).await?;
        if page == 1 && listed.page_count > MAX_PAGES {
            index.too_large = true;
            return Ok(index);
        }
        for contact in &listed.items {
            for phone in &contact.phones {
                if let Ok(e164) = to_e164(phone, region) {
                    index.numbers.entry(e164).or_insert(contact.id.clone());
                }
            }
            for email in &contact.emails {
                let email = email.trim().to_lowercase();
                index.emails.entry(email).or_insert(contact.id.clone());
            }
        }
        if !listed.has_more() {
            return Ok(index);
        }
        page += 1;
    }
}
