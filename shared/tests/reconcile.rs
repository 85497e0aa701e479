//! Reconciliation through the real code: the `reconcile` handler reads `wiremock` fakes of
//! CloudTalk's call history and GHL's contact search, applies what the webhooks missed through
//! the endpoints' handlers under the webhooks' keys, and keeps its checkpoints in the state
//! store.

use std::sync::Arc;

use bridge::clock::{Clock, ManualClock};
use bridge::contact_map::{ContactLink, ContactMap, LinkOrigin, MemoryContactMap};
use bridge::pipeline::handle;
use bridge::{Deps, EndpointId};
use bridge_testkit::*;
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The cases run one at a time: a case that captures the log lines must not share the
/// process's tracing callsites with cases running without a subscriber.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MINUTE: i64 = 60_000;

/// A call of the history: `history_call` with its own id and start.
fn call(id: &str, started_ms: i64) -> Value {
    let mut row = history_call(started_ms);
    row["Cdr"]["id"] = json!(id);
    row
}

struct Run {
    fakes: Fakes,
    deps: Deps,
    clock: Arc<ManualClock>,
    map: Arc<MemoryContactMap>,
}

/// Deps on the fakes with a hand-moved clock, the test configuration changed by `configure`.
async fn start(configure: impl FnOnce(&mut bridge::config::Config)) -> Run {
    let fakes = Fakes::start().await;
    let clock = Arc::new(ManualClock::starting_now());
    let map = Arc::new(MemoryContactMap::new());
    let mut backends = bridge::Backends::in_memory();
    backends.contacts = map.clone();
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.config.upstream_retry_budget = std::time::Duration::from_millis(300);
    configure(&mut settings.config);
    let deps = Deps::build_with_clock(settings, backends, clock.clone()).unwrap();
    Run {
        fakes,
        deps,
        clock,
        map,
    }
}

impl Run {
    async fn reconcile(&self) -> Value {
        bridge::reconcile::handle(&self.deps, json!({}), None)
            .await
            .unwrap_or_else(|e| panic!("reconcile failed: {e}"))
    }

    async fn ghl_notes(&self) -> Vec<String> {
        received(&self.fakes.ghl)
            .await
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/notes"))
            .map(|r| r.body["body"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

fn pass<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["passes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pass"] == name)
        .unwrap()
}

#[tokio::test]
async fn a_call_whose_webhook_never_came_is_applied_once_and_its_late_webhook_is_a_duplicate() {
    let _serial = SERIAL.lock().await;
    let run = start(|_| {}).await;
    let started = run.clock.now_ms() - 30 * MINUTE;
    mount_call_history(&run.fakes.cloudtalk, vec![call("1002409001", started)]).await;
    mount_cloudtalk(&run.fakes.cloudtalk, json!([])).await;
    mount_ghl(&run.fakes.ghl, json!({"id": "ghl-1"}), json!([])).await;

    let summary = run.reconcile().await;
    let calls = pass(&summary, "calls");
    assert_eq!(calls["scanned"], 1, "{summary}");
    assert_eq!(calls["applied"], 2, "the call and its recording: {summary}");
    let notes = run.ghl_notes().await;
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].starts_with("[CloudTalk] Call ended - Outcome: answered"));
    assert!(notes[0].contains("Call ID: 1002409001"));
    assert!(notes[1]
        .starts_with("[CloudTalk] Call recording available: https://my.cloudtalk.io/r/play/901"));

    // The webhook arrives late, with the call id and a uuid: a duplicate, nothing written.
    let webhook = json!({"call_id": 1002409001, "call_uuid": "9f1c2d3e-late", "contact_id": 1451646073,
        "external_number": "393513416607", "status": "answered", "talking_time": 80});
    let req = post(
        "/api/cloudtalk-webhooks/call-ended",
        &webhook.to_string(),
        Some(CLOUDTALK_SECRET),
    );
    let answer = response_json(&handle(EndpointId::CloudtalkCallEnded, &run.deps, req).await);
    assert_eq!(answer["duplicate"], true, "{answer}");
    // A second run finds both applied.
    run.clock.advance_ms(15 * MINUTE);
    let again = run.reconcile().await;
    assert_eq!(pass(&again, "calls")["already_applied"], 2, "{again}");
    assert_eq!(run.ghl_notes().await.len(), 2, "exactly once");
}

