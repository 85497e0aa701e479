//! People, not ids, through the real handlers: CloudTalk agents as GHL users (by email, in any
//! case; the agent map winning), notes attributed to them, contacts the bridge creates owned by
//! them, and a callback task for every missed call, opened once and completed by a later
//! answered call.

use std::sync::Arc;

use bridge::retry_queue::MemoryRetryQueue;
use bridge::Deps;
use bridge_testkit::*;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Run {
    fakes: Fakes,
    deps: Deps,
}

/// The fakes with GHL's duplicate search answering `found` (null: no such contact).
async fn start(found: Value, configure: impl FnOnce(&mut bridge::config::Config)) -> Run {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, found, json!([])).await;
    let mut backends = bridge::Backends::in_memory();
    backends.retry_queue = Arc::new(MemoryRetryQueue::new());
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    configure(&mut settings.config);
    let deps = Deps::build(settings, backends).unwrap();
    Run { fakes, deps }
}

impl Run {
    async fn call_ended(&self, body: Value) -> Value {
        let res = bridge::route(
            &self.deps,
            post(
                "/api/cloudtalk-webhooks/call-ended",
                &body.to_string(),
                Some(CLOUDTALK_SECRET),
            ),
        )
        .await;
        let answer = response_json(&res);
        assert_eq!(res.status(), 200, "{answer}");
        answer
    }

    async fn ghl(&self, verb: &str, suffix: &str) -> Vec<Seen> {
        received(&self.fakes.ghl)
            .await
            .into_iter()
            .filter(|r| r.method == verb && r.path.ends_with(suffix))
            .collect()
    }

    async fn directory_reads(&self) -> usize {
        let agents = received(&self.fakes.cloudtalk)
            .await
            .iter()
            .filter(|r| r.path == "/api/agents/index.json")
            .count();
        agents + self.ghl("GET", "/users/").await.len()
    }
}

fn answered(call_id: u64, agent: Option<u64>) -> Value {
    let mut body = json!({"call_id": call_id, "contact_id": 1451646073,
        "external_number": "+393513416607", "direction": "incoming", "status": "answered",
        "talking_time": 60, "started_at": "2026-12-01T10:00:00Z"});
    if let Some(agent) = agent {
        body["agent_id"] = json!(agent);
    }
    body
}

fn missed(call_id: u64) -> Value {
    json!({"call_id": call_id, "contact_id": 1451646073, "contact_name": "Mario Rossi",
        "external_number": "+393513416607", "direction": "incoming", "status": "missed",
        "talking_time": 0, "waiting_time": 25, "agent_id": 42,
        "started_at": "2026-12-01T10:00:00Z"})
}

#[tokio::test]
async fn an_agent_is_the_ghl_user_of_the_same_email_in_any_case() {
    let _serial = SERIAL.lock().await;
    let run = start(json!({"id": "ghl-found"}), |_| {}).await;
    run.call_ended(answered(5001, Some(42))).await;
    let notes = run.ghl("POST", "/notes").await;
    assert_eq!(notes[0].body["userId"], AGENT_USER, "{}", notes[0].body);
    let text = notes[0].body["body"].as_str().unwrap();
    assert!(
        text.contains("Agent: Roberto Bianchi"),
        "the agent's name, not an id: {text}"
    );
    assert_eq!(run.directory_reads().await, 2, "agents and users, once");
    // Warm: a known agent costs no upstream call.
    let before = received(&run.fakes.ghl).await.len() + received(&run.fakes.cloudtalk).await.len();
    run.call_ended(answered(5002, Some(42))).await;
    let after = received(&run.fakes.ghl).await.len() + received(&run.fakes.cloudtalk).await.len();
    assert_eq!(run.directory_reads().await, 2);
    assert_eq!(
        after - before,
        1,
        "the note only (the contact is linked by now)"
    );
}

#[tokio::test]
async fn the_agent_map_wins_over_the_email() {
    let _serial = SERIAL.lock().await;
    let run = start(json!({"id": "ghl-found"}), |c| {
        c.people.agent_map = [("42".to_string(), "ghl-user-chosen".to_string())].into();
    })
    .await;
    run.call_ended(answered(5003, Some(42))).await;
    let notes = run.ghl("POST", "/notes").await;
    assert_eq!(notes[0].body["userId"], "ghl-user-chosen");
}

