//! Tenant records in DynamoDB (`TENANTS_TABLE`): partition key `pk`, the document in `doc`,
//! its version in `version`; every write is conditional on the version it replaces.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;

use super::{TenantStore, Versioned};
use crate::dynamo::{self, n, s, Attributes, Expr, Table};
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct DynamoTenantStore {
    table: Table,
}

impl DynamoTenantStore {
    pub fn new(client: impl Into<crate::aws::Lazy<Client>>, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }
}

fn versioned(item: &dynamo::Item) -> Option<Versioned> {
    Some(Versioned {
        doc: item.text("doc")?,
        version: item.number("version")?,
    })
}

#[async_trait]
impl TenantStore for DynamoTenantStore {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        Ok(self.table.get(key).await?.as_ref().and_then(versioned))
    }

    async fn put(&self, key: &str, doc: &str, expected: Option<i64>) -> Result<i64, StoreError> {
        let version = expected.unwrap_or(0) + 1;
        let item = dynamo::item(key, [("doc", s(doc)), ("version", n(version))]);
        let condition = match expected {
            None => Expr::condition("attribute_not_exists(pk)"),
            Some(v) => Expr::condition("version = :v").value(":v", n(v)),
        };
        self.table.put_if(item, condition).await?;
        Ok(version)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, Versioned)>, StoreError> {
        let items = self.table.scan_prefix(prefix).await?;
        Ok(items
            .iter()
            .filter_map(|item| Some((item.text("pk")?, versioned(item)?)))
            .collect())
    }

    fn kind(&self) -> &'static str {
        "dynamodb"
    }
}
