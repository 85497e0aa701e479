//! One gate for every way in (see `bridge::admission`), through the real pipeline and the real
//! retry worker: a tenant's secret opens only that tenant and never changes the registry; a
//! disabled tenant stays disabled whatever path its work takes; nothing is done for a caller who
//! has not authenticated; a token that cannot be had now makes the event wait on the queue; a
//! token answer lost after sending is never answered by sending the spent token again; the
//! worker parks what it cannot read; parsing never overflows.

use std::sync::Arc;

use bridge::retry_queue::{MemoryRetryQueue, QueuedEvent};
use bridge::tenants::registry::private_token_tenant;
use bridge::tenants::{
    GhlAuth, MemoryTenantStore, Tenant, TenantSecrets, TenantStatus, TenantStore, Tenants,
};
use bridge::worker::WorkerResult;
use bridge::Deps;
use bridge_testkit::*;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::Signer as _;
use lambda_http::Request;
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, ResponseTemplate};

/// The cases run one at a time: some capture the log lines.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const ED_PRIVATE: &str = include_str!("fixtures/test-ed25519-private.pem");
const ED_PUBLIC: &str = include_str!("fixtures/test-ed25519-public.pem");
const APP_ID: &str = "app_123";

struct Agency {
    fakes: Fakes,
    deps: Deps,
    store: Arc<MemoryTenantStore>,
    queue: Arc<MemoryRetryQueue>,
}

fn secrets_of(name: &str) -> TenantSecrets {
    TenantSecrets {
        cloudtalk_key_secret: Some(format!("ct-secret-{name}")),
        ghl_webhook_secrets: vec![format!("ghl-hook-{name}")],
        cloudtalk_webhook_secrets: vec![format!("ct-hook-{name}")],
        ghl_access_token: Some(format!("pit-{name}")),
        ghl_refresh_token: None,
        retiring: Vec::new(),
    }
}

/// A deployment of the app (app id, install signing key, OAuth client, a retry queue) with
/// tenants `loc_a` and `loc_b` (private tokens, active).
async fn agency() -> Agency {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    let store = Arc::new(MemoryTenantStore::new());
    let queue = Arc::new(MemoryRetryQueue::new());
    let mut backends = bridge::Backends::in_memory();
    backends.tenants = Some(store.clone());
    backends.retry_queue = queue.clone();
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.secrets.tenant_seal_key = Some("test-seal-key".into());
    settings.secrets.ghl_app_client_secret = Some("app-secret".into());
    settings.config.ghl_app_client_id = Some("app-client".into());
    settings.config.ghl_app_id = Some(APP_ID.into());
    settings.config.ghl_webhook_public_key = Some(ED_PUBLIC.into());
    let deps = Deps::build(settings, backends).unwrap();
    for name in ["a", "b"] {
        let tenant = private_token_tenant(
            &format!("loc_{name}"),
            &format!("ct-key-{name}"),
            secrets_of(name),
        );
        registry(&deps).save(&tenant, None).await.unwrap();
    }
    Agency {
        fakes,
        deps,
        store,
        queue,
    }
}

fn registry(deps: &Deps) -> &Tenants {
    deps.tenants.as_deref().unwrap()
}

async fn tenant(deps: &Deps, location: &str) -> Tenant {
    registry(deps).get(location).await.unwrap().unwrap()
}

async fn set_status(deps: &Deps, location: &str, status: TenantStatus) {
    let mut t = tenant(deps, location).await;
    t.record.status = status;
    registry(deps).save(&t, Some(t.version)).await.unwrap();
}

/// Registers a Marketplace install of `location` whose access token expires in a minute.
async fn expiring_install(deps: &Deps, location: &str, auth: GhlAuth) {
    let mut t = private_token_tenant(
        location,
        &format!("ct-key-{location}"),
        TenantSecrets {
            ghl_access_token: Some("old-access".into()),
            ghl_refresh_token: Some("old-refresh".into()),
            ..secrets_of(location)
        },
    );
    t.record.ghl_auth = auth;
    if auth == GhlAuth::AgencyInstall {
        t.record.company_id = Some("comp_9".into());
    }
    t.record.token_expires_at_ms = Some(chrono::Utc::now().timestamp_millis() + 60_000);
    registry(deps).save(&t, None).await.unwrap();
}

