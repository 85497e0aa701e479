//! What speed to lead will never dial, through the real handlers and the real worker on a
//! manual clock: a lead GHL does not hold, a number other than GHL's, a contact on Do Not
//! Disturb (at the webhook or later, while the job waits), a blacklisted or costly number, past
//! the caps, past the attempts or the horizon. And GHL's Do Not Disturb kept in step with
//! CloudTalk's blacklist, once per change, removing only what the bridge added.

use bridge::clock::{Clock, ManualClock};
use bridge_testkit::*;
use serde_json::{json, Value};

const ROUTE: &str = NEW_CONTACT_ROUTE;
const DND_ROUTE: &str = "/api/ghl-webhooks/dnd-change";
const HOUR: i64 = 60 * MINUTE;

/// One test at a time: several read the log lines their requests wrote, and a test on another
/// thread can leave tracing's cached interest in a callsite without their subscriber.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The `dial_refused` lines logged, each with its rule.
fn refusals(logs: &Captured) -> Vec<Value> {
    logs.lines()
        .into_iter()
        .filter(|l| l["fields"]["message"] == "dial_refused")
        .collect()
}

#[tokio::test]
async fn twenty_forged_leads_with_a_premium_number_ring_nobody_and_write_nothing() {
    let _serial = SERIAL.lock().await;
    let (_guard, logs) = capture_logs();
    let run = Dialing::start(dial_options(&[])).await;
    for i in 0..20 {
        // GHL holds none of them: the bodies are the only word for these leads.
        let forged = json!({"contact": {"id": format!("forged-{i}"), "name": "Nobody",
            "phone": "+19002345678"}});
        let answer = run.send(ROUTE, &forged).await;
        assert_eq!(answer["dial"], "refused", "{answer}");
        assert_eq!(answer["ok"], true);
    }
    run.run_queue_for(HOUR).await;
    assert!(run.dials().await.is_empty(), "nothing rang");
    assert!(run.ghl_posts("/notes").await.is_empty(), "no note");
    assert!(run.ghl_posts("/tasks").await.is_empty(), "no task");
    let lines = refusals(&logs);
    assert_eq!(lines.len(), 20, "one dial_refused line per lead");
    assert!(lines.iter().all(|l| l["fields"]["rule"] == "not_in_ghl"));
    let text = logs.text();
    assert!(!text.contains("9002345678"), "the number is never logged");
    // GHL was asked about every one of them, with the tenant's token.
    let asked = received(&run.fakes.ghl)
        .await
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/contacts/forged-"))
        .count();
    assert!(asked >= 20, "GHL asked {asked} times");
}

#[tokio::test]
async fn the_number_dialled_is_ghls_not_the_webhooks() {
    let _serial = SERIAL.lock().await;
    let run = Dialing::start(dial_options(&[])).await;
    let mut body = run.lead("lead-1");
    body["contact"]["phone"] = json!("+393519999999");
    run.edit_contact("lead-1", |c| c["phone"] = json!("+39 333 123 4567"));
    let answer = run.send(ROUTE, &body).await;
    assert_eq!(answer["dial"], "dialled", "{answer}");
    assert_eq!(
        run.dials().await,
        vec![("42".to_string(), "+393331234567".to_string())]
    );
}

#[tokio::test]
async fn a_contact_of_another_location_is_neither_dialled_nor_written_to() {
    let _serial = SERIAL.lock().await;
    let run = Dialing::start(dial_options(&[])).await;
    let body = run.lead("lead-2");
    run.edit_contact("lead-2", |c| c["locationId"] = json!("loc-someone-else"));
    let answer = run.send(ROUTE, &body).await;
    assert_eq!(answer["dial"], "refused", "{answer}");
    assert!(run.dials().await.is_empty());
    assert!(run.ghl_posts("/notes").await.is_empty());
}

