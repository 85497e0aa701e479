//! The sandbox speaks what the bridge sends: the bridge's real API clients against it, plus
//! the behaviours the bridge relies on (auth, envelopes, validation, bulk results, tag
//! semantics, duplicates, faults, the contact-created callback).

use std::sync::{Arc, Mutex};

use bridge::clients::cloudtalk::{
    ActivityInput, BulkCommand, CloudTalkApi, CloudTalkClient, ContactInput, ContactNumber,
    ContactTag,
};
use bridge::clients::ghl::{GhlApi, GhlClient, GhlContactInput};
use bridge::clients::CallCounter;
use bridge_tools::sandbox::{Faults, Sandbox, SandboxConfig};
use serde_json::{json, Value};

fn quiet() -> SandboxConfig {
    SandboxConfig {
        quiet: true,
        ..SandboxConfig::default()
    }
}

fn secrets() -> std::sync::Arc<bridge::secrets::SecretStore> {
    std::sync::Arc::new(bridge::secrets::SecretStore::fixed(
        bridge::secrets::Secrets {
            cloudtalk_api_key_id: Some("sandbox-key-id".into()),
            cloudtalk_api_key_secret: Some("sandbox-key-secret".into()),
            ghl_api_token: Some("sandbox-ghl-token".into()),
            ..Default::default()
        },
    ))
}

fn cloudtalk(base: &str) -> CloudTalkClient {
    CloudTalkClient::new(
        reqwest::Client::new(),
        &format!("{base}/cloudtalk/api"),
        secrets(),
        CallCounter::default(),
    )
    .with_retry_budget(std::time::Duration::from_millis(0))
}

fn ghl(base: &str) -> GhlClient {
    GhlClient::new(
        reqwest::Client::new(),
        &format!("{base}/ghl"),
        secrets(),
        CallCounter::default(),
    )
    .with_retry_budget(std::time::Duration::from_millis(0))
}

fn mario() -> ContactInput {
    ContactInput {
        name: "Mario Rossi".into(),
        numbers: vec![ContactNumber {
            public_number: "+393501234567".into(),
        }],
        tags: vec![ContactTag {
            name: "lead".into(),
        }],
        ..Default::default()
    }
}

#[tokio::test]
async fn the_bridge_cloudtalk_client_works_against_the_sandbox() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let ct = cloudtalk(&base);
    let id = ct.add_contact(&mario()).await.unwrap();
    assert!(
        id.chars().all(|c| c.is_ascii_digit()),
        "ids are numeric strings: {id}"
    );
    let found = ct.search_contacts("393501234567").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].phones, vec!["+393501234567"]);
    ct.add_tags(&id, &["vip".into()]).await.unwrap();
    let shown = ct.show_contact(&id).await.unwrap();
    assert_eq!(shown.tags, vec!["lead", "vip"], "addTags appends");
    let mut edit = mario();
    edit.tags = vec![ContactTag {
        name: "only".into(),
    }];
    ct.edit_contact(&id, &edit).await.unwrap();
    assert_eq!(
        ct.show_contact(&id).await.unwrap().tags,
        vec!["only"],
        "edit replaces"
    );
    ct.add_note(&id, "hello").await.unwrap();
    let activity = ActivityInput {
        activity_type: "other".into(),
        name: "Pipeline Stage Change".into(),
        description: Some("d".into()),
        activity_date: None,
        external_url: None,
        external_id: Some("ref-1".into()),
    };
    let activity_id = ct.add_activity(&id, &activity).await.unwrap();
    // The read-backs a write with a lost answer uses find exactly what was written.
    assert_eq!(
        ct.find_activity(&id, "ref-1").await.unwrap(),
        Some(activity_id)
    );
    assert_eq!(ct.find_activity(&id, "ref-2").await.unwrap(), None);
    let note_id = ct.add_note(&id, "second\n[ref abc123]").await.unwrap();
    assert_eq!(ct.find_note(&id, "abc123").await.unwrap(), Some(note_id));
    assert_eq!(ct.find_note(&id, "zzz999").await.unwrap(), None);
    assert!(
        ct.find_tag("ONLY").await.unwrap().is_some(),
        "tags are found case-insensitively"
    );
    let tag = ct.find_tag("only").await.unwrap().unwrap();
    let (rows, pages) = ct.contacts_with_tag(&tag, 1).await.unwrap();
    assert_eq!((rows.len(), pages), (1, 1));
    let results = ct
        .bulk(&[
            BulkCommand {
                action: "add_contact",
                command_id: "good".into(),
                data: json!({"name": "Anna", "ContactNumber": [{"public_number": "+14155552671"}]}),
            },
            BulkCommand {
                action: "add_contact",
                command_id: "bad".into(),
                data: json!({"name": "Bad", "ContactNumber": [{"public_number": "12"}]}),
            },
        ])
        .await
        .unwrap();
    assert_eq!((results[0].status, results[0].id.is_some()), (201, true));
    assert_eq!(results[1].status, 406);
    assert!(results[1]
        .message
        .as_deref()
        .unwrap()
        .contains("Invalid input data."));
    // Validation errors are 406 with per-field messages.
    let err = ct
        .add_contact(&ContactInput {
            name: String::new(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(406));
    let state = sandbox.state_json();
    assert_eq!(state["cloudtalk"]["contacts"].as_array().unwrap().len(), 2);
    assert_eq!(
        state["cloudtalk"]["contacts"][0]["notes"],
        json!(["hello", "second\n[ref abc123]"])
    );
}

#[tokio::test]
async fn the_bridge_ghl_client_works_against_the_sandbox() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let g = ghl(&base);
    let loc = "sandbox-location";
    assert!(g
        .find_duplicate(loc, Some("+393501234567"), None)
        .await
        .unwrap()
        .is_none());
    let input = GhlContactInput {
        location_id: loc.into(),
        name: Some("Mario Rossi".into()),
        phone: Some("+393501234567".into()),
        source: Some("CloudTalk".into()),
        ..Default::default()
    };
    let (id, new) = g.upsert_contact(&input).await.unwrap();
    assert!(new);
    let (again, new) = g.upsert_contact(&input).await.unwrap();
    assert_eq!((again.as_str(), new), (id.as_str(), false));
    assert_eq!(
        g.find_duplicate(loc, Some("+393501234567"), None)
            .await
            .unwrap()
            .unwrap()
            .id,
        id
    );
    g.add_note(&id, "call ended").await.unwrap();
    g.add_tags(&id, &["missed".into()]).await.unwrap();
    g.update_contact(
        &id,
        &json!({"customFields": [{"id": "f1", "field_value": "missed"}]}),
    )
    .await
    .unwrap();
    let contact = g.get_contact(&id).await.unwrap();
    assert_eq!(contact.tags, vec!["missed"]);
    let pipelines = g.list_pipelines(loc).await.unwrap();
    assert_eq!(pipelines[0].id, "sandbox-pipeline");
    let opp = g
        .create_opportunity(loc, &id, "sandbox-pipeline", "new", "Deal")
        .await
        .unwrap();
    g.update_opportunity_stage(&opp, "sandbox-pipeline", "won")
        .await
        .unwrap();
    let opps = g
        .search_opportunities(loc, &id, Some("sandbox-pipeline"))
        .await
        .unwrap();
    assert_eq!(opps[0].pipeline_stage_id.as_deref(), Some("won"));
    assert_eq!(
        g.update_opportunity_stage(&opp, "sandbox-pipeline", "nope")
            .await
            .unwrap_err()
            .status(),
        Some(400)
    );
    let cv = g
        .create_custom_value(loc, "Agent status", "online")
        .await
        .unwrap();
    g.update_custom_value(loc, &cv, "Agent status", "busy")
        .await
        .unwrap();
    assert_eq!(
        g.list_custom_values(loc).await.unwrap()[0].value.as_deref(),
        Some("busy")
    );
    // Errors whose message is an array.
    let err = g.add_note(&id, "").await.unwrap_err();
    assert!(
        err.to_string().contains("body should not be empty"),
        "{err}"
    );
    let state = sandbox.state_json();
    assert_eq!(state["ghl"]["contacts"][0]["notes"], json!(["call ended"]));
    assert_eq!(
        state["ghl"]["contacts"][0]["customFields"],
        json!([{"id": "f1", "value": "missed"}])
    );
}

