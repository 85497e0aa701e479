//! The CloudTalk → GoHighLevel endpoints, run through their real handlers against `wiremock`
//! fakes of GoHighLevel (and CloudTalk where it is read), asserting the exact requests. The
//! bodies are the real CloudTalk workflow captures from the API reference.

use std::sync::Arc;

use bridge::contact_map::{ContactLink, ContactMap, LinkOrigin, MemoryContactMap};
use bridge::pipeline::handle;
use bridge::state::{MemoryStateStore, StateStore};
use bridge::Deps;
use bridge::EndpointId;
use bridge_testkit::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// Real capture of a CloudTalk "call ended" workflow body (R1).
const CALL_ENDED_CAPTURE: &str = r##"{"call_uuid":"44fe27cd-5268-4670-993e-01293c9f8833","internal_number":40312296109,"contact_id":1451646073,"agent_id":493933,"external_number":393513416607,"# di tentativi di chiamata":null}"##;
/// Real capture of a CloudTalk "recording ready" workflow body (R1).
const RECORDING_CAPTURE: &str = r#"{"call_id":1002402487,"recording_url":"https://my.cloudtalk.io/pub/r/MTAwMjQwMjQ4Nw==/ZjQ2NTQ3.wav","internal_number":40312296109,"external_number":393513416607}"#;

fn ct_post(route: &str, body: &str) -> lambda_http::Request {
    post(route, body, Some(CLOUDTALK_SECRET))
}

struct Setup {
    fakes: Fakes,
    deps: Deps,
    map: Arc<MemoryContactMap>,
    state: Arc<MemoryStateStore>,
    queue: Arc<bridge::retry_queue::MemoryRetryQueue>,
}

async fn setup(
    duplicate: serde_json::Value,
    opportunities: serde_json::Value,
    stage_map: Option<&str>,
) -> Setup {
    let fakes = Fakes::start().await;
    mount_ghl(&fakes.ghl, duplicate, opportunities).await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let map = Arc::new(MemoryContactMap::new());
    let state = Arc::new(MemoryStateStore::new());
    let mut config = config(&fakes.cloudtalk, &fakes.ghl);
    if let Some(m) = stage_map {
        config.config.campaign_stage_map = bridge::config::CampaignStageMap::parse(m);
    }
    let mut backends = bridge::Backends::in_memory();
    backends.contacts = map.clone();
    backends.state = state.clone();
    let queue = Arc::new(bridge::retry_queue::MemoryRetryQueue::new());
    backends.retry_queue = queue.clone();
    let deps = Deps::build(config, backends).unwrap();
    Setup {
        fakes,
        deps,
        map,
        state,
        queue,
    }
}

#[tokio::test]
async fn call_ended_capture_creates_the_ghl_contact_links_it_and_adds_the_note() {
    let s = setup(json!(null), json!([]), None).await;
    let res = handle(
        EndpointId::CloudtalkCallEnded,
        &s.deps,
        ct_post("/api/cloudtalk-webhooks/call-ended", CALL_ENDED_CAPTURE),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", response_json(&res));
    let body = response_json(&res);
    assert_eq!(body["ghlContactId"], "ghl-new-1");
    assert_eq!(body["callOutcome"], "unknown");

    let seen = received(&s.fakes.ghl).await;
    let calls: Vec<(&str, &str)> = seen
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        calls,
        vec![
            // The agent's first call on this container: the location's users, once.
            ("GET", "/users/"),
            ("GET", "/contacts/search/duplicate"),
            ("POST", "/contacts/upsert"),
            ("POST", "/contacts/ghl-new-1/notes")
        ]
    );
    let seen: Vec<_> = seen.into_iter().filter(|r| r.path != "/users/").collect();
    for r in &seen {
        assert_eq!(
            r.authorization.as_deref(),
            Some(format!("Bearer {GHL_TOKEN}").as_str())
        );
        assert_eq!(r.version.as_deref(), Some("2021-07-28"));
    }
    assert_eq!(seen[0].query["number"], "+393513416607");
    assert_eq!(seen[0].query["locationId"], LOCATION);
    assert_eq!(
        seen[1].body,
        json!({"locationId": LOCATION, "phone": "+393513416607", "source": "CloudTalk"})
    );
    let note = seen[2].body["body"].as_str().unwrap();
    assert!(
        note.starts_with(
            "[CloudTalk] Call ended - Outcome: unknown - Direction: unknown - Agent: agent #493933"
        ),
        "{note}"
    );
    assert!(
        note.contains("Number: +393513416607")
            && note.contains("Call ID: 44fe27cd-5268-4670-993e-01293c9f8833"),
        "{note}"
    );

    let link = s
        .map
        .find_by_cloudtalk(LOCATION, "1451646073")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (link.ghl_contact_id.as_str(), link.origin),
        ("ghl-new-1", LinkOrigin::CloudTalk)
    );
    // No contact lookup in CloudTalk: only the agents list, on the agent's first call here
    // (agent 493933 is not in it, so the note names the id the capture gives).
    let ct: Vec<String> = received(&s.fakes.cloudtalk)
        .await
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(ct, vec!["/api/agents/index.json".to_string()]);
}

