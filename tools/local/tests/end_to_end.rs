//! End to end: webhooks over HTTP into the bridge's real handlers, the sandbox playing both
//! APIs (and calling the bridge back as CloudTalk's workflows would), and the contact map and
//! state on the DynamoDB test server.

use std::sync::Arc;
use std::time::Duration;

use bridge_local::sandbox::{Sandbox, SandboxConfig};
use bridge_testkit::aws::dynamo_backends;
use bridge_testkit::e2e::*;
use serde_json::{json, Value};

struct Run {
    bridge: String,
    sandbox: Sandbox,
    sandbox_url: String,
    http: reqwest::Client,
}

async fn start() -> Run {
    start_with(true).await
}

/// The bridge and the sandbox; with `callbacks`, the sandbox reports the contacts created in
/// CloudTalk back to the bridge as CloudTalk's workflows would.
async fn start_with(callbacks: bool) -> Run {
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
        bridge_url: callbacks.then_some(proxy_url),
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
        sandbox_url,
        http: reqwest::Client::new(),
    }
}

impl Run {
    /// Creates a contact in the sandbox's GoHighLevel, as a user would; its id.
    async fn ghl_contact(&self, body: Value) -> String {
        let r = self
            .http
            .post(format!("{}/ghl/contacts", self.sandbox_url))
            .bearer_auth("sandbox-ghl-token")
            .header("version", "2021-07-28")
            .json(&body)
            .send()
            .await
            .unwrap();
        let answer: Value = r.json().await.unwrap();
        answer["contact"]["id"].as_str().unwrap().to_string()
    }

