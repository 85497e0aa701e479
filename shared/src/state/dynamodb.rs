//! The DynamoDB state store (table `STATE_TABLE`, key `pk`, TTL attribute `expires_at`).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;

use super::{AgentStatus, StateStore, StoredEvent};
use crate::dynamo::{self, n, s, Attributes, Table};
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct DynamoStateStore {
    table: Table,
}

impl DynamoStateStore {
    pub fn new(client: impl Into<crate::aws::Lazy<Client>>, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }
}

/// The attributes of a counters item are its fields, prefixed (never `pk` or `expires_at`).
const COUNTER_PREFIX: &str = "count_";

fn counter_field(field: &str) -> String {
    format!("{COUNTER_PREFIX}{field}")
}

fn counters_key(name: &str) -> String {
    format!("counters#{name}")
}

fn event_key(id: &str) -> String {
    format!("event#{id}")
}

#[async_trait]
impl StateStore for DynamoStateStore {
    async fn get_agent(
        &self,
        location_id: &str,
        agent_id: &str,
    ) -> Result<Option<AgentStatus>, StoreError> {
        let key = AgentStatus::key(location_id, agent_id);
        let Some(item) = self.table.get(key).await? else {
            return Ok(None);
        };
        Ok(Some(AgentStatus {
            location_id: location_id.to_string(),
            agent_id: agent_id.to_string(),
            agent_name: item.text("agent_name"),
            status: item.text("status").unwrap_or_default(),
            changed_at: item.text("changed_at").unwrap_or_default(),
            ghl_custom_value_id: item.text("ghl_custom_value_id"),
        }))
    }

    async fn put_agent(&self, status: &AgentStatus) -> Result<(), StoreError> {
        let optional = |value: &Option<String>| value.as_deref().map(s);
        let item = dynamo::item(
            AgentStatus::key(&status.location_id, &status.agent_id),
            [
                ("location_id", Some(s(&status.location_id))),
                ("agent_id", Some(s(&status.agent_id))),
                ("status", Some(s(&status.status))),
                ("changed_at", Some(s(&status.changed_at))),
                ("agent_name", optional(&status.agent_name)),
                ("ghl_custom_value_id", optional(&status.ghl_custom_value_id)),
            ],
        );
        self.table.put(item).await
    }

    async fn put_event(&self, event: &StoredEvent) -> Result<(), StoreError> {
        let item = dynamo::item(
            event_key(&event.id),
            [
                ("route", s(&event.route)),
                ("received_at", s(&event.received_at)),
                ("body", s(&event.body)),
                ("expires_at", n(event.expires_at)),
            ],
        );
        self.table.put(item).await
    }

    async fn get_event(&self, id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let Some(item) = self.table.get(event_key(id)).await? else {
            return Ok(None);
        };
        let event = StoredEvent {
            id: id.to_string(),
            route: item.text("route").unwrap_or_default(),
            received_at: item.text("received_at").unwrap_or_default(),
            body: item.text("body").unwrap_or_default(),
            expires_at: item.number("expires_at").unwrap_or_default(),
        };
        // TTL removes expired items only eventually.
        Ok(event.unless_expired())
    }

    async fn get_value(&self, name: &str) -> Result<Option<String>, StoreError> {
        let item = self.table.get(super::value_key(name)).await?;
        Ok(item.and_then(|item| item.text("value")))
    }

    async fn put_value(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let item = dynamo::item(super::value_key(name), [("value", s(value))]);
        self.table.put(item).await
    }

    async fn next_turn(&self, name: &str) -> Result<u64, StoreError> {
        // One atomic ADD: concurrent containers each get their own turn.
        let update = dynamo::Expr::update("ADD #turns :one")
            .name("#turns", "turns")
            .value(":one", n(1));
        let item = self
            .table
            .update_and_get(super::value_key(&format!("turn#{name}")), update)
            .await?;
        let after = item.number("turns").unwrap_or(1);
        Ok(u64::try_from(after - 1).unwrap_or(0))
    }

    async fn count(
        &self,
        name: &str,
        field: &str,
        limit: u64,
        expires_at: i64,
    ) -> Result<Option<u64>, StoreError> {
        // One conditional ADD: concurrent containers never count past the limit together.
        let attribute = counter_field(field);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let update = dynamo::Expr::update("ADD #count :one SET expires_at = :expires")
            .only_if("attribute_not_exists(#count) OR #count < :limit")
            .name("#count", &attribute)
            .value(":one", n(1))
            .value(":limit", n(limit))
            .value(":expires", n(expires_at));
        match self.table.update_and_get(counters_key(name), update).await {
            Ok(item) => Ok(item.number(&attribute).and_then(|c| u64::try_from(c).ok())),
            Err(StoreError::Contended(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn counters(&self, name: &str) -> Result<BTreeMap<String, u64>, StoreError> {
        let Some(item) = self.table.get(counters_key(name)).await? else {
            return Ok(BTreeMap::new());
        };
        let fields = item.keys().filter_map(|k| {
            let field = k.strip_prefix(COUNTER_PREFIX)?;
            let count = u64::try_from(item.number(k)?).ok()?;
            Some((field.to_string(), count))
        });
        Ok(fields.collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.table.ping().await
    }

    fn kind(&self) -> &'static str {
        "dynamodb"
    }
}
