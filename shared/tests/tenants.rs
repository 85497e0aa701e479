//! Agency mode through the real handlers: tenants side by side with no cross-talk, each with
//! its own CloudTalk account, GHL token and webhook secrets; unknown and disabled tenants
//! refused before anything is written; the deployment's own location unchanged; a rotated
//! webhook secret accepted beside the new one for the overlap only.

use std::sync::Arc;

/// The cases run one at a time: a case that captures the log lines must not share the
/// process's tracing callsites with cases running without a subscriber.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

use base64::Engine;
use bridge::clock::ManualClock;
use bridge::contact_map::{ContactMap, MemoryContactMap};
use bridge::tenants::registry::private_token_tenant;
use bridge::tenants::{MemoryTenantStore, TenantSecrets, TenantStatus, WebhookSecretKind};
use bridge::Deps;
use bridge_testkit::*;
use serde_json::{json, Value};

struct Agency {
    fakes: Fakes,
    deps: Deps,
    map: Arc<MemoryContactMap>,
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

/// The deployment (default tenant `loc-test`) and two registered tenants, `loc_a` and `loc_b`.
async fn agency() -> Agency {
    agency_on(Arc::new(bridge::clock::SystemClock)).await
}

/// [`agency`], its time read from `clock`.
async fn agency_on(clock: Arc<dyn bridge::clock::Clock>) -> Agency {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    let map = Arc::new(MemoryContactMap::new());
    let mut backends = bridge::Backends::in_memory();
    backends.contacts = map.clone();
    backends.tenants = Some(Arc::new(MemoryTenantStore::new()));
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.secrets.tenant_seal_key = Some("test-seal-key".into());
    let deps = Deps::build_with_clock(settings, backends, clock).unwrap();
    let tenants = deps.tenants.as_ref().unwrap();
    for name in ["a", "b"] {
        let tenant = private_token_tenant(
            &format!("loc_{name}"),
            &format!("ct-key-{name}"),
            secrets_of(name),
        );
        tenants.save(&tenant, None).await.unwrap();
    }
    Agency { fakes, deps, map }
}

fn basic(name: &str) -> String {
    let pair = format!("ct-key-{name}:ct-secret-{name}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

async fn send(deps: &Deps, path: &str, secret: &str, body: Value) -> (u16, Value) {
    let res = bridge::route(deps, post(path, &body.to_string(), Some(secret))).await;
    (res.status().as_u16(), response_json(&res))
}

fn contact(location: &str, id: &str, phone: &str) -> Value {
    json!({"contact": {"id": id, "name": "Client", "phone": phone, "locationId": location}})
}

#[tokio::test]
async fn two_tenants_side_by_side_never_touch_each_others_accounts() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    let path = "/api/ghl-webhooks/new-contact";
    let (a, answer) = send(
        &run.deps,
        path,
        "ghl-hook-a",
        contact("loc_a", "g-a", "+393331111111"),
    )
    .await;
    assert_eq!(a, 200, "{answer}");
    let seen = received(&run.fakes.cloudtalk).await;
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|r| r.authorization.as_deref() == Some(basic("a").as_str())),
        "loc_a's event used only loc_a's CloudTalk account"
    );
    run.fakes.reset_cloudtalk().await;
    mount_cloudtalk(&run.fakes.cloudtalk, json!([])).await;
    let (b, answer) = send(
        &run.deps,
        path,
        "ghl-hook-b",
        contact("loc_b", "g-b", "+393332222222"),
    )
    .await;
    assert_eq!(b, 200, "{answer}");
    let seen = received(&run.fakes.cloudtalk).await;
    assert!(seen
        .iter()
        .all(|r| r.authorization.as_deref() == Some(basic("b").as_str())));
    // Each tenant's links live under its own location.
    assert!(run.map.find_by_ghl("loc_a", "g-a").await.unwrap().is_some());
    assert!(run.map.find_by_ghl("loc_b", "g-b").await.unwrap().is_some());
    assert!(run.map.find_by_ghl("loc_b", "g-a").await.unwrap().is_none());

