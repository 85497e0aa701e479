//! The GoHighLevel API simulator, under `/ghl`.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use bridge::telemetry::mask_phone;
use serde_json::{json, Value};

use super::state::{now, CustomValue, GhlContact, GhlNote, Opportunity, State};
use super::{answer, Fault, Incoming, Sandbox};

/// GHL's burst limit: requests per 10 seconds per location.
const BURST_MAX: usize = 100;

fn error(status: u16, message: Value, error: &str) -> (u16, Value) {
    (
        status,
        json!({"statusCode": status, "message": message, "error": error}),
    )
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
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

/// Applies the fields a create, upsert or update sends; `tags` replace.
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
    if contact.name.is_none() {
        let joined = [contact.first_name.clone(), contact.last_name.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        contact.name = (!joined.is_empty()).then_some(joined);
    }
    if let Some(Value::Array(tags)) = data.get("tags") {
        contact.tags = tags.iter().filter_map(|t| text(Some(t))).collect();
    }
    if let Some(Value::Array(fields)) = data.get("customFields") {
        for f in fields {
            let Some(id) = text(f.get("id")).or_else(|| text(f.get("key"))) else {
                continue;
            };
            let value = f
                .get("field_value")
                .or_else(|| f.get("fieldValue"))
                .or_else(|| f.get("value"))
                .cloned()
                .unwrap_or(Value::Null);
            contact
                .custom_fields
                .retain(|c| c.get("id").and_then(Value::as_str) != Some(id.as_str()));
            contact
                .custom_fields
                .push(json!({"id": id, "value": value}));
        }
    }
}

fn contact_json(c: &GhlContact) -> Value {
    json!(c)
}

fn route(sandbox: &Sandbox, req: &Incoming) -> (u16, Value) {
    let inner = &sandbox.inner;
    let Ok(mut state) = inner.state.lock() else {
        return error(500, json!("Internal server error"), "Internal Server Error");
    };
    let location = inner.config.ghl_location_id.clone();
    let body = req.json();
    if matches!(req.method, Method::POST | Method::PUT) && body.is_none() {
        return error(400, json!("Unexpected token in JSON"), "Bad Request");
    }
    let data = body.unwrap_or(Value::Null);
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (&req.method, segments.as_slice()) {
        (&Method::GET, ["contacts", "search", "duplicate"]) => {
            if req.query("locationId").is_none() {
                return error(
                    422,
                    json!(["locationId should not be empty"]),
                    "Unprocessable Entity",
                );
            }
            let found = find_match(&state, req.query("email"), req.query("number"))
                .and_then(|(id, _)| state.ghl_contacts.get(&id).map(contact_json));
            (200, json!({"contact": found}))
        }
        (&Method::POST, ["contacts"]) => {
            if text(data.get("locationId")).is_none() {
                return error(
                    422,
                    json!(["locationId should not be empty"]),
                    "Unprocessable Entity",
                );
            }
            let email = text(data.get("email"));
            let phone = text(data.get("phone"));
            if let Some((id, field)) = find_match(&state, email.as_deref(), phone.as_deref()) {
                let name = state.ghl_contacts.get(&id).and_then(|c| c.name.clone());
                return (
                    400,
                    json!({"statusCode": 400, "message": "This location does not allow duplicated contacts.",
                    "meta": {"contactId": id, "contactName": name, "matchingField": field}}),
                );
            }
            let mut contact = GhlContact {
                location_id: location,
                date_added: now(),
                ..Default::default()
            };
            apply(&mut contact, &data);
            contact.id = state.ghl_id("ghl");
            inner.say(format!(
                "GHL ← create contact \"{}\" ({}) → {}",
                contact.name.clone().unwrap_or_default(),
                contact.phone.as_deref().map(mask_phone).unwrap_or_default(),
                contact.id
            ));
            state
                .ghl_contacts
                .insert(contact.id.clone(), contact.clone());
            (201, json!({"contact": contact_json(&contact)}))
        }
        (&Method::POST, ["contacts", "upsert"]) => {
            if text(data.get("locationId")).is_none() {
                return error(
                    422,
                    json!(["locationId should not be empty"]),
                    "Unprocessable Entity",
                );
            }
            let email = text(data.get("email"));
            let phone = text(data.get("phone"));
            let (contact, new) = match find_match(&state, email.as_deref(), phone.as_deref())
                .and_then(|(id, _)| state.ghl_contacts.get(&id).cloned())
            {
                Some(mut existing) => {
                    apply(&mut existing, &data);
                    (existing, false)
                }
                None => {
                    let mut c = GhlContact {
                        location_id: location,
                        date_added: now(),
                        ..Default::default()
                    };
                    apply(&mut c, &data);
                    c.id = state.ghl_id("ghl");
                    (c, true)
                }
            };
            inner.say(format!(
                "GHL ← upsert contact \"{}\" ({}) → {} ({})",
                contact.name.clone().unwrap_or_default(),
                contact.phone.as_deref().map(mask_phone).unwrap_or_default(),
                contact.id,
                if new { "new" } else { "existing" }
            ));
            state
                .ghl_contacts
                .insert(contact.id.clone(), contact.clone());
            (
                200,
                json!({"new": new, "contact": contact_json(&contact), "traceId": format!("trace-{}", state.ghl_requests)}),
            )
        }
        (&Method::GET, ["contacts", id]) => match state.ghl_contacts.get(*id) {
            Some(c) => (200, json!({"contact": contact_json(c)})),
            None => error(400, json!("Contact not found"), "Bad Request"),
        },
        (&Method::PUT, ["contacts", id]) => {
            if data.get("locationId").is_some() {
                return error(
                    422,
                    json!(["property locationId should not exist"]),
                    "Unprocessable Entity",
                );
            }
            match state.ghl_contacts.get_mut(*id) {
                Some(c) => {
                    apply(c, &data);
                    let c = c.clone();
                    inner.say(format!("GHL ← update contact {}", c.id));
                    (200, json!({"succeded": true, "contact": contact_json(&c)}))
                }
                None => error(400, json!("Contact not found"), "Bad Request"),
            }
        }
        (&Method::POST, ["contacts", id, "notes"]) => {
            if !state.ghl_contacts.contains_key(*id) {
                return error(400, json!("Contact not found"), "Bad Request");
            }
            let Some(text_body) = text(data.get("body")) else {
                return error(
                    422,
                    json!(["body should not be empty", "body must be a string"]),
                    "Unprocessable Entity",
                );
            };
            let note = GhlNote {
                id: state.ghl_id("note"),
                contact_id: id.to_string(),
                body: text_body,
                user_id: text(data.get("userId")),
                date_added: now(),
            };
            inner.say(format!(
                "GHL ← note on {id}: {}",
                note.body.chars().take(80).collect::<String>()
            ));
            state.ghl_notes.push(note.clone());
            (201, json!({"note": note}))
        }
        (method @ (&Method::POST | &Method::DELETE), ["contacts", id, "tags"]) => {
            let tags: Vec<String> = data
                .get("tags")
                .and_then(Value::as_array)
                .map(|t| t.iter().filter_map(|v| text(Some(v))).collect())
                .unwrap_or_default();
            match state.ghl_contacts.get_mut(*id) {
                Some(c) => {
                    if method == Method::POST {
                        for t in &tags {
                            if !c.tags.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                                c.tags.push(t.clone());
                            }
                        }
                        inner.say(format!("GHL ← add tags {tags:?} to {id}"));
                    } else {
                        c.tags
                            .retain(|x| !tags.iter().any(|t| t.eq_ignore_ascii_case(x)));
                    }
                    (
                        if method == Method::POST { 201 } else { 200 },
                        json!({"tags": c.tags}),
                    )
                }
                None => error(400, json!("Contact not found"), "Bad Request"),
            }
        }
        (&Method::GET, ["opportunities", "search"]) => {
            if req.query("location_id").is_none() {
                return error(
                    422,
                    json!(["location_id should not be empty"]),
                    "Unprocessable Entity",
                );
            }
            let rows: Vec<&Opportunity> = state
                .opportunities
                .values()
                .filter(|o| req.query("contact_id").is_none_or(|c| o.contact_id == c))
                .filter(|o| req.query("pipeline_id").is_none_or(|p| o.pipeline_id == p))
                .collect();
            (
                200,
                json!({"opportunities": rows, "meta": {"total": rows.len()}}),
            )
        }
        (&Method::GET, ["opportunities", "pipelines"]) => {
            (200, json!({"pipelines": state.pipelines}))
        }
        (&Method::POST, ["opportunities"]) => {
            let missing: Vec<&str> = ["pipelineId", "locationId", "name", "status", "contactId"]
                .into_iter()
                .filter(|k| text(data.get(*k)).is_none())
                .collect();
            if !missing.is_empty() {
                return error(
                    422,
                    json!(missing
                        .iter()
                        .map(|k| format!("{k} should not be empty"))
                        .collect::<Vec<_>>()),
                    "Unprocessable Entity",
                );
            }
            let pipeline_id = text(data.get("pipelineId")).unwrap_or_default();
            let stage = text(data.get("pipelineStageId"));
            if let Err(e) = check_stage(&state, &pipeline_id, stage.as_deref()) {
                return e;
            }
            let opp = Opportunity {
                id: state.ghl_id("opp"),
                name: text(data.get("name")).unwrap_or_default(),
                pipeline_id,
                pipeline_stage_id: stage,
                status: text(data.get("status")).unwrap_or_else(|| "open".into()),
                contact_id: text(data.get("contactId")).unwrap_or_default(),
                location_id: location,
            };
            inner.say(format!(
                "GHL ← create opportunity \"{}\" at stage {}",
                opp.name,
                opp.pipeline_stage_id.clone().unwrap_or_default()
            ));
            state.opportunities.insert(opp.id.clone(), opp.clone());
            (201, json!({"opportunity": opp}))
        }
        (&Method::PUT, ["opportunities", id]) => {
            let Some(mut opp) = state.opportunities.get(*id).cloned() else {
                return error(400, json!("Opportunity not found"), "Bad Request");
            };
            let pipeline_id = text(data.get("pipelineId")).unwrap_or(opp.pipeline_id.clone());
            let stage = text(data.get("pipelineStageId")).or(opp.pipeline_stage_id.clone());
            if let Err(e) = check_stage(&state, &pipeline_id, stage.as_deref()) {
                return e;
            }
            opp.pipeline_id = pipeline_id;
            opp.pipeline_stage_id = stage;
            if let Some(s) = text(data.get("status")) {
                opp.status = s;
            }
            inner.say(format!(
                "GHL ← move opportunity {id} to stage {}",
                opp.pipeline_stage_id.clone().unwrap_or_default()
            ));
            state.opportunities.insert(opp.id.clone(), opp.clone());
            (200, json!({"opportunity": opp}))
        }
        (&Method::GET, ["locations", _, "customValues"]) => (
            200,
            json!({"customValues": state.custom_values.values().collect::<Vec<_>>()}),
        ),
        (&Method::POST, ["locations", _, "customValues"]) => {
            let (Some(name), Some(value)) = (text(data.get("name")), text(data.get("value")))
            else {
                return error(
                    422,
                    json!(["name should not be empty", "value should not be empty"]),
                    "Unprocessable Entity",
                );
            };
            let key: String = name
                .to_lowercase()
                .chars()
                .map(|c| if c.is_alphanumeric() { c } else { '_' })
                .collect();
            let cv = CustomValue {
                id: state.ghl_id("cv"),
                field_key: format!("{{{{ custom_values.{key} }}}}"),
                name,
                value,
            };
            inner.say(format!(
                "GHL ← custom value \"{}\" = \"{}\"",
                cv.name, cv.value
            ));
            state.custom_values.insert(cv.id.clone(), cv.clone());
            (201, json!({"customValue": cv}))
        }
        (&Method::PUT, ["locations", _, "customValues", id]) => {
            match state.custom_values.get_mut(*id) {
                Some(cv) => {
                    if let Some(n) = text(data.get("name")) {
                        cv.name = n;
                    }
                    if let Some(v) = text(data.get("value")) {
                        cv.value = v;
                    }
                    let cv = cv.clone();
                    inner.say(format!(
                        "GHL ← custom value \"{}\" = \"{}\"",
                        cv.name, cv.value
                    ));
                    (200, json!({"customValue": cv}))
                }
                None => error(400, json!("Custom value not found"), "Bad Request"),
            }
        }
        _ => error(
            404,
            json!(format!("Cannot {} {}", req.method, req.path)),
            "Not Found",
        ),
    }
}

