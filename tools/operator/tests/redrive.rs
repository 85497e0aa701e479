//! The redrive tool against the local SQS server (`moto_server`, `DYNAMODB_TEST_ENDPOINT`):
//! events parked by the bridge's own dead-letter code, listed by reason, moved back to the
//! retry queue in part or in full, a dry run, and sends that fail (in part or in full) leaving
//! their messages parked.

use async_trait::async_trait;
use bridge::registry::EndpointId;
use bridge::retry_queue::{QueuedEvent, RetryQueue, SqsRetryQueue};
use bridge_operator::redrive::{
    group, redrive, DeadLetterQueue, Destination, Filter, ParkedMessage, Quiet, SqsDestination,
};
use bridge_testkit::aws::{aws_endpoint, sqs_client, unique_name};

struct Queues {
    sqs: aws_sdk_sqs::Client,
    retry: String,
    dlq: String,
    bridge: SqsRetryQueue,
}

async fn queue(sqs: &aws_sdk_sqs::Client, prefix: &str) -> String {
    sqs.create_queue()
        .queue_name(unique_name(prefix))
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string()
}

async fn queues() -> Option<Queues> {
    let sqs = sqs_client(&aws_endpoint()?);
    let retry = queue(&sqs, "redrive-retry").await;
    let dlq = queue(&sqs, "redrive-dlq").await;
    let bridge = SqsRetryQueue::new(sqs.clone(), retry.clone(), Some(dlq.clone()));
    Some(Queues {
        sqs,
        retry,
        dlq,
        bridge,
    })
}

