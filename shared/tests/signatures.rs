//! GoHighLevel Marketplace signature test vectors, through the real handler. The keys are test
//! keys in `tests/fixtures/`, given to the bridge through the same overrides an operator uses
//! (`GHL_WEBHOOK_PUBLIC_KEY`, `GHL_WEBHOOK_RSA_PUBLIC_KEY`).

use base64::Engine;
use bridge::pipeline::handle;
use bridge::Deps;
use bridge::EndpointId;
use bridge_testkit::*;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::Signer as _;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::signature::SignatureEncoding;
use serde_json::json;

/// The cases run one at a time: a case that captures the log lines must not share the
/// process's tracing callsites with cases running without a subscriber.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const ED_PRIVATE: &str = include_str!("fixtures/test-ed25519-private.pem");
const ED_PUBLIC: &str = include_str!("fixtures/test-ed25519-public.pem");
const RSA_PRIVATE: &str = include_str!("fixtures/test-rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("fixtures/test-rsa-public.pem");

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn ed_sign(body: &str) -> String {
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(ED_PRIVATE).unwrap();
    b64(&key.sign(body.as_bytes()).to_bytes())
}

fn rsa_sign(body: &str) -> String {
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(RSA_PRIVATE).unwrap();
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key);
    b64(&signer.sign(body.as_bytes()).to_vec())
}

