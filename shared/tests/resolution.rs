//! The right contact, every time: what the webhook leaves out is read from its source, nested
//! and flat shapes are merged, stage ids become names, stale links heal, body-hash keys let
//! real repeats through, one phone makes one contact, bad extra data is skipped, and nothing
//! accepted is only refused. Each case runs through the real handlers against `wiremock` fakes
//! (and, for concurrent creation, the DynamoDB-compatible server), with bodies shaped like the
//! senders'.

use std::sync::Arc;
use std::time::Duration;

use bridge::clock::ManualClock;
use bridge::contact_map::{ContactLink, ContactMap, LinkOrigin, MemoryContactMap};
use bridge::pipeline::handle;
use bridge::retry_queue::MemoryRetryQueue;
use bridge::{Deps, EndpointId};
use bridge_testkit::aws::dynamo_backends;
use bridge_testkit::*;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The cases run one at a time: a case that captures the log lines must not share the
/// process's tracing callsites with cases running without a subscriber.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// CloudTalk's search row for a contact with this id and phone.
fn ct_row(id: &str, phone: &str) -> Value {
    json!([{"Contact": {"id": id, "name": "Existing"}, "ContactNumber": {"public_number": phone},
        "ContactEmail": {"email": null}}])
}

/// Deps over in-memory backends, with handles on the map and the queue.
fn deps(fakes: &Fakes) -> (Deps, Arc<MemoryContactMap>, Arc<MemoryRetryQueue>) {
    fakes.deps_with_queue()
}

async fn ghl_event(deps: &Deps, id: EndpointId, route: &str, body: &Value) -> (u16, Value) {
    let req = post(route, &body.to_string(), Some(GHL_SECRET));
    let res = handle(id, deps, req).await;
    (res.status().as_u16(), response_json(&res))
}

async fn cloudtalk_event(deps: &Deps, id: EndpointId, route: &str, body: &Value) -> (u16, Value) {
    let req = post(route, &body.to_string(), Some(CLOUDTALK_SECRET));
    let res = handle(id, deps, req).await;
    (res.status().as_u16(), response_json(&res))
}

/// A Marketplace `NoteCreate`: the contact by id only.
fn note_create(webhook_id: &str, contact_id: &str) -> Value {
    json!({"type": "NoteCreate", "webhookId": webhook_id, "timestamp": "2026-11-28T10:11:00.000Z",
        "locationId": LOCATION, "id": "note_001", "contactId": contact_id,
        "body": "Asked for a callback on Monday", "dateAdded": "2026-11-28T10:11:00.000Z"})
}

const NEW_NOTE: &str = "/api/ghl-webhooks/new-note";
const NEW_CONTACT: &str = "/api/ghl-webhooks/new-contact";

/// Mounts a GHL answer ahead of [`mount_ghl`]'s (the first mounted match wins).
async fn ghl_answers(server: &MockServer, verb: &str, route: &str, status: u16, body: Value) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

// --- 1. Fetch what is missing -----------------------------------------------------------------

