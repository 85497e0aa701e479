//! Each function carries only its own handlers (see `bridge::handlers::bound`): its endpoint's
//! and those of the jobs its handler starts. An event this function does not carry (a
//! Marketplace event of another type on its route) goes to the retry worker, which carries
//! every handler, and is applied there.

use std::sync::Arc;

use bridge::handlers::bound;
use bridge::registry::{EndpointId, Sender, REGISTRY};
use bridge::retry_queue::MemoryRetryQueue;
use bridge::worker::WorkerResult;
use bridge::Deps;
use bridge_testkit::*;
use serde_json::json;

#[test]
fn every_function_binds_its_endpoint_and_the_jobs_it_starts_and_nothing_else() {
    let binders: [(EndpointId, bridge::handlers::Bind); 17] = [
        (EndpointId::GhlNewContact, bound::ghl_new_contact),
        (EndpointId::GhlNewTag, bound::ghl_new_tag),
        (EndpointId::GhlNewNote, bound::ghl_new_note),
        (EndpointId::GhlPipelineChange, bound::ghl_pipeline_change),
        (EndpointId::GhlStatusChange, bound::ghl_status_change),
        (
            EndpointId::CloudtalkCallStarted,
            bound::cloudtalk_call_started,
        ),
        (EndpointId::CloudtalkCallEnded, bound::cloudtalk_call_ended),
        (
            EndpointId::CloudtalkRecordingAvailable,
            bound::cloudtalk_recording_available,
        ),
        (
            EndpointId::CloudtalkAgentStatusChange,
            bound::cloudtalk_agent_status_change,
        ),
        (
            EndpointId::CloudtalkContactCreated,
            bound::cloudtalk_contact_created,
        ),
        (
            EndpointId::CloudtalkCampaignStatusChange,
            bound::cloudtalk_campaign_status_change,
        ),
        (EndpointId::CloudtalkGeneric, bound::cloudtalk_generic),
        (EndpointId::GhlAppInstall, bound::ghl_app_install),
        (
            EndpointId::CloudtalkCallModified,
            bound::cloudtalk_call_modified,
        ),
        (EndpointId::GhlDndChange, bound::ghl_dnd_change),
        (EndpointId::GhlSmsDelivery, bound::ghl_sms_delivery),
        (
            EndpointId::CloudtalkSmsReceived,
            bound::cloudtalk_sms_received,
        ),
    ];
    assert_eq!(binders.len(), REGISTRY.len());
    for (id, bind) in binders {
        let carried: Vec<EndpointId> = REGISTRY
            .iter()
            .map(|e| e.id)
            .filter(|e| bind(*e).is_some())
            .collect();
        let expected: Vec<EndpointId> = match id {
            // The tag's dial job is a new-contact event.
            EndpointId::GhlNewTag => vec![EndpointId::GhlNewContact, EndpointId::GhlNewTag],
            // The app's one webhook URL receives every Marketplace event type (a text to
            // deliver comes to the SMS provider's own Delivery URL).
            EndpointId::GhlAppInstall => REGISTRY
                .iter()
                .filter(|e| e.sender == Sender::GoHighLevel && e.id != EndpointId::GhlSmsDelivery)
                .map(|e| e.id)
                .collect(),
            own => vec![own],
        };
        let mut expected = expected;
        expected.sort();
        let mut carried = carried;
        carried.sort();
        assert_eq!(carried, expected, "{id}");
        // The function's binary runs its endpoint with its own binder.
        let source = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../functions/src/bin/{}.rs", id.name())),
        )
        .unwrap();
        let binder = format!("bound::{}", id.name().replace('-', "_"));
        assert!(source.contains(&binder), "{} runs with {binder}", id.name());
    }
}

#[tokio::test]
async fn an_event_a_function_does_not_carry_is_applied_by_the_retry_worker() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    let queue = Arc::new(MemoryRetryQueue::new());
    let mut backends = bridge::Backends::in_memory();
    backends.retry_queue = queue.clone();
    let deps = Deps::build(config(&fakes.cloudtalk, &fakes.ghl), backends).unwrap();
    // A Marketplace NoteCreate on the new-contact route (the app's URL may be any GHL route).
    let note = json!({"type": "NoteCreate", "webhookId": "wh-lean-1", "locationId": LOCATION,
        "id": "note-1", "contactId": "ghl-lean-1", "body": "Asked for a quote"});
    let req = post(
        "/api/ghl-webhooks/new-contact",
        &note.to_string(),
        Some(GHL_SECRET),
    );
    let id = EndpointId::GhlNewContact;
    let res = bridge::pipeline::handle_with((id, bound::ghl_new_contact), &deps, req).await;
    let answer = response_json(&res);
    assert_eq!(res.status(), 202, "{answer}");
    assert!(
        received(&fakes.cloudtalk).await.is_empty(),
        "not applied here"
    );
    let queued = queue.drain();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].0.endpoint, EndpointId::GhlNewNote);
    assert_eq!(queued[0].1, 0, "at once");
    let result = bridge::worker::process(&deps, queued[0].0.clone()).await;
    assert_eq!(result, WorkerResult::Done { duplicate: false });
    let notes = received(&fakes.cloudtalk)
        .await
        .into_iter()
        .filter(|r| r.path.starts_with("/api/notes/add/"))
        .count();
    assert_eq!(notes, 1, "the worker applied it");
}