#[tokio::test]
async fn do_not_disturb_in_any_form_stops_the_dial_and_the_note_says_why() {
    let _serial = SERIAL.lock().await;
    let forms = [
        ("dnd", json!(true), json!(null), "Do Not Disturb in GHL"),
        (
            "dnd_call",
            json!(false),
            json!({"Call": {"status": "active"}}),
            "Do Not Disturb for calls",
        ),
        (
            "dnd_call",
            json!(false),
            json!({"Call": {"status": "permanent"}, "SMS": {"status": "inactive"}}),
            "Do Not Disturb for calls",
        ),
    ];
    for (i, (rule, dnd, settings, why)) in forms.into_iter().enumerate() {
        let (_guard, logs) = capture_logs();
        let run = Dialing::start(dial_options(&[])).await;
        let id = format!("dnd-{i}");
        let body = run.lead(&id);
        run.edit_contact(&id, |c| {
            c["dnd"] = dnd;
            if !settings.is_null() {
                c["dndSettings"] = settings;
            }
        });
        let answer = run.send(ROUTE, &body).await;
        assert_eq!(answer["dial"], "refused", "{rule}: {answer}");
        assert!(run.dials().await.is_empty(), "{rule}: nothing rings");
        let notes = run.ghl_posts("/notes").await;
        assert_eq!(notes.len(), 1, "{rule}: {notes:?}");
        let text = notes[0]["body"].as_str().unwrap();
        assert!(text.contains("Not dialled") && text.contains(why), "{text}");
        assert!(
            run.ghl_posts("/tasks").await.is_empty(),
            "no call-this-lead task"
        );
        assert_eq!(refusals(&logs)[0]["fields"]["rule"], rule);
    }
    // An SMS-only Do Not Disturb does not stop a call.
    let run = Dialing::start(dial_options(&[])).await;
    let body = run.lead("sms-only");
    run.edit_contact("sms-only", |c| {
        c["dndSettings"] = json!({"SMS": {"status": "active"}, "Call": {"status": "inactive"}})
    });
    assert_eq!(run.send(ROUTE, &body).await["dial"], "dialled");
}

#[tokio::test]
async fn do_not_disturb_set_while_the_lead_waits_for_the_opening_stops_it_at_the_opening() {
    let _serial = SERIAL.lock().await;
    // Saturday 5 December 2026, 20:00 in Rome; the office opens Monday at 09:00.
    let saturday_evening = chrono::DateTime::parse_from_rfc3339("2026-12-05T19:00:00Z")
        .unwrap()
        .timestamp_millis();
    let settings = dial_options(&[
        ("SPEED_TO_LEAD_HOURS", "mon-fri 09:00-18:00"),
        ("SPEED_TO_LEAD_TIME_ZONE", "Europe/Rome"),
    ]);
    let run = Dialing::start_at(settings, ManualClock::at_ms(saturday_evening)).await;
    let answer = run.send(ROUTE, &run.lead("weekend")).await;
    assert_eq!(answer["dial"], "queued", "{answer}");
    // On Sunday the lead asks not to be called.
    run.edit_contact("weekend", |c| {
        c["dndSettings"] = json!({"Call": {"status": "active"}})
    });
    let results = run.run_queue_for(3 * 24 * HOUR).await;
    assert!(run.dials().await.is_empty(), "nothing rings at the opening");
    let notes = run.ghl_posts("/notes").await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0]["body"]
        .as_str()
        .unwrap()
        .contains("Do Not Disturb"));
    assert!(run.queue.parked().is_empty(), "{results:?}");
    assert_eq!(run.queue.queued_len(), 0, "the job is over");
}

#[tokio::test]
async fn a_number_on_cloudtalks_outgoing_blacklist_is_never_dialled() {
    let _serial = SERIAL.lock().await;
    for kind in ["outgoing", "all"] {
        let run = Dialing::start(dial_options(&[])).await;
        run.blacklist_number(LEAD_PHONE, kind);
        let answer = run.send(ROUTE, &run.lead("listed")).await;
        assert_eq!(answer["dial"], "refused", "{kind}: {answer}");
        assert!(run.dials().await.is_empty(), "{kind}");
        let notes = run.ghl_posts("/notes").await;
        assert!(notes[0]["body"].as_str().unwrap().contains("blacklist"));
    }
    // Barred for incoming calls only: it may be called.
    let run = Dialing::start(dial_options(&[])).await;
    run.blacklist_number(LEAD_PHONE, "incoming");
    assert_eq!(run.send(ROUTE, &run.lead("in")).await["dial"], "dialled");
}

#[tokio::test]
async fn only_mobiles_and_fixed_lines_of_the_allowed_countries_are_dialled() {
    let _serial = SERIAL.lock().await;
    let cases = [
        ("+39892123456", "premium-rate"),
        ("+14155552671", "not in a country"),
    ];
    for (number, why) in cases {
        let run = Dialing::start(dial_options(&[])).await;
        let body = run.lead("far");
        run.edit_contact("far", |c| c["phone"] = json!(number));
        let answer = run.send(ROUTE, &body).await;
        assert_eq!(answer["dial"], "refused", "{number}: {answer}");
        assert!(run.dials().await.is_empty());
        let notes = run.ghl_posts("/notes").await;
        let text = notes[0]["body"].as_str().unwrap();
        assert!(text.contains(why), "{text}");
    }
    // A country the tenant lists is dialled.
    let run = Dialing::start(dial_options(&[("SPEED_TO_LEAD_COUNTRIES", "IT, US")])).await;
    let body = run.lead("us");
    run.edit_contact("us", |c| c["phone"] = json!("+14155552671"));
    assert_eq!(run.send(ROUTE, &body).await["dial"], "dialled");
}

