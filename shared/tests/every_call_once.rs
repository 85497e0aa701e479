//! Every call once, whichever way it arrives: a workflow webhook, CloudTalk's signed envelope,
//! reconciliation over the call history, or a redrive of a parked event. The history here is a
//! simulation of CloudTalk's: it answers by the company's local time at its **true** offset,
//! shows a call only once it has started and its end only once it has ended, and pages as
//! CloudTalk does, so that a wrong `CLOUDTALK_UTC_OFFSET` and long calls behave as they would.

use std::sync::{Arc, Mutex};

use bridge::clock::{Clock, ManualClock};
use bridge::contact_map::MemoryContactMap;
use bridge::{Deps, EndpointId};
use bridge_testkit::*;
use chrono::{FixedOffset, NaiveDateTime, TimeZone};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Respond, ResponseTemplate};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// A call of the simulated history.
#[derive(Debug, Clone)]
struct SimCall {
    id: u64,
    start_ms: i64,
    end_ms: i64,
}

/// CloudTalk's call history, in the company's time at `offset`, as of the clock.
#[derive(Clone)]
struct History {
    clock: Arc<ManualClock>,
    offset: FixedOffset,
    calls: Arc<Mutex<Vec<SimCall>>>,
}

const FORMAT: &str = "%Y-%m-%d %H:%M:%S";

impl History {
    fn local(&self, ms: i64) -> String {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .with_timezone(&self.offset)
            .format(FORMAT)
            .to_string()
    }

    fn parse(&self, text: &str) -> Option<i64> {
        let naive = NaiveDateTime::parse_from_str(text, FORMAT).ok()?;
        Some(
            self.offset
                .from_local_datetime(&naive)
                .single()?
                .timestamp_millis(),
        )
    }

    fn row(&self, call: &SimCall, now: i64) -> Value {
        let ended = call.end_ms <= now;
        let talk = (call.end_ms - call.start_ms) / 1000 - 10;
        let mut cdr = json!({"id": call.id.to_string(), "type": "incoming",
            "public_external": "393513416607", "public_internal": "390212345678",
            "recorded": false, "is_voicemail": false, "user_id": "42",
            "started_at": self.local(call.start_ms),
            "answered_at": self.local(call.start_ms + 10_000)});
        if ended {
            cdr["ended_at"] = json!(self.local(call.end_ms));
            cdr["billsec"] = json!(talk.to_string());
            cdr["talking_time"] = json!(talk.to_string());
            cdr["waiting_time"] = json!("10");
        }
        json!({"Cdr": cdr,
            "Contact": {"id": "1451646073", "name": "Mario Rossi", "contact_numbers": ["393513416607"]},
            "Agent": {"id": "42", "fullname": "Roberto Bianchi"}})
    }
}

impl Respond for History {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let query: std::collections::HashMap<String, String> =
            request.url.query_pairs().into_owned().collect();
        let now = self.clock.now_ms();
        let from = query.get("date_from").and_then(|t| self.parse(t));
        let to = query.get("date_to").and_then(|t| self.parse(t));
        let limit: usize = query
            .get("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(30);
        let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let mut rows: Vec<&SimCall> = Vec::new();
        let calls = self.calls.lock().unwrap();
        for call in calls.iter() {
            let visible = call.start_ms <= now
                && from.is_none_or(|f| call.start_ms >= f)
                && to.is_none_or(|t| call.start_ms <= t);
            if visible {
                rows.push(call);
            }
        }
        let pages = rows.len().div_ceil(limit).max(1);
        let data: Vec<Value> = rows
            .iter()
            .skip((page - 1) * limit)
            .take(limit)
            .map(|c| self.row(c, now))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"responseData": {
            "itemsCount": rows.len().to_string(), "pageCount": pages.to_string(),
            "pageNumber": page.to_string(), "limit": limit.to_string(), "data": data}}))
    }
}

struct Run {
    fakes: Fakes,
    deps: Deps,
    clock: Arc<ManualClock>,
    history: History,
    queue: Arc<bridge::retry_queue::MemoryRetryQueue>,
}

