//! The GoHighLevel → CloudTalk endpoints, run through their real handlers against a `wiremock`
//! fake of CloudTalk, asserting the exact requests CloudTalk receives.

use std::sync::Arc;

use bridge::contact_map::{ContactLink, ContactMap, LinkOrigin};
use bridge::pipeline::handle;
use bridge::EndpointId;
use bridge_testkit::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const MARIO: &str = r#"{"contact":{"id":"ghl_123456","name":"Mario Rossi","firstName":"Mario","lastName":"Rossi",
  "email":"mario@example.com","phone":"+393501234567","tags":["lead","priority"]}}"#;

async fn link_mario(map: &dyn ContactMap) {
    map.link(&ContactLink::new(
        LOCATION,
        "ghl_123456",
        "555",
        LinkOrigin::GoHighLevel,
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn new_contact_creates_the_cloudtalk_contact_and_records_the_link() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, map) = fakes.deps_with_memory_map();

    let res = handle(
        EndpointId::GhlNewContact,
        &deps,
        post("/api/ghl-webhooks/new-contact", MARIO, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body = response_json(&res);
    assert_eq!(body["cloudtalkContactId"], "9001");
    assert_eq!(body["contactCreated"], true);

    let seen = received(&fakes.cloudtalk).await;
    let calls: Vec<(String, String)> = seen
        .iter()
        .map(|s| (s.method.clone(), s.path.clone()))
        .collect();
    assert_eq!(
        calls,
        vec![
            ("GET".into(), "/api/contacts/index.json".into()),
            ("GET".into(), "/api/contacts/index.json".into()),
            ("POST".into(), "/api/bulk/contacts.json".into()),
        ]
    );
    assert!(seen
        .iter()
        .all(|s| s.authorization.as_deref() == Some(cloudtalk_basic_auth().as_str())));
    assert_eq!(seen[0].query["keyword"], "393501234567");
    assert_eq!(seen[1].query["keyword"], "mario@example.com");
    let command = &seen[2].body[0];
    assert_eq!(command["action"], "add_contact");
    assert!(command["command_id"]
        .as_str()
        .unwrap()
        .starts_with("ghl_contact_ghl_123456_"));
    assert_eq!(
        command["data"],
        json!({"name":"Mario Rossi","company":"GoHighLevel",
            "ContactNumber":[{"public_number":"+393501234567"}],
            "ContactEmail":[{"email":"mario@example.com"}],
            "ContactsTag":[{"name":"lead"},{"name":"priority"}],
            "ExternalUrl":[{"name":"GoHighLevel","url":"https://app.gohighlevel.com/v2/location/loc-test/contacts/detail/ghl_123456"}]})
    );

    let link = map
        .find_by_ghl(LOCATION, "ghl_123456")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.cloudtalk_contact_id, "9001");
    assert_eq!(link.origin, LinkOrigin::GoHighLevel);
    assert!(map
        .find_by_cloudtalk(LOCATION, "9001")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn new_contact_found_by_phone_is_linked_and_tags_are_appended() {
    let fakes = Fakes::start().await;
    // CloudTalk holds the number without the plus, as some imports store it.
    mount_cloudtalk(
        &fakes.cloudtalk,
        json!([{"Contact":{"id":"1451646073","name":"M. Rossi"},"ContactNumber":{"public_number":393501234567u64},"ContactEmail":{"email":null}}]),
    )
    .await;
    let (deps, map) = fakes.deps_with_memory_map();

    let res = handle(
        EndpointId::GhlNewContact,
        &deps,
        post("/api/ghl-webhooks/new-contact", MARIO, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(response_json(&res)["foundBy"], "search");

    let seen = received(&fakes.cloudtalk).await;
    assert_eq!(seen.len(), 2, "one search, one addTags: {seen:?}");
    assert_eq!(seen[1].method, "PUT");
    assert_eq!(seen[1].path, "/api/contacts/addTags/1451646073.json");
    assert_eq!(seen[1].body, json!({"tags":["lead","priority"]}));
    assert_eq!(
        map.find_by_ghl(LOCATION, "ghl_123456")
            .await
            .unwrap()
            .unwrap()
            .cloudtalk_contact_id,
        "1451646073"
    );
}

#[tokio::test]
async fn new_tag_on_a_linked_contact_is_one_append() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, map) = fakes.deps_with_memory_map();
    link_mario(map.as_ref()).await;

    let body =
        r#"{"contact":{"id":"ghl_123456","name":"Mario Rossi"},"tag":{"name":"VIP Cliente"}}"#;
    let res = handle(
        EndpointId::GhlNewTag,
        &deps,
        post("/api/ghl-webhooks/new-tag", body, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 200);
    let seen = received(&fakes.cloudtalk).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PUT", "/api/contacts/addTags/555.json")
    );
    assert_eq!(seen[0].body, json!({"tags":["VIP Cliente"]}));
}

#[tokio::test]
async fn new_tag_for_an_unknown_contact_creates_it_with_the_tag_and_no_extra_call() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, _map) = fakes.deps_with_memory_map();

    let body = r#"{"contact_id":"c-9","full_name":"Anna Bianchi","phone":"351 341 6607","tags":"lead","customData":{"tag":"VIP"}}"#;
    let res = handle(
        EndpointId::GhlNewTag,
        &deps,
        post("/api/ghl-webhooks/new-tag", body, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 200);
    let seen = received(&fakes.cloudtalk).await;
    assert_eq!(seen.len(), 2, "search by phone, then create: {seen:?}");
    assert_eq!(seen[0].query["keyword"], "393513416607");
    assert_eq!(
        seen[1].body[0]["data"]["ContactsTag"],
        json!([{"name":"lead"},{"name":"VIP"}])
    );
    assert_eq!(
        seen[1].body[0]["data"]["ContactNumber"],
        json!([{"public_number":"+393513416607"}])
    );
}

#[tokio::test]
async fn new_note_adds_the_formatted_note() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, map) = fakes.deps_with_memory_map();
    link_mario(map.as_ref()).await;

    let body = r#"{"contact":{"id":"ghl_123456"},"note":{"body":"Cliente interessato al prodotto premium","userId":"agent_789"},"timestamp":"2026-11-28T10:00:00Z"}"#;
    let res = handle(
        EndpointId::GhlNewNote,
        &deps,
        post("/api/ghl-webhooks/new-note", body, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(response_json(&res)["cloudtalkNoteId"], "7001");
    let seen = received(&fakes.cloudtalk).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PUT", "/api/notes/add/555.json")
    );
    assert_eq!(
        unmarked(&seen[0].body["note"]),
        "[GHL Note] Cliente interessato al prodotto premium - Added by User ID: agent_789 - 2026-11-28T10:00:00Z"
    );
}

/// A note's text without the bridge's trailing reference (checked to be there).
fn unmarked(note: &serde_json::Value) -> String {
    let text = note.as_str().expect("note text");
    let (text, marker) = text
        .rsplit_once("\n[ref ")
        .expect("the note carries its reference");
    assert!(marker.len() == 11 && marker.ends_with(']'), "{marker}");
    text.to_string()
}

#[tokio::test]
async fn pipeline_change_adds_an_activity() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, map) = fakes.deps_with_memory_map();
    link_mario(map.as_ref()).await;

    let body = r#"{"contact":{"id":"ghl_123456"},"pipeline":{"name":"Sales Pipeline"},"stage":{"name":"Qualified Lead"},
        "previous_stage":{"name":"Cold Lead"},"timestamp":"2026-11-28T10:00:00Z"}"#;
    let res = handle(
        EndpointId::GhlPipelineChange,
        &deps,
        post("/api/ghl-webhooks/pipeline-change", body, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 200);
    let seen = received(&fakes.cloudtalk).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PUT", "/api/activity/add/555.json")
    );
    let mut activity = seen[0].body.clone();
    let marker = activity["external_id"].take();
    assert!(
        marker
            .as_u64()
            .is_some_and(|m| m > 0 && m <= i32::MAX as u64),
        "the activity carries its marker, an integer as CloudTalk types it: {marker}"
    );
    activity.as_object_mut().unwrap().remove("external_id");
    assert_eq!(
        activity,
        json!({"type":"other","name":"Pipeline Stage Change",
            "description":"[GHL Pipeline Change] Contact moved to \"Qualified Lead\" stage in \"Sales Pipeline\" pipeline (from \"Cold Lead\") - 2026-11-28T10:00:00Z"})
    );
}