    // A tenant's secret opens only its own events.
    let (crossed, answer) = send(
        &run.deps,
        path,
        "ghl-hook-b",
        contact("loc_a", "g-x", "+393333333333"),
    )
    .await;
    assert_eq!(crossed, 401, "{answer}");
}

#[tokio::test]
async fn cloudtalk_urls_carry_the_tenant_and_its_ghl_token_is_used() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    let call = json!({"call_id": 5001, "contact_id": 77, "external_number": "+393334444444",
        "status": "answered", "talking_time": 30});
    let (status, answer) = send(
        &run.deps,
        "/api/cloudtalk-webhooks/loc_b/call-ended",
        "ct-hook-b",
        call.clone(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let ghl = received(&run.fakes.ghl).await;
    assert!(!ghl.is_empty());
    assert!(ghl
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer pit-b")));
    assert!(ghl
        .iter()
        .filter(|r| r.path == "/contacts/search/duplicate")
        .all(|r| r.query["locationId"] == "loc_b"));
    assert!(run
        .map
        .find_by_cloudtalk("loc_b", "77")
        .await
        .unwrap()
        .is_some());
    // The same call id in another tenant is another event, not a duplicate.
    let (status, answer) = send(
        &run.deps,
        "/api/cloudtalk-webhooks/loc_a/call-ended",
        "ct-hook-a",
        call,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["result"], "applied", "{answer}");
    assert!(answer.get("duplicate").is_none());
    // The tenant's route refuses the deployment's own secret.
    let (status, _) = send(
        &run.deps,
        "/api/cloudtalk-webhooks/loc_a/call-ended",
        CLOUDTALK_SECRET,
        json!({"call_id": 5002, "external_number": "+393334444444"}),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn unknown_and_disabled_tenants_are_refused_with_nothing_written() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    let tenants = run.deps.tenants.as_ref().unwrap();
    let mut b = tenants.get("loc_b").await.unwrap().unwrap();
    b.record.status = TenantStatus::Disabled;
    tenants.save(&b, Some(b.version)).await.unwrap();
    let call = json!({"call_id": 1, "external_number": "+393334444444", "status": "answered"});
    let cases = [
        (
            "/api/cloudtalk-webhooks/loc_zzz/call-ended",
            "ct-hook-a",
            call.clone(),
            403,
            "unknown_tenant",
        ),
        (
            "/api/ghl-webhooks/new-contact",
            "ghl-hook-a",
            contact("loc_zzz", "g", "+393335555555"),
            403,
            "unknown_tenant",
        ),
        (
            "/api/cloudtalk-webhooks/loc_b/call-ended",
            "ct-hook-b",
            call,
            403,
            "tenant_disabled",
        ),
    ];
    for (path, secret, body, status, code) in cases {
        let (got, answer) = send(&run.deps, path, secret, body).await;
        assert_eq!(got, status, "{path}: {answer}");
        assert_eq!(answer["error"], code, "{path}: {answer}");
    }
    let mut a = tenants.get("loc_a").await.unwrap().unwrap();
    a.record.status = TenantStatus::ReauthorizationRequired;
    tenants.save(&a, Some(a.version)).await.unwrap();
    let (got, answer) = send(
        &run.deps,
        "/api/ghl-webhooks/new-contact",
        "ghl-hook-a",
        contact("loc_a", "g", "+393336666666"),
    )
    .await;
    assert_eq!(got, 503, "{answer}");
    assert_eq!(answer["error"], "reauthorization_required");
    assert!(received(&run.fakes.cloudtalk).await.is_empty());
    assert!(received(&run.fakes.ghl).await.is_empty());
    assert!(run.map.is_empty());
}

#[tokio::test]
async fn the_deployments_own_location_works_as_before() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    let (status, answer) = send(
        &run.deps,
        "/api/ghl-webhooks/new-contact",
        GHL_SECRET,
        contact(LOCATION, "g-own", "+393337777777"),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let seen = received(&run.fakes.cloudtalk).await;
    assert!(seen
        .iter()
        .all(|r| r.authorization.as_deref() == Some(cloudtalk_basic_auth().as_str())));
    let (status, _) = send(
        &run.deps,
        "/api/cloudtalk-webhooks/call-ended",
        CLOUDTALK_SECRET,
        json!({"call_id": 9, "external_number": "+393337777777", "status": "answered"}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(run
        .map
        .find_by_ghl(LOCATION, "g-own")
        .await
        .unwrap()
        .is_some());
}

// --- Rotating a tenant's webhook secrets ------------------------------------------------------

/// The statuses `loc_a`'s routes answer `secrets`, in order (each event a new one).
async fn answers(run: &Agency, sender: WebhookSecretKind, secrets: &[&str]) -> Vec<u16> {
    let mut statuses = Vec::new();
    for secret in secrets {
        let n = NEXT_EVENT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let (path, body) = match sender {
            WebhookSecretKind::Cloudtalk => (
                "/api/cloudtalk-webhooks/loc_a/call-ended",
                json!({"call_id": 7000 + n, "external_number": "+393334444444",
                    "status": "answered", "talking_time": 10}),
            ),
            WebhookSecretKind::Ghl => (
                "/api/ghl-webhooks/new-contact",
                contact("loc_a", &format!("g-rot-{n}"), &format!("+3933310{n:05}")),
            ),
        };
        statuses.push(send(&run.deps, path, secret, body).await.0);
    }
    statuses
}

static NEXT_EVENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[tokio::test]
async fn a_rotated_webhook_secret_is_accepted_beside_the_new_one_for_the_overlap_only() {
    let _serial = SERIAL.lock().await;
    let clock = Arc::new(ManualClock::starting_now());
    let run = agency_on(clock.clone()).await;
    let tenants = run.deps.tenants.as_ref().unwrap();
    const HOUR: i64 = 3_600_000;
    // What `bridge tenants set-cloudtalk --overlap 24h` and `set-ghl-secret --overlap 90m` do.
    let mut a = tenants.get("loc_a").await.unwrap().unwrap();
    let now = tenants.now_ms();
    let (ct, ghl) = (WebhookSecretKind::Cloudtalk, WebhookSecretKind::Ghl);
    let retires = a.secrets.rotate(ct, "ct-hook-a2", now, 24 * HOUR);
    assert_eq!(retires, Some(now + 24 * HOUR));
    a.secrets.rotate(ghl, "ghl-hook-a2", now, 90 * 60_000);
    tenants.save(&a, Some(a.version)).await.unwrap();

    // During the overlap both open loc_a's routes; neither opens another tenant's.
    assert_eq!(
        answers(&run, ct, &["ct-hook-a", "ct-hook-a2"]).await,
        [200, 200]
    );
    assert_eq!(
        answers(&run, ghl, &["ghl-hook-a", "ghl-hook-a2"]).await,
        [200, 200]
    );
    let crossed = json!({"call_id": 6999, "external_number": "+393334444444"});
    let path = "/api/cloudtalk-webhooks/loc_b/call-ended";
    assert_eq!(send(&run.deps, path, "ct-hook-a", crossed).await.0, 401);

    // After 90 minutes the old GHL secret is retired; the CloudTalk one still has its day.
    clock.advance_ms(90 * 60_000);
    assert_eq!(
        answers(&run, ghl, &["ghl-hook-a", "ghl-hook-a2"]).await,
        [401, 200]
    );
    assert_eq!(
        answers(&run, ct, &["ct-hook-a", "ct-hook-a2"]).await,
        [200, 200]
    );
    clock.advance_ms(24 * HOUR - 90 * 60_000);
    assert_eq!(
        answers(&run, ct, &["ct-hook-a", "ct-hook-a2"]).await,
        [401, 200]
    );

    // The next write of the record drops them.
    let a = tenants.get("loc_a").await.unwrap().unwrap();
    assert_eq!(a.secrets.retiring.len(), 2, "kept until a write");
    tenants.save(&a, Some(a.version)).await.unwrap();
    let a = tenants.get("loc_a").await.unwrap().unwrap();
    assert!(a.secrets.retiring.is_empty(), "{:?}", a.secrets);
    assert!(a.record.retiring_secrets.is_empty());
}

// --- Marketplace installs: token renewal -------------------------------------------------------

use bridge::tenants::{GhlAuth, Tenant};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A deployment of the app (OAuth client configured) over `store`, as one container.
fn container(fakes: &Fakes, store: Arc<MemoryTenantStore>) -> Deps {
    let mut backends = bridge::Backends::in_memory();
    backends.tenants = Some(store);
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.secrets.tenant_seal_key = Some("test-seal-key".into());
    settings.secrets.ghl_app_client_secret = Some("app-secret".into());
    settings.config.ghl_app_client_id = Some("app-client".into());
    Deps::build(settings, backends).unwrap()
}

/// A location install whose access token expires in a minute.
async fn expiring_install(deps: &Deps) -> Tenant {
    let mut tenant = private_token_tenant(
        "loc_app",
        "ct-key-app",
        TenantSecrets {
            ghl_access_token: Some("old-access".into()),
            ghl_refresh_token: Some("old-refresh".into()),
            ..secrets_of("app")
        },
    );
    tenant.record.ghl_auth = GhlAuth::LocationInstall;
    tenant.record.token_expires_at_ms = Some(chrono::Utc::now().timestamp_millis() + 60_000);
    let tenants = deps.tenants.as_ref().unwrap();
    tenants.save(&tenant, None).await.unwrap();
    tenants.get("loc_app").await.unwrap().unwrap()
}

async fn token_answers(server: &MockServer, grant: &str, status: u16, body: Value, delay_ms: u64) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string_contains(grant))
        .respond_with(
            ResponseTemplate::new(status)
                .set_body_json(body)
                .set_delay(std::time::Duration::from_millis(delay_ms)),
        )
        .mount(server)
        .await;
}

fn granted(access: &str, refresh: &str) -> Value {
    json!({"access_token": access, "refresh_token": refresh, "expires_in": 86399,
        "token_type": "Bearer", "userType": "Location", "locationId": "loc_app"})
}

async fn token_requests(server: &MockServer) -> Vec<String> {
    received(server)
        .await
        .into_iter()
        .filter(|r| r.path.starts_with("/oauth/"))
        .map(|r| format!("{} {}", r.path, r.raw_body))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_containers_refresh_a_token_once_and_all_get_the_new_one() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    let store = Arc::new(MemoryTenantStore::new());
    token_answers(
        &fakes.ghl,
        "grant_type=refresh_token",
        200,
        granted("new-access", "new-refresh"),
        300,
    )
    .await;
    let containers: Vec<Arc<Deps>> = (0..5)
        .map(|_| Arc::new(container(&fakes, store.clone())))
        .collect();
    let tenant = expiring_install(&containers[0]).await;
    let tasks: Vec<_> = containers
        .iter()
        .map(|deps| {
            let (deps, tenant) = (deps.clone(), tenant.clone());
            tokio::spawn(async move { bridge::oauth::ghl_token(&deps, &tenant).await })
        })
        .collect();
    for task in tasks {
        let token = task.await.unwrap().unwrap();
        assert_eq!(token.as_deref(), Some("new-access"));
    }
    let refreshes = token_requests(&fakes.ghl).await;
    assert_eq!(
        refreshes.len(),
        1,
        "one refresh for five containers: {refreshes:?}"
    );
    assert!(refreshes[0].contains("refresh_token=old-refresh"));
    // The rotated refresh token is kept, sealed.
    let kept = containers[0]
        .tenants
        .as_ref()
        .unwrap()
        .get("loc_app")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.secrets.ghl_refresh_token.as_deref(),
        Some("new-refresh")
    );
    assert!(
        kept.record.token_expires_at_ms.unwrap()
            > chrono::Utc::now().timestamp_millis() + 3_600_000
    );
    let raw = bridge::tenants::TenantStore::get(store.as_ref(), "tenant#loc_app")
        .await
        .unwrap()
        .unwrap();
    assert!(!raw.doc.contains("new-refresh") && !raw.doc.contains("new-access"));
}

#[tokio::test]
async fn a_refused_refresh_token_marks_the_tenant_for_reauthorization() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let store = Arc::new(MemoryTenantStore::new());
    let refused = json!({"error": "invalid_grant", "error_description": "Invalid grant: refresh token is invalid"});
    token_answers(&fakes.ghl, "grant_type=refresh_token", 400, refused, 0).await;
    let deps = container(&fakes, store);
    let (_guard, logs) = capture_logs();
    let tenant = expiring_install(&deps).await;
    let err = bridge::oauth::ghl_token(&deps, &tenant).await.unwrap_err();
    assert_eq!(err.code(), "reauthorization_required");
    let kept = deps
        .tenants
        .as_ref()
        .unwrap()
        .get("loc_app")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.record.status, TenantStatus::ReauthorizationRequired);
    // Its routes answer 503 with the code, and nothing else is asked of GHL.
    let (status, answer) = send(
        &deps,
        "/api/cloudtalk-webhooks/loc_app/call-ended",
        "ct-hook-app",
        json!({"call_id": 1, "external_number": "+393334444444"}),
    )
    .await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], "reauthorization_required");
    assert_eq!(token_requests(&fakes.ghl).await.len(), 1);
    let alarmed = logs
        .lines()
        .iter()
        .any(|l| l["fields"]["error"] == "reauthorization_required");
    assert!(alarmed, "the line the stack alarms on");
    let text = logs.text();
    assert!(
        !text.contains("old-refresh") && !text.contains("old-access"),
        "no token in the logs"
    );
}

