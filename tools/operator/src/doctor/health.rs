//! The stack's health route, `GET <ApiUrl>/health`, as `bridge status` reads it; a `degraded`
//! answer names the dependencies that are not usable.

use serde_json::Value;

use super::check::{id, Check};
use crate::status::gather::health_with_body;

/// Where the local run serves the bridge (`cargo lambda watch`, `scripts/local.sh`).
pub const LOCAL_BRIDGE_URL: &str = "http://127.0.0.1:9000";

/// The dependencies a health answer says are not `ok`.
fn degraded(body: &Value) -> Vec<String> {
    body.get("checks")
        .and_then(Value::as_object)
        .map(|checks| {
            checks
                .iter()
                .filter(|(_, v)| v.as_str() != Some("ok"))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// `GET <api>/health`: `ok` when it answers 2xx with `"status": "ok"`, else `fail`.
pub async fn check(api: Option<String>, on_stack: bool) -> Check {
    let Some(api) = api else {
        return Check::fail(
            id::HEALTH,
            None,
            "no URL to ask: the stack has no ApiUrl output",
        )
        .fix("name it with --api-url (or BRIDGE_URL)");
    };
    let (health, body) = match health_with_body(&api).await {
        Ok(answer) => answer,
        Err(why) => {
            let url = format!("{}/health", api.trim_end_matches('/'));
            let fix = match on_stack {
                true => "check the stack's API (its ApiUrl output) and its health function's logs",
                false => "start the bridge (scripts/local.sh), or name where it runs with --api-url (or BRIDGE_URL)",
            };
            return Check::fail(id::HEALTH, None, format!("GET {url} failed: {why}")).fix(fix);
        }
    };
    let (url, http) = (&health.url, health.http_status);
    let status = health.status.as_deref().unwrap_or("no status");
    if (200..300).contains(&http) && status == "ok" {
        return Check::ok(id::HEALTH, None, format!("GET {url}: ok (HTTP {http})"));
    }
    let down = degraded(&body);
    let which = match down.is_empty() {
        true => String::new(),
        false => format!(", not usable: {}", down.join(", ")),
    };
    Check::fail(
        id::HEALTH,
        None,
        format!("GET {url}: {status} (HTTP {http}){which}"),
    )
    .fix("see the lines below for what is missing (the health function's logs name it too)")
}