#[tokio::test]
async fn a_missed_call_gets_the_tag_and_the_configured_custom_fields() {
    let s = setup(
        json!({"id": "ghl-found", "phone": "+393513416607"}),
        json!([]),
        None,
    )
    .await;
    let mut deps = s.deps;
    deps.config.last_call_fields = bridge::config::LastCallFields {
        date: Some("fld-date".into()),
        outcome: Some("fld-outcome".into()),
        duration: Some("fld-duration".into()),
    };
    let body = r#"{"Call_id":"123456","Agent_name":"Roberto","Contact_phone":"+393513416607","talking_time":0,"duration":"31","ended_at":"2026-11-28T10:00:31Z","direction":"incoming"}"#;
    let res = handle(
        EndpointId::CloudtalkCallEnded,
        &deps,
        ct_post("/api/cloudtalk-webhooks/call-ended", body),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(response_json(&res)["callOutcome"], "missed");
    let seen = received(&s.fakes.ghl).await;
    let calls: Vec<(&str, &str)> = seen
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        calls,
        vec![
            ("GET", "/contacts/search/duplicate"),
            ("POST", "/contacts/ghl-found/notes"),
            ("POST", "/contacts/ghl-found/tags"),
            ("PUT", "/contacts/ghl-found"),
            ("POST", "/contacts/ghl-found/tasks"),
        ]
    );
    // A missed inbound call: a callback task, due 15 minutes after the call.
    let task = &seen[4].body;
    assert_eq!(task["dueDate"], "2026-11-28T10:15:31Z");
    assert_eq!(task["completed"], false);
    assert!(
        task["title"].as_str().unwrap().starts_with("Call back"),
        "{task}"
    );
    assert_eq!(
        seen[1].body["body"],
        "[CloudTalk] Call ended - Outcome: missed - Direction: inbound - Agent: Roberto - Duration: 31s - Talking time: 0s - Number: +393513416607 - Time: 2026-11-28T10:00:31Z - Call ID: 123456"
    );
    assert_eq!(seen[2].body, json!({"tags": ["CloudTalk missed call"]}));
    assert_eq!(
        seen[3].body,
        json!({"customFields": [
            {"id": "fld-date", "field_value": "2026-11-28T10:00:31Z"},
            {"id": "fld-outcome", "field_value": "missed"},
            {"id": "fld-duration", "field_value": 31}]})
    );
}

