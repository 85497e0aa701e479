//! Buckets in the state table (`rate#<bucket>`), updated with optimistic concurrency: read,
//! decide, write on condition that nobody wrote in between, else read again.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;

use super::{Admission, Bucket, BucketState, RateLimiter};
use crate::dynamo::{self, n, Attributes, Expr, Table};
use crate::store::StoreError;

/// Attempts at a contended bucket before giving up for now.
const MAX_ROUNDS: u32 = 8;
/// A bucket untouched for a day is removed by the table's TTL.
const BUCKET_TTL_SECS: i64 = 24 * 3600;

#[derive(Debug, Clone)]
pub struct DynamoRateLimiter {
    table: Table,
}

impl DynamoRateLimiter {
    pub fn new(client: impl Into<crate::aws::Lazy<Client>>, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }
}

fn key(bucket: &Bucket) -> String {
    format!("rate#{}", bucket.key)
}

#[async_trait]
impl RateLimiter for DynamoRateLimiter {
    async fn acquire(
        &self,
        bucket: &Bucket,
        now_ms: i64,
        may_wait_ms: i64,
    ) -> Result<Admission, StoreError> {
        for round in 0..MAX_ROUNDS {
            let item = self.table.get(key(bucket)).await?;
            let version = item.as_ref().and_then(|i| i.number("version"));
            let state = item.as_ref().and_then(|i| {
                Some(BucketState {
                    tokens_milli: i.number("tokens_milli")?,
                    updated_ms: i.number("updated_ms")?,
                    turn_ms: i.number("turn_ms").unwrap_or(0),
                })
            });
            let (next, admission) = bucket.decide(state, now_ms, may_wait_ms);
            let written = dynamo::item(
                key(bucket),
                [
                    ("tokens_milli", n(next.tokens_milli)),
                    ("updated_ms", n(next.updated_ms)),
                    ("turn_ms", n(next.turn_ms)),
                    ("version", n(version.unwrap_or(0) + 1)),
                    ("expires_at", n(now_ms / 1000 + BUCKET_TTL_SECS)),
                ],
            );
            let condition = match version {
                Some(v) => Expr::condition("version = :v").value(":v", n(v)),
                None => Expr::condition("attribute_not_exists(pk)"),
            };
            match self.table.put_if(written, condition).await {
                Ok(()) => return Ok(admission),
                Err(StoreError::Contended(_)) => {
                    tokio::time::sleep(std::time::Duration::from_millis(5 << round.min(4))).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::contended(format!(
            "the rate bucket {} is busy",
            bucket.key
        )))
    }

    fn kind(&self) -> &'static str {
        "dynamodb"
    }
}
