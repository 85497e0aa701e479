//! What GoHighLevel's operations share: its NestJS error bodies (400 `… not found`, 422 with
//! one message a line), the required-field checks, and a contact as GHL answers it.

use serde::Serialize;
use serde_json::{json, Value};

use super::api::{Call, Reply};
use super::state::GhlContact;

/// GHL's error body.
pub(crate) fn error(status: u16, message: Value, error: &str) -> Reply {
    (
        status,
        json!({"statusCode": status, "message": message, "error": error}),
    )
}

pub(crate) fn too_many_requests() -> Reply {
    error(429, json!("Too many requests"), "Too Many Requests")
}

/// 400 `<what> not found`.
pub(crate) fn not_found(what: &str) -> Reply {
    error(400, json!(format!("{what} not found")), "Bad Request")
}

/// 422 with one message per line.
pub(crate) fn unprocessable<S: Serialize>(messages: &[S]) -> Reply {
    error(422, json!(messages), "Unprocessable Entity")
}

/// 422 naming each of `keys` that is missing or empty.
fn require(keys: &[&str], present: impl Fn(&str) -> bool) -> Result<(), Reply> {
    let missing: Vec<String> = keys
        .iter()
        .filter(|k| !present(k))
        .map(|k| format!("{k} should not be empty"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(unprocessable(&missing))
}

pub(crate) fn require_fields(call: &Call, keys: &[&str]) -> Result<(), Reply> {
    require(keys, |k| call.field(k).is_some())
}

pub(crate) fn require_query(call: &Call, key: &str) -> Result<(), Reply> {
    require(&[key], |k| call.req.query(k).is_some())
}

/// A contact as GHL answers it: the fields it has; one that is unset (`null` here) is left out,
/// as the real API leaves it out (the spec types them as strings).
pub(crate) fn contact_json(c: &GhlContact) -> Value {
    let mut contact = json!(c);
    if let Some(fields) = contact.as_object_mut() {
        fields.retain(|_, v| !v.is_null());
    }
    contact
}
