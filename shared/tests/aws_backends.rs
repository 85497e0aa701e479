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
        key: "ghl-new-note#body#abc".into(),
        attempt: 1,
        first_received_at: "2026-11-28T10:00:00Z".into(),
        last_error: Some("upstream_unavailable: 429".into()),
        parked_at: None,
        not_before_ms: None,
        tenant: None,
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
