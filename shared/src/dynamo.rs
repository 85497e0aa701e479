//! The DynamoDB access the stores share: a [`Table`] handle with consistent reads, plain,
//! conditional and transactional writes; item builders and readers; one mapping of SDK errors
//! to [`StoreError`].
//!
//! Every table of the bridge has a string partition key `pk` and no sort key. A write whose
//! condition fails, or that loses to a concurrent transaction, is [`StoreError::Contended`]
//! (another writer got there first); any other failure is [`StoreError::Unavailable`].

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem};
use aws_sdk_dynamodb::Client;

use crate::store::StoreError;

/// One DynamoDB item: attribute name → value.
pub type Item = HashMap<String, AttributeValue>;

/// The partition key attribute of every table.
pub const KEY: &str = "pk";

/// A string attribute value.
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute value.
pub fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A map attribute value of strings.
pub fn string_map(entries: &BTreeMap<String, String>) -> AttributeValue {
    AttributeValue::M(entries.iter().map(|(k, v)| (k.clone(), s(v))).collect())
}

/// An item with partition key `key` and `attributes`; attributes whose value is `None` are
/// left out.
pub fn item<'a, V: Into<Option<AttributeValue>>>(
    key: impl Into<String>,
    attributes: impl IntoIterator<Item = (&'a str, V)>,
) -> Item {
    let mut item: Item = attributes
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.into()?)))
        .collect();
    item.insert(KEY.to_string(), s(key));
    item
}

/// Typed reads of an item's attributes; an attribute of another type reads as absent.
pub trait Attributes {
    /// A string attribute.
    fn text(&self, name: &str) -> Option<String>;
    /// A number attribute that fits an `i64`.
    fn number(&self, name: &str) -> Option<i64>;
    /// A map attribute's string entries (empty when absent).
    fn text_map(&self, name: &str) -> BTreeMap<String, String>;
}

impl Attributes for Item {
    fn text(&self, name: &str) -> Option<String> {
        self.get(name).and_then(|v| v.as_s().ok()).cloned()
    }

    fn number(&self, name: &str) -> Option<i64> {
        self.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
    }

    fn text_map(&self, name: &str) -> BTreeMap<String, String> {
        self.get(name)
            .and_then(|v| v.as_m().ok())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone())))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// An update and/or condition expression with its placeholders (`#name` for attribute names,
/// `:value` for values).
#[derive(Debug, Clone, Default)]
pub struct Expr {
    update: Option<String>,
    condition: Option<String>,
    names: HashMap<String, String>,
    values: Item,
}

impl Expr {
    /// An update expression (`SET …`, `REMOVE …`).
    pub fn update(expression: impl Into<String>) -> Self {
        Self {
            update: Some(expression.into()),
            ..Self::default()
        }
    }

    /// A condition alone, for a conditional put.
    pub fn condition(expression: impl Into<String>) -> Self {
        Self::default().only_if(expression)
    }

    /// The condition the write needs to hold.
    pub fn only_if(mut self, condition: impl Into<String>) -> Self {
        self.condition = Some(condition.into());
        self
    }

    /// Binds the placeholder `#…` to an attribute name.
    pub fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.insert(placeholder.to_string(), name.to_string());
        self
    }

    /// Binds the placeholder `:…` to a value.
    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_string(), value);
        self
    }

    /// The placeholder maps, `None` when empty (DynamoDB refuses empty maps).
    fn placeholders(&self) -> (Option<HashMap<String, String>>, Option<Item>) {
        let names = (!self.names.is_empty()).then(|| self.names.clone());
        let values = (!self.values.is_empty()).then(|| self.values.clone());
        (names, values)
    }
}

/// One DynamoDB table, keyed by the string `pk`.
#[derive(Debug, Clone)]
pub struct Table {
    client: crate::aws::Lazy<Client>,
    name: String,
}

impl Table {
    pub fn new(client: impl Into<crate::aws::Lazy<Client>>, name: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The item under `key`, read consistently.
    pub async fn get(&self, key: impl Into<String>) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get()
            .get_item()
            .table_name(&self.name)
            .key(KEY, s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        Ok(out.item)
    }

    /// Writes `item`, replacing any item with its key.
    pub async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.put_with(item, None).await
    }

    /// Writes `item` if `condition` holds; [`StoreError::Contended`] when it does not.
    pub async fn put_if(&self, item: Item, condition: Expr) -> Result<(), StoreError> {
        self.put_with(item, Some(condition)).await
    }

