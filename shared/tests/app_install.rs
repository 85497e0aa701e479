//! The Marketplace app's install through the real handlers: the OAuth callback for a location
//! and for an agency, location tokens minted on demand from the agency's, the signed
//! `INSTALL` / `UNINSTALL` webhooks creating and retiring tenants, what is refused, and an
//! operator's disable outliving a re-install (recorded and reported, not applied) where an
//! uninstall's does not.

use std::sync::Arc;

use bridge::tenants::{DisabledBy, GhlAuth, InstallVia, MemoryTenantStore, TenantStatus, Tenants};
use bridge::Deps;
use bridge_testkit::*;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::Signer as _;
use lambda_http::Request;
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, ResponseTemplate};

/// The cases run one at a time: a case that captures the log lines must not share the
/// process's tracing callsites with cases running without a subscriber.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const ED_PRIVATE: &str = include_str!("fixtures/test-ed25519-private.pem");
const ED_PUBLIC: &str = include_str!("fixtures/test-ed25519-public.pem");
const APP_ID: &str = "app_123";

/// A deployment of the app: OAuth client, app id, install signing key, a tenant registry.
fn app_deployment(fakes: &Fakes) -> Deps {
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.secrets.tenant_seal_key = Some("test-seal-key".into());
    settings.secrets.ghl_app_client_secret = Some("app-secret".into());
    settings.config.ghl_app_client_id = Some("app-client".into());
    settings.config.ghl_app_id = Some(APP_ID.into());
    settings.config.ghl_webhook_public_key = Some(ED_PUBLIC.into());
    let mut backends = bridge::Backends::in_memory();
    backends.tenants = Some(Arc::new(MemoryTenantStore::new()));
    Deps::build(settings, backends).unwrap()
}

fn tenants(deps: &Deps) -> &Tenants {
    deps.tenants.as_deref().unwrap()
}

/// An agency (`Company`) install approving two locations.
fn agency_grant() -> Value {
    json!({"access_token": "agency-access", "refresh_token": "agency-refresh",
        "expires_in": 86399, "token_type": "Bearer", "userType": "Company",
        "companyId": "comp_9", "approvedLocations": ["loc_a", "loc_b"], "isBulkInstallation": true})
}

/// GHL's OAuth endpoints: `code` answers `grant`; location tokens are minted per location.
async fn mount_oauth(fakes: &Fakes, code: &str, grant: Value) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains(format!("code={code}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(grant))
        .mount(&fakes.ghl)
        .await;
    for location in ["loc_a", "loc_b"] {
        Mock::given(method("POST"))
            .and(path("/oauth/locationToken"))
            .and(body_string_contains(format!("locationId={location}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": format!("minted-{location}"), "expires_in": 86399,
                "userType": "Location", "locationId": location, "companyId": "comp_9"})))
            .mount(&fakes.ghl)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "Invalid authorization code"}),
        ))
        .mount(&fakes.ghl)
        .await;
}

async fn callback(deps: &Deps, query: &str) -> (u16, String) {
    let res = bridge::route(deps, get(&format!("/oauth/callback{query}"))).await;
    let html = String::from_utf8_lossy(res.body().as_ref()).to_string();
    (res.status().as_u16(), html)
}

/// Gives `location`'s tenant its CloudTalk key and webhook secrets (what `tenants
/// set-cloudtalk` does).
async fn set_cloudtalk(deps: &Deps, location: &str) {
    let registry = tenants(deps);
    let mut tenant = registry.get(location).await.unwrap().unwrap();
    tenant.record.cloudtalk_key_id = Some(format!("ct-key-{location}"));
    tenant.secrets.cloudtalk_key_secret = Some(format!("ct-secret-{location}"));
    tenant.secrets.cloudtalk_webhook_secrets = vec![format!("ct-hook-{location}")];
    registry.save(&tenant, Some(tenant.version)).await.unwrap();
}

async fn call_ended(deps: &Deps, location: &str, call_id: u64) -> (u16, Value) {
    let body = json!({"call_id": call_id, "contact_id": 77, "external_number": "+393334444444",
        "status": "answered", "talking_time": 30});
    let path = format!("/api/cloudtalk-webhooks/{location}/call-ended");
    let secret = format!("ct-hook-{location}");
    let res = bridge::route(deps, post(&path, &body.to_string(), Some(&secret))).await;
    (res.status().as_u16(), response_json(&res))
}

