//! Shared by the end-to-end and fault-injection tests: the bridge served over HTTP (every route
//! through `bridge::route`, the same handlers as the Lambdas), deps wired to the sandbox, and
//! DynamoDB tables on the test server when one is configured.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::{to_bytes, Body as AxumBody};
use axum::http::Request as AxumRequest;
use axum::response::{IntoResponse, Response};
use bridge::config::Settings;
use bridge::Deps;

pub const GHL_SECRET: &str = "e2e-ghl-secret";
pub const CLOUDTALK_SECRET: &str = "e2e-cloudtalk-secret";

/// Serves every bridge route on a free local port; returns the base URL.
pub async fn serve_bridge(deps: Arc<Deps>) -> String {
    let app = axum::Router::new().fallback(move |req: AxumRequest<AxumBody>| {
        let deps = deps.clone();
        async move {
            let (parts, body) = req.into_parts();
            let bytes = to_bytes(body, 1024 * 1024).await.unwrap_or_default();
            let request = lambda_http::http::Request::from_parts(
                parts,
                lambda_http::Body::Binary(bytes.to_vec()),
            );
            let response = bridge::route(&deps, request).await;
            let (parts, body) = response.into_parts();
            let bytes: Vec<u8> = body.as_ref().to_vec();
            Response::from_parts(parts, AxumBody::from(bytes)).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Configuration pointing both APIs at the sandbox.
pub fn config(sandbox_url: &str) -> Settings {
    let vars = [
        ("CLOUDTALK_API_BASE", format!("{sandbox_url}/cloudtalk/api")),
        ("CLOUDTALK_API_KEY_ID", "sandbox-key-id".into()),
        ("CLOUDTALK_API_KEY_SECRET", "sandbox-key-secret".into()),
        ("GHL_API_BASE", format!("{sandbox_url}/ghl")),
        ("GHL_API_TOKEN", "sandbox-ghl-token".into()),
        ("GHL_LOCATION_ID", "sandbox-location".into()),
        ("GHL_WEBHOOK_SECRET", GHL_SECRET.into()),
        ("CLOUDTALK_WEBHOOK_SECRET", CLOUDTALK_SECRET.into()),
        ("DEFAULT_PHONE_REGION", "IT".into()),
        (
            "CAMPAIGN_STAGE_MAP",
            r#"{"completed":{"pipelineId":"sandbox-pipeline","stageId":"campaign-done"}}"#.into(),
        ),
    ];
    Settings::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
}

/// The contact map and state on the DynamoDB test server (`DYNAMODB_TEST_ENDPOINT`, set by
/// `scripts/test.sh`), else in memory (skipped in CI, where the server must be there).
pub async fn dynamo_backends() -> bridge::Backends {
    let mut backends = bridge::Backends::in_memory();
    let endpoint = match std::env::var("DYNAMODB_TEST_ENDPOINT") {
        Ok(e) if !e.is_empty() => e,
        _ if std::env::var("CI").is_ok() => {
            panic!("DYNAMODB_TEST_ENDPOINT must be set in CI (run scripts/test.sh)")
        }
        _ => return backends,
    };
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
            .build(),
    );
    let stamp = format!(
        "{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let mut tables = Vec::new();
    for kind in ["contacts", "state"] {
        let name = format!("e2e-{kind}-{stamp}");
        client
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        tables.push(name);
    }
    backends.contacts = Arc::new(bridge::contact_map::DynamoContactMap::new(
        client.clone(),
        tables[0].clone(),
    ));
    backends.state = Arc::new(bridge::state::DynamoStateStore::new(
        client.clone(),
        tables[1].clone(),
    ));
    backends.idempotency = Arc::new(bridge::idempotency::DynamoIdempotencyStore::new(
        client,
        tables[1].clone(),
    ));
    backends
}

pub async fn post(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = client
        .post(url)
        .bearer_auth(secret)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}
