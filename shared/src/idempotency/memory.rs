//! In-process idempotency records, for unit tests.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

use super::{Claim, IdempotencyStore};
use crate::store::StoreError;

#[derive(Debug, Clone)]
struct Record {
    completed: Option<Value>,
    lock_until_ms: i64,
    steps: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
pub struct MemoryIdempotencyStore {
    records: Mutex<HashMap<String, Record>>,
}

impl MemoryIdempotencyStore {
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::new("memory idempotency lock poisoned")
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn claim(&self, key: &str, now_ms: i64, lock_until_ms: i64) -> Result<Claim, StoreError> {
        let mut records = self.records.lock().map_err(poisoned)?;
        match records.get_mut(key) {
            None => {
                records.insert(
                    key.to_string(),
                    Record {
                        completed: None,
                        lock_until_ms,
                        steps: BTreeMap::new(),
                    },
                );
                Ok(Claim::Acquired {
                    steps: BTreeMap::new(),
                })
            }
            Some(r) => {
                if let Some(response) = &r.completed {
                    Ok(Claim::Completed {
                        response: response.clone(),
                    })
                } else if r.lock_until_ms > now_ms {
                    Ok(Claim::InProgress)
                } else {
                    r.lock_until_ms = lock_until_ms;
                    Ok(Claim::Acquired {
                        steps: r.steps.clone(),
                    })
                }
            }
        }
    }

    async fn record_step(&self, key: &str, step: &str, value: &str) -> Result<(), StoreError> {
        let mut records = self.records.lock().map_err(poisoned)?;
        if let Some(r) = records.get_mut(key) {
            r.steps.insert(step.to_string(), value.to_string());
        }
        Ok(())
    }

    async fn complete(&self, key: &str, response: &Value) -> Result<(), StoreError> {
        let mut records = self.records.lock().map_err(poisoned)?;
        if let Some(r) = records.get_mut(key) {
            r.completed = Some(response.clone());
        }
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        let mut records = self.records.lock().map_err(poisoned)?;
        if let Some(r) = records.get_mut(key) {
            r.lock_until_ms = 0;
        }
        Ok(())
    }

    async fn seen(&self, key: &str, _now_ms: i64) -> Result<bool, StoreError> {
        Ok(self.records.lock().map_err(poisoned)?.contains_key(key))
    }
}
