//! Every sample in `events/` goes through the real handler, so the files behind
//! `cargo lambda invoke --data-file` and `sam local invoke -e` never drift from the code.
//!
//! The expected status comes from the file name: `unauthorized*` → 401, `bad-*` → 400,
//! `missing-*` and `invalid-*` → 422, anything else → 200.

use std::path::{Path, PathBuf};

use bridge::Deps;
use bridge_testkit::*;
use lambda_http::{Body, Response};
use serde_json::json;

const EVENTS_GHL_SECRET: &str = "local-dev-ghl-secret";
const EVENTS_CLOUDTALK_SECRET: &str = "local-dev-cloudtalk-secret";

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn expected_status(case: &str) -> u16 {
    bridge::expected_sample_status(case)
}

fn event_files() -> Vec<(String, String, PathBuf)> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(events_dir()).expect("events/ exists") {
        let dir = dir.unwrap().path();
        assert!(
            dir.is_dir(),
            "events/ holds one folder per function: {dir:?}"
        );
        let function = dir.file_name().unwrap().to_string_lossy().to_string();
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            assert_eq!(
                file.extension().and_then(|e| e.to_str()),
                Some("json"),
                "{file:?}"
            );
            let case = file.file_stem().unwrap().to_string_lossy().to_string();
            files.push((function.clone(), case, file));
        }
    }
    files.sort();
    files
}

/// The test signing key, for the app's signed install sample (signed at its timestamp).
const ED_PUBLIC: &str = include_str!("fixtures/test-ed25519-public.pem");
const INSTALL_SIGNED_AT_MS: i64 = 1_795_861_200_000; // 2026-11-28T10:20:00Z

async fn deps(fakes: &Fakes) -> Deps {
    let mut config = config(&fakes.cloudtalk, &fakes.ghl);
    config.secrets.ghl_webhook_secrets = vec![EVENTS_GHL_SECRET.to_string()];
    config.secrets.cloudtalk_webhook_secrets = vec![EVENTS_CLOUDTALK_SECRET.to_string()];
    // The samples come from location loc_abc123, as in the local run.
    config.config.ghl_location_id = Some("loc_abc123".to_string());
    config.config.campaign_stage_map = bridge::config::CampaignStageMap::parse(
        r#"{"completed":{"pipelineId":"pipe-1","stageId":"stage-done"}}"#,
    );
    // Agency mode, for the app's install and its OAuth callback.
    config.config.ghl_app_client_id = Some("app-client".to_string());
    config.secrets.ghl_app_client_secret = Some("app-secret".to_string());
    config.config.ghl_app_id = Some("app_123".to_string());
    config.config.ghl_webhook_public_key = Some(ED_PUBLIC.to_string());
    // Texts: sent from the company's number, received under the app's SMS provider.
    config.config.sms.sender = Some("+442039960000".to_string());
    config.config.sms.provider_id = Some("sms-provider-1".to_string());
    let mut backends = bridge::Backends::in_memory();
    backends.tenants = Some(std::sync::Arc::new(
        bridge::tenants::MemoryTenantStore::new(),
    ));
    Deps::build(config, backends).unwrap()
}

/// [`deps`] at the time the signed install sample was signed.
async fn deps_at_install(fakes: &Fakes) -> Deps {
    let base = deps(fakes).await;
    let mut settings = bridge_testkit::config(&fakes.cloudtalk, &fakes.ghl);
    settings.config = base.config.clone();
    settings.secrets = (*base.secrets()).clone();
    settings.config.ghl_app_id = Some("app_123".to_string());
    let clock = std::sync::Arc::new(bridge::clock::ManualClock::at_ms(
        INSTALL_SIGNED_AT_MS + 60_000,
    ));
    let mut backends = bridge::Backends::in_memory();
    backends.tenants = Some(std::sync::Arc::new(
        bridge::tenants::MemoryTenantStore::new(),
    ));
    Deps::build_with_clock(settings, backends, clock).unwrap()
}

