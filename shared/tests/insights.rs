//! What was said, through the real handlers and the real worker: a call's CloudTalk AI summary
//! written once when it becomes ready (after two "not ready" answers), a plan without AI and
//! the end of the wait stopping quietly, the transcript option, CloudTalk's Call Modified
//! trigger writing only what is new, and reconciliation of a call whose webhooks were lost.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bridge::clock::{Clock, ManualClock};
use bridge::retry_queue::MemoryRetryQueue;
use bridge::worker::WorkerResult;
use bridge::Deps;
use bridge_testkit::*;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MINUTE: i64 = 60_000;
const SUMMARY: &str = "Mario asked about the spring offer; Roberto promised a quote by Friday.";

struct Run {
    fakes: Fakes,
    deps: Deps,
    clock: Arc<ManualClock>,
    queue: Arc<MemoryRetryQueue>,
}

async fn start(configure: impl FnOnce(&mut bridge::config::Config)) -> Run {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!({"id": "ghl-found"}), json!([])).await;
    let clock = Arc::new(ManualClock::starting_now());
    let queue = Arc::new(MemoryRetryQueue::new());
    let mut backends = bridge::Backends::in_memory();
    backends.retry_queue = queue.clone();
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    configure(&mut settings.config);
    let deps = Deps::build_with_clock(settings, backends, clock.clone()).unwrap();
    Run {
        fakes,
        deps,
        clock,
        queue,
    }
}

/// The AI API of call `id`: its summary answers `statuses` in turn (the last one after that),
/// its smart notes and sentiment are ready.
async fn mount_ai(run: &Run, id: u64, statuses: Vec<u16>) -> Arc<AtomicUsize> {
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    Mock::given(method("GET"))
        .and(path(format!("/v1/ai/calls/{id}/summary")))
        .respond_with(move |_: &wiremock::Request| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let status = statuses[n.min(statuses.len() - 1)];
            match status {
                200 => ResponseTemplate::new(200)
                    .set_body_json(json!({"callId": id, "summary": SUMMARY})),
                other => ResponseTemplate::new(other)
                    .set_body_json(json!({"code": "NOT_FOUND", "message": "not ready"})),
            }
        })
        .with_priority(1)
        .mount(&run.fakes.cloudtalk)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/ai/calls/{id}/smart-notes")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"callId": id,
            "smartNotes": {"callDetails": {"callDateTime": "2026-11-28T10:00:00Z",
                "participants": [{"callerType": "agent"}]}, "actionItems": ["Send the quote"],
                "decisionsMade": ["Spring offer"], "openQuestions": ["Delivery date?"]}})),
        )
        .with_priority(1)
        .mount(&run.fakes.cloudtalk)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/ai/calls/{id}/overall-sentiment")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"callId": id, "overallSentiment": "positive"})),
        )
        .with_priority(1)
        .mount(&run.fakes.cloudtalk)
        .await;
    asked
}

fn ended(id: u64) -> Value {
    json!({"call_id": id, "contact_id": 1451646073, "external_number": "+393513416607",
        "direction": "incoming", "status": "answered", "talking_time": 60, "agent_id": 42})
}

impl Run {
    async fn post(&self, route: &str, body: &Value) -> Value {
        let res = bridge::route(
            &self.deps,
            post(route, &body.to_string(), Some(CLOUDTALK_SECRET)),
        )
        .await;
        let answer = response_json(&res);
        assert!(res.status().is_success(), "{answer}");
        answer
    }

    /// Runs every queued event due by now through the worker, as SQS would deliver them.
    async fn drain(&self) -> Vec<WorkerResult> {
        let mut results = Vec::new();
        for (event, _delay) in self.queue.drain() {
            results.push(bridge::worker::process(&self.deps, event).await);
        }
        results
    }

    async fn notes(&self, prefix: &str) -> Vec<Value> {
        received(&self.fakes.ghl)
            .await
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/notes"))
            .map(|r| r.body)
            .filter(|b| b["body"].as_str().unwrap_or_default().starts_with(prefix))
            .collect()
    }
}