/// Every stored registry document, to compare before and after.
async fn documents(store: &MemoryTenantStore) -> Vec<(String, String, i64)> {
    let mut docs: Vec<_> = store
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.doc, v.version))
        .collect();
    docs.sort();
    docs
}

async fn upstream_requests(fakes: &Fakes) -> usize {
    received(&fakes.cloudtalk).await.len() + received(&fakes.ghl).await.len()
}

async fn send(deps: &Deps, req: Request) -> (u16, Value) {
    let res = bridge::route(deps, req).await;
    (res.status().as_u16(), response_json(&res))
}

fn signed(path: &str, body: &Value) -> Request {
    let body = body.to_string();
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(ED_PRIVATE).unwrap();
    use base64::Engine;
    let signature =
        base64::engine::general_purpose::STANDARD.encode(key.sign(body.as_bytes()).to_bytes());
    let mut req = post(path, &body, None);
    req.headers_mut()
        .insert("x-ghl-signature", signature.parse().unwrap());
    req
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A queued event, as the retry queue's message carries it.
fn queued(endpoint: &str, tenant: Option<&str>, body: Value, key: &str) -> QueuedEvent {
    serde_json::from_value(json!({
        "function": endpoint, "body": body.to_string(), "key": key, "attempt": 0,
        "first_received_at": now_text(), "last_error": null, "tenant": tenant,
    }))
    .unwrap()
}

fn note(location: &str) -> Value {
    json!({"contact": {"id": "g-1", "phone": "+393331112222", "locationId": location},
        "note": {"body": "call back"}})
}

/// GHL's OAuth endpoint `route` answers requests whose form contains `grant` (all when `None`)
/// with `answer`, before the fakes' default answers.
async fn oauth_answers(fakes: &Fakes, route: &str, grant: Option<&str>, answer: ResponseTemplate) {
    let mut mock = Mock::given(method("POST")).and(path(route));
    if let Some(grant) = grant {
        mock = mock.and(body_string_contains(grant));
    }
    mock.respond_with(answer)
        .with_priority(1)
        .mount(&fakes.ghl)
        .await;
}

fn token_requests(seen: &[Seen]) -> Vec<String> {
    seen.iter()
        .filter(|r| r.path.starts_with("/oauth/"))
        .map(|r| format!("{} {}", r.path, r.raw_body))
        .collect()
}

// --- 1. A tenant's secret changes no tenant ---------------------------------------------------

#[tokio::test]
async fn a_tenants_secret_can_neither_uninstall_nor_reinstall_nor_repoint_any_tenant() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    // An operator disabled loc_c; loc_d and loc_e are served through agency comp_9.
    for name in ["c", "d", "e"] {
        let mut t = private_token_tenant(
            &format!("loc_{name}"),
            &format!("ct-key-{name}"),
            secrets_of(name),
        );
        if name == "c" {
            t.record.status = TenantStatus::Disabled;
        } else {
            t.record.ghl_auth = GhlAuth::AgencyInstall;
            t.record.company_id = Some("comp_9".into());
        }
        registry(&run.deps).save(&t, None).await.unwrap();
    }
    let before = documents(&run.store).await;
    let attacks = [
        // Uninstall B, authenticated as A.
        json!({"type": "uninstall", "locationId": null, "location_id": "loc_b",
            "location": {"id": "loc_a"}}),
        // Re-enable C (disabled by the operator) and move it under another agency.
        json!({"type": "install", "locationId": null, "location_id": "loc_c",
            "location": {"id": "loc_a"}, "companyId": "comp_evil"}),
        // Retire a whole agency.
        json!({"Type": "Uninstall", "location": {"id": "loc_a"}, "companyId": "comp_9"}),
        json!({"TYPE": "INSTALL", "locationId": "loc_a", "companyId": "comp_evil"}),
    ];
    for attack in attacks {
        for route in [
            "/api/ghl-webhooks/app-install",
            "/api/ghl-webhooks/new-contact",
        ] {
            let (status, answer) = send(
                &run.deps,
                post(route, &attack.to_string(), Some("ghl-hook-a")),
            )
            .await;
            assert_eq!(status, 401, "{route} {attack}: {answer}");
            assert!(
                answer["error"] == "invalid_signature" || answer["error"] == "unauthorized",
                "{answer}"
            );
        }
    }
    assert_eq!(documents(&run.store).await, before, "no tenant changed");
    assert_eq!(upstream_requests(&run.fakes).await, 0);
    assert!(run.queue.drain().is_empty() && run.queue.parked().is_empty());
}

