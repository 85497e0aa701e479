//! Agency mode end to end: the sandbox plays GHL's Marketplace side (OAuth with single-use
//! rotating refresh tokens, agency location tokens, the signed `INSTALL` webhook, and
//! Conversations), the bridge's real handlers serve over HTTP, and the `tenants` command sets
//! up what an install leaves to the operator.

use std::sync::Arc;
use std::time::Duration;

use bridge::tenants::{GhlAuth, MemoryTenantStore, TenantStatus};
use bridge_local::sandbox::{Authorization, Sandbox, SandboxConfig};
use bridge_operator::cli::{self, Command};
use bridge_operator::tenants;
use bridge_testkit::e2e::*;
use serde_json::{json, Value};

struct Run {
    bridge: String,
    sandbox: Sandbox,
    sandbox_url: String,
    deps: Arc<bridge::Deps>,
    http: reqwest::Client,
}

/// A proxy to a URL known later (the sandbox must know the bridge's URL before the bridge,
/// which needs the sandbox's, exists), forwarding method, headers and body.
async fn late_proxy() -> (String, Arc<std::sync::Mutex<String>>) {
    let slot: Arc<std::sync::Mutex<String>> = Arc::default();
    let target = slot.clone();
    let proxy = axum::Router::new().fallback(move |req: axum::http::Request<axum::body::Body>| {
        let target = target.lock().unwrap().clone();
        async move {
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let mut forward = reqwest::Client::new()
                .request(parts.method.clone(), format!("{target}{}", parts.uri))
                .body(bytes.to_vec());
            for (name, value) in parts.headers.iter() {
                if name != "host" && name != "content-length" {
                    forward = forward.header(name, value);
                }
            }
            let answer = forward.send().await.unwrap();
            let status = axum::http::StatusCode::from_u16(answer.status().as_u16()).unwrap();
            (status, answer.bytes().await.unwrap_or_default().to_vec())
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, proxy).await.unwrap() });
    (url, slot)
}

async fn start() -> Run {
    let (proxy_url, slot) = late_proxy().await;
    let config = SandboxConfig {
        bridge_url: Some(proxy_url),
        quiet: true,
        callback_delay_ms: 50,
        ..SandboxConfig::default()
    };
    let (sandbox_url, sandbox) = Sandbox::spawn(config).await;
    let mut settings = settings(&sandbox_url);
    settings.config.ghl_app_client_id = Some("sandbox-app-client".into());
    settings.config.ghl_app_id = Some("sandbox-app".into());
    settings.config.ghl_webhook_public_key = Some(sandbox.webhook_public_key());
    settings.secrets.ghl_app_client_secret = Some("sandbox-app-secret".into());
    settings.secrets.tenant_seal_key = Some("agency-seal-key".into());
    let mut backends = bridge::Backends::in_memory();
    backends.tenants = Some(Arc::new(MemoryTenantStore::new()));
    let deps = Arc::new(bridge::Deps::build(settings, backends).unwrap());
    let bridge = serve_bridge(deps.clone()).await;
    *slot.lock().unwrap() = bridge.clone();
    Run {
        bridge,
        sandbox,
        sandbox_url,
        deps,
        http: reqwest::Client::new(),
    }
}

impl Run {
    fn registry(&self) -> &bridge::tenants::Tenants {
        self.deps.tenants.as_deref().unwrap()
    }

    async fn callback(&self, code: &str) -> (u16, String) {
        let url = format!("{}/oauth/callback?code={code}", self.bridge);
        let answer = self.http.get(url).send().await.unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    }