#[tokio::test]
async fn an_unknown_agent_is_not_an_error_and_is_looked_up_at_most_every_ten_minutes() {
    let _serial = SERIAL.lock().await;
    let run = start(json!({"id": "ghl-found"}), |_| {}).await;
    let (_guard, logs) = capture_logs();
    run.call_ended(answered(5004, Some(777))).await;
    run.call_ended(answered(5005, Some(777))).await;
    let notes = run.ghl("POST", "/notes").await;
    assert_eq!(notes.len(), 2);
    assert!(notes.iter().all(|n| n.body.get("userId").is_none()));
    assert!(notes[0].body["body"]
        .as_str()
        .unwrap()
        .contains("agent #777"));
    assert_eq!(
        run.directory_reads().await,
        2,
        "one refresh for both events"
    );
    // The fakes' agents all have users: nothing to report; no error line either.
    assert!(!logs
        .lines()
        .iter()
        .any(|l| l["level"] == "ERROR" || l["fields"]["error"].is_string()));
}

#[tokio::test]
async fn an_agent_with_no_ghl_user_is_logged_once_per_refresh() {
    let _serial = SERIAL.lock().await;
    let run = start(json!({"id": "ghl-found"}), |_| {}).await;
    Mock::given(method("GET"))
        .and(path("/api/agents/index.json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"responseData": {
            "itemsCount": "2", "pageCount": "1", "pageNumber": "1", "limit": "1000", "data": [
            {"Agent": {"id": "42", "firstname": "Roberto", "lastname": "Bianchi",
                "email": "ROBERTO.BIANCHI@example.com"}},
            {"Agent": {"id": "45", "firstname": "Lucia", "lastname": "Esposito",
                "email": "lucia@elsewhere.example"}}]}})),
        )
        .with_priority(1)
        .mount(&run.fakes.cloudtalk)
        .await;
    let (_guard, logs) = capture_logs();
    run.call_ended(answered(5006, Some(45))).await;
    run.call_ended(answered(5007, Some(42))).await;
    let unmatched: Vec<Value> = logs
        .lines()
        .into_iter()
        .filter(|l| l["fields"]["agents_without_user"].is_number())
        .collect();
    assert_eq!(unmatched.len(), 1, "once per refresh");
    assert_eq!(unmatched[0]["fields"]["agent_ids"], "45");
    let notes = run.ghl("POST", "/notes").await;
    assert!(notes[0].body.get("userId").is_none());
    assert_eq!(notes[1].body["userId"], AGENT_USER);
}

#[tokio::test]
async fn a_contact_created_for_a_call_is_owned_by_the_agent_and_an_owner_is_never_replaced() {
    let _serial = SERIAL.lock().await;
    let run = start(json!(null), |_| {}).await;
    run.call_ended(answered(5008, Some(42))).await;
    let upserts = run.ghl("POST", "/contacts/upsert").await;
    assert_eq!(
        upserts[0].body["assignedTo"], AGENT_USER,
        "{}",
        upserts[0].body
    );

    let owned = start(
        json!({"id": "ghl-owned", "assignedTo": "ghl-user-owner"}),
        |_| {},
    )
    .await;
    owned.call_ended(answered(5009, Some(42))).await;
    assert!(owned.ghl("POST", "/contacts/upsert").await.is_empty());
    let writes = received(&owned.fakes.ghl).await;
    assert!(
        writes.iter().all(|r| r.body.get("assignedTo").is_none()),
        "the owner is left as it is"
    );

    let off = start(json!(null), |c| c.people.assign_owner = false).await;
    off.call_ended(answered(5010, Some(42))).await;
    let upserts = off.ghl("POST", "/contacts/upsert").await;
    assert!(upserts[0].body.get("assignedTo").is_none());
}