#[tokio::test]
async fn a_refresh_whose_answer_was_lost_is_recovered_by_reconnect_not_resent() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    let store = Arc::new(MemoryTenantStore::new());
    // The refresh's answer never comes back (past the 2 s client timeout).
    token_answers(
        &fakes.ghl,
        "grant_type=refresh_token",
        200,
        granted("lost", "lost"),
        2_500,
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/oauth/reconnect"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"authorizationCode": "code-9", "expiresAt": 1})),
        )
        .mount(&fakes.ghl)
        .await;
    token_answers(
        &fakes.ghl,
        "grant_type=authorization_code",
        200,
        granted("recovered", "recovered-refresh"),
        0,
    )
    .await;
    let deps = container(&fakes, store);
    let tenant = expiring_install(&deps).await;

    let first = bridge::oauth::ghl_token(&deps, &tenant).await;
    assert!(first.is_err(), "outcome unknown: {first:?}");
    assert!(first.unwrap_err().is_retryable());
    let second = bridge::oauth::ghl_token(&deps, &tenant).await.unwrap();
    assert_eq!(second.as_deref(), Some("recovered"));
    let asked = token_requests(&fakes.ghl).await;
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert!(asked[0].contains("grant_type=refresh_token"));
    assert!(asked[1].starts_with("/oauth/reconnect"), "{asked:?}");
    assert!(asked[2].contains("grant_type=authorization_code") && asked[2].contains("code=code-9"));
    let kept = deps
        .tenants
        .as_ref()
        .unwrap()
        .get("loc_app")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.secrets.ghl_refresh_token.as_deref(),
        Some("recovered-refresh")
    );
    assert_eq!(kept.record.refresh_unknown_since_ms, None);
}

