//! The local DynamoDB-, SQS- and Secrets Manager-compatible server (`moto_server`): clients,
//! fresh tables, and the bridge's backends on them.

use std::sync::Arc;

/// The DynamoDB- and SQS-compatible server (`moto_server`, started by `scripts/test.sh`, which
/// exports `DYNAMODB_TEST_ENDPOINT`). Without one the AWS cases are skipped locally but fail in
/// CI, so a CI run can never pass without having exercised DynamoDB.
pub fn aws_endpoint() -> Option<String> {
    match std::env::var("DYNAMODB_TEST_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ if std::env::var("CI").is_ok() => {
            panic!("DYNAMODB_TEST_ENDPOINT must be set in CI (run scripts/test.sh)")
        }
        _ => {
            eprintln!("skipped: DYNAMODB_TEST_ENDPOINT is not set (scripts/test.sh starts moto_server and sets it)");
            None
        }
    }
}

pub fn dynamodb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

pub fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
            .build(),
    )
}

static NAMES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A name no other table or queue of this run has: `<prefix>-<pid>-<n>`.
pub fn unique_name(prefix: &str) -> String {
    let n = NAMES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// Creates a fresh table with the template's key schema (`pk`, a string hash key; the contact
/// map and the state table share it) and returns its name.
pub async fn fresh_table(client: &aws_sdk_dynamodb::Client, prefix: &str) -> String {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let name = unique_name(prefix);
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key schema"),
        )
        .send()
        .await
        .expect("create table");
    name
}

/// A client and a fresh table on the test server, or `None` when the cases are skipped.
pub async fn dynamodb_table(prefix: &str) -> Option<(aws_sdk_dynamodb::Client, String)> {
    let client = dynamodb_client(&aws_endpoint()?);
    let table = fresh_table(&client, prefix).await;
    Some((client, table))
}

/// The bridge's contact map, state and idempotency records on fresh tables on the test server,
/// else in memory (skipped in CI, where the server must be there).
pub async fn dynamo_backends() -> bridge::Backends {
    let mut backends = bridge::Backends::in_memory();
    let Some(endpoint) = aws_endpoint() else {
        return backends;
    };
    let client = dynamodb_client(&endpoint);
    let contacts = fresh_table(&client, "e2e-contacts").await;
    let state = fresh_table(&client, "e2e-state").await;
    backends.contacts = Arc::new(bridge::contact_map::DynamoContactMap::new(
        client.clone(),
        contacts,
    ));
    backends.state = Arc::new(bridge::state::DynamoStateStore::new(
        client.clone(),
        state.clone(),
    ));
    backends.idempotency = Arc::new(bridge::idempotency::DynamoIdempotencyStore::new(
        client, state,
    ));
    backends
}

/// A Secrets Manager client on the test server.
pub async fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
    aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
            .build(),
    )
}