#[tokio::test]
async fn a_missed_call_opens_one_task_whatever_way_it_arrives_again() {
    let _serial = SERIAL.lock().await;
    let run = start(
        json!({"id": "ghl-found", "assignedTo": "ghl-user-owner"}),
        |_| {},
    )
    .await;
    let answer = run.call_ended(missed(9100)).await;
    assert_eq!(answer["ghlTaskId"], "task-1", "{answer}");
    let tasks = run.ghl("POST", "/tasks").await;
    assert_eq!(tasks.len(), 1);
    let task = &tasks[0].body;
    assert_eq!(
        task["assignedTo"], "ghl-user-owner",
        "the contact's owner first"
    );
    assert_eq!(task["dueDate"], "2026-12-01T10:15:00Z");
    assert_eq!(
        task["title"],
        "Call back Mario Rossi (missed call 2026-12-01 10:00 UTC)"
    );
    let body = task["body"].as_str().unwrap();
    assert!(
        body.contains("+393513416607") && body.contains("Waited 25s"),
        "{body}"
    );
    assert!(body.contains("[ref "), "{body}");
    // A redelivery, then the same call from reconciliation's history.
    let again = run.call_ended(missed(9100)).await;
    assert_eq!(again["duplicate"], true);
    let mut row = history_call(chrono::Utc::now().timestamp_millis() - 30 * 60_000);
    row["Cdr"]["id"] = json!("9100");
    row["Cdr"]["talking_time"] = json!("0");
    row["Cdr"]["billsec"] = json!("0");
    row["Cdr"]["recorded"] = json!(false);
    row["Cdr"].as_object_mut().unwrap().remove("answered_at");
    mount_call_history(&run.fakes.cloudtalk, vec![row]).await;
    let summary = bridge::reconcile::handle(&run.deps, json!({}), None)
        .await
        .unwrap();
    assert!(
        summary["already_applied"].as_u64().unwrap() >= 1,
        "{summary}"
    );
    assert_eq!(
        run.ghl("POST", "/tasks").await.len(),
        1,
        "one task per call"
    );
}

#[tokio::test]
async fn the_agent_gets_the_task_when_the_contact_has_no_owner() {
    let _serial = SERIAL.lock().await;
    let run = start(json!({"id": "ghl-found"}), |_| {}).await;
    run.call_ended(missed(9101)).await;
    let tasks = run.ghl("POST", "/tasks").await;
    assert_eq!(tasks[0].body["assignedTo"], AGENT_USER);
}

#[tokio::test]
async fn a_later_answered_call_completes_the_callback_task() {
    let _serial = SERIAL.lock().await;
    let run = start(json!({"id": "ghl-found"}), |_| {}).await;
    run.call_ended(missed(9102)).await;
    let outbound = json!({"call_id": 9103, "contact_id": 1451646073,
        "external_number": "+393513416607", "direction": "outgoing", "status": "answered",
        "talking_time": 45, "agent_id": 42, "started_at": "2026-12-01T10:20:00Z"});
    let answer = run.call_ended(outbound).await;
    assert_eq!(answer["callbackTasksClosed"], 1, "{answer}");
    let completed = run.ghl("PUT", "/completed").await;
    assert_eq!(completed.len(), 1);
    assert_eq!(
        completed[0].path,
        "/contacts/ghl-found/tasks/task-1/completed"
    );
    assert_eq!(completed[0].body, json!({"completed": true}));
    let notes = run.ghl("POST", "/notes").await;
    let closing = notes.last().unwrap().body["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        closing.contains("callback task(s) completed: call 9103 answered"),
        "{closing}"
    );
    // Closed once: the next answered call has nothing left to close.
    let answer = run.call_ended(answered(9104, Some(42))).await;
    assert!(answer.get("callbackTasksClosed").is_none(), "{answer}");
    assert_eq!(run.ghl("PUT", "/completed").await.len(), 1);
}

#[tokio::test]
async fn tasks_and_their_closing_can_be_switched_off() {
    let _serial = SERIAL.lock().await;
    let run = start(json!({"id": "ghl-found"}), |c| {
        c.people.missed_call_tasks = false;
    })
    .await;
    run.call_ended(missed(9105)).await;
    assert!(run.ghl("POST", "/tasks").await.is_empty());

    let run = start(json!({"id": "ghl-found"}), |c| {
        c.people.close_callback_tasks = false;
    })
    .await;
    run.call_ended(missed(9106)).await;
    run.call_ended(answered(9107, Some(42))).await;
    assert_eq!(run.ghl("POST", "/tasks").await.len(), 1);
    assert!(run.ghl("PUT", "/completed").await.is_empty());
}