/// A signed install webhook, as GHL sends it to the app's webhook URL.
fn install_webhook(kind: &str, location: Option<&str>, company: &str, app: &str) -> Request {
    let id = format!("wh-{kind}-{}", location.unwrap_or("agency"));
    signed_install(kind, location, company, app, &id)
}

/// A signed install webhook with its own `webhookId` (a second install is another event).
fn signed_install(
    kind: &str,
    location: Option<&str>,
    company: &str,
    app: &str,
    webhook_id: &str,
) -> Request {
    let mut body = json!({"type": kind, "appId": app, "companyId": company,
        "webhookId": webhook_id,
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)});
    if let Some(location) = location {
        body["locationId"] = json!(location);
    }
    let body = body.to_string();
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(ED_PRIVATE).unwrap();
    let signature = base64_std(&key.sign(body.as_bytes()).to_bytes());
    let mut req = post("/api/ghl-webhooks/app-install", &body, None);
    req.headers_mut()
        .insert("x-ghl-signature", signature.parse().unwrap());
    req
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn send(deps: &Deps, req: Request) -> (u16, Value) {
    let res = bridge::route(deps, req).await;
    (res.status().as_u16(), response_json(&res))
}

#[tokio::test]
async fn an_agency_install_serves_its_locations_with_tokens_minted_on_demand() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_oauth(&fakes, "agency-code", agency_grant()).await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    let deps = app_deployment(&fakes);
    let (logs_guard, logs) = capture_logs();

    let (status, html) = callback(&deps, "?code=agency-code").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("loc_a") && html.contains("loc_b"), "{html}");
    for token in ["agency-access", "agency-refresh"] {
        assert!(!html.contains(token), "no token on the page");
    }
    let registry = tenants(&deps);
    let (company, _, access, refresh) = registry.company("comp_9").await.unwrap().unwrap();
    assert_eq!(company.status, TenantStatus::Active);
    assert_eq!(access.as_deref(), Some("agency-access"));
    assert_eq!(refresh.as_deref(), Some("agency-refresh"));
    for location in ["loc_a", "loc_b"] {
        let tenant = registry.get(location).await.unwrap().unwrap();
        assert_eq!(tenant.record.ghl_auth, GhlAuth::AgencyInstall, "{location}");
        assert_eq!(tenant.record.company_id.as_deref(), Some("comp_9"));
        assert_eq!(tenant.secrets.ghl_access_token, None, "minted on demand");
    }
    // Nothing is minted until a location is served.
    let minted = |seen: &[Seen]| {
        seen.iter()
            .filter(|r| r.path == "/oauth/locationToken")
            .map(|r| (r.raw_body.clone(), r.authorization.clone()))
            .collect::<Vec<_>>()
    };
    assert!(minted(&received(&fakes.ghl).await).is_empty());

    set_cloudtalk(&deps, "loc_a").await;
    for call_id in [6001, 6002] {
        let (status, answer) = call_ended(&deps, "loc_a", call_id).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["result"], "applied", "{answer}");
    }
    let seen = received(&fakes.ghl).await;
    let mints = minted(&seen);
    assert_eq!(
        mints.len(),
        1,
        "one location token for both calls: {mints:?}"
    );
    assert!(mints[0].0.contains("companyId=comp_9") && mints[0].0.contains("locationId=loc_a"));
    assert_eq!(mints[0].1.as_deref(), Some("Bearer agency-access"));
    let api: Vec<&Seen> = seen
        .iter()
        .filter(|r| !r.path.starts_with("/oauth/"))
        .collect();
    assert!(!api.is_empty());
    assert!(
        api.iter()
            .all(|r| r.authorization.as_deref() == Some("Bearer minted-loc_a")),
        "every GHL call of loc_a uses its minted token"
    );
    let kept = registry.get("loc_a").await.unwrap().unwrap();
    assert_eq!(
        kept.secrets.ghl_access_token.as_deref(),
        Some("minted-loc_a")
    );
    drop(logs_guard);
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    assert!(
        text.contains("oauth_callback"),
        "the callback's line is logged"
    );
    for token in ["agency-access", "agency-refresh", "minted-loc_a"] {
        assert!(!text.contains(token), "{token} in the log");
    }
}