#[tokio::test]
async fn an_id_only_note_lands_on_the_cloudtalk_contact_with_the_same_phone() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    // GoHighLevel has the contact's phone; CloudTalk has a contact with it.
    mount_cloudtalk(&fakes.cloudtalk, ct_row("1451646073", "+393331234567")).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    let (deps, map, _) = deps(&fakes);

    let (status, body) = ghl_event(
        &deps,
        EndpointId::GhlNewNote,
        NEW_NOTE,
        &note_create("w-1", "ghl_345678"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cloudtalkContactId"], "1451646073");
    assert_eq!(body["foundBy"], "search");
    assert_eq!(
        calls(&fakes.ghl).await,
        [("GET".to_string(), "/contacts/ghl_345678".to_string())]
    );
    let ct = received(&fakes.cloudtalk).await;
    assert_eq!(
        ct[0].query["keyword"], "393331234567",
        "searched by GHL's phone"
    );
    assert!(
        ct.iter().all(|r| r.path != "/api/bulk/contacts.json"),
        "no placeholder contact was created: {ct:?}"
    );
    assert_eq!(ct.last().unwrap().path, "/api/notes/add/1451646073.json");
    let link = map.find_by_ghl(LOCATION, "ghl_345678").await.unwrap();
    assert_eq!(link.unwrap().cloudtalk_contact_id, "1451646073");
}

#[tokio::test]
async fn a_contact_with_no_phone_or_email_in_ghl_is_created_with_its_name_and_says_so() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let bare = json!({"contact": {"id": "ghl_345678", "firstName": "Anna", "lastName": "Verdi", "tags": []}});
    ghl_answers(&fakes.ghl, "GET", "/contacts/ghl_345678", 200, bare).await;
    let (deps, _, _) = deps(&fakes);

    let (status, body) = ghl_event(
        &deps,
        EndpointId::GhlNewNote,
        NEW_NOTE,
        &note_create("w-1", "ghl_345678"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["incomplete"], true);
    assert_eq!(body["contactCreated"], true);
    let ct = received(&fakes.cloudtalk).await;
    let bulk = ct
        .iter()
        .find(|r| r.path == "/api/bulk/contacts.json")
        .unwrap();
    let data = &bulk.body[0]["data"];
    assert_eq!(data["name"], "Anna Verdi", "named from GoHighLevel: {data}");
    assert!(data.get("ContactNumber").is_none_or(|n| n == &json!([])));
}

#[tokio::test]
async fn an_event_for_a_contact_ghl_does_not_have_is_parked_not_created() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let missing =
        json!({"statusCode": 400, "message": "Contact not found", "error": "Bad Request"});
    ghl_answers(&fakes.ghl, "GET", "/contacts/ghl_gone", 400, missing).await;
    let (deps, map, queue) = deps(&fakes);

    let (status, body) = ghl_event(
        &deps,
        EndpointId::GhlNewNote,
        NEW_NOTE,
        &note_create("w-1", "ghl_gone"),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["parked"], true);
    assert!(received(&fakes.cloudtalk).await.is_empty());
    assert!(map.is_empty());
    let parked = queue.parked();
    assert_eq!(parked.len(), 1);
    assert!(
        parked[0].1.contains("no contact with id ghl_gone"),
        "{}",
        parked[0].1
    );
}

// --- 2. Merge the shapes ----------------------------------------------------------------------

#[tokio::test]
async fn flat_fields_beside_an_attribution_only_contact_object_all_reach_cloudtalk() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, _, _) = deps(&fakes);
    // A workflow "Webhook" action's body: flat contact fields, and `contact` with attribution.
    let body = json!({"contact_id": "Xy12", "first_name": "Giulia", "last_name": "Bianchi",
        "full_name": "Giulia Bianchi", "email": "giulia@example.com", "phone": "+39 347 123 4567",
        "tags": "lead,webinar", "contact_type": "lead",
        "contact": {"attributionSource": {"sessionSource": "Direct traffic", "medium": "direct"},
            "lastAttributionSource": {"sessionSource": "CRM Workflows", "medium": "workflow"}},
        "location": {"id": LOCATION, "name": "Agency"}, "workflow": {"id": "wf1", "name": "Sync"}});

    let (status, answer) = ghl_event(&deps, EndpointId::GhlNewContact, NEW_CONTACT, &body).await;
    assert_eq!(status, 200, "{answer}");
    let ct = received(&fakes.cloudtalk).await;
    let data = &ct.last().unwrap().body[0]["data"];
    assert_eq!(
        data["ContactEmail"],
        json!([{"email": "giulia@example.com"}])
    );
    assert_eq!(
        data["ContactNumber"],
        json!([{"public_number": "+393471234567"}])
    );
    assert_eq!(
        data["ContactsTag"],
        json!([{"name": "lead"}, {"name": "webinar"}])
    );
    assert_eq!(data["name"], "Giulia Bianchi");
}

// --- 3. Names, not ids ------------------------------------------------------------------------

fn stage_update(webhook_id: &str) -> Value {
    json!({"type": "OpportunityStageUpdate", "webhookId": webhook_id,
        "timestamp": "2026-11-28T10:16:00.000Z", "locationId": LOCATION, "id": "opp_001",
        "contactId": "ghl_123456", "name": "Mario Rossi - Annual plan", "pipelineId": "pipe_sales",
        "pipelineStageId": "stage_won", "status": "open", "monetaryValue": 1200})
}