// --- Calls in GHL Conversations ------------------------------------------------------------

/// Tenant `loc_a` logs its calls as messages of GHL Conversations, by provider `prov-1`.
async fn log_calls_of_loc_a_to_conversations(run: &Agency) {
    let tenants = run.deps.tenants.as_ref().unwrap();
    let mut a = tenants.get("loc_a").await.unwrap().unwrap();
    a.record.options.call_logging = bridge::tenants::CallLogging::Conversations {
        provider_id: "prov-1".into(),
    };
    tenants.save(&a, Some(a.version)).await.unwrap();
}

/// GHL Conversations: no conversation yet, a new one `conv-1`, the inbound message `msg-1`
/// and its attachment.
async fn mount_ghl_conversations(ghl: &MockServer) {
    for (verb, route, body) in [
        (
            "GET",
            "/conversations/search",
            json!({"conversations": [], "total": 0}),
        ),
        (
            "POST",
            "/conversations/",
            json!({"success": true, "conversation": {"id": "conv-1"}}),
        ),
        (
            "POST",
            "/conversations/messages/inbound",
            json!({"success": true, "conversationId": "conv-1", "messageId": "msg-1"}),
        ),
        (
            "PUT",
            "/conversations/messages/msg-1/attachments",
            json!({"success": true}),
        ),
    ] {
        Mock::given(method(verb))
            .and(path(route))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .with_priority(1)
            .mount(ghl)
            .await;
    }
}