/// Fakes that answer every sample: empty feeds, no existing records, and ready summaries.
async fn fakes_for_samples() -> Fakes {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    // The announcements of ready summaries find them ready.
    bridge_testkit::mount_cloudtalk_ai(&fakes.cloudtalk, "The caller asked for a quote.").await;
    // The contact of the Do Not Disturb samples, as GHL holds it: calls barred.
    let barred = json!({"contact": {"id": "ghl_345678", "locationId": "loc_abc123",
        "phone": "+393331234567", "dnd": false, "dndSettings": {"Call": {"status": "active"}}}});
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/contacts/ghl_345678"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(barred))
        .with_priority(1)
        .mount(&fakes.ghl)
        .await;
    // The contact the text samples are for, as GHL holds it in the samples' location.
    let texted = json!({"contact": {"id": "ghl_123456", "locationId": "loc_abc123",
        "firstName": "Anna", "phone": "+393331234567"}});
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/contacts/ghl_123456"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(texted))
        .with_priority(1)
        .mount(&fakes.ghl)
        .await;
    fakes
}

/// An EventBridge scheduled event: one reconciliation run over the fakes' feeds.
async fn runs_the_scheduled_reconciliation(deps: &Deps, fakes: &Fakes, file: &Path, text: &str) {
    let event: serde_json::Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{file:?} is not JSON: {e}"));
    assert_eq!(event["detail-type"], "Scheduled Event", "{file:?}");
    let summary = bridge::reconcile::handle(deps, event, None)
        .await
        .unwrap_or_else(|e| panic!("{file:?}: {e}"));
    assert_eq!(
        summary["applied"], 2,
        "{file:?}: the call and its recording: {summary}"
    );
    assert!(
        !received(&fakes.ghl).await.is_empty(),
        "{file:?} wrote nothing"
    );
}

/// An SQS batch for the retry worker: every queued event is applied.
async fn runs_the_worker_batch(deps: &Deps, fakes: &Fakes, file: &Path, text: &str) {
    let batch: bridge::worker::SqsEvent =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{file:?} is not an SQS event: {e}"));
    let records = batch.records.len();
    let answer = bridge::worker::handle_batch(deps, batch, None).await;
    assert!(
        records > 0 && answer.batch_item_failures.is_empty(),
        "{file:?}: {answer:?}"
    );
    assert!(
        !received(&fakes.ghl).await.is_empty(),
        "{file:?} wrote nothing"
    );
}

/// An API Gateway HTTP API v2 event, checked to be one of its function's routes and answered.
async fn answers_the_http_event(
    deps: &Deps,
    function: &str,
    file: &Path,
    text: &str,
) -> Response<Body> {
    let req = lambda_http::request::from_str(text)
        .unwrap_or_else(|e| panic!("{file:?} is not an API Gateway HTTP API v2 event: {e}"));
    let path = req.uri().path().to_string();
    assert!(
        bridge::registry::routes()
            .iter()
            .any(|e| e.function == function && e.route == path),
        "{file:?}: {path} is not a route of {function}"
    );
    bridge::route(deps, req).await
}

/// The OAuth callback answers with a page for the installer's browser.
async fn serves_the_oauth_callback_page(
    deps: &Deps,
    case: &str,
    file: &Path,
    res: &Response<Body>,
) {
    let status = res.status().as_u16();
    assert_eq!(status, expected_status(case), "{file:?}");
    let html = String::from_utf8_lossy(res.body().as_ref()).to_string();
    assert!(html.starts_with("<!doctype html>"), "{file:?}: {html}");
    assert!(!html.contains("granted-access"), "no token on the page");
    if status == 200 {
        let tenants = deps.tenants.as_ref().unwrap();
        let tenant = tenants.get("loc_new456").await.unwrap().unwrap();
        assert_eq!(
            tenant.secrets.ghl_refresh_token.as_deref(),
            Some("granted-refresh")
        );
    }
}