async fn linked_mario(map: &dyn ContactMap) {
    let link = ContactLink::new(LOCATION, "ghl_123456", "555", LinkOrigin::GoHighLevel);
    map.link(&link).await.unwrap();
}

fn activity_text(seen: &[Seen]) -> Vec<String> {
    seen.iter()
        .filter(|r| r.path.starts_with("/api/activity/add/"))
        .map(|r| {
            r.body["description"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn stage_ids_are_written_as_names_and_the_pipelines_read_once() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let pipelines = json!({"pipelines": [{"id": "pipe_sales", "name": "Sales", "locationId": LOCATION,
        "stages": [{"id": "stage_new", "name": "New Lead"}, {"id": "stage_won", "name": "Won"}]}]});
    ghl_answers(
        &fakes.ghl,
        "GET",
        "/opportunities/pipelines",
        200,
        pipelines,
    )
    .await;
    let (deps, map, _) = deps(&fakes);
    linked_mario(map.as_ref()).await;

    let route = "/api/ghl-webhooks/pipeline-change";
    for webhook in ["w-1", "w-2"] {
        let (status, body) = ghl_event(
            &deps,
            EndpointId::GhlPipelineChange,
            route,
            &stage_update(webhook),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let texts = activity_text(&received(&fakes.cloudtalk).await);
    assert_eq!(texts.len(), 2);
    assert!(
        texts
            .iter()
            .all(|t| t.contains("moved to \"Won\" stage in \"Sales\" pipeline")),
        "{texts:?}"
    );
    let reads = calls(&fakes.ghl).await;
    assert_eq!(
        reads,
        [("GET".to_string(), "/opportunities/pipelines".to_string())],
        "cached for the second event"
    );
}

#[tokio::test]
async fn stage_ids_stay_ids_when_the_pipelines_cannot_be_read() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let unavailable = json!({"statusCode": 401, "message": "Invalid token"});
    ghl_answers(
        &fakes.ghl,
        "GET",
        "/opportunities/pipelines",
        401,
        unavailable,
    )
    .await;
    let (deps, map, _) = deps(&fakes);
    linked_mario(map.as_ref()).await;

    let route = "/api/ghl-webhooks/pipeline-change";
    let (status, body) = ghl_event(
        &deps,
        EndpointId::GhlPipelineChange,
        route,
        &stage_update("w-1"),
    )
    .await;
    assert_eq!(status, 200, "the activity is still written: {body}");
    let texts = activity_text(&received(&fakes.cloudtalk).await);
    assert!(
        texts[0].contains("moved to \"stage_won\" stage in \"pipe_sales\" pipeline"),
        "{texts:?}"
    );
}

// --- 4. Self-healing links --------------------------------------------------------------------

#[tokio::test]
async fn a_linked_contact_deleted_in_cloudtalk_is_relinked_by_phone() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    let gone = json!({"responseData": {"status": 404, "message": "Not found."}});
    Mock::given(method("PUT"))
        .and(path("/api/notes/add/555.json"))
        .respond_with(ResponseTemplate::new(404).set_body_json(gone))
        .mount(&fakes.cloudtalk)
        .await;
    mount_cloudtalk(&fakes.cloudtalk, ct_row("1451646073", "+393501234567")).await;
    let (deps, map, _) = deps(&fakes);
    linked_mario(map.as_ref()).await;
    let (_guard, logs) = capture_logs();

    let body = json!({"contact_id": "ghl_123456", "full_name": "Mario Rossi",
        "phone": "+393501234567", "note": {"body": "No answer", "userId": "u1"},
        "location": {"id": LOCATION}});
    let (status, answer) = ghl_event(&deps, EndpointId::GhlNewNote, NEW_NOTE, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["relinked"], 1);
    assert_eq!(answer["cloudtalkContactId"], "1451646073");
    let paths: Vec<String> = received(&fakes.cloudtalk)
        .await
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(
        paths,
        [
            "/api/notes/add/555.json",
            "/api/contacts/index.json",
            "/api/notes/add/1451646073.json"
        ]
    );
    let link = map.find_by_ghl(LOCATION, "ghl_123456").await.unwrap();
    assert_eq!(link.unwrap().cloudtalk_contact_id, "1451646073");
    assert!(map
        .find_by_cloudtalk(LOCATION, "555")
        .await
        .unwrap()
        .is_none());
    let line = logs.webhook_lines().pop().unwrap();
    assert_eq!(line["fields"]["relinked"], 1, "{line}");
}

#[tokio::test]
async fn a_linked_contact_deleted_in_ghl_is_relinked_by_phone() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    let missing =
        json!({"statusCode": 400, "message": "Contact not found", "error": "Bad Request"});
    ghl_answers(&fakes.ghl, "POST", "/contacts/ghl_gone/notes", 400, missing).await;
    mount_ghl(&fakes.ghl, json!({"id": "ghl_found"}), json!([])).await;
    let (deps, map, _) = deps(&fakes);
    let link = ContactLink::new(LOCATION, "ghl_gone", "1451646073", LinkOrigin::CloudTalk);
    map.link(&link).await.unwrap();

    let call = json!({"call_id": 1002402487, "call_uuid": "44fe27cd-5268-4670-993e-01293c9f8833",
        "contact_id": 1451646073, "external_number": 393513416607u64, "agent_name": "Roberto",
        "direction": "incoming", "status": "answered", "duration": 125, "talking_time": 100});
    let route = "/api/cloudtalk-webhooks/call-ended";
    let (status, answer) =
        cloudtalk_event(&deps, EndpointId::CloudtalkCallEnded, route, &call).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["relinked"], 1);
    assert_eq!(answer["ghlContactId"], "ghl_found");
    let paths: Vec<String> = calls(&fakes.ghl).await.into_iter().map(|c| c.1).collect();
    assert_eq!(
        paths,
        [
            "/contacts/ghl_gone/notes",
            "/contacts/search/duplicate",
            "/contacts/ghl_found/notes"
        ]
    );
    let now = map.find_by_cloudtalk(LOCATION, "1451646073").await.unwrap();
    assert_eq!(now.unwrap().ghl_contact_id, "ghl_found");
    assert!(map
        .find_by_ghl(LOCATION, "ghl_gone")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_404_for_a_contact_found_by_search_is_not_healed() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    let gone = json!({"responseData": {"status": 404, "message": "Not found."}});
    Mock::given(method("PUT"))
        .and(path("/api/notes/add/1451646073.json"))
        .respond_with(ResponseTemplate::new(404).set_body_json(gone))
        .mount(&fakes.cloudtalk)
        .await;
    mount_cloudtalk(&fakes.cloudtalk, ct_row("1451646073", "+393501234567")).await;
    let (deps, _, queue) = deps(&fakes);

    let body = json!({"contact_id": "ghl_123456", "phone": "+393501234567",
        "note": {"body": "No answer"}, "location": {"id": LOCATION}});
    let (status, answer) = ghl_event(&deps, EndpointId::GhlNewNote, NEW_NOTE, &body).await;
    assert_eq!(status, 502, "{answer}");
    assert_eq!(answer["parked"], true);
    assert_eq!(queue.parked().len(), 1);
    let notes = received(&fakes.cloudtalk)
        .await
        .into_iter()
        .filter(|r| r.path.starts_with("/api/notes/add/"))
        .count();
    assert_eq!(notes, 1, "tried once, not relinked in a loop");
}

// --- 5. Keys that match what the sender means -------------------------------------------------

#[tokio::test]
async fn a_repeated_body_is_a_duplicate_for_two_hours_and_a_new_event_after() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let clock = Arc::new(ManualClock::starting_now());
    let mut backends = bridge::Backends::in_memory();
    let map = Arc::new(MemoryContactMap::new());
    backends.contacts = map.clone();
    let deps = Deps::build_with_clock(
        config(&fakes.cloudtalk, &fakes.ghl),
        backends,
        clock.clone(),
    )
    .unwrap();
    linked_mario(map.as_ref()).await;
    // A workflow body (no delivery id) and a Marketplace one (its `webhookId`).
    let workflow = json!({"contact_id": "ghl_123456", "phone": "+393501234567",
        "tags": "vip", "customData": {"tag": "vip"}, "location": {"id": LOCATION}});
    let marketplace = json!({"type": "ContactTagUpdate", "webhookId": "w-tag-1",
        "locationId": LOCATION, "id": "ghl_123456", "phone": "+393501234567", "tags": ["vip"]});
    let route = "/api/ghl-webhooks/new-tag";
    let send = |body: Value| {
        let deps = &deps;
        async move { ghl_event(deps, EndpointId::GhlNewTag, route, &body).await.1 }
    };
    let tag_writes = || async {
        received(&fakes.cloudtalk)
            .await
            .iter()
            .filter(|r| r.path == "/api/contacts/addTags/555.json")
            .count()
    };

    assert_eq!(send(workflow.clone()).await["result"], "applied");
    assert_eq!(send(marketplace.clone()).await["result"], "applied");
    clock.advance_ms(3_600_000);
    assert_eq!(
        send(workflow.clone()).await["duplicate"],
        true,
        "within the window"
    );
    assert_eq!(tag_writes().await, 2);

    clock.advance_ms(3_600_000 + 1_000);
    let again = send(workflow.clone()).await;
    assert_eq!(
        again["result"], "applied",
        "the same tag added again: {again}"
    );
    assert!(again.get("duplicate").is_none());
    assert_eq!(
        send(marketplace).await["duplicate"],
        true,
        "a delivery id is the same event for 7 days"
    );
    assert_eq!(tag_writes().await, 3);
}

// --- 6. One contact per phone -----------------------------------------------------------------

/// CloudTalk's bulk answer, late: the first event is still creating when the second arrives.
struct SlowBulk(BulkEcho);

impl wiremock::Respond for SlowBulk {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        self.0
            .respond(request)
            .set_delay(Duration::from_millis(800))
    }
}

