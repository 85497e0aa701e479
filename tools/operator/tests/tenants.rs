//! `bridge tenants`, the real binary, on a real registry (the local store file): a tenant added
//! with it is served by the bridge with its own accounts and the secrets it printed once;
//! nothing secret is stored in the clear or shown again; disabled (with --yes), it is refused;
//! its webhook secrets rotated with an overlap; disabled, a re-install of it is refused and
//! reported (`show`, `list`, `bridge status`) until `enable`.

use std::sync::Arc;

use bridge::local_store::LocalStore;
use std::path::Path;

use bridge::Deps;
use bridge_testkit::*;
use serde_json::{json, Value};

const SEAL_KEY: &str = "seal-key-of-the-stack";

/// `bridge --local-store <store> tenants <line>` with `env`: its exit code, stdout and stderr.
fn bridge(store: &Path, line: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    bridge_command(store, &format!("tenants {line}"), env)
}

/// `bridge --local-store <store> <line>` with `env`: its exit code, stdout and stderr.
fn bridge_command(store: &Path, line: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bridge"));
    command
        .arg("--local-store")
        .arg(store)
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
        "STATE_TABLE",
        "CONTACT_MAP_TABLE",
        "RETRY_QUEUE_URL",
        "DEAD_LETTER_QUEUE_URL",
        "AWS_ENDPOINT_URL",
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

// ---------------------------------------------------------------------------------------------
// Rotation and an operator's disable.

/// A deployment of the Marketplace app (signed installs with the samples' key) over the store
/// file `file`, as the functions would run it.
fn app_deployment(fakes: &Fakes, file: &Path) -> Deps {
    let mut backends = bridge::Backends::in_memory();
    backends.tenants = Some(Arc::new(LocalStore::new(file)));
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.secrets.tenant_seal_key = Some(SEAL_KEY.into());
    settings.config.ghl_app_id = Some("app_123".into());
    settings.config.ghl_webhook_public_key = Some(bridge_operator::sample_key::PUBLIC_PEM.into());
    Deps::build(settings, backends).unwrap()
}

/// A fresh store file for `name`.
fn store_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tenants-tool-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("store.json");
    let _ = std::fs::remove_file(&file);
    file
}

/// The status `loc_dental`'s `sender` route answers `secret` with (each event a new one).
async fn answer(deps: &Deps, sender: &str, secret: &str, n: u32) -> u16 {
    let (path, body) = match sender {
        "cloudtalk" => (
            "/api/cloudtalk-webhooks/loc_dental/call-ended",
            json!({"call_id": 8200 + n, "external_number": "+393331112222", "status": "answered"}),
        ),
        _ => (
            "/api/ghl-webhooks/new-contact",
            json!({"contact": {"id": format!("g-{n}"), "name": "Client",
                "phone": "+393331112222", "locationId": "loc_dental"}}),
        ),
    };
    let res = bridge::route(deps, post(path, &body.to_string(), Some(secret))).await;
    res.status().as_u16()
}

/// `set-cloudtalk --overlap 2h`: the stack (here the local store) and the tenant named, asked
/// first; old and new CloudTalk secrets both accepted; shown as replaced.
async fn cloudtalk_secret_rotated(file: &Path, deps: &Deps, printed: &[String]) {
    let place = format!("local store {}", file.display());
    let line = "set-cloudtalk loc_dental --cloudtalk-key-id KEYD --overlap 2h";
    let (code, _, asked) = bridge(file, line, &SECRETS);
    assert_eq!(code, 2, "no terminal, no --yes: {asked}");
    assert!(
        asked.contains(&format!("{place}: tenant loc_dental: ")),
        "{asked}"
    );
    assert!(asked.contains("stays accepted for 2h"), "{asked}");
    let (code, out, err) = bridge(file, &format!("{line} --yes"), &SECRETS);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!("updated tenant loc_dental on {place}\n")),
        "{out}"
    );
    assert!(
        out.contains("stays accepted until ") && out.contains("(--overlap 2h)"),
        "{out}"
    );
    let new = printed_secrets(&out);
    assert_eq!(new.len(), 1, "{out}");
    assert_eq!(
        answer(deps, "cloudtalk", &printed[1], 1).await,
        200,
        "the old one"
    );
    assert_eq!(
        answer(deps, "cloudtalk", &new[0], 2).await,
        200,
        "the new one"
    );
    let (_, shown, _) = bridge(file, "show loc_dental", &[]);
    assert!(
        shown.contains("ct webhook secrets:    1 (+1 replaced, accepted until "),
        "{shown}"
    );
    assert!(!shown.contains(&printed[1]) && !shown.contains(&new[0]));
    let stored = std::fs::read_to_string(file).unwrap();
    assert!(
        !stored.contains(&printed[1]),
        "the replaced secret is kept sealed"
    );
    let (code, _, usage) = bridge(file, "set-ghl-secret loc_dental --overlap 1x --yes", &[]);
    assert_eq!(code, 2, "{usage}");
}

