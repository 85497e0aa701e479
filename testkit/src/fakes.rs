//! `wiremock` fakes of CloudTalk and GoHighLevel, settings pointing at them, request builders,
//! and helpers to read what the fakes received.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use bridge::config::Settings;
use bridge::contact_map::{ContactMap, MemoryContactMap};
use bridge::Deps;
use bridge_contracts::Vendor;
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use wiremock::MockServer;

pub const GHL_SECRET: &str = "test-ghl-secret";
pub const CLOUDTALK_SECRET: &str = "test-cloudtalk-secret";
pub const CT_KEY_ID: &str = "ct-key-id";
pub const CT_KEY_SECRET: &str = "ct-key-secret";
pub const GHL_TOKEN: &str = "pit-test-token";
pub const LOCATION: &str = "loc-test";
/// The GHL user of CloudTalk agent 42 (Roberto Bianchi), by email, in the fakes.
pub const AGENT_USER: &str = "ghl-user-42";

pub fn config(cloudtalk: &MockServer, ghl: &MockServer) -> Settings {
    let vars: HashMap<&str, String> = HashMap::from([
        ("CLOUDTALK_API_BASE", format!("{}/api", cloudtalk.uri())),
        ("CLOUDTALK_AI_API_BASE", format!("{}/v1", cloudtalk.uri())),
        (
            "CLOUDTALK_ANALYTICS_API_BASE",
            format!("{}/analytics", cloudtalk.uri()),
        ),
        (
            "CLOUDTALK_PLATFORM_API_BASE",
            format!("{}/platform", cloudtalk.uri()),
        ),
        ("CLOUDTALK_API_KEY_ID", CT_KEY_ID.to_string()),
        ("CLOUDTALK_API_KEY_SECRET", CT_KEY_SECRET.to_string()),
        ("GHL_API_BASE", ghl.uri()),
        ("GHL_API_TOKEN", GHL_TOKEN.to_string()),
        ("GHL_LOCATION_ID", LOCATION.to_string()),
        (
            "GHL_WEBHOOK_SECRET",
            format!("{GHL_SECRET},next-ghl-secret"),
        ),
        ("CLOUDTALK_WEBHOOK_SECRET", CLOUDTALK_SECRET.to_string()),
        ("DEFAULT_PHONE_REGION", "IT".to_string()),
        ("UPSTREAM_TIMEOUT_MS", "2000".to_string()),
        ("UPSTREAM_RETRY_BUDGET_MS", "1500".to_string()),
        // Budgets wide enough that only the tests about them meet them.
        ("CLOUDTALK_RATE_PER_MIN", "60000".to_string()),
        ("GHL_RATE_PER_10S", "100000".to_string()),
    ]);
    Settings::from_lookup(|k| vars.get(k).cloned())
}

/// Both fakes. Their servers are not stopped when the `Fakes` go (they stop with the test
/// process): a `wiremock` server's drop waits for its mock set's lock, which a few suites
/// saw held forever once a server had served the contract guard, hanging the test; the suites
/// set no mock expectations for that drop to verify.
pub struct Fakes {
    pub cloudtalk: std::mem::ManuallyDrop<MockServer>,
    pub ghl: std::mem::ManuallyDrop<MockServer>,
}

impl Fakes {
    /// Both fakes, each checking every request against its vendor's published contract (see
    /// [`crate::contract`]).
    pub async fn start() -> Self {
        let fakes = Self {
            cloudtalk: std::mem::ManuallyDrop::new(MockServer::builder().start().await),
            ghl: std::mem::ManuallyDrop::new(MockServer::builder().start().await),
        };
        crate::contract::guard(&fakes.cloudtalk, Vendor::CloudTalk).await;
        crate::contract::guard(&fakes.ghl, Vendor::GoHighLevel).await;
        fakes
    }

    /// Forgets CloudTalk's mocks and requests (its contract stays).
    pub async fn reset_cloudtalk(&self) {
        crate::contract::reset(&self.cloudtalk, Vendor::CloudTalk).await;
    }

    /// Forgets GHL's mocks and requests (its contract stays).
    pub async fn reset_ghl(&self) {
        crate::contract::reset(&self.ghl, Vendor::GoHighLevel).await;
    }

