//! CloudTalk's blacklist: `GET /blacklist/index.json`, `PUT /blacklist/add.json`,
//! `DELETE /blacklist/delete/{id}.json`.
//!
//! As CloudTalk documents them: the list pages by `limit` and `page` in the list envelope
//! (counts as strings), each row `{"Blacklist": {"id", "type", "public_number", "created",
//! "modified"}}` with the id as a string, filtered by `id`, `type` (exactly: `outgoing` does not
//! list `all`), `public_number` (compared by digits, so `+393501234567` and `393501234567`
//! are the same number) and `country_code` (the calling code the number starts with). An
//! addition takes `{"type": "all|incoming|outgoing", "public_number": "+E164"}` and answers
//! 201 `{"responseData": {"status": 201, "data": {"id": "…"}}}`; a number that is not E.164 is
//! 406 "Invalid input data." with a message for `public_number` (a missing field or an
//! unknown type is refused by the contract check before the handler). Adding a number already
//! there adds another entry (CloudTalk documents no refusal). A deletion answers 200
//! `{"responseData": {"status": 200}}`, or 404 "Not found." for an id the blacklist does not
//! hold.
//!
//! The entries are `cloudtalk.blacklist` of `GET /sandbox/state` and can be seeded
//! (`POST /sandbox/seed` with `"blacklist": [{"public_number", "type"}]`).

use bridge::telemetry::mask_phone;
use serde_json::{json, Value};

use super::api::{Call, Outcome};
use super::cloudtalk_common::{
    done, invalid_field, list_envelope, not_found, paging, valid_number,
};
use super::state::{BlacklistEntry, BlacklistType};

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// `GET /blacklist/index.json`: see the module's documentation.
pub(crate) fn list(call: &mut Call) -> Outcome {
    let query = |name| call.req.query(name);
    let id = query("id");
    let kind: Option<BlacklistType> =
        query("type").and_then(|t| serde_json::from_value(json!(t)).ok());
    let number = query("public_number").map(digits);
    let country = query("country_code").map(digits);
    let rows = call
        .state
        .ct_blacklist
        .iter()
        .filter(|e| id.is_none_or(|id| e.id == id))
        .filter(|e| kind.is_none_or(|k| e.kind == k))
        .filter(|e| {
            number
                .as_deref()
                .is_none_or(|n| digits(&e.public_number) == n)
        })
        .filter(|e| {
            let held = digits(&e.public_number);
            country.as_deref().is_none_or(|c| held.starts_with(c))
        })
        .map(row)
        .collect();
    let (page, limit) = paging(call);
    Ok((200, list_envelope(rows, page, limit)))
}

fn row(entry: &BlacklistEntry) -> Value {
    json!({ "Blacklist": entry })
}

/// `PUT /blacklist/add.json`: see the module's documentation.
pub(crate) fn add(call: &mut Call) -> Outcome {
    let kind = call.data.get("type").cloned().unwrap_or(Value::Null);
    let kind: BlacklistType = serde_json::from_value(kind).map_err(|_| {
        invalid_field(
            "type",
            "This field is required and must be all, incoming or outgoing.",
        )
    })?;
    let number = call
        .field("public_number")
        .ok_or_else(|| invalid_field("public_number", "This field is required."))?;
    if !valid_number(&number) {
        let message = format!("Please supply only valid numbers. Number {number} is not valid.");
        return Err(invalid_field("public_number", &message));
    }
    let id = call.state.blacklist_number(&number, kind);
    call.say(format!(
        "CloudTalk ← blacklist {} for {} calls, id {id}",
        mask_phone(&number),
        kind.as_str()
    ));
    Ok((
        201,
        json!({"responseData": {"status": 201, "data": {"id": id}}}),
    ))
}

/// `DELETE /blacklist/delete/{id}.json`: see the module's documentation.
pub(crate) fn delete(call: &mut Call) -> Outcome {
    let tail = call.param("id");
    let id = tail.strip_suffix(".json").unwrap_or_default();
    let blacklist = &mut call.state.ct_blacklist;
    let at = blacklist.iter().position(|e| e.id == id);
    let removed = blacklist.remove(at.ok_or_else(not_found)?);
    call.say(format!(
        "CloudTalk ← blacklist entry {id} removed ({})",
        mask_phone(&removed.public_number)
    ));
    Ok(done())
}
