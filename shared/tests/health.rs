//! The health routes: no auth, settings named but never shown, contact map reachability.

use std::sync::Arc;

use bridge::contact_map::DynamoContactMap;
use bridge_testkit::*;

fn get_with_secret(path: &str, secret: &str) -> lambda_http::Request {
    let mut req = get(path);
    req.headers_mut()
        .insert("authorization", format!("Bearer {secret}").parse().unwrap());
    req
}

#[tokio::test]
async fn health_names_settings_without_values_to_a_caller_with_a_webhook_secret() {
    let fakes = Fakes::start().await;
    let (deps, _) = fakes.deps_with_memory_map();
    for (path, router) in [
        ("/health", "system"),
        ("/api/ghl-webhooks/test", "ghl-webhooks"),
        ("/api/cloudtalk-webhooks/test", "cloudtalk-webhooks"),
    ] {
        for secret in [GHL_SECRET, CLOUDTALK_SECRET] {
            let res = bridge::route(&deps, get_with_secret(path, secret)).await;
            assert_eq!(res.status(), 200, "{path}");
            let text = String::from_utf8(res.body().to_vec()).unwrap();
            for value in [
                GHL_SECRET,
                CLOUDTALK_SECRET,
                CT_KEY_ID,
                CT_KEY_SECRET,
                GHL_TOKEN,
                LOCATION,
            ] {
                assert!(!text.contains(value), "{path} shows a setting's value");
            }
            let body = response_json(&res);
            assert_eq!(body["router"], router);
            assert_eq!(body["status"], "ok");
            assert_eq!(body["settings"]["GHL_API_TOKEN"], true);
            assert_eq!(body["settings"]["CONTACT_MAP_TABLE"], false);
            assert_eq!(body["contactMap"]["reachable"], true);
        }
    }
    assert!(received(&fakes.cloudtalk).await.is_empty());
}

#[tokio::test]
async fn anonymous_health_is_coarse_and_names_no_setting() {
    let fakes = Fakes::start().await;
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    // The hole an attacker looks for: no GHL webhook secret (and here no CloudTalk key either).
    settings.secrets.ghl_webhook_secrets.clear();
    settings.secrets.cloudtalk_api_key_id = None;
    let deps = bridge::Deps::build(settings, bridge::Backends::in_memory()).unwrap();
    for path in [
        "/health",
        "/api/ghl-webhooks/test",
        "/api/cloudtalk-webhooks/test",
    ] {
        for req in [get(path), get_with_secret(path, "a-guess")] {
            let res = bridge::route(&deps, req).await;
            let text = String::from_utf8(res.body().to_vec()).unwrap();
            assert!(!text.contains("settings"), "{path}: {text}");
            for name in [
                "GHL_WEBHOOK_SECRET",
                "CLOUDTALK_API_KEY",
                "_SECRET",
                "TABLE",
            ] {
                assert!(!text.contains(name), "{path} names {name}: {text}");
            }
            let body = response_json(&res);
            let checks = body["checks"].as_object().unwrap();
            assert!(
                checks.values().all(|v| v == "ok" || v == "degraded"),
                "{text}"
            );
            assert_eq!(body["checks"]["contactMap"], "ok");
        }
    }
    let res = bridge::route(&deps, get("/api/ghl-webhooks/test")).await;
    assert_eq!(res.status(), 503);
    let body = response_json(&res);
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["checks"]["cloudtalk"], "degraded");
    // The CloudTalk router does not need the CloudTalk key.
    let res = bridge::route(&deps, get("/api/cloudtalk-webhooks/test")).await;
    assert_eq!(res.status(), 200);
    // A caller with the (CloudTalk) webhook secret learns what is missing.
    let res = bridge::route(&deps, get_with_secret("/health", CLOUDTALK_SECRET)).await;
    let body = response_json(&res);
    assert_eq!(body["settings"]["GHL_WEBHOOK_SECRET"], false);
    assert_eq!(body["settings"]["CLOUDTALK_API_KEY_ID"], false);
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
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["checks"]["contactMap"], "degraded");
    let res = bridge::route(&deps, get_with_secret("/health", GHL_SECRET)).await;
    assert_eq!(response_json(&res)["contactMap"]["reachable"], false);
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