/// A deployment whose `CLOUDTALK_UTC_OFFSET` is `configured`, over a company at `actual`.
async fn start(configured: &str, actual: &str) -> Run {
    let fakes = Fakes::start().await;
    let clock = Arc::new(ManualClock::starting_now());
    let history = History {
        clock: clock.clone(),
        offset: bridge::reconcile::company_time::parse_offset(actual).unwrap(),
        calls: Arc::default(),
    };
    Mock::given(method("GET"))
        .and(path("/api/calls/index.json"))
        .respond_with(history.clone())
        .with_priority(1)
        .mount(&fakes.cloudtalk)
        .await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!({"id": "ghl-1"}), json!([])).await;
    let queue = Arc::new(bridge::retry_queue::MemoryRetryQueue::new());
    let mut backends = bridge::Backends::in_memory();
    backends.contacts = Arc::new(MemoryContactMap::new());
    backends.retry_queue = queue.clone();
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.config.upstream_retry_budget = std::time::Duration::from_millis(300);
    settings.config.cloudtalk_utc_offset = Some(configured.to_string());
    let deps = Deps::build_with_clock(settings, backends, clock.clone()).unwrap();
    Run {
        fakes,
        deps,
        clock,
        history,
        queue,
    }
}

impl Run {
    fn add_call(&self, id: u64, start_ms: i64, minutes: i64) {
        self.history.calls.lock().unwrap().push(SimCall {
            id,
            start_ms,
            end_ms: start_ms + minutes * MINUTE,
        });
    }

    async fn reconcile(&self) -> Value {
        bridge::reconcile::handle(&self.deps, json!({}), None)
            .await
            .unwrap_or_else(|e| panic!("reconcile failed: {e}"))
    }

    /// Runs reconciliation every 15 minutes for `hours`, as the schedule does.
    async fn every_quarter_hour(&self, hours: i64) -> Vec<Value> {
        let mut summaries = Vec::new();
        for _ in 0..hours * 4 {
            self.clock.advance_ms(15 * MINUTE);
            summaries.push(self.reconcile().await);
        }
        summaries
    }

