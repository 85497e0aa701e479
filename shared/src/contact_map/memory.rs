//! An in-process contact map for unit tests and for runs without a table configured.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{ContactLink, ContactMap, LinkOutcome};
use crate::store::StoreError;

#[derive(Debug, Default)]
pub struct MemoryContactMap {
    items: Mutex<HashMap<String, ContactLink>>,
}

impl MemoryContactMap {
    pub fn new() -> Self {
        Self::default()
    }

    fn get(&self, key: &str) -> Result<Option<ContactLink>, StoreError> {
        let items = self
            .items
            .lock()
            .map_err(|_| StoreError::new("memory map lock poisoned"))?;
        Ok(items.get(key).cloned())
    }

    /// Number of links held (each link is stored under both ids).
    pub fn len(&self) -> usize {
        self.items.lock().map(|i| i.len() / 2).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl ContactMap for MemoryContactMap {
    async fn find_by_ghl(
        &self,
        location_id: &str,
        ghl_id: &str,
    ) -> Result<Option<ContactLink>, StoreError> {
        self.get(&ContactLink::ghl_key(location_id, ghl_id))
    }

    async fn find_by_cloudtalk(
        &self,
        location_id: &str,
        cloudtalk_id: &str,
    ) -> Result<Option<ContactLink>, StoreError> {
        self.get(&ContactLink::cloudtalk_key(location_id, cloudtalk_id))
    }

    async fn link(&self, link: &ContactLink) -> Result<LinkOutcome, StoreError> {
        let mut items = self
            .items
            .lock()
            .map_err(|_| StoreError::new("memory map lock poisoned"))?;
        let ghl_key = ContactLink::ghl_key(&link.location_id, &link.ghl_contact_id);
        let ct_key = ContactLink::cloudtalk_key(&link.location_id, &link.cloudtalk_contact_id);
        if let Some(existing) = items.get(&ghl_key).or_else(|| items.get(&ct_key)) {
            return Ok(LinkOutcome::Existing(existing.clone()));
        }
        items.insert(ghl_key, link.clone());
        items.insert(ct_key, link.clone());
        Ok(LinkOutcome::Created)
    }

    async fn unlink(&self, link: &ContactLink) -> Result<bool, StoreError> {
        let mut items = self
            .items
            .lock()
            .map_err(|_| StoreError::new("memory map lock poisoned"))?;
        let mut removed = false;
        for key in link.keys() {
            if items.get(&key).is_some_and(|l| l.same_pair(link)) {
                items.remove(&key);
                removed = true;
            }
        }
        Ok(removed)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}
