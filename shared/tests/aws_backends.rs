//! The AWS backends at work against a real DynamoDB- and SQS-compatible server (`moto_server`,
//! started by `scripts/test.sh`, which exports `DYNAMODB_TEST_ENDPOINT`; see
//! [`bridge_testkit::aws_endpoint`]): a handler recording its link in DynamoDB, and the retry and
//! dead-letter queues on SQS. The stores themselves are checked by `store_contract.rs`.

use std::sync::Arc;

use bridge::contact_map::{ContactMap, DynamoContactMap};
use bridge::pipeline::handle;
use bridge::EndpointId;
use bridge_testkit::*;
use serde_json::json;

#[tokio::test]
async fn new_contact_handler_records_the_link_in_dynamodb() {
    let Some((client, table)) = dynamodb_table("contact-map").await else {
        return;
    };
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let map = Arc::new(DynamoContactMap::new(client, table));
    let deps = fakes.deps(map.clone());
    let body = r#"{"type":"ContactCreate","webhookId":"wh-1","locationId":"loc-test","id":"ghl-77","firstName":"Anna","phone":"+14155552671"}"#;

    let res = handle(
        EndpointId::GhlNewContact,
        &deps,
        post("/api/ghl-webhooks/new-contact", body, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 200);
    let link = map.find_by_ghl(LOCATION, "ghl-77").await.unwrap().unwrap();
    assert_eq!(link.cloudtalk_contact_id, "9001");

    // The same delivery again: a duplicate, answered as before, with no upstream call.
    let before = received(&fakes.cloudtalk).await.len();
    let res = handle(
        EndpointId::GhlNewContact,
        &deps,
        post("/api/ghl-webhooks/new-contact", body, Some(GHL_SECRET)),
    )
    .await;
    let answer = response_json(&res);
    assert_eq!(
        (
            answer["duplicate"].clone(),
            answer["cloudtalkContactId"].clone()
        ),
        (json!(true), json!("9001"))
    );
    assert_eq!(received(&fakes.cloudtalk).await.len(), before);

    // Another event about the same contact: found in the map, no search and no create.
    let other = body.replace("wh-1", "wh-2");
    let res = handle(
        EndpointId::GhlNewContact,
        &deps,
        post("/api/ghl-webhooks/new-contact", &other, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(response_json(&res)["foundBy"], "map");
    assert_eq!(received(&fakes.cloudtalk).await.len(), before);
}

#[tokio::test]
async fn retry_and_dead_letter_queues_on_sqs() {
    use bridge::retry_queue::{QueuedEvent, RetryQueue, SqsRetryQueue};
    let Some(ep) = aws_endpoint() else { return };
    let sqs = sqs_client(&ep);
    let url = |name: String| {
        let sqs = sqs.clone();
        async move {
            sqs.create_queue()
                .queue_name(name)
                .send()
                .await
                .unwrap()
                .queue_url
                .unwrap()
        }
    };
    let retry_url = url(unique_name("retry")).await;
    let dlq_url = url(unique_name("dlq")).await;
    let queue = SqsRetryQueue::new(sqs.clone(), retry_url.clone(), Some(dlq_url.clone()));
    let event = QueuedEvent {
        endpoint: EndpointId::GhlNewNote,
        body: r#"{"contact":{"id":"1"},"note":{"body":"x"}}"#.into(),
        body_ref: None,
        key: "ghl-new-note#body#abc".into(),
        attempt: 1,
        first_received_at: "2026-11-28T10:00:00Z".into(),
        last_error: Some("upstream_unavailable: 429".into()),
        parked_at: None,
        not_before_ms: None,
        tenant: None,
        credential: None,
    };
    queue.enqueue(&event, 0).await.unwrap();
    queue
        .park(&event, "upstream_rejected: 406 Invalid input data.")
        .await
        .unwrap();

    let take = |url: String| {
        let sqs = sqs.clone();
        async move {
            sqs.receive_message()
                .queue_url(url)
                .message_attribute_names("All")
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap()
                .messages
                .unwrap_or_default()
        }
    };
    let retried = take(retry_url).await;
    assert_eq!(retried.len(), 1);
    let back: QueuedEvent = serde_json::from_str(retried[0].body().unwrap()).unwrap();
    assert_eq!(back, event);
    let parked = take(dlq_url).await;
    assert_eq!(parked.len(), 1);
    let reason = parked[0].message_attributes().unwrap()["reason"]
        .string_value()
        .unwrap()
        .to_string();
    assert_eq!(reason, "upstream_rejected: 406 Invalid input data.");
    let back: QueuedEvent = serde_json::from_str(parked[0].body().unwrap()).unwrap();
    assert!(back.parked_at.is_some());
    assert_eq!(back.last_error.as_deref(), Some(reason.as_str()));
}

/// The worker's lease on SQS: a message received under the queue's 360 s visibility timeout
/// comes back when its lease ends (a killed invocation's batch), and a handle SQS no longer
/// knows is an error the worker logs, not a panic.
#[tokio::test]
async fn a_leased_message_comes_back_when_its_lease_ends() {
    use aws_sdk_sqs::types::QueueAttributeName;
    use bridge::retry_queue::{RetryQueue, SqsRetryQueue};
    let Some(ep) = aws_endpoint() else { return };
    let sqs = sqs_client(&ep);
    let retry_url = sqs
        .create_queue()
        .queue_name(unique_name("lease"))
        .attributes(QueueAttributeName::VisibilityTimeout, "360")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue = SqsRetryQueue::new(sqs.clone(), retry_url.clone(), None);
    for i in 0..12 {
        sqs.send_message()
            .queue_url(&retry_url)
            .message_body(format!("m{i}"))
            .send()
            .await
            .unwrap();
    }
    let receive = || async {
        let mut got = Vec::new();
        for _ in 0..4 {
            let more = sqs
                .receive_message()
                .queue_url(&retry_url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap()
                .messages
                .unwrap_or_default();
            got.extend(more);
        }
        got
    };
    let first = receive().await;
    assert_eq!(first.len(), 12, "every message received");
    assert!(
        receive().await.is_empty(),
        "held for the visibility timeout"
    );
    // More than one `ChangeMessageVisibilityBatch` of 10.
    let handles: Vec<String> = first
        .iter()
        .map(|m| m.receipt_handle().unwrap().to_string())
        .collect();
    queue.lease(&handles, 2).await.unwrap();
    assert!(receive().await.is_empty(), "held for the lease");
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let again = receive().await;
    assert_eq!(
        again.len(),
        12,
        "back when the lease ended, not after 360 s"
    );
    // Deleted, a message's handle leases nothing: an error, with no handle in it.
    let handle = again[0].receipt_handle().unwrap().to_string();
    sqs.delete_message()
        .queue_url(&retry_url)
        .receipt_handle(&handle)
        .send()
        .await
        .unwrap();
    if let Err(e) = queue.lease(std::slice::from_ref(&handle), 30).await {
        assert!(!e.to_string().contains(&handle), "{e}");
    }
}

/// The largest body a webhook may have (256 KiB), made of what grows most when escaped into the
/// queued event's JSON (`\"`: two bytes become four).
fn largest_escaping_body() -> String {
    let head = r#"{"contact":{"id":"g-big","phone":"+393331234567"},"note":{"body":""#;
    let tail = r#""}}"#;
    let mut body = String::from(head);
    while body.len() + 2 + tail.len() <= bridge::payload::MAX_BODY_BYTES {
        body.push_str(r#"\""#);
    }
    body.push_str(tail);
    assert!(body.len() > bridge::payload::MAX_BODY_BYTES - 2);
    serde_json::from_str::<serde_json::Value>(&body).expect("a valid body");
    body
}

/// A new queue that allows messages of `size` bytes.
async fn queue_of_size(sqs: &aws_sdk_sqs::Client, name: String, size: usize) -> String {
    use aws_sdk_sqs::types::QueueAttributeName;
    sqs.create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::MaximumMessageSize, size.to_string())
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap()
}

/// The messages on a queue, waiting up to about 15 s for the first (the first retry waits a few
/// seconds: the failure schedule's first delay).
async fn take(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    for _ in 0..15 {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        if !got.is_empty() {
            return got;
        }
    }
    Vec::new()
}

/// A deployment on moto with its retry and dead-letter queues, whose CloudTalk is down.
async fn deployment_with_queues(
    ep: &str,
    fakes: &Fakes,
    retry_url: &str,
    dlq_url: &str,
) -> bridge::Deps {
    let dynamo = dynamodb_client(ep);
    let sdk = bridge::aws::sdk_config(|k| match k {
        "AWS_ENDPOINT_URL" => Some(ep.to_string()),
        "AWS_REGION" => Some("us-east-1".into()),
        "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("test".into()),
        _ => None,
    });
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.config.state_table = Some(fresh_table(&dynamo, "big-state").await);
    settings.config.contact_map_table = Some(fresh_table(&dynamo, "big-map").await);
    settings.config.retry_queue_url = Some(retry_url.to_string());
    settings.config.dead_letter_queue_url = Some(dlq_url.to_string());
    let backends = bridge::Backends::from_config(
        &settings.config,
        Some(&sdk),
        bridge::environment::Environment::Local,
    );
    bridge::Deps::build(settings, backends).unwrap()
}

/// A queued message's event, checked to fit on the queue, with its body read back.
async fn read_back(
    deps: &bridge::Deps,
    message: &aws_sdk_sqs::types::Message,
    size: usize,
) -> bridge::retry_queue::QueuedEvent {
    let text = message.body().unwrap();
    assert!(
        text.len() <= bridge::retry_queue::MAX_MESSAGE_BYTES,
        "{size}"
    );
    let mut event: bridge::retry_queue::QueuedEvent = serde_json::from_str(text).unwrap();
    assert!(event.body_ref.is_some() && event.body.is_empty(), "{size}");
    bridge::retry_queue::load_body(deps.state.as_ref(), &mut event)
        .await
        .unwrap();
    event
}

/// The largest body a webhook may have, queued after an outage and then parked after a
/// refusal, on queues that allow 256 KiB and 1 MiB: each message fits, and the body read back
/// at each step is the one received, byte for byte.
#[tokio::test]
async fn the_largest_accepted_body_round_trips_through_retry_and_dead_letter_queues() {
    use wiremock::matchers::any;
    use wiremock::{Mock, ResponseTemplate};
    let Some(ep) = aws_endpoint() else { return };
    let sqs = sqs_client(&ep);
    let body = largest_escaping_body();
    for size in [262_144, 1_048_576] {
        let retry_url = queue_of_size(&sqs, unique_name("big-retry"), size).await;
        let dlq_url = queue_of_size(&sqs, unique_name("big-dlq"), size).await;
        let fakes = Fakes::start().await;
        let outage = Mock::given(any())
            .respond_with(ResponseTemplate::new(503))
            .mount_as_scoped(&fakes.cloudtalk)
            .await;
        let deps = deployment_with_queues(&ep, &fakes, &retry_url, &dlq_url).await;
        let res = bridge::route(
            &deps,
            post("/api/ghl-webhooks/new-note", &body, Some(GHL_SECRET)),
        )
        .await;
        let answer = response_json(&res);
        assert_eq!(res.status(), 202, "{size}: {answer}");

        let queued = take(&sqs, &retry_url).await;
        assert_eq!(queued.len(), 1, "{size}");
        let loaded = read_back(&deps, &queued[0], size).await;
        assert_eq!(loaded.body, body, "{size}: the body as received");

        // The worker's attempt is refused for good: the event is parked, body and all.
        drop(outage);
        Mock::given(any())
            .respond_with(ResponseTemplate::new(406).set_body_json(
                json!({"responseData": {"status": 406, "message": "Invalid input data."}}),
            ))
            .mount(&fakes.cloudtalk)
            .await;
        let mut message = bridge::worker::SqsMessage::default();
        message.message_id = queued[0].message_id.clone();
        message.body = queued[0].body.clone();
        let mut batch = bridge::worker::SqsEvent::default();
        batch.records = vec![message];
        let answer = bridge::worker::handle_batch(&deps, batch, None).await;
        assert!(answer.batch_item_failures.is_empty(), "{size}");
        let parked = take(&sqs, &dlq_url).await;
        assert_eq!(parked.len(), 1, "{size}");
        let parked = read_back(&deps, &parked[0], size).await;
        assert!(parked.parked_at.is_some());
        assert_eq!(parked.body, body, "{size}: the parked body as received");
    }
}