// --- 2. Disabled means disabled everywhere -----------------------------------------------------

#[tokio::test]
async fn a_disabled_tenants_queued_and_redriven_events_are_parked_not_applied() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    set_status(&run.deps, "loc_b", TenantStatus::Disabled).await;
    let mut redriven = queued(
        "ghl-new-note",
        Some("loc_b"),
        note("loc_b"),
        "tenant#loc_b#k2",
    );
    redriven.parked_at = Some(now_text());
    for event in [
        queued(
            "ghl-new-note",
            Some("loc_b"),
            note("loc_b"),
            "tenant#loc_b#k1",
        ),
        redriven,
    ] {
        let result = bridge::worker::process(&run.deps, event).await;
        match result {
            WorkerResult::Parked { reason } => {
                assert!(reason.starts_with("tenant_disabled"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(run.queue.parked().len(), 2, "parked, never dropped");
    assert_eq!(upstream_requests(&run.fakes).await, 0, "never applied");
}

#[tokio::test]
async fn a_token_renewal_never_enables_a_disabled_tenant() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    oauth_answers(
        &run.fakes,
        "/oauth/token",
        None,
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "new-access", "refresh_token": "new-refresh", "expires_in": 86399,
            "userType": "Location", "locationId": "loc_app"})),
    )
    .await;
    expiring_install(&run.deps, "loc_app", GhlAuth::LocationInstall).await;
    set_status(&run.deps, "loc_app", TenantStatus::Disabled).await;
    let event = queued(
        "ghl-new-note",
        Some("loc_app"),
        note("loc_app"),
        "tenant#loc_app#k",
    );
    let result = bridge::worker::process(&run.deps, event).await;
    assert!(matches!(result, WorkerResult::Parked { .. }), "{result:?}");
    let kept = tenant(&run.deps, "loc_app").await;
    assert_eq!(kept.record.status, TenantStatus::Disabled);
    assert_eq!(
        kept.secrets.ghl_refresh_token.as_deref(),
        Some("old-refresh")
    );
    assert!(token_requests(&received(&run.fakes.ghl).await).is_empty());

    // A renewal claimed with a stale copy (the tenant was disabled after it was read) renews
    // nothing either.
    set_status(&run.deps, "loc_app", TenantStatus::Active).await;
    let stale = tenant(&run.deps, "loc_app").await;
    set_status(&run.deps, "loc_app", TenantStatus::Disabled).await;
    let err = bridge::oauth::ghl_token(&run.deps, &stale)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "tenant_disabled");
    assert_eq!(
        tenant(&run.deps, "loc_app").await.record.status,
        TenantStatus::Disabled
    );
    assert!(token_requests(&received(&run.fakes.ghl).await).is_empty());
}