fn check_stage(state: &State, pipeline_id: &str, stage: Option<&str>) -> Result<(), (u16, Value)> {
    let Some(pipeline) = state
        .pipelines
        .iter()
        .find(|p| p.get("id").and_then(Value::as_str) == Some(pipeline_id))
    else {
        return Err(error(400, json!("Pipeline not found"), "Bad Request"));
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
            return Err(error(400, json!("Pipeline stage not found"), "Bad Request"));
        }
    }
    Ok(())
}

pub(crate) async fn handle(
    AxumState(sandbox): AxumState<Sandbox>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = Incoming::new(method, uri, headers, body, "/ghl");
    let inner = &sandbox.inner;
    let (status, value, remaining, interval) = match inner.fault().await {
        Fault::ServerError => {
            let (s, v) = error(500, json!("Internal server error"), "Internal Server Error");
            (s, v, 50, 10_000)
        }
        Fault::RateLimited => {
            let (s, v) = error(429, json!("Too many requests"), "Too Many Requests");
            (s, v, 0, 1_000)
        }
        Fault::None => {
            let token_ok = req
                .header("authorization")
                .and_then(|h| h.strip_prefix("Bearer "))
                .map(str::trim)
                == Some(inner.config.ghl_token.as_str());
            if !token_ok {
                let (s, v) = error(
                    401,
                    json!("Invalid token: access token is invalid"),
                    "Unauthorized",
                );
                (s, v, 100, 10_000)
            } else if req.header("version").is_none_or(|v| v.trim().is_empty()) {
                let (s, v) = error(400, json!("version header was not found"), "Bad Request");
                (s, v, 100, 10_000)
            } else {
                let used = inner
                    .state
                    .lock()
                    .map(|mut s| {
                        let cutoff = Instant::now() - Duration::from_secs(10);
                        while s.ghl_window.front().is_some_and(|t| *t < cutoff) {
                            s.ghl_window.pop_front();
                        }
                        s.ghl_window.push_back(Instant::now());
                        s.ghl_window.len()
                    })
                    .unwrap_or(0);
                if used > BURST_MAX {
                    let (s, v) = error(429, json!("Too many requests"), "Too Many Requests");
                    (s, v, 0, 10_000)
                } else {
                    let (s, v) = route(&sandbox, &req);
                    (s, v, BURST_MAX - used, 10_000)
                }
            }
        }
    };
    inner.log_request("ghl", &req.method, &req.path, status);
    answer(
        status,
        value,
        vec![
            ("x-ratelimit-limit-daily", "200000".to_string()),
            ("x-ratelimit-daily-remaining", "199000".to_string()),
            ("x-ratelimit-interval-milliseconds", interval.to_string()),
            ("x-ratelimit-max", BURST_MAX.to_string()),
            ("x-ratelimit-remaining", remaining.to_string()),
        ],
    )
}
