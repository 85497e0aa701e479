//! The DynamoDB contact map.
//!
//! Table: partition key `pk` (string), no sort key. Each link is two items,
//! `ghl#<location>#<ghlId>` and `ct#<location>#<cloudTalkId>`, written together in one
//! transaction whose puts are both conditional on `attribute_not_exists(pk)`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;

use super::{ContactLink, ContactMap, LinkOrigin, LinkOutcome};
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct DynamoContactMap {
    client: Client,
    table: String,
}

fn store_error<E, R>(operation: &str, err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::new(format!("{operation}: {}", DisplayErrorContext(&err)))
}

impl DynamoContactMap {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn item(key: String, link: &ContactLink) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("pk".to_string(), AttributeValue::S(key)),
            (
                "location_id".to_string(),
                AttributeValue::S(link.location_id.clone()),
            ),
            (
                "ghl_contact_id".to_string(),
                AttributeValue::S(link.ghl_contact_id.clone()),
            ),
            (
                "cloudtalk_contact_id".to_string(),
                AttributeValue::S(link.cloudtalk_contact_id.clone()),
            ),
            (
                "origin".to_string(),
                AttributeValue::S(link.origin.as_str().to_string()),
            ),
            (
                "created_at".to_string(),
                AttributeValue::S(link.created_at.clone()),
            ),
        ])
    }

    fn parse(item: &HashMap<String, AttributeValue>) -> Option<ContactLink> {
        let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        Some(ContactLink {
            location_id: s("location_id")?,
            ghl_contact_id: s("ghl_contact_id")?,
            cloudtalk_contact_id: s("cloudtalk_contact_id")?,
            origin: s("origin")
                .as_deref()
                .and_then(LinkOrigin::parse)
                .unwrap_or(LinkOrigin::GoHighLevel),
            created_at: s("created_at").unwrap_or_default(),
        })
    }

    async fn get(&self, key: String) -> Result<Option<ContactLink>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        Ok(out.item().and_then(Self::parse))
    }

    fn conditional_put(
        &self,
        key: String,
        link: &ContactLink,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::item(key, link)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::new(format!("building Put: {e}")))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

#[async_trait]
impl ContactMap for DynamoContactMap {
    async fn find_by_ghl(
        &self,
        location_id: &str,
        ghl_id: &str,
    ) -> Result<Option<ContactLink>, StoreError> {
        self.get(ContactLink::ghl_key(location_id, ghl_id)).await
    }

    async fn find_by_cloudtalk(
        &self,
        location_id: &str,
        cloudtalk_id: &str,
    ) -> Result<Option<ContactLink>, StoreError> {
        self.get(ContactLink::cloudtalk_key(location_id, cloudtalk_id))
            .await
    }

    async fn link(&self, link: &ContactLink) -> Result<LinkOutcome, StoreError> {
        let ghl_key = ContactLink::ghl_key(&link.location_id, &link.ghl_contact_id);
        let ct_key = ContactLink::cloudtalk_key(&link.location_id, &link.cloudtalk_contact_id);
        let result = self
            .client
            .transact_write_items()
            .transact_items(self.conditional_put(ghl_key.clone(), link)?)
            .transact_items(self.conditional_put(ct_key.clone(), link)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(LinkOutcome::Created),
            Err(err) => {
                let conflict = err
                    .as_service_error()
                    .map(|e| e.is_transaction_canceled_exception())
                    .unwrap_or(false);
                if !conflict {
                    return Err(store_error("TransactWriteItems", err));
                }
                // A condition failed (or a concurrent transaction touched the same keys):
                // report the link that exists now.
                if let Some(existing) = self.get(ghl_key).await? {
                    return Ok(LinkOutcome::Existing(existing));
                }
                if let Some(existing) = self.get(ct_key).await? {
                    return Ok(LinkOutcome::Existing(existing));
                }
                Err(store_error("TransactWriteItems", err))
            }
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| store_error("DescribeTable", e))?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "dynamodb"
    }
}
