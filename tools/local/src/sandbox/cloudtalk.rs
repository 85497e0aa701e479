//! The CloudTalk API simulator, under `/cloudtalk/api`.

use std::time::Duration;

use bridge::telemetry::mask_phone;
use serde_json::{json, Map, Value};

use super::api::{self, text, texts, Api, Call, Headers, Incoming, Outcome, Reply, Route};
use super::base::{Fault, Inner, Sandbox};
use super::blacklist;
use super::calls;
use super::cloudtalk_common::{
    authorized, done, envelope, invalid, invalid_field, limit_headers, next_minute, not_found,
    over_limit, too_many_requests, valid_number,
};
use super::cloudtalk_sms;
use super::dials;
use super::feed::Source;
use super::routes::{delete, get, post, put};
use super::state::{now, CtActivity, CtContact, CtNote, State};
use super::team_routes;

const ACTIVITY_TYPES: &[&str] = &[
    "order", "task", "chat", "ticket", "other", "invoice", "proforma", "estimate", "cancel",
];

/// The operations, first match wins. CloudTalk's paths end in `<id>.json`: `{id*}` takes the
/// rest of the path and [`id`] reads the id off it.
#[rustfmt::skip]
const ROUTES: &[Route] = &[
    get("/contacts/index.json", list_contacts),
    get("/contacts/show/{id*}", show_contact),
    put("/contacts/add.json", add_contact),
    post("/contacts/edit/{id*}", edit_contact),
    delete("/contacts/delete/{id*}", delete_contact),
    put("/contacts/addTags/{id*}", add_tags),
    delete("/contacts/removeTags/{id*}", remove_tags),
    get("/notes/index.json", list_notes),
    put("/notes/add/{id*}", add_note),
    get("/activity/index.json", list_activities),
    put("/activity/add/{id*}", add_activity),
    get("/tags/index.json", list_tags),
    post(BULK_PATH, bulk),
    get("/calls/index.json", calls::list_calls),
    get("/agents/index.json", team_routes::list_agents),
    post(dials::PATH, dials::create_call),
    get("/blacklist/index.json", blacklist::list),
    put("/blacklist/add.json", blacklist::add),
    delete("/blacklist/delete/{id*}", blacklist::delete),
    post(cloudtalk_sms::PATH, cloudtalk_sms::send),
    get("/numbers/index.json", cloudtalk_sms::list_numbers),
];

/// The bulk request's path: up to 10 commands in one request, which counts
/// [`super::config::SandboxConfig::bulk_request_cost`] requests against the limit.
const BULK_PATH: &str = "/bulk/contacts.json";

/// The path whose DELETE carries a body, which is then required like a PUT's or a POST's.
const DELETE_WITH_BODY: &str = "/contacts/removeTags/";

pub(crate) struct CloudTalk;

impl Api for CloudTalk {
    const NAME: &'static str = "cloudtalk";
    const VENDOR: bridge_contracts::Vendor = bridge_contracts::Vendor::CloudTalk;
    const PREFIX: &'static str = "/cloudtalk/api";
    const ROUTES: &'static [Route] = ROUTES;
    /// When the limit's window resets, in Unix seconds.
    type Quota = i64;

    fn fault(req: &Incoming, fault: Fault) -> (Reply, i64) {
        match fault {
            Fault::ServerError => (Self::server_error(), next_minute(req)),
            Fault::RateLimited => (too_many_requests(), req.received + 2),
        }
    }

    fn admit(inner: &Inner, req: &Incoming) -> Result<i64, (Reply, i64)> {
        let reset = next_minute(req);
        if !authorized(inner, req) {
            return Err(((401, envelope(401, "Unauthorized")), reset));
        }
        if over_limit(inner, req, cost(inner, req)) {
            return Err((too_many_requests(), reset));
        }
        Ok(reset)
    }

    fn limit_headers(inner: &Inner, status: u16, reset_at: i64) -> Headers {
        limit_headers(inner, status, reset_at)
    }

    fn server_error() -> Reply {
        (500, envelope(500, "Something went wrong."))
    }

    fn bad_body() -> Reply {
        (400, envelope(400, "Bad Request"))
    }

    fn no_route(req: &Incoming) -> Reply {
        let url = format!("/api{}", req.path);
        (
            404,
            json!({"name": "Not Found", "message": "Not Found", "url": url}),
        )
    }