#[tokio::test]
async fn a_click_to_call_that_always_fails_is_tried_the_configured_times_then_one_task() {
    let _serial = SERIAL.lock().await;
    let run = Dialing::start(dial_options(&[])).await;
    for agent in ["42", "43", "44"] {
        run.answers.lock().unwrap().insert(agent.into(), vec![500]);
    }
    let answer = run.send(ROUTE, &run.lead("failing")).await;
    assert_eq!(answer["dial"], "queued", "{answer}");
    let results = run.run_queue_for(24 * HOUR).await;
    assert_eq!(run.dials().await.len(), 3, "SPEED_TO_LEAD_MAX_ATTEMPTS");
    let tasks = run.ghl_posts("/tasks").await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert!(tasks[0]["body"]
        .as_str()
        .unwrap()
        .contains("dialled 3 times"));
    assert!(run.queue.parked().is_empty(), "never parked: {results:?}");
    assert_eq!(run.queue.queued_len(), 0, "nothing left queued");
    // Another setting, another count.
    let run = Dialing::start(dial_options(&[("SPEED_TO_LEAD_MAX_ATTEMPTS", "2")])).await;
    run.answers.lock().unwrap().insert("42".into(), vec![503]);
    run.set("43", "offline");
    run.set("44", "offline");
    run.send(ROUTE, &run.lead("failing-2")).await;
    run.run_queue_for(24 * HOUR).await;
    assert_eq!(run.dials().await.len(), 2);
    assert_eq!(run.ghl_posts("/tasks").await.len(), 1);
}

#[tokio::test]
async fn a_job_never_waits_past_its_horizon() {
    let _serial = SERIAL.lock().await;
    // Nobody is ever online, and the window is a day: the horizon (6 hours) ends it.
    let settings = dial_options(&[
        ("SPEED_TO_LEAD_WINDOW_MINUTES", "1440"),
        ("SPEED_TO_LEAD_RETRY_SECONDS", "900"),
        ("SPEED_TO_LEAD_HORIZON_HOURS", "6"),
    ]);
    let run = Dialing::start(settings).await;
    for agent in ["42", "43", "44"] {
        run.set(agent, "offline");
    }
    let started = run.clock.now_ms();
    run.send(ROUTE, &run.lead("patient")).await;
    run.run_queue_for(24 * HOUR).await;
    let tasks = run.ghl_posts("/tasks").await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert!(tasks[0]["body"]
        .as_str()
        .unwrap()
        .contains("within 6 hours"));
    assert!(run.clock.now_ms() - started <= 6 * HOUR + MINUTE);
    assert_eq!(run.queue.queued_len(), 0);
    assert!(run.queue.parked().is_empty());
}

#[tokio::test]
async fn the_sixty_first_lead_of_an_hour_gets_a_task_not_a_dial() {
    let _serial = SERIAL.lock().await;
    let (_guard, logs) = capture_logs();
    let run = Dialing::start(dial_options(&[])).await;
    for i in 0..61 {
        let id = format!("burst-{i}");
        let body = run.lead(&id);
        run.edit_contact(&id, |c| c["phone"] = json!(format!("+3935012{i:05}")));
        run.send(ROUTE, &body).await;
    }
    assert_eq!(run.dials().await.len(), 60, "SPEED_TO_LEAD_MAX_PER_HOUR");
    let tasks = run.ghl_posts("/tasks").await;
    assert_eq!(tasks.len(), 1, "the 61st: a task");
    assert!(tasks[0]["body"].as_str().unwrap().contains("this hour"));
    let capped: Vec<Value> = refusals(&logs);
    assert_eq!(capped.len(), 1);
    assert_eq!(capped[0]["fields"]["rule"], "cap_per_hour");
    assert_eq!(capped[0]["fields"]["dial_refused_by_cap"], 1);
    // The next hour, the cap is new.
    run.clock.advance_ms(HOUR);
    let body = run.lead("next-hour");
    run.edit_contact("next-hour", |c| c["phone"] = json!("+393350000001"));
    assert_eq!(run.send(ROUTE, &body).await["dial"], "dialled");
}

