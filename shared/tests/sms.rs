//! Texts both ways, through the real handlers: GHL's provider deliveries sent through
//! CloudTalk once, after asking GHL, with `delivered` or `failed` reported on GHL's message;
//! texts received in CloudTalk added to the contact's GHL conversation, STOP and START kept in
//! GHL's SMS Do Not Disturb.

use std::sync::Arc;
use std::time::Duration;

use bridge::Deps;
use bridge_testkit::*;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const ED_PRIVATE: &str = include_str!("fixtures/test-ed25519-private.pem");
const ED_PUBLIC: &str = include_str!("fixtures/test-ed25519-public.pem");
const DELIVERY: &str = "/api/ghl-webhooks/sms-delivery";
const RECEIVED: &str = "/api/cloudtalk-webhooks/sms-received";
const SENDER: &str = "+442039960000";

async fn start() -> (Fakes, Deps) {
    let fakes = Fakes::start().await;
    let mut settings = config(&fakes.cloudtalk, &fakes.ghl);
    settings.config.ghl_webhook_public_key = Some(ED_PUBLIC.to_string());
    settings.config.sms.sender = Some(SENDER.to_string());
    settings.config.sms.provider_id = Some("sms-provider-1".to_string());
    settings.config.upstream_timeout = Duration::from_millis(500);
    settings.config.upstream_retry_budget = Duration::ZERO;
    let deps = Deps::build(settings, bridge::Backends::in_memory()).unwrap();
    (fakes, deps)
}

async fn mount_all(fakes: &Fakes) {
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
}

fn delivery(message_id: &str, contact: &str, text: &str) -> String {
    json!({"contactId": contact, "locationId": LOCATION, "messageId": message_id,
        "type": "SMS", "phone": "+393331234567", "message": text, "attachments": [],
        "userId": "ghl-user-without-agent"})
    .to_string()
}

async fn send(deps: &Deps, req: lambda_http::Request) -> (u16, Value) {
    let res = bridge::route(deps, req).await;
    (res.status().as_u16(), response_json(&res))
}

async fn deliver(deps: &Deps, body: &str) -> (u16, Value) {
    send(deps, signed_post(DELIVERY, body, ED_PRIVATE)).await
}

/// The texts CloudTalk was asked to send.
async fn texts_sent(fakes: &Fakes) -> Vec<Value> {
    received(&fakes.cloudtalk)
        .await
        .into_iter()
        .filter(|r| r.path == "/api/sms/send.json")
        .map(|r| r.body)
        .collect()
}

/// The statuses reported on GHL's messages.
async fn statuses(fakes: &Fakes) -> Vec<Value> {
    received(&fakes.ghl)
        .await
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("/status"))
        .map(|r| r.body)
        .collect()
}

/// GHL holds contact `id` in the test location, with `dnd_settings`.
async fn mount_contact(fakes: &Fakes, id: &str, dnd_settings: Value) {
    let contact = json!({"contact": {"id": id, "locationId": LOCATION, "firstName": "Anna",
        "phone": "+393331234567", "dnd": false, "dndSettings": dnd_settings}});
    Mock::given(method("GET"))
        .and(path(format!("/contacts/{id}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(contact))
        .with_priority(1)
        .mount(&fakes.ghl)
        .await;
}

#[tokio::test]
async fn a_signed_delivery_is_sent_once_and_reported_delivered() {
    let (fakes, deps) = start().await;
    mount_all(&fakes).await;
    let (status, answer) = deliver(&deps, &delivery("m-1", "c-1", "Ciao, a domani")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], "delivered", "{answer}");
    let sent = texts_sent(&fakes).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0]["recipient"], "+393331234567",
        "GHL's number for the contact"
    );
    assert_eq!(sent[0]["sender"], SENDER);
    assert_eq!(sent[0]["message"], "Ciao, a domani");
    assert_eq!(statuses(&fakes).await, [json!({"status": "delivered"})]);
    // Delivered again (GHL's retry, a replay): nothing more is sent or reported.
    let (status, again) = deliver(&deps, &delivery("m-1", "c-1", "Ciao, a domani")).await;
    assert_eq!(
        (status, &again["duplicate"]),
        (200, &json!(true)),
        "{again}"
    );
    assert_eq!(texts_sent(&fakes).await.len(), 1);
    assert_eq!(statuses(&fakes).await.len(), 1);
}