#[tokio::test]
async fn a_used_or_invalid_code_installs_nothing() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_oauth(&fakes, "agency-code", agency_grant()).await;
    let deps = app_deployment(&fakes);
    let (status, html) = callback(&deps, "?code=spent-code").await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("start the installation again"), "{html}");
    let (status, _) = callback(&deps, "").await;
    assert_eq!(status, 400);
    assert!(tenants(&deps).list().await.unwrap().is_empty());
    assert!(tenants(&deps).company("comp_9").await.unwrap().is_none());
    let exchanges = received(&fakes.ghl).await;
    assert_eq!(exchanges.len(), 1, "no code, no request: {exchanges:?}");
}

#[tokio::test]
async fn install_and_uninstall_webhooks_create_and_retire_tenants() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_oauth(&fakes, "agency-code", agency_grant()).await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    let deps = app_deployment(&fakes);
    let registry = tenants(&deps);

    // A location install with no agency on record waits for its authorization.
    let (status, answer) = send(
        &deps,
        install_webhook("INSTALL", Some("loc_solo"), "comp_x", APP_ID),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], "installed");
    let solo = registry.get("loc_solo").await.unwrap().unwrap();
    assert_eq!(solo.record.status, TenantStatus::AwaitingAuthorization);
    assert_eq!(solo.record.ghl_auth, GhlAuth::LocationInstall);

    // With the agency installed, a new location is served at once through the agency.
    let (status, _) = callback(&deps, "?code=agency-code").await;
    assert_eq!(status, 200);
    let (status, answer) = send(
        &deps,
        install_webhook("INSTALL", Some("loc_c"), "comp_9", APP_ID),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let added = registry.get("loc_c").await.unwrap().unwrap();
    assert_eq!(added.record.status, TenantStatus::Active);
    assert_eq!(added.record.ghl_auth, GhlAuth::AgencyInstall);

    // Uninstalling a location retires it: its routes refuse, its tokens are gone.
    set_cloudtalk(&deps, "loc_a").await;
    let (status, _) = call_ended(&deps, "loc_a", 7001).await;
    assert_eq!(status, 200);
    let (status, answer) = send(
        &deps,
        install_webhook("UNINSTALL", Some("loc_a"), "comp_9", APP_ID),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], "uninstalled");
    let retired = registry.get("loc_a").await.unwrap().unwrap();
    assert_eq!(retired.record.status, TenantStatus::Disabled);
    assert_eq!(retired.secrets.ghl_access_token, None);
    let before = received(&fakes.cloudtalk).await.len() + received(&fakes.ghl).await.len();
    let (status, answer) = call_ended(&deps, "loc_a", 7002).await;
    assert_eq!(status, 403, "{answer}");
    let after = received(&fakes.cloudtalk).await.len() + received(&fakes.ghl).await.len();
    assert_eq!(before, after, "a retired tenant makes no upstream call");

    // Uninstalling the agency retires every location served through it.
    let (status, _) = send(&deps, install_webhook("UNINSTALL", None, "comp_9", APP_ID)).await;
    assert_eq!(status, 200);
    for location in ["loc_b", "loc_c"] {
        let tenant = registry.get(location).await.unwrap().unwrap();
        assert_eq!(tenant.record.status, TenantStatus::Disabled, "{location}");
    }
    let (company, _, access, _) = registry.company("comp_9").await.unwrap().unwrap();
    assert_eq!(company.status, TenantStatus::Disabled);
    assert!(access.unwrap_or_default().is_empty());
    // The location installed on its own is not the agency's.
    let solo = registry.get("loc_solo").await.unwrap().unwrap();
    assert_eq!(solo.record.status, TenantStatus::AwaitingAuthorization);
}

#[tokio::test]
async fn installs_of_another_app_or_unsigned_are_refused_with_nothing_written() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    let deps = app_deployment(&fakes);
    let (status, answer) = send(
        &deps,
        install_webhook("INSTALL", Some("loc_z"), "comp_z", "someone_elses_app"),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["error"], "foreign_app");
    let mut unsigned = install_webhook("INSTALL", Some("loc_z"), "comp_z", APP_ID);
    unsigned.headers_mut().remove("x-ghl-signature");
    let (status, answer) = send(&deps, unsigned).await;
    assert_eq!(status, 401, "{answer}");
    let mut tampered = install_webhook("INSTALL", Some("loc_z"), "comp_z", APP_ID);
    *tampered.body_mut() = lambda_http::Body::Text(
        json!({"type": "INSTALL", "appId": APP_ID, "locationId": "loc_evil", "companyId": "c",
            "timestamp": chrono::Utc::now().to_rfc3339()})
        .to_string(),
    );
    let (status, answer) = send(&deps, tampered).await;
    assert_eq!(status, 401, "{answer}");
    assert!(tenants(&deps).list().await.unwrap().is_empty());
    assert!(received(&fakes.ghl).await.is_empty());
    assert!(received(&fakes.cloudtalk).await.is_empty());
}