    /// Takes back the contract violations these fakes recorded: for a test that sends a
    /// request the real API refuses on purpose, and checks the refusal.
    pub fn take_violations(&self) -> Vec<bridge_contracts::Violation> {
        let mut taken = bridge_contracts::take(&self.cloudtalk.uri());
        taken.extend(bridge_contracts::take(&self.ghl.uri()));
        taken
    }

    pub fn deps(&self, contacts: Arc<dyn ContactMap>) -> Deps {
        let mut backends = bridge::Backends::in_memory();
        backends.contacts = contacts;
        Deps::build(config(&self.cloudtalk, &self.ghl), backends).expect("deps")
    }

    /// Deps over in-memory backends, with handles on the map and the retry queue.
    pub fn deps_with_queue(
        &self,
    ) -> (
        Deps,
        Arc<MemoryContactMap>,
        Arc<bridge::retry_queue::MemoryRetryQueue>,
    ) {
        let map = Arc::new(MemoryContactMap::new());
        let queue = Arc::new(bridge::retry_queue::MemoryRetryQueue::new());
        let mut backends = bridge::Backends::in_memory();
        backends.contacts = map.clone();
        backends.retry_queue = queue.clone();
        (
            Deps::build(config(&self.cloudtalk, &self.ghl), backends).expect("deps"),
            map,
            queue,
        )
    }

    pub fn deps_with_memory_map(&self) -> (Deps, Arc<MemoryContactMap>) {
        let map = Arc::new(MemoryContactMap::new());
        (self.deps(map.clone()), map)
    }
}

/// A test whose requests broke a vendor's contract fails, whatever it asserted.
impl Drop for Fakes {
    fn drop(&mut self) {
        let broken = self.take_violations();
        if broken.is_empty() || std::thread::panicking() {
            return;
        }
        let list: Vec<String> = broken.iter().map(|v| format!("  - {v}")).collect();
        panic!(
            "{} request(s) broke a vendor's API contract:\n{}",
            broken.len(),
            list.join("\n")
        );
    }
}

pub fn post(path: &str, body: &str, secret: Option<&str>) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method("POST")
        .uri(format!("https://bridge.example.com{path}"))
        .header("content-type", "application/json");
    if let Some(secret) = secret {
        builder = builder.header("authorization", format!("Bearer {secret}"));
    }
    builder.body(Body::Text(body.to_string())).expect("request")
}

/// A POST of `body` signed as GoHighLevel signs its webhooks (`X-GHL-Signature`: Ed25519 over
/// the raw body, base64) with the PKCS#8 PEM key `private_pem`.
pub fn signed_post(path: &str, body: &str, private_pem: &str) -> Request {
    use base64::Engine;
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    use ed25519_dalek::Signer;
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(private_pem).expect("a PKCS#8 Ed25519 key");
    let signature =
        base64::engine::general_purpose::STANDARD.encode(key.sign(body.as_bytes()).to_bytes());
    let mut req = post(path, body, None);
    req.headers_mut().insert(
        "x-ghl-signature",
        signature.parse().expect("a header value"),
    );
    req
}

pub fn get(path: &str) -> Request {
    lambda_http::http::Request::builder()
        .method("GET")
        .uri(format!("https://bridge.example.com{path}"))
        .body(Body::Empty)
        .expect("request")
}

pub fn response_json(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).expect("JSON response body")
}

pub fn cloudtalk_basic_auth() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CT_KEY_ID}:{CT_KEY_SECRET}"))
    )
}

/// A request a fake received, reduced to what the assertions look at.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub authorization: Option<String>,
    pub version: Option<String>,
    pub body: Value,
    /// The body as sent (form-encoded bodies are not JSON).
    pub raw_body: String,
}

pub async fn received(server: &MockServer) -> Vec<Seen> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| Seen {
            method: r.method.to_string(),
            path: r.url.path().to_string(),
            query: r.url.query_pairs().into_owned().collect(),
            authorization: r
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            version: r
                .headers
                .get("version")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            body: serde_json::from_slice(&r.body).unwrap_or(Value::Null),
            raw_body: String::from_utf8_lossy(&r.body).into_owned(),
        })
        .collect()
}

/// Answers a CloudTalk bulk request the way CloudTalk does: one result per command, echoing
/// its `command_id`, with a new id for `add_*` actions.
pub struct BulkEcho {
    pub first_id: u64,
}

