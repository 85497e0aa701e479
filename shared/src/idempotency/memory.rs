//! In-process idempotency records, for unit tests; [`Record`] and its claim rule also serve the
//! local store file.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{new_owner, Claim, IdempotencyStore, Lease, RECORD_TTL_SECS};
use crate::store::StoreError;

/// One event's record as the in-process stores keep it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) completed: Option<Value>,
    pub(crate) lock_until_ms: i64,
    /// Unix seconds; after this second the record counts as absent.
    pub(crate) expires_at: i64,
    #[serde(default)]
    pub(crate) steps: BTreeMap<String, String>,
    /// The attempt that holds the record.
    #[serde(default)]
    pub(crate) owner: String,
}

impl Record {
    /// Applies `change` if `owner` holds the record; [`StoreError::Contended`] when another
    /// attempt took it over.
    pub(crate) fn update(
        record: Option<&mut Record>,
        owner: &str,
        change: impl FnOnce(&mut Record),
    ) -> Result<(), StoreError> {
        match record {
            None => Ok(()),
            Some(r) if r.owner == owner || r.owner.is_empty() => {
                change(r);
                Ok(())
            }
            Some(_) => Err(StoreError::contended(
                "another attempt has taken this event over",
            )),
        }
    }

    /// Whether the record is within its lifetime at `now_ms`.
    pub(crate) fn is_live(&self, now_ms: i64) -> bool {
        self.expires_at >= now_ms.div_euclid(1000)
    }

    /// Claims the record in `slot` (see [`IdempotencyStore::claim`]): a missing or expired
    /// record is replaced by a fresh one. Also says whether the slot changed.
    pub(crate) fn claim(
        slot: &mut Option<Record>,
        now_ms: i64,
        lock_until_ms: i64,
    ) -> (Claim, bool) {
        match slot {
            Some(r) if r.is_live(now_ms) => match &r.completed {
                Some(response) => (
                    Claim::Completed {
                        response: response.clone(),
                    },
                    false,
                ),
                None if r.lock_until_ms > now_ms => (Claim::InProgress, false),
                None => {
                    // A lock of 0 was released; any other has run out: a takeover.
                    let takeover = r.lock_until_ms != 0;
                    r.lock_until_ms = lock_until_ms;
                    // Every attempt keeps the record its full lifetime from now.
                    r.expires_at = r.expires_at.max(now_ms.div_euclid(1000) + RECORD_TTL_SECS);
                    r.owner = new_owner();
                    let lease = Lease {
                        owner: r.owner.clone(),
                        takeover,
                    };
                    let steps = r.steps.clone();
                    (Claim::Acquired { steps, lease }, true)
                }
            },
            _ => {
                let owner = new_owner();
                *slot = Some(Record {
                    completed: None,
                    lock_until_ms,
                    expires_at: now_ms.div_euclid(1000) + RECORD_TTL_SECS,
                    steps: BTreeMap::new(),
                    owner: owner.clone(),
                });
                let lease = Lease {
                    owner,
                    takeover: false,
                };
                let steps = BTreeMap::new();
                (Claim::Acquired { steps, lease }, true)
            }
        }
    }
}

#[derive(Debug, Default)]
pub struct MemoryIdempotencyStore {
    records: Mutex<HashMap<String, Record>>,
}

impl MemoryIdempotencyStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `change` to the record of `key` held by `owner`; nothing when there is none.
    fn update(
        &self,
        key: &str,
        owner: &str,
        change: impl FnOnce(&mut Record),
    ) -> Result<(), StoreError> {
        let mut records = self.records.lock().map_err(poisoned)?;
        Record::update(records.get_mut(key), owner, change)
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::new("memory idempotency lock poisoned")
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn claim(&self, key: &str, now_ms: i64, lock_until_ms: i64) -> Result<Claim, StoreError> {
        let mut records = self.records.lock().map_err(poisoned)?;
        let mut slot = records.remove(key);
        let (claim, _) = Record::claim(&mut slot, now_ms, lock_until_ms);
        if let Some(record) = slot {
            records.insert(key.to_string(), record);
        }
        Ok(claim)
    }

    async fn record_step(
        &self,
        key: &str,
        owner: &str,
        step: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        self.update(key, owner, |r| {
            r.steps.insert(step.to_string(), value.to_string());
        })
    }

    async fn complete(
        &self,
        key: &str,
        owner: &str,
        response: &Value,
        expires_at_secs: i64,
    ) -> Result<(), StoreError> {
        self.update(key, owner, |r| {
            r.completed = Some(response.clone());
            r.expires_at = expires_at_secs;
        })
    }

    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.update(key, owner, |r| r.lock_until_ms = 0)
    }

    async fn seen(&self, key: &str, now_ms: i64) -> Result<bool, StoreError> {
        let records = self.records.lock().map_err(poisoned)?;
        Ok(records.get(key).is_some_and(|r| r.is_live(now_ms)))
    }
}