#[tokio::test]
async fn a_call_its_webhook_applied_is_not_applied_again() {
    let _serial = SERIAL.lock().await;
    let run = start(|_| {}).await;
    let started = run.clock.now_ms() - 30 * MINUTE;
    let mut row = call("1002409001", started);
    row["Cdr"]["recorded"] = json!(false);
    mount_call_history(&run.fakes.cloudtalk, vec![row]).await;
    mount_cloudtalk(&run.fakes.cloudtalk, json!([])).await;
    mount_ghl(&run.fakes.ghl, json!({"id": "ghl-1"}), json!([])).await;
    let webhook = json!({"call_id": "1002409001", "contact_id": 1451646073,
        "external_number": "393513416607", "status": "answered", "talking_time": 80});
    let req = post(
        "/api/cloudtalk-webhooks/call-ended",
        &webhook.to_string(),
        Some(CLOUDTALK_SECRET),
    );
    let res = handle(EndpointId::CloudtalkCallEnded, &run.deps, req).await;
    assert_eq!(res.status(), 200);

    let summary = run.reconcile().await;
    let calls = pass(&summary, "calls");
    assert_eq!(calls["already_applied"], 1, "{summary}");
    assert_eq!(
        calls["applied"], 0,
        "an unrecorded call has no recording step"
    );
    assert_eq!(run.ghl_notes().await.len(), 1);
}

#[tokio::test]
async fn a_run_that_stops_mid_page_resumes_without_loss_or_duplicates() {
    let _serial = SERIAL.lock().await;
    let run = start(|c| c.reconcile_lookback_hours = 1).await;
    let now = run.clock.now_ms();
    let rows = (1..=3)
        .map(|i| {
            let mut row = call(&format!("100240900{i}"), now - (50 - 10 * i) * MINUTE);
            row["Cdr"]["recorded"] = json!(false);
            row
        })
        .collect();
    mount_call_history(&run.fakes.cloudtalk, rows).await;
    mount_cloudtalk(&run.fakes.cloudtalk, json!([])).await;
    // GHL is down for the second call's note, for a while.
    Mock::given(method("POST"))
        .and(path("/contacts/ghl-1/notes"))
        .and(body_string_contains("Call ID: 1002409002"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"message": "unavailable"})))
        .up_to_n_times(20)
        .with_priority(1)
        .mount(&run.fakes.ghl)
        .await;
    mount_ghl(&run.fakes.ghl, json!({"id": "ghl-1"}), json!([])).await;

    let first = bridge::reconcile::handle(&run.deps, json!({}), None).await;
    let failed = first.expect_err("the pass stops on the outage, and the run says so");
    assert!(failed.to_string().contains("1002409002"), "{failed}");
    let tried = run.ghl_notes().await;
    assert_eq!(
        tried.len(),
        2,
        "the first call is applied, the second refused: {tried:?}"
    );
    assert!(
        tried[1].contains("Call ID: 1002409002"),
        "and the third never tried"
    );
    let checkpoint = run.deps.state.get_value("reconcile#calls").await.unwrap();
    assert_eq!(
        checkpoint, None,
        "the slice was not applied in full, so the checkpoint did not move"
    );

    // GHL is back: the next run repeats the slice.
    run.fakes.reset_ghl().await;
    mount_ghl(&run.fakes.ghl, json!({"id": "ghl-1"}), json!([])).await;
    run.clock.advance_ms(15 * MINUTE);
    let second = run.reconcile().await;
    let calls = pass(&second, "calls");
    assert_eq!(calls["already_applied"], 1, "{second}");
    assert_eq!(calls["applied"], 2, "{second}");
    let notes = run.ghl_notes().await;
    let ids: Vec<&str> = notes
        .iter()
        .filter_map(|n| n.split("Call ID: ").nth(1))
        .collect();
    assert_eq!(ids, ["1002409002", "1002409003"], "each call once");
}

