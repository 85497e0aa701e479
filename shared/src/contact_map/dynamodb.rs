//! The DynamoDB contact map.
//!
//! Table: partition key `pk` (string), no sort key. Each link is two items,
//! `ghl#<location>#<ghlId>` and `ct#<location>#<cloudTalkId>`, written together in one
//! transaction whose puts are both conditional on `attribute_not_exists(pk)`. Unlinking deletes
//! each item only while it still names both contacts, so a link made meanwhile survives.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use aws_sdk_dynamodb::Client;

use super::{ContactLink, ContactMap, LinkOrigin, LinkOutcome};
use crate::dynamo::{self, s, Attributes, Expr, Item, Table};
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct DynamoContactMap {
    table: Table,
}

fn item(key: String, link: &ContactLink) -> Item {
    dynamo::item(
        key,
        [
            ("location_id", s(&link.location_id)),
            ("ghl_contact_id", s(&link.ghl_contact_id)),
            ("cloudtalk_contact_id", s(&link.cloudtalk_contact_id)),
            ("origin", s(link.origin.as_str())),
            ("created_at", s(&link.created_at)),
        ],
    )
}

fn parse(item: &Item) -> Option<ContactLink> {
    Some(ContactLink {
        location_id: item.text("location_id")?,
        ghl_contact_id: item.text("ghl_contact_id")?,
        cloudtalk_contact_id: item.text("cloudtalk_contact_id")?,
        origin: item
            .text("origin")
            .as_deref()
            .and_then(LinkOrigin::parse)
            .unwrap_or(LinkOrigin::GoHighLevel),
        created_at: item.text("created_at").unwrap_or_default(),
    })
}

impl DynamoContactMap {
    pub fn new(client: impl Into<crate::aws::Lazy<Client>>, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    async fn get(&self, key: String) -> Result<Option<ContactLink>, StoreError> {
        Ok(self.table.get(key).await?.as_ref().and_then(parse))
    }

    fn put_if_absent(
        &self,
        key: String,
        link: &ContactLink,
    ) -> Result<TransactWriteItem, StoreError> {
        self.table
            .conditional_put(item(key, link), Expr::condition("attribute_not_exists(pk)"))
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
        let writes = vec![
            self.put_if_absent(ghl_key.clone(), link)?,
            self.put_if_absent(ct_key.clone(), link)?,
        ];
        match self.table.transact(writes).await {
            Ok(()) => Ok(LinkOutcome::Created),
            // A condition failed (or a concurrent transaction touched the same keys): report
            // the link that exists now; none yet means the other writer is still at it.
            Err(StoreError::Contended(why)) => {
                for key in [ghl_key, ct_key] {
                    if let Some(existing) = self.get(key).await? {
                        return Ok(LinkOutcome::Existing(existing));
                    }
                }
                Err(StoreError::Contended(why))
            }
            Err(err) => Err(err),
        }
    }

    async fn unlink(&self, link: &ContactLink) -> Result<bool, StoreError> {
        let mut removed = false;
        for key in link.keys() {
            let still_this_link =
                Expr::condition("ghl_contact_id = :ghl AND cloudtalk_contact_id = :ct")
                    .value(":ghl", s(&link.ghl_contact_id))
                    .value(":ct", s(&link.cloudtalk_contact_id));
            removed |= self.table.delete_if(key, still_this_link).await?;
        }
        Ok(removed)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.table.ping().await
    }

    fn kind(&self) -> &'static str {
        "dynamodb"
    }
}