#[tokio::test]
async fn status_change_adds_a_note_and_the_status_tag() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, map) = fakes.deps_with_memory_map();
    link_mario(map.as_ref()).await;

    let body = r#"{"contact":{"id":"ghl_123456"},"status":"customer","previous_status":"lead","status_reason":"Purchase completed","timestamp":"T1"}"#;
    let res = handle(
        EndpointId::GhlStatusChange,
        &deps,
        post("/api/ghl-webhooks/status-change", body, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 200);
    let seen = received(&fakes.cloudtalk).await;
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].path, "/api/notes/add/555.json");
    assert_eq!(
        unmarked(&seen[0].body["note"]),
        "[GHL Status Change] Status changed from \"lead\" to \"customer\" - Reason: Purchase completed - T1"
    );
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("PUT", "/api/contacts/addTags/555.json")
    );
    assert_eq!(seen[1].body, json!({"tags":["GHL-CUSTOMER"]}));
}

#[tokio::test]
async fn refused_requests_make_no_upstream_call() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, _map) = fakes.deps_with_memory_map();
    let route = "/api/ghl-webhooks/new-contact";

    let cases: Vec<(lambda_http::Request, u16, &str)> = vec![
        (post(route, MARIO, None), 401, "unauthorized"),
        (post(route, MARIO, Some("wrong")), 401, "unauthorized"),
        (post(route, MARIO, Some("")), 401, "unauthorized"),
        (
            post(route, "{not json", Some(GHL_SECRET)),
            400,
            "bad_request",
        ),
        (post(route, "", Some(GHL_SECRET)), 400, "bad_request"),
        (post(route, "[1]", Some(GHL_SECRET)), 400, "bad_request"),
        (
            post(route, r#"{"contact":{"name":"no id"}}"#, Some(GHL_SECRET)),
            422,
            "unprocessable_payload",
        ),
        (
            post(
                route,
                r#"{"contact":{"id":"x","phone":"not a phone"}}"#,
                Some(GHL_SECRET),
            ),
            422,
            "unprocessable_payload",
        ),
    ];
    for (req, status, code) in cases {
        let res = handle(EndpointId::GhlNewContact, &deps, req).await;
        assert_eq!(res.status(), status);
        let body = response_json(&res);
        assert_eq!(body["error"], code);
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert!(received(&fakes.cloudtalk).await.is_empty());
    assert!(received(&fakes.ghl).await.is_empty());
}

#[tokio::test]
async fn both_secret_headers_and_the_rotation_secret_are_accepted() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, map) = fakes.deps_with_memory_map();
    link_mario(map.as_ref()).await;
    let body = r#"{"contact":{"id":"ghl_123456"},"tag":"x"}"#;

    let mut req = post("/api/ghl-webhooks/new-tag", body, None);
    req.headers_mut()
        .insert("x-webhook-secret", GHL_SECRET.parse().unwrap());
    assert_eq!(
        handle(EndpointId::GhlNewTag, &deps, req).await.status(),
        200
    );
    let req = post("/api/ghl-webhooks/new-tag", body, Some("next-ghl-secret"));
    assert_eq!(
        handle(EndpointId::GhlNewTag, &deps, req).await.status(),
        200
    );
    // The CloudTalk secret does not open GHL routes.
    let req = post("/api/ghl-webhooks/new-tag", body, Some(CLOUDTALK_SECRET));
    assert_eq!(
        handle(EndpointId::GhlNewTag, &deps, req).await.status(),
        401
    );
}

