//! The retry worker never outruns its invocation: with too little time left for another
//! message, it puts the rest back on the retry queue untouched.

use bridge::deadline::Deadline;
use bridge::retry_queue::QueuedEvent;
use bridge::worker::{handle_batch, SqsEvent, SqsMessage};
use bridge::EndpointId;
use bridge_testkit::*;
use serde_json::json;

fn batch(n: usize) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = (0..n)
        .map(|i| {
            let queued = QueuedEvent {
                endpoint: EndpointId::GhlNewNote,
                body: json!({"contact": {"id": "ghl_123456", "phone": "+393501234567"}, "note": {"body": format!("n{i}")}})
                    .to_string(),
                body_ref: None,
                key: format!("ghl-new-note#body#{i}"),
                attempt: 0,
                first_received_at: "2026-12-01T10:00:00Z".into(),
                last_error: None,
                parked_at: None,
                not_before_ms: None,
                tenant: None,
                credential: None,
            };
            let mut m = SqsMessage::default();
            m.message_id = Some(format!("m{i}"));
            m.body = Some(serde_json::to_string(&queued).unwrap());
            m
        })
        .collect();
    event
}

#[tokio::test]
async fn messages_it_has_no_time_for_go_back_untouched() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let (deps, _map, queue) = fakes.deps_with_queue();
    // 5 s left: less than one message's 10 s deadline.
    let until = Deadline::after(std::time::Duration::from_secs(5));
    let answer = handle_batch(&deps, batch(3), Some(until)).await;
    assert!(
        answer.batch_item_failures.is_empty(),
        "queued again at once, not handed back to SQS (which would hold them for the visibility timeout)"
    );
    let requeued = queue.drain();
    let keys: Vec<&str> = requeued.iter().map(|(e, _)| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "ghl-new-note#body#0",
            "ghl-new-note#body#1",
            "ghl-new-note#body#2"
        ]
    );
    assert!(
        requeued
            .iter()
            .all(|(e, delay)| *delay == 0 && e.attempt == 0),
        "untouched: no delay, no attempt counted"
    );
    assert!(
        received(&fakes.cloudtalk).await.is_empty(),
        "nothing was started"
    );
    // With the time, it applies them.
    let until = Deadline::after(std::time::Duration::from_secs(60));
    let answer = handle_batch(&deps, batch(1), Some(until)).await;
    assert!(answer.batch_item_failures.is_empty());
    assert!(!received(&fakes.cloudtalk).await.is_empty());
}

/// A retry queue that records the worker's lease calls, and refuses them all.
#[derive(Default)]
struct RefusingLeases {
    inner: bridge::retry_queue::MemoryRetryQueue,
    leases: std::sync::Mutex<Vec<(Vec<String>, u32)>>,
}

#[async_trait::async_trait]
impl bridge::retry_queue::RetryQueue for RefusingLeases {
    async fn enqueue(
        &self,
        event: &QueuedEvent,
        delay_secs: u32,
    ) -> Result<(), bridge::store::StoreError> {
        self.inner.enqueue(event, delay_secs).await
    }
    async fn park(
        &self,
        event: &QueuedEvent,
        reason: &str,
    ) -> Result<(), bridge::store::StoreError> {
        self.inner.park(event, reason).await
    }
    async fn park_raw(&self, body: &str, reason: &str) -> Result<(), bridge::store::StoreError> {
        self.inner.park_raw(body, reason).await
    }
    async fn lease(&self, handles: &[String], secs: u32) -> Result<(), bridge::store::StoreError> {
        self.leases.lock().unwrap().push((handles.to_vec(), secs));
        Err(bridge::store::StoreError::new("ReceiptHandleIsInvalid"))
    }
    fn kind(&self) -> &'static str {
        "refusing-leases"
    }
}

#[tokio::test]
async fn the_worker_leases_its_batch_and_a_refused_lease_fails_nothing() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let queue = std::sync::Arc::new(RefusingLeases::default());
    let (mut deps, _map, _) = fakes.deps_with_queue();
    deps.retry_queue = queue.clone();
    let mut messages = batch(2);
    for (i, m) in messages.records.iter_mut().enumerate() {
        m.receipt_handle = Some(format!("receipt-{i}"));
    }
    let until = Deadline::after(std::time::Duration::from_secs(60));
    let answer = handle_batch(&deps, messages, Some(until)).await;
    assert!(
        answer.batch_item_failures.is_empty(),
        "a lease that cannot be taken fails no message"
    );
    assert!(
        !received(&fakes.cloudtalk).await.is_empty(),
        "the batch was worked on"
    );
    let leases = queue.leases.lock().unwrap().clone();
    assert_eq!(
        leases.first(),
        Some(&(
            vec!["receipt-0".to_string(), "receipt-1".to_string()],
            bridge::worker::LEASE_SECS
        )),
        "the batch is leased at once, for the lease's length"
    );
}