#[tokio::test]
async fn call_started_on_a_linked_contact_is_one_note() {
    let s = setup(json!(null), json!([]), None).await;
    s.map
        .link(&ContactLink::new(
            LOCATION,
            "ghl-9",
            "1451646073",
            LinkOrigin::GoHighLevel,
        ))
        .await
        .unwrap();
    let body = r#"{"call_id":"77","contact_id":"1451646073","agent_name":"Roberto","direction":"outbound","started_at":"2026-11-28T10:00:00Z"}"#;
    let res = handle(
        EndpointId::CloudtalkCallStarted,
        &s.deps,
        ct_post("/api/cloudtalk-webhooks/call-started", body),
    )
    .await;
    assert_eq!(res.status(), 200);
    let seen = received(&s.fakes.ghl).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/contacts/ghl-9/notes")
    );
    assert_eq!(
        seen[0].body,
        json!({"body": "[CloudTalk] Call started - Direction: outbound - Agent: Roberto - Number: unknown - Time: 2026-11-28T10:00:00Z - Call ID: 77"})
    );
}

#[tokio::test]
async fn recording_capture_adds_a_note_with_the_link() {
    let s = setup(json!({"id": "ghl-found"}), json!([]), None).await;
    let res = handle(
        EndpointId::CloudtalkRecordingAvailable,
        &s.deps,
        ct_post(
            "/api/cloudtalk-webhooks/recording-available",
            RECORDING_CAPTURE,
        ),
    )
    .await;
    assert_eq!(res.status(), 200);
    let seen = received(&s.fakes.ghl).await;
    assert_eq!(
        calls(&s.fakes.ghl).await.last().unwrap().1,
        "/contacts/ghl-found/notes"
    );
    assert_eq!(
        seen.last().unwrap().body["body"],
        "[CloudTalk] Call recording available: https://my.cloudtalk.io/pub/r/MTAwMjQwMjQ4Nw==/ZjQ2NTQ3.wav - Call ID: 1002402487 - Agent: unknown"
    );
}

#[tokio::test]
async fn unidentifiable_payloads_get_422_naming_the_fields_and_no_write() {
    let s = setup(json!(null), json!([]), None).await;
    // The design's own test payload: nothing identifies the contact.
    let body = r#"{"Call_id":"123456","Call_uuid":"uuid-123","Agent_name":"Roberto","Contact_phone":"[object Object]"}"#;
    for (route, status) in [
        ("/api/cloudtalk-webhooks/call-started", 422),
        ("/api/cloudtalk-webhooks/call-ended", 422),
        ("/api/cloudtalk-webhooks/recording-available", 422),
    ] {
        let res = bridge::route(&s.deps, ct_post(route, body)).await;
        assert_eq!(res.status(), status, "{route}");
        let b = response_json(&res);
        assert_eq!(b["error"], "unprocessable_payload");
        assert!(b["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(
            b["missing"].as_array().is_some_and(|m| !m.is_empty()),
            "{b}"
        );
    }
    // And a GHL secret does not open CloudTalk routes.
    let res = handle(
        EndpointId::CloudtalkCallStarted,
        &s.deps,
        post(
            "/api/cloudtalk-webhooks/call-started",
            CALL_ENDED_CAPTURE,
            Some(GHL_SECRET),
        ),
    )
    .await;
    assert_eq!(res.status(), 401);
    assert!(received(&s.fakes.ghl).await.is_empty());
}

#[tokio::test]
async fn contact_created_upserts_and_links() {
    let s = setup(json!(null), json!([]), None).await;
    let body = r#"{"contact_id":1451646073,"contact_name":"Mario Rossi","external_number":393513416607,"contact_email":"Mario@Example.com"}"#;
    let res = handle(
        EndpointId::CloudtalkContactCreated,
        &s.deps,
        ct_post("/api/cloudtalk-webhooks/contact-created", body),
    )
    .await;
    assert_eq!(res.status(), 200);
    let seen = received(&s.fakes.ghl).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/contacts/upsert")
    );
    assert_eq!(
        seen[0].body,
        json!({"locationId": LOCATION, "firstName": "Mario", "lastName": "Rossi", "name": "Mario Rossi",
            "email": "mario@example.com", "phone": "+393513416607", "source": "CloudTalk"})
    );
    assert_eq!(
        s.map
            .find_by_cloudtalk(LOCATION, "1451646073")
            .await
            .unwrap()
            .unwrap()
            .ghl_contact_id,
        "ghl-new-1"
    );
}

