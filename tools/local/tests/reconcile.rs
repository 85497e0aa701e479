//! Reconciliation end to end: calls that happened in the sandbox's CloudTalk, whose webhooks
//! never came, and a GHL contact added while the bridge was away, read back by the real
//! `reconcile` handler through the real clients; a second run writes nothing.

use std::sync::Arc;

use bridge_local::sandbox::{CallAgent, CallDirection, CallSpec, Sandbox, SandboxConfig};
use bridge_testkit::e2e::*;
use serde_json::{json, Value};

fn count(state: &Value, side: &str, what: &str) -> usize {
    state[side]["contacts"]
        .as_array()
        .map(|contacts| {
            contacts
                .iter()
                .map(|c| c[what].as_array().map_or(0, Vec::len))
                .sum()
        })
        .unwrap_or(0)
}

/// A GHL contact the bridge never heard of.
async fn add_unknown_ghl_contact(http: &reqwest::Client, sandbox_url: &str) {
    let answer: Value = http
        .post(format!("{sandbox_url}/ghl/contacts"))
        .bearer_auth("sandbox-ghl-token")
        .header("version", "2021-07-28")
        .json(
            &json!({"locationId": "sandbox-location", "firstName": "Giulia",
            "phone": "+393401112233", "tags": ["vip"]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer["contact"]["id"].is_string(), "{answer}");
}

/// A recorded call with that number, 40 minutes ago, whose webhooks were lost.
fn record_lost_call(sandbox: &Sandbox) -> String {
    let started = chrono::Utc::now().timestamp_millis() - 40 * 60_000;
    sandbox.record_call(CallSpec {
        external_number: "+393401112233".into(),
        internal_number: "+390212345678".into(),
        direction: CallDirection::Incoming,
        agent: Some(CallAgent {
            id: "42".into(),
            first_name: "Roberto".into(),
            last_name: "Bianchi".into(),
        }),
        started_ms: started,
        answered_ms: Some(started + 10_000),
        ended_ms: started + 100_000,
        talking_secs: 90,
        recording_link: Some("https://my.cloudtalk.io/r/play/55".into()),
        ..CallSpec::default()
    })
}

/// The first run wrote the call and its recording to GHL and the GHL contact to CloudTalk.
fn assert_first_run_applied(state: &Value, call_id: &str) {
    let ghl_notes: Vec<String> = state["ghl"]["contacts"][0]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    assert_eq!(
        ghl_notes.len(),
        2,
        "the call and its recording: {ghl_notes:?}"
    );
    assert!(
        ghl_notes[0].contains(&format!("Call ID: {call_id}")),
        "{ghl_notes:?}"
    );
    assert!(ghl_notes[1].contains("https://my.cloudtalk.io/r/play/55"));
    let cloudtalk = state["cloudtalk"]["contacts"].as_array().unwrap();
    assert_eq!(
        cloudtalk.len(),
        1,
        "the GHL contact now in CloudTalk: {state}"
    );
    assert!(cloudtalk[0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "vip"));
}

#[tokio::test]
async fn missed_calls_and_contacts_are_read_back_and_applied_once() {
    let config = SandboxConfig {
        quiet: true,
        ..SandboxConfig::default()
    };
    let (sandbox_url, sandbox) = Sandbox::spawn(config).await;
    let deps = Arc::new(
        bridge::Deps::build(settings(&sandbox_url), bridge::Backends::in_memory()).unwrap(),
    );
    let http = reqwest::Client::new();
    add_unknown_ghl_contact(&http, &sandbox_url).await;
    let call_id = record_lost_call(&sandbox);

    let summary = bridge::reconcile::handle(&deps, json!({}), None)
        .await
        .unwrap_or_else(|e| panic!("reconcile failed: {e}"));
    assert_eq!(summary["failed"], 0, "{summary}");
    let state = sandbox.state_json();
    assert_first_run_applied(&state, &call_id);

    // The next run (after the overlap) finds everything applied.
    let writes = |s: &Value| {
        s["counters"]["cloudtalkWrites"].as_u64().unwrap()
            + s["counters"]["ghlWrites"].as_u64().unwrap()
    };
    let before = writes(&state);
    let again = bridge::reconcile::handle(&deps, json!({}), None)
        .await
        .unwrap();
    assert_eq!(again["applied"], 0, "{again}");
    let after = sandbox.state_json();
    assert_eq!(writes(&after), before, "a second run writes nothing");
    assert_eq!(count(&after, "ghl", "notes"), 2);
}
