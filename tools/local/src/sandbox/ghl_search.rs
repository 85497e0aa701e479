//! GoHighLevel's contact search, `POST /contacts/search`, as far as the bridge uses it: a
//! location's contacts sorted by `dateUpdated` (then id), optionally within a `dateUpdated`
//! range, paged with `searchAfter`.
//!
//! ```json
//! {"locationId": "…", "pageLimit": 100,
//!  "sort": [{"field": "dateUpdated", "direction": "asc"}],
//!  "filters": [{"field": "dateUpdated", "operator": "range", "value": {"gte": 1764000000000}}],
//!  "searchAfter": [1764000000000, "ghl-000042"]}
//! ```
//! Range bounds are epoch milliseconds or ISO 8601 strings. Each contact comes back as
//! `GET /contacts/{id}` shows it plus its own `searchAfter` (`[dateUpdated ms, id]`): the cursor
//! of the page after it. A bare `gt`/`gte` operator, other filters and other sorts are refused
//! (422), as GHL refuses what it does not support.

use serde_json::{json, Value};

use super::api::{Call, Outcome, Reply};
use super::ghl_common::{contact_json, require_fields, unprocessable};
use super::state::GhlContact;

/// GHL's page size when `pageLimit` is absent.
const DEFAULT_PAGE_LIMIT: usize = 20;
/// The most GHL returns a page.
const MAX_PAGE_LIMIT: usize = 500;

/// Where a contact sorts: `(dateUpdated ms, id)`.
type SortKey = (i64, String);

/// What a search asks for.
#[derive(Debug, Default, PartialEq)]
struct Search {
    updated_from: Option<i64>,
    updated_to: Option<i64>,
    after: Option<SortKey>,
    limit: usize,
}

pub(crate) fn search_contacts(call: &mut Call) -> Outcome {
    require_fields(call, &["locationId"])?;
    let location = call.field("locationId").unwrap_or_default();
    let search = read_search(&call.data)?;
    let mut found: Vec<(SortKey, &GhlContact)> = call
        .state
        .ghl_contacts
        .values()
        .filter(|c| c.location_id == location)
        .map(|c| ((c.updated_ms(), c.id.clone()), c))
        .filter(|((ms, _), _)| search.updated_from.is_none_or(|from| *ms >= from))
        .filter(|((ms, _), _)| search.updated_to.is_none_or(|to| *ms <= to))
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let total = found.len();
    let page: Vec<Value> = found
        .into_iter()
        .filter(|(key, _)| search.after.as_ref().is_none_or(|after| key > after))
        .take(search.limit)
        .map(|((ms, id), contact)| {
            let mut row = contact_json(contact);
            row["searchAfter"] = json!([ms, id]);
            row
        })
        .collect();
    Ok((200, json!({"contacts": page, "total": total})))
}

fn read_search(body: &Value) -> Result<Search, Reply> {
    check_sort(body.get("sort"))?;
    let (updated_from, updated_to) = read_filters(body.get("filters"))?;
    let after = match body.get("searchAfter") {
        None | Some(Value::Null) => None,
        Some(cursor) => Some(read_cursor(cursor)?),
    };
    let limit = match body.get("pageLimit") {
        None | Some(Value::Null) => DEFAULT_PAGE_LIMIT,
        Some(n) => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| unprocessable(&["pageLimit must be a positive number"]))?,
    };
    Ok(Search {
        updated_from,
        updated_to,
        after,
        limit: limit.min(MAX_PAGE_LIMIT),
    })
}

/// Only `dateUpdated` ascending (the default) is supported.
fn check_sort(sort: Option<&Value>) -> Result<(), Reply> {
    let sorts = match sort {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(sorts)) => sorts,
        Some(_) => return Err(unprocessable(&["sort must be an array"])),
    };
    let supported = |s: &Value| {
        s.get("field").and_then(Value::as_str) == Some("dateUpdated")
            && s.get("direction")
                .and_then(Value::as_str)
                .is_none_or(|d| d.eq_ignore_ascii_case("asc"))
    };
    match sorts.iter().all(supported) {
        true => Ok(()),
        false => Err(unprocessable(&[
            "the sandbox sorts by dateUpdated ascending only",
        ])),
    }
}