#[tokio::test]
async fn loop_prevention_a_contact_the_bridge_created_from_ghl_is_not_written_back() {
    let s = setup(json!(null), json!([]), None).await;
    // GHL → CloudTalk: the bridge creates CloudTalk contact 9001 for GHL contact ghl_123456.
    let ghl_body =
        r#"{"contact":{"id":"ghl_123456","name":"Mario Rossi","phone":"+393501234567"}}"#;
    let res = handle(
        EndpointId::GhlNewContact,
        &s.deps,
        post("/api/ghl-webhooks/new-contact", ghl_body, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(response_json(&res)["cloudtalkContactId"], "9001");
    // CloudTalk's workflow then reports that contact as created.
    let echo =
        r#"{"contact_id":"9001","contact_name":"Mario Rossi","external_number":"+393501234567"}"#;
    let res = handle(
        EndpointId::CloudtalkContactCreated,
        &s.deps,
        ct_post("/api/cloudtalk-webhooks/contact-created", echo),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body = response_json(&res);
    assert_eq!(body["result"], "already_linked");
    assert_eq!(body["ghlContactId"], "ghl_123456");
    assert!(
        received(&s.fakes.ghl).await.is_empty(),
        "the echo wrote to GHL"
    );

    // Without the link (as a bridge without a contact map would be) the echo writes to GHL:
    // this is the loop the map prevents.
    let fresh = setup(json!(null), json!([]), None).await;
    let res = handle(
        EndpointId::CloudtalkContactCreated,
        &fresh.deps,
        ct_post("/api/cloudtalk-webhooks/contact-created", echo),
    )
    .await;
    assert_eq!(response_json(&res)["result"], "applied");
    assert_eq!(
        calls(&fresh.fakes.ghl).await,
        vec![("POST".to_string(), "/contacts/upsert".to_string())]
    );
}

#[tokio::test]
async fn agent_status_is_kept_and_mirrored_into_one_custom_value() {
    let s = setup(json!(null), json!([]), None).await;
    let route = "/api/cloudtalk-webhooks/agent-status-change";
    let first = r#"{"agent_id":493933,"agent_name":"Roberto","status":"online","changed_at":"2026-11-28T10:00:00Z"}"#;
    let res = handle(
        EndpointId::CloudtalkAgentStatusChange,
        &s.deps,
        ct_post(route, first),
    )
    .await;
    assert_eq!(res.status(), 200);
    let seen = received(&s.fakes.ghl).await;
    let paths: Vec<(&str, &str)> = seen
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    let values_path = format!("/locations/{LOCATION}/customValues");
    assert_eq!(
        paths,
        vec![
            ("GET", values_path.as_str()),
            ("POST", values_path.as_str())
        ]
    );
    assert_eq!(
        seen[1].body,
        json!({"name": "CloudTalk agent Roberto (493933) status", "value": "online since 2026-11-28T10:00:00Z"})
    );
    let stored = s
        .state
        .get_agent(LOCATION, "493933")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            stored.status.as_str(),
            stored.ghl_custom_value_id.as_deref()
        ),
        ("online", Some("cv-1"))
    );

    // The next change updates the same custom value in one call.
    let second = r#"{"agent_id":"493933","agent_name":"Roberto","status":"busy","changed_at":"2026-11-28T10:05:00Z"}"#;
    handle(
        EndpointId::CloudtalkAgentStatusChange,
        &s.deps,
        ct_post(route, second),
    )
    .await;
    let seen = received(&s.fakes.ghl).await;
    assert_eq!(seen.len(), 3);
    assert_eq!(
        (seen[2].method.as_str(), seen[2].path.as_str()),
        ("PUT", format!("{values_path}/cv-1").as_str())
    );
    assert_eq!(seen[2].body["value"], "busy since 2026-11-28T10:05:00Z");

    // An older event arriving late changes nothing.
    let late = r#"{"agent_id":"493933","status":"offline","changed_at":"2026-11-28T09:00:00Z"}"#;
    let res = handle(
        EndpointId::CloudtalkAgentStatusChange,
        &s.deps,
        ct_post(route, late),
    )
    .await;
    assert_eq!(response_json(&res)["result"], "stale");
    assert_eq!(received(&s.fakes.ghl).await.len(), 3);
    assert_eq!(
        s.state
            .get_agent(LOCATION, "493933")
            .await
            .unwrap()
            .unwrap()
            .status,
        "busy"
    );
}

const STAGE_MAP: &str = r#"{"completed":{"pipelineId":"pipe-1","stageId":"stage-done"}}"#;

#[tokio::test]
async fn campaign_status_moves_the_contacts_opportunity() {
    let s = setup(
        json!({"id": "ghl-found"}),
        json!([{"id": "opp-1", "pipelineId": "pipe-1", "pipelineStageId": "stage-calling", "status": "open"}]),
        Some(STAGE_MAP),
    )
    .await;
    let body = r#"{"campaign_name":"Spring","campaign_status":"completed","external_number":"+393513416607"}"#;
    let res = handle(
        EndpointId::CloudtalkCampaignStatusChange,
        &s.deps,
        ct_post("/api/cloudtalk-webhooks/campaign-status-change", body),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", response_json(&res));
    assert_eq!(response_json(&res)["opportunities"]["moved"], 1);
    let seen = received(&s.fakes.ghl).await;
    let search = seen
        .iter()
        .find(|r| r.path == "/opportunities/search")
        .unwrap();
    assert_eq!(search.query["contact_id"], "ghl-found");
    assert_eq!(search.query["pipeline_id"], "pipe-1");
    assert_eq!(search.query["location_id"], LOCATION);
    let update = seen.last().unwrap();
    assert_eq!(
        (update.method.as_str(), update.path.as_str()),
        ("PUT", "/opportunities/opp-1")
    );
    assert_eq!(
        update.body,
        json!({"pipelineId": "pipe-1", "pipelineStageId": "stage-done"})
    );
}

#[tokio::test]
async fn campaign_status_creates_the_opportunity_when_there_is_none() {
    let s = setup(json!({"id": "ghl-found"}), json!([]), Some(STAGE_MAP)).await;
    let body = r#"{"campaign_name":"Spring","status":"completed","contact_email":"anna@example.com","contact_name":"Anna Verdi"}"#;
    let res = handle(
        EndpointId::CloudtalkCampaignStatusChange,
        &s.deps,
        ct_post("/api/cloudtalk-webhooks/campaign-status-change", body),
    )
    .await;
    assert_eq!(response_json(&res)["opportunities"]["created"], 1);
    let create = received(&s.fakes.ghl).await.pop().unwrap();
    assert_eq!(
        (create.method.as_str(), create.path.as_str()),
        ("POST", "/opportunities/")
    );
    assert_eq!(
        create.body,
        json!({"locationId": LOCATION, "contactId": "ghl-found", "pipelineId": "pipe-1",
            "pipelineStageId": "stage-done", "name": "Anna Verdi - Spring", "status": "open"})
    );
}

/// CloudTalk's tag `Spring-2026` (id 12) with three contacts on two pages.
async fn mount_a_tag_with_two_pages_of_contacts(cloudtalk: &wiremock::MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/tags/index.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"responseData": {"pageCount": 1, "data": [
            {"Tag": {"id": "11", "name": "other"}}, {"Tag": {"id": "12", "name": "Spring-2026"}}]}})))
        .mount(cloudtalk)
        .await;
    // Two pages of tagged contacts; they override the empty search mounted by setup.
    for (page, rows) in [
        (
            "1",
            json!([{"Contact": {"id": "501", "name": "A"}, "ContactNumber": {"public_number": "+393501111111"}},
                     {"Contact": {"id": "502", "name": "B"}, "ContactNumber": {"public_number": "+393502222222"}}]),
        ),
        (
            "2",
            json!([{"Contact": {"id": "503", "name": "C"}, "ContactNumber": {"public_number": "+393503333333"}}]),
        ),
    ] {
        Mock::given(method("GET"))
            .and(path("/api/contacts/index.json"))
            .and(wiremock::matchers::query_param("tag_id", "12"))
            .and(wiremock::matchers::query_param("page", page))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"responseData": {"pageCount": 2, "data": rows}})),
            )
            .with_priority(1)
            .mount(cloudtalk)
            .await;
    }
}