    async fn put_with(&self, item: Item, condition: Option<Expr>) -> Result<(), StoreError> {
        let condition = condition.unwrap_or_default();
        let (names, values) = condition.placeholders();
        self.client
            .get()
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .set_condition_expression(condition.condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", e))?;
        Ok(())
    }

    /// Applies `update` to the item under `key` (creating it unless the condition forbids);
    /// [`StoreError::Contended`] when the condition fails.
    pub async fn update(&self, key: impl Into<String>, update: Expr) -> Result<(), StoreError> {
        self.update_returning(key, update, ReturnValue::None)
            .await
            .map(drop)
    }

    /// [`Table::update`], returning the item as the update left it.
    pub async fn update_and_get(
        &self,
        key: impl Into<String>,
        update: Expr,
    ) -> Result<Item, StoreError> {
        self.update_returning(key, update, ReturnValue::AllNew)
            .await
    }

    async fn update_returning(
        &self,
        key: impl Into<String>,
        update: Expr,
        returning: ReturnValue,
    ) -> Result<Item, StoreError> {
        let (names, values) = update.placeholders();
        let out = self
            .client
            .get()
            .update_item()
            .table_name(&self.name)
            .key(KEY, s(key))
            .set_update_expression(update.update)
            .set_condition_expression(update.condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values(returning)
            .send()
            .await
            .map_err(|e| sdk_error("UpdateItem", e))?;
        Ok(out.attributes.unwrap_or_default())
    }

    /// Deletes the item under `key` if `condition` holds: whether it was deleted (`false` when
    /// the condition failed, or there was no such item).
    pub async fn delete_if(
        &self,
        key: impl Into<String>,
        condition: Expr,
    ) -> Result<bool, StoreError> {
        let (names, values) = condition.placeholders();
        let result = self
            .client
            .get()
            .delete_item()
            .table_name(&self.name)
            .key(KEY, s(key))
            .set_condition_expression(condition.condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem", e));
        match result {
            Ok(out) => Ok(out.attributes.is_some_and(|a| !a.is_empty())),
            Err(StoreError::Contended(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A put of `item` on `condition`, for [`Table::transact`].
    pub fn conditional_put(
        &self,
        item: Item,
        condition: Expr,
    ) -> Result<TransactWriteItem, StoreError> {
        let (names, values) = condition.placeholders();
        let put = Put::builder()
            .table_name(&self.name)
            .set_item(Some(item))
            .set_condition_expression(condition.condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| StoreError::new(format!("building Put: {e}")))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Writes all of `items` or none; [`StoreError::Contended`] when a condition failed or a
    /// concurrent transaction was writing the same items.
    pub async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        let result = self
            .client
            .get()
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if lost_the_race(&err) => {
                Err(StoreError::contended(message("TransactWriteItems", &err)))
            }
            Err(err) => Err(StoreError::new(message("TransactWriteItems", &err))),
        }
    }

    /// Every item whose key starts with `prefix`, read consistently, page after page (an
    /// operator's listing; small tables only).
    pub async fn scan_prefix(&self, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .get()
                .scan()
                .table_name(&self.name)
                .filter_expression("begins_with(pk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("Scan", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Cheap reachability check: the table exists and can be described.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.client
            .get()
            .describe_table()
            .table_name(&self.name)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeTable", e))?;
        Ok(())
    }
}

fn message<E, R>(operation: &str, err: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    format!("{operation}: {}", DisplayErrorContext(err))
}

/// A failed single-item operation: `Contended` when its condition failed or a transaction
/// held the item, `Unavailable` otherwise.
fn sdk_error<E, R>(operation: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err.as_service_error().and_then(|e| e.code());
    match code {
        Some("ConditionalCheckFailedException" | "TransactionConflictException") => {
            StoreError::contended(message(operation, &err))
        }
        _ => StoreError::new(message(operation, &err)),
    }
}

/// A transaction cancelled only because a condition failed or another transaction was
/// writing the same items.
fn lost_the_race<R>(err: &SdkError<TransactWriteItemsError, R>) -> bool {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
            e.cancellation_reasons().iter().all(|r| {
                matches!(
                    r.code(),
                    None | Some("None" | "ConditionalCheckFailed" | "TransactionConflict")
                )
            })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_have_their_key_and_no_absent_attributes() {
        let item = item(
            "agent#loc#7",
            [("status", Some(s("online"))), ("agent_name", None)],
        );
        assert_eq!(item.text(KEY).as_deref(), Some("agent#loc#7"));
        assert_eq!(item.text("status").as_deref(), Some("online"));
        assert!(!item.contains_key("agent_name"));
    }

    #[test]
    fn readers_take_only_their_type() {
        let steps = BTreeMap::from([("note".to_string(), "n-1".to_string())]);
        let item = item(
            "k",
            [
                ("count", n(42)),
                ("word", s("42")),
                ("steps", string_map(&steps)),
                ("huge", AttributeValue::N("1e40".into())),
            ],
        );
        assert_eq!(item.number("count"), Some(42));
        assert_eq!(item.number("word"), None);
        assert_eq!(item.number("huge"), None);
        assert_eq!(item.text("count"), None);
        assert_eq!(item.text_map("steps"), steps);
        assert!(item.text_map("word").is_empty());
        assert!(item.text_map("missing").is_empty());
    }
}
