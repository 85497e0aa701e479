//! Idempotency records in DynamoDB, in the state table (`STATE_TABLE`) under `idem#<key>`.
//!
//! The claim is one conditional `UpdateItem`:
//! `attribute_not_exists(pk) OR (#status = IN_PROGRESS AND lock_until <= :now_ms AND
//! expires_at >= :now_secs)`, which sets the lock and keeps the steps an earlier attempt
//! recorded. `expires_at` (seconds) drives the table's TTL; because TTL deletion lags, an
//! expired record is also treated as absent here, and a claim replaces it with a fresh one.
//! Steps, completion and release apply only to a record that exists.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use serde_json::Value;

use super::{new_owner, Claim, IdempotencyStore, Lease, RECORD_TTL_SECS};
use crate::dynamo::{self, n, s, string_map, Attributes, Expr, Item, Table};
use crate::store::StoreError;

const IN_PROGRESS: &str = "IN_PROGRESS";
const COMPLETED: &str = "COMPLETED";

#[derive(Debug, Clone)]
pub struct DynamoIdempotencyStore {
    table: Table,
}

fn key(k: &str) -> String {
    format!("idem#{k}")
}

/// Whether the record is past its lifetime at `now_secs`.
fn expired(item: &Item, now_secs: i64) -> bool {
    item.number("expires_at").is_some_and(|exp| exp < now_secs)
}

/// What a live record that could not be claimed says: the answer given, or another attempt.
fn held_or_completed(item: &Item) -> Claim {
    if item.text("status").as_deref() != Some(COMPLETED) {
        return Claim::InProgress;
    }
    let response = item
        .text("response")
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    Claim::Completed { response }
}

/// The lease of a claim: a new owner, and whether the record was taken from an attempt that
/// died holding it (its lock ran out rather than being released to 0).
fn lease(owner: String, previous_lock: Option<i64>) -> Lease {
    Lease {
        owner,
        takeover: previous_lock.is_some_and(|lock| lock != 0),
    }
}

impl DynamoIdempotencyStore {
    pub fn new(client: impl Into<crate::aws::Lazy<Client>>, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    /// Takes a new or abandoned live record for `owner`: its steps and the lock it had, or
    /// `Contended` when it is not free.
    async fn take(
        &self,
        k: &str,
        owner: &str,
        now_ms: i64,
        lock_until_ms: i64,
    ) -> Result<(BTreeMap<String, String>, Option<i64>), StoreError> {
        let now_secs = now_ms.div_euclid(1000);
        // Operands read the item as it was: `taken_from` keeps the lock this claim replaced.
        let update = Expr::update(
            "SET taken_from = if_not_exists(lock_until, :none), #st = :inprogress, \
             lock_until = :lock, #owner = :owner, \
             expires_at = :exp, steps = if_not_exists(steps, :empty)",
        )
        .only_if(
            "attribute_not_exists(pk) OR \
             (#st = :inprogress AND lock_until <= :now AND expires_at >= :nows)",
        )
        .name("#st", "status")
        .name("#owner", "owner")
        .value(":inprogress", s(IN_PROGRESS))
        .value(":lock", n(lock_until_ms))
        .value(":owner", s(owner))
        .value(":none", n(-1))
        .value(":exp", n(now_secs + RECORD_TTL_SECS))
        .value(":empty", string_map(&BTreeMap::new()))
        .value(":now", n(now_ms))
        .value(":nows", n(now_secs));
        let item = self.table.update_and_get(key(k), update).await?;
        let previous = item.number("taken_from").filter(|lock| *lock != -1);
        Ok((item.text_map("steps"), previous))
    }

    /// Applies `update` to the record held by `owner`: nothing when there is no record,
    /// `Contended` when another attempt holds it.
    async fn owned_update(&self, k: &str, owner: &str, update: Expr) -> Result<(), StoreError> {
        let update = update
            .only_if("attribute_exists(pk) AND #owner = :owner")
            .name("#owner", "owner")
            .value(":owner", s(owner));
        match self.table.update(key(k), update).await {
            Err(StoreError::Contended(_)) => match self.table.get(key(k)).await? {
                None => Ok(()),
                Some(_) => Err(StoreError::contended(
                    "another attempt has taken this event over",
                )),
            },
            other => other,
        }
    }

    /// Replaces an expired (or just removed) record with a fresh one; `Contended` when another
    /// attempt did so first.
    async fn start_afresh(
        &self,
        k: &str,
        owner: &str,
        now_ms: i64,
        lock_until_ms: i64,
    ) -> Result<(), StoreError> {
        let now_secs = now_ms.div_euclid(1000);
        let fresh = dynamo::item(
            key(k),
            [
                ("status", s(IN_PROGRESS)),
                ("owner", s(owner)),
                ("lock_until", n(lock_until_ms)),
                ("expires_at", n(now_secs + RECORD_TTL_SECS)),
                ("steps", string_map(&BTreeMap::new())),
            ],
        );
        let condition = Expr::condition("attribute_not_exists(pk) OR expires_at < :nows")
            .value(":nows", n(now_secs));
        self.table.put_if(fresh, condition).await
    }
}

#[async_trait]
impl IdempotencyStore for DynamoIdempotencyStore {
    async fn claim(&self, k: &str, now_ms: i64, lock_until_ms: i64) -> Result<Claim, StoreError> {
        let owner = new_owner();
        match self.take(k, &owner, now_ms, lock_until_ms).await {
            Ok((steps, previous)) => {
                let lease = lease(owner, previous);
                return Ok(Claim::Acquired { steps, lease });
            }
            Err(StoreError::Contended(_)) => {}
            Err(err) => return Err(err),
        }
        match self.table.get(key(k)).await? {
            Some(item) if !expired(&item, now_ms.div_euclid(1000)) => Ok(held_or_completed(&item)),
            // Past its lifetime but not yet removed by TTL, or removed since: start afresh.
            _ => match self.start_afresh(k, &owner, now_ms, lock_until_ms).await {
                Ok(()) => Ok(Claim::Acquired {
                    steps: BTreeMap::new(),
                    lease: lease(owner, None),
                }),
                Err(StoreError::Contended(_)) => Ok(Claim::InProgress),
                Err(err) => Err(err),
            },
        }
    }

    async fn record_step(
        &self,
        k: &str,
        owner: &str,
        step: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        let update = Expr::update("SET steps.#step = :v")
            .name("#step", step)
            .value(":v", s(value));
        self.owned_update(k, owner, update).await
    }

    async fn complete(
        &self,
        k: &str,
        owner: &str,
        response: &Value,
        expires_at_secs: i64,
    ) -> Result<(), StoreError> {
        let update =
            Expr::update("SET #st = :done, #resp = :resp, expires_at = :exp REMOVE lock_until")
                .name("#st", "status")
                .name("#resp", "response")
                .value(":done", s(COMPLETED))
                .value(":resp", s(response.to_string()))
                .value(":exp", n(expires_at_secs));
        self.owned_update(k, owner, update).await
    }

    async fn release(&self, k: &str, owner: &str) -> Result<(), StoreError> {
        let update = Expr::update("SET lock_until = :zero").value(":zero", n(0));
        self.owned_update(k, owner, update).await
    }

    async fn seen(&self, k: &str, now_ms: i64) -> Result<bool, StoreError> {
        let item = self.table.get(key(k)).await?;
        Ok(item.is_some_and(|item| !expired(&item, now_ms.div_euclid(1000))))
    }
}