    /// Click-to-call requests are all recorded, whatever answered them.
    fn answered(inner: &Inner, req: &Incoming, reply: &Reply) {
        dials::record_refused(inner, req, reply);
    }

    fn needs_body(req: &Incoming) -> bool {
        matches!(
            req.method,
            axum::http::Method::PUT | axum::http::Method::POST
        ) || req.path.starts_with(DELETE_WITH_BODY)
    }
}

/// What a request counts against the company's limit: a bulk request
/// [`super::config::SandboxConfig::bulk_request_cost`] requests, any other one.
fn cost(inner: &Inner, req: &Incoming) -> u32 {
    let bulk = req.method == axum::http::Method::POST && req.path == BULK_PATH;
    if bulk {
        inner.config.bulk_request_cost
    } else {
        1
    }
}

fn required(field: &str) -> Reply {
    invalid_field(field, "This field is required.")
}

fn created(id: &str) -> Reply {
    (
        201,
        json!({"responseData": {"status": 201, "data": {"id": id}}}),
    )
}

/// The id in a path's `<id>.json` tail; empty when it has no such tail.
fn id(call: &Call) -> String {
    let tail = call.params.get("id");
    tail.strip_suffix(".json").unwrap_or_default().to_string()
}

fn list_contacts(call: &mut Call) -> Outcome {
    let keyword = call.req.query("keyword").map(str::to_lowercase);
    let tag = call.req.query("tag_id");
    let tag = tag.and_then(|t| call.state.ct_tags.get(t).cloned());
    let rows = call
        .state
        .ct_contacts
        .values()
        .filter(|c| keyword.as_deref().is_none_or(|k| matches_keyword(c, k)))
        .filter(|c| {
            tag.as_ref()
                .is_none_or(|t| c.tags.iter().any(|x| x.eq_ignore_ascii_case(t)))
        })
        .map(list_row)
        .collect();
    Ok((200, page(call.req, rows)))
}

/// A name or email containing the (lowercase) keyword, or a number containing its digits.
fn matches_keyword(c: &CtContact, keyword: &str) -> bool {
    let digits: String = keyword.chars().filter(char::is_ascii_digit).collect();
    c.name.to_lowercase().contains(keyword)
        || c.emails.iter().any(|e| e.to_lowercase().contains(keyword))
        || (!digits.is_empty() && c.numbers.iter().any(|n| n.contains(digits.as_str())))
}

fn show_contact(call: &mut Call) -> Outcome {
    let contact = call
        .state
        .ct_contacts
        .get(&id(call))
        .ok_or_else(not_found)?;
    Ok((200, json!({"responseData": show_json(contact)})))
}

fn add_contact(call: &mut Call) -> Outcome {
    let contact = insert_contact(call.state, &call.data)?;
    let reply = created(&contact.id);
    announce_later(call, contact);
    Ok(reply)
}

fn edit_contact(call: &mut Call) -> Outcome {
    let id = id(call);
    replace_contact(call.state, &id, &call.data)?;
    call.say(format!("CloudTalk ← edit contact {id}"));
    Ok(done())
}

fn delete_contact(call: &mut Call) -> Outcome {
    remove_contact(call.state, &id(call))?;
    Ok(done())
}

fn add_tags(call: &mut Call) -> Outcome {
    let id = id(call);
    let tags = texts(call.data.get("tags"));
    if tags.is_empty() {
        return Err(required("tags"));
    }
    let contact = call.state.ct_contacts.get_mut(&id).ok_or_else(not_found)?;
    api::add_tags(&mut contact.tags, &tags);
    let rows: Vec<Value> = tags
        .iter()
        .map(|t| json!({"id": call.state.tag_id(t), "name": t}))
        .collect();
    call.say(format!("CloudTalk ← add tags {tags:?} to {id}"));
    Ok((
        200,
        json!({"responseData": {"status": 200, "message": "Tags were sucessfully added.", "data": {"tags": rows, "contact_id": id}}}),
    ))
}

fn remove_tags(call: &mut Call) -> Outcome {
    let tags = texts(call.data.get("tags"));
    let contact = call.state.ct_contacts.get_mut(&id(call));
    let contact = contact.ok_or_else(not_found)?;
    api::remove_tags(&mut contact.tags, &tags);
    Ok((
        200,
        json!({"responseData": {"status": 200, "message": "Tags were successfully removed."}}),
    ))
}

