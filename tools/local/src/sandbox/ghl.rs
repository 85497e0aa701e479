//! The GoHighLevel API simulator, under `/ghl`.

use std::borrow::Cow;
use std::time::Duration;

use bridge::telemetry::mask_phone;
use serde_json::{json, Value};

use super::api::{self, text, texts, Api, Call, Headers, Incoming, Outcome, Reply, Route};
use super::base::{Fault, Inner};
use super::ghl_common::{
    contact_json, error, not_found, require_fields, require_query, too_many_requests, unprocessable,
};
use super::ghl_conversations as conversations;
use super::ghl_dnd::DndChange;
use super::ghl_oauth as oauth;
use super::ghl_search as search;
use super::ghl_tasks as tasks;
use super::routes::{delete, get, post, put};
use super::state::{now, CustomValue, GhlContact, GhlNote, Opportunity, State};
use super::team_routes;

/// GHL's burst limit: requests per 10 seconds per location.
const BURST_MAX: usize = 100;

/// The burst window, in milliseconds, as `X-RateLimit-Interval-Milliseconds` says.
const BURST_INTERVAL_MS: u64 = 10_000;

/// The operations, first match wins. Paths are matched without the slashes they start or end
/// with.
#[rustfmt::skip]
const ROUTES: &[Route] = &[
    get("/contacts/search/duplicate", find_duplicate),
    post("/contacts", create_contact),
    post("/contacts/upsert", upsert_contact),
    post("/contacts/search", search::search_contacts),
    get("/contacts/{id}", get_contact),
    put("/contacts/{id}", update_contact),
    delete("/contacts/{id}", delete_contact),
    get("/contacts/{id}/notes", list_notes),
    post("/contacts/{id}/notes", add_note),
    post("/contacts/{id}/tags", add_tags),
    delete("/contacts/{id}/tags", remove_tags),
    get("/contacts/{id}/tasks", tasks::list),
    post("/contacts/{id}/tasks", tasks::create),
    get("/contacts/{id}/tasks/{task}", tasks::get),
    put("/contacts/{id}/tasks/{task}", tasks::update),
    delete("/contacts/{id}/tasks/{task}", tasks::delete),
    put("/contacts/{id}/tasks/{task}/completed", tasks::set_completed),
    get("/opportunities/search", search_opportunities),
    get("/opportunities/pipelines", list_pipelines),
    post("/opportunities", create_opportunity),
    put("/opportunities/{id}", update_opportunity),
    get("/locations/{location}/customValues", list_custom_values),
    post("/locations/{location}/customValues", create_custom_value),
    put("/locations/{location}/customValues/{id}", update_custom_value),
    get("/users", team_routes::list_users),
    get("/users/{id}", team_routes::get_user),
    post("/oauth/token", oauth::token),
    post("/oauth/locationToken", oauth::location_token),
    post("/oauth/reconnect", oauth::reconnect),
    get("/conversations/search", conversations::search),
    post("/conversations", conversations::create),
    get("/conversations/messages/{id}", conversations::get_message),
    post("/conversations/messages/{direction}", conversations::add_message),
    put("/conversations/messages/{id}/attachments", conversations::set_attachments),
    put("/conversations/messages/{id}/status", conversations::set_status),
];

pub(crate) struct Ghl;

/// What GHL's `X-RateLimit-*` headers report.
pub(crate) struct Quota {
    remaining: usize,
    interval_ms: u64,
}

impl Quota {
    fn burst(remaining: usize) -> Self {
        Self {
            remaining,
            interval_ms: BURST_INTERVAL_MS,
        }
    }
}

impl Api for Ghl {
    const NAME: &'static str = "ghl";
    const VENDOR: bridge_contracts::Vendor = bridge_contracts::Vendor::GoHighLevel;
    const PREFIX: &'static str = "/ghl";
    const ROUTES: &'static [Route] = ROUTES;
    type Quota = Quota;

    fn fault(_: &Incoming, fault: Fault) -> (Reply, Quota) {
        match fault {
            Fault::ServerError => (Self::server_error(), Quota::burst(50)),
            Fault::RateLimited => (
                too_many_requests(),
                Quota {
                    remaining: 0,
                    interval_ms: 1_000,
                },
            ),
        }
    }