/// Each queued page is its own event: the worker moves every contact of every page.
async fn the_worker_moves_every_contact_of_every_page(s: &Setup) {
    let pages = s.queue.drain();
    assert_eq!(pages.len(), 2);
    assert_ne!(pages[0].0.key, pages[1].0.key);
    for (page, _) in pages {
        let result = bridge::worker::process(&s.deps, page).await;
        assert_eq!(
            result,
            bridge::worker::WorkerResult::Done { duplicate: false }
        );
    }
    let created = received(&s.fakes.ghl)
        .await
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/opportunities/")
        .count();
    assert_eq!(created, 3, "all three contacts of both pages moved");
}

#[tokio::test]
async fn a_campaign_without_a_contact_is_fanned_out_page_by_page_and_none_is_dropped() {
    let s = setup(json!({"id": "ghl-found"}), json!([]), Some(STAGE_MAP)).await;
    mount_a_tag_with_two_pages_of_contacts(&s.fakes.cloudtalk).await;
    let body =
        r#"{"campaign_name":"Spring","campaign_status":"completed","campaign_tag":"spring-2026"}"#;
    let res = handle(
        EndpointId::CloudtalkCampaignStatusChange,
        &s.deps,
        ct_post("/api/cloudtalk-webhooks/campaign-status-change", body),
    )
    .await;
    assert_eq!(res.status(), 200);
    let answer = response_json(&res);
    assert_eq!(
        (answer["result"].clone(), answer["pagesQueued"].clone()),
        (json!("queued"), json!(2))
    );
    assert!(
        received(&s.fakes.ghl).await.is_empty(),
        "nothing moved in the request"
    );
    the_worker_moves_every_contact_of_every_page(&s).await;
    // The fake GHL matches every number to one contact: the first CloudTalk contact is linked
    // to it, the others cannot take the same GHL contact.
    let linked = s
        .map
        .find_by_cloudtalk(LOCATION, "501")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked.ghl_contact_id, "ghl-found");
    assert!(s
        .map
        .find_by_cloudtalk(LOCATION, "502")
        .await
        .unwrap()
        .is_none());
    // A redelivery of the campaign event queues nothing more.
    let again = handle(
        EndpointId::CloudtalkCampaignStatusChange,
        &s.deps,
        ct_post("/api/cloudtalk-webhooks/campaign-status-change", body),
    )
    .await;
    assert_eq!(response_json(&again)["duplicate"], true);
    assert_eq!(s.queue.queued_len(), 0);
}