#[tokio::test]
async fn the_window_is_read_in_the_company_time_zone_and_overlaps_the_last_run() {
    let _serial = SERIAL.lock().await;
    let run = start(|c| {
        c.cloudtalk_utc_offset = Some("+01:00".into());
        c.reconcile_lookback_hours = 1;
    })
    .await;
    let now = run.clock.now_ms();
    let rome = bridge::reconcile::company_time::parse_offset("+01:00").unwrap();
    // The history speaks Rome time: this call started 20 minutes ago.
    let mut row = call("1002409001", 0);
    let local = |ms: i64| bridge::reconcile::company_time::format(ms, rome);
    row["Cdr"]["started_at"] = json!(local(now - 20 * MINUTE));
    row["Cdr"]["ended_at"] = json!(local(now - 18 * MINUTE));
    row["Cdr"]["recorded"] = json!(false);
    mount_call_history(&run.fakes.cloudtalk, vec![row]).await;
    mount_cloudtalk(&run.fakes.cloudtalk, json!([])).await;
    mount_ghl(&run.fakes.ghl, json!({"id": "ghl-1"}), json!([])).await;

    let summary = run.reconcile().await;
    assert_eq!(pass(&summary, "calls")["applied"], 1, "{summary}");
    let first = received(&run.fakes.cloudtalk).await;
    let asked = &first
        .iter()
        .find(|r| r.path == "/api/calls/index.json")
        .unwrap()
        .query;
    assert_eq!(
        asked["date_from"],
        local(now - 60 * MINUTE),
        "the lookback, in Rome time"
    );
    let note = &run.ghl_notes().await[0];
    assert!(
        note.contains(&bridge::reconcile::company_time::rfc3339(now - 18 * MINUTE)),
        "the note's time is the call's end in UTC: {note}"
    );

    // The next run starts 15 minutes before where this one stopped (2 minutes before now).
    run.fakes.reset_cloudtalk().await;
    mount_call_history(&run.fakes.cloudtalk, vec![]).await;
    run.clock.advance_ms(15 * MINUTE);
    run.reconcile().await;
    let second = received(&run.fakes.cloudtalk).await;
    assert_eq!(
        second[0].query["date_from"],
        local(now - 2 * MINUTE - 15 * MINUTE)
    );
}

fn searched(id: &str, tags: &[&str], updated_ms: i64) -> Value {
    let at = bridge::reconcile::company_time::rfc3339(updated_ms);
    json!({"id": id, "locationId": LOCATION, "firstName": "Mario", "lastName": "Rossi",
        "phone": "+393501234567", "email": "mario@example.com", "tags": tags,
        "dateUpdated": at, "searchAfter": [updated_ms, id]})
}

async fn mount_search(server: &MockServer, contacts: Vec<Value>) {
    bridge_testkit::contract::reset(server, bridge_testkit::contract::Vendor::GoHighLevel).await;
    Mock::given(method("POST"))
        .and(path("/contacts/search"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"contacts": contacts, "total": 1})),
        )
        .mount(server)
        .await;
}

/// The tags CloudTalk was asked to append to contact 1451646073, call by call.
async fn tag_writes(cloudtalk: &MockServer) -> Vec<Value> {
    received(cloudtalk)
        .await
        .into_iter()
        .filter(|r| r.path == "/api/contacts/addTags/1451646073.json")
        .map(|r| r.body["tags"].clone())
        .collect()
}

#[tokio::test]
async fn contacts_new_to_the_map_are_linked_and_only_added_tags_are_appended() {
    let _serial = SERIAL.lock().await;
    let run = start(|_| {}).await;
    mount_call_history(&run.fakes.cloudtalk, vec![]).await;
    mount_cloudtalk(
        &run.fakes.cloudtalk,
        json!([{"Contact": {"id": "1451646073", "name": "M. Rossi"},
            "ContactNumber": {"public_number": "393501234567"}, "ContactEmail": {"email": null}}]),
    )
    .await;
    let now = run.clock.now_ms();

    // New to the map: found by phone in CloudTalk, linked, its tags appended.
    mount_search(
        &run.fakes.ghl,
        vec![searched("ghl_123456", &["lead"], now - MINUTE)],
    )
    .await;
    let summary = run.reconcile().await;
    assert_eq!(pass(&summary, "contacts")["applied"], 1, "{summary}");
    let link = run.map.find_by_ghl(LOCATION, "ghl_123456").await.unwrap();
    assert_eq!(link.unwrap().cloudtalk_contact_id, "1451646073");
    assert_eq!(tag_writes(&run.fakes.cloudtalk).await, [json!(["lead"])]);
    let body = &received(&run.fakes.ghl).await[0].body;
    assert_eq!(
        body["sort"],
        json!([{"field": "dateUpdated", "direction": "asc"}])
    );
    assert!(
        body["filters"][0]["value"]["gte"].is_string(),
        "ISO by default: {body}"
    );

    // A tag added in GHL since: only it is appended.
    run.clock.advance_ms(15 * MINUTE);
    mount_search(
        &run.fakes.ghl,
        vec![searched("ghl_123456", &["lead", "vip"], now + 5 * MINUTE)],
    )
    .await;
    let summary = run.reconcile().await;
    assert_eq!(pass(&summary, "contacts")["applied"], 1, "{summary}");
    assert_eq!(
        tag_writes(&run.fakes.cloudtalk).await,
        [json!(["lead"]), json!(["vip"])]
    );

    // A tag removed in GHL: nothing is written, nothing removed.
    run.clock.advance_ms(15 * MINUTE);
    mount_search(
        &run.fakes.ghl,
        vec![searched("ghl_123456", &["lead"], now + 20 * MINUTE)],
    )
    .await;
    let summary = run.reconcile().await;
    assert_eq!(
        pass(&summary, "contacts")["already_applied"],
        1,
        "{summary}"
    );
    assert_eq!(tag_writes(&run.fakes.cloudtalk).await.len(), 2);
    let removals = received(&run.fakes.cloudtalk)
        .await
        .into_iter()
        .filter(|r| r.path.contains("removeTags"))
        .count();
    assert_eq!(removals, 0);
}