#[tokio::test]
async fn auth_versions_duplicates_and_faults() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{base}/cloudtalk/api/contacts/index.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{base}/ghl/contacts/search/duplicate?locationId=x"))
        .bearer_auth("sandbox-ghl-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "Version header required");
    let create = |email: &str| {
        http.post(format!("{base}/ghl/contacts/"))
            .bearer_auth("sandbox-ghl-token")
            .header("version", "2021-07-28")
            .json(&json!({"locationId": "sandbox-location", "email": email, "name": "A"}))
            .send()
    };
    assert_eq!(create("a@example.com").await.unwrap().status(), 201);
    let dup = create("A@example.com").await.unwrap();
    assert_eq!(dup.status(), 400);
    let body: Value = dup.json().await.unwrap();
    assert!(body["meta"]["contactId"].is_string());
    assert!(r.headers().contains_key("x-ratelimit-remaining"));

    sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let err = cloudtalk(&base).add_contact(&mario()).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    sandbox.set_faults(Faults {
        rate_limit_every: 1,
        rate_limit_burst: 2,
        ..Faults::default()
    });
    let ct = cloudtalk(&base);
    assert_eq!(
        ct.add_contact(&mario()).await.unwrap_err().status(),
        Some(429)
    );
    sandbox.set_faults(Faults::default());
    ct.add_contact(&mario()).await.unwrap();
    assert_eq!(
        sandbox.state_json()["cloudtalk"]["contacts"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "faults write nothing"
    );
    assert!(sandbox.faults_injected() >= 2);
}

/// A webhook the fake bridge received: its Authorization header and body.
type Received = (Option<String>, Value);

#[tokio::test]
async fn adding_a_contact_calls_the_bridge_back() {
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/api/cloudtalk-webhooks/contact-created",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
                let sink = sink.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    sink.lock().unwrap().push((auth, body.0));
                    axum::Json(json!({"result": "applied"}))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bridge_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = SandboxConfig {
        bridge_url: Some(bridge_url),
        cloudtalk_webhook_secret: Some("s3cret".into()),
        callback_delay_ms: 10,
        ..quiet()
    };
    let (base, _) = Sandbox::spawn(config).await;
    let id = cloudtalk(&base).add_contact(&mario()).await.unwrap();
    for _ in 0..50 {
        if !received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.as_deref(), Some("Bearer s3cret"));
    assert_eq!(
        got[0].1,
        json!({"contact_id": id, "contact_name": "Mario Rossi", "external_number": "+393501234567"})
    );
}