#[tokio::test]
async fn the_apps_webhook_url_applies_every_event_type_by_its_endpoint() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let deps = app_deployment(&fakes);
    let body = json!({"type": "ContactCreate", "webhookId": "wh-contact-1", "appId": APP_ID,
        "locationId": LOCATION, "id": "ghl-c-1", "firstName": "Anna", "phone": "+393471234567",
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)})
    .to_string();
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(ED_PRIVATE).unwrap();
    let mut req = post("/api/ghl-webhooks/app-install", &body, None);
    req.headers_mut().insert(
        "x-ghl-signature",
        base64_std(&key.sign(body.as_bytes()).to_bytes())
            .parse()
            .unwrap(),
    );
    let (status, answer) = send(&deps, req).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["appliedBy"], "ghl-new-contact", "{answer}");
    assert!(answer["cloudtalkContactId"].is_string(), "{answer}");
}

/// What `bridge tenants disable` writes: the operator's decision.
async fn operator_disables(deps: &Deps, location: &str) {
    let registry = tenants(deps);
    let mut tenant = registry.get(location).await.unwrap().unwrap();
    tenant.record.disable(DisabledBy::Operator);
    registry.save(&tenant, Some(tenant.version)).await.unwrap();
}

/// The `reinstall_refused` log lines.
fn refusal_lines(logs: &Captured) -> Vec<Value> {
    logs.lines()
        .into_iter()
        .filter(|l| l["fields"]["message"] == "reinstall_refused")
        .collect()
}

#[tokio::test]
async fn a_reinstall_webhook_does_not_undo_an_operators_disable_but_undoes_an_uninstall() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_oauth(&fakes, "agency-code", agency_grant()).await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    let deps = app_deployment(&fakes);
    let registry = tenants(&deps);
    let (status, _) = callback(&deps, "?code=agency-code").await;
    assert_eq!(status, 200);
    set_cloudtalk(&deps, "loc_a").await;
    operator_disables(&deps, "loc_a").await;
    let (logs_guard, logs) = capture_logs();

    // GHL sends INSTALL again: recorded and reported, not applied.
    let reinstall = signed_install("INSTALL", Some("loc_a"), "comp_9", APP_ID, "wh-again-1");
    let (status, answer) = send(&deps, reinstall).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], "reinstall_refused", "{answer}");
    let kept = registry.get("loc_a").await.unwrap().unwrap();
    assert_eq!(kept.record.status, TenantStatus::Disabled);
    assert!(kept.record.disabled_by_operator());
    let refused = &kept.record.reinstalls_refused;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].via, InstallVia::InstallWebhook);
    assert_eq!(refused[0].company_id.as_deref(), Some("comp_9"));
    let (status, answer) = call_ended(&deps, "loc_a", 7101).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (403, Some("tenant_disabled"))
    );

    // An uninstall then leaves it the operator's: the next install is refused too.
    let uninstall = signed_install("UNINSTALL", Some("loc_a"), "comp_9", APP_ID, "wh-off-1");
    assert_eq!(send(&deps, uninstall).await.0, 200);
    let reinstall = signed_install("INSTALL", Some("loc_a"), "comp_9", APP_ID, "wh-again-2");
    assert_eq!(
        send(&deps, reinstall).await.1["result"],
        "reinstall_refused"
    );
    let kept = registry.get("loc_a").await.unwrap().unwrap();
    assert_eq!(kept.record.status, TenantStatus::Disabled);
    assert_eq!(kept.record.reinstalls_refused.len(), 2);

    // A tenant only uninstalled is enabled again by the next install, as before.
    let uninstall = signed_install("UNINSTALL", Some("loc_b"), "comp_9", APP_ID, "wh-off-b");
    assert_eq!(send(&deps, uninstall).await.0, 200);
    let off = registry.get("loc_b").await.unwrap().unwrap();
    assert_eq!(off.record.disabled_by, Some(DisabledBy::Uninstall));
    let reinstall = signed_install("INSTALL", Some("loc_b"), "comp_9", APP_ID, "wh-again-b");
    let (status, answer) = send(&deps, reinstall).await;
    assert_eq!(
        (status, answer["result"].as_str()),
        (200, Some("reinstalled"))
    );
    let back = registry.get("loc_b").await.unwrap().unwrap();
    assert_eq!(back.record.status, TenantStatus::Active);
    assert_eq!(back.record.disabled_by, None);

    drop(logs_guard);
    let lines = refusal_lines(&logs);
    assert_eq!(lines.len(), 2, "one line per refused re-install");
    assert_eq!(lines[0]["fields"]["tenant"], "loc_a");
    assert_eq!(lines[0]["fields"]["via"], "install_webhook");
    assert_eq!(lines[0]["fields"]["company"], "comp_9");
    for token in ["agency-access", "agency-refresh", "ct-hook-loc_a"] {
        assert!(!logs.text().contains(token), "{token} in the log");
    }
}