#[tokio::test]
async fn a_contact_already_linked_from_cloudtalk_is_not_created_again() {
    let _serial = SERIAL.lock().await;
    let run = start(|c| c.ghl_search_dates_as_epoch_ms = true).await;
    mount_call_history(&run.fakes.cloudtalk, vec![]).await;
    mount_cloudtalk(&run.fakes.cloudtalk, json!([])).await;
    let link = ContactLink::new(LOCATION, "ghl_123456", "555", LinkOrigin::CloudTalk);
    run.map.link(&link).await.unwrap();
    let now = run.clock.now_ms();
    mount_search(
        &run.fakes.ghl,
        vec![searched("ghl_123456", &[], now - MINUTE)],
    )
    .await;

    let summary = run.reconcile().await;
    assert_eq!(
        pass(&summary, "contacts")["already_applied"],
        1,
        "{summary}"
    );
    let writes = received(&run.fakes.cloudtalk)
        .await
        .into_iter()
        .filter(|r| r.method != "GET")
        .count();
    assert_eq!(writes, 0);
    let body = &received(&run.fakes.ghl).await[0].body;
    assert!(
        body["filters"][0]["value"]["gte"].is_i64(),
        "epoch ms when configured: {body}"
    );
}

#[tokio::test]
async fn each_run_logs_one_summary_line_and_a_stalled_pass_shows_its_lag() {
    let _serial = SERIAL.lock().await;
    let run = start(|_| {}).await;
    mount_call_history(&run.fakes.cloudtalk, vec![]).await;
    mount_cloudtalk(&run.fakes.cloudtalk, json!([])).await;
    mount_ghl(&run.fakes.ghl, json!(null), json!([])).await;
    let (_guard, logs) = capture_logs();

    run.reconcile().await;
    // Two hours later CloudTalk's history is down.
    run.clock.advance_ms(120 * MINUTE);
    run.fakes.reset_cloudtalk().await;
    Mock::given(method("GET"))
        .and(path("/api/calls/index.json"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "down"})))
        .mount(&run.fakes.cloudtalk)
        .await;
    let failed = bridge::reconcile::handle(&run.deps, json!({}), None).await;
    assert!(failed.is_err());

    let lines: Vec<Value> = logs
        .lines()
        .into_iter()
        .filter(|l| l["fields"]["message"] == "reconcile")
        .collect();
    assert_eq!(lines.len(), 2, "one line a run");
    for field in [
        "scanned",
        "applied",
        "already_applied",
        "failed",
        "lag_seconds",
    ] {
        assert!(
            lines[1]["fields"][field].is_number(),
            "{field}: {}",
            lines[1]
        );
    }
    assert_eq!(lines[0]["fields"]["lag_seconds"], 0);
    assert_eq!(lines[1]["fields"]["lag_seconds"], 7200, "{}", lines[1]);
    assert_eq!(lines[1]["fields"]["run_failed"], true);
}