#[tokio::test]
async fn a_rate_limited_cloudtalk_event_is_queued_or_answered_429_when_it_cannot_be() {
    let fakes = Fakes::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/contacts/addTags/555.json"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-CloudTalkAPI-ResetTime", "1")
                .set_body_json(
                    json!({"responseData":{"status":429,"message":"Too Many Requests"}}),
                ),
        )
        .mount(&fakes.cloudtalk)
        .await;
    let body = r#"{"contact":{"id":"ghl_123456"},"tag":"x"}"#;

    // With a retry queue: durably queued, answered 202.
    let (deps, map, queue) = fakes.deps_with_queue();
    link_mario(map.as_ref()).await;
    let res = handle(
        EndpointId::GhlNewTag,
        &deps,
        post("/api/ghl-webhooks/new-tag", body, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 202);
    let answer = response_json(&res);
    assert_eq!(answer["queued"], true);
    assert!(
        answer["reason"].as_str().unwrap().contains("429"),
        "{answer}"
    );
    let queued = queue.drain();
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (
            queued[0].0.endpoint.name(),
            queued[0].0.attempt,
            queued[0].0.body.as_str()
        ),
        ("ghl-new-tag", 0, body),
        "a rate limit uses up no attempt"
    );
    // It waits what CloudTalk's reset time said (1 s here), plus up to a tenth.
    assert!((1..=2).contains(&queued[0].1), "delay {}", queued[0].1);

    // Without one (a local run): 429, so GoHighLevel re-delivers.
    let (mut deps, map) = fakes.deps_with_memory_map();
    deps.retry_queue = Arc::new(bridge::retry_queue::NoRetryQueue);
    link_mario(map.as_ref()).await;
    let res = handle(
        EndpointId::GhlNewTag,
        &deps,
        post("/api/ghl-webhooks/new-tag", body, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 429);
    // The delay the bridge would itself wait (30 s and jitter here; more when the upstream asks
    // for more), not a fixed number.
    let retry_after: u32 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((30..40).contains(&retry_after), "Retry-After {retry_after}");
    let answer = response_json(&res);
    assert_eq!(answer["error"], "upstream_unavailable");
    assert!(answer["message"].as_str().unwrap().contains("429"));
}

