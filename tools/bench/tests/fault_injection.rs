//! Fault injection: the bridge against a faulty sandbox (500s, 429 bursts with reset headers,
//! slow answers, answers slower than the client's timeout) and a faulty store (DynamoDB errors),
//! with every event delivered twice, half of the duplicates concurrently. Senders retry 429s as
//! GoHighLevel does; the retry worker drains the retry queue. Every accepted event must end
//! applied exactly once or parked on the dead-letter queue with its reason.
//!
//! Prints `events: N, faults injected: M, lost: 0, duplicated: 0` (also to `FAULT_SUMMARY_FILE`,
//! which `scripts/test.sh` shows) and fails on any loss or duplicate. `FAULT_EVENTS` sets the
//! number of distinct events (40 by default).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bridge::retry_queue::MemoryRetryQueue;
use bridge::worker::{process, WorkerResult};
use bridge_bench::simulation::Flaky;
use bridge_local::sandbox::{Faults, Sandbox, SandboxConfig};
use bridge_testkit::aws::dynamo_backends;
use bridge_testkit::e2e::*;
use serde_json::{json, Value};

/// One event and how to recognise its write in the sandbox.
struct Event {
    route: String,
    secret: &'static str,
    body: Value,
    /// Text that appears in exactly one note once the event is applied.
    marker: String,
}

fn events(n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                let contact = i % 10;
                Event {
                    route: "/api/ghl-webhooks/new-note".into(),
                    secret: GHL_SECRET,
                    body: json!({"type": "NoteCreate", "webhookId": format!("wh-{i:05}"), "locationId": "sandbox-location",
                        "id": format!("note-{i}"), "contactId": format!("ghl-fault-{contact}"),
                        "phone": format!("+3935000000{contact:02}"), "body": format!("fault-event-{i:05} note")}),
                    marker: format!("fault-event-{i:05} "),
                }
            } else {
                let number = i % 10;
                let call = 77_000 + i;
                Event {
                    route: "/api/cloudtalk-webhooks/call-ended".into(),
                    secret: CLOUDTALK_SECRET,
                    body: json!({"call_id": call, "external_number": format!("39351000000{number}"), "agent_name": "Roberto",
                        "talking_time": 42, "direction": "incoming"}),
                    marker: format!("Call ID: {call}"),
                }
            }
        })
        .collect()
}

/// Sends like GoHighLevel: a 429 is re-delivered (up to 6 times). Returns whether the event
/// was accepted (2xx, or a refusal that parked it).
async fn deliver(http: &reqwest::Client, bridge: &str, event: &Event) -> bool {
    for _ in 0..7 {
        let (status, _) = post(
            http,
            &format!("{bridge}{}", event.route),
            event.secret,
            event.body.clone(),
        )
        .await;
        match status {
            200..=299 => return true,
            429 => tokio::time::sleep(Duration::from_millis(20)).await,
            502 => return true, // refused upstream for good: parked with its reason
            other => panic!("unexpected status {other} for {}", event.marker),
        }
    }
    false
}

fn notes(state: &Value) -> Vec<String> {
    let mut all = Vec::new();
    for api in ["cloudtalk", "ghl"] {
        for contact in state[api]["contacts"].as_array().into_iter().flatten() {
            for note in contact["notes"].as_array().into_iter().flatten() {
                all.push(note.as_str().unwrap_or_default().to_string());
            }
        }
    }
    all
}

/// The bridge (over HTTP) on a faulty sandbox and a faulty DynamoDB, with a manual clock.
struct Rig {
    sandbox: Sandbox,
    deps: Arc<bridge::Deps>,
    queue: Arc<MemoryRetryQueue>,
    clock: Arc<bridge::clock::ManualClock>,
    bridge: String,
    store_failures: Arc<AtomicU64>,
}

async fn rig() -> Rig {
    let (sandbox_url, sandbox) = Sandbox::spawn(SandboxConfig {
        quiet: true,
        ..SandboxConfig::default()
    })
    .await;
    let store_failures = Arc::new(AtomicU64::new(0));
    let queue = Arc::new(MemoryRetryQueue::new());
    let mut backends = dynamo_backends().await;
    // Fails a share of calls, as a throttled or briefly unreachable DynamoDB would.
    let failures = store_failures.clone();
    backends.contacts = Arc::new(Flaky::new(backends.contacts.clone(), 17, failures.clone()));
    backends.idempotency = Arc::new(Flaky::new(backends.idempotency.clone(), 23, failures));
    backends.retry_queue = queue.clone();
    let mut config = settings(&sandbox_url);
    config.config.upstream_timeout = Duration::from_millis(300);
    config.config.upstream_retry_budget = Duration::from_millis(400);
    config.config.max_attempts = 8;
    // The worker's rounds below do not wait out the retry delays: time moves on between them.
    let clock = Arc::new(bridge::clock::ManualClock::starting_now());
    let deps = Arc::new(bridge::Deps::build_with_clock(config, backends, clock.clone()).unwrap());
    let bridge = serve_bridge(deps.clone()).await;
    Rig {
        sandbox,
        deps,
        queue,
        clock,
        bridge,
        store_failures,
    }
}