    fn admit(inner: &Inner, req: &Incoming) -> Result<Quota, (Reply, Quota)> {
        let token = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim);
        let route = req.path.trim_matches('/');
        // The token endpoints take the app's client credentials instead.
        let client_authenticated = route == "oauth/token" || route == "oauth/reconnect";
        let issued = |token: &str| {
            let now = inner.config.clock.now_secs();
            let location = req.query("locationId");
            inner
                .state
                .lock()
                .is_ok_and(|s| s.oauth.access_valid(token, now, location))
        };
        let valid = token == Some(inner.config.ghl_token.as_str()) || token.is_some_and(issued);
        if !client_authenticated && !valid {
            let message = json!("Invalid token: access token is invalid");
            return Err((error(401, message, "Unauthorized"), Quota::burst(100)));
        }
        if req.header("version").is_none_or(|v| v.trim().is_empty()) {
            let message = json!("version header was not found");
            return Err((error(400, message, "Bad Request"), Quota::burst(100)));
        }
        let window = Duration::from_millis(BURST_INTERVAL_MS);
        let used = inner
            .state
            .lock()
            .map(|mut s| s.ghl_window.hit(window))
            .unwrap_or(0);
        if used > BURST_MAX {
            return Err((too_many_requests(), Quota::burst(0)));
        }
        Ok(Quota::burst(BURST_MAX - used))
    }

    fn limit_headers(_: &Inner, _: u16, quota: Quota) -> Headers {
        vec![
            ("x-ratelimit-limit-daily", "200000".to_string()),
            ("x-ratelimit-daily-remaining", "199000".to_string()),
            (
                "x-ratelimit-interval-milliseconds",
                quota.interval_ms.to_string(),
            ),
            ("x-ratelimit-max", BURST_MAX.to_string()),
            ("x-ratelimit-remaining", quota.remaining.to_string()),
        ]
    }

    fn server_error() -> Reply {
        error(500, json!("Internal server error"), "Internal Server Error")
    }

    fn bad_body() -> Reply {
        error(400, json!("Unexpected token in JSON"), "Bad Request")
    }

    fn no_route(req: &Incoming) -> Reply {
        let message = format!("Cannot {} {}", req.method, req.path);
        error(404, json!(message), "Not Found")
    }

    fn route_path(path: &str) -> Cow<'_, str> {
        Cow::Owned(format!("/{}", path.trim_matches('/')))
    }

    /// OAuth's bodies are form fields, not JSON.
    fn needs_body(req: &Incoming) -> bool {
        matches!(
            req.method,
            axum::http::Method::POST | axum::http::Method::PUT
        ) && !req.path.trim_matches('/').starts_with("oauth/")
    }
}

fn find_duplicate(call: &mut Call) -> Outcome {
    require_query(call, "locationId")?;
    let state = &call.state;
    let found = find_match(state, call.req.query("email"), call.req.query("number"))
        .and_then(|(id, _)| state.ghl_contacts.get(&id).map(contact_json));
    Ok((200, json!({"contact": found})))
}

fn create_contact(call: &mut Call) -> Outcome {
    require_fields(call, &["locationId"])?;
    if let Some((id, field)) = match_in_body(call) {
        let name = call
            .state
            .ghl_contacts
            .get(&id)
            .and_then(|c| c.name.clone());
        return Err((
            400,
            json!({"statusCode": 400, "message": "This location does not allow duplicated contacts.",
            "meta": {"contactId": id, "contactName": name, "matchingField": field}}),
        ));
    }
    let contact = new_contact(call);
    call.say(format!("GHL ← create contact {}", described(&contact)));
    store(call.state, &contact);
    Ok((201, json!({"contact": contact_json(&contact)})))
}

fn upsert_contact(call: &mut Call) -> Outcome {
    require_fields(call, &["locationId"])?;
    let existing =
        match_in_body(call).and_then(|(id, _)| call.state.ghl_contacts.get(&id).cloned());
    let new = existing.is_none();
    let contact = match existing {
        Some(mut existing) => {
            apply(&mut existing, &call.data);
            existing
        }
        None => new_contact(call),
    };
    let age = if new { "new" } else { "existing" };
    call.say(format!(
        "GHL ← upsert contact {} ({age})",
        described(&contact)
    ));
    store(call.state, &contact);
    let trace = format!("trace-{}", call.state.ghl_requests);
    Ok((
        200,
        json!({"new": new, "contact": contact_json(&contact), "traceId": trace}),
    ))
}

