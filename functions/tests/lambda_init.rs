//! The real function binaries, started the way Lambda starts them: under a Lambda Runtime API,
//! with the variables Lambda sets for `provided.al2023` (no `AWS_EXECUTION_ENV`). What they do
//! at init decides whether an outsider can get in, so it is tested on the binaries themselves.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use bridge_local::runtime_api::{Reply, RuntimeApi};
use bridge_testkit::{aws_endpoint, secrets_client};
use serde_json::{json, Value};
use wiremock::MockServer;

const NEW_CONTACT: &str = env!("CARGO_BIN_EXE_ghl-new-contact");
const SECRET_ARN: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:bridge-secrets-Ab12Cd";

/// A started function, killed when dropped.
struct Function {
    child: Option<Child>,
}

impl Function {
    fn start(binary: &str, env: &[(String, String)]) -> Self {
        let child = Command::new(binary)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the function binary");
        Self { child: Some(child) }
    }

    /// Waits for the process to exit; `None` if it is still running after `timeout`.
    fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        while Instant::now() < until {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Everything the function printed (it is stopped first).
    fn output(mut self) -> String {
        let Some(mut child) = self.child.take() else {
            return String::new();
        };
        let _ = child.kill();
        let out = child.wait_with_output().expect("output");
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

/// Starts the function and waits until it asks for its first event.
async fn start_serving(api: &RuntimeApi, env: &[(String, String)]) -> Function {
    let function = Function::start(NEW_CONTACT, env);
    assert!(
        api.wait_until_ready(Duration::from_secs(15)).await,
        "{}",
        function.output()
    );
    function
}

impl Drop for Function {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn with(mut env: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env.push(("RUST_LOG".into(), "info".into()));
    env.push(("AWS_EC2_METADATA_DISABLED".into(), "true".into()));
    env
}

/// What the template gives every webhook function (the values do not matter until a store is
/// used; no test here reaches one).
fn template_env(cloudtalk: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("CONTACT_MAP_TABLE", "bridge-contact-map".into()),
        ("STATE_TABLE", "bridge-state".into()),
        (
            "RETRY_QUEUE_URL",
            "http://127.0.0.1:9/000000000000/retry".into(),
        ),
        (
            "DEAD_LETTER_QUEUE_URL",
            "http://127.0.0.1:9/000000000000/dlq".into(),
        ),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("CLOUDTALK_API_BASE", format!("{}/api", cloudtalk.uri())),
        ("CLOUDTALK_API_KEY_ID", "ct-key".into()),
        ("CLOUDTALK_API_KEY_SECRET", "ct-secret".into()),
        ("GHL_LOCATION_ID", "loc_abc123".into()),
    ]
}

fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The sample new-contact event, with `authorization` set to `secret` (or removed).
fn new_contact_event(secret: Option<&str>) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/ghl-new-contact/nested.json"
    );
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let headers = event["headers"].as_object_mut().unwrap();
    headers.remove("authorization");
    headers.remove("x-webhook-secret");
    if let Some(secret) = secret {
        headers.insert("authorization".into(), json!(format!("Bearer {secret}")));
    }
    event
}

fn status_of(reply: Option<Reply>) -> u64 {
    match reply {
        Some(Reply::Response(r)) => r["statusCode"].as_u64().unwrap_or(0),
        other => panic!("no response: {other:?}"),
    }
}

#[tokio::test]
async fn in_lambda_the_local_switch_stops_the_function_from_starting() {
    let api = RuntimeApi::start().await.unwrap();
    let cloudtalk = MockServer::start().await;
    let template = template_env(&cloudtalk);
    let mut extra = refs(&template);
    extra.push(("BRIDGE_LOCAL_INSECURE_NO_AUTH", "true"));
    let env = with(api.lambda_env("bridge-ghl-new-contact"), &extra);
    let mut function = Function::start(NEW_CONTACT, &env);
    let (kind, error) = api
        .init_error(Duration::from_secs(10))
        .await
        .expect("an init error reported to the Runtime API");
    assert_eq!(kind.as_deref(), Some("Runtime.InitError"));
    assert_eq!(error["errorType"], "Bridge.LocalSwitchInLambda");
    let message = error["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("BRIDGE_LOCAL_INSECURE_NO_AUTH"),
        "{message}"
    );
    let status = function.wait_exit(Duration::from_secs(10)).expect("exits");
    assert!(!status.success());
    assert_eq!(api.polls(), 0, "it never asked for an event");
    assert!(cloudtalk.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn in_lambda_without_a_credential_every_webhook_is_refused() {
    // The control for the test above: the same function under the same Runtime API, without
    // the switch, serves; with no webhook secret configured it refuses an unauthenticated
    // request and calls nobody.
    let api = RuntimeApi::start().await.unwrap();
    let cloudtalk = MockServer::start().await;
    let template = template_env(&cloudtalk);
    let env = with(api.lambda_env("bridge-ghl-new-contact"), &refs(&template));
    let _function = start_serving(&api, &env).await;
    let reply = api
        .invoke(new_contact_event(None), Duration::from_secs(10))
        .await;
    assert_eq!(status_of(reply), 401);
    assert!(cloudtalk.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn in_lambda_a_function_without_its_tables_refuses_to_start() {
    let api = RuntimeApi::start().await.unwrap();
    let env = with(
        api.lambda_env("bridge-ghl-new-contact"),
        &[
            ("GHL_WEBHOOK_SECRET", "s"),
            ("LOCAL_STORE_PATH", "/tmp/x.json"),
        ],
    );
    let mut function = Function::start(NEW_CONTACT, &env);
    let (_, error) = api
        .init_error(Duration::from_secs(10))
        .await
        .expect("init error");
    let message = error["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("CONTACT_MAP_TABLE, STATE_TABLE, RETRY_QUEUE_URL, DEAD_LETTER_QUEUE_URL"),
        "{message}"
    );
    assert!(!function
        .wait_exit(Duration::from_secs(10))
        .unwrap()
        .success());
}

#[tokio::test]
async fn under_cargo_lambda_watch_the_local_store_still_serves() {
    // `cargo lambda watch` serves its Runtime API under `/.rt`: a local run, where the
    // embedded store stands in for the tables and the local switch is allowed.
    let api = RuntimeApi::start_with_prefix("/.rt").await.unwrap();
    let store = std::env::temp_dir().join(format!("bridge-init-{}.json", std::process::id()));
    let env = with(
        api.lambda_env("ghl-new-contact"),
        &[
            ("LOCAL_STORE_PATH", store.to_str().unwrap()),
            ("BRIDGE_LOCAL_INSECURE_NO_AUTH", "true"),
            ("GHL_WEBHOOK_SECRET", "local-secret"),
        ],
    );
    let _function = start_serving(&api, &env).await;
    let reply = api
        .invoke(new_contact_event(Some("wrong")), Duration::from_secs(10))
        .await;
    assert_eq!(status_of(reply), 401);
}

/// The template's variables with the secrets read from `arn` on the test server.
fn secret_env(
    api: &RuntimeApi,
    cloudtalk: &MockServer,
    endpoint: &str,
    arn: &str,
) -> Vec<(String, String)> {
    let mut template = template_env(cloudtalk);
    template.retain(|(k, _)| !k.starts_with("CLOUDTALK_API_KEY") && *k != "AWS_ENDPOINT_URL");
    let mut extra = refs(&template);
    extra.extend([("AWS_ENDPOINT_URL", endpoint), ("BRIDGE_SECRETS_ARN", arn)]);
    with(api.lambda_env("bridge-ghl-new-contact"), &extra)
}

#[tokio::test]
async fn an_unreadable_secret_stops_the_function_from_starting() {
    let Some(endpoint) = aws_endpoint() else {
        return;
    };
    let api = RuntimeApi::start().await.unwrap();
    let cloudtalk = MockServer::start().await;
    let env = secret_env(&api, &cloudtalk, &endpoint, SECRET_ARN);
    let mut function = Function::start(NEW_CONTACT, &env);
    let (_, error) = api
        .init_error(Duration::from_secs(15))
        .await
        .expect("init error");
    assert_eq!(error["errorType"], "Bridge.SecretUnreadable");
    let message = error["errorMessage"].as_str().unwrap();
    assert!(message.contains(SECRET_ARN), "{message}");
    assert!(!function
        .wait_exit(Duration::from_secs(10))
        .unwrap()
        .success());
    assert_eq!(api.polls(), 0);
}

#[tokio::test]
async fn a_readable_secret_gives_the_function_its_webhook_secret() {
    let Some(endpoint) = aws_endpoint() else {
        return;
    };
    let client = secrets_client(&endpoint).await;
    let name = format!("bridge-init-test-{}", std::process::id());
    let created = client
        .create_secret()
        .name(&name)
        .secret_string(
            json!({"GHL_WEBHOOK_SECRET": "from-the-secret", "CLOUDTALK_API_KEY_ID": "k",
                "CLOUDTALK_API_KEY_SECRET": "s"})
            .to_string(),
        )
        .send()
        .await
        .expect("create the secret");
    let arn = created.arn().unwrap().to_string();
    let api = RuntimeApi::start().await.unwrap();
    let cloudtalk = MockServer::start().await;
    let env = secret_env(&api, &cloudtalk, &endpoint, &arn);
    let _function = start_serving(&api, &env).await;
    let wrong = api
        .invoke(new_contact_event(Some("guess")), Duration::from_secs(10))
        .await;
    assert_eq!(status_of(wrong), 401);
    // The right secret passes authentication; the body (no contact id) is then refused
    // without any upstream call.
    let mut event = new_contact_event(Some("from-the-secret"));
    event["body"] = json!(r#"{"contact": {"name": "nobody"}}"#);
    let reply = api.invoke(event, Duration::from_secs(10)).await;
    assert_eq!(status_of(reply), 422);
    assert!(cloudtalk.received_requests().await.unwrap().is_empty());
}
