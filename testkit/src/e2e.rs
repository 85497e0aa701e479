//! The bridge over HTTP, for end-to-end runs against the sandbox: every route through
//! `bridge::route` (the same handlers as the Lambdas) on a local port, settings pointing both
//! vendors' APIs (CloudTalk's API, AI and analytics APIs, GoHighLevel's) at the sandbox, and a
//! JSON request helper.

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

/// Configuration pointing every API the bridge calls at the sandbox.
pub fn settings(sandbox_url: &str) -> Settings {
    let vars = [
        ("CLOUDTALK_API_BASE", format!("{sandbox_url}/cloudtalk/api")),
        (
            "CLOUDTALK_AI_API_BASE",
            format!("{sandbox_url}/cloudtalk/ai/v1"),
        ),
        (
            "CLOUDTALK_ANALYTICS_API_BASE",
            format!("{sandbox_url}/cloudtalk/analytics"),
        ),
        (
            "CLOUDTALK_PLATFORM_API_BASE",
            format!("{sandbox_url}/cloudtalk/platform"),
        ),
        ("CLOUDTALK_API_KEY_ID", "sandbox-key-id".into()),
        ("CLOUDTALK_API_KEY_SECRET", "sandbox-key-secret".into()),
        ("GHL_API_BASE", format!("{sandbox_url}/ghl")),
        ("GHL_API_TOKEN", "sandbox-ghl-token".into()),
        ("GHL_LOCATION_ID", "sandbox-location".into()),
        ("GHL_WEBHOOK_SECRET", GHL_SECRET.into()),
        ("CLOUDTALK_WEBHOOK_SECRET", CLOUDTALK_SECRET.into()),
        ("DEFAULT_PHONE_REGION", "IT".into()),
        ("CLOUDTALK_RATE_PER_MIN", "60000".into()),
        ("GHL_RATE_PER_10S", "100000".into()),
        (
            "CAMPAIGN_STAGE_MAP",
            r#"{"completed":{"pipelineId":"sandbox-pipeline","stageId":"campaign-done"}}"#.into(),
        ),
    ];
    Settings::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
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