/// Deps in agency mode with a hand-moved clock and the tenant `loc_t` saved with its own
/// CloudTalk key and GHL token; the state store is returned to read the checkpoints.
async fn start_with_a_tenant() -> (
    Fakes,
    Deps,
    Arc<ManualClock>,
    Arc<bridge::state::MemoryStateStore>,
) {
    use bridge::tenants::registry::private_token_tenant;
    use bridge::tenants::{MemoryTenantStore, TenantSecrets};
    let fakes = Fakes::start().await;
    let clock = Arc::new(ManualClock::starting_now());
    let state = Arc::new(bridge::state::MemoryStateStore::new());
    let mut backends = bridge::Backends::in_memory();
    backends.tenants = Some(Arc::new(MemoryTenantStore::new()));
    backends.state = state.clone();
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.secrets.tenant_seal_key = Some("test-seal-key".into());
    let deps = Deps::build_with_clock(settings, backends, clock.clone()).unwrap();
    let tenant = private_token_tenant(
        "loc_t",
        "ct-key-t",
        TenantSecrets {
            cloudtalk_key_secret: Some("ct-secret-t".into()),
            ghl_access_token: Some("pit-t".into()),
            ..TenantSecrets::default()
        },
    );
    deps.tenants
        .as_ref()
        .unwrap()
        .save(&tenant, None)
        .await
        .unwrap();
    (fakes, deps, clock, state)
}

/// The same call id in both CloudTalk accounts, each history answering only its own key:
/// two calls, one per tenant.
async fn mount_the_same_call_in_both_accounts(server: &MockServer, started: i64) {
    use base64::Engine;
    use wiremock::matchers::header;
    let basic = |pair: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    for pair in [
        "ct-key-t:ct-secret-t",
        &format!("{CT_KEY_ID}:{CT_KEY_SECRET}"),
    ] {
        let mut row = call("1002409001", started);
        row["Cdr"]["recorded"] = json!(false);
        Mock::given(method("GET"))
            .and(path("/api/calls/index.json"))
            .and(header("authorization", basic(pair).as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(history_page(vec![row])))
            .with_priority(1)
            .mount(server)
            .await;
    }
}

/// Each tenant's note and contact search went to GHL under its own token.
async fn assert_each_tenant_wrote_with_its_own_token(ghl: &MockServer) {
    let notes: Vec<Seen> = received(ghl)
        .await
        .into_iter()
        .filter(|r| r.path.ends_with("/notes"))
        .collect();
    let tokens: Vec<&str> = notes
        .iter()
        .filter_map(|r| r.authorization.as_deref())
        .collect();
    assert_eq!(tokens.len(), 2, "{notes:?}");
    assert!(tokens.contains(&"Bearer pit-t"), "{tokens:?}");
    assert!(tokens.contains(&format!("Bearer {GHL_TOKEN}").as_str()));
    let searches: Vec<String> = received(ghl)
        .await
        .into_iter()
        .filter(|r| r.path == "/contacts/search/duplicate")
        .map(|r| {
            format!(
                "{} {}",
                r.query["locationId"],
                r.authorization.unwrap_or_default()
            )
        })
        .collect();
    assert!(
        searches.contains(&"loc_t Bearer pit-t".to_string()),
        "{searches:?}"
    );
    assert!(!searches
        .iter()
        .any(|s| s.starts_with("loc_t") && !s.ends_with("pit-t")));
}

#[tokio::test]
async fn each_tenant_is_reconciled_with_its_own_accounts_keys_and_checkpoints() {
    let _serial = SERIAL.lock().await;
    let (fakes, deps, clock, state) = start_with_a_tenant().await;
    mount_the_same_call_in_both_accounts(&fakes.cloudtalk, clock.now_ms() - 30 * MINUTE).await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!({"id": "ghl-1"}), json!([])).await;

    let summary = bridge::reconcile::handle(&deps, json!({}), None)
        .await
        .unwrap_or_else(|e| panic!("reconcile failed: {e}"));
    let runs = summary["runs"].as_array().expect("one run per tenant");
    assert_eq!(runs.len(), 2, "{summary}");
    assert_eq!(runs[1]["tenant"], "loc_t", "{summary}");
    assert_eq!(summary["applied"], 2, "the call in each account: {summary}");
    assert_each_tenant_wrote_with_its_own_token(&fakes.ghl).await;
    // Each tenant keeps its own checkpoint.
    use bridge::state::StateStore;
    assert!(state.get_value("reconcile#calls").await.unwrap().is_some());
    assert!(state
        .get_value("reconcile#calls#loc_t")
        .await
        .unwrap()
        .is_some());
    // The next run finds both applied.
    clock.advance_ms(15 * MINUTE);
    let again = bridge::reconcile::handle(&deps, json!({}), None)
        .await
        .unwrap();
    assert_eq!(again["already_applied"], 2, "{again}");
    assert_eq!(again["applied"], 0, "{again}");
}
