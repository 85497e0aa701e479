//! Idempotency records in DynamoDB, in the state table (`STATE_TABLE`) under `idem#<key>`.
//!
//! The claim is one conditional `UpdateItem`:
//! `attribute_not_exists(pk) OR (#status = IN_PROGRESS AND lock_until < :now_ms)`, which sets
//! the lock and keeps the steps an earlier attempt recorded. `expires_at` (seconds) drives the
//! table's TTL; because TTL deletion lags, an expired record is also treated as absent here.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use serde_json::Value;

use super::{Claim, IdempotencyStore, RECORD_TTL_SECS};
use crate::store::StoreError;

const IN_PROGRESS: &str = "IN_PROGRESS";
const COMPLETED: &str = "COMPLETED";

#[derive(Debug, Clone)]
pub struct DynamoIdempotencyStore {
    client: Client,
    table: String,
}

fn key(k: &str) -> AttributeValue {
    AttributeValue::S(format!("idem#{k}"))
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn steps_of(item: &HashMap<String, AttributeValue>) -> BTreeMap<String, String> {
    item.get("steps")
        .and_then(|v| v.as_m().ok())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone())))
                .collect()
        })
        .unwrap_or_default()
}

fn num(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

impl DynamoIdempotencyStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn err<E: std::error::Error + 'static, R: std::fmt::Debug>(
        op: &str,
        e: aws_sdk_dynamodb::error::SdkError<E, R>,
    ) -> StoreError {
        StoreError::new(format!("{op}: {}", DisplayErrorContext(&e)))
    }
}

#[async_trait]
impl IdempotencyStore for DynamoIdempotencyStore {
    async fn claim(&self, k: &str, now_ms: i64, lock_until_ms: i64) -> Result<Claim, StoreError> {
        let now_secs = now_ms / 1000;
        let attempt = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", key(k))
            .update_expression(
                "SET #st = :inprogress, lock_until = :lock, expires_at = if_not_exists(expires_at, :exp), steps = if_not_exists(steps, :empty)",
            )
            .condition_expression("attribute_not_exists(pk) OR (#st = :inprogress AND lock_until < :now)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":inprogress", s(IN_PROGRESS))
            .expression_attribute_values(":lock", n(lock_until_ms))
            .expression_attribute_values(":exp", n(now_secs + RECORD_TTL_SECS))
            .expression_attribute_values(":empty", AttributeValue::M(HashMap::new()))
            .expression_attribute_values(":now", n(now_ms))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match attempt {
            Ok(out) => {
                let steps = out.attributes().map(steps_of).unwrap_or_default();
                return Ok(Claim::Acquired { steps });
            }
            Err(e) => {
                let conflict = e
                    .as_service_error()
                    .map(|se| se.is_conditional_check_failed_exception())
                    .unwrap_or(false);
                if !conflict {
                    return Err(Self::err("UpdateItem", e));
                }
            }
        }
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", key(k))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| Self::err("GetItem", e))?
            .item
            .unwrap_or_default();
        let status = item.get("status").and_then(|v| v.as_s().ok()).cloned();
        let expired = num(&item, "expires_at").is_some_and(|exp| exp < now_secs);
        if status.as_deref() == Some(COMPLETED) && !expired {
            let response = item
                .get("response")
                .and_then(|v| v.as_s().ok())
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(Value::Null);
            return Ok(Claim::Completed { response });
        }
        if expired {
            // A record past its lifetime that TTL has not removed yet: start afresh.
            let fresh = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("pk", key(k))
                .item("status", s(IN_PROGRESS))
                .item("lock_until", n(lock_until_ms))
                .item("expires_at", n(now_secs + RECORD_TTL_SECS))
                .item("steps", AttributeValue::M(HashMap::new()))
                .condition_expression("expires_at < :nows")
                .expression_attribute_values(":nows", n(now_secs))
                .send()
                .await;
            if fresh.is_ok() {
                return Ok(Claim::Acquired {
                    steps: BTreeMap::new(),
                });
            }
        }
        Ok(Claim::InProgress)
    }

    async fn record_step(&self, k: &str, step: &str, value: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", key(k))
            .update_expression("SET steps.#step = :v")
            .expression_attribute_names("#step", step)
            .expression_attribute_values(":v", s(value))
            .send()
            .await
            .map_err(|e| Self::err("UpdateItem", e))?;
        Ok(())
    }

    async fn complete(&self, k: &str, response: &Value) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", key(k))
            .update_expression("SET #st = :done, #resp = :resp REMOVE lock_until")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#resp", "response")
            .expression_attribute_values(":done", s(COMPLETED))
            .expression_attribute_values(":resp", s(&response.to_string()))
            .send()
            .await
            .map_err(|e| Self::err("UpdateItem", e))?;
        Ok(())
    }

    async fn release(&self, k: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", key(k))
            .update_expression("SET lock_until = :zero")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .send()
            .await
            .map_err(|e| Self::err("UpdateItem", e))?;
        Ok(())
    }

    async fn seen(&self, k: &str, now_ms: i64) -> Result<bool, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", key(k))
            .consistent_read(true)
            .projection_expression("expires_at")
            .send()
            .await
            .map_err(|e| Self::err("GetItem", e))?
            .item;
        Ok(item.is_some_and(|item| {
            num(&item, "expires_at").is_none_or(|exp| exp >= now_ms.div_euclid(1000))
        }))
    }
}