#[tokio::test]
async fn the_summary_is_written_once_when_it_becomes_ready_on_the_third_try() {
    let _serial = SERIAL.lock().await;
    let run = start(|_| {}).await;
    let asked = mount_ai(&run, 777, vec![404, 404, 200]).await;
    let (_guard, logs) = capture_logs();
    run.post("/api/cloudtalk-webhooks/call-ended", &ended(777))
        .await;
    assert_eq!(
        asked.load(Ordering::SeqCst),
        0,
        "nothing is waited for in the webhook"
    );
    let mut waited = Vec::new();
    for minutes in [2, 3, 10] {
        run.clock.advance_ms(minutes * MINUTE);
        waited.extend(run.drain().await);
    }
    assert_eq!(asked.load(Ordering::SeqCst), 3);
    assert!(
        matches!(waited[0], WorkerResult::Requeued { .. }),
        "{waited:?}"
    );
    assert!(
        matches!(waited[1], WorkerResult::Requeued { .. }),
        "{waited:?}"
    );
    assert_eq!(waited[2], WorkerResult::Done { duplicate: false });
    let notes = run.notes("[CloudTalk AI summary]").await;
    assert_eq!(notes.len(), 1);
    let text = notes[0]["body"].as_str().unwrap();
    assert!(text.contains(SUMMARY), "{text}");
    assert!(
        text.contains("- Send the quote") && text.contains("Sentiment: positive"),
        "{text}"
    );
    assert!(text.contains("with Roberto Bianchi"), "{text}");
    assert_eq!(notes[0]["userId"], AGENT_USER);
    // CloudTalk's announcement after that is a duplicate.
    let announced = json!({"event_id": "evt_ci_1", "type": "cidata.ready",
        "data": {"call_id": 777, "contact_id": 1451646073, "external_number": "+393513416607"}});
    let answer = run
        .post("/api/cloudtalk-webhooks/call-ended", &announced)
        .await;
    assert_eq!(answer["duplicate"], true, "{answer}");
    assert_eq!(run.notes("[CloudTalk AI summary]").await.len(), 1);
    assert_eq!(run.queue.queued_len(), 0);
    let text = logs.text();
    assert!(
        !text.contains("spring offer") && !text.contains("Send the quote"),
        "no AI text in the logs"
    );
}

#[tokio::test]
async fn an_announcement_writes_the_summary_at_once() {
    let _serial = SERIAL.lock().await;
    let run = start(|_| {}).await;
    mount_ai(&run, 778, vec![200]).await;
    run.post("/api/cloudtalk-webhooks/call-ended", &ended(778))
        .await;
    let announced = json!({"event_id": "evt_ci_2", "type": "cidata.ready",
        "data": {"call_id": 778, "contact_id": 1451646073, "external_number": "+393513416607"}});
    let answer = run
        .post("/api/cloudtalk-webhooks/call-ended", &announced)
        .await;
    assert!(answer["ghlSummaryNoteId"].is_string(), "{answer}");
    // The job queued when the call ended finds it done.
    run.clock.advance_ms(2 * MINUTE);
    assert_eq!(
        run.drain().await,
        vec![WorkerResult::Done { duplicate: true }]
    );
    assert_eq!(run.notes("[CloudTalk AI summary]").await.len(), 1);
}

