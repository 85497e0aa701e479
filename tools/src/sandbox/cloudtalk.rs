//! The CloudTalk API simulator, under `/cloudtalk/api`.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use base64::Engine;
use bridge::telemetry::mask_phone;
use serde_json::{json, Map, Value};

use super::state::{now, CtActivity, CtContact, CtNote, State};
use super::{answer, Fault, Incoming, Sandbox};

const ACTIVITY_TYPES: &[&str] = &[
    "order", "task", "chat", "ticket", "other", "invoice", "proforma", "estimate", "cancel",
];

fn envelope(status: u16, message: &str) -> Value {
    json!({"responseData": {"status": status, "message": message}})
}

fn invalid(errors: Map<String, Value>) -> (u16, Value) {
    (
        406,
        json!({"responseData": {"status": 406, "message": "Invalid input data.", "data": errors}}),
    )
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn list(data: &Value, key: &str, field: &str) -> Option<Vec<String>> {
    match data.get(key)? {
        Value::Array(items) => Some(items.iter().filter_map(|i| text(i.get(field))).collect()),
        Value::String(s) if s.is_empty() => Some(Vec::new()),
        _ => None,
    }
}

fn valid_number(n: &str) -> bool {
    n.starts_with('+')
        && (8..=15).contains(&(n.len() - 1))
        && n[1..].chars().all(|c| c.is_ascii_digit())
}

fn valid_email(e: &str) -> bool {
    e.split_once('@').is_some_and(|(l, d)| {
        !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
    })
}

/// Checks and applies contact fields. Sent collections replace; `name` is required.
fn apply_contact(contact: &mut CtContact, data: &Value) -> Result<(), (u16, Value)> {
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

fn add_contact(state: &mut State, data: &Value) -> Result<CtContact, (u16, Value)> {
    let mut contact = CtContact {
        created: now(),
        ..Default::default()
    };
    apply_contact(&mut contact, data)?;
    contact.id = state.ct_id();
    for tag in contact.tags.clone() {
        state.tag_id(&tag);
    }
    state
        .ct_contacts
        .insert(contact.id.clone(), contact.clone());
    Ok(contact)
}

fn edit_contact(state: &mut State, id: &str, data: &Value) -> Result<(), (u16, Value)> {
    let Some(existing) = state.ct_contacts.get(id).cloned() else {
        return Err((404, envelope(404, "Not found.")));
    };
    let mut contact = existing;
    apply_contact(&mut contact, data)?;
    for tag in contact.tags.clone() {
        state.tag_id(&tag);
    }
    state.ct_contacts.insert(id.to_string(), contact);
    Ok(())
}

fn add_note(state: &mut State, contact_id: &str, data: &Value) -> Result<String, (u16, Value)> {
    if !state.ct_contacts.contains_key(contact_id) {
        return Err((404, envelope(404, "Not found.")));
    }
    let Some(note) = text(data.get("note")) else {
        let mut e = Map::new();
        e.insert("note".into(), json!(["This field is required."]));
        return Err(invalid(e));
    };
    let id = state.ct_id();
    state.ct_notes.push(CtNote {
        id: id.clone(),
        contact_id: contact_id.to_string(),
        note,
    });
    Ok(id)
}

fn add_activity(state: &mut State, contact_id: &str, data: &Value) -> Result<String, (u16, Value)> {
    if !state.ct_contacts.contains_key(contact_id) {
        return Err((404, envelope(404, "Not found.")));
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

fn id_from(path: &str, prefix: &str) -> Option<String> {
    path.strip_prefix(prefix)?
        .strip_suffix(".json")
        .map(str::to_string)
}

/// Everything after auth and faults: the API itself.
fn route(sandbox: &Sandbox, req: &Incoming, added: &mut Vec<CtContact>) -> (u16, Value) {
    let inner = &sandbox.inner;
    let Ok(mut state) = inner.state.lock() else {
        return (500, envelope(500, "Something went wrong."));
    };
    let body = req.json();
    let needs_body = matches!(req.method, Method::PUT | Method::POST)
        || req.path.starts_with("/contacts/removeTags/");
    if needs_body && body.is_none() {
        return (400, envelope(400, "Bad Request"));
    }
    let data = body.unwrap_or(Value::Null);
    let path = req.path.as_str();
    let result: Result<(u16, Value), (u16, Value)> = match (&req.method, path) {
        (&Method::GET, "/contacts/index.json") => {
            let keyword = req.query("keyword").map(str::to_lowercase);
            let digits = keyword
                .as_deref()
                .map(|k| k.chars().filter(char::is_ascii_digit).collect::<String>());
            let tag = req
                .query("tag_id")
                .and_then(|t| state.ct_tags.get(t).cloned());
            let rows = state
                .ct_contacts
                .values()
                .filter(|c| match &keyword {
                    None => true,
                    Some(k) => {
                        c.name.to_lowercase().contains(k.as_str())
                            || c.emails
                                .iter()
                                .any(|e| e.to_lowercase().contains(k.as_str()))
                            || digits.as_ref().is_some_and(|d| {
                                !d.is_empty() && c.numbers.iter().any(|n| n.contains(d.as_str()))
                            })
                    }
                })
                .filter(|c| {
                    tag.as_ref()
                        .is_none_or(|t| c.tags.iter().any(|x| x.eq_ignore_ascii_case(t)))
                })
                .map(list_row)
                .collect();
            Ok((200, page(req, rows)))
        }
        (&Method::GET, p) if p.starts_with("/contacts/show/") => {
            match id_from(p, "/contacts/show/").and_then(|id| state.ct_contacts.get(&id).cloned()) {
                Some(c) => Ok((
                    200,
                    json!({"responseData": {
                        "Contact": {"id": c.id, "name": c.name, "company": c.company, "title": c.title, "created": c.created},
                        "ContactNumber": c.numbers.iter().map(|n| json!({"public_number": n, "contact_id": c.id})).collect::<Vec<_>>(),
                        "ContactEmail": c.emails.iter().map(|e| json!({"email": e})).collect::<Vec<_>>(),
                        "ContactsTag": c.tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
                        "ExternalUrl": c.external_urls,
                    }}),
                )),
                None => Err((404, envelope(404, "Not found."))),
            }
        }
        (&Method::PUT, "/contacts/add.json") => add_contact(&mut state, &data).map(|c| {
            let id = c.id.clone();
            added.push(c);
            (
                201,
                json!({"responseData": {"status": 201, "data": {"id": id}}}),
            )
        }),
        (&Method::POST, p) if p.starts_with("/contacts/edit/") => {
            let id = id_from(p, "/contacts/edit/").unwrap_or_default();
            edit_contact(&mut state, &id, &data).map(|_| {
                inner.say(format!("CloudTalk ← edit contact {id}"));
                (200, json!({"responseData": {"status": 200}}))
            })
        }
        (&Method::DELETE, p) if p.starts_with("/contacts/delete/") => {
            let id = id_from(p, "/contacts/delete/").unwrap_or_default();
            match state.ct_contacts.remove(&id) {
                Some(_) => Ok((200, json!({"responseData": {"status": 200}}))),
                None => Err((404, envelope(404, "Not found."))),
            }
        }
        (&Method::PUT, p) if p.starts_with("/contacts/addTags/") => {
            let id = id_from(p, "/contacts/addTags/").unwrap_or_default();
            let tags: Vec<String> = data
                .get("tags")
                .and_then(Value::as_array)
                .map(|t| t.iter().filter_map(|v| text(Some(v))).collect())
                .unwrap_or_default();
            if tags.is_empty() {
                let mut e = Map::new();
                e.insert("tags".into(), json!(["This field is required."]));
                Err(invalid(e))
            } else if let Some(mut contact) = state.ct_contacts.get(&id).cloned() {
                for tag in &tags {
                    if !contact.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
                        contact.tags.push(tag.clone());
                    }
                }
                let rows: Vec<Value> = tags
                    .iter()
                    .map(|t| json!({"id": state.tag_id(t), "name": t}))
                    .collect();
                state.ct_contacts.insert(id.clone(), contact);
                inner.say(format!("CloudTalk ← add tags {tags:?} to {id}"));
                Ok((
                    200,
                    json!({"responseData": {"status": 200, "message": "Tags were sucessfully added.", "data": {"tags": rows, "contact_id": id}}}),
                ))
            } else {
                Err((404, envelope(404, "Not found.")))
            }
        }
        (&Method::DELETE, p) if p.starts_with("/contacts/removeTags/") => {
            let id = id_from(p, "/contacts/removeTags/").unwrap_or_default();
            let tags: Vec<String> = data
                .get("tags")
                .and_then(Value::as_array)
                .map(|t| t.iter().filter_map(|v| text(Some(v))).collect())
                .unwrap_or_default();
            match state.ct_contacts.get_mut(&id) {
                Some(contact) => {
                    contact
                        .tags
                        .retain(|t| !tags.iter().any(|x| x.eq_ignore_ascii_case(t)));
                    Ok((
                        200,
                        json!({"responseData": {"status": 200, "message": "Tags were successfully removed."}}),
                    ))
                }
                None => Err((404, envelope(404, "Not found."))),
            }
        }
        (&Method::PUT, p) if p.starts_with("/notes/add/") => {
            let contact_id = id_from(p, "/notes/add/").unwrap_or_default();
            add_note(&mut state, &contact_id, &data).map(|id| {
                let note = text(data.get("note")).unwrap_or_default();
                inner.say(format!(
                    "CloudTalk ← note on {contact_id}: {}",
                    note.chars().take(80).collect::<String>()
                ));
                (
                    201,
                    json!({"responseData": {"status": 201, "data": {"id": id}}}),
                )
            })
        }
        (&Method::PUT, p) if p.starts_with("/activity/add/") => {
            let contact_id = id_from(p, "/activity/add/").unwrap_or_default();
            add_activity(&mut state, &contact_id, &data).map(|id| {
                inner.say(format!(
                    "CloudTalk ← activity \"{}\" on {contact_id}",
                    text(data.get("name")).unwrap_or_default()
                ));
                (
                    201,
                    json!({"responseData": {"status": 201, "data": {"id": id}}}),
                )
            })
        }
        (&Method::GET, "/tags/index.json") => {
            let rows = state
                .ct_tags
                .iter()
                .map(|(id, name)| json!({"Tag": {"id": id, "name": name}}))
                .collect();
            Ok((200, page(req, rows)))
        }
        (&Method::POST, "/bulk/contacts.json") => match data.as_array() {
            Some(commands) if commands.len() <= 10 => {
                let results: Vec<Value> = commands
                    .iter()
                    .map(|command| {
                        let command_id = command.get("command_id").cloned().unwrap_or(Value::Null);
                        let d = command.get("data").cloned().unwrap_or(Value::Null);
                        let id_of = |k: &str| text(d.get(k)).unwrap_or_default();
                        let outcome: Result<(u16, Option<String>), (u16, Value)> = match command.get("action").and_then(Value::as_str) {
                            Some("add_contact") => add_contact(&mut state, &d).map(|c| {
                                let id = c.id.clone();
                                added.push(c);
                                (201, Some(id))
                            }),
                            Some("edit_contact") => edit_contact(&mut state, &id_of("id"), &d).map(|_| (200, None)),
                            Some("delete_contact") => match state.ct_contacts.remove(&id_of("id")) {
                                Some(_) => Ok((200, None)),
                                None => Err((404, envelope(404, "Not found."))),
                            },
                            Some("add_note") => add_note(&mut state, &id_of("contact_id"), &d).map(|id| (201, Some(id))),
                            Some("add_activity") => add_activity(&mut state, &id_of("contact_id"), &d).map(|id| (201, Some(id))),
                            _ => Err(invalid({
                                let mut e = Map::new();
                                e.insert("action".into(), json!(["Unknown action."]));
                                e
                            })),
                        };
                        match outcome {
                            Ok((status, Some(id))) => json!({"command_id": command_id, "status": status, "data": {"id": id}}),
                            Ok((status, None)) => json!({"command_id": command_id, "status": status}),
                            Err((status, body)) => json!({"command_id": command_id, "status": status,
                                "message": body.pointer("/responseData/message"), "data": body.pointer("/responseData/data")}),
                        }
                    })
                    .collect();
                Ok((
                    200,
                    json!({"responseData": {"status": 200, "data": results}}),
                ))
            }
            _ => Err(invalid({
                let mut e = Map::new();
                e.insert(
                    "commands".into(),
                    json!(["Send a JSON array of at most 10 commands."]),
                );
                e
            })),
        },
        _ => Err((
            404,
            json!({"name": "Not Found", "message": "Not Found", "url": format!("/api{path}")}),
        )),
    };
    result.unwrap_or_else(|e| e)
}

/// The contact-created webhook CloudTalk's workflow automation would send.
fn call_back(sandbox: &Sandbox, contact: CtContact) {
    let config = &sandbox.inner.config;
    let Some(bridge) = config.bridge_url.clone() else {
        return;
    };
    let secret = config.cloudtalk_webhook_secret.clone().unwrap_or_default();
    let delay = Duration::from_millis(config.callback_delay_ms);
    let sandbox = sandbox.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let mut body = json!({"contact_id": contact.id, "contact_name": contact.name});
        if let Some(n) = contact.numbers.first() {
            body["external_number"] = json!(n);
        }
        if let Some(e) = contact.emails.first() {
            body["contact_email"] = json!(e);
        }
        let url = format!(
            "{}/api/cloudtalk-webhooks/contact-created",
            bridge.trim_end_matches('/')
        );
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
                format!(
                    "{status} {}",
                    answer
                        .get("result")
                        .or_else(|| answer.get("error"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                )
            }
            Err(e) => format!("failed: {}", e.without_url()),
        };
        sandbox.inner.say(format!(
            "CloudTalk → bridge contact-created for {} → {outcome}",
            contact.id
        ));
    });
}

pub(crate) async fn handle(
    AxumState(sandbox): AxumState<Sandbox>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = Incoming::new(method, uri, headers, body, "/cloudtalk/api");
    let inner = &sandbox.inner;
    let reset = (chrono::Utc::now().timestamp() / 60 + 1) * 60;
    let (status, value, reset_at) = match inner.fault().await {
        Fault::ServerError => (500, envelope(500, "Something went wrong."), reset),
        Fault::RateLimited => (
            429,
            envelope(429, "Too Many Requests"),
            chrono::Utc::now().timestamp() + 2,
        ),
        Fault::None => {
            let expected = format!(
                "{}:{}",
                inner.config.cloudtalk_key_id, inner.config.cloudtalk_key_secret
            );
            let presented = req
                .header("authorization")
                .and_then(|h| h.strip_prefix("Basic "))
                .and_then(|b| {
                    base64::engine::general_purpose::STANDARD
                        .decode(b.trim())
                        .ok()
                });
            if presented.as_deref() != Some(expected.as_bytes()) {
                (401, envelope(401, "Unauthorized"), reset)
            } else {
                let over_limit = inner.config.enforce_cloudtalk_limit
                    && inner.state.lock().is_ok_and(|mut s| {
                        let cutoff = Instant::now() - Duration::from_secs(60);
                        while s.ct_window.front().is_some_and(|t| *t < cutoff) {
                            s.ct_window.pop_front();
                        }
                        s.ct_window.push_back(Instant::now());
                        s.ct_window.len() > 60
                    });
                if over_limit {
                    (429, envelope(429, "Too Many Requests"), reset)
                } else {
                    let mut added = Vec::new();
                    let (status, value) = route(&sandbox, &req, &mut added);
                    for contact in added {
                        let phone = contact
                            .numbers
                            .first()
                            .map(|n| format!(" ({})", mask_phone(n)))
                            .unwrap_or_default();
                        inner.say(format!(
                            "CloudTalk ← add contact \"{}\"{phone} id {}",
                            contact.name, contact.id
                        ));
                        call_back(&sandbox, contact);
                    }
                    (status, value, reset)
                }
            }
        }
    };
    inner.log_request("cloudtalk", &req.method, &req.path, status);
    let remaining = inner
        .state
        .lock()
        .map(|s| 60usize.saturating_sub(s.ct_window.len()))
        .unwrap_or(60);
    answer(
        status,
        value,
        vec![
            ("x-cloudtalkapi-limit", "60".to_string()),
            (
                "x-cloudtalkapi-remaining",
                if status == 429 {
                    "0".to_string()
                } else {
                    remaining.to_string()
                },
            ),
            ("x-cloudtalkapi-resettime", reset_at.to_string()),
        ],
    )
}