#[tokio::test]
async fn an_uninstalled_tenants_queued_event_is_parked_and_raises_no_reauthorization_alarm() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    oauth_answers(
        &run.fakes,
        "/oauth/token",
        None,
        ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "refresh token is invalid"}),
        ),
    )
    .await;
    expiring_install(&run.deps, "loc_app", GhlAuth::LocationInstall).await;
    let uninstall = json!({"type": "UNINSTALL", "appId": APP_ID, "locationId": "loc_app",
        "webhookId": "wh-un-1", "timestamp": now_text()});
    let (status, answer) = send(
        &run.deps,
        signed("/api/ghl-webhooks/app-install", &uninstall),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], "uninstalled");
    let (_guard, logs) = capture_logs();
    let event = queued(
        "ghl-new-note",
        Some("loc_app"),
        note("loc_app"),
        "tenant#loc_app#k",
    );
    let result = bridge::worker::process(&run.deps, event).await;
    match result {
        WorkerResult::Parked { reason } => assert!(reason.starts_with("tenant_disabled")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        tenant(&run.deps, "loc_app").await.record.status,
        TenantStatus::Disabled
    );
    assert!(token_requests(&received(&run.fakes.ghl).await).is_empty());
    assert!(
        !logs
            .lines()
            .iter()
            .any(|l| l["fields"]["error"] == "reauthorization_required"),
        "no reauthorization alarm"
    );
}

// --- 3. The agency cascade resumes where it stopped --------------------------------------------

/// A tenant store whose first listing fails, as an AccessDenied or an outage would.
struct ListFailsOnce {
    inner: MemoryTenantStore,
    failed: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl TenantStore for ListFailsOnce {
    async fn get(
        &self,
        key: &str,
    ) -> Result<Option<bridge::tenants::Versioned>, bridge::store::StoreError> {
        self.inner.get(key).await
    }
    async fn put(
        &self,
        key: &str,
        doc: &str,
        expected: Option<i64>,
    ) -> Result<i64, bridge::store::StoreError> {
        self.inner.put(key, doc, expected).await
    }
    async fn list(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, bridge::tenants::Versioned)>, bridge::store::StoreError> {
        if !self.failed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Err(bridge::store::StoreError::new(
                "AccessDeniedException: not authorized to perform dynamodb:Scan",
            ));
        }
        self.inner.list(prefix).await
    }
    fn kind(&self) -> &'static str {
        "memory"
    }
}

#[tokio::test]
async fn an_agency_uninstall_interrupted_midway_is_finished_by_the_worker() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    let store = Arc::new(ListFailsOnce {
        inner: MemoryTenantStore::new(),
        failed: Default::default(),
    });
    let queue = Arc::new(MemoryRetryQueue::new());
    let mut backends = bridge::Backends::in_memory();
    backends.tenants = Some(store.clone());
    backends.retry_queue = queue.clone();
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.secrets.tenant_seal_key = Some("test-seal-key".into());
    settings.config.ghl_app_id = Some(APP_ID.into());
    settings.config.ghl_webhook_public_key = Some(ED_PUBLIC.into());
    let deps = Deps::build(settings, backends).unwrap();
    for name in ["d", "e"] {
        let mut t = private_token_tenant(&format!("loc_{name}"), "k", secrets_of(name));
        t.record.ghl_auth = GhlAuth::AgencyInstall;
        t.record.company_id = Some("comp_9".into());
        registry(&deps).save(&t, None).await.unwrap();
    }
    let uninstall = json!({"type": "UNINSTALL", "appId": APP_ID, "companyId": "comp_9",
        "webhookId": "wh-agency-1", "timestamp": now_text()});
    let (status, answer) = send(&deps, signed("/api/ghl-webhooks/new-note", &uninstall)).await;
    assert_eq!(status, 202, "{answer}");
    let waiting = queue.drain();
    assert_eq!(waiting.len(), 1);
    let result = bridge::worker::process(&deps, waiting[0].0.clone()).await;
    assert_eq!(result, WorkerResult::Done { duplicate: false });
    for location in ["loc_d", "loc_e"] {
        assert_eq!(
            tenant(&deps, location).await.record.status,
            TenantStatus::Disabled,
            "{location}"
        );
    }
}