#[tokio::test]
async fn an_announcement_before_the_summary_is_ready_leaves_the_call_s_job_its_key() {
    let _serial = SERIAL.lock().await;
    let run = start(|_| {}).await;
    // The summary is not ready when the transcript is announced, and is two minutes later.
    mount_ai(&run, 779, vec![404, 200]).await;
    run.post("/api/cloudtalk-webhooks/call-ended", &ended(779))
        .await;
    let early = json!({"event_id": "evt_tr_9", "type": "transcript.ready",
        "data": {"call_id": 779, "contact_id": 1451646073, "external_number": "+393513416607"}});
    let answer = run.post("/api/cloudtalk-webhooks/call-ended", &early).await;
    assert_eq!(answer["result"], "not_ready", "{answer}");
    assert!(run.notes("[CloudTalk AI summary]").await.is_empty());
    // The call's own job is not a duplicate of the early announcement: it writes the note.
    run.clock.advance_ms(2 * MINUTE);
    assert_eq!(
        run.drain().await,
        vec![WorkerResult::Done { duplicate: false }]
    );
    assert_eq!(run.notes("[CloudTalk AI summary]").await.len(), 1);
    // Announced again now: done, a duplicate.
    let late = run.post("/api/cloudtalk-webhooks/call-ended", &early).await;
    assert_eq!(late["duplicate"], true, "{late}");
    assert_eq!(run.notes("[CloudTalk AI summary]").await.len(), 1);
}

#[tokio::test]
async fn a_plan_without_ai_and_the_end_of_the_wait_stop_quietly() {
    let _serial = SERIAL.lock().await;
    let run = start(|_| {}).await;
    let asked = mount_ai(&run, 779, vec![403]).await;
    run.post("/api/cloudtalk-webhooks/call-ended", &ended(779))
        .await;
    run.clock.advance_ms(2 * MINUTE);
    assert_eq!(
        run.drain().await,
        vec![WorkerResult::Done { duplicate: false }]
    );
    assert_eq!(asked.load(Ordering::SeqCst), 1, "asked once");
    // The next call of the hour costs no AI request: the plan has none.
    let next = mount_ai(&run, 790, vec![403]).await;
    run.post("/api/cloudtalk-webhooks/call-ended", &ended(790))
        .await;
    run.clock.advance_ms(2 * MINUTE);
    assert_eq!(
        run.drain().await,
        vec![WorkerResult::Done { duplicate: false }]
    );
    assert_eq!(next.load(Ordering::SeqCst), 0, "known: no AI on this plan");

    let run = start(|_| {}).await;
    mount_ai(&run, 780, vec![404]).await;
    run.post("/api/cloudtalk-webhooks/call-ended", &ended(780))
        .await;
    let mut last = Vec::new();
    for _ in 0..8 {
        run.clock.advance_ms(15 * MINUTE);
        last = run.drain().await;
        if last.is_empty() {
            break;
        }
    }
    assert_eq!(run.queue.queued_len(), 0, "not waited for after an hour");
    assert!(run.queue.parked().is_empty(), "an ended wait is not parked");
    assert!(run.notes("[CloudTalk AI summary]").await.is_empty());
    let _ = last;
}

#[tokio::test]
async fn the_transcript_is_written_only_when_asked_for() {
    let _serial = SERIAL.lock().await;
    let run = start(|c| {
        c.insights.transcripts = true;
    })
    .await;
    mount_ai(&run, 781, vec![200]).await;
    Mock::given(method("GET"))
        .and(path("/v1/ai/calls/781/transcription"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"callId": 781, "language": "it",
                "callers": [{"id": 42, "type": "agent", "localIdentifier": "s1"},
                            {"id": null, "type": "contact", "localIdentifier": "s2"}],
                "segments": [{"start": 0, "end": 2, "caller": "s1", "text": "Buongiorno"},
                             {"start": 2, "end": 4, "caller": "s2", "text": "Salve"}]},
            "pagination": {"limit": 100, "offset": 0, "total": 2}})))
        .with_priority(1)
        .mount(&run.fakes.cloudtalk)
        .await;
    run.post("/api/cloudtalk-webhooks/call-ended", &ended(781))
        .await;
    run.clock.advance_ms(2 * MINUTE);
    run.drain().await;
    let transcript = run.notes("[CloudTalk transcript]").await;
    assert_eq!(transcript.len(), 1);
    let text = transcript[0]["body"].as_str().unwrap();
    assert!(text.contains("Agent: Buongiorno\nContact: Salve"), "{text}");

    let off = start(|_| {}).await;
    mount_ai(&off, 782, vec![200]).await;
    off.post("/api/cloudtalk-webhooks/call-ended", &ended(782))
        .await;
    off.clock.advance_ms(2 * MINUTE);
    off.drain().await;
    assert!(off.notes("[CloudTalk transcript]").await.is_empty());
    let asked = received(&off.fakes.cloudtalk).await;
    assert!(
        asked.iter().all(|r| !r.path.ends_with("/transcription")),
        "off by default"
    );
}