fn get_contact(call: &mut Call) -> Outcome {
    let contact = call.state.ghl_contacts.get(call.params.get("id"));
    let contact = contact.ok_or_else(|| not_found("Contact"))?;
    Ok((200, json!({"contact": contact_json(contact)})))
}

fn update_contact(call: &mut Call) -> Outcome {
    if call.data.get("locationId").is_some() {
        return Err(unprocessable(&["property locationId should not exist"]));
    }
    let contact = contact_mut(call.state, call.params.get("id"))?;
    apply(contact, &call.data);
    let contact = contact.clone();
    call.say(format!("GHL ← update contact {}", contact.id));
    Ok((
        200,
        json!({"succeded": true, "contact": contact_json(&contact)}),
    ))
}

/// `DELETE /contacts/{id}` → `{"succeded": true}` (GHL's spelling); the contact's notes and
/// tasks go with it.
fn delete_contact(call: &mut Call) -> Outcome {
    let id = call.param("id");
    if call.state.ghl_contacts.remove(&id).is_none() {
        return Err(not_found("Contact"));
    }
    call.state.ghl_notes.retain(|n| n.contact_id != id);
    call.state.ghl_tasks.retain(|t| t.contact_id != id);
    call.say(format!("GHL ← delete contact {id}"));
    Ok((200, json!({"succeded": true})))
}

fn add_note(call: &mut Call) -> Outcome {
    let id = call.param("id");
    if !call.state.ghl_contacts.contains_key(&id) {
        return Err(not_found("Contact"));
    }
    let Some(body) = call.field("body") else {
        return Err(unprocessable(&[
            "body should not be empty",
            "body must be a string",
        ]));
    };
    let note = GhlNote {
        id: call.state.ghl_id("note"),
        contact_id: id.clone(),
        body,
        user_id: call.field("userId"),
        date_added: now(),
    };
    let excerpt: String = note.body.chars().take(80).collect();
    call.say(format!("GHL ← note on {id}: {excerpt}"));
    call.state.ghl_notes.push(note.clone());
    Ok((201, json!({"note": note})))
}

fn list_notes(call: &mut Call) -> Outcome {
    let id = call.param("id");
    if !call.state.ghl_contacts.contains_key(&id) {
        return Err(not_found("Contact"));
    }
    let notes: Vec<&GhlNote> = call
        .state
        .ghl_notes
        .iter()
        .filter(|n| n.contact_id == id)
        .collect();
    Ok((200, json!({ "notes": notes })))
}

fn add_tags(call: &mut Call) -> Outcome {
    let id = call.param("id");
    let tags = texts(call.data.get("tags"));
    let contact = contact_mut(call.state, &id)?;
    api::add_tags(&mut contact.tags, &tags);
    contact.touch();
    let reply = (201, json!({"tags": contact.tags}));
    call.say(format!("GHL ← add tags {tags:?} to {id}"));
    Ok(reply)
}

fn remove_tags(call: &mut Call) -> Outcome {
    let tags = texts(call.data.get("tags"));
    let contact = contact_mut(call.state, call.params.get("id"))?;
    api::remove_tags(&mut contact.tags, &tags);
    contact.touch();
    Ok((200, json!({"tags": contact.tags})))
}

fn search_opportunities(call: &mut Call) -> Outcome {
    require_query(call, "location_id")?;
    let query = |k| call.req.query(k);
    let rows: Vec<&Opportunity> = call
        .state
        .opportunities
        .values()
        .filter(|o| query("contact_id").is_none_or(|c| o.contact_id == c))
        .filter(|o| query("pipeline_id").is_none_or(|p| o.pipeline_id == p))
        .collect();
    Ok((
        200,
        json!({"opportunities": rows, "meta": {"total": rows.len()}}),
    ))
}

fn list_pipelines(call: &mut Call) -> Outcome {
    Ok((200, json!({"pipelines": call.state.pipelines})))
}