/// `set-ghl-secret --overlap 0`: the old GHL secret refused at once.
async fn ghl_secret_replaced_at_once(file: &Path, deps: &Deps, printed: &[String]) {
    let (code, out, err) = bridge(file, "set-ghl-secret loc_dental --overlap 0 --yes", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("retired at once (--overlap 0)"), "{out}");
    let new = printed_secrets(&out);
    assert_eq!(
        answer(deps, "ghl", &printed[0], 3).await,
        401,
        "the old one"
    );
    assert_eq!(answer(deps, "ghl", &new[0], 4).await, 200, "the new one");
}

/// GHL's signed INSTALL of `loc_dental`, as the app's webhook URL receives it.
async fn reinstall(deps: &Deps, webhook_id: &str) -> Value {
    let body = json!({"type": "INSTALL", "appId": "app_123", "companyId": "comp_9",
        "locationId": "loc_dental", "webhookId": webhook_id,
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)})
    .to_string();
    let mut req = post("/api/ghl-webhooks/app-install", &body, None);
    let signature = bridge_operator::sample_key::sign(body.as_bytes());
    req.headers_mut()
        .insert("x-ghl-signature", signature.parse().unwrap());
    let res = bridge::route(deps, req).await;
    assert_eq!(res.status(), 200);
    response_json(&res)
}

/// `bridge status --json` of the local run: its tenants section and what needs attention.
fn local_status(file: &Path) -> (Value, Vec<String>) {
    let env = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("BRIDGE_URL", "http://127.0.0.1:9"),
    ];
    let (_, out, err) = bridge_command(file, "status --json", &env);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let attention = report["attention"].as_array().unwrap().iter();
    let attention = attention
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    (report["tenants"]["data"].clone(), attention)
}

/// After `disable`, GHL installs it again: still disabled, and reported until `enable`.
async fn reinstall_refused_until_enabled(file: &Path, deps: &Deps) {
    let (code, out, err) = bridge(file, "disable loc_dental --yes", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("disabled tenant loc_dental on local store "),
        "{out}"
    );
    assert_eq!(
        reinstall(deps, "wh-reinstall-1").await["result"],
        "reinstall_refused"
    );
    let (_, shown, _) = bridge(file, "show loc_dental", &[]);
    assert!(
        shown.contains("status:                disabled\n"),
        "{shown}"
    );
    assert!(
        shown.contains("disabled by:           operator\n"),
        "{shown}"
    );
    assert!(
        shown.contains(
            " via install_webhook (company comp_9) (`bridge tenants enable loc_dental` serves it)"
        ),
        "{shown}"
    );
    let (_, listed, _) = bridge(file, "list", &[]);
    assert!(
        listed.starts_with("loc_dental  disabled (operator)  private integration"),
        "{listed}"
    );
    assert!(listed.contains("  re-install refused "), "{listed}");
    let (tenants, attention) = local_status(file);
    assert_eq!(tenants["disabled_by"]["operator"], 1, "{tenants}");
    assert_eq!(
        tenants["reinstalls_refused"][0]["tenant"], "loc_dental",
        "{tenants}"
    );
    assert_eq!(tenants["reinstalls_refused"][0]["via"], "install_webhook");
    assert!(
        attention
            .iter()
            .any(|a| a.starts_with("tenant loc_dental was installed again (install_webhook at ")),
        "{attention:?}"
    );

    let (code, out, err) = bridge(file, "enable loc_dental", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("loc_dental  active  private integration"),
        "{out}"
    );
    let (tenants, attention) = local_status(file);
    assert_eq!(tenants["reinstalls_refused"], json!([]), "{tenants}");
    assert!(
        !attention.iter().any(|a| a.contains("loc_dental")),
        "{attention:?}"
    );
    let (_, shown, _) = bridge(file, "show loc_dental", &[]);
    assert!(!shown.contains("re-install refused"), "{shown}");
}

#[tokio::test]
async fn secrets_rotate_with_an_overlap_and_an_operators_disable_outlives_a_reinstall() {
    let file = store_file("rotation");
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    let deps = app_deployment(&fakes, &file);
    let printed = add(&file);
    cloudtalk_secret_rotated(&file, &deps, &printed).await;
    ghl_secret_replaced_at_once(&file, &deps, &printed).await;
    reinstall_refused_until_enabled(&file, &deps).await;
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
}
