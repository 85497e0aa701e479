//! `bridge doctor`, the real binary, against the sandbox (CloudTalk's and GoHighLevel's APIs,
//! with the one GHL read it does not serve, a location's custom fields, answered beside it and
//! checked against GHL's contract) and, for a stack, moto (tables, the secret) behind a fake
//! CloudFormation (as `tests/status.rs` describes its stack):
//!
//! - a well-configured local run, after one webhook of each route went through the bridge, is
//!   all green (exit 0);
//! - a missing secret, a wrong CloudTalk key, a missing custom field, an agent without a user
//!   and webhooks never received are each a `fail` or `warn` line with its fix (exit 1);
//! - a stack: its parameters are the settings, its secret the secrets (never this shell's), its
//!   tenants checked with their own options and keys;
//! - `--print-setup`: each route's URL (a tenant's CloudTalk path), header and body, secrets by
//!   name unless `--reveal-secrets`;
//! - the manual's sender chapter shows the bodies `--print-setup` prints; the stack parameters
//!   read are the ones `template.yaml` sets the variables from; usage errors exit 2.
//!
//! No secret value is ever in the output, but with `--reveal-secrets`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bridge::registry::{EndpointId, REGISTRY};
use bridge::state::StateStore;
use bridge::tenants::registry::private_token_tenant;
use bridge::tenants::{DynamoTenantStore, TenantSecrets, Tenants};
use bridge_local::sandbox::{default_users, Sandbox, SandboxConfig, User};
use bridge_operator::doctor::check::id;
use bridge_operator::sender_setup::SENDERS;
use bridge_testkit::aws::{
    aws_endpoint, dynamodb_client, fresh_table, secrets_client, unique_name,
};
use serde_json::{json, Value};

const LOCATION: &str = "loc_abc123";
const TENANT: &str = "loc_t";
const GHL_TOKEN: &str = "sandbox-ghl-token";
const KEY_ID: &str = "sandbox-key-id";
const KEY_SECRET: &str = "sandbox-key-secret";
const GHL_SECRET: &str = "doctor-ghl-webhook-secret-value";
const CT_SECRET: &str = "doctor-ct-webhook-secret-value";
const SEAL_KEY: &str = "doctor-seal-key-value";
const ORIGIN: &str = "tools/operator/tests/doctor.rs";

// ---------------------------------------------------------------------------------------------
// The binary.

/// `bridge <args>` with only `env` (and the test credentials): exit code, stdout, stderr.
async fn bridge(args: Vec<String>, env: Vec<(String, String)>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bridge"));
        let nowhere = std::env::temp_dir().join("doctor-test-no-aws-config");
        command
            .args(&args)
            .stdin(std::process::Stdio::null())
            .env_clear()
            .env("AWS_CONFIG_FILE", &nowhere)
            .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .envs(env);
        let out = command.output().unwrap();
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (
            out.status.code().unwrap_or(-1),
            text(out.stdout),
            text(out.stderr),
        )
    })
    .await
    .unwrap()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The lines of a JSON report, after checking the exit code and that each line has the stable
/// shape: `{check, tenant, state, message, fix}`, `check` one of the documented ones.
fn checks_of((code, out, err): &(i32, String, String), expected: i32) -> Vec<Value> {
    assert_eq!(*code, expected, "stdout: {out}\nstderr: {err}");
    let value: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let checks = value
        .as_array()
        .unwrap_or_else(|| panic!("a list: {out}"))
        .clone();
    for c in &checks {
        let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["check", "fix", "message", "state", "tenant"], "{c}");
        assert!(id::ALL.contains(&c["check"].as_str().unwrap()), "{c}");
        assert!(
            ["ok", "warn", "fail"].contains(&c["state"].as_str().unwrap()),
            "{c}"
        );
        assert!(c["tenant"].is_string() || c["tenant"].is_null(), "{c}");
        assert!(c["fix"].is_string() || c["fix"].is_null(), "{c}");
    }
    checks
}

/// The lines of `check` for `tenant`.
fn lines<'a>(checks: &'a [Value], check: &str, tenant: Option<&str>) -> Vec<&'a Value> {
    let tenant = tenant.map_or(Value::Null, |t| json!(t));
    checks
        .iter()
        .filter(|c| c["check"] == check && c["tenant"] == tenant)
        .collect()
}

/// The one line of `check` for `tenant` whose message holds `text`.
fn line<'a>(checks: &'a [Value], check: &str, tenant: Option<&str>, text: &str) -> &'a Value {
    let found = lines(checks, check, tenant);
    let matching: Vec<&&Value> = found
        .iter()
        .filter(|c| c["message"].as_str().unwrap_or_default().contains(text))
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "{check} {tenant:?} {text:?} in {checks:#?}"
    );
    matching[0]
}

/// No secret value is anywhere in a run's output.
fn no_secrets((_, out, err): &(i32, String, String), secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} in {out}\n{err}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The sandbox, with a location's custom fields.

/// A contact custom field of `location`, as GHL lists it.
fn field(location: &str, id: &str, name: &str, model: &str) -> Value {
    json!({"id": id, "name": name, "fieldKey": format!("contact.{id}"), "dataType": "TEXT",
        "model": model, "locationId": location})
}

/// The fields the settings of these tests name.
fn fields() -> Vec<Value> {
    vec![
        field(LOCATION, "fld_date", "Last call date", "contact"),
        field(LOCATION, "fld_outcome", "Last call outcome", "contact"),
        field(LOCATION, "fld_duration", "Last call duration", "contact"),
        field(LOCATION, "fld_rating", "Call rating", "contact"),
        field(LOCATION, "fld_disposition", "Disposition", "contact"),
        field(LOCATION, "fld_deal", "Deal size", "opportunity"),
        field(TENANT, "fld_t_date", "Last call date", "contact"),
    ]
}