fn create_opportunity(call: &mut Call) -> Outcome {
    let required = ["pipelineId", "locationId", "name", "status", "contactId"];
    require_fields(call, &required)?;
    let pipeline_id = call.field("pipelineId").unwrap_or_default();
    let stage = call.field("pipelineStageId");
    check_stage(call.state, &pipeline_id, stage.as_deref())?;
    let opp = Opportunity {
        id: call.state.ghl_id("opp"),
        name: call.field("name").unwrap_or_default(),
        pipeline_id,
        pipeline_stage_id: stage,
        status: call.field("status").unwrap_or_else(|| "open".into()),
        contact_id: call.field("contactId").unwrap_or_default(),
        location_id: call.inner.config.ghl_location_id.clone(),
        monetary_value: call.data.get("monetaryValue").and_then(Value::as_f64),
    };
    call.say(format!(
        "GHL ← create opportunity \"{}\" at stage {}",
        opp.name,
        opp.pipeline_stage_id.clone().unwrap_or_default()
    ));
    call.state.opportunities.insert(opp.id.clone(), opp.clone());
    Ok((201, json!({"opportunity": opp})))
}

fn update_opportunity(call: &mut Call) -> Outcome {
    let id = call.param("id");
    let opp = call.state.opportunities.get(&id).cloned();
    let mut opp = opp.ok_or_else(|| not_found("Opportunity"))?;
    let pipeline_id = call.field("pipelineId").unwrap_or(opp.pipeline_id.clone());
    let stage = call
        .field("pipelineStageId")
        .or(opp.pipeline_stage_id.clone());
    check_stage(call.state, &pipeline_id, stage.as_deref())?;
    opp.pipeline_id = pipeline_id;
    opp.pipeline_stage_id = stage;
    if let Some(s) = call.field("status") {
        opp.status = s;
    }
    call.say(format!(
        "GHL ← move opportunity {id} to stage {}",
        opp.pipeline_stage_id.clone().unwrap_or_default()
    ));
    call.state.opportunities.insert(opp.id.clone(), opp.clone());
    Ok((200, json!({"opportunity": opp})))
}

fn list_custom_values(call: &mut Call) -> Outcome {
    let values: Vec<&CustomValue> = call.state.custom_values.values().collect();
    Ok((200, json!({"customValues": values})))
}

fn create_custom_value(call: &mut Call) -> Outcome {
    let (Some(name), Some(value)) = (call.field("name"), call.field("value")) else {
        return Err(unprocessable(&[
            "name should not be empty",
            "value should not be empty",
        ]));
    };
    let key: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    let cv = CustomValue {
        id: call.state.ghl_id("cv"),
        field_key: format!("{{{{ custom_values.{key} }}}}"),
        name,
        value,
    };
    say_custom_value(call, &cv);
    call.state.custom_values.insert(cv.id.clone(), cv.clone());
    Ok((201, json!({"customValue": cv})))
}

fn update_custom_value(call: &mut Call) -> Outcome {
    let (name, value) = (call.field("name"), call.field("value"));
    let cv = call.state.custom_values.get_mut(call.params.get("id"));
    let cv = cv.ok_or_else(|| not_found("Custom value"))?;
    if let Some(n) = name {
        cv.name = n;
    }
    if let Some(v) = value {
        cv.value = v;
    }
    let cv = cv.clone();
    say_custom_value(call, &cv);
    Ok((200, json!({"customValue": cv})))
}

fn say_custom_value(call: &Call, cv: &CustomValue) {
    call.say(format!(
        "GHL ← custom value \"{}\" = \"{}\"",
        cv.name, cv.value
    ));
}

fn contact_mut<'s>(state: &'s mut State, id: &str) -> Result<&'s mut GhlContact, Reply> {
    state
        .ghl_contacts
        .get_mut(id)
        .ok_or_else(|| not_found("Contact"))
}

/// A contact made of the body's fields, with a fresh id.
fn new_contact(call: &mut Call) -> GhlContact {
    let mut contact = GhlContact {
        location_id: call.inner.config.ghl_location_id.clone(),
        ..Default::default()
    };
    apply(&mut contact, &call.data);
    contact.date_added = contact.date_updated.clone();
    contact.id = call.state.ghl_id("ghl");
    contact
}

fn store(state: &mut State, contact: &GhlContact) {
    state
        .ghl_contacts
        .insert(contact.id.clone(), contact.clone());
}

