//! The sandbox speaks what the bridge sends: the bridge's real API clients against it, plus
//! the behaviours the bridge relies on (auth, envelopes, validation, bulk results, tag
//! semantics, duplicates, faults, the contact-created callback), the feeds (CloudTalk's call
//! history in the company's time, GHL's contact search with `searchAfter`), seeding, and the
//! people and follow-ups: CloudTalk's agents, GHL's users, tasks and contact owners; calls'
//! tags, ratings and notes (and CloudTalk's call-modified callback), the Conversation
//! Intelligence API, and the analytics API's record of a call; click-to-call (`POST /calls/create.json`) with the agents' availability
//! and its own fault, the call history's number and agent filters; CloudTalk's blacklist and
//! GHL's Do Not Disturb; CloudTalk's limit with a bulk request's cost (1 or 10 requests) seen
//! in `X-CloudTalkAPI-Remaining`; texts both ways (CloudTalk's `POST /sms/send.json`, GHL's SMS
//! messages and their status, GHL's signed delivery to the SMS provider, CloudTalk's "SMS
//! received" webhook).

use std::sync::{Arc, Mutex};

use bridge::clients::cloudtalk::{
    ActivityInput, BulkCommand, CloudTalkApi, CloudTalkClient, ContactInput, ContactNumber,
    ContactTag,
};
use bridge::clients::cloudtalk_ai::{Ai, CloudTalkAiApi, CloudTalkAiClient};
use bridge::clients::cloudtalk_calls::{CallFacts, CallRecordsApi, CloudTalkCallsClient};
use bridge::clients::ghl::{ContactQuery, GhlApi, GhlClient, GhlContactInput, SearchedContact};
use bridge::clients::CallCounter;
use bridge_local::sandbox::{
    AgentStatus, BlacklistType, CallAgent, CallAi, CallChange, CallChangeError, CallDirection,
    CallSpec, CloudTalkSms, DialFault, DndChange, DndSetting, DndSettings, DndStatus, Faults,
    GhlSms, Sandbox, SandboxClock, SandboxConfig, Seed, SeedSummary, Sentiment, SmsSettings,
    Speaker, TranscriptSegment,
};
use reqwest::Method;
use serde_json::{json, Value};

fn quiet() -> SandboxConfig {
    SandboxConfig {
        quiet: true,
        ..SandboxConfig::default()
    }
}

fn secrets() -> std::sync::Arc<bridge::secrets::SecretStore> {
    std::sync::Arc::new(bridge::secrets::SecretStore::fixed(
        bridge::secrets::Secrets {
            cloudtalk_api_key_id: Some("sandbox-key-id".into()),
            cloudtalk_api_key_secret: Some("sandbox-key-secret".into()),
            ghl_api_token: Some("sandbox-ghl-token".into()),
            ..Default::default()
        },
    ))
}

fn cloudtalk(base: &str) -> CloudTalkClient {
    CloudTalkClient::new(
        reqwest::Client::new(),
        &format!("{base}/cloudtalk/api"),
        secrets(),
        CallCounter::default(),
    )
    .with_retry_budget(std::time::Duration::from_millis(0))
}

fn ghl(base: &str) -> GhlClient {
    GhlClient::new(
        reqwest::Client::new(),
        &format!("{base}/ghl"),
        secrets(),
        CallCounter::default(),
    )
    .with_retry_budget(std::time::Duration::from_millis(0))
}

fn mario() -> ContactInput {
    ContactInput {
        name: "Mario Rossi".into(),
        numbers: vec![ContactNumber {
            public_number: "+393501234567".into(),
        }],
        tags: vec![ContactTag {
            name: "lead".into(),
        }],
        ..Default::default()
    }
}

/// An activity and a note on contact `id`, found again by their external id and reference.
async fn read_backs_find_what_was_written(ct: &CloudTalkClient, id: &str) {
    let activity = ActivityInput {
        activity_type: "other".into(),
        name: "Pipeline Stage Change".into(),
        description: Some("d".into()),
        activity_date: None,
        external_url: None,
        external_id: Some(4711),
    };
    let activity_id = ct.add_activity(id, &activity).await.unwrap();
    // The read-backs a write with a lost answer uses find exactly what was written.
    assert_eq!(ct.find_activity(id, 4711).await.unwrap(), Some(activity_id));
    assert_eq!(ct.find_activity(id, 4712).await.unwrap(), None);
    let note_id = ct.add_note(id, "second\n[ref abc123]").await.unwrap();
    assert_eq!(ct.find_note(id, "abc123").await.unwrap(), Some(note_id));
    assert_eq!(ct.find_note(id, "zzz999").await.unwrap(), None);
}

/// A bulk request with a good and a bad command: an answer for each.
async fn bulk_answers_each_command(ct: &CloudTalkClient) {
    let results = ct
        .bulk(&[
            BulkCommand {
                action: "add_contact",
                command_id: "good".into(),
                data: json!({"name": "Anna", "ContactNumber": [{"public_number": "+14155552671"}]}),
            },
            BulkCommand {
                action: "add_contact",
                command_id: "bad".into(),
                data: json!({"name": "Bad", "ContactNumber": [{"public_number": "12"}]}),
            },
        ])
        .await
        .unwrap();
    assert_eq!((results[0].status, results[0].id.is_some()), (201, true));
    assert_eq!(results[1].status, 406);
    assert!(results[1]
        .message
        .as_deref()
        .unwrap()
        .contains("Invalid input data."));
}

#[tokio::test]
async fn the_bridge_cloudtalk_client_works_against_the_sandbox() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let ct = cloudtalk(&base);
    let id = ct.add_contact(&mario()).await.unwrap();
    assert!(
        id.chars().all(|c| c.is_ascii_digit()),
        "ids are numeric strings: {id}"
    );
    let found = ct.search_contacts("393501234567").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].phones, vec!["+393501234567"]);
    ct.add_tags(&id, &["vip".into()]).await.unwrap();
    let shown = ct.show_contact(&id).await.unwrap();
    assert_eq!(shown.tags, vec!["lead", "vip"], "addTags appends");
    let mut edit = mario();
    edit.tags = vec![ContactTag {
        name: "only".into(),
    }];
    ct.edit_contact(&id, &edit).await.unwrap();
    assert_eq!(
        ct.show_contact(&id).await.unwrap().tags,
        vec!["only"],
        "edit replaces"
    );
    ct.add_note(&id, "hello").await.unwrap();
    read_backs_find_what_was_written(&ct, &id).await;
    assert!(
        ct.find_tag("ONLY").await.unwrap().is_some(),
        "tags are found case-insensitively"
    );
    let tag = ct.find_tag("only").await.unwrap().unwrap();
    let (rows, pages) = ct.contacts_with_tag(&tag, 1).await.unwrap();
    assert_eq!((rows.len(), pages), (1, 1));
    bulk_answers_each_command(&ct).await;
    // Validation errors are 406 with per-field messages.
    let err = ct
        .add_contact(&ContactInput {
            name: String::new(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(406));
    let state = sandbox.state_json();
    assert_eq!(state["cloudtalk"]["contacts"].as_array().unwrap().len(), 2);
    assert_eq!(
        state["cloudtalk"]["contacts"][0]["notes"],
        json!(["hello", "second\n[ref abc123]"])
    );
}

/// Contact `id`'s opportunity moved along the sandbox's pipeline (not to a stage it lacks), and
/// a custom value created and updated.
async fn opportunities_and_custom_values(g: &GhlClient, loc: &str, id: &str) {
    let pipelines = g.list_pipelines(loc).await.unwrap();
    assert_eq!(pipelines[0].id, "sandbox-pipeline");
    let opp = g
        .create_opportunity(loc, id, "sandbox-pipeline", "new", "Deal")
        .await
        .unwrap();
    g.update_opportunity_stage(&opp, "sandbox-pipeline", "won")
        .await
        .unwrap();
    let opps = g
        .search_opportunities(loc, id, Some("sandbox-pipeline"))
        .await
        .unwrap();
    assert_eq!(opps[0].pipeline_stage_id.as_deref(), Some("won"));
    assert_eq!(
        g.update_opportunity_stage(&opp, "sandbox-pipeline", "nope")
            .await
            .unwrap_err()
            .status(),
        Some(400)
    );
    let cv = g
        .create_custom_value(loc, "Agent status", "online")
        .await
        .unwrap();
    g.update_custom_value(loc, &cv, "Agent status", "busy")
        .await
        .unwrap();
    assert_eq!(
        g.list_custom_values(loc).await.unwrap()[0].value.as_deref(),
        Some("busy")
    );
}

#[tokio::test]
async fn the_bridge_ghl_client_works_against_the_sandbox() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let g = ghl(&base);
    let loc = "sandbox-location";
    assert!(g
        .find_duplicate(loc, Some("+393501234567"), None)
        .await
        .unwrap()
        .is_none());
    let input = GhlContactInput {
        location_id: loc.into(),
        name: Some("Mario Rossi".into()),
        phone: Some("+393501234567".into()),
        source: Some("CloudTalk".into()),
        ..Default::default()
    };
    let (id, new) = g.upsert_contact(&input).await.unwrap();
    assert!(new);
    let (again, new) = g.upsert_contact(&input).await.unwrap();
    assert_eq!((again.as_str(), new), (id.as_str(), false));
    assert_eq!(
        g.find_duplicate(loc, Some("+393501234567"), None)
            .await
            .unwrap()
            .unwrap()
            .id,
        id
    );
    g.add_note(&id, "call ended", None).await.unwrap();
    g.add_tags(&id, &["missed".into()]).await.unwrap();
    g.update_contact(
        &id,
        &json!({"customFields": [{"id": "f1", "field_value": "missed"}]}),
    )
    .await
    .unwrap();
    let contact = g.get_contact(&id).await.unwrap();
    assert_eq!(contact.tags, vec!["missed"]);
    opportunities_and_custom_values(&g, loc, &id).await;
    // Errors whose message is an array.
    let err = g.add_note(&id, "", None).await.unwrap_err();
    assert!(
        err.to_string().contains("body should not be empty"),
        "{err}"
    );
    let state = sandbox.state_json();
    assert_eq!(state["ghl"]["contacts"][0]["notes"], json!(["call ended"]));
    assert_eq!(
        state["ghl"]["contacts"][0]["customFields"],
        json!([{"id": "f1", "value": "missed"}])
    );
}