fn body_at(offset_secs: i64, webhook_id: &str) -> String {
    let ts = (chrono::Utc::now() + chrono::Duration::seconds(offset_secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({"type": "ContactTagUpdate", "webhookId": webhook_id, "timestamp": ts, "locationId": LOCATION,
        "id": "ghl_123456", "tags": ["signed"]})
    .to_string()
}

async fn setup() -> (Fakes, Deps) {
    setup_with(|_| {}, bridge::Backends::in_memory()).await
}

/// The test keys, `change` applied to the settings, and the contact `ghl_123456` linked to
/// CloudTalk `555`.
async fn setup_with(
    change: impl FnOnce(&mut bridge::config::Settings),
    backends: bridge::Backends,
) -> (Fakes, Deps) {
    setup_at(
        change,
        backends,
        std::sync::Arc::new(bridge::clock::SystemClock),
    )
    .await
}

/// [`setup_with`], reading time from `clock`.
async fn setup_at(
    change: impl FnOnce(&mut bridge::config::Settings),
    backends: bridge::Backends,
    clock: std::sync::Arc<dyn bridge::clock::Clock>,
) -> (Fakes, Deps) {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let mut cfg = config(&fakes.cloudtalk, &fakes.ghl);
    cfg.config.ghl_webhook_public_key = Some(ED_PUBLIC.to_string());
    cfg.config.ghl_webhook_rsa_public_key = Some(RSA_PUBLIC.to_string());
    change(&mut cfg);
    backends
        .contacts
        .link(&bridge::contact_map::ContactLink::new(
            LOCATION,
            "ghl_123456",
            "555",
            bridge::contact_map::LinkOrigin::GoHighLevel,
        ))
        .await
        .unwrap();
    let deps = Deps::build_with_clock(cfg, backends, clock).unwrap();
    (fakes, deps)
}

fn signed(body: &str, header: &str, signature: &str) -> lambda_http::Request {
    let mut req = post("/api/ghl-webhooks/new-tag", body, None);
    req.headers_mut().insert(
        lambda_http::http::HeaderName::from_bytes(header.as_bytes()).unwrap(),
        signature.parse().unwrap(),
    );
    req
}

#[tokio::test]
async fn valid_signatures_are_accepted() {
    let _serial = SERIAL.lock().await;
    let (fakes, deps) = setup().await;
    let body = body_at(0, "wh-ed");
    let res = handle(
        EndpointId::GhlNewTag,
        &deps,
        signed(&body, "x-ghl-signature", &ed_sign(&body)),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", response_json(&res));
    let body = body_at(0, "wh-rsa");
    let res = handle(
        EndpointId::GhlNewTag,
        &deps,
        signed(&body, "x-wh-signature", &rsa_sign(&body)),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", response_json(&res));
    assert_eq!(calls(&fakes.cloudtalk).await.len(), 2);
}

#[tokio::test]
async fn bad_signatures_are_refused_with_no_upstream_call() {
    let _serial = SERIAL.lock().await;
    let (fakes, deps) = setup().await;
    let body = body_at(0, "wh-1");
    let good = ed_sign(&body);
    let other_key = b64(&ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
        .sign(body.as_bytes())
        .to_bytes());
    let tampered = body.replace("signed", "SIGNED");
    let cases: Vec<(&str, lambda_http::Request, &str)> = vec![
        (
            "tampered body",
            signed(&tampered, "x-ghl-signature", &good),
            "invalid_signature",
        ),
        (
            "empty signature",
            signed(&body, "x-ghl-signature", ""),
            "invalid_signature",
        ),
        (
            "truncated signature",
            signed(&body, "x-ghl-signature", &good[..40]),
            "invalid_signature",
        ),
        (
            "wrong key",
            signed(&body, "x-ghl-signature", &other_key),
            "invalid_signature",
        ),
        (
            "not base64",
            signed(&body, "x-ghl-signature", "***"),
            "invalid_signature",
        ),
        (
            "rsa tampered",
            signed(&tampered, "x-wh-signature", &rsa_sign(&body)),
            "invalid_signature",
        ),
        (
            "rsa empty",
            signed(&body, "x-wh-signature", ""),
            "invalid_signature",
        ),
        (
            "missing header",
            post("/api/ghl-webhooks/new-tag", &body, None),
            "unauthorized",
        ),
    ];
    for (name, req, code) in cases {
        let res = handle(EndpointId::GhlNewTag, &deps, req).await;
        assert_eq!(res.status(), 401, "{name}");
        assert_eq!(response_json(&res)["error"], code, "{name}");
    }
    // An invalid signature is refused even alongside a valid shared secret.
    let mut req = signed(&tampered, "x-ghl-signature", &good);
    req.headers_mut()
        .insert("x-webhook-secret", GHL_SECRET.parse().unwrap());
    assert_eq!(
        handle(EndpointId::GhlNewTag, &deps, req).await.status(),
        401
    );
    assert!(received(&fakes.cloudtalk).await.is_empty());
}

#[tokio::test]
async fn stale_and_future_timestamps_are_refused() {
    let _serial = SERIAL.lock().await;
    let (fakes, deps) = setup().await;
    for offset in [-301, 301, -3600] {
        let body = body_at(offset, &format!("wh-{offset}"));
        let res = handle(
            EndpointId::GhlNewTag,
            &deps,
            signed(&body, "x-ghl-signature", &ed_sign(&body)),
        )
        .await;
        assert_eq!(res.status(), 401, "offset {offset}");
        assert_eq!(response_json(&res)["error"], "invalid_signature");
    }
    let body = body_at(-240, "wh-recent");
    let res = handle(
        EndpointId::GhlNewTag,
        &deps,
        signed(&body, "x-ghl-signature", &ed_sign(&body)),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(calls(&fakes.cloudtalk).await.len(), 1);
}

#[tokio::test]
async fn a_replayed_webhook_id_is_a_duplicate_with_no_write() {
    let _serial = SERIAL.lock().await;
    let (fakes, deps) = setup().await;
    let body = body_at(0, "wh-replay");
    let signature = ed_sign(&body);
    let first = handle(
        EndpointId::GhlNewTag,
        &deps,
        signed(&body, "x-ghl-signature", &signature),
    )
    .await;
    assert_eq!(first.status(), 200);
    let again = handle(
        EndpointId::GhlNewTag,
        &deps,
        signed(&body, "x-ghl-signature", &signature),
    )
    .await;
    assert_eq!(again.status(), 200);
    assert_eq!(response_json(&again)["duplicate"], true);
    assert_eq!(calls(&fakes.cloudtalk).await.len(), 1);
}

#[tokio::test]
async fn routes_without_a_credential_refuse_everything() {
    let _serial = SERIAL.lock().await;
    let no_ct_secret =
        |s: &mut bridge::config::Settings| s.secrets.cloudtalk_webhook_secrets.clear();
    let (fakes, deps) = setup_with(no_ct_secret, bridge::Backends::in_memory()).await;
    let res = bridge::route(
        &deps,
        post("/api/cloudtalk-webhooks/generic", "{}", Some("")),
    )
    .await;
    assert_eq!(res.status(), 401);
    let res = bridge::route(&deps, post("/api/cloudtalk-webhooks/generic", "{}", None)).await;
    assert_eq!(res.status(), 401);
    // The local-only switch opens them, and only them.
    let (_, deps) = setup_with(
        |s| {
            no_ct_secret(s);
            s.config.insecure_local_no_auth = true;
        },
        bridge::Backends::in_memory(),
    )
    .await;
    let res = bridge::route(&deps, post("/api/cloudtalk-webhooks/generic", "{}", None)).await;
    assert_eq!(res.status(), 200);
    let res = bridge::route(&deps, post("/api/ghl-webhooks/new-tag", "{}", None)).await;
    assert_eq!(res.status(), 401, "a route with a secret still needs it");
    assert!(received(&fakes.cloudtalk).await.is_empty());
}

#[tokio::test]
async fn a_marketplace_app_sends_every_event_type_to_one_url() {
    let _serial = SERIAL.lock().await;
    let (fakes, deps) = setup().await;
    let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    // A NoteCreate that arrives on the new-contact route is applied as a note.
    let note =
        json!({"type": "NoteCreate", "webhookId": "wh-n1", "timestamp": ts, "locationId": LOCATION,
        "id": "note-1", "contactId": "ghl_123456", "body": "Richiamare lunedì"})
        .to_string();
    let mut req = signed(&note, "x-ghl-signature", &ed_sign(&note));
    *req.uri_mut() = "https://bridge.example.com/api/ghl-webhooks/new-contact"
        .parse()
        .unwrap();
    let res = bridge::route(&deps, req).await;
    assert_eq!(res.status(), 200);
    assert_eq!(response_json(&res)["appliedBy"], "ghl-new-note");
    assert_eq!(
        calls(&fakes.cloudtalk).await,
        vec![("PUT".to_string(), "/api/notes/add/555.json".to_string())]
    );
    // An event type the bridge does not act on is acknowledged and ignored.
    let deleted = json!({"type": "ContactDelete", "webhookId": "wh-d1", "timestamp": ts, "locationId": LOCATION, "id": "ghl_123456"}).to_string();
    let res = handle(
        EndpointId::GhlNewTag,
        &deps,
        signed(&deleted, "x-ghl-signature", &ed_sign(&deleted)),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(response_json(&res)["result"], "ignored");
    assert_eq!(calls(&fakes.cloudtalk).await.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Only this deployment's events: a valid signature proves GHL sent the body, not that it is ours.
// ---------------------------------------------------------------------------------------------

/// A signed `ContactTagUpdate` at `at`, with `extra` merged in (a `null` removes a field).
fn tag_event(
    at: chrono::DateTime<chrono::Utc>,
    webhook_id: &str,
    extra: serde_json::Value,
) -> String {
    let mut body = json!({"type": "ContactTagUpdate", "webhookId": webhook_id,
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "locationId": LOCATION, "id": "ghl_123456", "tags": ["signed"]});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        match v {
            serde_json::Value::Null => {
                body.as_object_mut().unwrap().remove(&k);
            }
            v => body[k] = v,
        }
    }
    body.to_string()
}

fn ed_signed(body: &str) -> lambda_http::Request {
    signed(body, "x-ghl-signature", &ed_sign(body))
}

#[tokio::test]
async fn a_signed_event_for_another_location_is_refused_and_nothing_is_written() {
    let _serial = SERIAL.lock().await;
    let queue = std::sync::Arc::new(bridge::retry_queue::MemoryRetryQueue::new());
    let mut backends = bridge::Backends::in_memory();
    backends.retry_queue = queue.clone();
    let (fakes, deps) = setup_with(|_| {}, backends).await;
    let (_guard, logs) = capture_logs();
    let now = chrono::Utc::now();
    let foreign = tag_event(
        now,
        "wh-foreign",
        json!({"locationId": "someone-elses-location"}),
    );
    let res = handle(EndpointId::GhlNewTag, &deps, ed_signed(&foreign)).await;
    assert_eq!(res.status(), 403);
    assert_eq!(response_json(&res)["error"], "foreign_location");
    // The legacy RSA signature, and a type routed from another route, are fenced the same way.
    let res = handle(
        EndpointId::GhlNewTag,
        &deps,
        signed(&foreign, "x-wh-signature", &rsa_sign(&foreign)),
    )
    .await;
    assert_eq!(res.status(), 403);
    let note =
        json!({"type": "NoteCreate", "webhookId": "wh-foreign-note", "locationId": "elsewhere",
        "timestamp": now.to_rfc3339(), "contactId": "ghl_123456", "body": "x"})
        .to_string();
    let mut req = ed_signed(&note);
    *req.uri_mut() = "https://bridge.example.com/api/ghl-webhooks/new-contact"
        .parse()
        .unwrap();
    assert_eq!(bridge::route(&deps, req).await.status(), 403);

    assert!(
        received(&fakes.cloudtalk).await.is_empty(),
        "no upstream call"
    );
    assert_eq!(queue.queued_len(), 0, "nothing queued");
    assert!(queue.parked().is_empty(), "nothing parked");
    let now_ms = now.timestamp_millis();
    for key in ["ghl-webhook#wh-foreign", "ghl-webhook#wh-foreign-note"] {
        assert!(
            !deps.idempotency.seen(key, now_ms).await.unwrap(),
            "no record of {key}"
        );
    }
    let lines = logs.webhook_lines();
    assert_eq!(lines.len(), 3, "one line per request: {lines:?}");
    for line in &lines {
        assert_eq!(line["fields"]["outcome"], "refused");
        assert_eq!(line["fields"]["error"], "foreign_location");
        assert_eq!(line["fields"]["upstream_calls"], 0);
    }
}

#[tokio::test]
async fn a_signed_event_without_location_or_timestamp_is_unprocessable() {
    let _serial = SERIAL.lock().await;
    let (fakes, deps) = setup().await;
    let now = chrono::Utc::now();
    for (name, body, missing) in [
        (
            "no locationId",
            tag_event(now, "wh-noloc", json!({"locationId": null})),
            "locationId",
        ),
        (
            "no timestamp",
            tag_event(now, "wh-nots", json!({"timestamp": null})),
            "timestamp",
        ),
    ] {
        let res = handle(EndpointId::GhlNewTag, &deps, ed_signed(&body)).await;
        assert_eq!(res.status(), 422, "{name}");
        let answer = response_json(&res);
        assert_eq!(answer["error"], "unprocessable_payload", "{name}");
        assert_eq!(answer["missing"], json!([missing]), "{name}");
    }
    assert!(received(&fakes.cloudtalk).await.is_empty());
}

#[tokio::test]
async fn with_ghl_app_id_set_a_signed_event_for_another_app_is_refused() {
    let _serial = SERIAL.lock().await;
    let (fakes, deps) = setup_with(
        |s| s.config.ghl_app_id = Some("app-ours".into()),
        bridge::Backends::in_memory(),
    )
    .await;
    let now = chrono::Utc::now();
    let theirs = tag_event(now, "wh-app-1", json!({"appId": "app-theirs"}));
    let res = handle(EndpointId::GhlNewTag, &deps, ed_signed(&theirs)).await;
    assert_eq!(res.status(), 403);
    assert_eq!(response_json(&res)["error"], "foreign_app");
    assert!(received(&fakes.cloudtalk).await.is_empty());
    // Our app's events pass; so do those that name no app (GHL's contact events carry none).
    let ours = tag_event(now, "wh-app-2", json!({"appId": "app-ours"}));
    assert_eq!(
        handle(EndpointId::GhlNewTag, &deps, ed_signed(&ours))
            .await
            .status(),
        200
    );
    let unnamed = tag_event(now, "wh-app-3", json!({}));
    assert_eq!(
        handle(EndpointId::GhlNewTag, &deps, ed_signed(&unnamed))
            .await
            .status(),
        200
    );
    assert_eq!(calls(&fakes.cloudtalk).await.len(), 2);
}

#[tokio::test]
async fn a_workflow_webhook_from_another_sub_account_is_refused() {
    let _serial = SERIAL.lock().await;
    let (fakes, deps) = setup().await;
    let body = |location: serde_json::Value| {
        let mut b = json!({"contact_id": "ghl_123456", "full_name": "Mario Rossi", "customData": {"tag": "VIP"}});
        if !location.is_null() {
            b["location"] = json!({"id": location, "name": "Agency"});
        }
        b.to_string()
    };
    let res = handle(
        EndpointId::GhlNewTag,
        &deps,
        post(
            "/api/ghl-webhooks/new-tag",
            &body(json!("loc-copied-from")),
            Some(GHL_SECRET),
        ),
    )
    .await;
    assert_eq!(res.status(), 403);
    assert_eq!(response_json(&res)["error"], "foreign_location");
    assert!(received(&fakes.cloudtalk).await.is_empty());
    for location in [json!(LOCATION), serde_json::Value::Null] {
        let res = handle(
            EndpointId::GhlNewTag,
            &deps,
            post(
                "/api/ghl-webhooks/new-tag",
                &body(location.clone()),
                Some(GHL_SECRET),
            ),
        )
        .await;
        assert_eq!(res.status(), 200, "location {location}");
    }
}

#[tokio::test]
async fn a_redelivery_of_an_event_answered_429_is_not_refused_as_stale() {
    let _serial = SERIAL.lock().await;
    use wiremock::matchers::{method, path_regex};
    let mut backends = bridge::Backends::in_memory();
    backends.retry_queue = std::sync::Arc::new(bridge::retry_queue::NoRetryQueue);
    let clock = std::sync::Arc::new(bridge::clock::ManualClock::starting_now());
    let (fakes, deps) = setup_at(|_| {}, backends, clock.clone()).await;
    fakes.reset_cloudtalk().await;
    wiremock::Mock::given(method("PUT"))
        .and(path_regex(r"^/api/contacts/addTags/"))
        .respond_with(wiremock::ResponseTemplate::new(429))
        .mount(&fakes.cloudtalk)
        .await;
    let sent_at = chrono::Utc::now() - chrono::Duration::seconds(60);
    let body = tag_event(sent_at, "wh-redelivered", json!({}));
    let signature = ed_sign(&body);
    let first = handle(
        EndpointId::GhlNewTag,
        &deps,
        signed(&body, "x-ghl-signature", &signature),
    )
    .await;
    assert_eq!(first.status(), 429, "{}", response_json(&first));

    // GHL comes back 20 minutes later with the original body, timestamp and signature.
    clock.advance_ms(20 * 60 * 1000);
    fakes.reset_cloudtalk().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let again = handle(
        EndpointId::GhlNewTag,
        &deps,
        signed(&body, "x-ghl-signature", &signature),
    )
    .await;
    assert_eq!(again.status(), 200, "{}", response_json(&again));
    assert_eq!(response_json(&again)["result"], "applied");
    assert_eq!(
        calls(&fakes.cloudtalk).await,
        vec![(
            "PUT".to_string(),
            "/api/contacts/addTags/555.json".to_string()
        )]
    );

    // A body as old that the bridge never received stays refused.
    let never = tag_event(sent_at, "wh-never-seen", json!({}));
    let res = handle(EndpointId::GhlNewTag, &deps, ed_signed(&never)).await;
    assert_eq!(res.status(), 401);
    assert_eq!(response_json(&res)["error"], "invalid_signature");
    assert_eq!(calls(&fakes.cloudtalk).await.len(), 1);
}

#[tokio::test]
async fn a_rotated_webhook_secret_takes_effect_without_a_redeploy() {
    let _serial = SERIAL.lock().await;
    use bridge::secrets::{SecretSource, SecretStore};
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    struct Source(Mutex<String>);
    #[async_trait::async_trait]
    impl SecretSource for Source {
        fn name(&self) -> &str {
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:bridge"
        }
        async fn fetch(&self) -> Result<HashMap<String, String>, String> {
            let value = self.0.lock().unwrap().clone();
            Ok(HashMap::from([(
                "CLOUDTALK_WEBHOOK_SECRET".to_string(),
                value,
            )]))
        }
    }
    let fakes = Fakes::start().await;
    let source = Arc::new(Source(Mutex::new("before-rotation".into())));
    let clock = Arc::new(bridge::clock::ManualClock::starting_now());
    let store = SecretStore::load(
        source.clone(),
        Arc::new(|_: &str| None),
        std::time::Duration::from_secs(300),
        clock.clone(),
    )
    .await
    .unwrap();
    let settings = config(&fakes.cloudtalk, &fakes.ghl);
    let deps = Deps::new(
        settings.config,
        Arc::new(store),
        bridge::Backends::in_memory(),
        clock.clone(),
    )
    .unwrap();
    let send = |secret: &'static str| {
        let deps = &deps;
        async move {
            let body = json!({"event": "sms_received", "n": secret}).to_string();
            bridge::route(
                deps,
                post("/api/cloudtalk-webhooks/generic", &body, Some(secret)),
            )
            .await
            .status()
        }
    };
    assert_eq!(send("before-rotation").await, 200);
    *source.0.lock().unwrap() = "after-rotation".into();
    assert_eq!(
        send("after-rotation").await,
        401,
        "the secret is not re-read yet"
    );
    clock.advance_ms(300_000);
    assert_eq!(send("after-rotation").await, 200, "re-read after 5 minutes");
    assert_eq!(send("before-rotation").await, 401);
}