/// `GET /locations/{id}/customFields` as GoHighLevel answers it, the request and the answer
/// checked against its contract.
fn custom_fields(location: &str, headers: &axum::http::HeaderMap, query: &str) -> (u16, Value) {
    use bridge_contracts::Vendor;
    let query = bridge_contracts::query_pairs(query);
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let path = format!("/locations/{location}/customFields");
    let request = bridge_contracts::Request {
        method: "GET",
        path: &path,
        query: &query,
        headers: &headers,
        body: &[],
    };
    if let Some(refused) = bridge_contracts::guard(Vendor::GoHighLevel, &request, ORIGIN) {
        return refused;
    }
    let bearer = format!("Bearer {GHL_TOKEN}");
    if !headers
        .iter()
        .any(|(k, v)| k == "authorization" && *v == bearer)
    {
        return (
            401,
            json!({"statusCode": 401, "message": "Invalid token: access token is invalid"}),
        );
    }
    let listed: Vec<Value> = fields()
        .into_iter()
        .filter(|f| f["locationId"] == location)
        .collect();
    let body = json!({"customFields": listed});
    let checked =
        bridge_contracts::check_response(Vendor::GoHighLevel, "GET", &path, 200, &body, ORIGIN);
    if let Err(violation) = checked {
        bridge_contracts::record(*violation);
    }
    (200, body)
}

/// The sandbox on a local port, with the custom fields beside it; its base URL.
async fn sandbox(config: SandboxConfig) -> (String, Sandbox) {
    use axum::extract::{Path as AxumPath, RawQuery};
    let sandbox = Sandbox::new(config);
    let route = axum::routing::get(
        |AxumPath(location): AxumPath<String>,
         headers: axum::http::HeaderMap,
         RawQuery(query): RawQuery| async move {
            let (status, body) =
                custom_fields(&location, &headers, query.as_deref().unwrap_or_default());
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                axum::Json(body),
            )
        },
    );
    let app = sandbox
        .router()
        .route("/ghl/locations/{location}/customFields", route);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, sandbox)
}

fn sandbox_config() -> SandboxConfig {
    let mut users = default_users();
    users.push(User {
        id: "usr_t".into(),
        first_name: "Tina".into(),
        last_name: "Tenant".into(),
        email: "tina@example.com".into(),
        location_id: Some(TENANT.into()),
        ..User::default()
    });
    SandboxConfig {
        ghl_location_id: LOCATION.into(),
        ghl_users: users,
        quiet: true,
        ..SandboxConfig::default()
    }
}

/// No request of this file's broke GHL's contract.
fn no_violations() {
    let broken = bridge_contracts::take(ORIGIN);
    assert!(broken.is_empty(), "{broken:#?}");
}