fn add_note(call: &mut Call) -> Outcome {
    let contact_id = id(call);
    let note_id = insert_note(call.state, &contact_id, &call.data)?;
    let note = call.field("note").unwrap_or_default();
    let excerpt: String = note.chars().take(80).collect();
    call.say(format!("CloudTalk ← note on {contact_id}: {excerpt}"));
    Ok(created(&note_id))
}

/// `?contact_id=` and `?keyword=` (in the note's text) filter.
fn list_notes(call: &mut Call) -> Outcome {
    let contact = call.req.query("contact_id");
    let keyword = call.req.query("keyword");
    let rows = call
        .state
        .ct_notes
        .iter()
        .filter(|n| contact.is_none_or(|c| n.contact_id == c))
        .filter(|n| keyword.is_none_or(|k| n.note.contains(k)))
        .map(|n| json!({"Note": {"id": n.id, "contact_id": n.contact_id, "note": n.note}}))
        .collect();
    Ok((200, page(call.req, rows)))
}

/// `?contact_id=` filters.
fn list_activities(call: &mut Call) -> Outcome {
    let contact = call.req.query("contact_id");
    let rows = call
        .state
        .ct_activities
        .iter()
        .filter(|a| contact.is_none_or(|c| a.contact_id == c))
        .map(|a| json!({"ContactActivity": a}))
        .collect();
    Ok((200, page(call.req, rows)))
}

fn add_activity(call: &mut Call) -> Outcome {
    let contact_id = id(call);
    let activity_id = insert_activity(call.state, &contact_id, &call.data)?;
    let name = call.field("name").unwrap_or_default();
    call.say(format!("CloudTalk ← activity \"{name}\" on {contact_id}"));
    Ok(created(&activity_id))
}

fn list_tags(call: &mut Call) -> Outcome {
    let rows = call
        .state
        .ct_tags
        .iter()
        .map(|(id, name)| json!({"Tag": {"id": id, "name": name}}))
        .collect();
    Ok((200, page(call.req, rows)))
}

/// Up to 10 commands, each answered inside the 200 with its own status.
fn bulk(call: &mut Call) -> Outcome {
    let commands = match call.data.as_array() {
        Some(commands) if commands.len() <= 10 => commands.clone(),
        _ => {
            let message = "Send a JSON array of at most 10 commands.";
            return Err(invalid_field("commands", message));
        }
    };
    let results: Vec<Value> = commands.iter().map(|c| run_command(call, c)).collect();
    Ok((
        200,
        json!({"responseData": {"status": 200, "data": results}}),
    ))
}

fn run_command(call: &mut Call, command: &Value) -> Value {
    let command_id = command.get("command_id").cloned().unwrap_or(Value::Null);
    let data = command.get("data").cloned().unwrap_or(Value::Null);
    let action = command.get("action").and_then(Value::as_str);
    match apply_command(call, action, &data) {
        Ok((status, Some(id))) => {
            json!({"command_id": command_id, "status": status, "data": {"id": id}})
        }
        Ok((status, None)) => json!({"command_id": command_id, "status": status}),
        Err((status, body)) => json!({"command_id": command_id, "status": status,
            "message": body.pointer("/responseData/message"), "data": body.pointer("/responseData/data")}),
    }
}

/// A command's status and the id it created, if any.
fn apply_command(
    call: &mut Call,
    action: Option<&str>,
    data: &Value,
) -> Result<(u16, Option<String>), Reply> {
    let id_of = |k: &str| text(data.get(k)).unwrap_or_default();
    let state = &mut *call.state;
    match action {
        Some("add_contact") => {
            let contact = insert_contact(state, data)?;
            let id = contact.id.clone();
            announce_later(call, contact);
            Ok((201, Some(id)))
        }
        Some("edit_contact") => replace_contact(state, &id_of("id"), data).map(|_| (200, None)),
        Some("delete_contact") => remove_contact(state, &id_of("id")).map(|_| (200, None)),
        Some("add_note") => {
            insert_note(state, &id_of("contact_id"), data).map(|id| (201, Some(id)))
        }
        Some("add_activity") => {
            insert_activity(state, &id_of("contact_id"), data).map(|id| (201, Some(id)))
        }
        _ => Err(invalid_field("action", "Unknown action.")),
    }
}

