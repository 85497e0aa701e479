//! End to end: webhooks over HTTP into the bridge's real handlers, the sandbox playing both
//! APIs (and calling the bridge back as CloudTalk's workflows would), and the contact map and
//! state on the DynamoDB test server.

use std::sync::Arc;
use std::time::Duration;

use bridge_testkit::aws::dynamo_backends;
use bridge_testkit::e2e::*;
use bridge_tools::sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};

struct Run {
    bridge: String,
    sandbox: Sandbox,
    http: reqwest::Client,
}

async fn start() -> Run {
    // The sandbox must know the bridge's URL and the bridge the sandbox's: bind the bridge
    // after the sandbox, and give the sandbox the bridge through a late-bound proxy.
    let bridge_slot: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let proxy_slot = bridge_slot.clone();
    let proxy = axum::Router::new().fallback(move |req: axum::http::Request<axum::body::Body>| {
        let slot = proxy_slot.clone();
        async move {
            let target = slot.lock().unwrap().clone().unwrap_or_default();
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let auth = parts
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let r = reqwest::Client::new()
                .post(format!("{target}{}", parts.uri.path()))
                .header("authorization", auth)
                .header("content-type", "application/json")
                .body(bytes.to_vec())
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                r.bytes().await.unwrap_or_default().to_vec(),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, proxy).await.unwrap() });

    let config = SandboxConfig {
        bridge_url: Some(proxy_url),
        cloudtalk_webhook_secret: Some(CLOUDTALK_SECRET.into()),
        callback_delay_ms: 200,
        quiet: true,
        ..SandboxConfig::default()
    };
    let (sandbox_url, sandbox) = Sandbox::spawn(config).await;
    let deps = bridge::Deps::build(settings(&sandbox_url), dynamo_backends().await).unwrap();
    let bridge = serve_bridge(Arc::new(deps)).await;
    *bridge_slot.lock().unwrap() = Some(bridge.clone());
    Run {
        bridge,
        sandbox,
        http: reqwest::Client::new(),
    }
}

impl Run {
    async fn ghl(&self, route: &str, body: Value) -> Value {
        let (status, answer) = post(
            &self.http,
            &format!("{}/api/ghl-webhooks/{route}", self.bridge),
            GHL_SECRET,
            body,
        )
        .await;
        assert_eq!(status, 200, "{route}: {answer}");
        answer
    }

    async fn cloudtalk(&self, route: &str, body: Value) -> Value {
        let (status, answer) = post(
            &self.http,
            &format!("{}/api/cloudtalk-webhooks/{route}", self.bridge),
            CLOUDTALK_SECRET,
            body,
        )
        .await;
        assert_eq!(status, 200, "{route}: {answer}");
        answer
    }
}

#[tokio::test]
async fn a_ghl_contact_becomes_a_cloudtalk_contact_and_its_changes_land_on_it() {
    let run = start().await;
    let mario = json!({"id": "ghl_123456", "name": "Mario Rossi", "email": "mario@example.com", "phone": "+393501234567", "tags": ["lead"]});
    let created = run.ghl("new-contact", json!({"contact": mario})).await;
    assert_eq!(created["contactCreated"], true);
    let ct_id = created["cloudtalkContactId"].as_str().unwrap().to_string();
    run.ghl(
        "new-tag",
        json!({"contact": {"id": "ghl_123456"}, "tag": {"name": "VIP Cliente"}}),
    )
    .await;
    run.ghl("new-note", json!({"contact": {"id": "ghl_123456"}, "note": {"body": "Cliente interessato", "userId": "agent_789"}})).await;
    run.ghl("pipeline-change", json!({"contact": {"id": "ghl_123456"}, "pipeline": {"name": "Sales Pipeline"}, "stage": {"name": "Qualified Lead"}, "previous_stage": {"name": "Cold Lead"}})).await;
    run.ghl(
        "status-change",
        json!({"contact": {"id": "ghl_123456"}, "status": "customer", "previous_status": "lead"}),
    )
    .await;

    let state = run.sandbox.state_json();
    let contacts = state["cloudtalk"]["contacts"].as_array().unwrap();
    assert_eq!(contacts.len(), 1, "one CloudTalk contact");
    let c = &contacts[0];
    assert_eq!(c["id"], ct_id.as_str());
    assert_eq!(c["name"], "Mario Rossi");
    assert_eq!(c["numbers"], json!(["+393501234567"]));
    assert_eq!(c["emails"], json!(["mario@example.com"]));
    assert_eq!(
        c["tags"],
        json!(["lead", "VIP Cliente", "GHL-CUSTOMER"]),
        "tags appended, none wiped"
    );
    let notes: Vec<&str> = c["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(notes.len(), 2);
    assert!(notes[0].starts_with("[GHL Note] Cliente interessato - Added by User ID: agent_789"));
    assert!(
        notes[1].starts_with("[GHL Status Change] Status changed from \"lead\" to \"customer\"")
    );
    assert_eq!(c["activities"][0]["name"], "Pipeline Stage Change");
    assert!(c["activities"][0]["description"]
        .as_str()
        .unwrap()
        .contains("\"Qualified Lead\" stage in \"Sales Pipeline\""));

    // The loop: the sandbox reported the new CloudTalk contact back as "contact created";
    // the bridge found the link and wrote nothing to GoHighLevel.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let state = run.sandbox.state_json();
    assert_eq!(
        state["ghl"]["contacts"],
        json!([]),
        "the echo created no GHL contact"
    );
    assert_eq!(
        state["counters"]["ghlRequests"], 0,
        "the echo made no GHL request at all"
    );
}

#[tokio::test]
async fn a_cloudtalk_call_becomes_a_ghl_note_and_the_loop_stays_closed() {
    let run = start().await;
    let ended = run
        .cloudtalk("call-ended", json!({"call_id": 1002402490, "contact_id": 1451646073, "external_number": 393513416607u64,
            "agent_name": "Roberto", "direction": "incoming", "talking_time": 0, "duration": 31}))
        .await;
    let ghl_id = ended["ghlContactId"].as_str().unwrap().to_string();
    let state = run.sandbox.state_json();
    let contacts = state["ghl"]["contacts"].as_array().unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0]["id"], ghl_id.as_str());
    assert_eq!(contacts[0]["phone"], "+393513416607");
    assert_eq!(contacts[0]["source"], "CloudTalk");
    assert_eq!(contacts[0]["tags"], json!(["CloudTalk missed call"]));
    let note = contacts[0]["notes"][0].as_str().unwrap();
    assert!(note.starts_with("[CloudTalk] Call ended - Outcome: missed - Direction: inbound - Agent: Roberto - Duration: 31s"), "{note}");

    // GHL reports the contact the bridge created: linked from CloudTalk, nothing is written.
    let echo = run.ghl("new-contact", json!({"type": "ContactCreate", "webhookId": "wh-echo", "locationId": "sandbox-location",
        "id": ghl_id, "phone": "+393513416607"})).await;
    assert_eq!(echo["result"], "already_linked");
    assert_eq!(run.sandbox.state_json()["counters"]["cloudtalkRequests"], 0);

    // The same call delivered again is a duplicate with no write.
    let again = run
        .cloudtalk("call-ended", json!({"call_id": 1002402490, "contact_id": 1451646073, "external_number": 393513416607u64,
            "agent_name": "Roberto", "direction": "incoming", "talking_time": 0, "duration": 31}))
        .await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(
        run.sandbox.state_json()["ghl"]["contacts"][0]["notes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