    /// The call ids of the call-ended notes written to GHL, in order.
    async fn noted_calls(&self) -> Vec<String> {
        received(&self.fakes.ghl)
            .await
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/notes"))
            .filter_map(|r| {
                let body = r.body["body"].as_str().unwrap_or_default().to_string();
                body.starts_with("[CloudTalk] Call ended")
                    .then(|| {
                        body.split("Call ID: ")
                            .nth(1)
                            .map(|t| t.chars().take_while(|c| c.is_ascii_digit()).collect())
                    })
                    .flatten()
            })
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

/// Each id exactly once.
fn once_each(noted: &[String], ids: &[u64]) {
    for id in ids {
        let n = noted.iter().filter(|n| **n == id.to_string()).count();
        assert_eq!(n, 1, "call {id} noted {n} times: {noted:?}");
    }
}

// --- One identity per call ------------------------------------------------------------------

#[tokio::test]
async fn one_call_by_webhook_envelope_and_reconciliation_in_any_order_is_written_once() {
    let _serial = SERIAL.lock().await;
    let ways = ["webhook", "envelope", "reconcile"];
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in orders {
        let run = start("+01:00", "+01:00").await;
        let started = run.clock.now_ms() - 40 * MINUTE;
        run.add_call(777, started, 3);
        let flat = json!({"call_id": 777, "call_uuid": "uuid-777", "contact_id": 1451646073,
            "external_number": "393513416607", "status": "answered", "talking_time": 170});
        let envelope = json!({"event_id": "evt_9", "type": "call.ended",
            "data": {"call_id": 777, "contact_id": 1451646073,
                "external_number": "393513416607", "talking_time": 170}});
        for way in order {
            match ways[way] {
                "reconcile" => {
                    run.reconcile().await;
                }
                kind => {
                    let body = if kind == "webhook" { &flat } else { &envelope };
                    let res = bridge::route(
                        &run.deps,
                        post(
                            "/api/cloudtalk-webhooks/call-ended",
                            &body.to_string(),
                            Some(CLOUDTALK_SECRET),
                        ),
                    )
                    .await;
                    assert_eq!(res.status(), 200, "{kind}");
                }
            }
        }
        let order: Vec<&str> = order.iter().map(|i| ways[*i]).collect();
        let noted = run.noted_calls().await;
        assert_eq!(noted, vec!["777".to_string()], "{order:?}");
        let key =
            |body: &Value| bridge::idempotency::event_key(EndpointId::CloudtalkCallEnded, body);
        assert_eq!(key(&flat), key(&envelope), "{order:?}");
    }
}

// --- Long calls -------------------------------------------------------------------------------

#[tokio::test]
async fn long_calls_whose_webhooks_were_lost_are_applied_once_after_they_end() {
    let _serial = SERIAL.lock().await;
    let run = start("+01:00", "+01:00").await;
    let now = run.clock.now_ms();
    run.add_call(3001, now + 5 * MINUTE, 30);
    run.add_call(3002, now + 20 * MINUTE, 90);
    run.add_call(3003, now + 35 * MINUTE, 200);
    let summaries = run.every_quarter_hour(5).await;
    once_each(&run.noted_calls().await, &[3001, 3002, 3003]);
    // None was applied before it ended: the 200-minute call only in the run after it ended.
    let first_with = |n: usize| {
        summaries
            .iter()
            .position(|s| pass(s, "calls")["applied"].as_u64().unwrap_or(0) > 0 && n > 0)
    };
    assert!(first_with(1).is_some());
    let waited: Vec<u64> = summaries
        .iter()
        .map(|s| pass(s, "calls")["in_progress"].as_u64().unwrap_or(0))
        .collect();
    assert!(
        waited.iter().any(|n| *n >= 2),
        "calls in progress are kept: {waited:?}"
    );
    assert_eq!(*waited.last().unwrap(), 0, "{waited:?}");
}

#[tokio::test]
async fn a_call_longer_than_the_bound_is_given_up_and_says_so() {
    let _serial = SERIAL.lock().await;
    let run = start("+01:00", "+01:00").await;
    let now = run.clock.now_ms();
    run.add_call(3009, now + 5 * MINUTE, 10 * 60);
    let summaries = run.every_quarter_hour(9).await;
    let abandoned: u64 = summaries
        .iter()
        .map(|s| pass(s, "calls")["abandoned"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(abandoned, 1);
}

// --- A wrong offset ---------------------------------------------------------------------------

/// Calls every 20 minutes over a day and a half, with the offset configured `error` away from
/// the company's: each is applied exactly once, and the runs say the offset looks wrong.
async fn wrong_offset(configured: &str, actual: &str, min_lag_secs: i64) {
    let run = start(configured, actual).await;
    let now = run.clock.now_ms();
    let ids: Vec<u64> = (0..24).map(|i| 5000 + i).collect();
    for (i, id) in ids.iter().enumerate() {
        run.add_call(*id, now + (i as i64) * 20 * MINUTE + MINUTE, 4);
    }
    let summaries = run.every_quarter_hour(36).await;
    once_each(&run.noted_calls().await, &ids);
    let suspect = summaries
        .iter()
        .find_map(|s| s["offset_suspect"].as_str().map(str::to_string));
    assert!(
        suspect.is_some(),
        "{configured} vs {actual}: no run said so"
    );
    let lag = summaries
        .iter()
        .map(|s| s["lag_seconds"].as_i64().unwrap_or(0))
        .max()
        .unwrap();
    assert!(
        lag >= min_lag_secs,
        "{configured} vs {actual}: the lag shows the error: {lag} s"
    );
}

#[tokio::test]
async fn an_offset_an_hour_ahead_costs_re_reads_not_calls() {
    let _serial = SERIAL.lock().await;
    wrong_offset("+02:00", "+01:00", 3600).await;
}

#[tokio::test]
async fn an_offset_an_hour_behind_costs_re_reads_not_calls() {
    let _serial = SERIAL.lock().await;
    // Calls every 20 minutes date up to 40-60 minutes ahead when read.
    wrong_offset("+00:00", "+01:00", 30 * 60).await;
}

#[tokio::test]
async fn an_offset_fourteen_hours_off_either_way_costs_re_reads_not_calls() {
    let _serial = SERIAL.lock().await;
    wrong_offset("+14:00", "+00:00", 3600).await;
    wrong_offset("-12:00", "+02:00", 3600).await;
}

#[tokio::test]
async fn a_right_offset_raises_no_suspicion() {
    let _serial = SERIAL.lock().await;
    let run = start("+01:00", "+01:00").await;
    let now = run.clock.now_ms();
    for i in 0..6 {
        run.add_call(6000 + i, now + (i as i64) * 40 * MINUTE + MINUTE, 5);
    }
    let summaries = run.every_quarter_hour(18).await;
    once_each(&run.noted_calls().await, &(6000..6006).collect::<Vec<_>>());
    assert!(summaries.iter().all(|s| s["offset_suspect"].is_null()));
    assert!(summaries
        .iter()
        .all(|s| s["lag_seconds"].as_i64().unwrap_or(0) < HOUR / 1000));
}

// --- Redrive ----------------------------------------------------------------------------------

/// A missed call whose note was written and whose tag GHL then refused is parked with the note
/// step done; redriven ten days later (the dead-letter queue keeps it fourteen), it writes the
/// tag and not the note again.
#[tokio::test]
async fn a_redrive_ten_days_later_repeats_no_finished_step() {
    let _serial = SERIAL.lock().await;
    let run = start("+01:00", "+01:00").await;
    // GHL refuses the tag the first time only.
    let refused = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let first = refused.clone();
    Mock::given(method("POST"))
        .and(wiremock::matchers::path_regex("^/contacts/[^/]+/tags$"))
        .respond_with(move |_: &wiremock::Request| {
            match first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                true => ResponseTemplate::new(422).set_body_json(json!({"statusCode": 422,
                    "message": ["tags must be an array"], "error": "Unprocessable Entity"})),
                false => ResponseTemplate::new(201).set_body_json(json!({"tags": ["MISSED_CALL"]})),
            }
        })
        .with_priority(1)
        .mount(&run.fakes.ghl)
        .await;
    let missed = json!({"call_id": 8801, "contact_id": 1451646073,
        "external_number": "393513416607", "status": "missed", "talking_time": 0});
    let res = bridge::route(
        &run.deps,
        post(
            "/api/cloudtalk-webhooks/call-ended",
            &missed.to_string(),
            Some(CLOUDTALK_SECRET),
        ),
    )
    .await;
    let answer = response_json(&res);
    assert_eq!(answer["parked"], true, "{answer}");
    assert_eq!(run.noted_calls().await, vec!["8801".to_string()]);
    let parked = run.queue.parked();
    assert_eq!(parked.len(), 1);
    assert!(!refused.load(std::sync::atomic::Ordering::SeqCst));

    run.clock.advance_ms(10 * 24 * HOUR);
    let mut redriven = parked[0].0.clone();
    redriven.parked_at = Some("2026-12-06T10:00:00Z".into());
    let result = bridge::worker::process(&run.deps, redriven).await;
    assert_eq!(
        result,
        bridge::worker::WorkerResult::Done { duplicate: false }
    );
    assert_eq!(
        run.noted_calls().await,
        vec!["8801".to_string()],
        "the note is not written again"
    );
    let tags = received(&run.fakes.ghl)
        .await
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/tags"))
        .count();
    assert_eq!(tags, 2, "the refused tag, then the redriven one");
}

// --- The contacts pass ------------------------------------------------------------------------

/// A GHL contact CloudTalk refuses for good is parked with its reason, as the new-contact event
/// it amounts to, not only logged: a redrive applies it once the cause is fixed.
#[tokio::test]
async fn a_contact_cloudtalk_refuses_is_parked_with_its_reason() {
    let _serial = SERIAL.lock().await;
    let run = start("+01:00", "+01:00").await;
    let updated = run.clock.now_ms() - 10 * MINUTE;
    let at = bridge::reconcile::company_time::rfc3339(updated);
    Mock::given(method("POST"))
        .and(path("/contacts/search"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"contacts": [
            {"id": "ghl-refused", "locationId": LOCATION, "firstName": "Mario",
             "phone": "+393501234567", "tags": ["lead"], "dateUpdated": at,
             "searchAfter": [updated, "ghl-refused"]}], "total": 1})),
        )
        .with_priority(1)
        .mount(&run.fakes.ghl)
        .await;
    // CloudTalk answers the bulk add_contact 200, with the command itself refused.
    Mock::given(method("POST"))
        .and(path("/api/bulk/contacts.json"))
        .respond_with(|req: &wiremock::Request| {
            let commands: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let id = commands[0]["command_id"].clone();
            ResponseTemplate::new(200).set_body_json(json!({"responseData": {"status": 200,
                "data": [{"command_id": id, "status": 406, "message": "Invalid input data."}]}}))
        })
        .with_priority(1)
        .mount(&run.fakes.cloudtalk)
        .await;
    let summary = run.reconcile().await;
    let contacts = pass(&summary, "contacts");
    assert_eq!(contacts["failed"], 1, "{summary}");
    let parked = run.queue.parked();
    assert_eq!(parked.len(), 1, "{summary}");
    let (event, reason) = &parked[0];
    assert_eq!(event.endpoint, EndpointId::GhlNewContact);
    assert!(reason.contains("406"), "{reason}");
    let body: Value = serde_json::from_str(&event.body).unwrap();
    assert_eq!(body["contact"]["id"], "ghl-refused");
    // What was parked is a new-contact event its handler reads.
    let parsed = bridge::payload::ghl::parse_new_contact(&body).unwrap();
    assert_eq!(parsed.contact.phones, vec!["+393501234567".to_string()]);
}
