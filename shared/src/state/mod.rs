//! The bridge's own state besides the contact map: each agent's latest status, and the raw
//! payloads the generic endpoint keeps for a while.
//!
//! DynamoDB table with partition key `pk` (string) and TTL attribute `expires_at`:
//! `agent#<location>#<agentId>` items (no expiry), `event#<id>` items (expire) and
//! `value#<name>` items: what a job keeps between runs (reconciliation checkpoints, the tags
//! last synced per link).

pub mod dynamodb;
pub mod memory;

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use dynamodb::DynamoStateStore;
pub use memory::MemoryStateStore;

use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentStatus {
    pub location_id: String,
    pub agent_id: String,
    pub agent_name: Option<String>,
    pub status: String,
    /// When the status changed (RFC 3339), as sent or as received.
    pub changed_at: String,
    /// The GHL custom value that mirrors this agent, once created.
    pub ghl_custom_value_id: Option<String>,
}

impl AgentStatus {
    pub fn key(location_id: &str, agent_id: &str) -> String {
        format!("agent#{location_id}#{agent_id}")
    }
}

/// A received payload kept for inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: String,
    pub route: String,
    pub received_at: String,
    pub body: String,
    /// Unix seconds after which DynamoDB's TTL removes the item. From then on every store
    /// treats the event as gone, whether or not it was removed yet.
    pub expires_at: i64,
}

/// The store key of a named value.
pub fn value_key(name: &str) -> String {
    format!("value#{name}")
}

impl StoredEvent {
    /// Whether the event is still kept at `now_secs` (Unix seconds).
    pub fn is_kept_at(&self, now_secs: i64) -> bool {
        self.expires_at > now_secs
    }

    /// The event, unless it has expired by the system clock.
    pub fn unless_expired(self) -> Option<Self> {
        self.is_kept_at(chrono::Utc::now().timestamp())
            .then_some(self)
    }
}

/// A counters item as the in-process stores keep it (DynamoDB keeps one item per name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountersRecord {
    pub fields: BTreeMap<String, u64>,
    pub expires_at: i64,
}

/// [`StateStore::count`] over the in-process stores' counters.
pub fn count_in(
    all: &mut BTreeMap<String, CountersRecord>,
    (name, field): (&str, &str),
    limit: u64,
    expires_at: i64,
) -> Option<u64> {
    let now = chrono::Utc::now().timestamp();
    all.retain(|_, r| r.expires_at > now);
    let record = all.entry(name.to_string()).or_default();
    record.expires_at = record.expires_at.max(expires_at);
    let count = record.fields.entry(field.to_string()).or_default();
    if *count >= limit {
        return None;
    }
    *count += 1;
    Some(*count)
}

#[async_trait]
pub trait StateStore: Send + Sync {
    async fn get_agent(
        &self,
        location_id: &str,
        agent_id: &str,
    ) -> Result<Option<AgentStatus>, StoreError>;
    async fn put_agent(&self, status: &AgentStatus) -> Result<(), StoreError>;
    async fn put_event(&self, event: &StoredEvent) -> Result<(), StoreError>;
    async fn get_event(&self, id: &str) -> Result<Option<StoredEvent>, StoreError>;
    /// A named value kept between runs (no expiry), read consistently.
    async fn get_value(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Replaces the named value.
    async fn put_value(&self, name: &str, value: &str) -> Result<(), StoreError>;
    /// Takes the next turn of the named counter, atomically across containers: 0, 1, 2, …
    async fn next_turn(&self, name: &str) -> Result<u64, StoreError>;
    /// Adds one to `field` of the named counters (kept until `expires_at`, Unix seconds) unless
    /// it has reached `limit`, atomically across containers: the count after, or `None` when
    /// the field was already at its limit (nothing is added then).
    async fn count(
        &self,
        name: &str,
        field: &str,
        limit: u64,
        expires_at: i64,
    ) -> Result<Option<u64>, StoreError>;
    /// The named counters, field by field (empty when there are none).
    async fn counters(&self, name: &str) -> Result<BTreeMap<String, u64>, StoreError>;
    /// Cheap reachability check for the health route.
    async fn ping(&self) -> Result<(), StoreError>;
    fn kind(&self) -> &'static str;
}