#[tokio::test]
async fn a_call_and_its_recording_become_one_conversation_message_with_its_attachment() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    log_calls_of_loc_a_to_conversations(&run).await;
    mount_ghl_conversations(&run.fakes.ghl).await;
    let ended = json!({"call_id": 7001, "contact_id": 88, "external_number": "+393335550001",
        "internal_number": "+390212345678", "direction": "incoming", "status": "answered",
        "talking_time": 42, "duration": 50, "agent_name": "Roberto"});
    let (status, answer) = send(
        &run.deps,
        "/api/cloudtalk-webhooks/loc_a/call-ended",
        "ct-hook-a",
        ended,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["ghlMessageId"], "msg-1");
    let recording = json!({"call_id": 7001, "contact_id": 88, "external_number": "+393335550001",
        "recording_url": "https://my.cloudtalk.io/r/play/7001"});
    let (status, answer) = send(
        &run.deps,
        "/api/cloudtalk-webhooks/loc_a/recording-available",
        "ct-hook-a",
        recording,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["ghlMessageId"], "msg-1", "the same message");

    let ghl = received(&run.fakes.ghl).await;
    let message = ghl
        .iter()
        .find(|r| r.path == "/conversations/messages/inbound")
        .unwrap();
    assert_eq!(message.version.as_deref(), Some("2021-04-15"));
    let m = &message.body;
    assert_eq!(m["type"], "Call");
    assert_eq!(m["conversationProviderId"], "prov-1");
    assert_eq!(m["conversationId"], "conv-1");
    assert_eq!(m["altId"], "7001");
    assert_eq!(
        m["call"],
        json!({"from": "+393335550001", "to": "+390212345678", "status": "completed"})
    );
    assert!(m["message"].as_str().unwrap().contains("Talking time: 42s"));
    let attach = ghl
        .iter()
        .find(|r| r.path == "/conversations/messages/msg-1/attachments")
        .unwrap();
    assert_eq!(
        attach.body,
        json!({"attachments": ["https://my.cloudtalk.io/r/play/7001"]})
    );
    assert!(
        ghl.iter().all(|r| !r.path.ends_with("/notes")),
        "no notes when calls go to conversations"
    );
}

#[tokio::test]
async fn conversation_webhooks_of_our_own_messages_are_ignored() {
    let _serial = SERIAL.lock().await;
    let run = agency().await;
    let echo = json!({"type": "OutboundMessage", "webhookId": "w-echo", "locationId": LOCATION,
        "conversationProviderId": "prov-1", "messageType": "CALL", "contactId": "g-1",
        "altId": "7001", "timestamp": "2026-12-01T10:00:00Z"});
    let (status, answer) = send(&run.deps, "/api/ghl-webhooks/new-note", GHL_SECRET, echo).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], "ignored");
    assert!(received(&run.fakes.cloudtalk).await.is_empty());
}