#[tokio::test]
async fn the_worker_applies_an_install_only_if_it_came_signed() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    let before = documents(&run.store).await;
    let install = json!({"type": "UNINSTALL", "appId": APP_ID, "locationId": "loc_b",
        "webhookId": "wh-q", "timestamp": now_text()});
    // Queued by an earlier version, or written by hand: no credential on record.
    let event = queued("ghl-app-install", None, install.clone(), "wh#q");
    let result = bridge::worker::process(&run.deps, event).await;
    match result {
        WorkerResult::Parked { reason } => assert!(reason.contains("signature"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let mut secret = queued("ghl-app-install", None, install, "wh#q2");
    secret.credential = Some(bridge::signature::Credential::Secret);
    let result = bridge::worker::process(&run.deps, secret).await;
    assert!(matches!(result, WorkerResult::Parked { .. }), "{result:?}");
    assert_eq!(documents(&run.store).await, before);
}

// --- 4. Nothing is done for a caller who has not authenticated ----------------------------------

#[tokio::test]
async fn an_unauthenticated_caller_causes_no_token_work_and_sees_no_upstream_text() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    oauth_answers(
        &run.fakes,
        "/oauth/token",
        None,
        ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_request", "error_description": "internal detail 7731"}),
        ),
    )
    .await;
    expiring_install(&run.deps, "loc_app", GhlAuth::LocationInstall).await;
    expiring_install(&run.deps, "loc_ag", GhlAuth::AgencyInstall).await;
    let call = json!({"call_id": 1, "external_number": "+393334444444"});
    for location in ["loc_app", "loc_ag"] {
        let (status, answer) = send(
            &run.deps,
            post(
                &format!("/api/cloudtalk-webhooks/{location}/call-ended"),
                &call.to_string(),
                Some("wrong-secret"),
            ),
        )
        .await;
        assert_eq!(status, 401, "{location}: {answer}");
        assert!(!answer.to_string().contains("7731"), "{answer}");
    }
    let ghl_body = json!({"contact_id": "g-1", "phone": "+393334444444", "locationId": "loc_app"});
    let (status, _) = send(
        &run.deps,
        post(
            "/api/ghl-webhooks/new-contact",
            &ghl_body.to_string(),
            Some("ghl-hook-a"),
        ),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        upstream_requests(&run.fakes).await,
        0,
        "no refresh, no minting"
    );
    for location in ["loc_app", "loc_ag"] {
        let kept = tenant(&run.deps, location).await;
        assert_eq!(kept.record.refresh_started_at_ms, None, "{location}");
    }
}

// --- 5. Authenticated work waiting on a token is queued -------------------------------------------

#[tokio::test]
async fn an_event_waiting_for_another_containers_token_renewal_is_queued() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    expiring_install(&run.deps, "loc_app", GhlAuth::LocationInstall).await;
    // A container claimed the renewal a moment ago and died holding it.
    let mut t = tenant(&run.deps, "loc_app").await;
    t.record.refresh_started_at_ms = Some(chrono::Utc::now().timestamp_millis());
    registry(&run.deps).save(&t, Some(t.version)).await.unwrap();
    let call = json!({"call_id": 4242, "contact_id": 7, "external_number": "+393334444444",
        "status": "answered", "talking_time": 10});
    let (status, answer) = send(
        &run.deps,
        post(
            "/api/cloudtalk-webhooks/loc_app/call-ended",
            &call.to_string(),
            Some("ct-hook-loc_app"),
        ),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["queued"], true);
    let waiting = run.queue.drain();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].0.tenant.as_deref(), Some("loc_app"));
    // It waits for the token, and says so (not that the contact map is unavailable).
    let why = waiting[0].0.last_error.as_deref().unwrap_or_default();
    assert!(why.starts_with("token_unavailable:"), "{why}");
    assert_eq!(
        waiting[0].0.attempt, 0,
        "a wait for a token uses no attempt"
    );
    assert!(token_requests(&received(&run.fakes.ghl).await).is_empty());
}

// --- 6. A token answer lost after sending is outcome unknown -----------------------------------------

