//! Buckets in process memory (tests, simulations).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Admission, Bucket, BucketState, RateLimiter};
use crate::store::StoreError;

#[derive(Debug, Default)]
pub struct MemoryRateLimiter {
    buckets: Mutex<HashMap<String, BucketState>>,
}

impl MemoryRateLimiter {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn acquire(
        &self,
        bucket: &Bucket,
        now_ms: i64,
        may_wait_ms: i64,
    ) -> Result<Admission, StoreError> {
        let mut buckets = self
            .buckets
            .lock()
            .map_err(|_| StoreError::new("memory rate limiter lock poisoned"))?;
        let (state, admission) =
            bucket.decide(buckets.get(&bucket.key).copied(), now_ms, may_wait_ms);
        buckets.insert(bucket.key.clone(), state);
        Ok(admission)
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}
