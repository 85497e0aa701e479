//! GoHighLevel Marketplace signature test vectors, through the real handler. The keys are test
//! keys in `tests/fixtures/`, given to the bridge through the same overrides an operator uses
//! (`GHL_WEBHOOK_PUBLIC_KEY`, `GHL_WEBHOOK_RSA_PUBLIC_KEY`).

mod common;

use base64::Engine;
use bridge::handlers::ghl::NewTag;
use bridge::webhook::handle;
use bridge::Deps;
use common::*;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::Signer as _;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::signature::SignatureEncoding;
use serde_json::json;

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
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let mut cfg = config(&fakes.cloudtalk, &fakes.ghl);
    cfg.ghl_webhook_public_key = Some(ED_PUBLIC.to_string());
    cfg.ghl_webhook_rsa_public_key = Some(RSA_PUBLIC.to_string());
    let backends = bridge::Backends::in_memory();
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
    let deps = Deps::build(cfg, backends).unwrap();
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
    let (fakes, deps) = setup().await;
    let body = body_at(0, "wh-ed");
    let res = handle(
        &NewTag,
        &deps,
        signed(&body, "x-ghl-signature", &ed_sign(&body)),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", response_json(&res));
    let body = body_at(0, "wh-rsa");
    let res = handle(
        &NewTag,
        &deps,
        signed(&body, "x-wh-signature", &rsa_sign(&body)),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", response_json(&res));
    assert_eq!(calls(&fakes.cloudtalk).await.len(), 2);
}

#[tokio::test]
async fn bad_signatures_are_refused_with_no_upstream_call() {
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
        let res = handle(&NewTag, &deps, req).await;
        assert_eq!(res.status(), 401, "{name}");
        assert_eq!(response_json(&res)["error"], code, "{name}");
    }
    // An invalid signature is refused even alongside a valid shared secret.
    let mut req = signed(&tampered, "x-ghl-signature", &good);
    req.headers_mut()
        .insert("x-webhook-secret", GHL_SECRET.parse().unwrap());
    assert_eq!(handle(&NewTag, &deps, req).await.status(), 401);
    assert!(received(&fakes.cloudtalk).await.is_empty());
}

#[tokio::test]
async fn stale_and_future_timestamps_are_refused() {
    let (fakes, deps) = setup().await;
    for offset in [-301, 301, -3600] {
        let body = body_at(offset, &format!("wh-{offset}"));
        let res = handle(
            &NewTag,
            &deps,
            signed(&body, "x-ghl-signature", &ed_sign(&body)),
        )
        .await;
        assert_eq!(res.status(), 401, "offset {offset}");
        assert_eq!(response_json(&res)["error"], "invalid_signature");
    }
    let body = body_at(-240, "wh-recent");
    let res = handle(
        &NewTag,
        &deps,
        signed(&body, "x-ghl-signature", &ed_sign(&body)),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(calls(&fakes.cloudtalk).await.len(), 1);
}

#[tokio::test]
async fn a_replayed_webhook_id_is_a_duplicate_with_no_write() {
    let (fakes, deps) = setup().await;
    let body = body_at(0, "wh-replay");
    let signature = ed_sign(&body);
    let first = handle(&NewTag, &deps, signed(&body, "x-ghl-signature", &signature)).await;
    assert_eq!(first.status(), 200);
    let again = handle(&NewTag, &deps, signed(&body, "x-ghl-signature", &signature)).await;
    assert_eq!(again.status(), 200);
    assert_eq!(response_json(&again)["duplicate"], true);
    assert_eq!(calls(&fakes.cloudtalk).await.len(), 1);
}

#[tokio::test]
async fn routes_without_a_credential_refuse_everything() {
    let (fakes, mut deps) = setup().await;
    deps.config.cloudtalk_webhook_secrets.clear();
    let res = bridge::route(
        &deps,
        post("/api/cloudtalk-webhooks/generic", "{}", Some("")),
    )
    .await;
    assert_eq!(res.status(), 401);
    let res = bridge::route(&deps, post("/api/cloudtalk-webhooks/generic", "{}", None)).await;
    assert_eq!(res.status(), 401);
    // The local-only switch opens them, and only them.
    deps.config.insecure_local_no_auth = true;
    let res = bridge::route(&deps, post("/api/cloudtalk-webhooks/generic", "{}", None)).await;
    assert_eq!(res.status(), 200);
    let res = bridge::route(&deps, post("/api/ghl-webhooks/new-tag", "{}", None)).await;
    assert_eq!(res.status(), 401, "a route with a secret still needs it");
    assert!(received(&fakes.cloudtalk).await.is_empty());
}

#[test]
fn the_local_switch_is_ignored_inside_lambda() {
    let vars = [
        ("BRIDGE_LOCAL_INSECURE_NO_AUTH", "true"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
    ];
    let cfg = bridge::config::Config::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    });
    assert!(!cfg.insecure_local_no_auth);
    let cfg = bridge::config::Config::from_lookup(|k| {
        (k == "BRIDGE_LOCAL_INSECURE_NO_AUTH").then(|| "true".to_string())
    });
    assert!(cfg.insecure_local_no_auth);
}

#[tokio::test]
async fn a_marketplace_app_sends_every_event_type_to_one_url() {
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
        &NewTag,
        &deps,
        signed(&deleted, "x-ghl-signature", &ed_sign(&deleted)),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(response_json(&res)["result"], "ignored");
    assert_eq!(calls(&fakes.cloudtalk).await.len(), 1);
}
