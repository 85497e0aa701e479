//! The health routes: no auth, settings named but never shown, contact map reachability.

mod common;

use std::sync::Arc;

use bridge::contact_map::DynamoContactMap;
use common::*;

#[tokio::test]
async fn health_names_settings_without_values() {
    let fakes = Fakes::start().await;
    let (deps, _) = fakes.deps_with_memory_map();
    for (path, router) in [
        ("/health", "system"),
        ("/api/ghl-webhooks/test", "ghl-webhooks"),
        ("/api/cloudtalk-webhooks/test", "cloudtalk-webhooks"),
    ] {
        let res = bridge::route(&deps, get(path)).await;
        assert_eq!(res.status(), 200, "{path}");
        let text = String::from_utf8(res.body().to_vec()).unwrap();
        for secret in [
            GHL_SECRET,
            CLOUDTALK_SECRET,
            CT_KEY_ID,
            CT_KEY_SECRET,
            GHL_TOKEN,
            LOCATION,
        ] {
            assert!(!text.contains(secret), "{path} shows a setting's value");
        }
        let body = response_json(&res);
        assert_eq!(body["router"], router);
        assert_eq!(body["status"], "ok");
        assert_eq!(body["settings"]["GHL_API_TOKEN"], true);
        assert_eq!(body["settings"]["CONTACT_MAP_TABLE"], false);
        assert_eq!(body["contactMap"]["reachable"], true);
    }
    assert!(received(&fakes.cloudtalk).await.is_empty());
}

#[tokio::test]
async fn health_reports_an_unreachable_contact_map() {
    let fakes = Fakes::start().await;
    let dynamo = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .endpoint_url("http://127.0.0.1:9")
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "t", "t", None, None, "t",
            ))
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build(),
    );
    let deps = fakes.deps(Arc::new(DynamoContactMap::new(dynamo, "contact-map")));
    let res = bridge::route(&deps, get("/health")).await;
    assert_eq!(res.status(), 503);
    let body = response_json(&res);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["contactMap"]["reachable"], false);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let fakes = Fakes::start().await;
    let (deps, _) = fakes.deps_with_memory_map();
    assert_eq!(bridge::route(&deps, get("/nope")).await.status(), 404);
    let res = bridge::route(&deps, get("/api/ghl-webhooks/new-contact")).await;
    assert_eq!(res.status(), 405);
    assert_eq!(response_json(&res)["error"], "no_route");
}