#[tokio::test]
async fn campaign_status_without_a_rule_writes_nothing() {
    let s = setup(json!({"id": "ghl-found"}), json!([]), Some(STAGE_MAP)).await;
    let body = r#"{"campaign_name":"Spring","campaign_status":"paused","external_number":"+393513416607"}"#;
    let res = handle(
        EndpointId::CloudtalkCampaignStatusChange,
        &s.deps,
        ct_post("/api/cloudtalk-webhooks/campaign-status-change", body),
    )
    .await;
    assert_eq!(response_json(&res)["result"], "no_rule");
    assert!(received(&s.fakes.ghl).await.is_empty());
}

#[tokio::test]
async fn generic_events_are_stored_and_answered_200() {
    let s = setup(json!(null), json!([]), None).await;
    let body = r#"{"action":"sms_received","external_number":"+393513416607","text":"Ciao"}"#;
    let res = handle(
        EndpointId::CloudtalkGeneric,
        &s.deps,
        ct_post("/api/cloudtalk-webhooks/generic", body),
    )
    .await;
    assert_eq!(res.status(), 200);
    let out = response_json(&res);
    assert_eq!(out["result"], "stored");
    assert_eq!(out["eventType"], "sms_received");
    let stored = s
        .state
        .get_event(out["storedEventId"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stored.body).unwrap()["text"],
        "Ciao"
    );
    let days = (stored.expires_at - chrono::Utc::now().timestamp()) / 86_400;
    assert!((13..=14).contains(&days), "{days}");
    assert!(received(&s.fakes.ghl).await.is_empty());
}