#[tokio::test]
async fn two_ghl_contacts_sharing_a_phone_create_one_cloudtalk_contact() {
    let _serial = SERIAL.lock().await;
    if bridge_testkit::aws::aws_endpoint().is_none() {
        return;
    }
    let fakes = Fakes::start().await;
    Mock::given(method("POST"))
        .and(path("/api/bulk/contacts.json"))
        .respond_with(SlowBulk(BulkEcho { first_id: 9001 }))
        .mount(&fakes.cloudtalk)
        .await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let backends = dynamo_backends().await;
    let map = backends.contacts.clone();
    let deps = Arc::new(Deps::build(config(&fakes.cloudtalk, &fakes.ghl), backends).unwrap());
    let contact = |id: &str, name: &str| {
        json!({"contact": {"id": id, "name": name, "phone": "+39 350 123 4567",
            "locationId": LOCATION}})
    };
    let first = {
        let deps = deps.clone();
        let body = contact("ghl_mario", "Mario Rossi");
        tokio::spawn(async move {
            ghl_event(&deps, EndpointId::GhlNewContact, NEW_CONTACT, &body).await
        })
    };
    // The second arrives while the first is creating (the first's search is done).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = ghl_event(
        &deps,
        EndpointId::GhlNewContact,
        NEW_CONTACT,
        &contact("ghl_maria", "Maria Rossi"),
    )
    .await;
    let first = first.await.unwrap();

    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(second.0, 200, "{}", second.1);
    assert_eq!(first.1["cloudtalkContactId"], "9001");
    assert_eq!(first.1["contactCreated"], true);
    assert_eq!(
        second.1["cloudtalkContactId"], "9001",
        "the second acts on the same contact"
    );
    assert_eq!(second.1["contactCreated"], false);
    let creations = received(&fakes.cloudtalk)
        .await
        .iter()
        .filter(|r| r.path == "/api/bulk/contacts.json")
        .count();
    assert_eq!(creations, 1, "one CloudTalk contact for one phone");
    // The map stays one-to-one: the CloudTalk contact is linked to the first GHL contact.
    let linked = map.find_by_cloudtalk(LOCATION, "9001").await.unwrap();
    assert_eq!(linked.unwrap().ghl_contact_id, "ghl_mario");
    assert!(map
        .find_by_ghl(LOCATION, "ghl_maria")
        .await
        .unwrap()
        .is_none());
}