/// `"name" (masked phone) → id`, for console lines.
fn described(contact: &GhlContact) -> String {
    format!(
        "\"{}\" ({}) → {}",
        contact.name.clone().unwrap_or_default(),
        contact.phone.as_deref().map(mask_phone).unwrap_or_default(),
        contact.id
    )
}

/// The contact the body's email or phone already belongs to, and which field matched.
fn match_in_body(call: &Call) -> Option<(String, &'static str)> {
    let (email, phone) = (call.field("email"), call.field("phone"));
    find_match(call.state, email.as_deref(), phone.as_deref())
}

fn normalize_phone(p: &str) -> String {
    p.chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}

/// The contact an email or phone already belongs to, and which field matched.
fn find_match(
    state: &State,
    email: Option<&str>,
    phone: Option<&str>,
) -> Option<(String, &'static str)> {
    if let Some(e) = email {
        if let Some(c) = state.ghl_contacts.values().find(|c| {
            c.email
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(e))
        }) {
            return Some((c.id.clone(), "email"));
        }
    }
    if let Some(p) = phone.map(normalize_phone).filter(|p| !p.is_empty()) {
        if let Some(c) = state
            .ghl_contacts
            .values()
            .find(|c| c.phone.as_deref().map(normalize_phone).as_deref() == Some(p.as_str()))
        {
            return Some((c.id.clone(), "phone"));
        }
    }
    None
}

/// Applies the fields a create, upsert or update sends (`assignedTo`, the owner, among them);
/// `tags` replace; `dnd` and `dndSettings` as [`GhlContact::set_dnd`] does. The contact's
/// `dateUpdated` moves.
fn apply(contact: &mut GhlContact, data: &Value) {
    let set = |slot: &mut Option<String>, key: &str| {
        if let Some(v) = data.get(key) {
            *slot = text(Some(v));
        }
    };
    set(&mut contact.first_name, "firstName");
    set(&mut contact.last_name, "lastName");
    set(&mut contact.name, "name");
    set(&mut contact.email, "email");
    set(&mut contact.phone, "phone");
    set(&mut contact.company_name, "companyName");
    set(&mut contact.source, "source");
    // The owner: a user's id; `null` (which only an update may send) clears it.
    set(&mut contact.assigned_to, "assignedTo");
    if contact.name.is_none() {
        let joined = [contact.first_name.clone(), contact.last_name.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        contact.name = (!joined.is_empty()).then_some(joined);
    }
    if data.get("tags").is_some_and(Value::is_array) {
        contact.tags = texts(data.get("tags"));
    }
    if let Some(Value::Array(fields)) = data.get("customFields") {
        for f in fields {
            apply_custom_field(contact, f);
        }
    }
    contact.set_dnd(DndChange {
        dnd: data.get("dnd").and_then(Value::as_bool),
        dnd_settings: data
            .get("dndSettings")
            .and_then(|s| serde_json::from_value(s.clone()).ok()),
    });
    contact.touch();
}

/// Sets one custom field, sent by `id` or `key`, replacing its value.
fn apply_custom_field(contact: &mut GhlContact, field: &Value) {
    let Some(id) = text(field.get("id")).or_else(|| text(field.get("key"))) else {
        return;
    };
    let value = field
        .get("field_value")
        .or_else(|| field.get("fieldValue"))
        .or_else(|| field.get("value"))
        .cloned()
        .unwrap_or(Value::Null);
    contact
        .custom_fields
        .retain(|c| c.get("id").and_then(Value::as_str) != Some(id.as_str()));
    contact
        .custom_fields
        .push(json!({"id": id, "value": value}));
}

fn check_stage(state: &State, pipeline_id: &str, stage: Option<&str>) -> Result<(), Reply> {
    let Some(pipeline) = state
        .pipelines
        .iter()
        .find(|p| p.get("id").and_then(Value::as_str) == Some(pipeline_id))
    else {
        return Err(not_found("Pipeline"));
    };
    if let Some(stage) = stage {
        let known = pipeline
            .get("stages")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter()
                    .any(|x| x.get("id").and_then(Value::as_str) == Some(stage))
            });
        if !known {
            return Err(not_found("Pipeline stage"));
        }
    }
    Ok(())
}