    /// Creates a contact in the sandbox's CloudTalk, as a user would; its id.
    async fn cloudtalk_contact(&self, body: Value) -> String {
        let r = self
            .http
            .put(format!(
                "{}/cloudtalk/api/contacts/add.json",
                self.sandbox_url
            ))
            .basic_auth("sandbox-key-id", Some("sandbox-key-secret"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let answer: Value = r.json().await.unwrap();
        answer["responseData"]["data"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Deletes a contact in the sandbox, as a user would in that app.
    async fn delete(&self, url: String, cloudtalk: bool) {
        let request = self.http.delete(url);
        let request = match cloudtalk {
            true => request.basic_auth("sandbox-key-id", Some("sandbox-key-secret")),
            false => request
                .bearer_auth("sandbox-ghl-token")
                .header("version", "2021-07-28"),
        };
        let status = request.send().await.unwrap().status();
        assert!(status.is_success(), "delete: {status}");
    }

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

#[tokio::test]
async fn an_id_only_marketplace_event_finds_the_contact_both_apps_already_have() {
    let run = start_with(false).await;
    let phone = "+393331234567";
    let ghl_id = run
        .ghl_contact(json!({"locationId": "sandbox-location", "firstName": "Anna", "lastName": "Verdi", "phone": phone}))
        .await;
    let ct_id = run
        .cloudtalk_contact(
            json!({"name": "Anna Verdi", "ContactNumber": [{"public_number": phone}]}),
        )
        .await;

    // Marketplace events name the contact by id only.
    let note = run
        .ghl(
            "new-note",
            json!({"type": "NoteCreate", "webhookId": "wh-note-1", "locationId": "sandbox-location",
            "id": "note_1", "contactId": ghl_id, "body": "Asked for a callback on Monday"}),
        )
        .await;
    assert_eq!(note["cloudtalkContactId"], ct_id.as_str(), "{note}");
    assert_eq!(note["foundBy"], "search");
    let moved = run
        .ghl(
            "pipeline-change",
            json!({"type": "OpportunityStageUpdate", "webhookId": "wh-opp-1",
            "locationId": "sandbox-location", "id": "opp_1", "contactId": ghl_id,
            "pipelineId": "sandbox-pipeline", "pipelineStageId": "won", "status": "open"}),
        )
        .await;
    assert_eq!(moved["foundBy"], "map", "{moved}");

    let state = run.sandbox.state_json();
    let contacts = state["cloudtalk"]["contacts"].as_array().unwrap();
    assert_eq!(contacts.len(), 1, "no placeholder contact: {contacts:?}");
    let c = &contacts[0];
    assert!(c["notes"][0]
        .as_str()
        .unwrap()
        .contains("Asked for a callback on Monday"));
    let activity = c["activities"][0]["description"].as_str().unwrap();
    assert!(
        activity.contains("moved to \"Won\" stage in \"Sales Pipeline\" pipeline"),
        "names, not ids: {activity}"
    );
}

#[tokio::test]
async fn links_to_contacts_deleted_on_either_side_heal() {
    let run = start_with(false).await;
    let phone = "+393471112233";
    let ghl_id = run
        .ghl_contact(json!({"locationId": "sandbox-location", "firstName": "Luca", "lastName": "Neri", "phone": phone}))
        .await;
    let created = run
        .ghl(
            "new-contact",
            json!({"type": "ContactCreate", "webhookId": "wh-c-1", "locationId": "sandbox-location",
            "id": ghl_id, "firstName": "Luca", "lastName": "Neri", "phone": phone}),
        )
        .await;
    let first_ct = created["cloudtalkContactId"].as_str().unwrap().to_string();

    // Deleted in CloudTalk: the next GHL event relinks to a contact made from GHL's data.
    let url = format!(
        "{}/cloudtalk/api/contacts/delete/{first_ct}.json",
        run.sandbox_url
    );
    run.delete(url, true).await;
    let note = run
        .ghl(
            "new-note",
            json!({"type": "NoteCreate", "webhookId": "wh-n-1", "locationId": "sandbox-location",
            "id": "note_1", "contactId": ghl_id, "body": "Follow up next week"}),
        )
        .await;
    assert_eq!(note["relinked"], 1, "{note}");
    let ct_id = note["cloudtalkContactId"].as_str().unwrap().to_string();
    assert_ne!(ct_id, first_ct);

    // Deleted in GoHighLevel: the next CloudTalk event relinks to the contact it matches.
    run.delete(format!("{}/ghl/contacts/{ghl_id}", run.sandbox_url), false)
        .await;
    let call = run
        .cloudtalk(
            "call-ended",
            json!({"call_id": 1002402491, "contact_id": ct_id.parse::<u64>().unwrap(),
            "external_number": phone, "agent_name": "Roberto", "direction": "outgoing",
            "status": "answered", "talking_time": 40, "duration": 52}),
        )
        .await;
    assert_eq!(call["relinked"], 1, "{call}");
    let new_ghl = call["ghlContactId"].as_str().unwrap().to_string();
    assert_ne!(new_ghl, ghl_id);

    let state = run.sandbox.state_json();
    let ct = state["cloudtalk"]["contacts"].as_array().unwrap();
    assert_eq!(ct.len(), 1);
    assert_eq!(ct[0]["id"], ct_id.as_str());
    assert!(ct[0]["notes"][0]
        .as_str()
        .unwrap()
        .contains("Follow up next week"));
    let ghl = state["ghl"]["contacts"].as_array().unwrap();
    assert_eq!(ghl.len(), 1);
    assert_eq!(ghl[0]["id"], new_ghl.as_str());
    assert_eq!(ghl[0]["phone"], phone);
    assert!(ghl[0]["notes"][0].as_str().unwrap().contains("Call ended"));
    // The healed links hold: a later call goes straight to the new contact.
    let later = run
        .cloudtalk("call-ended", json!({"call_id": 1002402492, "contact_id": ct_id.parse::<u64>().unwrap(),
            "external_number": phone, "direction": "outgoing", "status": "answered", "talking_time": 5}))
        .await;
    assert_eq!(later["foundBy"], "map");
    assert_eq!(later["ghlContactId"], new_ghl.as_str());
    assert!(later.get("relinked").is_none());
}

/// The sandbox's request counters: (CloudTalk, GoHighLevel).
fn counters(run: &Run) -> (u64, u64) {
    let state = run.sandbox.state_json();
    let n = |k: &str| state["counters"][k].as_u64().unwrap_or(0);
    (n("cloudtalkRequests"), n("ghlRequests"))
}

/// What one event cost upstream: (CloudTalk, GoHighLevel) requests.
async fn cost(run: &Run, ghl: bool, route: &str, body: Value) -> (u64, u64) {
    let before = counters(run);
    match ghl {
        true => run.ghl(route, body).await,
        false => run.cloudtalk(route, body).await,
    };
    let after = counters(run);
    (after.0 - before.0, after.1 - before.1)
}

/// The cost table's rows: endpoint, case, (CloudTalk, GoHighLevel) requests.
type Rows = Vec<(String, &'static str, (u64, u64))>;

/// GoHighLevel events: Mario's first contact, the steady state on him, a Marketplace
/// redelivery, and Luigi's first contact through a tag.
async fn ghl_event_costs(run: &Run, rows: &mut Rows) {
    let mario = json!({"id": "ghl_100001", "name": "Mario Rossi", "phone": "+393501234567", "tags": ["lead"]});
    let first = cost(run, true, "new-contact", json!({"contact": mario})).await;
    rows.push(("ghl new-contact".into(), "first contact", first));
    // A status change is a tag (the contact's edit) and a note (CloudTalk's notes endpoint):
    // no CloudTalk request writes both.
    let ghl_events = [
        (
            "new-tag",
            json!({"contact": {"id": "ghl_100001"}, "tag": {"name": "VIP"}}),
            1,
        ),
        (
            "new-note",
            json!({"contact": {"id": "ghl_100001"}, "note": {"body": "Richiamare", "userId": "u1"}}),
            1,
        ),
        (
            "pipeline-change",
            json!({"contact": {"id": "ghl_100001"}, "pipeline": {"name": "Sales"}, "stage": {"name": "Qualified"}, "previous_stage": {"name": "Cold"}}),
            1,
        ),
        (
            "status-change",
            json!({"contact": {"id": "ghl_100001"}, "status": "customer", "previous_status": "lead"}),
            2,
        ),
    ];
    for (route, body, minimum) in &ghl_events {
        let steady = cost(run, true, route, body.clone()).await;
        rows.push((format!("ghl {route}"), "steady state", steady));
        assert_eq!(
            steady,
            (*minimum, 0),
            "{route} on a linked contact: CloudTalk writes only"
        );
    }
    let redelivered = json!({"type": "ContactTagUpdate", "webhookId": "wh-redelivery", "locationId": "sandbox-location",
        "id": "ghl_100001", "tags": ["VIP", "again"]});
    let once = cost(run, true, "new-tag", redelivered.clone()).await;
    rows.push(("ghl new-tag (Marketplace)".into(), "steady state", once));
    let again = cost(run, true, "new-tag", redelivered).await;
    rows.push(("ghl new-tag (Marketplace)".into(), "redelivery", again));
    assert_eq!(again, (0, 0), "a redelivery costs nothing upstream");
    let luigi = json!({"contact": {"id": "ghl_100002", "name": "Luigi Verdi", "phone": "+393509876543"}, "tag": {"name": "VIP"}});
    rows.push((
        "ghl new-tag".into(),
        "first contact",
        cost(run, true, "new-tag", luigi).await,
    ));
}

/// An answered call `id` by agent 42 on CloudTalk contact 1451646073.
fn agent_42_call(id: u64) -> Value {
    json!({"call_id": id, "contact_id": 1451646073, "external_number": 393513416607u64,
    "agent_id": 42, "direction": "incoming", "talking_time": 20, "duration": 31})
}

/// CloudTalk events: the first call, then every endpoint in the steady state.
async fn cloudtalk_event_costs(run: &Run, rows: &mut Rows) {
    // Agent 42 is Roberto Bianchi, whose GHL user the sandbox has (same email): the first
    // call reads the agents and the users once, and a known agent costs nothing after.
    let first = cost(run, false, "call-ended", agent_42_call(1002402501)).await;
    rows.push(("cloudtalk call-ended".into(), "first contact", first));
    let cloudtalk_events = [
        (
            "call-started",
            json!({"call_id": 1002402502, "call_uuid": "u-502", "contact_id": 1451646073, "agent_name": "Roberto", "external_number": 393513416607u64}),
        ),
        ("call-ended", agent_42_call(1002402503)),
        (
            "recording-available",
            json!({"call_id": 1002402503, "recording_url": "https://my.cloudtalk.io/pub/r/x.wav", "external_number": 393513416607u64}),
        ),
        (
            "campaign-status-change",
            json!({"campaign_id": 301, "campaign_name": "Spring", "campaign_status": "completed", "contact_id": 1451646073, "external_number": 393513416607u64}),
        ),
        (
            "generic",
            json!({"action": "sms_received", "external_number": 393513416607u64, "text": "Ciao"}),
        ),
        (
            "agent-status-change",
            json!({"agent_id": 493933, "agent_name": "Roberto", "status": "online"}),
        ),
    ];
    for (route, body) in &cloudtalk_events {
        let steady = cost(run, false, route, body.clone()).await;
        let case = match *route {
            "call-started" => "steady state, the caller's first card on this container",
            _ => "steady state",
        };
        rows.push((format!("cloudtalk {route}"), case, steady));
        if *route == "call-started" {
            call_started_costs(run, rows, body, steady).await;
        }
        if *route == "call-ended" {
            assert_eq!(
                steady,
                (0, 1),
                "a call on a linked contact, by a known agent: one GHL write"
            );
        }
    }
}

/// A call that starts: its cue card (the contact, its opportunities and notes, and once per
/// container the location's users for the owner's name; the card) and its note; the same caller again within a
/// minute (the card kept: no GHL read for it); a redelivery (nothing).
async fn call_started_costs(run: &Run, rows: &mut Rows, first: &Value, cost_first: (u64, u64)) {
    assert_eq!(
        cost_first,
        (1, 5),
        "the card; the contact, its opportunities and notes, the users; the note"
    );
    let mut again = first.clone();
    again["call_uuid"] = json!("u-503");
    again["call_id"] = json!(1002402599);
    let kept = cost(run, false, "call-started", again.clone()).await;
    rows.push((
        "cloudtalk call-started".into(),
        "the same caller again within a minute",
        kept,
    ));
    assert_eq!(
        kept,
        (1, 1),
        "the card kept a minute: the card and the note"
    );
    let redelivered = cost(run, false, "call-started", again).await;
    rows.push(("cloudtalk call-started".into(), "redelivery", redelivered));
    assert_eq!(redelivered, (0, 0), "no second card, no second note");
}

/// CloudTalk events after the steady state: a missed call and its callback task, the answered
/// call closing it, a redelivered call, and a contact created in CloudTalk.
async fn cloudtalk_task_and_redelivery_costs(run: &Run, rows: &mut Rows) {
    let mut missed = agent_42_call(1002402504);
    missed["talking_time"] = json!(0);
    missed["status"] = json!("missed");
    let with_task = cost(run, false, "call-ended", missed).await;
    rows.push((
        "cloudtalk call-ended (missed)".into(),
        "steady state",
        with_task,
    ));
    // The owner of a contact found through the map is read (one GET) to assign the task.
    assert_eq!(
        with_task,
        (0, 4),
        "note, tag, the owner read, the callback task"
    );
    let closing = cost(run, false, "call-ended", agent_42_call(1002402505)).await;
    rows.push((
        "cloudtalk call-ended (answered, closes the task)".into(),
        "steady state",
        closing,
    ));
    assert_eq!(closing, (0, 3), "note, task completed, closing note");
    let again = cost(run, false, "call-ended", agent_42_call(1002402503)).await;
    rows.push(("cloudtalk call-ended".into(), "redelivery", again));
    assert_eq!(again, (0, 0), "a redelivered call costs nothing upstream");
    let created = json!({"contact_id": 1451646099, "contact_name": "Paolo Gialli", "external_number": 393471234567u64});
    rows.push((
        "cloudtalk contact-created".into(),
        "first contact",
        cost(run, false, "contact-created", created).await,
    ));
}

/// Upstream requests per event for every webhook endpoint: on first contact, in the steady
/// state (the contact linked on both sides) and for a redelivery. The table is printed for
/// BENCHMARKS.md (`cargo test -p bridge-local --test end_to_end upstream_requests -- --nocapture`);
/// the steady state and redeliveries are held at the minimum each API allows.
#[tokio::test]
async fn upstream_requests_per_event_stay_at_the_minimum() {
    let run = start_with(false).await;
    let mut rows = Rows::new();
    ghl_event_costs(&run, &mut rows).await;
    cloudtalk_event_costs(&run, &mut rows).await;
    cloudtalk_task_and_redelivery_costs(&run, &mut rows).await;

    println!("| endpoint | case | CloudTalk requests | GoHighLevel requests |\n|---|---|---|---|");
    for (endpoint, case, (ct, ghl)) in &rows {
        println!("| {endpoint} | {case} | {ct} | {ghl} |");
    }
}