impl wiremock::Respond for BulkEcho {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let commands: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let results: Vec<Value> = commands
            .as_array()
            .map(|cmds| {
                cmds.iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let id = (self.first_id + i as u64).to_string();
                        let add = c["action"].as_str().unwrap_or("").starts_with("add_");
                        if add {
                            serde_json::json!({"command_id": c["command_id"], "status": 201, "data": {"id": id}})
                        } else {
                            serde_json::json!({"command_id": c["command_id"], "status": 200})
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        wiremock::ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"responseData": {"status": 200, "data": results}}))
    }
}

/// Mounts fake JSON answers, each `(method, path regex, status, body)`.
pub async fn mount_json(server: &MockServer, answers: Vec<(&str, &str, u16, Value)>) {
    use wiremock::matchers::{method, path_regex};
    use wiremock::{Mock, ResponseTemplate};
    for (verb, route, status, body) in answers {
        Mock::given(method(verb))
            .and(path_regex(route))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(server)
            .await;
    }
}

/// A row of CloudTalk's call history: an answered, recorded call started at `started_ms`
/// (UTC, as the company's time with offset 0), the contact `1451646073`.
pub fn history_call(started_ms: i64) -> Value {
    let at = |ms: i64| {
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
            .unwrap_or_default()
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    serde_json::json!({
        "Cdr": {"id": "1002409001", "billsec": "95", "type": "incoming",
            "public_external": "393513416607", "public_internal": "390212345678",
            "recorded": true, "is_voicemail": false, "user_id": "42", "talking_time": "80",
            "waiting_time": "15", "started_at": at(started_ms), "answered_at": at(started_ms + 15_000),
            "ended_at": at(started_ms + 95_000), "recording_link": "https://my.cloudtalk.io/r/play/901"},
        "Contact": {"id": "1451646073", "name": "Mario Rossi", "contact_numbers": ["393513416607"]},
        "Agent": {"id": "42", "firstname": "Roberto", "lastname": "Bianchi", "fullname": "Roberto Bianchi"}
    })
}

/// One page of CloudTalk's call history (`GET /calls/index.json`) holding `rows`.
pub fn history_page(rows: Vec<Value>) -> Value {
    serde_json::json!({"responseData": {"itemsCount": rows.len(), "pageCount": 1,
        "pageNumber": 1, "limit": 250, "data": rows}})
}

/// CloudTalk's call history answers `rows` (before the other CloudTalk mounts).
pub async fn mount_call_history(server: &MockServer, rows: Vec<Value>) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    Mock::given(method("GET"))
        .and(path("/api/calls/index.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(history_page(rows)))
        .with_priority(1)
        .mount(server)
        .await;
}

/// Mounts CloudTalk answers for every call the GHL → CloudTalk endpoints make. `search_rows`
/// is what `contacts/index.json` returns; created contacts get id `9001`.
pub async fn mount_cloudtalk(server: &MockServer, search_rows: Value) {
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::Mock;
    let rows = search_rows.as_array().map(Vec::len).unwrap_or(0);
    let index = json!({
        "responseData": {"itemsCount": rows, "pageCount": 1, "pageNumber": 1, "limit": 50, "data": search_rows}
    });
    let tagged =
        json!({"responseData": {"status": 200, "message": "Tags were sucessfully added."}});
    let note = json!({"responseData": {"status": 201, "data": {"id": "7001"}}});
    let activity = json!({"responseData": {"status": 201, "data": {"id": "8001"}}});
    let calls = json!({"responseData": {"itemsCount": 1, "pageCount": 1, "pageNumber": 1,
        "limit": 250, "data": [history_call(chrono::Utc::now().timestamp_millis() - 3_600_000)]}});
    // The agent of `history_call` (42), whose email is a GHL user's in `mount_ghl` (in
    // another case: agents match users without regard to case).
    let agents = json!({"responseData": {"itemsCount": "1", "pageCount": "1", "pageNumber": "1",
        "limit": "1000", "data": [{"Agent": {"id": "42", "firstname": "Roberto",
        "lastname": "Bianchi", "email": "Roberto.Bianchi@Example.com",
        "availability_status": "online"}}]}});
    // Conversation Intelligence: not ready for any call unless a test says otherwise.
    let not_ready = json!({"code": "NOT_FOUND", "message": "Call data not found"});
    let answers = vec![
        ("GET", r"^/v1/ai/calls/[^/]+/[a-z-]+$", 404, not_ready),
        ("GET", r"^/api/agents/index\.json$", 200, agents),
        (
            "POST",
            r"^/api/calls/create\.json$",
            200,
            json!({"responseData": {"status": 200}}),
        ),
        ("GET", r"^/api/calls/index\.json$", 200, calls),
        (
            "GET",
            r"^/api/blacklist/index\.json$",
            200,
            history_page(vec![]),
        ),
        (
            "PUT",
            r"^/api/blacklist/add\.json$",
            201,
            json!({"responseData": {"status": 201, "data": {"id": "950"}}}),
        ),
        (
            "DELETE",
            r"^/api/blacklist/delete/[^/]+\.json$",
            200,
            json!({"responseData": {"status": 200}}),
        ),
        ("GET", r"^/api/contacts/index\.json$", 200, index),
        ("PUT", r"^/api/contacts/addTags/[^/]+\.json$", 200, tagged),
        ("PUT", r"^/api/notes/add/[^/]+\.json$", 201, note),
        ("PUT", r"^/api/activity/add/[^/]+\.json$", 201, activity),
        // Texts: sent.
        (
            "POST",
            r"^/api/sms/send\.json$",
            200,
            json!({"responseData": {"success": true, "data": {"recipient": "+393331234567",
                "message": "sent", "sender": "+442039960000", "country_code": "IT"}}}),
        ),
        // Cue cards: shown, for every call.
        (
            "POST",
            r"^/platform/cuecards$",
            200,
            json!({"success": true}),
        ),
    ];
    mount_json(server, answers).await;
    Mock::given(method("POST"))
        .and(path("/api/bulk/contacts.json"))
        .respond_with(BulkEcho { first_id: 9001 })
        .mount(server)
        .await;
}

/// The contact the fake GoHighLevel returns for `GET /contacts/{id}`.
pub fn looked_up_contact() -> Value {
    serde_json::json!({"id": "ghl-looked-up", "locationId": LOCATION, "firstName": "Anna",
        "lastName": "Verdi", "phone": "+393331234567", "email": "anna@example.com",
        "companyName": "Verdi Srl", "tags": ["lead"]})
}

/// Mounts Conversation Intelligence answers that are ready for every call: the summary, smart
/// notes and overall sentiment CloudTalk's AI API documents (`summary` is the summary's text).
pub async fn mount_cloudtalk_ai(server: &MockServer, summary: &str) {
    use serde_json::json;
    let notes = json!({"callId": 1, "smartNotes": {
        "callDetails": {"callDateTime": "2026-11-28T10:00:00Z",
            "participants": [{"callerType": "agent", "name": "Roberto Bianchi"}]},
        "actionItems": ["Send the quote"], "decisionsMade": ["Spring offer"],
        "openQuestions": ["Delivery date?"]}});
    let answers = vec![
        (
            "GET",
            r"^/v1/ai/calls/[^/]+/summary$",
            200,
            json!({"callId": 1, "summary": summary}),
        ),
        ("GET", r"^/v1/ai/calls/[^/]+/smart-notes$", 200, notes),
        (
            "GET",
            r"^/v1/ai/calls/[^/]+/overall-sentiment$",
            200,
            json!({"callId": 1, "overallSentiment": "positive"}),
        ),
    ];
    for (verb, pattern, status, body) in answers {
        wiremock::Mock::given(wiremock::matchers::method(verb))
            .and(wiremock::matchers::path_regex(pattern))
            .respond_with(wiremock::ResponseTemplate::new(status).set_body_json(body))
            .with_priority(2)
            .mount(server)
            .await;
    }
}

/// Mounts GoHighLevel answers for every call the bridge makes to it. `duplicate` is what the
/// duplicate search finds (`null` for none); upserts create `ghl-new-1`; a contact read by id
/// is [`looked_up_contact`]; `opportunities` is what the opportunity search returns.
pub async fn mount_ghl(server: &MockServer, duplicate: Value, opportunities: Value) {
    use serde_json::json;
    let duplicate = json!({ "contact": duplicate });
    let by_id = json!({ "contact": looked_up_contact() });
    // An app install's code exchange: a location install of `loc_new456`.
    let granted = json!({"access_token": "granted-access", "refresh_token": "granted-refresh",
        "expires_in": 86399, "token_type": "Bearer", "userType": "Location",
        "locationId": "loc_new456", "companyId": "comp_789"});
    let upserted = json!({
        "new": true, "contact": {"id": "ghl-new-1", "locationId": LOCATION}, "traceId": "t"
    });
    let note = json!({"note": {"id": "note-1"}});
    let tags = json!({"tags": []});
    let updated = json!({"succeded": true, "contact": {}});
    let found = json!({"opportunities": opportunities, "meta": {"total": 0}});
    let opportunity = json!({"opportunity": {}});
    let created = json!({"opportunity": {"id": "opp-new"}});
    let no_values = json!({"customValues": []});
    let value = json!({"customValue": {"id": "cv-1"}});
    let values = "^/locations/[^/]+/customValues$";
    let users = json!({"users": [
        {"id": AGENT_USER, "name": "Roberto Bianchi", "email": "roberto.bianchi@example.com"},
        {"id": "ghl-user-other", "name": "Anna Verdi", "email": "anna.verdi@example.com"}]});
    let task = json!({"task": {"id": "task-1", "title": "Call back", "contactId": "ghl-1",
        "dueDate": "2026-12-01T10:15:00Z", "completed": false}});
    let completed = json!({"task": {"id": "task-1", "completed": true}});
    let answers = vec![
        ("GET", "^/users/$", 200, users),
        ("POST", "^/contacts/[^/]+/tasks$", 201, task),
        ("GET", "^/contacts/[^/]+/tasks$", 200, json!({"tasks": []})),
        (
            "PUT",
            "^/contacts/[^/]+/tasks/[^/]+/completed$",
            200,
            completed,
        ),
        ("GET", "^/contacts/search/duplicate$", 200, duplicate),
        ("POST", "^/contacts/upsert$", 200, upserted),
        ("POST", "^/contacts/[^/]+/notes$", 201, note),
        ("GET", "^/contacts/[^/]+/notes$", 200, json!({"notes": []})),
        ("POST", "^/contacts/[^/]+/tags$", 201, tags),
        (
            "POST",
            "^/contacts/search$",
            200,
            json!({"contacts": [], "total": 0}),
        ),
        ("POST", "^/oauth/token$", 200, granted),
        ("GET", "^/contacts/[^/]+$", 200, by_id),
        ("PUT", "^/contacts/[^/]+$", 200, updated),
        ("GET", "^/opportunities/search$", 200, found),
        ("PUT", "^/opportunities/[^/]+$", 200, opportunity),
        ("POST", "^/opportunities/$", 201, created),
        ("GET", values, 200, no_values),
        ("POST", values, 201, value.clone()),
        ("PUT", "^/locations/[^/]+/customValues/[^/]+$", 200, value),
    ];
    mount_json(server, answers).await;
    mount_ghl_conversations(server).await;
}

/// GoHighLevel's Conversations for texts: every message is pending, the contact's conversation
/// is `conv-1`, an inbound text is added as `msg-in-1`, and the conversation has no texts yet.
pub async fn mount_ghl_conversations(server: &MockServer) {
    use serde_json::json;
    let pending = json!({"id": "msg_sms_1", "type": 2, "messageType": "TYPE_SMS",
        "locationId": LOCATION, "contactId": "ghl_123456", "conversationId": "conv-1",
        "dateAdded": "2026-11-28T10:00:00.000Z", "direction": "outbound",
        "contentType": "text/plain", "status": "pending", "body": "Ciao"});
    let conversations = json!({"conversations": [{"id": "conv-1"}], "total": 1});
    let added = json!({"success": true, "conversationId": "conv-1", "messageId": "msg-in-1",
        "message": "Message added"});
    let none = json!({"lastMessageId": "", "nextPage": false, "messages": []});
    let answers = vec![
        ("GET", "^/conversations/search$", 200, conversations),
        ("POST", "^/conversations/messages/inbound$", 200, added),
        (
            "PUT",
            "^/conversations/messages/[^/]+/status$",
            200,
            json!({"success": true}),
        ),
        ("GET", "^/conversations/messages/[^/]+$", 200, pending),
        ("GET", "^/conversations/[^/]+/messages$", 200, none),
    ];
    mount_json(server, answers).await;
}

/// The (method, path) pairs a fake received, in order.
pub async fn calls(server: &MockServer) -> Vec<(String, String)> {
    received(server)
        .await
        .into_iter()
        .map(|s| (s.method, s.path))
        .collect()
}
