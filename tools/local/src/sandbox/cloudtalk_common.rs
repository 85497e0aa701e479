//! What CloudTalk's APIs (the API and the Conversation Intelligence API) share: the API key's
//! Basic auth, the company's rate limit and its `X-CloudTalkAPI-*` headers, and the API's
//! answers (its `responseData` envelope, errors, 406 by field, the list envelope with counts
//! as strings).

use base64::Engine;
use serde_json::{json, Map, Value};

use super::api::{Call, Headers, Incoming, Reply};
use super::base::Inner;

/// CloudTalk's limit: requests per minute per company.
const LIMIT_PER_MINUTE: usize = 60;

/// Rows a page when the request says nothing (the spec documents no default; its examples
/// page by 30).
const DEFAULT_LIMIT: usize = 30;
/// The spec's maximum `limit`.
const MAX_LIMIT: usize = 1000;

/// The start of the minute after the request's.
pub(crate) fn next_minute(req: &Incoming) -> i64 {
    (req.received / 60 + 1) * 60
}

/// Counts a request that costs `cost` requests against the company's limit (one for all its
/// APIs, the AI API too) in the request's minute; whether it is over, when the limit is
/// enforced. A request refused for being over counts as one, whatever it would have cost.
/// The limit is counted per clock minute, as CloudTalk's `X-CloudTalkAPI-ResetTime` (the
/// minute's end) says it is.
pub(crate) fn over_limit(inner: &Inner, req: &Incoming, cost: u32) -> bool {
    let minute = req.received.div_euclid(60);
    inner.config.enforce_cloudtalk_limit
        && inner
            .state
            .lock()
            .is_ok_and(|mut s| !s.ct_window.admit(minute, cost, LIMIT_PER_MINUTE))
}

/// CloudTalk's `X-CloudTalkAPI-*` headers: `Remaining` is the limit less what the minute
/// ending at `reset_at` counted (a bulk request as
/// [`super::config::SandboxConfig::bulk_request_cost`] requests), so the drop across a request
/// is what it cost; 0 on a 429. Without the limit enforced nothing is counted and `Remaining`
/// stays at the limit.
pub(crate) fn limit_headers(inner: &Inner, status: u16, reset_at: i64) -> Headers {
    let minute = (reset_at - 1).div_euclid(60);
    let remaining = inner
        .state
        .lock()
        .map(|s| LIMIT_PER_MINUTE.saturating_sub(s.ct_window.count(minute)))
        .unwrap_or(LIMIT_PER_MINUTE);
    let remaining = if status == 429 { 0 } else { remaining };
    vec![
        ("x-cloudtalkapi-limit", LIMIT_PER_MINUTE.to_string()),
        ("x-cloudtalkapi-remaining", remaining.to_string()),
        ("x-cloudtalkapi-resettime", reset_at.to_string()),
    ]
}

/// Basic auth with the configured API key.
pub(crate) fn authorized(inner: &Inner, req: &Incoming) -> bool {
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
    presented.as_deref() == Some(expected.as_bytes())
}

pub(crate) fn envelope(status: u16, message: &str) -> Value {
    json!({"responseData": {"status": status, "message": message}})
}

pub(crate) fn too_many_requests() -> Reply {
    (429, envelope(429, "Too Many Requests"))
}

pub(crate) fn not_found() -> Reply {
    (404, envelope(404, "Not found."))
}

/// 406 with messages by field.
pub(crate) fn invalid(errors: Map<String, Value>) -> Reply {
    (
        406,
        json!({"responseData": {"status": 406, "message": "Invalid input data.", "data": errors}}),
    )
}

/// 406 with one message for one field.
pub(crate) fn invalid_field(field: &str, message: &str) -> Reply {
    let mut errors = Map::new();
    errors.insert(field.into(), json!([message]));
    invalid(errors)
}

pub(crate) fn done() -> Reply {
    (200, json!({"responseData": {"status": 200}}))
}

pub(crate) fn valid_number(n: &str) -> bool {
    n.starts_with('+')
        && (8..=15).contains(&(n.len() - 1))
        && n[1..].chars().all(|c| c.is_ascii_digit())
}

/// `page` (from 1) and `limit` (1..=1000).
pub(crate) fn paging(call: &Call) -> (usize, usize) {
    let number = |name: &str| call.req.query(name).and_then(|v| v.parse::<usize>().ok());
    let limit = number("limit").unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    (number("page").unwrap_or(1).max(1), limit)
}

/// One page of `rows` in CloudTalk's list envelope, counts as strings.
pub(crate) fn list_envelope(rows: Vec<Value>, page: usize, limit: usize) -> Value {
    let count = rows.len();
    let data: Vec<Value> = rows
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect();
    json!({"responseData": {
        "itemsCount": count.to_string(),
        "pageCount": count.div_ceil(limit).max(1).to_string(),
        "pageNumber": page.to_string(),
        "limit": limit.to_string(),
        "data": data,
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_pages_and_counts_as_strings() {
        let rows: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let page = list_envelope(rows, 2, 2);
        assert_eq!(
            page["responseData"],
            json!({"itemsCount": "5", "pageCount": "3", "pageNumber": "2", "limit": "2", "data": [2, 3]})
        );
    }
}
