//! `bridge tenants`, the real binary, on a real registry (the local store file): a tenant added
//! with it is served by the bridge with its own accounts and the secrets it printed once;
//! nothing secret is stored in the clear or shown again; disabled (with --yes), it is refused.

use std::sync::Arc;

use bridge::local_store::LocalStore;
use std::path::Path;

use bridge::Deps;
use bridge_testkit::*;
use serde_json::{json, Value};

const SEAL_KEY: &str = "seal-key-of-the-stack";

/// `bridge --local-store <store> tenants <line>` with `env`: its exit code, stdout and stderr.
fn bridge(store: &Path, line: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bridge"));
    command
        .arg("--local-store")
        .arg(store)
        .arg("tenants")
        .args(line.split_whitespace())
        .stdin(std::process::Stdio::null())
        .env("TENANT_SEAL_KEY", SEAL_KEY);
    for name in [
        "TENANT_GHL_TOKEN",
        "TENANT_CLOUDTALK_KEY_SECRET",
        "TENANT_GHL_WEBHOOK_SECRET",
        "TENANT_CLOUDTALK_WEBHOOK_SECRET",
        "TENANTS_TABLE",
        "BRIDGE_STACK",
        "BRIDGE_SECRETS_ARN",
    ] {
        command.env_remove(name);
    }
    let out = command.envs(env.iter().copied()).output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

/// The secrets a command printed, in order.
fn printed_secrets(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("Authorization: Bearer "))
        .map(str::to_string)
        .collect()
}

const SECRETS: [(&str, &str); 2] = [
    ("TENANT_GHL_TOKEN", "pit-dental-0001"),
    ("TENANT_CLOUDTALK_KEY_SECRET", "ct-secret-dental"),
];

/// `bridge tenants add`: refused without its secrets, then added; the webhook secrets it
/// printed once.
fn add(file: &Path) -> Vec<String> {
    let secrets = SECRETS;
    let (code, _, missing) = bridge(
        file,
        "add loc_dental --cloudtalk-key-id KEYD",
        &[("TENANT_GHL_TOKEN", "pit")],
    );
    assert_eq!(code, 1, "{missing}");
    assert!(
        missing.contains("TENANT_CLOUDTALK_KEY_SECRET is not set"),
        "{missing}"
    );
    let (code, added, err) = bridge(
        file,
        "add loc_dental --cloudtalk-key-id KEYD --phone-region IT --name Dental",
        &secrets,
    );
    assert_eq!(code, 0, "{err}");
    let printed = printed_secrets(&added);
    assert_eq!(
        printed.len(),
        2,
        "the GHL and CloudTalk webhook secrets: {added}"
    );
    assert!(!added.contains("pit-dental-0001") && !added.contains("ct-secret-dental"));
    let (code, _, again) = bridge(file, "add loc_dental --cloudtalk-key-id K", &secrets);
    assert_eq!(code, 1);
    assert!(again.contains("registered already"), "{again}");
    let (code, _, usage) = bridge(file, "add loc_dental", &secrets);
    assert_eq!(code, 2, "a usage error: {usage}");

    printed
}

/// Stored sealed, shown without values (text and JSON).
fn shown_without_values(file: &Path, printed: &[String]) {
    let secrets = SECRETS;
    let stored = std::fs::read_to_string(file).unwrap();
    for plain in [
        "pit-dental-0001",
        "ct-secret-dental",
        &printed[0],
        &printed[1],
    ] {
        assert!(!stored.contains(plain), "{plain} stored in the clear");
    }
    let (_, shown, _) = bridge(file, "show loc_dental", &secrets);
    assert!(shown.contains("status:                active"), "{shown}");
    assert!(shown.contains("phone region:          IT"), "{shown}");
    assert!(printed_secrets(&shown).is_empty() && !shown.contains(&printed[0]));
    let (_, listed, _) = bridge(file, "list", &secrets);
    assert!(
        listed.starts_with("loc_dental  active  private integration  cloudtalk key KEYD"),
        "{listed}"
    );
    let (_, listed, _) = bridge(file, "list --json", &secrets);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["location_id"], "loc_dental");
    assert_eq!(listed[0]["status"], "active");
    assert_eq!(listed[0]["options"]["phone_region"], "IT");
    assert!(
        listed[0].get("sealed").is_none(),
        "no sealed values: {listed}"
    );
    let held = listed[0]["secrets_held"].as_array().unwrap();
    assert!(held.len() >= 3, "{listed}");
    assert!(!listed.to_string().contains(&printed[0]));
}

/// The bridge serves it: its GHL webhook secret, its CloudTalk account.
async fn served(deps: &Deps, fakes: &Fakes, printed: &[String], body: &Value) {
    let req = post(
        "/api/ghl-webhooks/new-contact",
        &body.to_string(),
        Some(&printed[0]),
    );
    let res = bridge::route(deps, req).await;
    assert_eq!(res.status(), 200, "{}", response_json(&res));
    let cloudtalk = received(&fakes.cloudtalk).await;
    assert!(!cloudtalk.is_empty());
    let basic = {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("KEYD:ct-secret-dental")
        )
    };
    assert!(cloudtalk
        .iter()
        .all(|r| r.authorization.as_deref() == Some(basic.as_str())));
    // Its CloudTalk route takes the printed CloudTalk secret.
    let call = json!({"call_id": 8101, "external_number": "+393331112222", "status": "answered"});
    let req = post(
        "/api/cloudtalk-webhooks/loc_dental/call-ended",
        &call.to_string(),
        Some(&printed[1]),
    );
    let res = bridge::route(deps, req).await;
    assert_eq!(res.status(), 200, "{}", response_json(&res));
    assert!(received(&fakes.ghl)
        .await
        .iter()
        .all(|r| r.authorization.as_deref() == Some("Bearer pit-dental-0001")));
}

#[tokio::test]
async fn a_tenant_added_with_the_tool_is_served_with_its_own_accounts_and_can_be_disabled() {
    let dir = std::env::temp_dir().join(format!("tenants-tool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("store.json");
    let _ = std::fs::remove_file(&file);
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    let mut backends = bridge::Backends::in_memory();
    backends.tenants = Some(Arc::new(LocalStore::new(&file)));
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.secrets.tenant_seal_key = Some(SEAL_KEY.into());
    let deps = Deps::build(settings, backends).unwrap();

    let printed = add(&file);
    shown_without_values(&file, &printed);
    let body = json!({"contact": {"id": "g-1", "name": "Client", "phone": "+393331112222",
        "locationId": "loc_dental"}});
    served(&deps, &fakes, &printed, &body).await;

    let secrets = SECRETS;
    // Disabled, it is refused before any upstream call.
    let (code, _, refused) = bridge(&file, "disable loc_dental", &secrets);
    assert_eq!(code, 2, "no terminal to ask on, no --yes: {refused}");
    let (_, shown, _) = bridge(&file, "show loc_dental", &secrets);
    assert!(shown.contains("status:                active"), "{shown}");
    let (code, _, err) = bridge(&file, "disable loc_dental --yes", &secrets);
    assert_eq!(code, 0, "{err}");
    let before = received(&fakes.cloudtalk).await.len();
    let req = post(
        "/api/ghl-webhooks/new-contact",
        &body.to_string(),
        Some(&printed[0]),
    );
    let res = bridge::route(&deps, req).await;
    assert_eq!(res.status(), 403);
    assert_eq!(received(&fakes.cloudtalk).await.len(), before);
    let _ = std::fs::remove_dir_all(&dir);
}
