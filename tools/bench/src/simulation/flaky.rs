//! A store that fails every Nth call, as DynamoDB does now and then.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use bridge::contact_map::{ContactLink, ContactMap, LinkOutcome};
use bridge::idempotency::{Claim, IdempotencyStore};
use bridge::store::StoreError;
use serde_json::Value;

/// Wraps a store; every `every`-th call fails before reaching it.
pub struct Flaky<S> {
    inner: S,
    every: u64,
    calls: AtomicU64,
    failures: Arc<AtomicU64>,
}

impl<S> Flaky<S> {
    pub fn new(inner: S, every: u64, failures: Arc<AtomicU64>) -> Self {
        Self {
            inner,
            every: every.max(1),
            calls: AtomicU64::new(0),
            failures,
        }
    }

    fn fail(&self) -> Result<(), StoreError> {
        if (self.calls.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(self.every) {
            self.failures.fetch_add(1, Ordering::Relaxed);
            return Err(StoreError::new("injected store failure"));
        }
        Ok(())
    }
}

#[async_trait]
impl ContactMap for Flaky<Arc<dyn ContactMap>> {
    async fn find_by_ghl(&self, loc: &str, id: &str) -> Result<Option<ContactLink>, StoreError> {
        self.fail()?;
        self.inner.find_by_ghl(loc, id).await
    }
    async fn find_by_cloudtalk(
        &self,
        loc: &str,
        id: &str,
    ) -> Result<Option<ContactLink>, StoreError> {
        self.fail()?;
        self.inner.find_by_cloudtalk(loc, id).await
    }
    async fn link(&self, link: &ContactLink) -> Result<LinkOutcome, StoreError> {
        self.fail()?;
        self.inner.link(link).await
    }
    async fn unlink(&self, link: &ContactLink) -> Result<bool, StoreError> {
        self.fail()?;
        self.inner.unlink(link).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    fn kind(&self) -> &'static str {
        "flaky"
    }
}

#[async_trait]
impl IdempotencyStore for Flaky<Arc<dyn IdempotencyStore>> {
    async fn claim(&self, key: &str, now: i64, until: i64) -> Result<Claim, StoreError> {
        self.fail()?;
        self.inner.claim(key, now, until).await
    }
    async fn record_step(
        &self,
        key: &str,
        owner: &str,
        step: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        self.inner.record_step(key, owner, step, value).await
    }
    async fn complete(
        &self,
        key: &str,
        owner: &str,
        response: &Value,
        expires_at_secs: i64,
    ) -> Result<(), StoreError> {
        self.inner
            .complete(key, owner, response, expires_at_secs)
            .await
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.inner.release(key, owner).await
    }
    async fn seen(&self, key: &str, now_ms: i64) -> Result<bool, StoreError> {
        self.inner.seen(key, now_ms).await
    }
}
