//! An in-process retry queue for tests: queued and parked events are kept in lists.

use std::sync::Mutex;

use async_trait::async_trait;

use super::{QueuedEvent, RetryQueue};
use crate::store::StoreError;

#[derive(Debug, Default)]
pub struct MemoryRetryQueue {
    queued: Mutex<Vec<(QueuedEvent, u32)>>,
    parked: Mutex<Vec<(QueuedEvent, String)>>,
    parked_raw: Mutex<Vec<(String, String)>>,
}

impl MemoryRetryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes every queued event (with its delay), as the worker's event source would.
    pub fn drain(&self) -> Vec<(QueuedEvent, u32)> {
        self.queued
            .lock()
            .map(|mut q| std::mem::take(&mut *q))
            .unwrap_or_default()
    }

    pub fn parked(&self) -> Vec<(QueuedEvent, String)> {
        self.parked.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// Messages parked as they were, unread (body, reason).
    pub fn parked_raw(&self) -> Vec<(String, String)> {
        self.parked_raw
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    pub fn queued_len(&self) -> usize {
        self.queued.lock().map(|q| q.len()).unwrap_or(0)
    }
}

#[async_trait]
impl RetryQueue for MemoryRetryQueue {
    async fn enqueue(&self, event: &QueuedEvent, delay_secs: u32) -> Result<(), StoreError> {
        self.queued
            .lock()
            .map_err(|_| StoreError::new("queue lock poisoned"))?
            .push((event.clone(), delay_secs));
        Ok(())
    }

    async fn park(&self, event: &QueuedEvent, reason: &str) -> Result<(), StoreError> {
        self.parked
            .lock()
            .map_err(|_| StoreError::new("queue lock poisoned"))?
            .push((event.clone(), reason.to_string()));
        Ok(())
    }

    async fn park_raw(&self, body: &str, reason: &str) -> Result<(), StoreError> {
        self.parked_raw
            .lock()
            .map_err(|_| StoreError::new("queue lock poisoned"))?
            .push((body.to_string(), reason.to_string()));
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}