/// Phase 1: answers slower than the client's timeout (nothing is applied), then 500s, 429
/// bursts and slow answers; every event twice, the second copy half the time at once. Whether
/// each event was accepted.
async fn deliver_all(rig: &Rig, events: &[Event]) -> Vec<bool> {
    let n = events.len();
    let http = reqwest::Client::new();
    let mut accepted = vec![false; n];
    for (phase, chunk) in events.chunks(n.div_ceil(4)).enumerate() {
        rig.sandbox.set_faults(match phase {
            0 => Faults {
                latency_ms: 450,
                ..Faults::default()
            },
            _ => Faults {
                latency_ms: 3,
                error_rate: 0.2,
                rate_limit_every: 9,
                rate_limit_burst: 2,
                ..Faults::default()
            },
        });
        let offset = phase * n.div_ceil(4);
        let mut tasks = Vec::new();
        for (j, event) in chunk.iter().enumerate() {
            let (http, bridge) = (http.clone(), rig.bridge.clone());
            let e = Event {
                route: event.route.clone(),
                secret: event.secret,
                body: event.body.clone(),
                marker: String::new(),
            };
            let concurrent = j % 2 == 0;
            tasks.push(tokio::spawn(async move {
                if concurrent {
                    let (a, b) =
                        tokio::join!(deliver(&http, &bridge, &e), deliver(&http, &bridge, &e));
                    a || b
                } else {
                    let a = deliver(&http, &bridge, &e).await;
                    deliver(&http, &bridge, &e).await || a
                }
            }));
        }
        for (j, task) in tasks.into_iter().enumerate() {
            accepted[offset + j] = task.await.unwrap();
        }
    }
    accepted
}

/// Phase 2: the retry worker drains the queue while faults go on (delays are not waited for).
async fn drain(rig: &Rig) {
    rig.sandbox.set_faults(Faults {
        latency_ms: 2,
        error_rate: 0.1,
        rate_limit_every: 13,
        rate_limit_burst: 2,
        ..Faults::default()
    });
    for _ in 0..60 {
        let batch = rig.queue.drain();
        if batch.is_empty() {
            break;
        }
        // Longer than the failure schedule's longest delay (10 h, and half again).
        rig.clock.advance_ms(16 * 3600 * 1000);
        for (event, _delay) in batch {
            if let WorkerResult::Failed { .. } = process(&rig.deps, event.clone()).await {
                // SQS would deliver it again.
                use bridge::retry_queue::RetryQueue;
                rig.queue.enqueue(&event, 0).await.unwrap();
            }
        }
    }
    assert_eq!(rig.queue.queued_len(), 0, "the retry queue drained");
}

/// Judge: each event applied exactly once, or parked with a reason. (lost, duplicated,
/// applied, parked).
fn judge(rig: &Rig, events: &[Event], accepted: &[bool]) -> (usize, usize, usize, usize) {
    let parked: BTreeMap<String, String> = rig
        .queue
        .parked()
        .into_iter()
        .map(|(e, reason)| (e.body, reason))
        .collect();
    let notes = notes(&rig.sandbox.state_json());
    let (mut lost, mut duplicated, mut applied, mut parked_count) = (0, 0, 0, 0);
    for (i, event) in events.iter().enumerate() {
        let count = notes
            .iter()
            .filter(|note| note.contains(&event.marker))
            .count();
        let body = event.body.to_string();
        match count {
            1 => applied += 1,
            0 if parked.contains_key(&body) => {
                parked_count += 1;
                assert!(!parked[&body].is_empty(), "parked without a reason");
            }
            0 if accepted[i] => {
                lost += 1;
                eprintln!("lost: {}", event.marker);
            }
            0 => {}
            _ => {
                duplicated += 1;
                eprintln!("duplicated {count}x: {}", event.marker);
            }
        }
    }
    (lost, duplicated, applied, parked_count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_accepted_event_is_applied_once_or_parked() {
    let n: usize = std::env::var("FAULT_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let rig = rig().await;
    let events = events(n);
    let accepted = deliver_all(&rig, &events).await;
    drain(&rig).await;
    let (lost, duplicated, applied, parked_count) = judge(&rig, &events, &accepted);
    let faults = rig.sandbox.faults_injected() + rig.store_failures.load(Ordering::SeqCst);
    let summary = format!(
        "events: {n}, faults injected: {faults}, lost: {lost}, duplicated: {duplicated} (applied {applied}, parked {parked_count}, accepted {})",
        accepted.iter().filter(|a| **a).count()
    );
    println!("{summary}");
    // scripts/test.sh shows this line after the test run.
    if let Ok(path) = std::env::var("FAULT_SUMMARY_FILE") {
        let _ = std::fs::write(path, format!("{summary}\n"));
    }
    assert!(faults > 0, "faults were injected");
    assert_eq!((lost, duplicated), (0, 0));
}