/// GHL's OAuth token endpoint: each code answers a location install of `location` whose
/// access token is `access`.
async fn mount_location_codes(fakes: &Fakes, codes: &[(&str, &str, &str)]) {
    for (code, location, access) in codes {
        let grant = json!({"access_token": access, "refresh_token": format!("{access}-refresh"),
            "expires_in": 86399, "token_type": "Bearer", "userType": "Location",
            "companyId": "comp_s", "locationId": location});
        Mock::given(method("POST"))
            .and(path("/oauth/token"))
            .and(body_string_contains(format!("code={code}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(grant))
            .mount(&fakes.ghl)
            .await;
    }
}

#[tokio::test]
async fn the_oauth_callback_does_not_undo_an_operators_disable_but_undoes_an_uninstall() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    let codes = [
        ("solo-1", "loc_solo", "solo-access-1"),
        ("solo-2", "loc_solo", "solo-access-2"),
        ("two-1", "loc_two", "two-access-1"),
        ("two-2", "loc_two", "two-access-2"),
    ];
    mount_location_codes(&fakes, &codes).await;
    let deps = app_deployment(&fakes);
    let registry = tenants(&deps);
    assert_eq!(callback(&deps, "?code=solo-1").await.0, 200);
    operator_disables(&deps, "loc_solo").await;
    let (logs_guard, logs) = capture_logs();

    // The installer comes back: the page says it is not served, the tenant keeps what it had.
    let (status, html) = callback(&deps, "?code=solo-2").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Not installed") && html.contains("Not served: loc_solo"),
        "{html}"
    );
    let kept = registry.get("loc_solo").await.unwrap().unwrap();
    assert_eq!(kept.record.status, TenantStatus::Disabled);
    assert!(kept.record.disabled_by_operator());
    assert_eq!(
        kept.secrets.ghl_access_token.as_deref(),
        Some("solo-access-1"),
        "the refused install's tokens are not kept"
    );
    let refused = &kept.record.reinstalls_refused;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].via, InstallVia::OauthCallback);
    assert_eq!(refused[0].company_id.as_deref(), Some("comp_s"));
    drop(logs_guard);
    let lines = refusal_lines(&logs);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["fields"]["via"], "oauth_callback");
    assert_eq!(lines[0]["fields"]["tenant"], "loc_solo");
    for token in ["solo-access-1", "solo-access-2"] {
        assert!(!logs.text().contains(token), "{token} in the log");
    }

    // Uninstalled, a location installed again through the callback is served again.
    assert_eq!(callback(&deps, "?code=two-1").await.0, 200);
    let uninstall = signed_install("UNINSTALL", Some("loc_two"), "comp_s", APP_ID, "wh-off-2");
    assert_eq!(send(&deps, uninstall).await.0, 200);
    let off = registry.get("loc_two").await.unwrap().unwrap();
    assert_eq!(off.record.status, TenantStatus::Disabled);
    assert_eq!(off.secrets.ghl_access_token, None);
    let (status, html) = callback(&deps, "?code=two-2").await;
    assert_eq!(status, 200, "{html}");
    assert!(!html.contains("Not served"), "{html}");
    let back = registry.get("loc_two").await.unwrap().unwrap();
    assert_eq!(back.record.status, TenantStatus::Active);
    assert_eq!(back.record.disabled_by, None);
    assert_eq!(
        back.secrets.ghl_access_token.as_deref(),
        Some("two-access-2")
    );
}