#[tokio::test]
async fn a_failed_bulk_command_inside_http_200_is_an_error_with_a_masked_message() {
    let fakes = Fakes::start().await;
    Mock::given(method("GET"))
        .and(path("/api/contacts/index.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"responseData":{"itemsCount":0,"data":[]}})),
        )
        .mount(&fakes.cloudtalk)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/bulk/contacts.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"responseData":{"status":200,"data":[
            {"command_id":"other","status":201,"data":{"id":"1"}},
            {"command_id":"ignored-by-position","status":406,"message":"Invalid input data.",
             "data":{"public_number":["Please supply only valid numbers. Number 393807939119 is not valid."]}}]}})))
        .mount(&fakes.cloudtalk)
        .await;
    let (deps, map) = fakes.deps_with_memory_map();

    let res = handle(
        EndpointId::GhlNewContact,
        &deps,
        post("/api/ghl-webhooks/new-contact", MARIO, Some(GHL_SECRET)),
    )
    .await;
    // Several results and none for our command_id: an unrelated success is not taken as ours.
    assert_eq!(res.status(), 502);
    assert_eq!(response_json(&res)["error"], "upstream_rejected");
    assert!(map.is_empty());

    // A single failed command is reported with CloudTalk's message, phone masked.
    let fakes = Fakes::start().await;
    Mock::given(method("GET"))
        .and(path("/api/contacts/index.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"responseData":{"itemsCount":0,"data":[]}})),
        )
        .mount(&fakes.cloudtalk)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/bulk/contacts.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"responseData":{"status":200,"data":[
            {"command_id":"whatever","status":406,"message":"Invalid input data.",
             "data":{"public_number":["Please supply only valid numbers. Number 393807939119 is not valid."]}}]}})))
        .mount(&fakes.cloudtalk)
        .await;
    let (deps, map) = fakes.deps_with_memory_map();
    let res = handle(
        EndpointId::GhlNewContact,
        &deps,
        post("/api/ghl-webhooks/new-contact", MARIO, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 502);
    let body = response_json(&res);
    assert_eq!(body["error"], "upstream_rejected");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("406") && message.contains("Invalid input data."),
        "{message}"
    );
    assert!(!message.contains("393807939119"), "{message}");
    assert!(message.contains("…119"), "{message}");
    assert!(map.is_empty(), "nothing is linked when creation failed");
}