#[tokio::test]
async fn a_5xx_from_the_token_endpoint_is_recovered_by_reconnect_never_by_resending() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    oauth_answers(
        &run.fakes,
        "/oauth/token",
        Some("grant_type=refresh_token"),
        ResponseTemplate::new(502).set_body_string("Bad Gateway"),
    )
    .await;
    oauth_answers(
        &run.fakes,
        "/oauth/reconnect",
        None,
        ResponseTemplate::new(200).set_body_json(json!({"authorizationCode": "code-9"})),
    )
    .await;
    oauth_answers(
        &run.fakes,
        "/oauth/token",
        Some("grant_type=authorization_code"),
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "recovered", "refresh_token": "recovered-refresh",
            "expires_in": 86399, "userType": "Location", "locationId": "loc_app"})),
    )
    .await;
    expiring_install(&run.deps, "loc_app", GhlAuth::LocationInstall).await;
    let call = json!({"call_id": 5151, "contact_id": 7, "external_number": "+393334444444",
        "status": "answered", "talking_time": 10});
    let (status, answer) = send(
        &run.deps,
        post(
            "/api/cloudtalk-webhooks/loc_app/call-ended",
            &call.to_string(),
            Some("ct-hook-loc_app"),
        ),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert!(
        tenant(&run.deps, "loc_app")
            .await
            .record
            .refresh_unknown_since_ms
            .is_some(),
        "outcome unknown"
    );
    let waiting = run.queue.drain();
    assert_eq!(waiting.len(), 1);
    let result = bridge::worker::process(&run.deps, waiting[0].0.clone()).await;
    assert_eq!(result, WorkerResult::Done { duplicate: false });
    let asked = token_requests(&received(&run.fakes.ghl).await);
    let refreshes = asked
        .iter()
        .filter(|r| r.contains("grant_type=refresh_token"))
        .count();
    assert_eq!(
        refreshes, 1,
        "the spent refresh token is never resent: {asked:?}"
    );
    assert!(asked.iter().any(|r| r.starts_with("/oauth/reconnect")));
    assert_eq!(
        tenant(&run.deps, "loc_app")
            .await
            .secrets
            .ghl_refresh_token
            .as_deref(),
        Some("recovered-refresh")
    );
}

/// A server that reads one request and drops the connection without answering.
async fn dropping_server() -> String {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = vec![0u8; 16 * 1024];
            let _ = socket.read(&mut buffer).await;
            drop(socket);
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn a_dropped_connection_from_the_token_endpoint_is_outcome_unknown() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    let store = Arc::new(MemoryTenantStore::new());
    let mut backends = bridge::Backends::in_memory();
    backends.tenants = Some(store);
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.secrets.tenant_seal_key = Some("test-seal-key".into());
    settings.secrets.ghl_app_client_secret = Some("app-secret".into());
    settings.config.ghl_app_client_id = Some("app-client".into());
    settings.config.ghl_api_base = dropping_server().await;
    let deps = Deps::build(settings, backends).unwrap();
    expiring_install(&deps, "loc_app", GhlAuth::LocationInstall).await;
    let call = json!({"call_id": 6161, "external_number": "+393334444444"});
    let (status, answer) = send(
        &deps,
        post(
            "/api/cloudtalk-webhooks/loc_app/call-ended",
            &call.to_string(),
            Some("ct-hook-loc_app"),
        ),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let kept = tenant(&deps, "loc_app").await;
    assert!(
        kept.record.refresh_unknown_since_ms.is_some(),
        "the next attempt reconnects instead of resending the refresh token"
    );
}

// --- 7. The worker parks what it cannot read -----------------------------------------------------

fn message(id: &str, body: &str) -> bridge::worker::SqsMessage {
    let mut m = bridge::worker::SqsMessage::default();
    m.message_id = Some(id.into());
    m.body = Some(body.into());
    m
}

#[tokio::test]
async fn the_worker_parks_messages_it_cannot_read_and_deletes_none_unparked() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    let unknown_endpoint = json!({"function": "ghl-new-feature", "body": "{}", "key": "k",
        "attempt": 0, "first_received_at": now_text(), "last_error": null});
    let renamed_field = json!({"endpoint": "ghl-new-note", "body": "{}", "key": "k",
        "attempt": 0, "first_received_at": now_text()});
    let bodies = [
        unknown_endpoint.to_string(),
        renamed_field.to_string(),
        "not json".to_string(),
    ];
    let mut batch = bridge::worker::SqsEvent::default();
    batch.records = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| message(&format!("m{i}"), b))
        .collect();
    let answer = bridge::worker::handle_batch(&run.deps, batch.clone(), None).await;
    assert!(
        answer.batch_item_failures.is_empty(),
        "each was parked, so each may be deleted"
    );
    let parked = run.queue.parked_raw();
    assert_eq!(parked.len(), 3);
    for ((body, reason), sent) in parked.iter().zip(&bodies) {
        assert_eq!(body, sent, "kept as it was");
        assert!(reason.contains("not a queued event"), "{reason}");
    }

    // Where it cannot even be parked, SQS must deliver it again: it is not deleted.
    let fakes = Fakes::start().await;
    let mut backends = bridge::Backends::in_memory();
    backends.retry_queue = Arc::new(bridge::retry_queue::NoRetryQueue);
    let deps = Deps::build(config(&fakes.cloudtalk, &fakes.ghl), backends).unwrap();
    let answer = bridge::worker::handle_batch(&deps, batch, None).await;
    assert_eq!(answer.batch_item_failures.len(), 3);
}