    /// What the `tenants` command prints for `line`, with `env` as its environment.
    async fn tenants(&self, line: &str, env: &'static [(&'static str, &'static str)]) -> String {
        let args = ["bridge", "tenants"]
            .into_iter()
            .chain(line.split_whitespace());
        let Ok(Command::Tenants(args)) = cli::parse(args).map(|c| c.command) else {
            panic!("{line}");
        };
        let action = args.command.action();
        let env: bridge::secrets::Lookup = Arc::new(move |k: &str| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        });
        tenants::run(self.registry(), &action, &env).await.unwrap()
    }

    /// A contact in the sandbox's GHL location `location`, as a user would add it.
    async fn ghl_contact(&self, location: &str, phone: &str) -> String {
        let answer: Value = self
            .http
            .post(format!("{}/ghl/contacts", self.sandbox_url))
            .bearer_auth("sandbox-ghl-token")
            .header("version", "2021-07-28")
            .json(&json!({"locationId": location, "firstName": "Anna", "phone": phone}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["contact"]["id"].as_str().unwrap().to_string()
    }

    async fn oauth(&self, form: &str) -> (u16, Value) {
        let answer = self
            .http
            .post(format!("{}/ghl/oauth/token", self.sandbox_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("version", "2021-07-28")
            .body(form.to_string())
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(Value::Null))
    }
}

fn webhook_secret(printed: &str) -> String {
    printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("Authorization: Bearer "))
        .expect("a generated webhook secret")
        .to_string()
}

/// The agency approves the app for `loc_clinic`: the signed INSTALL webhook registers it,
/// then the installer lands on the callback, which keeps the agency's tokens (once).
async fn agency_installs_the_clinic(run: &Run) {
    // The agency approves the app for one location: the signed INSTALL webhook arrives first.
    let code = run.sandbox.authorize(Authorization {
        company_id: Some("comp_agency".into()),
        approved_locations: vec!["loc_clinic".into()],
        send_install_webhooks: true,
        ..Authorization::default()
    });
    let mut installed = None;
    for _ in 0..50 {
        installed = run.registry().get("loc_clinic").await.unwrap();
        if installed.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let installed = installed.expect("the signed INSTALL webhook registered the location");
    assert_eq!(installed.record.status, TenantStatus::AwaitingAuthorization);

    // The installer lands on the callback: the agency's tokens are kept, the location served.
    let (status, page) = run.callback(&code).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("loc_clinic"), "{page}");
    let (status, page) = run.callback(&code).await;
    assert_eq!(status, 400, "a code is single-use: {page}");
    let tenant = run.registry().get("loc_clinic").await.unwrap().unwrap();
    assert_eq!(tenant.record.status, TenantStatus::Active);
    assert_eq!(tenant.record.ghl_auth, GhlAuth::AgencyInstall);
}

/// The operator gives `loc_clinic` its CloudTalk account and turns calls into conversation
/// entries; the webhook secret it prints.
async fn operator_sets_up_the_clinic(run: &Run) -> String {
    let printed = run
        .tenants(
            "set-cloudtalk loc_clinic --cloudtalk-key-id sandbox-key-id",
            &[("TENANT_CLOUDTALK_KEY_SECRET", "sandbox-key-secret")],
        )
        .await;
    let secret = webhook_secret(&printed);
    run.tenants("set-options loc_clinic --call-provider prov_cloudtalk", &[])
        .await;
    secret
}

/// One conversation for `contact` with one `Call` message carrying the recording, no note.
fn assert_one_call_message_with_its_recording(state: &Value, contact: &str) {
    let conversations = state["ghl"]["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 1, "{state}");
    assert_eq!(conversations[0]["contactId"], contact);
    let messages = conversations[0]["messages"].as_array().unwrap();
    assert_eq!(
        messages.len(),
        1,
        "one message for the call and its recording"
    );
    let message = &messages[0];
    assert_eq!(message["type"], "Call");
    assert_eq!(message["altId"], "99001");
    assert_eq!(message["conversationProviderId"], "prov_cloudtalk");
    assert_eq!(message["call"]["status"], "completed");
    assert_eq!(
        message["attachments"],
        json!(["https://my.cloudtalk.io/r/play/99001"])
    );
    let notes = state["ghl"]["contacts"][0]["notes"].as_array().unwrap();
    assert!(
        notes.is_empty(),
        "no note when calls are conversation entries"
    );
    assert_eq!(state["ghl"]["oauth"]["locationTokens"], 1, "minted once");
}

#[tokio::test]
async fn an_agency_installs_the_app_and_a_call_lands_in_the_conversation_with_its_recording() {
    let run = start().await;
    agency_installs_the_clinic(&run).await;
    let secret = operator_sets_up_the_clinic(&run).await;

    let contact = run.ghl_contact("loc_clinic", "+393471234567").await;
    let ended = json!({"call_id": 99001, "external_number": "+393471234567",
        "internal_number": "+390212345678", "direction": "incoming", "status": "answered",
        "talking_time": 61, "agent_name": "Roberto"});
    let url = |event: &str| format!("{}/api/cloudtalk-webhooks/loc_clinic/{event}", run.bridge);
    let (status, answer) = post(&run.http, &url("call-ended"), &secret, ended).await;
    assert_eq!(status, 200, "{answer}");
    let message_id = answer["ghlMessageId"]
        .as_str()
        .expect("a message")
        .to_string();
    let recording = json!({"call_id": 99001, "external_number": "+393471234567",
        "recording_url": "https://my.cloudtalk.io/r/play/99001"});
    let (status, answer) = post(&run.http, &url("recording-available"), &secret, recording).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["ghlMessageId"], message_id.as_str());

    assert_one_call_message_with_its_recording(&run.sandbox.state_json(), &contact);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_install() {
    let run = start().await;
    let code = run.sandbox.authorize(Authorization {
        location_id: Some("loc_solo".into()),
        company_id: Some("comp_solo".into()),
        ..Authorization::default()
    });
    let client = "client_id=sandbox-app-client&client_secret=sandbox-app-secret";
    let (status, first) = run
        .oauth(&format!(
            "{client}&grant_type=authorization_code&code={code}"
        ))
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["userType"], "Location");
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let refresh = |token: &str| format!("{client}&grant_type=refresh_token&refresh_token={token}");
    let (status, second) = run.oauth(&refresh(&r1)).await;
    assert_eq!(status, 200, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2, "rotated");
    // The first one again: reuse, and the whole chain is revoked with it.
    let (status, reused) = run.oauth(&refresh(&r1)).await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = run.oauth(&refresh(&r2)).await;
    assert_eq!(status, 400, "the chain is revoked");
    let access = second["access_token"].as_str().unwrap();
    let api = run
        .http
        .get(format!(
            "{}/ghl/contacts/search/duplicate?locationId=loc_solo&number=%2B39347",
            run.sandbox_url
        ))
        .bearer_auth(access)
        .header("version", "2021-07-28")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401, "its access token is revoked too");
    let (status, wrong) = run
        .oauth("client_id=sandbox-app-client&client_secret=nope&grant_type=refresh_token&refresh_token=x")
        .await;
    assert_eq!(
        (status, wrong["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[tokio::test]
async fn the_bridge_renews_an_expiring_install_token_through_the_rotation() {
    let run = start().await;
    let code = run.sandbox.authorize(Authorization {
        location_id: Some("loc_solo".into()),
        company_id: Some("comp_solo".into()),
        ..Authorization::default()
    });
    let (status, page) = run.callback(&code).await;
    assert_eq!(status, 200, "{page}");
    let printed = run
        .tenants(
            "set-cloudtalk loc_solo --cloudtalk-key-id sandbox-key-id",
            &[("TENANT_CLOUDTALK_KEY_SECRET", "sandbox-key-secret")],
        )
        .await;
    let secret = webhook_secret(&printed);
    // The token is about to expire: the next event renews it first, once.
    let mut tenant = run.registry().get("loc_solo").await.unwrap().unwrap();
    let before = tenant.secrets.ghl_refresh_token.clone();
    tenant.record.token_expires_at_ms = Some(chrono::Utc::now().timestamp_millis() + 1_000);
    run.registry()
        .save(&tenant, Some(tenant.version))
        .await
        .unwrap();
    run.ghl_contact("loc_solo", "+393479876543").await;
    let url = format!("{}/api/cloudtalk-webhooks/loc_solo/call-ended", run.bridge);
    let ended = json!({"call_id": 99002, "external_number": "+393479876543", "status": "answered",
        "talking_time": 12});
    let (status, answer) = post(&run.http, &url, &secret, ended).await;
    assert_eq!(status, 200, "{answer}");
    let renewed = run.registry().get("loc_solo").await.unwrap().unwrap();
    assert_ne!(
        renewed.secrets.ghl_refresh_token, before,
        "the rotated token is kept"
    );
    let state = run.sandbox.state_json();
    assert_eq!(state["ghl"]["oauth"]["refreshes"], 1, "{state}");
    assert_eq!(state["ghl"]["oauth"]["reuseDetected"], 0);
    let notes = &state["ghl"]["contacts"][0]["notes"];
    assert_eq!(notes.as_array().map(Vec::len), Some(1), "{state}");
}