/// Checks and applies contact fields. Sent collections replace; `name` is required.
fn apply_contact(contact: &mut CtContact, data: &Value) -> Result<(), Reply> {
    let mut errors = Map::new();
    match text(data.get("name")) {
        Some(name) if name.chars().count() <= 150 => contact.name = name,
        Some(_) => {
            errors.insert(
                "name".into(),
                json!(["The name may not be longer than 150 characters."]),
            );
        }
        None => {
            errors.insert("name".into(), json!(["This field is required."]));
        }
    }
    let numbers = list(data, "ContactNumber", "public_number");
    if let Some(bad) = numbers
        .as_ref()
        .and_then(|n| n.iter().find(|n| !valid_number(n)))
    {
        errors.insert(
            "public_number".into(),
            json!([format!(
                "Please supply only valid numbers. Number {bad} is not valid."
            )]),
        );
    }
    let emails = list(data, "ContactEmail", "email");
    if emails
        .as_ref()
        .is_some_and(|e| e.iter().any(|e| !valid_email(e)))
    {
        errors.insert(
            "email".into(),
            json!(["Please supply a valid email address."]),
        );
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    if let Some(c) = data.get("company") {
        contact.company = text(Some(c));
    }
    if let Some(t) = data.get("title") {
        contact.title = text(Some(t));
    }
    if let Some(n) = numbers {
        contact.numbers = n;
    }
    if let Some(e) = emails {
        contact.emails = e;
    }
    if let Some(t) = list(data, "ContactsTag", "name") {
        contact.tags = t;
    }
    if let Some(Value::Array(urls)) = data.get("ExternalUrl") {
        contact.external_urls = urls.iter().take(3).cloned().collect();
    }
    Ok(())
}

fn list(data: &Value, key: &str, field: &str) -> Option<Vec<String>> {
    match data.get(key)? {
        Value::Array(items) => Some(items.iter().filter_map(|i| text(i.get(field))).collect()),
        Value::String(s) if s.is_empty() => Some(Vec::new()),
        _ => None,
    }
}

fn valid_email(e: &str) -> bool {
    e.split_once('@').is_some_and(|(l, d)| {
        !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
    })
}

/// Puts the contact's tags in the catalogue.
fn catalogue_tags(state: &mut State, contact: &CtContact) {
    for tag in &contact.tags {
        state.tag_id(tag);
    }
}

fn insert_contact(state: &mut State, data: &Value) -> Result<CtContact, Reply> {
    let mut contact = CtContact {
        created: now(),
        ..Default::default()
    };
    apply_contact(&mut contact, data)?;
    contact.id = state.ct_id();
    catalogue_tags(state, &contact);
    state
        .ct_contacts
        .insert(contact.id.clone(), contact.clone());
    Ok(contact)
}

fn replace_contact(state: &mut State, id: &str, data: &Value) -> Result<(), Reply> {
    let mut contact = state.ct_contacts.get(id).cloned().ok_or_else(not_found)?;
    apply_contact(&mut contact, data)?;
    catalogue_tags(state, &contact);
    state.ct_contacts.insert(id.to_string(), contact);
    Ok(())
}

fn remove_contact(state: &mut State, id: &str) -> Result<(), Reply> {
    state
        .ct_contacts
        .remove(id)
        .map(|_| ())
        .ok_or_else(not_found)
}

fn insert_note(state: &mut State, contact_id: &str, data: &Value) -> Result<String, Reply> {
    if !state.ct_contacts.contains_key(contact_id) {
        return Err(not_found());
    }
    let note = text(data.get("note")).ok_or_else(|| required("note"))?;
    let id = state.ct_id();
    state.ct_notes.push(CtNote {
        id: id.clone(),
        contact_id: contact_id.to_string(),
        note,
    });
    Ok(id)
}

fn insert_activity(state: &mut State, contact_id: &str, data: &Value) -> Result<String, Reply> {
    if !state.ct_contacts.contains_key(contact_id) {
        return Err(not_found());
    }
    let mut e = Map::new();
    let kind = text(data.get("type"));
    if !kind.as_deref().is_some_and(|k| ACTIVITY_TYPES.contains(&k)) {
        e.insert(
            "type".into(),
            json!(["This field is required and must be a valid activity type."]),
        );
    }
    let name = text(data.get("name"));
    if name.is_none() {
        e.insert("name".into(), json!(["This field is required."]));
    }
    if !e.is_empty() {
        return Err(invalid(e));
    }
    let id = state.ct_id();
    state.ct_activities.push(CtActivity {
        id: id.clone(),
        contact_id: contact_id.to_string(),
        kind: kind.unwrap_or_default(),
        name: name.unwrap_or_default(),
        description: text(data.get("description")),
        external_id: text(data.get("external_id")),
    });
    Ok(id)
}

fn list_row(c: &CtContact) -> Value {
    json!({
        "Contact": {"id": c.id, "name": c.name, "company": c.company, "title": c.title},
        "ContactNumber": c.numbers.first().map(|n| json!({"public_number": n})).unwrap_or(Value::Null),
        "ContactEmail": c.emails.first().map(|e| json!({"email": e})).unwrap_or(Value::Null),
    })
}

fn show_json(c: &CtContact) -> Value {
    json!({
        "Contact": {"id": c.id, "name": c.name, "company": c.company, "title": c.title, "created": c.created},
        "ContactNumber": c.numbers.iter().map(|n| json!({"public_number": n, "contact_id": c.id})).collect::<Vec<_>>(),
        "ContactEmail": c.emails.iter().map(|e| json!({"email": e})).collect::<Vec<_>>(),
        "ContactsTag": c.tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
        "ExternalUrl": c.external_urls,
    })
}

fn page(req: &Incoming, rows: Vec<Value>) -> Value {
    let limit = req
        .query("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 1000);
    let page = req
        .query("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let count = rows.len();
    let data: Vec<Value> = rows
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect();
    json!({"responseData": {"itemsCount": count, "pageCount": count.div_ceil(limit).max(1), "pageNumber": page, "limit": limit, "data": data}})
}

/// Once answered: the console line for an added contact, then CloudTalk's contact-created
/// webhook.
fn announce_later(call: &mut Call, contact: CtContact) {
    call.after_answer(move |sandbox| {
        let phone = contact
            .numbers
            .first()
            .map(|n| format!(" ({})", mask_phone(n)))
            .unwrap_or_default();
        sandbox.inner.say(format!(
            "CloudTalk ← add contact \"{}\"{phone} id {}",
            contact.name, contact.id
        ));
        call_back(sandbox, contact);
    });
}

/// The contact-created webhook CloudTalk's workflow automation would send.
fn call_back(sandbox: &Sandbox, contact: CtContact) {
    let mut body = json!({"contact_id": contact.id, "contact_name": contact.name});
    if let Some(n) = contact.numbers.first() {
        body["external_number"] = json!(n);
    }
    if let Some(e) = contact.emails.first() {
        body["contact_email"] = json!(e);
    }
    let what = format!("contact-created for {}", contact.id);
    workflow_webhook(
        sandbox,
        "/api/cloudtalk-webhooks/contact-created",
        body,
        what,
    );
}

/// Sends `body` to the bridge's `path` as CloudTalk's workflow automation would: after
/// [`super::config::SandboxConfig::callback_delay_ms`], with the CloudTalk webhook secret as a bearer
/// token, recorded in the console's feed and told in a console line (`what`). Nothing when no
/// bridge is configured. Needs a Tokio runtime.
pub(crate) fn workflow_webhook(sandbox: &Sandbox, path: &'static str, body: Value, what: String) {
    let config = &sandbox.inner.config;
    let Some(bridge) = config.bridge_url.clone() else {
        return;
    };
    let secret = config.cloudtalk_webhook_secret.clone().unwrap_or_default();
    let delay = Duration::from_millis(config.callback_delay_ms);
    let sandbox = sandbox.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let url = format!("{}{path}", bridge.trim_end_matches('/'));
        let feed_id = sandbox
            .inner
            .feed
            .lock()
            .ok()
            .map(|mut f| f.begin(Source::CloudTalkWorkflow, "POST", path, None));
        let sent = sandbox
            .inner
            .http
            .post(&url)
            .bearer_auth(&secret)
            .json(&body)
            .send()
            .await;
        let outcome = match sent {
            Ok(r) => {
                let status = r.status().as_u16();
                let answer: Value = r.json().await.unwrap_or(Value::Null);
                if let (Some(id), Ok(mut feed)) = (&feed_id, sandbox.inner.feed.lock()) {
                    feed.finish(*id, Ok((status, Some(answer.clone()))));
                }
                format!(
                    "{status} {}",
                    answer
                        .get("result")
                        .or_else(|| answer.get("error"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                )
            }
            Err(e) => {
                let why = e.without_url().to_string();
                if let (Some(id), Ok(mut feed)) = (&feed_id, sandbox.inner.feed.lock()) {
                    feed.finish(*id, Err(why.clone()));
                }
                format!("failed: {why}")
            }
        };
        sandbox
            .inner
            .say(format!("CloudTalk → bridge {what} → {outcome}"));
    });
}
