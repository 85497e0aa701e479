//! Logs carry no personal data or secrets: every sample event (every endpoint), plus failing
//! upstream calls whose messages quote a phone number, runs through the real handlers while the
//! log output is captured; no phone number, email, note body, token or secret may appear in it.

use std::path::Path;

use bridge_testkit::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// Personal data and secrets present in the sample events and the fakes' answers.
const FORBIDDEN: &[&str] = &[
    "393501234567",
    "3501234567",
    "393513416607",
    "3513416607",
    "393471234567",
    "4155552671",
    "393331234567",
    "393807939119",
    "mario@example.com",
    "giulia@example.com",
    "anna.verdi@example.com",
    "paolo.gialli@example.com",
    "Cliente interessato",
    "Asked for a callback",
    "Posso richiamare",
    "local-dev-ghl-secret",
    "local-dev-cloudtalk-secret",
    GHL_TOKEN,
    CT_KEY_SECRET,
    GHL_SECRET,
    CLOUDTALK_SECRET,
];

#[tokio::test]
async fn no_endpoint_logs_personal_data_or_secrets() {
    let (_guard, captured) = capture_logs();

    let events = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut endpoints_seen = std::collections::BTreeSet::new();
    let fakes = Fakes::start().await;
    for dir in std::fs::read_dir(&events).unwrap() {
        let dir = dir.unwrap().path();
        let function = dir.file_name().unwrap().to_string_lossy().to_string();
        if function == bridge::worker::FUNCTION {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            fakes.reset_cloudtalk().await;
            fakes.reset_ghl().await;
            // Upstream errors that quote the number they refused.
            Mock::given(method("PUT"))
                .and(path("/api/notes/add/9001.json"))
                .respond_with(ResponseTemplate::new(406).set_body_json(json!({"responseData":{"status":406,
                    "message":"Invalid input data.","data":{"public_number":["Number 393807939119 is not valid."]}}})))
                .with_priority(1)
                .mount(&fakes.cloudtalk)
                .await;
            mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
            mount_ghl(&fakes.ghl, json!(null), json!([])).await;
            let mut cfg = config(&fakes.cloudtalk, &fakes.ghl);
            cfg.secrets.ghl_webhook_secrets = vec!["local-dev-ghl-secret".into()];
            cfg.secrets.cloudtalk_webhook_secrets = vec!["local-dev-cloudtalk-secret".into()];
            let deps = bridge::Deps::build(cfg, bridge::Backends::in_memory()).unwrap();
            let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
            if function == bridge::reconcile::FUNCTION {
                let event = serde_json::from_str(&text).unwrap();
                bridge::reconcile::handle(&deps, event, None).await.unwrap();
                endpoints_seen.insert(function.clone());
                continue;
            }
            let req = lambda_http::request::from_str(&text).unwrap();
            bridge::route(&deps, req).await;
            endpoints_seen.insert(function.clone());
        }
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for endpoint in bridge::registry::routes()
        .iter()
        .filter(|e| e.method == "POST")
    {
        assert!(
            logs.contains(&format!("\"endpoint\":\"{}\"", endpoint.function)),
            "no log line for {}",
            endpoint.function
        );
    }
    assert!(
        logs.contains("…119") || logs.contains("\\u2026119"),
        "the refused number is logged masked"
    );
    for forbidden in FORBIDDEN {
        assert!(!logs.contains(forbidden), "the logs contain {forbidden:?}");
    }
    assert!(endpoints_seen.len() >= 14);
    assert!(
        logs.contains("\"message\":\"reconcile\""),
        "the reconcile summary line is checked too"
    );
}