// --- 9. Parsing never overflows -------------------------------------------------------------------

#[tokio::test]
async fn overflowing_durations_and_timestamps_are_refused_or_ignored_never_wrapped() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    let (deps, _) = fakes.deps_with_memory_map();
    let call = json!({"call_id": 99, "contact_id": 7, "external_number": "+393334444444",
        "status": "answered", "talking_time": "18446744073709551615:59",
        "waiting_time": "99999999999999999999:00:00", "duration": 1.0e300});
    let (status, answer) = send(
        &deps,
        post(
            "/api/cloudtalk-webhooks/call-ended",
            &call.to_string(),
            Some(CLOUDTALK_SECRET),
        ),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let notes: Vec<String> = received(&fakes.ghl)
        .await
        .into_iter()
        .filter(|r| r.path.ends_with("/notes"))
        .map(|r| r.body["body"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(notes.len(), 1);
    for wrapped in ["Talking time", "Waiting time", "Duration"] {
        assert!(!notes[0].contains(wrapped), "{wrapped} in {}", notes[0]);
    }
    // A signed body whose timestamp is the most negative number is refused, not overflowed.
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.config.ghl_webhook_public_key = Some(ED_PUBLIC.into());
    let deps = Deps::build(settings, bridge::Backends::in_memory()).unwrap();
    let body = json!({"type": "ContactCreate", "webhookId": "w-ts", "locationId": LOCATION,
        "id": "g-9", "phone": "+393334444444", "timestamp": i64::MIN});
    let (status, answer) = send(&deps, signed("/api/ghl-webhooks/new-contact", &body)).await;
    assert_eq!(status, 401, "{answer}");
}

// --- 10. A signed body names its tenant by GHL's own key only -----------------------------------------

#[tokio::test]
async fn a_user_named_field_cannot_steer_a_signed_body_to_another_tenant() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    for steer in [
        json!({"Location ID": "loc_b"}),
        json!({"location": {"id": "loc_b"}}),
        json!({"location_id": "loc_b"}),
    ] {
        let mut body = json!({"type": "ContactCreate", "webhookId": "w-steer", "appId": APP_ID,
            "id": "g-steer", "firstName": "Eve", "phone": "+393339990000",
            "timestamp": now_text()});
        for (k, v) in steer.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) =
            send(&run.deps, signed("/api/ghl-webhooks/new-contact", &body)).await;
        assert_eq!(status, 422, "{steer}: {answer}");
        assert_eq!(answer["missing"], json!(["locationId"]), "{answer}");
    }
    assert_eq!(upstream_requests(&run.fakes).await, 0);
}