#[tokio::test]
async fn concurrent_events_for_one_unlinked_contact_create_one_cloudtalk_contact() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, map) = fakes.deps_with_memory_map();
    let deps = Arc::new(deps);
    let mut tasks = Vec::new();
    for tag in ["hot", "warm", "vip", "callback"] {
        let deps = deps.clone();
        let body =
            format!(r#"{{"contact":{{"id":"ghl_race","phone":"+393501234567"}},"tag":"{tag}"}}"#);
        tasks.push(tokio::spawn(async move {
            let res = handle(
                EndpointId::GhlNewTag,
                &deps,
                post("/api/ghl-webhooks/new-tag", &body, Some(GHL_SECRET)),
            )
            .await;
            (
                res.status().as_u16(),
                response_json(&res)["cloudtalkContactId"].clone(),
            )
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        let (status, id) = t.await.unwrap();
        assert_eq!(status, 200);
        ids.push(id);
    }
    let link = map
        .find_by_ghl(LOCATION, "ghl_race")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(map.len(), 1);
    assert!(
        ids.iter().all(|id| id == &json!(link.cloudtalk_contact_id)),
        "{ids:?} vs {link:?}"
    );
    let creates = calls(&fakes.cloudtalk)
        .await
        .into_iter()
        .filter(|(_, p)| p == "/api/bulk/contacts.json")
        .count();
    assert_eq!(creates, 1, "one CloudTalk contact for four events");
}

#[tokio::test]
async fn the_same_event_delivered_twice_or_concurrently_is_applied_once() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, map, queue) = fakes.deps_with_queue();
    link_mario(map.as_ref()).await;
    let deps = Arc::new(deps);
    let body = r#"{"type":"NoteCreate","webhookId":"wh-note-1","locationId":"loc-test","id":"n1","contactId":"ghl_123456","body":"Richiamare"}"#;
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let deps = deps.clone();
        tasks.push(tokio::spawn(async move {
            let res = handle(
                EndpointId::GhlNewNote,
                &deps,
                post("/api/ghl-webhooks/new-note", body, Some(GHL_SECRET)),
            )
            .await;
            (res.status().as_u16(), response_json(&res))
        }));
    }
    let mut applied = 0;
    for t in tasks {
        let (status, answer) = t.await.unwrap();
        match status {
            200 if answer["duplicate"] == true => {}
            200 => applied += 1,
            // A delivery that overlaps the one applying it is queued and will find it done.
            202 => assert_eq!(answer["queued"], true),
            other => panic!("unexpected {other}: {answer}"),
        }
    }
    assert_eq!(applied, 1);
    // Later redeliveries are duplicates with the first answer.
    let res = handle(
        EndpointId::GhlNewNote,
        &deps,
        post("/api/ghl-webhooks/new-note", body, Some(GHL_SECRET)),
    )
    .await;
    let answer = response_json(&res);
    assert_eq!(
        (
            answer["duplicate"].clone(),
            answer["cloudtalkNoteId"].clone()
        ),
        (json!(true), json!("7001"))
    );
    let notes = calls(&fakes.cloudtalk)
        .await
        .into_iter()
        .filter(|(_, p)| p.starts_with("/api/notes/add/"))
        .count();
    assert_eq!(notes, 1);
    // Queued overlaps are duplicates when the worker runs them.
    for (event, _) in queue.drain() {
        let handled = bridge::worker::process(&deps, event).await;
        assert_eq!(
            handled,
            bridge::worker::WorkerResult::Done { duplicate: true }
        );
    }
    assert_eq!(calls(&fakes.cloudtalk).await.len(), 1);
}

