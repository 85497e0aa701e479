//! The DynamoDB state store (table `STATE_TABLE`, key `pk`, TTL attribute `expires_at`).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use super::{AgentStatus, StateStore, StoredEvent};
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct DynamoStateStore {
    client: Client,
    table: String,
}

impl DynamoStateStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn get(
        &self,
        key: String,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::new(format!("GetItem: {}", DisplayErrorContext(&e))))?;
        Ok(out.item)
    }

    async fn put(&self, item: HashMap<String, AttributeValue>) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::new(format!("PutItem: {}", DisplayErrorContext(&e))))?;
        Ok(())
    }
}

fn s(item: &HashMap<String, AttributeValue>, key: &str) -> Option<String> {
    item.get(key).and_then(|v| v.as_s().ok()).cloned()
}

fn attr(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

#[async_trait]
impl StateStore for DynamoStateStore {
    async fn get_agent(
        &self,
        location_id: &str,
        agent_id: &str,
    ) -> Result<Option<AgentStatus>, StoreError> {
        let Some(item) = self.get(AgentStatus::key(location_id, agent_id)).await? else {
            return Ok(None);
        };
        Ok(Some(AgentStatus {
            location_id: location_id.to_string(),
            agent_id: agent_id.to_string(),
            agent_name: s(&item, "agent_name"),
            status: s(&item, "status").unwrap_or_default(),
            changed_at: s(&item, "changed_at").unwrap_or_default(),
            ghl_custom_value_id: s(&item, "ghl_custom_value_id"),
        }))
    }

    async fn put_agent(&self, status: &AgentStatus) -> Result<(), StoreError> {
        let mut item = HashMap::from([
            (
                "pk".to_string(),
                attr(&AgentStatus::key(&status.location_id, &status.agent_id)),
            ),
            ("location_id".to_string(), attr(&status.location_id)),
            ("agent_id".to_string(), attr(&status.agent_id)),
            ("status".to_string(), attr(&status.status)),
            ("changed_at".to_string(), attr(&status.changed_at)),
        ]);
        if let Some(name) = &status.agent_name {
            item.insert("agent_name".to_string(), attr(name));
        }
        if let Some(id) = &status.ghl_custom_value_id {
            item.insert("ghl_custom_value_id".to_string(), attr(id));
        }
        self.put(item).await
    }

    async fn put_event(&self, event: &StoredEvent) -> Result<(), StoreError> {
        self.put(HashMap::from([
            ("pk".to_string(), attr(&format!("event#{}", event.id))),
            ("route".to_string(), attr(&event.route)),
            ("received_at".to_string(), attr(&event.received_at)),
            ("body".to_string(), attr(&event.body)),
            (
                "expires_at".to_string(),
                AttributeValue::N(event.expires_at.to_string()),
            ),
        ]))
        .await
    }

    async fn get_event(&self, id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let Some(item) = self.get(format!("event#{id}")).await? else {
            return Ok(None);
        };
        Ok(Some(StoredEvent {
            id: id.to_string(),
            route: s(&item, "route").unwrap_or_default(),
            received_at: s(&item, "received_at").unwrap_or_default(),
            body: s(&item, "body").unwrap_or_default(),
            expires_at: item
                .get("expires_at")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse().ok())
                .unwrap_or_default(),
        }))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| StoreError::new(format!("DescribeTable: {}", DisplayErrorContext(&e))))?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "dynamodb"
    }
}