// --- 7. Partial data is not fatal -------------------------------------------------------------

#[tokio::test]
async fn an_invalid_extra_phone_or_email_is_skipped_and_named() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, _, _) = deps(&fakes);
    let body = json!({"type": "ContactCreate", "webhookId": "w-c-1", "locationId": LOCATION,
        "id": "ghl_777", "name": "Luca Neri", "phone": "+393401112233",
        "additionalPhones": ["ext. 12", "+39 340 111 2233"],
        "email": "luca@example.com", "additionalEmails": ["luca at work"]});

    let (status, answer) = ghl_event(&deps, EndpointId::GhlNewContact, NEW_CONTACT, &body).await;
    assert_eq!(status, 200, "{answer}");
    let skipped: Vec<&str> = answer["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped[0].starts_with("phone ") && skipped[1].starts_with("email "));
    let ct = received(&fakes.cloudtalk).await;
    let data = &ct.last().unwrap().body[0]["data"];
    assert_eq!(
        data["ContactNumber"],
        json!([{"public_number": "+393401112233"}])
    );
    assert_eq!(data["ContactEmail"], json!([{"email": "luca@example.com"}]));
}

// --- 8. Nothing accepted is dropped -----------------------------------------------------------

#[tokio::test]
async fn refusals_found_while_applying_are_parked_with_their_reason() {
    let _serial = SERIAL.lock().await;
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    let gone = json!({"responseData": {"status": 404, "message": "Not found."}});
    Mock::given(method("GET"))
        .and(path("/api/contacts/show/999.json"))
        .respond_with(ResponseTemplate::new(404).set_body_json(gone))
        .mount(&fakes.cloudtalk)
        .await;
    let no_tags = json!({"responseData": {"itemsCount": 0, "pageCount": 1, "data": []}});
    Mock::given(method("GET"))
        .and(path("/api/tags/index.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(no_tags))
        .mount(&fakes.cloudtalk)
        .await;
    let (mut deps, _, queue) = deps(&fakes);
    deps.config.campaign_stage_map = bridge::config::CampaignStageMap::parse(
        r#"{"completed":{"pipelineId":"pipe-1","stageId":"stage-done"}}"#,
    );

    let cases = [
        (
            // An unknown CloudTalk contact id, and nothing else to match by.
            EndpointId::CloudtalkCallEnded,
            json!({"call_id": 1, "contact_id": 999, "status": "answered"}),
            "CloudTalk has no contact with id 999",
        ),
        (
            // A campaign whose tag CloudTalk does not have.
            EndpointId::CloudtalkCampaignStatusChange,
            json!({"campaign_id": 301, "campaign_name": "Spring promo", "campaign_status": "completed"}),
            "Spring promo",
        ),
        (
            // A phone found unreadable only when resolving the contact.
            EndpointId::GhlNewContact,
            json!({"contact": {"id": "ghl_1", "phone": "+39 not a number"}}),
            "cannot be read",
        ),
    ];
    for (i, (id, body, why)) in cases.iter().enumerate() {
        let route = id.entry().route;
        let req = match id.entry().sender {
            bridge::registry::Sender::GoHighLevel => {
                post(route, &body.to_string(), Some(GHL_SECRET))
            }
            bridge::registry::Sender::CloudTalk => {
                post(route, &body.to_string(), Some(CLOUDTALK_SECRET))
            }
        };
        let res = handle(*id, &deps, req).await;
        let answer = response_json(&res);
        assert_eq!(res.status(), 422, "{id}: {answer}");
        assert_eq!(answer["parked"], true, "{id}: {answer}");
        let parked = queue.parked();
        assert_eq!(parked.len(), i + 1, "{id} is on the dead-letter queue");
        let (event, reason) = parked.last().unwrap();
        assert_eq!(event.endpoint, *id);
        assert!(reason.contains(why), "{id}: {reason}");
    }
}