#[tokio::test]
async fn an_upstream_outage_is_retried_within_the_request() {
    let fakes = Fakes::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/notes/add/555.json"))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(
                json!({"responseData":{"status":503,"message":"Service Unavailable"}}),
            ),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&fakes.cloudtalk)
        .await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, map, queue) = fakes.deps_with_queue();
    link_mario(map.as_ref()).await;
    let body = r#"{"contact":{"id":"ghl_123456"},"note":{"body":"x","userId":"u"}}"#;
    let res = handle(
        EndpointId::GhlNewNote,
        &deps,
        post("/api/ghl-webhooks/new-note", body, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        calls(&fakes.cloudtalk).await.len(),
        3,
        "two failures, then the note"
    );
    assert_eq!(queue.queued_len(), 0);
}

#[tokio::test]
async fn a_note_whose_answer_was_lost_is_found_again_not_written_twice() {
    let fakes = Fakes::start().await;
    // CloudTalk applies the note but answers after the client's 2 s timeout.
    Mock::given(method("PUT"))
        .and(path("/api/notes/add/555.json"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_delay(std::time::Duration::from_millis(2_500))
                .set_body_json(json!({"responseData": {"status": 201, "data": {"id": "7001"}}})),
        )
        .mount(&fakes.cloudtalk)
        .await;
    let (deps, map, queue) = fakes.deps_with_queue();
    link_mario(map.as_ref()).await;
    let body = r#"{"contact":{"id":"ghl_123456"},"note":{"body":"Richiamare","userId":"u1"}}"#;
    let res = handle(
        EndpointId::GhlNewNote,
        &deps,
        post("/api/ghl-webhooks/new-note", body, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 202, "{}", response_json(&res));
    let sent = received(&fakes.cloudtalk).await;
    assert_eq!(
        sent.len(),
        1,
        "a timed-out write is not repeated in the request"
    );
    let written = sent[0].body["note"].as_str().unwrap().to_string();
    // CloudTalk now lists the note it did write; the retry reads it back.
    fakes.reset_cloudtalk().await;
    Mock::given(method("GET"))
        .and(path("/api/notes/index.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"responseData": {
            "itemsCount": 1, "pageCount": 1, "data": [{"Note": {"id": "7001", "note": written}}]}})))
        .mount(&fakes.cloudtalk)
        .await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let queued = queue.drain();
    assert_eq!(queued.len(), 1);
    let result = bridge::worker::process(&deps, queued[0].0.clone()).await;
    assert_eq!(
        result,
        bridge::worker::WorkerResult::Done { duplicate: false }
    );
    let retry = calls(&fakes.cloudtalk).await;
    assert_eq!(
        retry,
        vec![("GET".to_string(), "/api/notes/index.json".to_string())],
        "found by its marker, not written again"
    );
    let marker = written
        .rsplit_once("[ref ")
        .unwrap()
        .1
        .trim_end_matches(']');
    let query = &received(&fakes.cloudtalk).await[0].query;
    assert_eq!(
        (query["contact_id"].as_str(), query["keyword"].as_str()),
        ("555", marker)
    );
}
