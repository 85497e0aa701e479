//! Tenant records in process memory (tests).

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{TenantStore, Versioned};
use crate::store::StoreError;

#[derive(Debug, Default)]
pub struct MemoryTenantStore {
    docs: Mutex<BTreeMap<String, Versioned>>,
}

impl MemoryTenantStore {
    pub fn new() -> Self {
        Self::default()
    }
}

/// The versioned write every store makes: `doc` over version `expected`.
pub(crate) fn versioned_put(
    docs: &mut BTreeMap<String, Versioned>,
    key: &str,
    doc: &str,
    expected: Option<i64>,
) -> Result<i64, StoreError> {
    let current = docs.get(key).map(|v| v.version);
    if current != expected {
        return Err(StoreError::contended(format!(
            "{key} is at version {current:?}, not {expected:?}"
        )));
    }
    let version = expected.unwrap_or(0) + 1;
    docs.insert(
        key.to_string(),
        Versioned {
            doc: doc.to_string(),
            version,
        },
    );
    Ok(version)
}

#[async_trait]
impl TenantStore for MemoryTenantStore {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        let docs = self.docs.lock().map_err(|_| StoreError::new("poisoned"))?;
        Ok(docs.get(key).cloned())
    }

    async fn put(&self, key: &str, doc: &str, expected: Option<i64>) -> Result<i64, StoreError> {
        let mut docs = self.docs.lock().map_err(|_| StoreError::new("poisoned"))?;
        versioned_put(&mut docs, key, doc, expected)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, Versioned)>, StoreError> {
        let docs = self.docs.lock().map_err(|_| StoreError::new("poisoned"))?;
        Ok(docs
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}