/// The `dateUpdated` range of the filters: `(gte, lte)`.
fn read_filters(filters: Option<&Value>) -> Result<(Option<i64>, Option<i64>), Reply> {
    let filters = match filters {
        None | Some(Value::Null) => return Ok((None, None)),
        Some(Value::Array(filters)) => filters,
        Some(_) => return Err(unprocessable(&["filters must be an array"])),
    };
    let (mut from, mut to) = (None, None);
    for filter in filters {
        let field = filter.get("field").and_then(Value::as_str);
        let operator = filter.get("operator").and_then(Value::as_str);
        if field != Some("dateUpdated") || operator != Some("range") {
            let message = "only a dateUpdated filter with the range operator is supported";
            return Err(unprocessable(&[message]));
        }
        let value = filter.get("value").unwrap_or(&Value::Null);
        from = bound(value.get("gte"))?.or(from);
        to = bound(value.get("lte"))?.or(to);
    }
    Ok((from, to))
}

/// A range bound: epoch milliseconds (a number or digits) or an ISO 8601 string.
fn bound(value: Option<&Value>) -> Result<Option<i64>, Reply> {
    let invalid = || unprocessable(&["dateUpdated range values must be dates"]);
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(invalid),
        Some(Value::String(s)) => parse_time(s).map(Some).ok_or_else(invalid),
        Some(_) => Err(invalid()),
    }
}

fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Some(ms);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// `[dateUpdated ms, id]`, as a contact's `searchAfter` gives it.
fn read_cursor(cursor: &Value) -> Result<SortKey, Reply> {
    let invalid = || unprocessable(&["searchAfter must be a contact's searchAfter value"]);
    let parts = cursor
        .as_array()
        .filter(|p| p.len() == 2)
        .ok_or_else(invalid)?;
    let ms = match &parts[0] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => parse_time(s),
        _ => None,
    };
    let id = parts[1].as_str().map(str::to_string);
    ms.zip(id).ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_reads_its_range_cursor_and_limit() {
        let body = json!({"locationId": "l", "pageLimit": 9000,
            "filters": [{"field": "dateUpdated", "operator": "range",
                "value": {"gte": "2026-12-01T00:00:00.000Z", "lte": 1_796_169_600_000_i64}}],
            "searchAfter": [1_796_083_200_500_i64, "ghl-000002"]});
        let search = read_search(&body).unwrap();
        assert_eq!(
            search,
            Search {
                updated_from: Some(1_796_083_200_000),
                updated_to: Some(1_796_169_600_000),
                after: Some((1_796_083_200_500, "ghl-000002".into())),
                limit: MAX_PAGE_LIMIT,
            }
        );
        assert_eq!(read_search(&json!({})).unwrap().limit, DEFAULT_PAGE_LIMIT);
    }

    #[test]
    fn what_ghl_refuses_is_refused() {
        let refused = |body: Value| read_search(&body).unwrap_err().0;
        let bare = json!({"filters": [{"field": "dateUpdated", "operator": "gte", "value": 1}]});
        assert_eq!(refused(bare), 422);
        let desc = json!({"sort": [{"field": "dateUpdated", "direction": "desc"}]});
        assert_eq!(refused(desc), 422);
        assert_eq!(refused(json!({"searchAfter": ["x", "y"]})), 422);
        assert_eq!(refused(json!({"pageLimit": 0})), 422);
        let not_a_date = json!({"filters": [{"field": "dateUpdated", "operator": "range", "value": {"gte": "soon"}}]});
        assert_eq!(refused(not_a_date), 422);
    }
}