#[tokio::test]
async fn a_third_trigger_for_one_number_in_a_day_does_not_dial() {
    let _serial = SERIAL.lock().await;
    let settings = dial_options(&[("SPEED_TO_LEAD_TAG", "call-now")]);
    let run = Dialing::start(settings).await;
    // A new contact, then the tag: two dials of one number.
    assert_eq!(run.send(ROUTE, &run.lead("twice")).await["dial"], "dialled");
    let mut tagged = run.lead("twice");
    tagged["tag"] = json!({"name": "call-now"});
    let answer = run.send("/api/ghl-webhooks/new-tag", &tagged).await;
    assert_eq!(answer["dial"], "dialled", "{answer}");
    // A second contact with the same number: the third trigger for it today.
    let body = run.lead("same-number");
    let answer = run.send(ROUTE, &body).await;
    assert_eq!(answer["dial"], "refused", "{answer}");
    assert_eq!(run.dials().await.len(), 2);
    let notes = run.ghl_posts("/notes").await;
    assert!(notes
        .last()
        .and_then(|n| n["body"].as_str())
        .unwrap()
        .contains("already dialled 2 times today"));
}

/// GHL's Marketplace `ContactDndUpdate` for `id`, as delivered (`webhook` its id).
fn dnd_update(id: &str, webhook: &str) -> Value {
    json!({"type": "ContactDndUpdate", "webhookId": webhook, "locationId": LOCATION,
        "id": id, "dnd": false, "dndSettings": {"Call": {"status": "active"}}})
}

/// The blacklist's numbers (digits) with their type.
fn listed(run: &Dialing) -> Vec<(String, String)> {
    run.blacklist
        .lock()
        .unwrap()
        .iter()
        .map(|r| {
            let b = &r["Blacklist"];
            (
                b["public_number"].as_str().unwrap_or_default().to_string(),
                b["type"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn call_dnd_in_ghl_puts_every_number_on_the_blacklist_once() {
    let _serial = SERIAL.lock().await;
    let run = Dialing::start(dial_options(&[])).await;
    let mut record = ghl_lead("opted-out", LEAD_PHONE);
    record["additionalPhones"] = json!(["+39 02 1234 5678"]);
    record["dndSettings"] = json!({"Call": {"status": "active"}});
    run.put_contact(record);
    // The other number was barred by someone else already.
    run.blacklist_number("+390212345678", "all");
    let answer = run.send(DND_ROUTE, &dnd_update("opted-out", "wh-1")).await;
    assert_eq!(answer["blacklisted"], 1, "{answer}");
    // Redelivered, and sent again by a workflow: nothing more.
    run.send(DND_ROUTE, &dnd_update("opted-out", "wh-1")).await;
    let workflow = json!({"contact_id": "opted-out", "location": {"id": LOCATION}, "dnd": true});
    let again = run.send(DND_ROUTE, &workflow).await;
    assert_eq!(again["blacklisted"], 0, "already barred: {again}");
    assert_eq!(
        listed(&run),
        vec![
            ("390212345678".to_string(), "all".to_string()),
            ("393501234567".to_string(), "outgoing".to_string()),
        ]
    );
    // Now a dial of the contact stops at GHL's consent, and CloudTalk's app at its blacklist.
    let answer = run.send(ROUTE, &run_lead_body("opted-out")).await;
    assert_eq!(answer["dial"], "refused");
    // Lifted: only the bridge's entry goes.
    run.edit_contact("opted-out", |c| {
        c["dndSettings"] = json!({"Call": {"status": "inactive"}})
    });
    let mut lifted = dnd_update("opted-out", "wh-2");
    lifted["dndSettings"] = json!({"Call": {"status": "inactive"}});
    let answer = run.send(DND_ROUTE, &lifted).await;
    assert_eq!(answer["unblacklisted"], 1, "{answer}");
    assert_eq!(
        listed(&run),
        vec![("390212345678".to_string(), "all".to_string())]
    );
    // Lifted again: nothing to remove.
    let mut again = lifted.clone();
    again["webhookId"] = json!("wh-3");
    assert_eq!(run.send(DND_ROUTE, &again).await["unblacklisted"], 0);
}

fn run_lead_body(id: &str) -> Value {
    json!({"contact": {"id": id, "phone": LEAD_PHONE}})
}

#[tokio::test]
async fn a_dnd_event_for_a_contact_ghl_does_not_hold_bars_nothing() {
    let _serial = SERIAL.lock().await;
    let run = Dialing::start(dial_options(&[])).await;
    let answer = run.send(DND_ROUTE, &dnd_update("ghost", "wh-9")).await;
    assert_eq!(answer["result"], "not_in_ghl", "{answer}");
    assert!(listed(&run).is_empty());
}
