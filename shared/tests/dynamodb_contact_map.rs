//! The DynamoDB contact map against a real DynamoDB-compatible server (`moto_server`, started
//! by `scripts/test.sh`, which exports `DYNAMODB_TEST_ENDPOINT`).

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use bridge::contact_map::{ContactLink, ContactMap, DynamoContactMap, LinkOrigin, LinkOutcome};
use bridge::handlers::ghl::NewContact;
use bridge::webhook::handle;
use common::*;
use serde_json::json;

/// The server's endpoint. Without one the tests are skipped locally but fail in CI, so a CI run
/// can never pass without having exercised DynamoDB.
fn endpoint() -> Option<String> {
    match std::env::var("DYNAMODB_TEST_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ if std::env::var("CI").is_ok() => {
            panic!("DYNAMODB_TEST_ENDPOINT must be set in CI (run scripts/test.sh)")
        }
        _ => {
            eprintln!("skipped: DYNAMODB_TEST_ENDPOINT is not set (scripts/test.sh starts moto_server and sets it)");
            None
        }
    }
}

fn client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

static TABLES: AtomicU32 = AtomicU32::new(0);

/// Creates a fresh table with the template's key schema (both tables share it).
async fn fresh_table(endpoint: &str) -> String {
    let client = client(endpoint);
    let name = format!(
        "contact-map-{}-{}",
        std::process::id(),
        TABLES.fetch_add(1, Ordering::SeqCst)
    );
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create table");
    name
}

async fn fresh_map(endpoint: &str) -> DynamoContactMap {
    DynamoContactMap::new(client(endpoint), fresh_table(endpoint).await)
}

#[tokio::test]
async fn links_are_found_in_both_directions() {
    let Some(ep) = endpoint() else { return };
    let map = fresh_map(&ep).await;
    assert!(map.find_by_ghl("loc", "g1").await.unwrap().is_none());
    let link = ContactLink::new("loc", "g1", "c1", LinkOrigin::GoHighLevel);
    assert_eq!(map.link(&link).await.unwrap(), LinkOutcome::Created);
    assert_eq!(map.find_by_ghl("loc", "g1").await.unwrap().unwrap(), link);
    assert_eq!(
        map.find_by_cloudtalk("loc", "c1").await.unwrap().unwrap(),
        link
    );
    // Keys include the location: another location does not see it.
    assert!(map.find_by_ghl("other-loc", "g1").await.unwrap().is_none());
    map.ping().await.unwrap();
}

#[tokio::test]
async fn a_contact_is_never_linked_twice() {
    let Some(ep) = endpoint() else { return };
    let map = fresh_map(&ep).await;
    let first = ContactLink::new("loc", "g1", "c1", LinkOrigin::GoHighLevel);
    map.link(&first).await.unwrap();

    let same_ghl = ContactLink::new("loc", "g1", "c2", LinkOrigin::GoHighLevel);
    assert_eq!(
        map.link(&same_ghl).await.unwrap(),
        LinkOutcome::Existing(first.clone())
    );
    let same_cloudtalk = ContactLink::new("loc", "g2", "c1", LinkOrigin::CloudTalk);
    assert_eq!(
        map.link(&same_cloudtalk).await.unwrap(),
        LinkOutcome::Existing(first.clone())
    );
    // The failed attempts left nothing behind.
    assert!(map.find_by_cloudtalk("loc", "c2").await.unwrap().is_none());
    assert!(map.find_by_ghl("loc", "g2").await.unwrap().is_none());
}

#[tokio::test]
async fn concurrent_links_for_one_contact_produce_exactly_one() {
    let Some(ep) = endpoint() else { return };
    let map = Arc::new(fresh_map(&ep).await);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let map = map.clone();
        tasks.push(tokio::spawn(async move {
            map.link(&ContactLink::new(
                "loc",
                "g-race",
                &format!("c{i}"),
                LinkOrigin::GoHighLevel,
            ))
            .await
            .unwrap()
        }));
    }
    let mut created = 0;
    for t in tasks {
        if t.await.unwrap() == LinkOutcome::Created {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    let winner = map.find_by_ghl("loc", "g-race").await.unwrap().unwrap();
    assert_eq!(
        map.find_by_cloudtalk("loc", &winner.cloudtalk_contact_id)
            .await
            .unwrap()
            .unwrap(),
        winner
    );
}

#[tokio::test]
async fn a_missing_table_fails_the_ping() {
    let Some(ep) = endpoint() else { return };
    let map = DynamoContactMap::new(client(&ep), "no-such-table");
    assert!(map.ping().await.is_err());
    assert!(map.find_by_ghl("loc", "g").await.is_err());
}

#[tokio::test]
async fn new_contact_handler_records_the_link_in_dynamodb() {
    let Some(ep) = endpoint() else { return };
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    let map = Arc::new(fresh_map(&ep).await);
    let deps = fakes.deps(map.clone());
    let body = r#"{"type":"ContactCreate","webhookId":"wh-1","locationId":"loc-test","id":"ghl-77","firstName":"Anna","phone":"+14155552671"}"#;

    let res = handle(
        &NewContact,
        &deps,
        post("/api/ghl-webhooks/new-contact", body, Some(GHL_SECRET)),
    )
    .await;
    assert_eq!(res.status(), 200);
    let link = map.find_by_ghl(LOCATION, "ghl-77").await.unwrap().unwrap();
    assert_eq!(link.cloudtalk_contact_id, "9001");

    // The same delivery again: a duplicate, answered as before, with no upstream call.
    let before = received(&fakes.cloudtalk).await.len();
    let res = handle(&NewContact, &deps, post("/api/ghl-webhooks/new-contact", body, Some(GHL_SECRET))).await;
    let answer = response_json(&res);
    assert_eq!((answer["duplicate"].clone(), answer["cloudtalkContactId"].clone()), (json!(true), json!("9001")));
    assert_eq!(received(&fakes.cloudtalk).await.len(), before);

    // Another event about the same contact: found in the map, no search and no create.
    let other = body.replace("wh-1", "wh-2");
    let res = handle(&NewContact, &deps, post("/api/ghl-webhooks/new-contact", &other, Some(GHL_SECRET))).await;
    assert_eq!(response_json(&res)["foundBy"], "map");
    assert_eq!(received(&fakes.cloudtalk).await.len(), before);
}

#[tokio::test]
async fn state_store_keeps_agents_and_expiring_events() {
    use bridge::state::{AgentStatus, DynamoStateStore, StateStore, StoredEvent};
    let Some(ep) = endpoint() else { return };
    let store = DynamoStateStore::new(client(&ep), fresh_table(&ep).await);
    store.ping().await.unwrap();
    assert!(store.get_agent("loc", "493933").await.unwrap().is_none());
    let agent = AgentStatus {
        location_id: "loc".into(),
        agent_id: "493933".into(),
        agent_name: Some("Roberto".into()),
        status: "online".into(),
        changed_at: "2026-11-28T10:00:00Z".into(),
        ghl_custom_value_id: Some("cv-1".into()),
    };
    store.put_agent(&agent).await.unwrap();
    assert_eq!(
        store.get_agent("loc", "493933").await.unwrap().unwrap(),
        agent
    );
    let event = StoredEvent {
        id: "1-abc".into(),
        route: "/api/cloudtalk-webhooks/generic".into(),
        received_at: "2026-11-28T10:00:00.000Z".into(),
        body: r#"{"a":1}"#.into(),
        expires_at: 1_797_000_000,
    };
    store.put_event(&event).await.unwrap();
    assert_eq!(store.get_event("1-abc").await.unwrap().unwrap(), event);
}