/// A webhook (or the app's install) answers with JSON: applied, stored or installed when it
/// succeeds, and an error without a call upstream when it is refused.
async fn answers_the_webhook(
    deps: &Deps,
    fakes: &Fakes,
    function: &str,
    case: &str,
    file: &Path,
    res: &Response<Body>,
) {
    let status = res.status().as_u16();
    let body = response_json(res);
    assert_eq!(status, expected_status(case), "{file:?} answered {body}");
    if status == 200 && function == "ghl-app-install" {
        assert_eq!(body["result"], "installed", "{file:?}: {body}");
        let tenants = deps.tenants.as_ref().unwrap();
        assert!(
            tenants.get("loc_new456").await.unwrap().is_some(),
            "{file:?}"
        );
        return;
    }
    if status == 200 && function == "ghl-dnd-change" {
        assert_eq!(body["blacklisted"], 1, "{file:?}: {body}");
        let added = received(&fakes.cloudtalk).await;
        assert!(
            added.iter().any(|r| r.path == "/api/blacklist/add.json"),
            "{file:?} barred nothing"
        );
        return;
    }
    if status == 200 && function == "ghl-sms-delivery" {
        assert_eq!(body["result"], "delivered", "{file:?}: {body}");
        let sent = received(&fakes.cloudtalk).await;
        assert!(
            sent.iter().any(|r| r.path == "/api/sms/send.json"),
            "{file:?} sent nothing"
        );
        return;
    }
    if status == 200 && function.starts_with("ghl-") {
        assert!(body["cloudtalkContactId"].is_string(), "{file:?}: {body}");
        assert!(
            !received(&fakes.cloudtalk).await.is_empty(),
            "{file:?} wrote nothing"
        );
    }
    if status == 200 && function.starts_with("cloudtalk-") && function != "cloudtalk-generic" {
        assert_eq!(body["result"], "applied", "{file:?}: {body}");
        assert!(
            !received(&fakes.ghl).await.is_empty(),
            "{file:?} wrote nothing"
        );
    }
    if status == 200 && function == "cloudtalk-generic" {
        assert_eq!(body["result"], "stored", "{file:?}: {body}");
    }
    if status != 200 {
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{file:?}: {body}"
        );
        assert!(
            received(&fakes.cloudtalk).await.is_empty(),
            "{file:?} was refused but called CloudTalk"
        );
        assert!(
            received(&fakes.ghl).await.is_empty(),
            "{file:?} was refused but called GoHighLevel"
        );
    }
}

#[tokio::test]
async fn every_event_file_runs_through_its_handler() {
    let files = event_files();
    assert!(
        files.len() >= 20,
        "expected the sample events, found {}",
        files.len()
    );
    for (function, case, file) in files {
        let fakes = fakes_for_samples().await;
        let deps = match function.as_str() {
            "ghl-app-install" => deps_at_install(&fakes).await,
            _ => deps(&fakes).await,
        };
        let text = std::fs::read_to_string(&file).unwrap();
        if function == bridge::reconcile::FUNCTION {
            runs_the_scheduled_reconciliation(&deps, &fakes, &file, &text).await;
            continue;
        }
        if function == bridge::worker::FUNCTION {
            runs_the_worker_batch(&deps, &fakes, &file, &text).await;
            continue;
        }
        let res = answers_the_http_event(&deps, &function, &file, &text).await;
        if function == bridge::registry::OAUTH_CALLBACK_FUNCTION {
            serves_the_oauth_callback_page(&deps, &case, &file, &res).await;
        } else {
            answers_the_webhook(&deps, &fakes, &function, &case, &file, &res).await;
        }
    }
}

#[tokio::test]
async fn every_function_has_a_successful_sample() {
    let files = event_files();
    assert!(
        files.iter().any(|(f, _, _)| f == bridge::worker::FUNCTION),
        "events/retry-worker/ is empty"
    );
    for endpoint in bridge::registry::routes() {
        assert!(
            files
                .iter()
                .any(|(f, case, _)| f == endpoint.function && expected_status(case) == 200),
            "events/{}/ has no sample that succeeds",
            endpoint.function
        );
    }
}