#[tokio::test]
async fn ghl_rate_limits_are_retried_and_errors_carry_ghl_messages() {
    let fakes = Fakes::start().await;
    Mock::given(method("GET"))
        .and(path("/contacts/search/duplicate"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-RateLimit-Remaining", "0")
                .insert_header("X-RateLimit-Interval-Milliseconds", "1000")
                .set_body_json(json!({"statusCode": 429, "message": "Too many requests"})),
        )
        .up_to_n_times(1)
        .mount(&fakes.ghl)
        .await;
    mount_ghl(&fakes.ghl, json!({"id": "ghl-found"}), json!([])).await;
    Mock::given(method("POST"))
        .and(path("/contacts/ghl-found/notes"))
        .respond_with(ResponseTemplate::new(422).set_body_json(
            json!({"statusCode": 422, "message": ["body should not be empty", "body must be a string"], "error": "Unprocessable Entity"}),
        ))
        .with_priority(1)
        .mount(&fakes.ghl)
        .await;
    let (deps, _) = fakes.deps_with_memory_map();
    let started = std::time::Instant::now();
    let res = handle(
        EndpointId::CloudtalkCallStarted,
        &deps,
        ct_post(
            "/api/cloudtalk-webhooks/call-started",
            r#"{"external_number":"+393513416607"}"#,
        ),
    )
    .await;
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "waited for the rate limit interval"
    );
    let seen = calls(&fakes.ghl).await;
    assert_eq!(seen[0], seen[1], "the rate-limited search was retried");
    assert_eq!(res.status(), 502);
    let body = response_json(&res);
    assert_eq!(body["error"], "upstream_rejected");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("body should not be empty; body must be a string"),
        "{body}"
    );
}

#[tokio::test]
async fn loop_prevention_a_ghl_contact_the_bridge_created_from_cloudtalk_is_not_written_back() {
    let s = setup(json!(null), json!([]), None).await;
    // CloudTalk → GHL: contact 1451646099 becomes GHL contact ghl-new-1.
    let created =
        r#"{"contact_id":1451646099,"contact_name":"Paolo Gialli","external_number":393471234567}"#;
    handle(
        EndpointId::CloudtalkContactCreated,
        &s.deps,
        ct_post("/api/cloudtalk-webhooks/contact-created", created),
    )
    .await;
    // GHL then reports its new contact.
    let echo = r#"{"type":"ContactCreate","webhookId":"wh-echo","locationId":"loc-test","id":"ghl-new-1","firstName":"Paolo","phone":"+393471234567","tags":["imported"]}"#;
    let res = handle(
        EndpointId::GhlNewContact,
        &s.deps,
        post("/api/ghl-webhooks/new-contact", echo, Some(GHL_SECRET)),
    )
    .await;
    let body = response_json(&res);
    assert_eq!(body["result"], "already_linked", "{body}");
    assert_eq!(body["cloudtalkContactId"], "1451646099");
    assert!(
        received(&s.fakes.cloudtalk).await.is_empty(),
        "the echo wrote to CloudTalk"
    );
}