fn event(endpoint: EndpointId, key: &str) -> QueuedEvent {
    QueuedEvent {
        endpoint,
        body: format!(r#"{{"contact": {{"id": "{key}"}}, "tag": {{"name": "VIP"}}}}"#),
        body_ref: None,
        key: key.to_string(),
        attempt: 3,
        first_received_at: "2026-11-30T10:00:00Z".into(),
        last_error: Some("upstream_error: 500".into()),
        parked_at: None,
        not_before_ms: None,
        tenant: None,
        credential: None,
    }
}

impl Queues {
    /// Parks an event the way the bridge does.
    async fn park(&self, endpoint: EndpointId, key: &str, reason: &str) {
        self.bridge
            .park(&event(endpoint, key), reason)
            .await
            .unwrap();
    }

    fn dead_letter(&self) -> DeadLetterQueue {
        let mut dlq = DeadLetterQueue::new(self.sqs.clone(), self.dlq.clone());
        dlq.hold_secs = 30;
        dlq
    }

    /// The idempotency keys of the messages on a queue (left visible), sorted.
    async fn keys(&self, url: &str) -> Vec<String> {
        let queue = DeadLetterQueue {
            client: self.sqs.clone(),
            url: url.to_string(),
            hold_secs: 30,
        };
        let mut keys: Vec<String> = queue
            .list(|_| {})
            .await
            .unwrap()
            .iter()
            .map(|m| m.event.as_ref().map_or("?".into(), |e| e.key.clone()))
            .collect();
        keys.sort();
        keys
    }

    fn destination(&self) -> SqsDestination {
        SqsDestination {
            client: self.sqs.clone(),
            queue_url: self.retry.clone(),
        }
    }
}

fn keys(names: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    keys.sort();
    keys
}

const INVALID_PHONE: &str = "refused: CloudTalk answered 406: invalid phone number";
const GAVE_UP: &str = "gave up after 8 attempts; last error upstream_error: 500";

/// Three events for one reason on two endpoints, two for another, and a message that is not a
/// queued event.
async fn parked_mix(q: &Queues) {
    q.park(EndpointId::GhlNewContact, "a1", INVALID_PHONE).await;
    q.park(EndpointId::GhlNewContact, "a2", INVALID_PHONE).await;
    q.park(EndpointId::GhlNewTag, "a3", INVALID_PHONE).await;
    q.park(EndpointId::GhlNewNote, "b1", GAVE_UP).await;
    q.park(EndpointId::GhlNewNote, "b2", GAVE_UP).await;
    q.sqs
        .send_message()
        .queue_url(&q.dlq)
        .message_body("not a queued event")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn parked_events_are_listed_by_reason_and_stay_parked() {
    let Some(q) = queues().await else { return };
    parked_mix(&q).await;
    let listed = q.dead_letter().list(|_| {}).await.unwrap();
    let groups = group(&listed);
    let summary: Vec<(usize, &str)> = groups
        .iter()
        .map(|g| (g.count, g.reason.as_str()))
        .collect();
    assert_eq!(summary[0], (3, INVALID_PHONE));
    assert_eq!(summary[1], (2, GAVE_UP));
    assert!(
        summary[2].1.starts_with("not a queued event"),
        "{summary:?}"
    );
    assert_eq!(groups[0].endpoints.get("ghl-new-contact"), Some(&2));
    assert_eq!(groups[0].endpoints.get("ghl-new-tag"), Some(&1));
    assert!(groups[0].oldest.is_some(), "parked_at is read");
    // Listing holds nothing: everything is visible again at once.
    assert_eq!(
        q.keys(&q.dlq).await,
        keys(&["?", "a1", "a2", "a3", "b1", "b2"])
    );
    assert!(q.keys(&q.retry).await.is_empty());
}

#[tokio::test]
async fn a_dry_run_moves_nothing() {
    let Some(q) = queues().await else { return };
    parked_mix(&q).await;
    let filter = Filter {
        reason: Some("INVALID PHONE".into()),
        ..Filter::default()
    };
    let report = redrive(
        &q.dead_letter(),
        &q.destination(),
        &filter,
        true,
        &mut Quiet,
    )
    .await
    .unwrap();
    assert_eq!((report.parked, report.chosen, report.moved), (6, 3, 0));
    assert_eq!(
        report.to_string(),
        "would move 3 of 6 parked event(s) to the retry queue"
    );
    assert_eq!(q.keys(&q.dlq).await.len(), 6);
    assert!(q.keys(&q.retry).await.is_empty());
}

#[tokio::test]
async fn some_then_all_move_back_and_unreadable_messages_stay() {
    let Some(q) = queues().await else { return };
    parked_mix(&q).await;
    let by_reason = Filter {
        reason: Some("invalid phone".into()),
        endpoint: Some("ghl-new-contact".into()),
        limit: Some(1),
        ..Filter::default()
    };
    let report = redrive(
        &q.dead_letter(),
        &q.destination(),
        &by_reason,
        false,
        &mut Quiet,
    )
    .await
    .unwrap();
    assert_eq!((report.chosen, report.moved), (1, 1));
    let moved = q.keys(&q.retry).await;
    assert_eq!(moved.len(), 1);
    assert!(moved[0] == "a1" || moved[0] == "a2", "{moved:?}");
    assert_eq!(q.keys(&q.dlq).await.len(), 5);

    let report = redrive(
        &q.dead_letter(),
        &q.destination(),
        &Filter::default(),
        false,
        &mut Quiet,
    )
    .await
    .unwrap();
    assert_eq!((report.chosen, report.moved, report.unreadable), (5, 4, 1));
    assert_eq!(
        q.keys(&q.dlq).await,
        keys(&["?"]),
        "only the unreadable one stays"
    );
    assert_eq!(
        q.keys(&q.retry).await,
        keys(&["a1", "a2", "a3", "b1", "b2"])
    );

    // What reaches the retry queue is the parked event itself: the worker sees `parked_at`
    // and gives it its attempts afresh.
    let on_retry = DeadLetterQueue::new(q.sqs.clone(), q.retry.clone())
        .list(|_| {})
        .await
        .unwrap();
    let event = on_retry[0].event.clone().unwrap();
    assert!(event.parked_at.is_some());
    assert!(event.last_error.is_some());
}

/// The retry queue, failing the sends of the events whose key starts with `fail`.
struct FailSome(SqsDestination);

#[async_trait]
impl Destination for FailSome {
    async fn send_batch(&self, messages: &[&ParkedMessage]) -> Vec<Result<(), String>> {
        let (fail, pass): (Vec<(usize, &ParkedMessage)>, Vec<(usize, &ParkedMessage)>) = messages
            .iter()
            .copied()
            .enumerate()
            .partition(|(_, m)| m.event.as_ref().is_some_and(|e| e.key.starts_with("fail")));
        let sent = self
            .0
            .send_batch(&pass.iter().map(|(_, m)| *m).collect::<Vec<_>>())
            .await;
        let mut results = vec![Ok(()); messages.len()];
        for (i, _) in fail {
            results[i] = Err("InternalError: injected".into());
        }
        for ((i, _), result) in pass.iter().zip(sent) {
            results[*i] = result;
        }
        results
    }
}

#[tokio::test]
async fn messages_whose_send_failed_stay_on_the_dead_letter_queue() {
    let Some(q) = queues().await else { return };
    // Thirteen: two batches; five of them fail, across both.
    let mut expected_moved = Vec::new();
    let mut expected_parked = Vec::new();
    for i in 0..13 {
        let key = if i % 3 == 0 {
            format!("fail-{i}")
        } else {
            format!("ok-{i}")
        };
        q.park(EndpointId::GhlNewTag, &key, GAVE_UP).await;
        match key.starts_with("fail") {
            true => expected_parked.push(key),
            false => expected_moved.push(key),
        }
    }
    expected_moved.sort();
    expected_parked.sort();
    let mut progress = Recorded::default();
    let report = redrive(
        &q.dead_letter(),
        &FailSome(q.destination()),
        &Filter::default(),
        false,
        &mut progress,
    )
    .await
    .unwrap();
    assert_eq!(
        (report.chosen, report.moved, report.send_failed.len()),
        (13, 8, 5)
    );
    assert!(report.delete_failed.is_empty());
    assert_eq!(q.keys(&q.retry).await, expected_moved);
    assert_eq!(
        q.keys(&q.dlq).await,
        expected_parked,
        "failed sends stay parked, visible at once"
    );
    assert_eq!(progress.0.last(), Some(&(13, 13, 8, 5)));
    assert_eq!(progress.0.len(), 2, "one progress step per batch");
}

#[derive(Default)]
struct Recorded(Vec<(usize, usize, usize, usize)>);

impl bridge_operator::redrive::Progress for Recorded {
    fn moving(&mut self, done: usize, chosen: usize, moved: usize, failed: usize) {
        self.0.push((done, chosen, moved, failed));
    }
}

#[tokio::test]
async fn an_unreachable_retry_queue_leaves_everything_parked() {
    let Some(q) = queues().await else { return };
    parked_mix(&q).await;
    let gone = SqsDestination {
        client: q.sqs.clone(),
        queue_url: format!("{}-does-not-exist", q.retry),
    };
    let report = redrive(
        &q.dead_letter(),
        &gone,
        &Filter::default(),
        false,
        &mut Quiet,
    )
    .await
    .unwrap();
    assert_eq!((report.moved, report.send_failed.len()), (0, 5));
    assert!(
        report.send_failed[0].1.contains("SendMessageBatch"),
        "{:?}",
        report.send_failed
    );
    assert_eq!(q.keys(&q.dlq).await.len(), 6);
}

#[tokio::test]
async fn the_command_reads_the_queues_from_the_environment_and_dry_runs() {
    let Some(q) = queues().await else { return };
    parked_mix(&q).await;
    let endpoint = aws_endpoint().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_bridge"))
            .arg("redrive")
            .args(args)
            .env_remove("BRIDGE_STACK")
            .stdin(std::process::Stdio::null())
            .env("DEAD_LETTER_QUEUE_URL", &q.dlq)
            .env("RETRY_QUEUE_URL", &q.retry)
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .output()
            .unwrap()
    };
    let listed = run(&[]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success(), "{text}");
    assert!(text.starts_with("6 parked event(s), 3 reason(s)"), "{text}");
    assert!(text.contains(&format!("    3  {INVALID_PHONE}")), "{text}");

    let dry = run(&["move", "--endpoint", "ghl-new-note", "--dry-run"]);
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(dry.status.success(), "{text}");
    assert!(text.contains("dry run: nothing is moved"), "{text}");
    assert!(text.contains("would move 2 of 6 parked event(s)"), "{text}");
    assert_eq!(q.keys(&q.dlq).await.len(), 6);

    let unconfirmed = run(&["move", "--endpoint", "ghl-new-note", "--quiet"]);
    assert_eq!(
        unconfirmed.status.code(),
        Some(2),
        "no terminal to ask on and no --yes: refused"
    );
    assert_eq!(q.keys(&q.dlq).await.len(), 6);

    let listed = run(&["list", "--json"]);
    let groups: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let counts: Vec<u64> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, vec![3, 2, 1], "{groups}");

    let moved = run(&["move", "--endpoint", "ghl-new-note", "--quiet", "--yes"]);
    let text = String::from_utf8_lossy(&moved.stdout);
    assert!(moved.status.success(), "{text}");
    assert!(text.contains("moved 2 of 6 parked event(s)"), "{text}");
    assert_eq!(q.keys(&q.retry).await, keys(&["b1", "b2"]));

    let refused = run(&["move"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "move without a choice is refused"
    );
}

/// An event parked longer ago than idempotency records live is left parked (a redrive could
/// repeat the steps it finished), unless the operator allows repeats.
#[tokio::test]
async fn an_event_parked_longer_than_its_record_lives_is_left_unless_repeats_are_allowed() {
    let Some(q) = queues().await else { return };
    let mut old = event(EndpointId::GhlNewTag, "old-1");
    let long_ago = chrono::Utc::now() - chrono::Duration::days(25);
    old.first_received_at = long_ago.to_rfc3339();
    old.parked_at = Some(long_ago.to_rfc3339());
    old.last_error = Some("upstream_rejected: 406".into());
    q.sqs
        .send_message()
        .queue_url(&q.dlq)
        .message_body(serde_json::to_string(&old).unwrap())
        .send()
        .await
        .unwrap();
    q.park(EndpointId::GhlNewTag, "fresh-1", "upstream_rejected: 406")
        .await;
    let all = Filter::default();
    let report = redrive(&q.dead_letter(), &q.destination(), &all, false, &mut Quiet)
        .await
        .unwrap();
    assert_eq!((report.chosen, report.moved, report.outlived), (2, 1, 1));
    assert!(report.to_string().contains("--allow-repeats"), "{report}");
    assert_eq!(q.keys(&q.retry).await, vec!["fresh-1".to_string()]);
    let allowed = Filter {
        allow_repeats: true,
        ..Filter::default()
    };
    let report = redrive(
        &q.dead_letter(),
        &q.destination(),
        &allowed,
        false,
        &mut Quiet,
    )
    .await
    .unwrap();
    assert_eq!((report.moved, report.outlived), (1, 0));
}