#[tokio::test]
async fn auth_versions_duplicates_and_faults() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{base}/cloudtalk/api/contacts/index.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{base}/ghl/contacts/search/duplicate?locationId=x"))
        .bearer_auth("sandbox-ghl-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "Version header required");
    let create = |email: &str| {
        http.post(format!("{base}/ghl/contacts/"))
            .bearer_auth("sandbox-ghl-token")
            .header("version", "2021-07-28")
            .json(&json!({"locationId": "sandbox-location", "email": email, "name": "A"}))
            .send()
    };
    assert_eq!(create("a@example.com").await.unwrap().status(), 201);
    let dup = create("A@example.com").await.unwrap();
    assert_eq!(dup.status(), 400);
    let body: Value = dup.json().await.unwrap();
    assert!(body["meta"]["contactId"].is_string());
    assert!(r.headers().contains_key("x-ratelimit-remaining"));

    sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let err = cloudtalk(&base).add_contact(&mario()).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    sandbox.set_faults(Faults {
        rate_limit_every: 1,
        rate_limit_burst: 2,
        ..Faults::default()
    });
    let ct = cloudtalk(&base);
    assert_eq!(
        ct.add_contact(&mario()).await.unwrap_err().status(),
        Some(429)
    );
    sandbox.set_faults(Faults::default());
    ct.add_contact(&mario()).await.unwrap();
    assert_eq!(
        sandbox.state_json()["cloudtalk"]["contacts"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "faults write nothing"
    );
    assert!(sandbox.faults_injected() >= 2);
}

/// A webhook the fake bridge received: its Authorization header and body.
type Received = (Option<String>, Value);

#[tokio::test]
async fn adding_a_contact_calls_the_bridge_back() {
    let (bridge_url, received) = bridge_sink("/api/cloudtalk-webhooks/contact-created").await;
    let config = SandboxConfig {
        bridge_url: Some(bridge_url),
        cloudtalk_webhook_secret: Some("s3cret".into()),
        callback_delay_ms: 10,
        ..quiet()
    };
    let (base, _) = Sandbox::spawn(config).await;
    let id = cloudtalk(&base).add_contact(&mario()).await.unwrap();
    for _ in 0..50 {
        if !received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.as_deref(), Some("Bearer s3cret"));
    assert_eq!(
        got[0].1,
        json!({"contact_id": id, "contact_name": "Mario Rossi", "external_number": "+393501234567"})
    );
}

/// 2026-12-01T08:00:00Z.
const EIGHT_UTC_MS: i64 = 1_796_112_000_000;

fn call_at(contact_id: Option<&str>, started_ms: i64) -> CallSpec {
    CallSpec {
        contact_id: contact_id.map(str::to_string),
        external_number: "+393501234567".into(),
        internal_number: "+390212345678".into(),
        direction: CallDirection::Outgoing,
        agent: Some(CallAgent {
            id: "42".into(),
            first_name: "Roberto".into(),
            last_name: "Bianchi".into(),
        }),
        started_ms,
        answered_ms: Some(started_ms + 5_000),
        ended_ms: started_ms + 65_000,
        talking_secs: 60,
        voicemail: false,
        recording_link: Some("https://my.cloudtalk.io/r/play/1".into()),
        ..CallSpec::default()
    }
}

/// A sandbox in a company two hours ahead of UTC, with calls at 08:00, 08:10 … 08:40 UTC
/// (recorded out of order), the 08:20 one assigned to a contact; returns its id.
async fn calls_in_rome_summer() -> (String, Sandbox, String) {
    let config = SandboxConfig {
        cloudtalk_utc_offset: chrono::FixedOffset::east_opt(2 * 3600).unwrap(),
        ..quiet()
    };
    let (base, sandbox) = Sandbox::spawn(config).await;
    let contact = cloudtalk(&base).add_contact(&mario()).await.unwrap();
    for minutes in [40, 0, 20, 10, 30] {
        let owner = (minutes == 20).then_some(contact.as_str());
        sandbox.record_call(call_at(owner, EIGHT_UTC_MS + minutes * 60_000));
    }
    (base, sandbox, contact)
}

#[tokio::test]
async fn the_call_history_pages_oldest_first_in_the_company_time() {
    let (base, sandbox, _) = calls_in_rome_summer().await;
    let ct = cloudtalk(&base);
    let (from, to) = ("2026-12-01 10:10:00", "2026-12-01 10:30:00");
    let first = ct.list_calls(from, to, 1, 2).await.unwrap();
    assert_eq!((first.items.len(), first.page_count), (2, 2));
    assert!(first.has_more());
    let second = ct.list_calls(from, to, 2, 2).await.unwrap();
    assert!(!second.has_more());
    let started: Vec<String> = first
        .items
        .iter()
        .chain(&second.items)
        .filter_map(|c| c.started_at.clone())
        .collect();
    assert_eq!(
        started,
        [
            "2026-12-01 10:10:00",
            "2026-12-01 10:20:00",
            "2026-12-01 10:30:00"
        ],
        "both bounds are inclusive, in the company's time, oldest first"
    );
    let call = &first.items[0];
    assert_eq!(call.direction.as_deref(), Some("outgoing"));
    assert_eq!((call.talking_time, call.billsec), (Some(60), Some(65)));
    assert_eq!(call.agent_name.as_deref(), Some("Roberto Bianchi"));
    assert_eq!(call.ended_at.as_deref(), Some("2026-12-01 10:11:05"));
    let utc_reading = ct
        .list_calls("2026-12-01 08:10:00", "2026-12-01 08:30:00", 1, 10)
        .await
        .unwrap();
    assert!(utc_reading.items.is_empty(), "times are not UTC");
    let counters = &sandbox.state_json()["counters"];
    assert_eq!(counters["cloudtalkWrites"], 1, "reads are not writes");
    assert_eq!(
        sandbox.state_json()["cloudtalk"]["calls"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn the_call_history_speaks_strings_and_filters_by_contact() {
    let (base, sandbox, contact) = calls_in_rome_summer().await;
    let page = |query: String| {
        let url = format!("{base}/cloudtalk/api/calls/index.json?{query}");
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .basic_auth("sandbox-key-id", Some("sandbox-key-secret"))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = page(format!("contact_id={contact}")).await;
    assert_eq!(status, 200);
    let data = &body["responseData"];
    assert_eq!(
        (&data["itemsCount"], &data["pageCount"], &data["limit"]),
        (&json!("1"), &json!("1"), &json!("30")),
        "counts are strings; 30 a page by default"
    );
    let row = &data["data"][0];
    assert_eq!(row["Cdr"]["billsec"], "65");
    assert_eq!(row["Cdr"]["started_at"], "2026-12-01 10:20:00");
    assert_eq!(row["Contact"]["id"], json!(contact));
    assert_eq!(row["Contact"]["contact_numbers"], json!(["+393501234567"]));
    assert_eq!(row["Agent"]["fullname"], "Roberto Bianchi");
    let (_, all) = page("limit=1000".into()).await;
    assert_eq!(all["responseData"]["limit"], "1000", "up to 1000 a page");
    assert_eq!(all["responseData"]["itemsCount"], "5");
    // More than 1000 a page breaks CloudTalk's contract (`limit`: `maximum: 1000`): refused
    // as CloudTalk refuses invalid input, and recorded.
    let (status, refused) = page("limit=5000".into()).await;
    assert_eq!(status, 406, "{refused}");
    assert_eq!(refused["responseData"]["status"], 406);
    let message = refused["responseData"]["message"].as_str().unwrap();
    assert!(message.starts_with("Invalid input data."), "{message}");
    assert!(message.contains("limit"), "{message}");
    let planted = sandbox.take_violations();
    assert_eq!(planted.len(), 1, "{planted:?}");
    let violation = &planted[0];
    assert_eq!(
        (
            violation.vendor,
            &violation.kind,
            violation.method.as_str(),
            violation.path.as_str()
        ),
        (
            bridge_contracts::Vendor::CloudTalk,
            &bridge_contracts::Kind::Parameters,
            "GET",
            "/calls/index.json"
        )
    );
    assert_eq!(violation.problems, ["query limit: must be at most 1000"]);
    let (bad, _) = page("date_from=yesterday".into()).await;
    assert_eq!(bad, 406);
}

fn query(location: &str, since: Option<Value>, after: Option<Value>, limit: u32) -> Value {
    ContactQuery {
        location_id: location,
        updated_since: since,
        search_after: after,
        limit,
    }
    .body()
}

/// Every contact of a search, page by page with the last contact's `searchAfter`.
async fn search_all(g: &GhlClient, since: Option<Value>, limit: u32) -> Vec<SearchedContact> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = g
            .search_contacts(&ContactQuery {
                location_id: "sandbox-location",
                updated_since: since.clone(),
                search_after: after.clone(),
                limit,
            })
            .await
            .unwrap();
        let full = page.len() == limit as usize;
        after = page.last().and_then(|c| c.search_after.clone());
        all.extend(page);
        if !full {
            return all;
        }
    }
}

#[tokio::test]
async fn contact_search_pages_by_date_updated_and_search_after() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let seeded = sandbox.seed(&Seed {
        seed: 3,
        ghl_only: 25,
        ..Seed::default()
    });
    let g = ghl(&base);
    let all = search_all(&g, None, 10).await;
    let ids: Vec<&str> = all.iter().map(|c| c.record.id.as_str()).collect();
    assert_eq!(
        ids, seeded.ghl_only,
        "every contact once, oldest update first"
    );
    let first = &all[0];
    let shown = g.get_contact(&first.record.id).await.unwrap();
    assert_eq!(
        first.record, shown,
        "the same contact as GET /contacts/{{id}}"
    );
    let updated = first.date_updated.clone().unwrap();
    let ms = chrono::DateTime::parse_from_rfc3339(&updated)
        .unwrap()
        .timestamp_millis();
    assert_eq!(first.search_after, Some(json!([ms, first.record.id])));
    // From the 11th contact on, by epoch milliseconds or by ISO string.
    let eleventh = &all[10];
    let since_ms = eleventh.search_after.as_ref().unwrap()[0].clone();
    let by_ms = search_all(&g, Some(since_ms), 7).await;
    let by_iso = search_all(&g, Some(json!(eleventh.date_updated)), 7).await;
    assert_eq!(by_ms.len(), 15);
    assert_eq!(by_ms, by_iso);
    assert_eq!(by_ms[0].record.id, eleventh.record.id, "gte is inclusive");
}

#[tokio::test]
async fn a_contact_changed_while_paging_moves_to_the_end_and_none_is_skipped() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let seeded = sandbox.seed(&Seed {
        seed: 4,
        ghl_only: 12,
        ..Seed::default()
    });
    let g = ghl(&base);
    let first = one_page(&g, None, 5).await;
    g.add_tags(&first[1].record.id, &["vip".into()])
        .await
        .unwrap();
    let mut seen: Vec<String> = first.iter().map(|c| c.record.id.clone()).collect();
    let rest = one_page(&g, first[4].search_after.clone(), 500).await;
    seen.extend(rest.iter().map(|c| c.record.id.clone()));
    assert_eq!(seen.len(), 13, "the changed contact comes again, last");
    assert_eq!(seen.last(), Some(&first[1].record.id));
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    let mut expected = seeded.ghl_only.clone();
    expected.sort();
    assert_eq!(distinct, expected, "no contact skipped");
    assert!(rest
        .last()
        .unwrap()
        .record
        .tags
        .contains(&"vip".to_string()));
}

async fn one_page(g: &GhlClient, after: Option<Value>, limit: u32) -> Vec<SearchedContact> {
    let query = ContactQuery {
        location_id: "sandbox-location",
        updated_since: None,
        search_after: after,
        limit,
    };
    g.search_contacts(&query).await.unwrap()
}

#[tokio::test]
async fn contact_search_filters_by_location_and_range_and_refuses_the_rest() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let seeded = sandbox.seed(&Seed {
        seed: 5,
        ghl_only: 6,
        ..Seed::default()
    });
    let search = |body: Value| {
        let url = format!("{base}/ghl/contacts/search");
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth("sandbox-ghl-token")
                .header("version", "2021-07-28")
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (_, everything) = search(query("sandbox-location", None, None, 100)).await;
    assert_eq!(everything["total"], 6);
    let third_ms = everything["contacts"][2]["searchAfter"][0].clone();
    let fourth_ms = everything["contacts"][3]["searchAfter"][0].clone();
    let mut window = query("sandbox-location", Some(third_ms), None, 100);
    window["filters"][0]["value"]["lte"] = fourth_ms;
    let (_, two) = search(window).await;
    let ids: Vec<&Value> = two["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(
        ids,
        [&json!(seeded.ghl_only[2]), &json!(seeded.ghl_only[3])]
    );
    let (_, default_page) = search(json!({"locationId": "sandbox-location"})).await;
    assert_eq!(default_page["contacts"].as_array().unwrap().len(), 6);
    let (_, elsewhere) = search(query("another-location", None, None, 100)).await;
    assert_eq!(elsewhere["total"], 0);
    let bare = json!({"locationId": "sandbox-location",
        "filters": [{"field": "dateUpdated", "operator": "gte", "value": 0}]});
    assert_eq!(search(bare).await.0, 422);
    // A search without `locationId` breaks GHL's contract: refused with 422, and recorded.
    let (status, refused) = search(json!({"pageLimit": 5})).await;
    assert_eq!(status, 422, "locationId is required: {refused}");
    assert_eq!(refused["statusCode"], 422);
    let planted = sandbox.take_violations();
    assert_eq!(planted.len(), 1, "{planted:?}");
    let violation = &planted[0];
    assert_eq!(
        (
            violation.vendor,
            &violation.kind,
            violation.method.as_str(),
            violation.path.as_str()
        ),
        (
            bridge_contracts::Vendor::GoHighLevel,
            &bridge_contracts::Kind::Body,
            "POST",
            "/contacts/search"
        )
    );
    assert_eq!(violation.problems, [r#"body: "locationId" is required"#]);
    assert_eq!(
        sandbox.state_json()["counters"]["ghlWrites"],
        0,
        "searches are reads"
    );
}

/// A fake bridge that counts what it receives; its URL and the count.
async fn counting_bridge() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let received = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sink = received.clone();
    let app = axum::Router::new().fallback(move || {
        sink.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { axum::Json(json!({"result": "applied"})) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

#[tokio::test]
async fn seeding_is_fast_deterministic_and_calls_nobody_back() {
    let (bridge_url, received) = counting_bridge().await;
    let config = || SandboxConfig {
        bridge_url: Some(bridge_url.clone()),
        callback_delay_ms: 1,
        ..quiet()
    };
    let seed = Seed {
        seed: 11,
        both: 1500,
        ghl_only: 300,
        cloudtalk_only: 200,
        duplicates: 25,
        calls: 400,
    };
    let (base, sandbox) = Sandbox::spawn(config()).await;
    let started = std::time::Instant::now();
    let summary = sandbox.seed(&seed);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let state = sandbox.state_json();
    let count = |side: &str, what: &str| state[side][what].as_array().unwrap().len();
    assert_eq!(count("ghl", "contacts"), 1800);
    assert_eq!(count("cloudtalk", "contacts"), 1725);
    assert_eq!(count("cloudtalk", "calls"), 400);
    assert_eq!(
        (
            summary.unambiguous_pairs().len(),
            summary.ambiguous_pairs().len()
        ),
        (1475, 25)
    );
    assert_same_contact_details(&state, &summary);
    // The same seed on a fresh sandbox, over HTTP: the same ids.
    let (other_base, _other) = Sandbox::spawn(config()).await;
    let again: Value = reqwest::Client::new()
        .post(format!("{other_base}/sandbox/seed"))
        .json(&seed)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, serde_json::to_value(&summary).unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        received.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no callbacks"
    );
    let _ = base;
}

/// Each pair has one phone and email on both sides; a duplicate shares only the phone.
fn assert_same_contact_details(state: &Value, summary: &SeedSummary) {
    let find = |side: &str, id: &str| -> Value {
        let contacts = state[side]["contacts"].as_array().unwrap();
        contacts.iter().find(|c| c["id"] == id).cloned().unwrap()
    };
    for pair in &summary.pairs {
        let (g, c) = (
            find("ghl", &pair.ghl_id),
            find("cloudtalk", &pair.cloudtalk_id),
        );
        assert_eq!(json!([g["phone"]]), c["numbers"]);
        assert_eq!(json!([g["email"]]), c["emails"]);
        if let Some(dup) = &pair.duplicate_id {
            let d = find("cloudtalk", dup);
            assert_eq!(d["numbers"], c["numbers"]);
            assert_ne!(d["emails"], c["emails"]);
        }
    }
}

/// Conversations as GHL's spec documents them: a found conversation carries its contact's
/// name, email and phone and its last message; a message is answered as itself. Every answer
/// passes the contract check (a violation would be recorded and fail this suite).
#[tokio::test]
async fn conversations_answer_in_the_shapes_ghl_documents() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let g = ghl(&base);
    let (contact, _) = g
        .upsert_contact(&GhlContactInput {
            location_id: "sandbox-location".into(),
            first_name: Some("Anna".into()),
            phone: Some("+393471234567".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let send = |method: reqwest::Method, path: String, body: Option<Value>| {
        let base = base.clone();
        async move {
            let mut req = reqwest::Client::new()
                .request(method, format!("{base}/ghl{path}"))
                .bearer_auth("sandbox-ghl-token")
                .header("version", "2021-04-15");
            if let Some(body) = body {
                req = req.json(&body);
            }
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, created) = send(
        reqwest::Method::POST,
        "/conversations/".into(),
        Some(json!({"locationId": "sandbox-location", "contactId": contact})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let conversation = created["conversation"]["id"].as_str().unwrap().to_string();
    let (status, added) = send(
        reqwest::Method::POST,
        "/conversations/messages/inbound".into(),
        Some(
            json!({"type": "Call", "conversationId": conversation, "contactId": contact,
            "conversationProviderId": "prov-1", "altId": "7001", "message": "Call ended",
            "call": {"from": "+393471234567", "to": "+390212345678", "status": "completed"}}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{added}");
    let (status, found) = send(
        reqwest::Method::GET,
        format!("/conversations/search?locationId=sandbox-location&contactId={contact}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let row = &found["conversations"][0];
    assert_eq!(row["id"], json!(conversation));
    assert_eq!(row["phone"], "+393471234567");
    assert_eq!(row["fullName"], "Anna");
    assert_eq!(row["lastMessageType"], "TYPE_CALL");
    let message = added["messageId"].as_str().unwrap();
    let (status, read) = send(
        reqwest::Method::GET,
        format!("/conversations/messages/{message}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["id"], json!(message));
    assert_eq!(read["messageType"], "TYPE_CALL");
    assert_eq!(read["altId"], "7001");
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

/// A raw request to the sandbox's GHL API (`Version: 2021-07-28`): the status and JSON answer.
async fn ghl_raw(
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    versioned_raw(&format!("{base}/ghl{path}"), "2021-07-28", method, body).await
}

/// A request to a GHL `url` with the sandbox's token and API `version`.
async fn versioned_raw(
    url: &str,
    version: &str,
    method: reqwest::Method,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, url)
        .bearer_auth("sandbox-ghl-token")
        .header("version", version);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A raw `GET` of the sandbox's CloudTalk API: the status and JSON answer.
async fn cloudtalk_get(base: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{base}/cloudtalk/api{path}"))
        .basic_auth("sandbox-key-id", Some("sandbox-key-secret"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The ids of a CloudTalk agents page, and its counts.
fn agent_ids(page: &Value) -> (Vec<&str>, [&str; 4]) {
    let data = &page["responseData"];
    let ids = data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["Agent"]["id"].as_str().unwrap())
        .collect();
    let count = |k: &str| data[k].as_str().unwrap_or("not a string");
    (
        ids,
        [
            count("itemsCount"),
            count("pageCount"),
            count("pageNumber"),
            count("limit"),
        ],
    )
}

/// Seeding over HTTP: an agent added (and one replaced), then calls made by the agents.
async fn seeded_agents_make_the_calls(base: &str, sandbox: &Sandbox) {
    let summary: Value = reqwest::Client::new()
        .post(format!("{base}/sandbox/seed"))
        .json(&json!({"seed": 9, "both": 5, "calls": 30,
        "agents": [
            {"id": "46", "first_name": "Marco", "last_name": "Gallo",
             "email": "marco.gallo@example.com", "availability_status": "online",
             "extension": 1005, "default_number": "+390212345679"},
            {"id": "45", "first_name": "Lucia", "last_name": "Esposito",
             "email": "lucia.esposito@example.com", "availability_status": "offline"}
        ]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(summary["agents"], json!(["46", "45"]), "{summary}");
    assert_eq!(summary["users"], json!([]));
    let (_, after) = cloudtalk_get(base, "/agents/index.json").await;
    assert_eq!(agent_ids(&after).0, ["42", "43", "44", "45", "46"]);
    let lucia = &after["responseData"]["data"][3]["Agent"];
    assert_eq!(lucia["availability_status"], "offline", "replaced: {lucia}");
    assert!(
        lucia.get("extension").is_none() && lucia.get("default_number").is_none(),
        "unset fields are left out: {lucia}"
    );
    let agents = sandbox.agents();
    let state = sandbox.state_json();
    let calls = state["cloudtalk"]["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 30);
    for call in calls {
        let agent = &call["agent"];
        let known = agents.iter().find(|a| agent["id"] == a.id.as_str());
        let known = known.unwrap_or_else(|| panic!("a call by an unknown agent: {call}"));
        assert_eq!(agent["first_name"], known.first_name.as_str());
        assert_eq!(agent["last_name"], known.last_name.as_str());
    }
    assert_eq!(state["cloudtalk"]["agents"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn cloudtalk_agents_page_with_ids_as_strings_and_make_the_seeded_calls() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let (status, all) = cloudtalk_get(&base, "/agents/index.json").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        agent_ids(&all),
        (vec!["42", "43", "44", "45"], ["4", "1", "1", "30"]),
        "the default agents, counts as strings"
    );
    assert_eq!(
        all["responseData"]["data"][0]["Agent"],
        json!({"id": "42", "firstname": "Roberto", "lastname": "Bianchi",
            "email": "roberto.bianchi@example.com", "availability_status": "online",
            "extension": "1001", "default_number": "+390212345678",
            "associated_numbers": ["+390212345678"]})
    );
    let statuses: Vec<&Value> = all["responseData"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| &row["Agent"]["availability_status"])
        .collect();
    assert_eq!(statuses, ["online", "paused", "offline", "calling"]);
    // Paging: 3 a page, the second page holds the fourth agent.
    let (_, second) = cloudtalk_get(&base, "/agents/index.json?limit=3&page=2").await;
    assert_eq!(agent_ids(&second), (vec!["45"], ["4", "2", "2", "3"]));
    let (_, beyond) = cloudtalk_get(&base, "/agents/index.json?limit=3&page=3").await;
    assert_eq!(agent_ids(&beyond), (vec![], ["4", "2", "3", "3"]));
    // Filters.
    let (_, franco) = cloudtalk_get(&base, "/agents/index.json?id=44").await;
    assert_eq!(agent_ids(&franco).0, ["44"]);
    assert_eq!(
        franco["responseData"]["data"][0]["Agent"]["email"],
        "franco.neri@example.com"
    );
    let (_, nobody) = cloudtalk_get(&base, "/agents/index.json?id=99").await;
    assert_eq!(agent_ids(&nobody), (vec![], ["0", "1", "1", "30"]));
    let (_, on_number) = cloudtalk_get(
        &base,
        "/agents/index.json?associated_number=%2B390212345678",
    )
    .await;
    assert_eq!(agent_ids(&on_number).0.len(), 4);
    let (_, other_number) = cloudtalk_get(
        &base,
        "/agents/index.json?associated_number=%2B390299999999",
    )
    .await;
    assert!(agent_ids(&other_number).0.is_empty());
    // An id that is no integer breaks CloudTalk's contract: refused with 406, and recorded.
    let (status, refused) = cloudtalk_get(&base, "/agents/index.json?id=roberto").await;
    assert_eq!(status, 406, "{refused}");
    let planted = sandbox.take_violations();
    assert_eq!(planted.len(), 1, "{planted:?}");
    assert_eq!(planted[0].problems, ["query id: must be of type integer"]);

    seeded_agents_make_the_calls(&base, &sandbox).await;
    // A reset brings back the configured agents.
    sandbox.reset();
    assert_eq!(sandbox.agents(), bridge_local::sandbox::default_agents());
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

/// CloudTalk's agents matched to the location's `users` by email.
async fn agents_match_users_by_email(base: &str, users: &[Value]) {
    // CloudTalk's agents by email, case-insensitively: all but Lucia (45) have a user.
    let (_, agents) = cloudtalk_get(base, "/agents/index.json").await;
    let user_of = |email: &str| {
        users
            .iter()
            .find(|u| u["email"].as_str().unwrap().eq_ignore_ascii_case(email))
            .map(|u| u["id"].as_str().unwrap())
    };
    let matched: Vec<(&str, Option<&str>)> = agents["responseData"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let agent = &row["Agent"];
            (
                agent["id"].as_str().unwrap(),
                user_of(agent["email"].as_str().unwrap()),
            )
        })
        .collect();
    assert_eq!(
        matched,
        [
            ("42", Some("usr_roberto")),
            ("43", Some("usr_anna")),
            ("44", Some("usr_franco")),
            ("45", None)
        ]
    );
    assert_eq!(
        users[2]["email"], "Franco.Neri@Example.com",
        "another letter case"
    );
}

/// Users seeded in the sandbox's location and elsewhere, each listed with its location.
async fn seeded_users_are_listed_by_location(base: &str, sandbox: &Sandbox) {
    let added = sandbox.seed_users(&[
        bridge_local::sandbox::User {
            id: "usr_lucia".into(),
            first_name: "Lucia".into(),
            last_name: "Esposito".into(),
            email: "LUCIA.ESPOSITO@example.com".into(),
            ..Default::default()
        },
        bridge_local::sandbox::User {
            id: "usr_other".into(),
            first_name: "Olga".into(),
            email: "olga@example.com".into(),
            location_id: Some("another-location".into()),
            ..Default::default()
        },
    ]);
    assert_eq!(added, ["usr_lucia", "usr_other"]);
    let (_, here) = ghl_raw(
        base,
        reqwest::Method::GET,
        "/users?locationId=sandbox-location",
        None,
    )
    .await;
    assert_eq!(here["users"].as_array().unwrap().len(), 5);
    let (_, there) = ghl_raw(
        base,
        reqwest::Method::GET,
        "/users/?locationId=another-location",
        None,
    )
    .await;
    assert_eq!(
        there,
        json!({"users": [{"id": "usr_other", "name": "Olga", "firstName": "Olga",
            "email": "olga@example.com"}]})
    );
}

#[tokio::test]
async fn ghl_users_of_a_location_match_most_agents_by_email() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let (status, listed) = ghl_raw(
        &base,
        reqwest::Method::GET,
        "/users/?locationId=sandbox-location",
        None,
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    let users = listed["users"].as_array().unwrap();
    let ids: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["usr_roberto", "usr_anna", "usr_franco", "usr_giulia"]);
    assert_eq!(
        users[0],
        json!({"id": "usr_roberto", "name": "Roberto Bianchi", "firstName": "Roberto",
            "lastName": "Bianchi", "email": "roberto.bianchi@example.com",
            "phone": "+393470000042"})
    );
    assert!(
        users[1].get("phone").is_none(),
        "unset, not null: {}",
        users[1]
    );
    agents_match_users_by_email(&base, users).await;
    // One user by id; unknown ids and other locations.
    let (status, anna) = ghl_raw(&base, reqwest::Method::GET, "/users/usr_anna", None).await;
    assert_eq!(
        (status, &anna["email"]),
        (200, &json!("anna.verdi@example.com"))
    );
    let (status, _) = ghl_raw(&base, reqwest::Method::GET, "/users/usr_nobody", None).await;
    assert_eq!(status, 400);
    let (_, elsewhere) = ghl_raw(
        &base,
        reqwest::Method::GET,
        "/users/?locationId=another-location",
        None,
    )
    .await;
    assert_eq!(elsewhere, json!({"users": []}));
    seeded_users_are_listed_by_location(&base, &sandbox).await;
    // Without `locationId` the request breaks GHL's contract: 422, recorded.
    let (status, refused) = ghl_raw(&base, reqwest::Method::GET, "/users/", None).await;
    assert_eq!(status, 422, "{refused}");
    let planted = sandbox.take_violations();
    assert_eq!(planted.len(), 1, "{planted:?}");
    assert_eq!(planted[0].problems, ["query locationId is required"]);
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

/// A GHL contact made by upsert; its id.
async fn ghl_contact(base: &str, body: Value) -> String {
    let (status, answer) =
        ghl_raw(base, reqwest::Method::POST, "/contacts/upsert", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    answer["contact"]["id"].as_str().unwrap().to_string()
}

/// Two tasks on `contact` (at `tasks`), the first one assigned, listed oldest first; none on
/// `other`. The first task's id, and the second's answer.
async fn two_tasks_created_and_listed(
    base: &str,
    tasks: &str,
    contact: &str,
    other: &str,
) -> (String, Value) {
    let (status, created) = ghl_raw(
        base,
        Method::POST,
        tasks,
        Some(
            json!({"title": "Call back Mario", "body": "Missed call at 10:00",
            "dueDate": "2026-12-01T11:00:00+01:00", "completed": false,
            "assignedTo": "usr_roberto"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let task = created["task"].clone();
    let task_id = task["id"].as_str().unwrap().to_string();
    assert_eq!(
        task,
        json!({"id": task_id, "title": "Call back Mario", "body": "Missed call at 10:00",
            "assignedTo": "usr_roberto", "dueDate": "2026-12-01T10:00:00.000Z",
            "completed": false, "contactId": contact})
    );
    let (status, second) = ghl_raw(
        base,
        Method::POST,
        tasks,
        Some(json!({"title": "Second", "dueDate": "2026-12-02T09:00:00Z", "completed": false})),
    )
    .await;
    assert_eq!(status, 201);
    assert!(
        second["task"].get("assignedTo").is_none() && second["task"].get("body").is_none(),
        "unset fields are left out: {second}"
    );
    let (status, listed) = ghl_raw(base, Method::GET, tasks, None).await;
    assert_eq!(status, 200);
    let titles: Vec<&Value> = listed["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["title"])
        .collect();
    assert_eq!(titles, ["Call back Mario", "Second"], "oldest first");
    let (_, none) = ghl_raw(base, Method::GET, &format!("/contacts/{other}/tasks"), None).await;
    assert_eq!(none, json!({"tasks": []}), "tasks are per contact");
    (task_id, second)
}

/// The first task completed (at its `…/completed` path, which this returns): shown so, and in
/// the sandbox's state, where the assignees have their names.
async fn the_first_task_completed(
    base: &str,
    sandbox: &Sandbox,
    contact: &str,
    tasks: &str,
    task_id: &str,
) -> String {
    let completed_path = format!("{tasks}/{task_id}/completed");
    let (status, done) = ghl_raw(
        base,
        Method::PUT,
        &completed_path,
        Some(json!({"completed": true})),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["task"]["completed"], true);
    assert_eq!(done["task"]["title"], "Call back Mario");
    let (_, shown) = ghl_raw(base, Method::GET, &format!("{tasks}/{task_id}"), None).await;
    assert_eq!(shown["task"]["completed"], true);
    let state = sandbox.state_json();
    let in_state = &state["ghl"]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == contact)
        .unwrap()["tasks"];
    assert_eq!(in_state[0]["completed"], true);
    assert_eq!(in_state[0]["assignee"], "Roberto Bianchi");
    assert_eq!(in_state[1]["assignee"], Value::Null);
    completed_path
}

/// The second task reassigned and moved, then deleted; its id.
async fn the_second_task_updated_and_deleted(base: &str, tasks: &str, second: &Value) -> String {
    let second_id = second["task"]["id"].as_str().unwrap();
    let (status, updated) = ghl_raw(
        base,
        Method::PUT,
        &format!("{tasks}/{second_id}"),
        Some(json!({"assignedTo": "usr_anna", "dueDate": "2026-12-03"})),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (&updated["task"]["assignedTo"], &updated["task"]["dueDate"]),
        (&json!("usr_anna"), &json!("2026-12-03T00:00:00.000Z"))
    );
    let (status, deleted) =
        ghl_raw(base, Method::DELETE, &format!("{tasks}/{second_id}"), None).await;
    assert_eq!((status, deleted), (200, json!({"succeded": true})));
    second_id.to_string()
}

/// 404s, NestJS style, for the tasks of an unknown contact, an unknown or deleted task on
/// `tasks`, and a task asked for through `other`, a contact it is not on.
async fn unknown_or_foreign_tasks_are_not_found(
    base: &str,
    tasks: &str,
    other: &str,
    task_id: &str,
    second_id: &str,
) {
    let not_found = |what: &str| {
        let message = format!("{what} not found");
        json!({"statusCode": 404, "message": message, "error": "Not Found"})
    };
    let new_task = json!({"title": "x", "dueDate": "2026-12-01T10:00:00Z", "completed": false});
    let refusals = [
        (
            Method::GET,
            "/contacts/nobody/tasks".to_string(),
            None,
            "Contact",
        ),
        (
            Method::POST,
            "/contacts/nobody/tasks".to_string(),
            Some(new_task.clone()),
            "Contact",
        ),
        (
            Method::PUT,
            "/contacts/nobody/tasks/x/completed".to_string(),
            Some(json!({"completed": true})),
            "Contact",
        ),
        (
            Method::PUT,
            format!("{tasks}/task-999999/completed"),
            Some(json!({"completed": true})),
            "Task",
        ),
        (Method::GET, format!("{tasks}/{second_id}"), None, "Task"),
        (
            Method::GET,
            format!("/contacts/{other}/tasks/{task_id}"),
            None,
            "Task",
        ),
        (
            Method::DELETE,
            format!("/contacts/{other}/tasks/{task_id}"),
            None,
            "Task",
        ),
    ];
    for (method, path, body, what) in refusals {
        let (status, answer) = ghl_raw(base, method.clone(), &path, body).await;
        assert_eq!((status, answer), (404, not_found(what)), "{method} {path}");
    }
}

/// 422s for what GHL's validation refuses (not the spec's violations) and for what the spec
/// refuses (recorded as violations); the only task left on `tasks` is still completed.
async fn invalid_tasks_are_refused_and_write_nothing(
    base: &str,
    sandbox: &Sandbox,
    tasks: &str,
    completed_path: &str,
) {
    // What GHL's validation refuses: 422.
    let (status, answer) = ghl_raw(
        base,
        Method::POST,
        tasks,
        Some(json!({"title": "x", "dueDate": "tomorrow", "completed": false})),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["message"],
        json!(["dueDate must be a valid ISO 8601 date string"])
    );
    let (status, answer) = ghl_raw(
        base,
        Method::POST,
        tasks,
        Some(json!({"title": " ", "dueDate": "2026-12-01T10:00:00Z", "completed": false})),
    )
    .await;
    assert_eq!(
        (status, &answer["message"]),
        (422, &json!(["title should not be empty"]))
    );
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
    // What the spec refuses: a task without `completed`, and a field it does not declare.
    let (status, _) = ghl_raw(
        base,
        Method::POST,
        tasks,
        Some(json!({"title": "x", "dueDate": "2026-12-01T10:00:00Z"})),
    )
    .await;
    assert_eq!(status, 422);
    let (status, answer) = ghl_raw(
        base,
        Method::PUT,
        completed_path,
        Some(json!({"completed": false, "status": "open"})),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let planted = sandbox.take_violations();
    let problems: Vec<&str> = planted
        .iter()
        .flat_map(|v| v.problems.iter().map(String::as_str))
        .collect();
    assert_eq!(
        problems,
        [
            r#"body: "completed" is required"#,
            "body: property status should not exist"
        ]
    );
    let (_, still) = ghl_raw(base, Method::GET, tasks, None).await;
    assert_eq!(
        still["tasks"].as_array().unwrap().len(),
        1,
        "refusals write nothing: {still}"
    );
    assert_eq!(still["tasks"][0]["completed"], true);
}

#[tokio::test]
async fn a_callback_task_is_created_listed_completed_and_refused_where_ghl_refuses() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let contact = ghl_contact(
        &base,
        json!({"locationId": "sandbox-location", "firstName": "Mario", "phone": "+393501234567"}),
    )
    .await;
    let other = ghl_contact(
        &base,
        json!({"locationId": "sandbox-location", "firstName": "Anna", "phone": "+393471234567"}),
    )
    .await;
    let tasks = format!("/contacts/{contact}/tasks");
    let (task_id, second) = two_tasks_created_and_listed(&base, &tasks, &contact, &other).await;

    // A later answered call closes it.
    let completed_path =
        the_first_task_completed(&base, &sandbox, &contact, &tasks, &task_id).await;

    // An update, and a delete.
    let second_id = the_second_task_updated_and_deleted(&base, &tasks, &second).await;

    // 404s, NestJS style: an unknown contact, an unknown task, another contact's task.
    unknown_or_foreign_tasks_are_not_found(&base, &tasks, &other, &task_id, &second_id).await;
    invalid_tasks_are_refused_and_write_nothing(&base, &sandbox, &tasks, &completed_path).await;
    // A deleted contact takes its tasks with it.
    let (status, _) = ghl_raw(&base, Method::DELETE, &format!("/contacts/{contact}"), None).await;
    assert_eq!(status, 200);
    let (status, _) = ghl_raw(&base, Method::GET, &tasks, None).await;
    assert_eq!(status, 404);
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

/// The `assignedTo` of the GHL contact at `path`, as a GET shows it.
async fn owner(base: &str, path: &str) -> Option<Value> {
    let (status, shown) = ghl_raw(base, Method::GET, path, None).await;
    assert_eq!(status, 200, "{shown}");
    shown["contact"].get("assignedTo").cloned()
}

/// Upserts matching the contact at `path`: one with `assignedTo` sets its owner, one without
/// leaves it.
async fn an_upsert_sets_the_owner_when_it_carries_one(base: &str, sandbox: &Sandbox, path: &str) {
    // An upsert that matches the contact and carries `assignedTo` sets it…
    let (status, upserted) = ghl_raw(
        base,
        Method::POST,
        "/contacts/upsert",
        Some(
            json!({"locationId": "sandbox-location", "email": "mario.rossi@example.com",
            "assignedTo": "usr_roberto"}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{upserted}");
    assert_eq!(
        (&upserted["new"], &upserted["contact"]["assignedTo"]),
        (&json!(false), &json!("usr_roberto"))
    );
    // …and one without it leaves it.
    let (_, kept) = ghl_raw(
        base,
        Method::POST,
        "/contacts/upsert",
        Some(
            json!({"locationId": "sandbox-location", "email": "mario.rossi@example.com",
            "lastName": "Rossi"}),
        ),
    )
    .await;
    assert_eq!(kept["contact"]["assignedTo"], "usr_roberto");
    assert_eq!(owner(base, path).await, Some(json!("usr_roberto")));
    let state = sandbox.state_json();
    assert_eq!(state["ghl"]["contacts"][0]["owner"], "Roberto Bianchi");
}

/// Updates of the contact at `path` set its owner, known to the sandbox or not, and clear it.
async fn an_update_sets_or_clears_the_owner(base: &str, sandbox: &Sandbox, path: &str) {
    // An update sets it, to a user the sandbox does not know too (shown by id).
    let (status, updated) = ghl_raw(
        base,
        Method::PUT,
        path,
        Some(json!({"assignedTo": "usr_franco"})),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["contact"]["assignedTo"], "usr_franco");
    assert_eq!(
        sandbox.state_json()["ghl"]["contacts"][0]["owner"],
        "Franco Neri"
    );
    ghl_raw(
        base,
        Method::PUT,
        path,
        Some(json!({"assignedTo": "usr_gone"})),
    )
    .await;
    assert_eq!(
        sandbox.state_json()["ghl"]["contacts"][0]["owner"],
        "usr_gone"
    );
    // `null` (which the update's schema allows) clears it; the answer leaves it out.
    let (status, cleared) =
        ghl_raw(base, Method::PUT, path, Some(json!({"assignedTo": null}))).await;
    assert_eq!(status, 200, "{cleared}");
    assert!(cleared["contact"].get("assignedTo").is_none(), "{cleared}");
    assert_eq!(owner(base, path).await, None);
    assert_eq!(
        sandbox.state_json()["ghl"]["contacts"][0]["owner"],
        Value::Null
    );
}

#[tokio::test]
async fn a_contact_keeps_the_owner_a_create_upsert_or_update_assigns() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let (status, created) = ghl_raw(
        &base,
        Method::POST,
        "/contacts/",
        Some(
            json!({"locationId": "sandbox-location", "firstName": "Mario",
            "email": "mario.rossi@example.com", "assignedTo": "usr_anna"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["contact"]["assignedTo"], "usr_anna");
    let id = created["contact"]["id"].as_str().unwrap().to_string();
    let path = format!("/contacts/{id}");
    assert_eq!(owner(&base, &path).await, Some(json!("usr_anna")));

    an_upsert_sets_the_owner_when_it_carries_one(&base, &sandbox, &path).await;

    an_update_sets_or_clears_the_owner(&base, &sandbox, &path).await;
    // A new contact by upsert takes its owner too.
    let (_, fresh) = ghl_raw(
        &base,
        Method::POST,
        "/contacts/upsert",
        Some(
            json!({"locationId": "sandbox-location", "phone": "+393471234567",
            "assignedTo": "usr_giulia"}),
        ),
    )
    .await;
    assert_eq!(
        (&fresh["new"], &fresh["contact"]["assignedTo"]),
        (&json!(true), &json!("usr_giulia"))
    );
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

/// A GET of the sandbox's Conversation Intelligence API (`/cloudtalk/ai/v1`): status and body.
async fn ai_get(base: &str, path: &str) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .get(format!("{base}/cloudtalk/ai/v1{path}"))
        .basic_auth("sandbox-key-id", Some("sandbox-key-secret"))
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

const AI_PATHS: [&str; 5] = [
    "summary",
    "smart-notes",
    "overall-sentiment",
    "transcription",
    "topics",
];

/// An answered call with `contact_id` that ended `ago_ms` before now; its id.
fn answered_call(sandbox: &Sandbox, contact_id: Option<&str>, ago_ms: i64) -> String {
    let ended = chrono::Utc::now().timestamp_millis() - ago_ms;
    sandbox.record_call(call_at(contact_id, ended - 65_000))
}

/// Call `old`'s summary (deterministic, its id a number) and smart notes.
async fn the_summary_and_smart_notes_of(base: &str, old: &str) {
    let number: u64 = old.parse().unwrap();
    let (status, summary) = ai_get(base, &format!("/ai/calls/{old}/summary")).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["callId"], json!(number), "a number, not wrapped");
    assert!(summary.get("responseData").is_none());
    let text = summary["summary"].as_str().unwrap();
    assert!(
        text.starts_with("Mario Rossi asked about ")
            && text.contains("; Roberto Bianchi promised "),
        "{text}"
    );
    let (_, again) = ai_get(base, &format!("/ai/calls/{old}/summary")).await;
    assert_eq!(again, summary, "deterministic");

    let (status, notes) = ai_get(base, &format!("/ai/calls/{old}/smart-notes")).await;
    assert_eq!(status, 200, "{notes}");
    let notes = &notes["smartNotes"];
    let participants = notes["callDetails"]["participants"].as_array().unwrap();
    assert_eq!(
        participants
            .iter()
            .map(|p| (
                p["name"].as_str().unwrap(),
                p["callerType"].as_str().unwrap()
            ))
            .collect::<Vec<_>>(),
        [("Roberto Bianchi", "agent"), ("Mario Rossi", "contact")]
    );
    for list in ["actionItems", "decisionsMade", "openQuestions"] {
        assert!(
            !notes[list].as_array().unwrap().is_empty(),
            "{list}: {notes}"
        );
    }
}

/// Call `old`'s transcription, two segments a page and whole, the agent speaking first, and
/// the contact `contact` among its callers.
async fn the_transcription_in_pages(base: &str, old: &str, contact: &str) {
    let mut segments = Vec::new();
    let mut callers = Value::Null;
    for offset in [0, 2, 4] {
        let path = format!("/ai/calls/{old}/transcription?limit=2&offset={offset}");
        let (status, page) = ai_get(base, &path).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(
            page["pagination"],
            json!({"limit": 2, "offset": offset, "total": 4})
        );
        assert_eq!(page["data"]["language"], "en");
        callers = page["data"]["callers"].clone();
        segments.extend(page["data"]["segments"].as_array().unwrap().clone());
    }
    assert_eq!(segments.len(), 4, "{segments:?}");
    let kind_of = |local: &str| {
        callers
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["localIdentifier"] == local)
            .map(|c| c["type"].as_str().unwrap().to_string())
    };
    let speakers: Vec<String> = segments
        .iter()
        .map(|s| kind_of(s["caller"].as_str().unwrap()).expect("a known caller"))
        .collect();
    assert_eq!(speakers, ["agent", "contact", "agent", "contact"]);
    assert!(
        segments[1]["text"]
            .as_str()
            .unwrap()
            .contains("Mario Rossi"),
        "{segments:?}"
    );
    let contact_number: u64 = contact.parse().unwrap();
    assert!(
        callers
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "contact" && c["id"] == json!(contact_number)),
        "{callers}"
    );
    let (_, whole) = ai_get(base, &format!("/ai/calls/{old}/transcription")).await;
    assert_eq!(whole["pagination"]["offset"], 0);
    assert_eq!(whole["data"]["segments"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn ai_data_is_there_once_the_call_ended_and_the_delay_passed() {
    let config = SandboxConfig {
        ai_ready_after_secs: 600,
        ..quiet()
    };
    let (base, sandbox) = Sandbox::spawn(config).await;
    let contact = cloudtalk(&base).add_contact(&mario()).await.unwrap();
    let old = answered_call(&sandbox, Some(&contact), 20 * 60_000);
    let fresh = answered_call(&sandbox, Some(&contact), 0);
    let mut missed = call_at(Some(&contact), EIGHT_UTC_MS - 86_400_000);
    missed.answered_ms = None;
    missed.talking_secs = 0;
    let missed = sandbox.record_call(missed);

    // Not there yet, nobody talked, or no such call: the spec's NotFound on every path.
    for id in [fresh.as_str(), missed.as_str(), "999999999"] {
        for path in AI_PATHS {
            let (status, body) = ai_get(&base, &format!("/ai/calls/{id}/{path}")).await;
            assert_eq!(status, 404, "{id} {path}: {body}");
            assert_eq!(body["code"], "NOT_FOUND", "{body}");
            assert!(body["message"].is_string(), "{body}");
        }
    }

    the_summary_and_smart_notes_of(&base, &old).await;
    let (status, sentiment) = ai_get(&base, &format!("/ai/calls/{old}/overall-sentiment")).await;
    assert_eq!(status, 200, "{sentiment}");
    let words = [
        "very negative",
        "negative",
        "neutral",
        "positive",
        "very positive",
    ];
    assert!(
        words.contains(&sentiment["overallSentiment"].as_str().unwrap()),
        "{sentiment}"
    );

    the_transcription_in_pages(&base, &old, &contact).await;

    let (status, topics) = ai_get(&base, &format!("/ai/calls/{old}/topics?limit=1")).await;
    assert_eq!(status, 200, "{topics}");
    assert_eq!(topics["pagination"]["total"], 2);
    assert_eq!(topics["data"]["topics"].as_array().unwrap().len(), 1);

    // The CloudTalk API's credentials, and only them.
    let refused = reqwest::Client::new()
        .get(format!("{base}/cloudtalk/ai/v1/ai/calls/{old}/summary"))
        .basic_auth("sandbox-key-id", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "UNAUTHORIZED"
    );
    let log = &sandbox.state_json()["counters"];
    assert_eq!(
        log["cloudtalkWrites"], 1,
        "AI reads are CloudTalk reads: {log}"
    );
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

/// A `PUT` of call `id`'s AI content to the sandbox's control API: the status and JSON answer.
async fn put_call_ai(base: &str, id: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .put(format!("{base}/sandbox/calls/{id}/ai"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json::<Value>().await.unwrap())
}

/// Call `id`'s AI content set over HTTP, a transcript included, after the request it waits for;
/// `sentiment` is the path of its overall sentiment.
async fn ai_content_set_over_http(base: &str, id: &str, sentiment: &str) {
    let (status, answer) = put_call_ai(
        base,
        id,
        json!({"overall_sentiment": "negative", "ready_after_requests": 1, "language": "it",
        "transcript": [
            {"speaker": "contact", "start": 0.5, "end": 2.0, "text": "Pronto?"},
            {"speaker": "agent", "start": 2.5, "end": 4.0, "text": "Buongiorno!"},
            {"speaker": "contact", "start": 4.5, "end": 6.0, "text": "Volevo un preventivo."}
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let transcription = format!("/ai/calls/{id}/transcription?limit=2&offset=1");
    assert_eq!(ai_get(base, &transcription).await.0, 404);
    let (status, page) = ai_get(base, &transcription).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"]["language"], "it");
    assert_eq!(
        page["pagination"],
        json!({"limit": 2, "offset": 1, "total": 3})
    );
    let texts: Vec<&str> = page["data"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Buongiorno!", "Volevo un preventivo."]);
    assert_eq!(
        ai_get(base, sentiment).await.1["overallSentiment"],
        "negative"
    );
    let (status, _) = put_call_ai(base, "999999999", json!({})).await;
    assert_eq!(status, 404);
    let (status, _) = put_call_ai(base, id, json!({"overall_sentiment": "ecstatic"})).await;
    assert_eq!(status, 400, "the spec's sentiments only");
}

#[tokio::test]
async fn ai_content_set_by_a_test_comes_after_the_requests_it_waits_for() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let contact = cloudtalk(&base).add_contact(&mario()).await.unwrap();
    // Ended long ago: derived content would be there at once.
    let id = answered_call(&sandbox, Some(&contact), 3_600_000);
    let set = sandbox.set_call_ai(
        &id,
        CallAi {
            summary: Some("Mario wants two offices wired by March.".into()),
            overall_sentiment: Some(Sentiment::VeryPositive),
            action_items: Some(vec!["Send the wiring quote".into()]),
            ready_after_requests: 2,
            ..CallAi::default()
        },
    );
    assert!(set);
    assert!(!sandbox.set_call_ai("999999999", CallAi::default()));
    let summary = format!("/ai/calls/{id}/summary");
    let sentiment = format!("/ai/calls/{id}/overall-sentiment");
    assert_eq!(ai_get(&base, &summary).await.0, 404, "not ready");
    assert_eq!(
        ai_get(&base, &sentiment).await.0,
        404,
        "not ready (any path counts)"
    );
    let (status, body) = ai_get(&base, &summary).await;
    assert_eq!(status, 200, "ready: {body}");
    assert_eq!(body["summary"], "Mario wants two offices wired by March.");
    assert_eq!(
        ai_get(&base, &sentiment).await.1["overallSentiment"],
        "very positive"
    );
    let (_, notes) = ai_get(&base, &format!("/ai/calls/{id}/smart-notes")).await;
    assert_eq!(
        notes["smartNotes"]["actionItems"],
        json!(["Send the wiring quote"])
    );
    assert!(
        notes["smartNotes"]["callDetails"]["participants"].is_array(),
        "what was not set stays derived: {notes}"
    );

    ai_content_set_over_http(&base, &id, &sentiment).await;
    // The Rust types say the same.
    let segment = TranscriptSegment {
        speaker: Speaker::Agent,
        start: 0.0,
        end: 1.0,
        text: "Hi".into(),
    };
    assert_eq!(
        serde_json::to_value(&segment).unwrap(),
        json!({"speaker": "agent", "start": 0.0, "end": 1.0, "text": "Hi"})
    );
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

fn cloudtalk_ai(base: &str) -> CloudTalkAiClient {
    CloudTalkAiClient::new(
        reqwest::Client::new(),
        &format!("{base}/cloudtalk/ai/v1"),
        secrets(),
        CallCounter::default(),
    )
    .with_retry_budget(std::time::Duration::from_millis(0))
}

#[tokio::test]
async fn the_bridge_ai_client_reads_the_sandbox() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let ai = cloudtalk_ai(&base);
    let contact = cloudtalk(&base).add_contact(&mario()).await.unwrap();
    let id = answered_call(&sandbox, Some(&contact), 20 * 60_000);
    let Ai::Ready(insights) = ai.insights(&id).await.unwrap() else {
        panic!("an answered call's summary is ready");
    };
    assert!(
        insights.summary.starts_with("Mario Rossi asked about "),
        "{insights:?}"
    );
    assert!(!insights.action_items.is_empty() && !insights.open_questions.is_empty());
    assert!(insights.sentiment.is_some(), "{insights:?}");
    let Ai::Ready(turns) = ai.transcript(&id).await.unwrap() else {
        panic!("its transcript is ready");
    };
    assert_eq!(turns.len(), 4, "{turns:?}");
    let speakers: Vec<&str> = turns.iter().map(|t| t.speaker.as_str()).collect();
    assert!(
        speakers.contains(&"agent") && speakers.contains(&"contact"),
        "speakers by their type: {speakers:?}"
    );
    let ready_later = CallAi {
        ready_after_requests: 1,
        ..CallAi::default()
    };
    assert!(sandbox.set_call_ai(&id, ready_later));
    assert_eq!(ai.insights(&id).await.unwrap(), Ai::NotReady);
    assert!(matches!(ai.insights(&id).await.unwrap(), Ai::Ready(_)));
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
    let (off, _sandbox) = Sandbox::spawn(SandboxConfig {
        ai_enabled: false,
        ..quiet()
    })
    .await;
    assert_eq!(
        cloudtalk_ai(&off).insights("1").await.unwrap(),
        Ai::Unavailable
    );
}

#[tokio::test]
async fn without_conversation_intelligence_every_ai_path_is_forbidden() {
    let config = SandboxConfig {
        ai_enabled: false,
        ..quiet()
    };
    let (base, sandbox) = Sandbox::spawn(config).await;
    let id = answered_call(&sandbox, None, 3_600_000);
    for path in AI_PATHS {
        let (status, body) = ai_get(&base, &format!("/ai/calls/{id}/{path}")).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["code"], "FORBIDDEN");
    }
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

#[tokio::test]
async fn a_call_without_contact_or_agent_has_ai_data_too() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let mut spec = call_at(None, chrono::Utc::now().timestamp_millis() - 120_000);
    spec.agent = None;
    let id = sandbox.record_call(spec);
    let (status, summary) = ai_get(&base, &format!("/ai/calls/{id}/summary")).await;
    assert_eq!(status, 200, "{summary}");
    assert!(
        summary["summary"]
            .as_str()
            .unwrap()
            .starts_with("The caller asked about "),
        "{summary}"
    );
    let (_, page) = ai_get(&base, &format!("/ai/calls/{id}/transcription")).await;
    assert!(
        page["data"]["callers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"].is_null()),
        "{page}"
    );
    // A call id that is no number breaks the spec (`callId`: number): refused as the AI API
    // refuses it, and recorded.
    let (status, refused) = ai_get(&base, "/ai/calls/abc/summary").await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["code"], "BAD_REQUEST");
    let planted = sandbox.take_violations();
    assert_eq!(planted.len(), 1, "{planted:?}");
    assert_eq!(planted[0].path, "/ai/calls/abc/summary");
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

/// A GET of the sandbox's analytics API (`/cloudtalk/analytics`) with `key_secret`: status and
/// body.
async fn analytics_get_with(base: &str, path: &str, key_secret: &str) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .get(format!("{base}/cloudtalk/analytics{path}"))
        .basic_auth("sandbox-key-id", Some(key_secret))
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

async fn analytics_get(base: &str, path: &str) -> (u16, Value) {
    analytics_get_with(base, path, "sandbox-key-secret").await
}

/// An answered outgoing call with Mario (tagged, rated, with a note) and a voicemail nobody
/// answered, incoming, with no contact's name known; their ids and the contact's.
async fn an_answered_and_a_missed_call(base: &str, sandbox: &Sandbox) -> (String, String, String) {
    let contact = cloudtalk(base).add_contact(&mario()).await.unwrap();
    let answered = sandbox.record_call(CallSpec {
        tags: vec!["Interested".into()],
        rating: Some(4),
        notes: vec!["Call back on Friday".into()],
        ..call_at(Some(&contact), EIGHT_UTC_MS)
    });
    let missed = sandbox.record_call(CallSpec {
        direction: CallDirection::Incoming,
        external_number: "+39 02 8765 4321".into(),
        answered_ms: None,
        talking_secs: 0,
        voicemail: true,
        recording_link: None,
        ..call_at(Some("1999999"), EIGHT_UTC_MS + 600_000)
    });
    (answered, missed, contact)
}

/// The uuid the sandbox holds for call `id` (`GET /sandbox/state`).
fn uuid_in_state(sandbox: &Sandbox, id: &str) -> Value {
    let state = sandbox.state_json();
    let calls = state["cloudtalk"]["calls"].as_array().unwrap().clone();
    let call = calls.into_iter().find(|c| c["id"] == id).expect("the call");
    call["uuid"].clone()
}

/// The answered call's record: ids as numbers, its uuid, contact, times, tags, rating, notes
/// and agent, plain JSON.
async fn the_record_of_the_answered_call(base: &str, sandbox: &Sandbox, id: &str, contact: &str) {
    let (status, record) = analytics_get(base, &format!("/calls/{id}")).await;
    assert_eq!(status, 200, "{record}");
    assert!(
        record.get("responseData").is_none(),
        "not wrapped: {record}"
    );
    assert_eq!(record["cdr_id"], json!(id.parse::<u64>().unwrap()));
    let uuid = record["uuid"].as_str().unwrap();
    let parts: Vec<usize> = uuid.split('-').map(str::len).collect();
    assert_eq!(parts, [8, 4, 4, 4, 12], "{uuid}");
    assert_eq!(record["uuid"], uuid_in_state(sandbox, id), "the call's own");
    let (_, again) = analytics_get(base, &format!("/calls/{id}")).await;
    assert_eq!(again, record, "stable");
    assert_eq!(
        record["contact"],
        json!({"id": contact.parse::<u64>().unwrap(), "name": "Mario Rossi", "country": null,
            "number": "+393501234567"})
    );
    assert_eq!(
        (&record["direction"], &record["status"], &record["type"]),
        (&json!("outgoing"), &json!("answered"), &json!("regular"))
    );
    assert_eq!(record["date"], "2026-12-01T08:00:00.000Z");
    assert_eq!(record["call_times"]["talking_time"], 60);
    assert_eq!(record["call_times"]["ringing_time"], 5);
    assert_eq!(record["call_times"]["total_time"], 65);
    assert_eq!(record["internal_number"]["number"], "+390212345678");
    assert_eq!(record["call_tags"][0]["label"], "Interested");
    assert!(record["call_tags"][0]["id"].is_u64(), "{record}");
    assert_eq!(record["call_rating"], 4);
    assert_eq!(record["notes"], json!(["Call back on Friday"]));
    assert_eq!(record["recorded"], true);
    let step = &record["call_steps"][0];
    assert_eq!(
        (&step["type"], &step["id"], &step["name"], &step["status"]),
        (
            &json!("agent"),
            &json!(42),
            &json!("Roberto Bianchi"),
            &json!("answered")
        )
    );
}

/// The voicemail's record: missed (the spec has no other word), incoming, its number in
/// E.164, no contact's name, its agent's step missed.
async fn the_record_of_the_missed_call(base: &str, id: &str) {
    let (status, record) = analytics_get(base, &format!("/calls/{id}")).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(
        record["contact"],
        json!({"id": 1_999_999, "name": null, "country": null, "number": "+390287654321"})
    );
    assert_eq!(
        (&record["direction"], &record["status"]),
        (&json!("incoming"), &json!("missed"))
    );
    assert_eq!(record["call_times"]["talking_time"], 0);
    assert_eq!(record["call_times"]["ringing_time"], 65);
    assert_eq!(record["recorded"], false);
    assert_eq!(record["call_tags"], json!([]));
    assert_eq!(record["call_rating"], Value::Null);
    let step = &record["call_steps"][0];
    assert_eq!(
        (&step["status"], &step["reason"]),
        (&json!("missed"), &json!("not_picked_up"))
    );
}

#[tokio::test]
async fn the_analytics_api_answers_cloudtalks_record_of_a_call() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let (answered, missed, contact) = an_answered_and_a_missed_call(&base, &sandbox).await;
    the_record_of_the_answered_call(&base, &sandbox, &answered, &contact).await;
    the_record_of_the_missed_call(&base, &missed).await;
    let (_, one) = analytics_get(&base, &format!("/calls/{answered}")).await;
    let (_, other) = analytics_get(&base, &format!("/calls/{missed}")).await;
    assert_ne!(one["uuid"], other["uuid"], "a uuid per call");

    // A call the company does not have: the spec's 404.
    let (status, body) = analytics_get(&base, "/calls/999999999").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        (&body["statusCode"], &body["error"]),
        (&json!(404), &json!("Not Found"))
    );
    assert!(
        body["message"].as_str().unwrap().contains("'999999999'"),
        "{body}"
    );
    // The CloudTalk API's credentials, and only them.
    let (status, refused) = analytics_get_with(&base, &format!("/calls/{answered}"), "wrong").await;
    assert_eq!((status, &refused["statusCode"]), (401, &json!(401)));
    let log = &sandbox.state_json()["counters"];
    assert_eq!(
        log["cloudtalkWrites"], 1,
        "records are CloudTalk reads: {log}"
    );
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

#[tokio::test]
async fn a_call_keeps_the_uuid_it_was_recorded_with_and_an_id_that_is_no_number_is_refused() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let uuid = "44fe27cd-5268-4670-993e-01293c9f8833";
    let id = sandbox.record_call(CallSpec {
        uuid: Some(uuid.into()),
        ..call_at(None, EIGHT_UTC_MS)
    });
    let (status, record) = analytics_get(&base, &format!("/calls/{id}")).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["uuid"], uuid);
    assert_eq!(uuid_in_state(&sandbox, &id), json!(uuid));
    assert_eq!(record["contact"]["id"], Value::Null, "{record}");
    assert_eq!(record["contact"]["number"], "+393501234567");

    // Seeded calls have one too.
    sandbox.seed(&Seed {
        seed: 3,
        both: 2,
        calls: 2,
        ..Seed::default()
    });
    let state = sandbox.state_json();
    let calls = state["cloudtalk"]["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 3, "{calls:?}");
    for call in calls {
        let (status, record) =
            analytics_get(&base, &format!("/calls/{}", call["id"].as_str().unwrap())).await;
        assert_eq!(status, 200, "{record}");
        assert_eq!(record["uuid"], call["uuid"], "{record}");
    }

    // A call id that is no number breaks the spec (`callId`: number): the spec's 400, recorded.
    let (status, refused) = analytics_get(&base, "/calls/abc").await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(
        (&refused["statusCode"], &refused["error"]),
        (&json!(400), &json!("Bad Request"))
    );
    let planted = sandbox.take_violations();
    assert_eq!(planted.len(), 1, "{planted:?}");
    assert_eq!(planted[0].path, "/calls/abc");
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

fn cloudtalk_calls(base: &str) -> CloudTalkCallsClient {
    CloudTalkCallsClient::new(
        reqwest::Client::new(),
        &format!("{base}/cloudtalk/analytics"),
        secrets(),
        CallCounter::default(),
    )
    .with_retry_budget(std::time::Duration::from_millis(0))
}

#[tokio::test]
async fn the_bridge_calls_client_reads_the_sandbox() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let (answered, missed, contact) = an_answered_and_a_missed_call(&base, &sandbox).await;
    let calls = cloudtalk_calls(&base);
    let facts = calls.call_facts(&answered).await.unwrap();
    let uuid = uuid_in_state(&sandbox, &answered)
        .as_str()
        .map(str::to_string);
    assert_eq!(
        facts,
        Some(CallFacts {
            uuid,
            contact_id: Some(contact),
            number: Some("+393501234567".into()),
            direction: Some("outgoing".into()),
            status: Some("answered".into()),
        })
    );
    let facts = calls.call_facts(&missed).await.unwrap().expect("a record");
    assert_eq!(
        (facts.contact_id.as_deref(), facts.number.as_deref()),
        (Some("1999999"), Some("+390287654321"))
    );
    assert_eq!(
        (facts.direction.as_deref(), facts.status.as_deref()),
        (Some("incoming"), Some("missed"))
    );
    assert_eq!(calls.call_facts("999999999").await.unwrap(), None);
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
    // A 400 is no such call too (the id breaks the spec: recorded, and taken back here).
    assert_eq!(calls.call_facts("abc").await.unwrap(), None);
    assert_eq!(sandbox.take_violations().len(), 1);

    // CloudTalk failing is not "no such call".
    sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let err = calls.call_facts(&answered).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    sandbox.set_faults(Faults::default());
}

/// A fake bridge taking the webhooks posted to `route`; its URL and what it received.
async fn bridge_sink(route: &str) -> (String, Arc<Mutex<Vec<Received>>>) {
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        route,
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
                let sink = sink.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    sink.lock().unwrap().push((auth, body.0));
                    axum::Json(json!({"result": "applied"}))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

/// The webhooks received once `count` are there (or after 2.5 s).
async fn received_when(received: &Arc<Mutex<Vec<Received>>>, count: usize) -> Vec<Received> {
    for _ in 0..50 {
        if received.lock().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    received.lock().unwrap().clone()
}

/// The newest row of the sandbox's CloudTalk call history.
async fn history_row(base: &str) -> Value {
    let (status, body) = cloudtalk_get(base, "/calls/index.json").await;
    assert_eq!(status, 200, "{body}");
    body["responseData"]["data"][0].clone()
}

/// A `PUT` of a change to call `id` to the sandbox's control API: the status and JSON answer.
async fn put_call(base: &str, id: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .put(format!("{base}/sandbox/calls/{id}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json::<Value>().await.unwrap())
}

/// The call's first change in the history: its tags (in the company's catalogue too), its
/// note and its rating, with ids as strings. The note's id.
async fn the_history_shows_the_first_change(base: &str) -> String {
    let row = history_row(base).await;
    let tags = row["Tags"].as_array().unwrap();
    assert_eq!(
        tags.iter().map(|t| &t["name"]).collect::<Vec<_>>(),
        ["Interested", "Callback"]
    );
    assert!(
        tags.iter()
            .all(|t| t["id"].as_str().is_some_and(|i| i.parse::<u64>().is_ok())),
        "ids as strings of digits: {row}"
    );
    let notes = row["Notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["note"], "Wants a quote");
    let note_id = notes[0]["id"].as_str().unwrap().to_string();
    let ratings = row["Ratings"].as_array().unwrap();
    assert_eq!(ratings.len(), 1);
    assert_eq!(ratings[0]["rating"], "4");
    assert!(ratings[0]["id"].is_string());
    // The tags are in the company's catalogue.
    let catalogue = cloudtalk(base).find_tag("callback").await.unwrap();
    assert_eq!(catalogue.as_deref(), tags[1]["id"].as_str());
    note_id
}

/// Changes to call `id` refused, over HTTP and through the API: the bridge, which has received
/// two so far, receives nothing more.
async fn refused_changes_call_nobody(
    base: &str,
    sandbox: &Sandbox,
    id: &str,
    received: &Arc<Mutex<Vec<Received>>>,
) {
    // Refused: a rating outside 1-5, an unknown call, a body that is no change.
    let (status, _) = put_call(base, id, json!({"rating": 7})).await;
    assert_eq!(status, 400);
    let (status, _) = put_call(base, "999999999", json!({"tags": ["x"]})).await;
    assert_eq!(status, 404);
    let (status, _) = put_call(base, id, json!({"tags": "x"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        sandbox.modify_call(
            id,
            CallChange {
                rating: Some(0),
                ..CallChange::default()
            }
        ),
        Err(CallChangeError::InvalidRating(0))
    );
    assert_eq!(
        sandbox.modify_call("999999999", CallChange::default()),
        Err(CallChangeError::UnknownCall)
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(received.lock().unwrap().len(), 2, "refusals call nobody");
}

#[tokio::test]
async fn changing_a_calls_tags_rating_and_notes_shows_in_the_history_and_calls_the_bridge() {
    let (bridge_url, received) = bridge_sink("/api/cloudtalk-webhooks/call-modified").await;
    let config = SandboxConfig {
        bridge_url: Some(bridge_url),
        cloudtalk_webhook_secret: Some("s3cret".into()),
        callback_delay_ms: 10,
        ..quiet()
    };
    let (base, sandbox) = Sandbox::spawn(config).await;
    let contact = cloudtalk(&base).add_contact(&mario()).await.unwrap();
    let id = sandbox.record_call(call_at(Some(&contact), EIGHT_UTC_MS));
    let untouched = history_row(&base).await;
    assert_eq!(
        (
            &untouched["Tags"],
            &untouched["Notes"],
            &untouched["Ratings"]
        ),
        (&json!([]), &json!([]), &json!([]))
    );

    let (status, answer) = put_call(
        &base,
        &id,
        json!({"tags": ["Interested", "Callback", "interested"], "rating": 4,
            "notes": ["Wants a quote"]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let expected = json!({
        "call_id": id.parse::<u64>().unwrap(),
        "contact_id": contact.parse::<u64>().unwrap(),
        "external_number": "+393501234567",
        "agent_id": 42,
        "tags": ["Interested", "Callback"],
        "rating": 4,
        "notes": ["Wants a quote"],
    });
    assert_eq!(answer["call_modified"], expected);
    assert_eq!(answer["sent_to_bridge"], true);
    let got = received_when(&received, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0.as_deref(), Some("Bearer s3cret"));
    assert_eq!(got[0].1, expected);

    let note_id = the_history_shows_the_first_change(&base).await;

    // A PUT replaces all three; a note that stays keeps its id; what is left out is emptied.
    let (status, answer) = put_call(
        &base,
        &id,
        json!({"tags": ["Won"], "notes": ["Wants a quote", "Signed on the phone"]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["call_modified"].get("rating").is_none(), "{answer}");
    let row = history_row(&base).await;
    assert_eq!(row["Ratings"], json!([]));
    assert_eq!(row["Notes"][0]["id"], json!(note_id));
    assert_eq!(row["Notes"][1]["note"], "Signed on the phone");
    assert_ne!(row["Notes"][1]["id"], json!(note_id));
    assert_eq!(received_when(&received, 2).await.len(), 2);

    refused_changes_call_nobody(&base, &sandbox, &id, &received).await;
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

#[tokio::test]
async fn without_a_bridge_a_call_change_only_changes_the_call() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    // Recorded already tagged, rated and noted, without a contact.
    let id = sandbox.record_call(CallSpec {
        tags: vec!["Support".into()],
        rating: Some(2),
        notes: vec!["Line was bad".into()],
        ..call_at(None, EIGHT_UTC_MS)
    });
    let sent = sandbox
        .modify_call(
            &id,
            CallChange {
                tags: vec!["Support".into(), "Escalated".into()],
                rating: Some(5),
                notes: vec!["Line was bad".into()],
            },
        )
        .unwrap();
    assert!(sent.get("contact_id").is_none(), "{sent}");
    assert_eq!(sent["rating"], 5);
    assert_eq!(sent["tags"], json!(["Support", "Escalated"]));
    let call = &sandbox.state_json()["cloudtalk"]["calls"][0];
    assert_eq!(
        (&call["tags"], &call["rating"], &call["notes"]),
        (
            &json!(["Support", "Escalated"]),
            &json!(5),
            &json!(["Line was bad"])
        )
    );
    let (_, body) = {
        let r = reqwest::Client::new()
            .get(format!("{base}/cloudtalk/api/calls/index.json"))
            .basic_auth("sandbox-key-id", Some("sandbox-key-secret"))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    let row = &body["responseData"]["data"][0];
    assert_eq!(row["Ratings"][0]["rating"], "5");
    assert_eq!(row["Notes"][0]["note"], "Line was bad");
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

/// Rome in winter: the company's offset for the click-to-call tests.
fn rome() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(3600).unwrap()
}

/// A quiet sandbox in Rome on a clock the test moves; the clock.
async fn dialling_sandbox() -> (String, Sandbox, Arc<bridge::clock::ManualClock>) {
    let clock = Arc::new(bridge::clock::ManualClock::starting_now());
    let config = SandboxConfig {
        clock: SandboxClock(clock.clone()),
        cloudtalk_utc_offset: rome(),
        ..quiet()
    };
    let (base, sandbox) = Sandbox::spawn(config).await;
    (base, sandbox, clock)
}

/// The availability agent `id` has now, as the sandbox shows it.
fn availability(sandbox: &Sandbox, id: &str) -> AgentStatus {
    let agents = sandbox.agents();
    let agent = agents.iter().find(|a| a.id == id).expect("a known agent");
    agent.availability_status
}

/// The status a refused `create_call` carries.
async fn refused(ct: &CloudTalkClient, agent: &str, callee: &str) -> Option<u16> {
    match ct.create_call(agent, callee).await {
        Ok(()) => panic!("agent {agent} dialled {callee}"),
        Err(e) => e.status(),
    }
}

#[tokio::test]
async fn click_to_call_rings_an_online_agent_and_the_call_is_in_the_history() {
    let (base, sandbox, clock) = dialling_sandbox().await;
    let ct = cloudtalk(&base);
    let contact = ct.add_contact(&mario()).await.unwrap();
    let now = bridge::clock::Clock::now_ms(&*clock);
    ct.create_call("42", "+393501234567").await.unwrap();

    let time = |ms: i64| bridge::reconcile::company_time::format(ms, rome());
    let (from, to) = (time(now - 60_000), time(now + 60_000));
    let calls = ct
        .calls_with("+393501234567", "42", &from, &to)
        .await
        .unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    assert_eq!(call.direction.as_deref(), Some("outgoing"));
    assert_eq!(call.agent_id.as_deref(), Some("42"));
    assert_eq!(call.agent_name.as_deref(), Some("Roberto Bianchi"));
    assert_eq!(call.contact_id.as_deref(), Some(contact.as_str()));
    assert_eq!(call.internal_number.as_deref(), Some("+390212345678"));
    assert_eq!(call.started_at, Some(time(now)), "in the company's time");
    assert_eq!(call.answered_at, Some(time(now + 5_000)));
    assert_eq!(call.ended_at, Some(time(now + 60_000)));
    assert_eq!((call.talking_time, call.billsec), (Some(55), Some(60)));
    // The filters: another agent, another number, or before the call find nothing.
    let other_agent = ct.calls_with("+393501234567", "43", &from, &to).await;
    assert!(other_agent.unwrap().is_empty());
    let other_number = ct.calls_with("+393409998877", "42", &from, &to).await;
    assert!(other_number.unwrap().is_empty());
    let before = ct
        .calls_with("+393501234567", "42", &from, &time(now - 1_000))
        .await;
    assert!(before.unwrap().is_empty());

    // Roberto is on that call until it ends: a second dial is refused, then rings again.
    assert_eq!(availability(&sandbox, "42"), AgentStatus::Calling);
    let (_, listed) = cloudtalk_get(&base, "/agents/index.json?id=42").await;
    assert_eq!(
        listed["responseData"]["data"][0]["Agent"]["availability_status"],
        "calling"
    );
    assert_eq!(refused(&ct, "42", "+393409998877").await, Some(409));
    clock.advance_ms(60_000);
    assert_eq!(availability(&sandbox, "42"), AgentStatus::Online);
    ct.create_call("42", "+393409998877").await.unwrap();

    let dials = sandbox.dials();
    let seen: Vec<(u16, &str)> = dials
        .iter()
        .map(|d| (d.status, d.answer.as_str()))
        .collect();
    assert_eq!(
        seen,
        [(200, "ringing"), (409, "already calling"), (200, "ringing")]
    );
    let first = &dials[0];
    assert_eq!(
        (
            first.agent_id.as_deref(),
            first.agent_name.as_deref(),
            first.callee.as_deref()
        ),
        (Some("42"), Some("Roberto Bianchi"), Some("+393501234567"))
    );
    assert_eq!(first.call_id.as_deref(), Some(call.call_id.as_str()));
    assert_eq!(
        dials[1].message.as_deref(),
        Some("Agent is already calling.")
    );
    let state = sandbox.state_json();
    assert_eq!(state["cloudtalk"]["dials"].as_array().unwrap().len(), 3);
    assert_eq!(state["cloudtalk"]["calls"].as_array().unwrap().len(), 2);
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

#[tokio::test]
async fn click_to_call_refuses_as_cloudtalk_does() {
    let (base, sandbox, _) = dialling_sandbox().await;
    let ct = cloudtalk(&base);
    // The default agents: 43 paused, 44 offline, 45 calling.
    assert_eq!(refused(&ct, "44", "+393501234567").await, Some(403));
    assert_eq!(refused(&ct, "43", "+393501234567").await, Some(403));
    assert_eq!(refused(&ct, "45", "+393501234567").await, Some(409));
    assert_eq!(refused(&ct, "99", "+393501234567").await, Some(404));
    assert_eq!(refused(&ct, "42", "3501234567").await, Some(406));
    assert_eq!(refused(&ct, "42", "+39 350 123 4567").await, Some(406));
    let answers: Vec<(u16, String, Option<String>)> = sandbox
        .dials()
        .into_iter()
        .map(|d| (d.status, d.answer, d.message))
        .collect();
    let expected = [
        (403, "not online", "Agent is not online."),
        (403, "not online", "Agent is not online."),
        (409, "already calling", "Agent is already calling."),
        (404, "unknown agent", "Not found."),
        (406, "invalid input", "Invalid input data."),
        (406, "invalid input", "Invalid input data."),
    ]
    .map(|(s, a, m)| (s, a.to_string(), Some(m.to_string())));
    assert_eq!(answers, expected);
    assert!(
        sandbox.state_json()["cloudtalk"]["calls"]
            .as_array()
            .unwrap()
            .is_empty(),
        "a refused dial makes no call"
    );
    // What Roberto had is untouched: he is still online.
    assert_eq!(availability(&sandbox, "42"), AgentStatus::Online);
    assert!(
        sandbox.violations().is_empty(),
        "CloudTalk's contract is kept: {:?}",
        sandbox.violations()
    );
}

/// `PUT /sandbox/agents/{id}` with `body`: the status and JSON answer.
async fn put_availability(base: &str, id: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .put(format!("{base}/sandbox/agents/{id}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A raw click-to-call request: the status and JSON answer.
async fn dial_raw(base: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/cloudtalk/api/calls/create.json"))
        .basic_auth("sandbox-key-id", Some("sandbox-key-secret"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn agents_availability_is_set_over_http_and_every_dial_is_recorded() {
    let (base, sandbox, _) = dialling_sandbox().await;
    let franco = json!({"availability_status": "online"});
    let (status, body) = put_availability(&base, "44", franco.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["agent"]["availability_status"], "online");
    let (_, listed) = cloudtalk_get(&base, "/agents/index.json?id=44").await;
    assert_eq!(
        listed["responseData"]["data"][0]["Agent"]["availability_status"],
        "online"
    );
    let busy = json!({"availability_status": "busy"});
    assert_eq!(put_availability(&base, "44", busy).await.0, 400);
    assert_eq!(put_availability(&base, "44", json!({})).await.0, 400);
    let (status, body) = put_availability(&base, "99", franco).await;
    assert_eq!((status, &body["error"]), (404, &json!("unknown_agent")));

    // Franco dials: exactly CloudTalk's answer, and he is calling until he is set otherwise.
    let dial = json!({"agent_id": 44, "callee_number": "+393501234567"});
    let (status, body) = dial_raw(&base, dial.clone()).await;
    assert_eq!(
        (status, body),
        (200, json!({"responseData": {"status": 200}}))
    );
    assert_eq!(availability(&sandbox, "44"), AgentStatus::Calling);
    assert!(sandbox.set_agent_availability("44", AgentStatus::Paused));
    assert_eq!(availability(&sandbox, "44"), AgentStatus::Paused);
    assert!(!sandbox.set_agent_availability("99", AgentStatus::Online));
    assert!(sandbox.set_agent_availability("44", AgentStatus::Online));

    // A body without a callee breaks CloudTalk's contract: refused with 406, and recorded.
    let (status, _) = dial_raw(&base, json!({"agent_id": 44})).await;
    assert_eq!(status, 406);
    let planted = sandbox.take_violations();
    assert_eq!(planted.len(), 1, "{planted:?}");
    assert_eq!(planted[0].path, "/calls/create.json");
    // Fault knobs apply as elsewhere: the dial fails and makes no call.
    sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let (status, _) = dial_raw(&base, dial).await;
    assert_eq!(status, 500);
    sandbox.set_faults(Faults::default());
    assert_eq!(availability(&sandbox, "44"), AgentStatus::Online);

    let state = sandbox.state_json();
    let dials = state["cloudtalk"]["dials"].as_array().unwrap();
    let answers: Vec<&Value> = dials.iter().map(|d| &d["answer"]).collect();
    assert_eq!(answers, ["ringing", "invalid input", "server error"]);
    assert_eq!(dials[0]["agent_name"], "Franco Neri");
    assert!(dials[0]["call_id"].is_string(), "{}", dials[0]);
    assert!(dials[1]["callee"].is_null(), "{}", dials[1]);
    assert_eq!(state["cloudtalk"]["calls"].as_array().unwrap().len(), 1);
    // A reset forgets the dials and brings back the agents as configured.
    sandbox.reset();
    assert!(sandbox.dials().is_empty());
    assert_eq!(availability(&sandbox, "44"), AgentStatus::Offline);
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

#[tokio::test]
async fn the_call_history_filters_by_number_and_agent() {
    let (base, sandbox, _) = calls_in_rome_summer().await;
    sandbox.record_call(CallSpec {
        external_number: "+393409998877".into(),
        agent: Some(CallAgent {
            id: "43".into(),
            first_name: "Anna".into(),
            last_name: "Verdi".into(),
        }),
        answered_ms: None,
        direction: CallDirection::Incoming,
        ..call_at(None, EIGHT_UTC_MS)
    });
    let count = |query: &'static str| {
        let base = base.clone();
        async move {
            let (status, body) = cloudtalk_get(&base, &format!("/calls/index.json?{query}")).await;
            assert_eq!(status, 200, "{query}: {body}");
            body["responseData"]["itemsCount"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    assert_eq!(count("limit=30").await, "6");
    assert_eq!(count("public_external=393501234567").await, "5");
    assert_eq!(count("public_external=%2B393501234567").await, "5");
    assert_eq!(count("public_external=%2B393409998877").await, "1");
    assert_eq!(count("public_external=393400000000").await, "0");
    assert_eq!(count("user_id=42").await, "5");
    assert_eq!(count("user_id=43&public_external=393409998877").await, "1");
    assert_eq!(count("user_id=43&public_external=393501234567").await, "0");
    assert_eq!(count("type=incoming").await, "1");
    assert_eq!(count("status=missed").await, "1");
    assert_eq!(count("status=answered&user_id=42").await, "5");
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

/// A raw request to the sandbox's CloudTalk API: the status and JSON answer.
async fn cloudtalk_raw(
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{base}/cloudtalk/api{path}"))
        .basic_auth("sandbox-key-id", Some("sandbox-key-secret"));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A control route's answer: the status and JSON answer.
async fn control(base: &str, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The numbers of a blacklist page, and its counts.
fn blacklisted(page: &Value) -> (Vec<&str>, [&str; 4]) {
    let data = &page["responseData"];
    let numbers = data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["Blacklist"]["public_number"].as_str().unwrap())
        .collect();
    let count = |k: &str| data[k].as_str().unwrap_or("not a string");
    let counts = ["itemsCount", "pageCount", "pageNumber", "limit"].map(count);
    (numbers, counts)
}

/// The bridge's client adds an outgoing entry, finds it by number in any writing, and removes
/// it (twice: an entry already gone is no error).
async fn the_bridge_client_adds_finds_and_removes(ct: &CloudTalkClient, sandbox: &Sandbox) {
    assert!(ct.blacklist_of("+393501234567").await.unwrap().is_empty());
    let id = ct.blacklist_outgoing("+393501234567").await.unwrap();
    assert!(id.chars().all(|c| c.is_ascii_digit()), "{id}");
    let found = ct.blacklist_of("+393501234567").await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (
            found[0].id.as_str(),
            found[0].kind.as_str(),
            found[0].number.as_str()
        ),
        (id.as_str(), "outgoing", "+393501234567")
    );
    assert!(found[0].blocks_outgoing());
    let held = sandbox.blacklist();
    assert_eq!((held.len(), held[0].kind), (1, BlacklistType::Outgoing));
    ct.remove_blacklist_entry(&id).await.unwrap();
    ct.remove_blacklist_entry(&id).await.unwrap();
    assert!(sandbox.blacklist().is_empty());
}

/// Seeded over HTTP: the ids come back, and the list filters and pages.
async fn seeded_numbers_filter_and_page(base: &str) {
    let (_, summary) = control(
        base,
        Method::POST,
        "/sandbox/seed",
        json!({"blacklist": [
            {"public_number": "393409998877", "type": "all"},
            {"public_number": "+14155552671", "type": "incoming"},
            {"public_number": "+393501234567", "type": "outgoing"}
        ]}),
    )
    .await;
    assert_eq!(
        summary["blacklist"].as_array().unwrap().len(),
        3,
        "{summary}"
    );
    let list = |query: &'static str| {
        let base = base.to_string();
        async move {
            let (status, page) =
                cloudtalk_get(&base, &format!("/blacklist/index.json?{query}")).await;
            assert_eq!(status, 200, "{query}: {page}");
            page
        }
    };
    let all = list("limit=30").await;
    assert_eq!(
        blacklisted(&all).1,
        ["3", "1", "1", "30"],
        "counts as strings"
    );
    let row = &all["responseData"]["data"][0]["Blacklist"];
    assert!(row["id"].is_string() && row["created"].is_string(), "{row}");
    let by_number = list("public_number=%2B393409998877").await;
    assert_eq!(
        blacklisted(&by_number).0,
        ["393409998877"],
        "compared by digits"
    );
    let (outgoing, incoming) = (list("type=outgoing").await, list("type=incoming").await);
    assert_eq!(
        blacklisted(&outgoing).0,
        ["+393501234567"],
        "exactly the type"
    );
    assert_eq!(blacklisted(&incoming).0, ["+14155552671"]);
    let both = list("public_number=393501234567&type=all").await;
    assert!(blacklisted(&both).0.is_empty());
    assert_eq!(
        blacklisted(&list("country_code=1").await).0,
        ["+14155552671"]
    );
    let second = list("limit=2&page=2").await;
    assert_eq!(
        blacklisted(&second),
        (vec!["+393501234567"], ["3", "2", "2", "2"])
    );
}

/// A number that is not E.164 is CloudTalk's 406; an unknown id 404; an unknown type breaks the
/// contract (406, recorded).
async fn what_cloudtalk_refuses_is_refused(base: &str, sandbox: &Sandbox) {
    let add = |number: &str, kind: &str| json!({"public_number": number, "type": kind});
    let (status, body) = cloudtalk_raw(
        base,
        Method::PUT,
        "/blacklist/add.json",
        Some(add("3501234567", "outgoing")),
    )
    .await;
    assert_eq!(status, 406, "{body}");
    assert_eq!(body["responseData"]["message"], "Invalid input data.");
    assert_eq!(
        body["responseData"]["data"]["public_number"][0],
        "Please supply only valid numbers. Number 3501234567 is not valid."
    );
    assert!(
        sandbox.violations().is_empty(),
        "a valid request: {:?}",
        sandbox.violations()
    );
    let (status, body) =
        cloudtalk_raw(base, Method::DELETE, "/blacklist/delete/999.json", None).await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"responseData": {"status": 404, "message": "Not found."}})
        )
    );
    let blocked = Some(add("+393501234567", "blocked"));
    let (status, _) = cloudtalk_raw(base, Method::PUT, "/blacklist/add.json", blocked).await;
    assert_eq!(status, 406);
    assert_eq!(sandbox.take_violations().len(), 1);
}

#[tokio::test]
async fn the_blacklist_lists_adds_and_deletes_as_cloudtalk_does() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let ct = cloudtalk(&base);
    the_bridge_client_adds_finds_and_removes(&ct, &sandbox).await;
    seeded_numbers_filter_and_page(&base).await;
    what_cloudtalk_refuses_is_refused(&base, &sandbox).await;
    let (status, body) = cloudtalk_raw(
        &base,
        Method::PUT,
        "/blacklist/add.json",
        Some(json!({"public_number": "+393501234567", "type": "all"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["responseData"]["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(body["responseData"]["status"], 201);
    let state = sandbox.state_json();
    let listed = state["cloudtalk"]["blacklist"].as_array().unwrap();
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert_eq!(listed[3]["id"], id.as_str());
    assert_eq!(listed[3]["type"], "all");
    let path = format!("/blacklist/delete/{id}.json");
    let (status, body) = cloudtalk_raw(&base, Method::DELETE, &path, None).await;
    assert_eq!(
        (status, body),
        (200, json!({"responseData": {"status": 200}}))
    );
    assert_eq!(sandbox.blacklist().len(), 3);
    sandbox.reset();
    assert!(sandbox.blacklist().is_empty(), "a reset empties it");
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

/// A GHL contact made through the API, with a phone; its id.
async fn lead(base: &str) -> String {
    let body = json!({"locationId": "sandbox-location", "firstName": "Mario",
        "phone": "+393501234567"});
    let (status, created) = ghl_raw(base, Method::POST, "/contacts/", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created["contact"]["id"].as_str().unwrap().to_string()
}

/// `PUT /sandbox/contacts/{id}/dnd`: each change shows on `GET /contacts/{id}`, channels sent
/// replace and the others stay; bad bodies and unknown contacts are refused.
async fn dnd_set_by_the_control_route(base: &str, id: &str) {
    let path = format!("/sandbox/contacts/{id}/dnd");
    let call_active = json!({"dnd": false, "dndSettings": {"Call": {"status": "active"}}});
    let (status, body) = control(base, Method::PUT, &path, call_active).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["contact"]["dndSettings"]["Call"]["status"], "active");
    let (_, got) = ghl_raw(base, Method::GET, &format!("/contacts/{id}"), None).await;
    let contact = &got["contact"];
    assert_eq!(contact["dnd"], false);
    assert_eq!(
        contact["dndSettings"],
        json!({"Call": {"status": "active"}})
    );
    let sms = json!({"dndSettings": {"SMS": {"status": "permanent", "message": "asked"}}});
    control(base, Method::PUT, &path, sms).await;
    let (_, body) = control(base, Method::PUT, &path, json!({"dnd": true})).await;
    assert_eq!(body["contact"]["dnd"], true);
    assert_eq!(
        body["contact"]["dndSettings"],
        json!({"Call": {"status": "active"}, "SMS": {"status": "permanent", "message": "asked"}})
    );
    for bad in [
        json!({}),
        json!({"dnd": "yes"}),
        json!({"dndSettings": {"Call": {"status": "on"}}}),
        json!({"dndSettings": {"Fax": {"status": "active"}}}),
    ] {
        let (status, body) = control(base, Method::PUT, &path, bad.clone()).await;
        assert_eq!(
            (status, &body["error"]),
            (400, &json!("invalid_body")),
            "{bad}"
        );
    }
    let unknown = "/sandbox/contacts/ghl-nobody/dnd";
    let (status, body) = control(base, Method::PUT, unknown, json!({"dnd": true})).await;
    assert_eq!((status, &body["error"]), (404, &json!("unknown_contact")));
}

#[tokio::test]
async fn a_contacts_do_not_disturb_is_answered_as_ghl_does_and_set_by_a_control_route() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let g = ghl(&base);
    let id = lead(&base).await;
    let (_, got) = ghl_raw(&base, Method::GET, &format!("/contacts/{id}"), None).await;
    assert_eq!(got["contact"]["locationId"], "sandbox-location");
    assert_eq!(got["contact"]["dnd"], false, "GHL answers dnd, false too");
    assert!(got["contact"].get("dndSettings").is_none(), "{got}");
    let record = g.get_contact(&id).await.unwrap();
    assert_eq!(record.location_id.as_deref(), Some("sandbox-location"));
    assert_eq!(record.consent.refuses_calls(), None);

    dnd_set_by_the_control_route(&base, &id).await;
    let record = g.get_contact(&id).await.unwrap();
    assert_eq!(record.consent.refuses_calls(), Some("dnd"));

    // GHL's own update takes them too; the Rust handle sets them as the route does.
    let lift = json!({"dnd": false, "dndSettings": {"Call": {"status": "inactive"}}});
    let (status, updated) =
        ghl_raw(&base, Method::PUT, &format!("/contacts/{id}"), Some(lift)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["contact"]["dndSettings"]["Call"]["status"],
        "inactive"
    );
    assert_eq!(
        g.get_contact(&id).await.unwrap().consent.refuses_calls(),
        None
    );
    let permanent = DndChange {
        dnd_settings: Some(DndSettings {
            call: Some(DndSetting::status(DndStatus::Permanent)),
            ..DndSettings::default()
        }),
        ..DndChange::default()
    };
    let contact = sandbox.set_contact_dnd(&id, permanent).unwrap();
    assert_eq!(contact["dndSettings"]["Call"]["status"], "permanent");
    let record = g.get_contact(&id).await.unwrap();
    assert_eq!(record.consent.refuses_calls(), Some("dnd_call"));
    assert!(sandbox
        .set_contact_dnd("ghl-nobody", DndChange::default())
        .is_none());

    // A create and an upsert carrying them.
    let body = json!({"locationId": "sandbox-location", "firstName": "Anna",
        "phone": "+393409998877", "dnd": true,
        "dndSettings": {"Call": {"status": "permanent", "code": "x"}}});
    let (status, created) = ghl_raw(&base, Method::POST, "/contacts/upsert", Some(body)).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["contact"]["dnd"], true);
    assert_eq!(
        created["contact"]["dndSettings"],
        json!({"Call": {"status": "permanent", "code": "x"}})
    );
    let state = sandbox.state_json();
    let held = state["ghl"]["contacts"].as_array().unwrap();
    assert!(held.iter().all(|c| c["dnd"].is_boolean()), "{held:?}");
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

/// `/sandbox/faults/click-to-call`: bodies it refuses, and what it answers.
async fn dial_fault_bodies(base: &str) {
    let path = "/sandbox/faults/click-to-call";
    let (status, unset) = control(base, Method::GET, path, Value::Null).await;
    assert_eq!(
        (status, unset),
        (200, json!({"failing": false, "agent_ids": []}))
    );
    for bad in [
        json!({"failing": "yes"}),
        json!({"agent_ids": [true]}),
        json!({"failing": true, "agent": 42}),
    ] {
        let (status, body) = control(base, Method::PUT, path, bad.clone()).await;
        assert_eq!(
            (status, &body["error"]),
            (400, &json!("invalid_body")),
            "{bad}"
        );
    }
    let roberto = json!({"failing": true, "agent_ids": [42]});
    let (status, set) = control(base, Method::PUT, path, roberto).await;
    assert_eq!(
        (status, set),
        (200, json!({"failing": true, "agent_ids": ["42"]}))
    );
}

#[tokio::test]
async fn click_to_call_answers_500_while_its_fault_is_set() {
    let (base, sandbox, _) = dialling_sandbox().await;
    let ct = cloudtalk(&base);
    let path = "/sandbox/faults/click-to-call";
    assert!(sandbox.set_agent_availability("43", AgentStatus::Online));
    // Roberto's dials fail; Anna's ring.
    dial_fault_bodies(&base).await;
    let (status, body) = dial_raw(
        &base,
        json!({"agent_id": 42, "callee_number": "+393501234567"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            500,
            json!({"responseData": {"status": 500, "message": "Something went wrong."}})
        )
    );
    ct.create_call("43", "+393501234567").await.unwrap();
    // For every agent: before anything else, even Anna's being on a call.
    control(&base, Method::PUT, path, json!({"failing": true})).await;
    assert_eq!(refused(&ct, "43", "+393409998877").await, Some(500));
    assert_eq!(refused(&ct, "99", "+393409998877").await, Some(500));
    assert_eq!(
        refused(&ct, "42", "3501234567").await,
        Some(406),
        "the body first"
    );
    let (status, _) = control(&base, Method::PUT, path, json!({"failing": false})).await;
    assert_eq!(status, 200);
    ct.create_call("42", "+393409998877").await.unwrap();

    let answers: Vec<String> = sandbox.dials().into_iter().map(|d| d.answer).collect();
    let expected = [
        "server error",
        "ringing",
        "server error",
        "server error",
        "invalid input",
        "ringing",
    ];
    assert_eq!(answers, expected);
    assert_eq!(sandbox.faults_injected(), 3);
    let state = sandbox.state_json();
    assert_eq!(state["cloudtalk"]["calls"].as_array().unwrap().len(), 2);
    assert_eq!(state["cloudtalk"]["dialFault"]["failing"], false);
    // The Rust handle sets it as the route does; a reset clears it.
    sandbox.set_dial_fault(DialFault {
        failing: true,
        agent_ids: vec!["44".into()],
    });
    assert!(sandbox.dial_fault().fails("44") && !sandbox.dial_fault().fails("42"));
    sandbox.reset();
    assert_eq!(sandbox.dial_fault(), DialFault::default());
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

/// A sandbox enforcing CloudTalk's limit, a bulk request counting `cost` requests; its clock
/// stands still in the middle of a minute (the limit counts per clock minute).
async fn limited(cost: u32) -> (String, Sandbox) {
    let clock = bridge::clock::ManualClock::at_ms(1_796_000_010_000);
    Sandbox::spawn(SandboxConfig {
        enforce_cloudtalk_limit: true,
        bulk_request_cost: cost,
        clock: SandboxClock(Arc::new(clock)),
        ..quiet()
    })
    .await
}

#[tokio::test]
async fn the_limit_starts_again_each_minute_as_the_reset_time_says() {
    let clock = Arc::new(bridge::clock::ManualClock::at_ms(1_796_000_010_000));
    let (base, _) = Sandbox::spawn(SandboxConfig {
        enforce_cloudtalk_limit: true,
        bulk_request_cost: 10,
        clock: SandboxClock(clock.clone()),
        ..quiet()
    })
    .await;
    for n in 0..6 {
        assert_eq!(bulk_seen(&base, n).await.0, 200);
    }
    assert_eq!(
        bulk_seen(&base, 6).await.0,
        429,
        "the minute's 60 are spent"
    );
    // The next minute: its own 60.
    clock.advance_ms(30_000);
    assert_eq!(bulk_seen(&base, 7).await, (200, 60, 50));
}

/// A CloudTalk answer's status and its `X-CloudTalkAPI-Limit` and `-Remaining`.
async fn limit_seen(r: reqwest::Response) -> (u16, u32, u32) {
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in every CloudTalk answer"))
    };
    let (limit, remaining) = (
        header("x-cloudtalkapi-limit"),
        header("x-cloudtalkapi-remaining"),
    );
    assert!(r.headers().contains_key("x-cloudtalkapi-resettime"));
    (r.status().as_u16(), limit, remaining)
}

/// `GET /contacts/index.json`: its status, limit and remaining.
async fn list_seen(base: &str) -> (u16, u32, u32) {
    let r = reqwest::Client::new()
        .get(format!(
            "{base}/cloudtalk/api/contacts/index.json?limit=1000"
        ))
        .basic_auth("sandbox-key-id", Some("sandbox-key-secret"))
        .send()
        .await
        .unwrap();
    limit_seen(r).await
}

/// `POST /bulk/contacts.json` adding lead `n`: its status, limit and remaining.
async fn bulk_seen(base: &str, n: u32) -> (u16, u32, u32) {
    let command = json!({"action": "add_contact", "command_id": format!("lead-{n}"),
        "data": {"name": format!("Lead {n}"), "ContactNumber": [{"public_number": format!("+3935100{n:05}")}]}});
    let r = reqwest::Client::new()
        .post(format!("{base}/cloudtalk/api/bulk/contacts.json"))
        .basic_auth("sandbox-key-id", Some("sandbox-key-secret"))
        .json(&json!([command]))
        .send()
        .await
        .unwrap();
    limit_seen(r).await
}

#[tokio::test]
async fn a_bulk_request_costs_what_the_sandbox_is_set_to_and_remaining_shows_it() {
    for cost in [1, 10] {
        let (base, sandbox) = limited(cost).await;
        let (status, limit, before) = list_seen(&base).await;
        assert_eq!((status, limit, before), (200, 60, 59), "a GET costs 1");
        let (status, _, after) = bulk_seen(&base, 0).await;
        assert_eq!(status, 200);
        assert_eq!(
            before - after,
            cost,
            "the drop across a bulk request is its cost"
        );
        let (_, _, next) = list_seen(&base).await;
        assert_eq!(after - next, 1, "and a GET after it costs 1 again");
        assert_eq!(
            sandbox.state_json()["cloudtalk"]["contacts"][0]["name"],
            "Lead 0"
        );
        assert!(
            sandbox.violations().is_empty(),
            "{:?}",
            sandbox.violations()
        );
    }
    // Unset, a bulk request is a request like any other.
    assert_eq!(SandboxConfig::default().bulk_request_cost, 1);
}

#[tokio::test]
async fn at_a_cost_of_10_the_limit_answers_429_after_6_bulk_requests() {
    let (base, sandbox) = limited(10).await;
    for n in 0..6 {
        let (status, _, remaining) = bulk_seen(&base, n).await;
        assert_eq!((status, remaining), (200, 50 - 10 * n), "bulk request {n}");
    }
    let (status, _, remaining) = bulk_seen(&base, 6).await;
    assert_eq!((status, remaining), (429, 0), "the seventh is over the 60");
    assert_eq!(list_seen(&base).await.0, 429, "and so is any request");
    let contacts = sandbox.state_json()["cloudtalk"]["contacts"].clone();
    assert_eq!(
        contacts.as_array().unwrap().len(),
        6,
        "the refused one wrote nothing"
    );

    // At a cost of 1, 6 bulk requests leave 54 of the minute.
    let (base, _) = limited(1).await;
    for n in 0..6 {
        assert_eq!(bulk_seen(&base, n).await, (200, 60, 59 - n));
    }
}

#[tokio::test]
async fn a_bulk_request_that_would_go_over_the_limit_is_refused_and_counts_one() {
    let (base, _) = limited(10).await;
    for _ in 0..55 {
        assert_eq!(list_seen(&base).await.0, 200);
    }
    // 5 left: a bulk request costing 10 is refused, and takes 1 of them.
    assert_eq!(bulk_seen(&base, 0).await.0, 429);
    assert_eq!(list_seen(&base).await, (200, 60, 3));
}

// --- Texts both ways ---------------------------------------------------------------------------

/// `POST /sms/send.json` from the company's number to `recipient`: the status and answer.
async fn text(base: &str, recipient: &str, message: &str) -> (u16, Value) {
    let body = json!({"recipient": recipient, "message": message, "sender": "+390212345678"});
    cloudtalk_raw(base, Method::POST, "/sms/send.json", Some(body)).await
}

/// A `success: false` answer's reason.
fn provider_refusal(answer: &(u16, Value)) -> (u16, &Value, &Value) {
    let data = &answer.1["responseData"];
    (answer.0, &data["success"], &data["data"])
}

/// What CloudTalk's provider refuses inside a 200: an unknown sender, a recipient that is no
/// phone, an undeliverable recipient; and without credit, 403.
async fn the_provider_refuses_what_it_cannot_send(base: &str, sandbox: &Sandbox) {
    let foreign = json!({"recipient": "+393501234567", "message": "Hi", "sender": "+442039960000"});
    let answer = cloudtalk_raw(base, Method::POST, "/sms/send.json", Some(foreign)).await;
    let failed = json!(false);
    assert_eq!(
        provider_refusal(&answer),
        (200, &failed, &json!("Unknown number"))
    );
    let answer = text(base, "+99912345678", "Hi").await;
    assert_eq!(
        provider_refusal(&answer),
        (200, &failed, &json!("Bad number configuration"))
    );
    let settings = json!({"undeliverable": ["+39 350 123 4567"]});
    let (status, _) = control(
        base,
        Method::PUT,
        "/sandbox/cloudtalk/sms-settings",
        settings,
    )
    .await;
    assert_eq!(status, 200);
    let answer = text(base, "+393501234567", "Hi").await;
    assert_eq!(
        provider_refusal(&answer),
        (200, &failed, &json!("SMS send failed"))
    );
    sandbox.set_sms_settings(SmsSettings {
        no_credit: true,
        ..SmsSettings::default()
    });
    let answer = text(base, "+393501234567", "Hi").await;
    assert_eq!(
        answer,
        (
            403,
            json!({"responseData": {"status": 403, "message": "Insufficient Funds"}})
        )
    );
    sandbox.set_sms_settings(SmsSettings::default());
}

/// A body CloudTalk refuses: 406 by field (an empty message, a number not E.164, six images);
/// a required field absent breaks the contract (406, recorded).
async fn invalid_texts_are_refused_by_field(base: &str, sandbox: &Sandbox) {
    let six: Vec<String> = (0..6).map(|i| format!("https://x.test/{i}.png")).collect();
    let body = json!({"recipient": "3501234567", "message": " ", "sender": "+390212345678",
        "images_by_url": six});
    let (status, answer) = cloudtalk_raw(base, Method::POST, "/sms/send.json", Some(body)).await;
    assert_eq!(status, 406, "{answer}");
    let errors = &answer["responseData"]["data"];
    assert_eq!(errors["message"][0], "This field is required.");
    assert_eq!(
        errors["recipient"][0],
        "Please supply only valid numbers. Number 3501234567 is not valid."
    );
    assert_eq!(errors["images_by_url"][0], "Can contain up to 5 urls.");
    assert!(errors.get("sender").is_none(), "{answer}");
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
    let missing = json!({"recipient": "+393501234567", "message": "Hi"});
    let (status, _) = cloudtalk_raw(base, Method::POST, "/sms/send.json", Some(missing)).await;
    assert_eq!(status, 406);
    assert_eq!(
        sandbox.take_violations().len(),
        1,
        "the contract refuses it"
    );
}

#[tokio::test]
async fn texts_go_out_from_the_companys_numbers_and_are_refused_as_cloudtalk_refuses() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let images = ["https://x.test/a.png"];
    let body = json!({"recipient": "+393501234567", "message": "Ciao Mario",
        "sender": "+390212345678", "images_by_url": images});
    let answer = cloudtalk_raw(&base, Method::POST, "/sms/send.json", Some(body)).await;
    assert_eq!(
        answer,
        (
            200,
            json!({"responseData": {"success": true, "data": {"recipient": "+393501234567",
                "message": "Ciao Mario", "sender": "+390212345678", "country_code": "39"}}})
        )
    );
    the_provider_refuses_what_it_cannot_send(&base, &sandbox).await;
    invalid_texts_are_refused_by_field(&base, &sandbox).await;
    let sent = sandbox.sent_sms();
    let results: Vec<(&str, bool)> = sent.iter().map(|s| (s.result.as_str(), s.sent)).collect();
    assert_eq!(
        results,
        [
            ("sent", true),
            ("Unknown number", false),
            ("Bad number configuration", false),
            ("SMS send failed", false),
            ("Insufficient Funds", false),
            ("invalid input", false),
        ],
        "every text the operation answered; the one the contract refused is not one"
    );
    assert_eq!(sent[0].images, images);
    assert_eq!(sent[0].message.as_deref(), Some("Ciao Mario"));
    let state = sandbox.state_json();
    assert_eq!(state["counters"]["cloudtalkSmsSent"], 1);
    assert_eq!(
        state["cloudtalk"]["sms"]["sent"].as_array().unwrap().len(),
        6
    );
    // An agent's own number is the company's too.
    sandbox.seed_agents(&[bridge_local::sandbox::Agent {
        id: "46".into(),
        default_number: Some("+442039960000".into()),
        ..Default::default()
    }]);
    let body = json!({"recipient": "+14155552671", "message": "Hi", "sender": "+442039960000"});
    let answer = cloudtalk_raw(&base, Method::POST, "/sms/send.json", Some(body)).await;
    assert_eq!(
        answer.1["responseData"]["data"]["country_code"], "1",
        "{answer:?}"
    );
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

/// `POST /sms/send.json` seen with its limit headers.
async fn text_seen(base: &str) -> (u16, u32, u32) {
    let body = json!({"recipient": "+393501234567", "message": "Hi", "sender": "+390212345678"});
    let r = reqwest::Client::new()
        .post(format!("{base}/cloudtalk/api/sms/send.json"))
        .basic_auth("sandbox-key-id", Some("sandbox-key-secret"))
        .json(&body)
        .send()
        .await
        .unwrap();
    limit_seen(r).await
}

#[tokio::test]
async fn a_text_needs_the_api_key_and_counts_against_the_companys_limit() {
    let (base, sandbox) = limited(1).await;
    assert_eq!(text_seen(&base).await, (200, 60, 59));
    let r = reqwest::Client::new()
        .post(format!("{base}/cloudtalk/api/sms/send.json"))
        .basic_auth("sandbox-key-id", Some("wrong"))
        .json(&json!({"recipient": "+393501234567", "message": "Hi", "sender": "+390212345678"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    for _ in 0..58 {
        assert_eq!(list_seen(&base).await.0, 200);
    }
    assert_eq!(text_seen(&base).await, (200, 60, 0), "the 60th request");
    assert_eq!(text_seen(&base).await, (429, 60, 0), "over the limit");
    let sent: Vec<u16> = sandbox.sent_sms().iter().map(|s| s.status).collect();
    assert_eq!(
        sent,
        [200, 200],
        "refused before the operation: in the request log only"
    );
}

/// Sets `POST /sms/send.json`'s fault over HTTP; answers it.
async fn put_sms_fault(base: &str, fault: Value) -> Value {
    let (status, body) = control(base, Method::PUT, "/sandbox/faults/sms", fault).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn the_sms_fault_fails_a_text_or_sends_it_and_answers_too_late() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    // Once libphonenumber's metadata is loaded (its first use takes a while in a debug build),
    // a text is answered at once.
    assert_eq!(text(&base, "+393501234567", "zero").await.0, 200);
    put_sms_fault(&base, json!({"failing": true})).await;
    let answer = text(&base, "+393501234567", "one").await;
    assert_eq!(
        answer,
        (
            500,
            json!({"responseData": {"status": 500, "message": "Something went wrong."}})
        )
    );
    // Late, once: the client gives up, the text went out all the same.
    put_sms_fault(&base, json!({"late_answer_ms": 600, "times": 1})).await;
    let body = json!({"recipient": "+393501234567", "message": "two", "sender": "+390212345678"});
    let lost = reqwest::Client::new()
        .post(format!("{base}/cloudtalk/api/sms/send.json"))
        .basic_auth("sandbox-key-id", Some("sandbox-key-secret"))
        .timeout(std::time::Duration::from_millis(150))
        .json(&body)
        .send()
        .await;
    assert!(lost.is_err_and(|e| e.is_timeout()), "the answer is lost");
    assert_eq!(sandbox.sms_fault().times, Some(0), "spent");
    let (status, _) = control(&base, Method::GET, "/sandbox/faults/sms", Value::Null).await;
    assert_eq!(status, 200);
    let started = std::time::Instant::now();
    assert_eq!(text(&base, "+393501234567", "three").await.0, 200);
    assert!(
        started.elapsed() < std::time::Duration::from_millis(500),
        "answered at once"
    );
    let sent: Vec<(String, bool, Option<u64>)> = sandbox
        .sent_sms()
        .into_iter()
        .map(|s| (s.result, s.sent, s.answered_late_ms))
        .collect();
    assert_eq!(
        sent,
        [
            ("sent".into(), true, None),
            ("server error".into(), false, None),
            ("sent".into(), true, Some(600)),
            ("sent".into(), true, None),
        ]
    );
    assert_eq!(sandbox.faults_injected(), 2);
    let (status, _) = control(
        &base,
        Method::PUT,
        "/sandbox/faults/sms",
        json!({"fail": 1}),
    )
    .await;
    assert_eq!(status, 400, "an unknown knob");
}

/// A raw request to the sandbox's GHL Conversations (`Version: 2021-04-15`).
async fn conversations_raw(
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{base}/ghl/conversations{path}");
    versioned_raw(&url, "2021-04-15", method, body).await
}

/// A provider sets message `id`'s status: delivered, then failed with its error, then read.
async fn statuses_set_by_the_provider(base: &str, id: &str, conversation: &str) {
    let path = format!("/messages/{id}/status");
    let (status, answer) = conversations_raw(
        base,
        Method::PUT,
        &path,
        Some(json!({"status": "delivered"})),
    )
    .await;
    assert_eq!(
        (status, answer),
        (
            200,
            json!({"conversationId": conversation, "messageId": id, "status": "delivered"})
        )
    );
    let error = json!({"code": "30007", "type": "saas", "message": "Carrier filtered"});
    let failed = json!({"status": "failed", "error": error});
    assert_eq!(
        conversations_raw(base, Method::PUT, &path, Some(failed))
            .await
            .0,
        200
    );
    let read = json!({"status": "read"});
    assert_eq!(
        conversations_raw(base, Method::PUT, &path, Some(read))
            .await
            .0,
        200
    );
    let (status, message) =
        conversations_raw(base, Method::GET, &format!("/messages/{id}"), None).await;
    assert_eq!(status, 200, "{message}");
    assert_eq!(
        (
            &message["status"],
            &message["type"],
            &message["messageType"]
        ),
        (&json!("read"), &json!(2), &json!("TYPE_SMS"))
    );
    assert!(
        message.get("statusHistory").is_none(),
        "GHL does not answer it"
    );
}

#[tokio::test]
async fn a_provider_updates_a_texts_status_and_an_unknown_message_is_not_found() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let contact = lead(&base).await;
    let sms = GhlSms {
        contact_id: contact.clone(),
        message: "Ciao".into(),
        ..GhlSms::default()
    };
    let sent = sandbox.send_sms_from_ghl(sms).await.unwrap();
    assert!(
        !sent.sent_to_bridge && sent.bridge.is_none(),
        "no bridge: {sent:?}"
    );
    let id = sent.message_id.unwrap();
    let conversation = sent.conversation_id.unwrap();
    let (_, message) =
        conversations_raw(&base, Method::GET, &format!("/messages/{id}"), None).await;
    assert_eq!(
        (
            &message["status"],
            &message["direction"],
            &message["userId"]
        ),
        (&json!("pending"), &json!("outbound"), &json!("usr_roberto"))
    );
    statuses_set_by_the_provider(&base, &id, &conversation).await;
    let state = sandbox.state_json();
    let held = &state["ghl"]["conversations"][0]["messages"][0];
    let history: Vec<&Value> = held["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["status"])
        .collect();
    assert_eq!(history, ["pending", "delivered", "failed", "read"]);
    assert_eq!(
        held["statusHistory"][2]["error"]["message"],
        "Carrier filtered"
    );
    let unknown = Some(json!({"status": "delivered"}));
    let (status, answer) =
        conversations_raw(&base, Method::PUT, "/messages/msg-nope/status", unknown).await;
    assert_eq!(status, 404, "{answer}");
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
    let sent_status = Some(json!({"status": "sent"}));
    let path = format!("/messages/{id}/status");
    let (status, _) = conversations_raw(&base, Method::PUT, &path, sent_status).await;
    assert_eq!(status, 422, "not a status a provider sets");
    assert_eq!(sandbox.take_violations().len(), 1);
}

/// Inbound texts GHL refuses: without a message or attachments, for a contact it does not
/// have, on another contact's conversation; without a provider (the contract).
async fn inbound_texts_refused(base: &str, sandbox: &Sandbox, contact: &str, conversation: &str) {
    let inbound = |contact: &str, conversation: &str, message: Value| {
        json!({"type": "SMS", "contactId": contact, "conversationId": conversation,
            "conversationProviderId": "prov-sms", "message": message})
    };
    let anna = json!({"locationId": "sandbox-location", "firstName": "Anna",
        "phone": "+393471234567"});
    let (_, created) = ghl_raw(base, Method::POST, "/contacts/", Some(anna)).await;
    let other = created["contact"]["id"].as_str().unwrap().to_string();
    for body in [
        inbound(contact, conversation, json!("")),
        inbound("ghl-nobody", conversation, json!("Hi")),
        inbound(&other, conversation, json!("Hi")),
    ] {
        let (status, answer) =
            conversations_raw(base, Method::POST, "/messages/inbound", Some(body)).await;
        assert_eq!(status, 422, "{answer}");
    }
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
    let mut body = inbound(contact, conversation, json!("Hi"));
    body.as_object_mut()
        .unwrap()
        .remove("conversationProviderId");
    let (status, _) = conversations_raw(base, Method::POST, "/messages/inbound", Some(body)).await;
    assert_eq!(status, 422);
    assert_eq!(sandbox.take_violations().len(), 1);
}

#[tokio::test]
async fn an_inbound_text_is_kept_on_the_contacts_conversation() {
    let (base, sandbox) = Sandbox::spawn(quiet()).await;
    let contact = lead(&base).await;
    let create = json!({"locationId": "sandbox-location", "contactId": contact});
    let (_, created) = conversations_raw(&base, Method::POST, "/", Some(create)).await;
    let conversation = created["conversation"]["id"].as_str().unwrap().to_string();
    let body = json!({"type": "SMS", "contactId": contact, "conversationId": conversation,
        "conversationProviderId": "prov-sms", "message": "Sì, domani alle 10",
        "attachments": ["https://x.test/a.jpg"], "date": "2026-12-01T08:00:00Z"});
    let (status, added) =
        conversations_raw(&base, Method::POST, "/messages/inbound", Some(body)).await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(
        (
            &added["success"],
            &added["conversationId"],
            &added["contactId"]
        ),
        (&json!(true), &json!(conversation), &json!(contact))
    );
    assert_eq!(added["dateAdded"], "2026-12-01T08:00:00.000Z");
    let id = added["messageId"].as_str().unwrap();
    let (_, message) =
        conversations_raw(&base, Method::GET, &format!("/messages/{id}"), None).await;
    assert_eq!(
        (
            &message["body"],
            &message["direction"],
            &message["messageType"]
        ),
        (
            &json!("Sì, domani alle 10"),
            &json!("inbound"),
            &json!("TYPE_SMS")
        )
    );
    assert_eq!(message["attachments"], json!(["https://x.test/a.jpg"]));
    let search = format!("/search?locationId=sandbox-location&contactId={contact}");
    let (_, found) = conversations_raw(&base, Method::GET, &search, None).await;
    assert_eq!(found["conversations"][0]["lastMessageType"], "TYPE_SMS");
    assert_eq!(
        found["conversations"][0]["lastMessageBody"],
        "Sì, domani alle 10"
    );
    inbound_texts_refused(&base, &sandbox, &contact, &conversation).await;
}

/// Signed webhooks a fake bridge received: each one's `X-GHL-Signature` and raw body.
type Signed = Arc<Mutex<Vec<(Option<String>, Vec<u8>)>>>;

/// A fake bridge taking signed webhooks posted to `route`: its URL and what it received.
async fn signed_sink(route: &str) -> (String, Signed) {
    let received: Signed = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        route,
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let sink = sink.clone();
                async move {
                    let signature = headers
                        .get("x-ghl-signature")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    sink.lock().unwrap().push((signature, body.to_vec()));
                    axum::Json(json!({"result": "sent", "messageId": "queued"}))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

/// The control route refuses an unknown contact, one without a phone, and nothing to send.
async fn texts_from_ghl_refused(base: &str) {
    let route = "/sandbox/ghl/send-sms";
    let (status, _) = control(
        base,
        Method::POST,
        route,
        json!({"contactId": "ghl-nobody", "message": "Hi"}),
    )
    .await;
    assert_eq!(status, 404);
    let body = json!({"locationId": "sandbox-location", "email": "nophone@example.com"});
    let (_, created) = ghl_raw(base, Method::POST, "/contacts/", Some(body)).await;
    let no_phone = created["contact"]["id"].clone();
    let (status, answer) = control(
        base,
        Method::POST,
        route,
        json!({"contactId": no_phone, "message": "Hi"}),
    )
    .await;
    assert_eq!((status, &answer["error"]), (400, &json!("no_phone")));
    let (status, _) = control(base, Method::POST, route, json!({"contactId": no_phone})).await;
    assert_eq!(status, 400, "nothing to send");
    let (status, _) = control(base, Method::POST, route, json!({"contact": "x"})).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_text_sent_from_ghl_reaches_the_bridge_signed_as_ghl_signs() {
    let (bridge_url, received) = signed_sink("/api/ghl-webhooks/sms-delivery").await;
    let config = SandboxConfig {
        bridge_url: Some(bridge_url),
        ..quiet()
    };
    let (base, sandbox) = Sandbox::spawn(config).await;
    let contact = lead(&base).await;
    let body = json!({"contactId": contact, "message": "Ciao Mario",
        "attachments": ["https://x.test/a.png"], "userId": "usr_anna"});
    let (status, answer) = control(&base, Method::POST, "/sandbox/ghl/send-sms", body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["sent_to_bridge"], true);
    assert_eq!(
        answer["bridge"],
        json!({"status": 200, "body": {"result": "sent", "messageId": "queued"}})
    );
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (signature, raw) = &got[0];
    let sent: Value = serde_json::from_slice(raw).unwrap();
    let message = answer["message_id"].as_str().unwrap();
    assert_eq!(
        sent,
        json!({"contactId": contact, "locationId": "sandbox-location", "messageId": message,
            "type": "SMS", "phone": "+393501234567", "message": "Ciao Mario",
            "attachments": ["https://x.test/a.png"], "userId": "usr_anna"})
    );
    assert_eq!(answer["webhook"], sent);
    let verifier =
        bridge::signature::GhlSignatureVerifier::new(Some(&sandbox.webhook_public_key()), None)
            .unwrap();
    assert_eq!(
        verifier.check(signature.as_deref(), None, raw),
        bridge::signature::SignatureCheck::Valid
    );
    let mut tampered = raw.clone();
    tampered.push(b' ');
    assert_ne!(
        verifier.check(signature.as_deref(), None, &tampered),
        bridge::signature::SignatureCheck::Valid
    );
    let (_, held) =
        conversations_raw(&base, Method::GET, &format!("/messages/{message}"), None).await;
    assert_eq!(
        (&held["status"], &held["body"]),
        (&json!("pending"), &json!("Ciao Mario"))
    );
    let feed = sandbox.feed();
    let delivered = feed.iter().find(|e| json!(e.source) == "ghl-delivery");
    let delivered = delivered.expect("the delivery is in the console's feed");
    assert_eq!(
        (delivered.status, delivered.path.as_str()),
        (Some(200), "/api/ghl-webhooks/sms-delivery")
    );
    texts_from_ghl_refused(&base).await;
    assert!(
        sandbox.violations().is_empty(),
        "{:?}",
        sandbox.violations()
    );
}

#[tokio::test]
async fn a_text_received_in_cloudtalk_is_posted_to_the_bridge_with_the_webhook_secret() {
    let (bridge_url, received) = bridge_sink("/api/cloudtalk-webhooks/sms-received").await;
    let config = SandboxConfig {
        bridge_url: Some(bridge_url),
        cloudtalk_webhook_secret: Some("s3cret".into()),
        ..quiet()
    };
    let (base, sandbox) = Sandbox::spawn(config).await;
    let route = "/sandbox/cloudtalk/receive-sms";
    let body = json!({"from": "+393501234567", "text": "Richiamatemi"});
    let (status, answer) = control(&base, Method::POST, route, body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["bridge"]["status"], 200);
    let got = received_when(&received, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.as_deref(), Some("Bearer s3cret"));
    let sent = &got[0].1;
    assert_eq!(sent, &answer["webhook"]);
    let fields: Vec<&String> = sent.as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        [
            "date",
            "external_number",
            "internal_number",
            "sms_id",
            "text"
        ]
    );
    assert_eq!(
        (
            &sent["external_number"],
            &sent["internal_number"],
            &sent["text"]
        ),
        (
            &json!("+393501234567"),
            &json!("+390212345678"),
            &json!("Richiamatemi")
        )
    );
    let sms_id = sent["sms_id"].as_str().unwrap();
    assert_eq!(
        sms_id.split('-').map(str::len).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert!(chrono::DateTime::parse_from_rfc3339(sent["date"].as_str().unwrap()).is_ok());
    let to = CloudTalkSms {
        from: "+393501234567".into(),
        to: Some("+442039960000".into()),
        text: "again".into(),
    };
    let delivery = sandbox.receive_sms_in_cloudtalk(to).await.unwrap();
    assert_eq!(delivery.webhook["internal_number"], "+442039960000");
    assert_ne!(delivery.webhook["sms_id"], json!(sms_id), "one id a text");
    let held = sandbox.received_sms();
    assert_eq!((held.len(), held[0].bridge_status), (2, Some(200)));
    let (status, _) = control(&base, Method::POST, route, json!({"from": "", "text": "x"})).await;
    assert_eq!(status, 400);
}