async fn tag_writes(run: &Run) -> Vec<Value> {
    received(&run.fakes.ghl)
        .await
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/tags"))
        .map(|r| r.body["tags"].clone())
        .collect()
}

fn modified(tags: &[&str], rating: Option<u8>, notes: &[&str]) -> Value {
    let mut body = json!({"call_id": 9300, "contact_id": 1451646073,
        "external_number": "+393513416607", "agent_id": 42, "tags": tags, "notes": notes});
    if let Some(r) = rating {
        body["rating"] = json!(r);
    }
    body
}

#[tokio::test]
async fn call_modified_writes_only_what_is_new_for_the_call() {
    let _serial = SERIAL.lock().await;
    let run = start(|c| {
        c.insights.disposition_field = Some("fld-disposition".into());
    })
    .await;
    let route = "/api/cloudtalk-webhooks/call-modified";
    let first = run
        .post(route, &modified(&["Interested"], None, &["Wants a quote"]))
        .await;
    assert_eq!(first["tagsAdded"], 1, "{first}");
    let again = run
        .post(route, &modified(&["Interested"], None, &["Wants a quote"]))
        .await;
    assert_eq!(again["duplicate"], true, "{again}");
    // The same tags with a rating now: only the rating is new.
    let rated = run
        .post(
            route,
            &modified(&["Interested"], Some(4), &["Wants a quote"]),
        )
        .await;
    assert_eq!(rated["tagsAdded"], 0, "{rated}");
    // A new tag: only it is written.
    run.post(
        route,
        &modified(&["Interested", "Callback"], Some(4), &["Wants a quote"]),
    )
    .await;
    assert_eq!(
        tag_writes(&run).await,
        vec![
            json!(["call: Interested"]),
            json!(["call: rating 4"]),
            json!(["call: Callback"])
        ]
    );
    assert_eq!(
        run.notes("[CloudTalk call note]").await.len(),
        1,
        "the note once"
    );
    let fields: Vec<Value> = received(&run.fakes.ghl)
        .await
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path == "/contacts/ghl-found")
        .map(|r| r.body)
        .collect();
    assert_eq!(
        fields.last().unwrap()["customFields"],
        json!([{"id": "fld-disposition", "field_value": "Interested, Callback"}])
    );
}

#[tokio::test]
async fn a_lost_call_is_reconciled_with_its_note_its_summary_and_its_tags_once() {
    let _serial = SERIAL.lock().await;
    let run = start(|_| {}).await;
    mount_ai(&run, 1002409001, vec![200]).await;
    let mut row = history_call(run.clock.now_ms() - 30 * MINUTE);
    row["Tags"] = json!([{"id": "1", "name": "Interested"}]);
    row["Notes"] = json!([{"id": "5", "note": "Wants a quote"}]);
    mount_call_history(&run.fakes.cloudtalk, vec![row]).await;
    for _ in 0..2 {
        bridge::reconcile::handle(&run.deps, json!({}), None)
            .await
            .unwrap();
        run.clock.advance_ms(2 * MINUTE);
        run.drain().await;
    }
    assert_eq!(run.notes("[CloudTalk] Call ended").await.len(), 1);
    assert_eq!(run.notes("[CloudTalk AI summary]").await.len(), 1);
    assert_eq!(run.notes("[CloudTalk call note]").await.len(), 1);
}