// ---------------------------------------------------------------------------------------------
// The local run.

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A local run's settings, everything pointing at the sandbox, every field and rule existing.
fn local_env(sandbox: &str, store: &Path, bridge_url: &str) -> Vec<(String, String)> {
    let store = store.to_string_lossy().to_string();
    let mut env = pairs(&[
        ("CLOUDTALK_API_KEY_ID", KEY_ID),
        ("CLOUDTALK_API_KEY_SECRET", KEY_SECRET),
        ("GHL_API_TOKEN", GHL_TOKEN),
        ("GHL_LOCATION_ID", LOCATION),
        ("GHL_WEBHOOK_SECRET", GHL_SECRET),
        ("CLOUDTALK_WEBHOOK_SECRET", CT_SECRET),
        ("TENANT_SEAL_KEY", SEAL_KEY),
        ("DEFAULT_PHONE_REGION", "IT"),
        (
            "CAMPAIGN_STAGE_MAP",
            r#"{"completed":{"pipelineId":"sandbox-pipeline","stageId":"campaign-done"}}"#,
        ),
        ("GHL_FIELD_LAST_CALL_DATE", "fld_date"),
        ("GHL_FIELD_LAST_CALL_OUTCOME", "fld_outcome"),
        ("GHL_FIELD_LAST_CALL_DURATION", "fld_duration"),
        ("CALL_RATING_FIELD", "fld_rating"),
        ("CALL_DISPOSITION_FIELD", "fld_disposition"),
        ("AGENT_MAP", r#"{"45": "usr_giulia"}"#),
        ("CLOUDTALK_RATE_PER_MIN", "60000"),
        ("GHL_RATE_PER_10S", "100000"),
        ("LOCAL_STORE_PATH", &store),
        ("BRIDGE_URL", bridge_url),
        // The samples' GHL signatures (texts' deliveries) are made with the test key.
        (
            "GHL_WEBHOOK_PUBLIC_KEY",
            bridge_operator::sample_key::PUBLIC_PEM,
        ),
    ]);
    env.extend(upstreams(sandbox));
    env
}

/// The API bases, at the sandbox.
fn upstreams(sandbox: &str) -> Vec<(String, String)> {
    vec![
        (
            "CLOUDTALK_API_BASE".into(),
            format!("{sandbox}/cloudtalk/api"),
        ),
        (
            "CLOUDTALK_AI_API_BASE".into(),
            format!("{sandbox}/cloudtalk/ai/v1"),
        ),
        (
            "CLOUDTALK_ANALYTICS_API_BASE".into(),
            format!("{sandbox}/cloudtalk/analytics"),
        ),
        ("GHL_API_BASE".into(), format!("{sandbox}/ghl")),
    ]
}

/// `env` with `name` set to `value` (none: removed).
fn with(env: &[(String, String)], name: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = env.iter().filter(|(k, _)| k != name).cloned().collect();
    env.extend(value.map(|v| (name.to_string(), v.to_string())));
    env
}

fn fresh_store(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("store.json")
}

/// The bridge, its stores the store file, served on a local port with `env`'s settings.
async fn local_bridge(env: &[(String, String)], store: &Path) -> String {
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let settings = bridge::config::Settings::from_lookup(get);
    let file = Arc::new(bridge::local_store::LocalStore::new(store));
    let mut backends = bridge::Backends::in_memory();
    (backends.contacts, backends.state, backends.idempotency) =
        (file.clone(), file.clone(), file.clone());
    backends.limiter = file.clone();
    backends.tenants = Some(file);
    let deps = bridge::Deps::build(settings, backends).unwrap();
    bridge_testkit::e2e::serve_bridge(Arc::new(deps)).await
}

/// One sample of `endpoint` the bridge accepts (a workflow's, unsigned).
fn sample_of(endpoint: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(endpoint);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let stem = |f: &PathBuf| f.file_stem().unwrap().to_string_lossy().to_string();
    files
        .into_iter()
        .filter(|f| {
            bridge::expected_sample_status(&stem(f)) == 200 && !stem(f).starts_with("marketplace")
        })
        .min_by_key(|f| (!stem(f).starts_with("workflow"), stem(f)))
        .unwrap_or_else(|| panic!("no sample of {endpoint}"))
}

/// One webhook of each route (but the Marketplace app's) through the bridge at `url`.
async fn one_webhook_of_each_route(url: &str) {
    let options = bridge_operator::sender::SendOptions {
        base_url: url.to_string(),
        ghl_secret: Some(GHL_SECRET.into()),
        cloudtalk_secret: Some(CT_SECRET.into()),
        timeout: std::time::Duration::from_secs(20),
        resign: false,
    };
    let client = reqwest::Client::new();
    for entry in REGISTRY
        .iter()
        .filter(|e| e.id != EndpointId::GhlAppInstall)
    {
        let sent = bridge_operator::sender::send(&client, &options, &sample_of(entry.name)).await;
        let status = sent
            .status
            .clone()
            .unwrap_or_else(|e| panic!("{}: {e}", entry.name));
        assert_ne!(
            status, 401,
            "{}: the bridge refused the secret: {:?}",
            entry.name, sent.answer
        );
    }
}

/// The settings naming custom fields.
const FIELD_SETTINGS: [&str; 5] = [
    "GHL_FIELD_LAST_CALL_DATE",
    "GHL_FIELD_LAST_CALL_OUTCOME",
    "GHL_FIELD_LAST_CALL_DURATION",
    "CALL_RATING_FIELD",
    "CALL_DISPOSITION_FIELD",
];

const LOCAL_SECRETS: [&str; 5] = [KEY_SECRET, GHL_TOKEN, GHL_SECRET, CT_SECRET, SEAL_KEY];

/// What a well-configured local run says, line by line.
fn check_all_green(checks: &[Value]) {
    let checks = checks.to_vec();
    line(&checks, "health", None, "ok (HTTP 200)");
    line(&checks, "secrets", Some("default"), "CLOUDTALK_API_KEY_ID, CLOUDTALK_API_KEY_SECRET, GHL_API_TOKEN, GHL_WEBHOOK_SECRET, CLOUDTALK_WEBHOOK_SECRET set in the environment");
    line(
        &checks,
        "cloudtalk_key",
        Some("default"),
        "CloudTalk accepted the key (4 agent(s))",
    );
    line(
        &checks,
        "ghl_access",
        Some("default"),
        "the GHL token reaches location loc_abc123 (4 user(s))",
    );
    assert_eq!(
        lines(&checks, "custom_fields", Some("default")).len(),
        5,
        "{checks:#?}"
    );
    line(
        &checks,
        "custom_fields",
        Some("default"),
        "CALL_RATING_FIELD names the contact field \"Call rating\" (fld_rating)",
    );
    line(&checks, "stage_map", Some("default"), "1 rule(s)");
    line(
        &checks,
        "agents",
        Some("default"),
        "each of the 4 CloudTalk agent(s) has a GHL user",
    );
    line(
        &checks,
        "speed_to_lead",
        Some("default"),
        "speed to lead rings agents 42, 43",
    );
    let arrived = lines(&checks, "webhooks", Some("default"));
    assert_eq!(
        arrived.len(),
        REGISTRY.len() - 1,
        "every route but the app's: {arrived:#?}"
    );
    line(
        &checks,
        "webhooks",
        Some("default"),
        "the last call-ended webhook arrived 20",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_well_configured_local_run_is_all_green() {
    let (sandbox_url, _sandbox) = sandbox(sandbox_config()).await;
    let store = fresh_store("doctor-green");
    let env = local_env(&sandbox_url, &store, "http://unused");
    // The bridge the webhooks go through: the same settings, speed to lead off (a new contact
    // would dial) and no custom fields (the sandbox answers a number written to a field as a
    // number, where GHL's contract says a string); the doctor's settings turn speed to lead on,
    // for two agents the account has, and name the fields.
    let mut quiet = env.clone();
    for field in FIELD_SETTINGS {
        quiet = with(&quiet, field, None);
    }
    let bridge_url = local_bridge(&quiet, &store).await;
    one_webhook_of_each_route(&bridge_url).await;
    let mut env = with(&env, "BRIDGE_URL", Some(&bridge_url));
    env = with(&env, "SPEED_TO_LEAD", Some("on"));
    env = with(&env, "SPEED_TO_LEAD_AGENTS", Some("42,43"));
    let run = bridge(strings(&["doctor", "--json"]), env.clone()).await;
    let checks = checks_of(&run, 0);
    let loud: Vec<&Value> = checks.iter().filter(|c| c["state"] != "ok").collect();
    assert!(loud.is_empty(), "all green: {loud:#?}");
    check_all_green(&checks);
    no_secrets(&run, &LOCAL_SECRETS);
    let (code, text, _) = bridge(strings(&["doctor"]), env).await;
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with("bridge doctor: the local run\n"), "{text}");
    assert!(
        text.ends_with(&format!("\n0 fail, 0 warn, {} ok\n", checks.len())),
        "{text}"
    );
    no_violations();
}

/// Run A: no CloudTalk webhook secret, a CloudTalk key the sandbox refuses.
async fn a_missing_secret_and_a_refused_key(env: &[(String, String)]) {
    let mut env = with(env, "CLOUDTALK_WEBHOOK_SECRET", None);
    env = with(
        &env,
        "CLOUDTALK_API_KEY_SECRET",
        Some("doctor-wrong-key-secret"),
    );
    let run = bridge(strings(&["doctor", "--json"]), env.clone()).await;
    let checks = checks_of(&run, 1);
    let missing = line(
        &checks,
        "secrets",
        Some("default"),
        "CLOUDTALK_WEBHOOK_SECRET is not set",
    );
    assert_eq!(missing["state"], "fail");
    assert_eq!(missing["fix"], "set CLOUDTALK_WEBHOOK_SECRET in the environment the bridge runs with (scripts/local.sh passes it on)");
    let refused = line(
        &checks,
        "cloudtalk_key",
        Some("default"),
        "CloudTalk refused the key (401)",
    );
    assert_eq!(refused["state"], "fail");
    let fix = refused["fix"].as_str().unwrap();
    assert!(fix.starts_with("set CLOUDTALK_API_KEY_ID/SECRET"), "{fix}");
    let agents = line(&checks, "agents", Some("default"), "not checked");
    assert_eq!(agents["state"], "warn");
    no_secrets(
        &run,
        &[&LOCAL_SECRETS[..], &["doctor-wrong-key-secret"]].concat(),
    );
    let (code, text, _) = bridge(strings(&["doctor"]), env).await;
    assert_eq!(code, 1);
    assert!(text.contains("fail  cloudtalk_key   default              CloudTalk refused the key (401): set CLOUDTALK_API_KEY_ID/SECRET"), "{text}");
}

/// Run B: a field that does not exist, an agent without a user (no agent map), no webhook ever.
async fn a_missing_field_an_agent_without_user_and_no_webhook(env: &[(String, String)]) {
    let mut env = with(env, "GHL_FIELD_LAST_CALL_DATE", Some("fld_gone"));
    env = with(&env, "CALL_DISPOSITION_FIELD", Some("fld_deal"));
    env = with(&env, "AGENT_MAP", None);
    let run = bridge(strings(&["doctor", "--json"]), env.clone()).await;
    let checks = checks_of(&run, 1);
    let gone = line(&checks, "custom_fields", Some("default"), "fld_gone");
    assert_eq!(gone["state"], "fail");
    assert_eq!(gone["message"], "GHL_FIELD_LAST_CALL_DATE names custom field fld_gone, which location loc_abc123 does not have");
    assert!(
        gone["fix"]
            .as_str()
            .unwrap()
            .starts_with("set GHL_FIELD_LAST_CALL_DATE=<field id>: "),
        "{gone}"
    );
    let deal = line(
        &checks,
        "custom_fields",
        Some("default"),
        "CALL_DISPOSITION_FIELD",
    );
    assert_eq!((deal["state"].as_str(), deal["message"].as_str()), (Some("fail"), Some("CALL_DISPOSITION_FIELD names \"Deal size\" (fld_deal), an opportunity field, not a contact field")));
    line(
        &checks,
        "custom_fields",
        Some("default"),
        "GHL_FIELD_LAST_CALL_OUTCOME names the contact field",
    );
    let lucia = line(
        &checks,
        "agents",
        Some("default"),
        "CloudTalk agent 45 (Lucia Esposito) has no GHL user in location loc_abc123",
    );
    assert_eq!(lucia["state"], "warn");
    assert!(
        lucia["fix"].as_str().unwrap().contains(r#"set AGENT_MAP"#),
        "{lucia}"
    );
    assert_eq!(
        lines(&checks, "agents", Some("default")).len(),
        1,
        "only Lucia: {checks:#?}"
    );
    let never = lines(&checks, "webhooks", Some("default"));
    assert_eq!(never.len(), REGISTRY.len() - 1);
    assert!(never.iter().all(|c| c["state"] == "warn"), "{never:#?}");
    let call_ended = line(
        &checks,
        "webhooks",
        Some("default"),
        "no call-ended webhook has ever arrived for default",
    );
    assert_eq!(
        call_ended["fix"],
        "set up the CloudTalk workflow (see `bridge doctor --print-setup`)"
    );
    line(
        &checks,
        "webhooks",
        Some("default"),
        "no new-tag webhook has ever arrived for default",
    );
    no_secrets(&run, &LOCAL_SECRETS);
    let (_, text, _) = bridge(strings(&["doctor"]), env).await;
    assert!(text.contains("warn  webhooks        default              no call-ended webhook has ever arrived for default: set up the CloudTalk workflow (see `bridge doctor --print-setup`)\n"), "{text}");
}

/// Run C: texts from the company's number are ok; from a number the account does not have, a
/// fail; without the provider's id, a warn.
async fn texts_from_a_number_of_the_account_or_not(env: &[(String, String)]) {
    let env = with(env, "GHL_SMS_PROVIDER_ID", Some("prov_sms"));
    let ours = with(&env, "SMS_SENDER_NUMBER", Some("+390212345678"));
    let run = bridge(strings(&["doctor", "--json"]), ours).await;
    let base = i32::from(run.1.contains(r#""state": "fail""#));
    let checks = checks_of(&run, base);
    let ok = line(
        &checks,
        "texts",
        Some("default"),
        "SMS provider prov_sms; texts from",
    );
    assert_eq!(ok["state"], "ok", "{ok}");
    let theirs = with(&env, "SMS_SENDER_NUMBER", Some("+442039960000"));
    let checks = checks_of(
        &bridge(strings(&["doctor", "--json"]), theirs.clone()).await,
        1,
    );
    let wrong = line(
        &checks,
        "texts",
        Some("default"),
        "is none of the CloudTalk account's",
    );
    assert_eq!(wrong["state"], "fail", "{wrong}");
    assert!(
        !wrong["message"].as_str().unwrap().contains("2039960000"),
        "masked: {wrong}"
    );
    assert!(
        wrong["fix"]
            .as_str()
            .unwrap()
            .starts_with("set SMS_SENDER_NUMBER="),
        "{wrong}"
    );
    let no_provider = with(&theirs, "GHL_SMS_PROVIDER_ID", None);
    let checks = checks_of(
        &bridge(strings(&["doctor", "--json"]), no_provider).await,
        base,
    );
    let warn = line(
        &checks,
        "texts",
        Some("default"),
        "without the SMS provider's id",
    );
    assert_eq!(warn["state"], "warn", "{warn}");
}

#[tokio::test(flavor = "multi_thread")]
async fn what_is_wrong_is_said_with_its_fix() {
    let (sandbox_url, _sandbox) = sandbox(sandbox_config()).await;
    let store = fresh_store("doctor-wrong");
    let env = local_env(&sandbox_url, &store, "http://unused");
    let bridge_url = local_bridge(&env, &store).await;
    let env = with(&env, "BRIDGE_URL", Some(&bridge_url));
    a_missing_secret_and_a_refused_key(&env).await;
    a_missing_field_an_agent_without_user_and_no_webhook(&env).await;
    texts_from_a_number_of_the_account_or_not(&env).await;
    // Nothing answers on the local run's address: the health line fails, and says how.
    let down = with(&env, "BRIDGE_URL", Some("http://127.0.0.1:9"));
    let checks = checks_of(&bridge(strings(&["doctor", "--json"]), down).await, 1);
    let health = line(
        &checks,
        "health",
        None,
        "GET http://127.0.0.1:9/health failed",
    );
    assert_eq!(health["state"], "fail");
    assert!(
        health["fix"].as_str().unwrap().contains("scripts/local.sh"),
        "{health}"
    );
    no_violations();
}

// ---------------------------------------------------------------------------------------------
// A stack: a fake CloudFormation naming tables and a secret on moto.

fn xml_members(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("<member>{i}</member>"))
        .collect()
}

/// DescribeStacks' answer: the stack, its parameters and its outputs.
fn describe_stacks_xml(
    name: &str,
    parameters: &[(&str, &str)],
    outputs: &[(&str, String)],
) -> String {
    let parameters: Vec<String> = parameters
        .iter()
        .map(|(k, v)| {
            format!("<ParameterKey>{k}</ParameterKey><ParameterValue>{v}</ParameterValue>")
        })
        .collect();
    let outputs: Vec<String> = outputs
        .iter()
        .map(|(k, v)| format!("<OutputKey>{k}</OutputKey><OutputValue>{v}</OutputValue>"))
        .collect();
    format!(
        r#"<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/1</StackId><StackName>{name}</StackName><Parameters>{}</Parameters><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>{}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"#,
        xml_members(&parameters),
        xml_members(&outputs)
    )
}

const NO_RESOURCES: &str = r#"<ListStackResourcesResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><ListStackResourcesResult><StackResourceSummaries></StackResourceSummaries></ListStackResourcesResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></ListStackResourcesResponse>"#;

async fn fake_cloudformation(describe: String) -> wiremock::MockServer {
    use wiremock::matchers::{body_string_contains, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    for (action, body) in [
        ("DescribeStacks", describe),
        ("ListStackResources", NO_RESOURCES.to_string()),
    ] {
        Mock::given(method("POST"))
            .and(body_string_contains(format!("Action={action}")))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/xml"))
            .mount(&server)
            .await;
    }
    server
}

/// The stack's secret: everything but the CloudTalk webhook secret.
const STACK_SECRET: &str = r#"{"CLOUDTALK_API_KEY_ID": "sandbox-key-id", "CLOUDTALK_API_KEY_SECRET": "sandbox-key-secret", "GHL_API_TOKEN": "sandbox-ghl-token", "GHL_WEBHOOK_SECRET": "stack-ghl-webhook-secret-value", "CLOUDTALK_WEBHOOK_SECRET": "", "TENANT_SEAL_KEY": "stack-seal-key-value"}"#;
const STACK_SECRETS: [&str; 5] = [
    KEY_SECRET,
    GHL_TOKEN,
    "stack-ghl-webhook-secret-value",
    "stack-seal-key-value",
    "tenant-key-secret-value",
];

/// A tenant served with a private token: a CloudTalk key the sandbox refuses, no CloudTalk
/// webhook secret, a rating field its location does not have; one call-ended webhook arrived.
async fn stack_tenant(dynamo: &aws_sdk_dynamodb::Client, tenants: &str, state: &str) {
    let secrets = TenantSecrets {
        cloudtalk_key_secret: Some("tenant-key-secret-value".into()),
        ghl_access_token: Some(GHL_TOKEN.into()),
        ghl_webhook_secrets: vec!["tenant-ghl-webhook-secret-value".into()],
        ..TenantSecrets::default()
    };
    let mut tenant = private_token_tenant(TENANT, "tenant-key-id", secrets);
    tenant.record.options.last_call_date_field = Some("fld_t_date".into());
    tenant.record.options.call_rating_field = Some("fld_rating".into());
    let registry = Tenants::new(
        Arc::new(DynamoTenantStore::new(dynamo.clone(), tenants)),
        "stack-seal-key-value",
    );
    registry.save(&tenant, None).await.unwrap();
    let state = bridge::state::DynamoStateStore::new(dynamo.clone(), state.to_string());
    let arrived = bridge::arrivals::name(Some(TENANT), EndpointId::CloudtalkCallEnded);
    state
        .put_value(&arrived, "2026-12-06T14:01:23Z")
        .await
        .unwrap();
}

/// The stack: tables, the secret and a tenant on moto; the fake CloudFormation describing it
/// with its parameters (the location, a field, a stage map naming a stage that is not there).
/// What [`stack`] made: the stack's name, the fake CloudFormation describing it, its secret,
/// and a saved copy of its outputs.
struct Made {
    name: String,
    cloudformation: wiremock::MockServer,
    arn: String,
    saved: PathBuf,
}

/// The outputs as `aws cloudformation describe-stacks --query 'Stacks[0].Outputs'` saves them.
fn saved_outputs(outputs: &[(&str, String)]) -> PathBuf {
    let list: Vec<Value> = outputs
        .iter()
        .map(|(k, v)| json!({"OutputKey": k, "OutputValue": v}))
        .collect();
    let path = fresh_store("doctor-outputs").with_file_name("outputs.json");
    std::fs::write(&path, serde_json::to_string(&list).unwrap()).unwrap();
    path
}

async fn stack(endpoint: &str) -> Made {
    let dynamo = dynamodb_client(endpoint);
    let (state, tenants, contacts) = (
        fresh_table(&dynamo, "doctor-state").await,
        fresh_table(&dynamo, "doctor-tenants").await,
        fresh_table(&dynamo, "doctor-contacts").await,
    );
    stack_tenant(&dynamo, &tenants, &state).await;
    let created = secrets_client(endpoint)
        .await
        .create_secret()
        .name(unique_name("doctor-secret"))
        .secret_string(STACK_SECRET)
        .send()
        .await
        .unwrap();
    let arn = created.arn().unwrap().to_string();
    let settings = bridge_testkit::e2e::settings("http://127.0.0.1:9");
    let deps = bridge::Deps::build(settings, bridge::Backends::in_memory()).unwrap();
    let api = bridge_testkit::e2e::serve_bridge(Arc::new(deps)).await;
    let name = unique_name("doctor-stack");
    let parameters = [
        ("GhlLocationId", LOCATION),
        ("LastCallDateFieldId", "fld_date"),
        (
            "CampaignStageMap",
            r#"{"completed": {"pipelineId": "sandbox-pipeline", "stageId": "no-such-stage"}}"#,
        ),
        ("SpeedToLead", "off"),
    ];
    let outputs = [
        ("ApiUrl", api),
        ("StateTableName", state),
        ("TenantsTableName", tenants),
        ("ContactMapTableName", contacts),
        ("BridgeSecretsArn", arn.clone()),
    ];
    let cloudformation =
        fake_cloudformation(describe_stacks_xml(&name, &parameters, &outputs)).await;
    Made {
        name,
        cloudformation,
        arn,
        saved: saved_outputs(&outputs),
    }
}

fn check_stack_own_lines(checks: &[Value], name: &str, arn: &str) {
    line(
        checks,
        "stack",
        None,
        &format!("stack {name} (UPDATE_COMPLETE)"),
    );
    line(checks, "health", None, "ok (HTTP 200)");
    // The secret's, not this shell's (which has one).
    let missing = line(
        checks,
        "secrets",
        Some("default"),
        "CLOUDTALK_WEBHOOK_SECRET is not set",
    );
    assert_eq!(missing["state"], "fail");
    assert_eq!(missing["fix"].as_str(), Some(format!("add CLOUDTALK_WEBHOOK_SECRET to the secret {arn} (Secrets Manager; the functions read it again within 5 minutes)").as_str()));
    line(
        checks,
        "cloudtalk_key",
        Some("default"),
        "CloudTalk accepted the key",
    );
    line(
        checks,
        "ghl_access",
        Some("default"),
        "reaches location loc_abc123",
    );
    // The stack's parameters are its settings.
    let fields = lines(checks, "custom_fields", Some("default"));
    assert_eq!(fields.len(), 1, "{fields:#?}");
    assert_eq!(
        fields[0]["message"],
        "GHL_FIELD_LAST_CALL_DATE names the contact field \"Last call date\" (fld_date)"
    );
    let stage = line(checks, "stage_map", Some("default"), "no-such-stage");
    assert_eq!(stage["message"], "CAMPAIGN_STAGE_MAP's rule \"completed\" names stage no-such-stage, which pipeline \"Sales Pipeline\" (sandbox-pipeline) does not have");
    assert!(stage["fix"].as_str().unwrap().starts_with("set the stack parameter CampaignStageMap (CAMPAIGN_STAGE_MAP) to '<JSON>' and deploy again"), "{stage}");
    line(
        checks,
        "speed_to_lead",
        Some("default"),
        "speed to lead is off",
    );
}

fn check_stack_tenant_lines(checks: &[Value]) {
    let t = Some(TENANT);
    let secret = line(
        checks,
        "secrets",
        t,
        "tenant loc_t has no CloudTalk webhook secret",
    );
    assert_eq!(secret["state"], "fail");
    assert!(
        secret["fix"]
            .as_str()
            .unwrap()
            .contains("`bridge tenants set-cloudtalk loc_t --cloudtalk-key-id <key id>`"),
        "{secret}"
    );
    let key = line(
        checks,
        "cloudtalk_key",
        t,
        "CloudTalk refused the key (401)",
    );
    assert!(
        key["fix"]
            .as_str()
            .unwrap()
            .contains("bridge tenants set-cloudtalk loc_t"),
        "{key}"
    );
    line(
        checks,
        "ghl_access",
        t,
        "the GHL token reaches location loc_t (1 user(s))",
    );
    line(
        checks,
        "custom_fields",
        t,
        "GHL_FIELD_LAST_CALL_DATE names the contact field \"Last call date\" (fld_t_date)",
    );
    let rating = line(
        checks,
        "custom_fields",
        t,
        "CALL_RATING_FIELD names custom field fld_rating, which location loc_t does not have",
    );
    assert!(
        rating["fix"]
            .as_str()
            .unwrap()
            .starts_with("`bridge tenants set-options loc_t --call-rating-field <field id>`"),
        "{rating}"
    );
    line(checks, "stage_map", t, "no CAMPAIGN_STAGE_MAP");
    line(
        checks,
        "webhooks",
        t,
        "the last call-ended webhook arrived 2026-12-06T14:01:23Z (",
    );
    let never = line(
        checks,
        "webhooks",
        t,
        "no call-started webhook has ever arrived for loc_t",
    );
    assert_eq!(never["state"], "warn");
}

/// A saved copy of the outputs: no parameters, so no location of its own (the environment
/// names none) and only its tenants are checked; the secret is still the stack's.
async fn a_saved_copy_of_the_outputs(saved: &Path, env: Vec<(String, String)>) {
    let saved = saved.to_string_lossy().to_string();
    let copy = bridge(
        strings(&["--stack-outputs", &saved, "doctor", "--json"]),
        env,
    )
    .await;
    let checks = checks_of(&copy, 1);
    line(
        &checks,
        "stack",
        None,
        "the stack of the saved outputs: its settings from the environment",
    );
    line(
        &checks,
        "secrets",
        Some("default"),
        "TENANT_SEAL_KEY set in the secret",
    );
    line(
        &checks,
        "tenant",
        Some("default"),
        "the deployment serves no location of its own",
    );
    assert!(
        lines(&checks, "ghl_access", Some("default")).is_empty(),
        "{checks:#?}"
    );
    line(&checks, "cloudtalk_key", Some(TENANT), "refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_is_checked_with_its_parameters_its_secret_and_its_tenants() {
    let Some(endpoint) = aws_endpoint() else {
        return;
    };
    let (sandbox_url, _sandbox) = sandbox(sandbox_config()).await;
    let Made {
        name,
        cloudformation,
        arn,
        saved,
    } = stack(&endpoint).await;
    let mut env = pairs(&[
        ("AWS_ENDPOINT_URL_CLOUDFORMATION", &cloudformation.uri()),
        ("AWS_ENDPOINT_URL_DYNAMODB", &endpoint),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &endpoint),
        // The functions of a stack never see this shell's secrets: neither does doctor.
        ("CLOUDTALK_WEBHOOK_SECRET", "shell-ct-secret-value"),
    ]);
    env.extend(upstreams(&sandbox_url));
    let run = bridge(
        strings(&["--stack", &name, "doctor", "--json"]),
        env.clone(),
    )
    .await;
    let checks = checks_of(&run, 1);
    check_stack_own_lines(&checks, &name, &arn);
    check_stack_tenant_lines(&checks);
    no_secrets(
        &run,
        &[
            &STACK_SECRETS[..],
            &["shell-ct-secret-value", "tenant-ghl-webhook-secret-value"],
        ]
        .concat(),
    );
    // One tenant only: its lines and the deployment's health, not the deployment's own.
    let only = bridge(
        strings(&["--stack", &name, "doctor", "--json", "--tenant", TENANT]),
        env.clone(),
    )
    .await;
    let checks = checks_of(&only, 1);
    assert!(
        checks
            .iter()
            .all(|c| c["tenant"] == TENANT || c["tenant"].is_null()),
        "{checks:#?}"
    );
    line(&checks, "health", None, "ok");
    line(&checks, "cloudtalk_key", Some(TENANT), "refused");
    a_saved_copy_of_the_outputs(&saved, env).await;
    no_violations();
}

// ---------------------------------------------------------------------------------------------
// --print-setup.

/// A local run with a tenant registered in its store file.
async fn local_with_tenant() -> (Vec<(String, String)>, PathBuf) {
    let store = fresh_store("doctor-setup");
    let secrets = TenantSecrets {
        cloudtalk_key_secret: Some("tenant-key-secret-value".into()),
        ghl_access_token: Some(GHL_TOKEN.into()),
        ghl_webhook_secrets: vec!["tenant-ghl-webhook-secret-value".into()],
        cloudtalk_webhook_secrets: vec!["tenant-ct-webhook-secret-value".into()],
        ..TenantSecrets::default()
    };
    let tenant = private_token_tenant(TENANT, "tenant-key-id", secrets);
    let file = Arc::new(bridge::local_store::LocalStore::new(&store));
    Tenants::new(file, SEAL_KEY)
        .save(&tenant, None)
        .await
        .unwrap();
    let env = local_env("http://127.0.0.1:9", &store, "https://bridge.example.test");
    (env, store)
}

const TENANT_SECRETS: [&str; 3] = [
    "tenant-key-secret-value",
    "tenant-ghl-webhook-secret-value",
    "tenant-ct-webhook-secret-value",
];

#[tokio::test(flavor = "multi_thread")]
async fn print_setup_gives_each_route_s_url_header_and_body() {
    let (env, _store) = local_with_tenant().await;
    let run = bridge(strings(&["doctor", "--print-setup"]), env.clone()).await;
    let (code, text, _) = &run;
    assert_eq!(*code, 0, "{text}");
    assert!(
        text.starts_with("Sender setup for the local run: https://bridge.example.test\n"),
        "{text}"
    );
    for has in [
        "== default (location loc_abc123) ==\n",
        "== loc_t (location loc_t) ==\n",
        "  call-ended  (trigger: Call → Ended)\n    POST https://bridge.example.test/api/cloudtalk-webhooks/call-ended\n    Authorization: Bearer <CLOUDTALK_WEBHOOK_SECRET>\n",
        "    POST https://bridge.example.test/api/cloudtalk-webhooks/loc_t/call-ended\n    Authorization: Bearer <tenant loc_t's CloudTalk webhook secret>\n",
        "    POST https://bridge.example.test/api/ghl-webhooks/new-tag\n    Authorization: Bearer <GHL_WEBHOOK_SECRET>\n",
    ] {
        assert!(text.contains(has), "no {has:?} in:\n{text}");
    }
    for setup in SENDERS {
        assert_eq!(
            text.matches(&format!("    {}\n", setup.body)).count(),
            2,
            "{}: once per location",
            setup.route_name()
        );
    }
    no_secrets(&run, &[&LOCAL_SECRETS[..], &TENANT_SECRETS[..]].concat());
    let json = bridge(
        strings(&["doctor", "--print-setup", "--json", "--tenant", TENANT]),
        env.clone(),
    )
    .await;
    let entries: Vec<Value> = serde_json::from_str(&json.1).unwrap();
    assert_eq!(entries.len(), SENDERS.len(), "{entries:#?}");
    let ended = entries
        .iter()
        .find(|e| e["endpoint"] == "cloudtalk-call-ended")
        .unwrap();
    assert_eq!(
        ended["url"],
        "https://bridge.example.test/api/cloudtalk-webhooks/loc_t/call-ended"
    );
    assert_eq!(ended["tenant"], TENANT);
    assert_eq!(
        ended["body"],
        SENDERS
            .iter()
            .find(|s| s.endpoint == EndpointId::CloudtalkCallEnded)
            .unwrap()
            .body
    );
    let shown = bridge(
        strings(&["doctor", "--print-setup", "--reveal-secrets"]),
        env,
    )
    .await;
    assert_eq!(shown.0, 0, "{}", shown.2);
    for has in [
        format!("Authorization: Bearer {CT_SECRET}\n"),
        format!("Authorization: Bearer {GHL_SECRET}\n"),
        "Authorization: Bearer tenant-ct-webhook-secret-value\n".into(),
    ] {
        assert!(shown.1.contains(&has), "no {has:?} in:\n{}", shown.1);
    }
    assert!(
        shown.2.contains("the output holds webhook secrets"),
        "{}",
        shown.2
    );
    no_secrets(
        &shown,
        &[KEY_SECRET, GHL_TOKEN, SEAL_KEY, "tenant-key-secret-value"],
    );
}

// ---------------------------------------------------------------------------------------------
// One place for the bodies, the template's parameters, usage.

/// The manual's sender chapter shows, for each route, the trigger and body `--print-setup`
/// prints (both in one table row: `| `<route>` | <trigger> | `<body>` … |`).
#[test]
fn the_sender_chapter_shows_each_route_s_trigger_and_body() {
    let chapter = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/src/operator/senders.md");
    let text = std::fs::read_to_string(&chapter).unwrap();
    for setup in SENDERS {
        let start = format!("| `{}` | ", setup.route_name());
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with(&start)).collect();
        assert_eq!(
            rows.len(),
            1,
            "one row of {} in {}",
            setup.route_name(),
            chapter.display()
        );
        let row = rows[0];
        assert!(
            row.starts_with(&format!("{start}{} | ", setup.trigger)),
            "trigger of {}: {row}",
            setup.route_name()
        );
        assert!(
            row.contains(&format!("`{}`", setup.body)),
            "body of {}: {row}",
            setup.route_name()
        );
    }
}

/// The stack parameters doctor reads the settings from are the ones `template.yaml` sets each
/// function's variable from.
#[test]
fn the_settings_are_read_from_the_parameters_the_template_sets_them_from() {
    let template =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml"))
            .unwrap();
    let globals =
        &template[template.find("\nGlobals:").unwrap()..template.find("\nResources:").unwrap()];
    let params_text = &template[..template.find("\nConditions:").unwrap()];
    let is_param = |p: &str| params_text.lines().any(|l| l == format!("  {p}:"));
    let from_template: std::collections::BTreeSet<(String, String)> = globals
        .lines()
        .filter_map(|l| {
            let (variable, value) = l.trim().split_once(": ")?;
            let param = value.strip_prefix("!Ref ")?;
            is_param(param).then(|| (param.to_string(), variable.to_string()))
        })
        .collect();
    let read: std::collections::BTreeSet<(String, String)> =
        bridge_operator::doctor::deployment::parameter_variables()
            .into_iter()
            .map(|(p, v)| (p.to_string(), v.to_string()))
            .collect();
    assert_eq!(read, from_template);
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_2_and_the_help_says_the_exit_codes() {
    for line in [
        &["doctor", "--reveal-secrets"][..],
        &["doctor", "--no-such-flag"],
    ] {
        let (code, _, err) = bridge(strings(line), vec![]).await;
        assert_eq!(code, 2, "{line:?}: {err}");
    }
    let (code, help, _) = bridge(strings(&["doctor", "--help"]), vec![]).await;
    assert_eq!(code, 0);
    assert!(
        help.contains("Exit codes: 0 no check failed (warnings allowed), 1 a check failed"),
        "{help}"
    );
}