#[tokio::test]
async fn the_same_delivery_three_times_at_once_sends_one_text() {
    let (fakes, deps) = start().await;
    mount_all(&fakes).await;
    let deps = Arc::new(deps);
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let deps = deps.clone();
        sends.spawn(async move { deliver(&deps, &delivery("m-2", "c-1", "Una volta")).await });
    }
    while let Some(done) = sends.join_next().await {
        let (status, answer) = done.unwrap();
        assert!(status == 200 || status == 202, "{status} {answer}");
    }
    assert_eq!(texts_sent(&fakes).await.len(), 1);
    assert_eq!(statuses(&fakes).await.len(), 1);
}

#[tokio::test]
async fn a_text_cloudtalk_does_not_send_is_reported_failed_with_its_reason() {
    let (fakes, deps) = start().await;
    let refused = json!({"responseData": {"success": false, "data": "Not allowed country."}});
    Mock::given(method("POST"))
        .and(path("/api/sms/send.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(refused))
        .with_priority(1)
        .mount(&fakes.cloudtalk)
        .await;
    mount_all(&fakes).await;
    let (status, answer) = deliver(&deps, &delivery("m-3", "c-1", "Ciao")).await;
    assert_eq!(
        (status, &answer["result"]),
        (200, &json!("failed")),
        "{answer}"
    );
    let reported = statuses(&fakes).await;
    assert_eq!(reported.len(), 1);
    assert_eq!(reported[0]["status"], "failed");
    let reason = reported[0]["error"]["message"].as_str().unwrap();
    assert!(reason.contains("Not allowed country."), "{reason}");
}

#[tokio::test]
async fn an_unsigned_or_foreign_delivery_is_refused_before_any_request() {
    let (fakes, deps) = start().await;
    mount_all(&fakes).await;
    let body = delivery("m-4", "c-1", "Ciao");
    let (status, answer) = send(&deps, post(DELIVERY, &body, Some(GHL_SECRET))).await;
    assert_eq!(
        status, 401,
        "a workflow secret cannot ask for a text: {answer}"
    );
    let foreign = body.replace(LOCATION, "loc-someone-else");
    let (status, answer) = deliver(&deps, &foreign).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["error"], "foreign_location", "{answer}");
    assert!(received(&fakes.cloudtalk).await.is_empty());
    assert!(received(&fakes.ghl).await.is_empty());
}

#[tokio::test]
async fn a_contact_who_opted_out_of_texts_gets_none() {
    let (fakes, deps) = start().await;
    mount_contact(&fakes, "c-dnd", json!({"SMS": {"status": "active"}})).await;
    mount_all(&fakes).await;
    let (status, answer) = deliver(&deps, &delivery("m-5", "c-dnd", "Offerta!")).await;
    assert_eq!(
        (status, &answer["result"]),
        (200, &json!("failed")),
        "{answer}"
    );
    assert_eq!(answer["reason"], "dnd_sms", "{answer}");
    assert!(texts_sent(&fakes).await.is_empty());
    assert_eq!(statuses(&fakes).await[0]["error"]["code"], "dnd_sms");
    // Calls barred only: texts still go.
    mount_contact(&fakes, "c-calls", json!({"Call": {"status": "active"}})).await;
    let (_, answer) = deliver(&deps, &delivery("m-6", "c-calls", "Ciao")).await;
    assert_eq!(answer["result"], "delivered", "{answer}");
}

#[tokio::test]
async fn a_lost_answer_is_reported_failed_and_never_sent_again() {
    let (fakes, deps) = start().await;
    let late = json!({"responseData": {"success": true, "data": {}}});
    Mock::given(method("POST"))
        .and(path("/api/sms/send.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(late)
                .set_delay(Duration::from_secs(2)),
        )
        .with_priority(1)
        .mount(&fakes.cloudtalk)
        .await;
    // GHL fails the first report: the event is tried again.
    Mock::given(method("PUT"))
        .and(path("/conversations/messages/m-7/status"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&fakes.ghl)
        .await;
    mount_all(&fakes).await;
    let (status, answer) = deliver(&deps, &delivery("m-7", "c-1", "Ciao")).await;
    assert_eq!(status, 202, "queued: the report failed: {answer}");
    let (status, answer) = deliver(&deps, &delivery("m-7", "c-1", "Ciao")).await;
    assert_eq!(
        (status, &answer["reason"]),
        (200, &json!("outcome_unknown")),
        "{answer}"
    );
    let reported = statuses(&fakes).await;
    assert_eq!(reported.last().unwrap()["error"]["code"], "outcome_unknown");
    assert_eq!(
        texts_sent(&fakes).await.len(),
        1,
        "sent once, whatever happened to it"
    );
}

#[tokio::test]
async fn the_number_day_bound_and_a_message_no_longer_pending_stop_a_text() {
    let (fakes, mut deps) = start().await;
    deps.config.sms.max_per_number_per_day = 2;
    mount_all(&fakes).await;
    for i in 0..2 {
        let (_, answer) = deliver(&deps, &delivery(&format!("cap-{i}"), "c-1", "Ciao")).await;
        assert_eq!(answer["result"], "delivered", "{answer}");
    }
    let (_, answer) = deliver(&deps, &delivery("cap-2", "c-1", "Ciao")).await;
    assert_eq!(answer["reason"], "cap_per_number", "{answer}");
    assert_eq!(texts_sent(&fakes).await.len(), 2);
    // A message GHL already settled is not the bridge's to send.
    let settled = json!({"id": "m-done", "type": 2, "messageType": "TYPE_SMS",
        "locationId": LOCATION, "contactId": "c-1", "conversationId": "conv-1",
        "dateAdded": "2026-11-28T10:00:00.000Z", "direction": "outbound",
        "contentType": "text/plain", "status": "delivered"});
    Mock::given(method("GET"))
        .and(path("/conversations/messages/m-done"))
        .respond_with(ResponseTemplate::new(200).set_body_json(settled))
        .with_priority(1)
        .mount(&fakes.ghl)
        .await;
    let (_, answer) = deliver(&deps, &delivery("m-done", "c-2", "Ciao")).await;
    assert_eq!(answer["result"], "not_pending", "{answer}");
    assert_eq!(texts_sent(&fakes).await.len(), 2);
}

fn received_text(id: &str, text: &str) -> String {
    json!({"sms_id": id, "external_number": "+393331234567", "internal_number": SENDER,
        "text": text, "date": "2026-11-28T10:00:00Z"})
    .to_string()
}

/// The inbound texts added to GHL's conversations.
async fn inbound(fakes: &Fakes) -> Vec<Value> {
    received(&fakes.ghl)
        .await
        .into_iter()
        .filter(|r| r.path == "/conversations/messages/inbound")
        .map(|r| r.body)
        .collect()
}

/// The SMS Do Not Disturb statuses written to GHL contacts.
async fn sms_dnd_written(fakes: &Fakes) -> Vec<Value> {
    received(&fakes.ghl)
        .await
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.starts_with("/contacts/"))
        .map(|r| r.body["dndSettings"]["SMS"]["status"].clone())
        .collect()
}

#[tokio::test]
async fn a_received_text_becomes_one_inbound_message() {
    let (fakes, deps) = start().await;
    mount_all(&fakes).await;
    let req = post(
        RECEIVED,
        &received_text("s-1", "Va bene"),
        Some(CLOUDTALK_SECRET),
    );
    let (status, answer) = send(&deps, req).await;
    assert_eq!(status, 200, "{answer}");
    let added = inbound(&fakes).await;
    assert_eq!(added.len(), 1);
    assert_eq!(added[0]["type"], "SMS");
    assert_eq!(added[0]["message"], "Va bene");
    assert_eq!(added[0]["conversationProviderId"], "sms-provider-1");
    assert_eq!(added[0]["conversationId"], "conv-1");
    // Delivered again: still one.
    let req = post(
        RECEIVED,
        &received_text("s-1", "Va bene"),
        Some(CLOUDTALK_SECRET),
    );
    send(&deps, req).await;
    assert_eq!(inbound(&fakes).await.len(), 1);
    assert!(sms_dnd_written(&fakes).await.is_empty(), "not a keyword");
}

#[tokio::test]
async fn stop_sets_the_contact_s_sms_dnd_and_start_lifts_it() {
    let (fakes, deps) = start().await;
    mount_all(&fakes).await;
    let req = post(
        RECEIVED,
        &received_text("s-2", "STOP"),
        Some(CLOUDTALK_SECRET),
    );
    let (_, answer) = send(&deps, req).await;
    assert_eq!(answer["smsDnd"], true, "{answer}");
    assert_eq!(sms_dnd_written(&fakes).await, [json!("active")]);
    let req = post(
        RECEIVED,
        &received_text("s-3", "start"),
        Some(CLOUDTALK_SECRET),
    );
    let (_, answer) = send(&deps, req).await;
    assert_eq!(answer["smsDnd"], false, "{answer}");
    assert_eq!(
        sms_dnd_written(&fakes).await,
        [json!("active"), json!("inactive")]
    );
    assert_eq!(
        inbound(&fakes).await.len(),
        2,
        "the texts themselves arrive too"
    );
}
