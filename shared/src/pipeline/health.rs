//! `GET /health`, `GET /api/ghl-webhooks/test`, `GET /api/cloudtalk-webhooks/test`: status of
//! the whole system or of one router. No auth, and coarse for anonymous callers: `ok` or
//! `degraded` per dependency. A caller presenting a valid webhook secret also sees which
//! settings are present (never their values), the backends and the routes; the logs always
//! say what is missing.

use lambda_http::{http::StatusCode, Body, Request, Response};
use serde_json::{json, Map, Value};

use super::answer::json_response;
use crate::deps::Deps;
use crate::registry::{self, HEALTH_FUNCTION as NAME};

fn word(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "degraded"
    }
}

/// Which router a health route reports on.
fn router_of(path: &str) -> &'static str {
    let path = path.trim_end_matches('/');
    if path.ends_with("/api/ghl-webhooks/test") {
        "ghl-webhooks"
    } else if path.ends_with("/api/cloudtalk-webhooks/test") {
        "cloudtalk-webhooks"
    } else {
        "system"
    }
}

/// The dependencies a router needs, each `true` when usable.
fn checks(deps: &Deps, router: &str, store: bool, state: bool) -> Vec<(&'static str, bool)> {
    let mut checks = vec![("contactMap", store), ("stateStore", state)];
    if router != "cloudtalk-webhooks" {
        checks.push(("cloudtalk", deps.cloudtalk_configured()));
    }
    if router != "ghl-webhooks" {
        checks.push(("gohighlevel", deps.ghl_configured()));
    }
    if router == "cloudtalk-webhooks" {
        let secret = !deps.secrets().cloudtalk_webhook_secrets.is_empty();
        checks.push(("webhookAuth", secret));
    }
    checks
}

/// What only a caller presenting a webhook secret sees: the settings present, the backends,
/// the routes.
fn details(deps: &Deps, router: &str, store: bool, state: bool) -> Map<String, Value> {
    let settings: Map<String, Value> = deps
        .settings_present()
        .into_iter()
        .map(|(name, present)| (name.to_string(), json!(present)))
        .collect();
    let endpoints: Vec<&str> = registry::routes()
        .iter()
        .filter(|e| match router {
            "ghl-webhooks" => e.route.starts_with("/api/ghl-webhooks/"),
            "cloudtalk-webhooks" => e.route.starts_with("/api/cloudtalk-webhooks/"),
            _ => true,
        })
        .map(|e| e.route)
        .collect();
    let mut details = Map::new();
    details.insert("settings".into(), json!(settings));
    details.insert(
        "contactMap".into(),
        json!({ "backend": deps.contacts.kind(), "reachable": store }),
    );
    details.insert(
        "stateStore".into(),
        json!({ "backend": deps.state.kind(), "reachable": state }),
    );
    details.insert("endpoints".into(), json!(endpoints));
    details
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    deps.secrets.refresh_if_due().await;
    if req.method() != lambda_http::http::Method::GET
        && req.method() != lambda_http::http::Method::HEAD
    {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"error": "method_not_allowed", "message": "use GET"}),
        );
    }
    let router = router_of(req.uri().path());
    let (store, state) = tokio::join!(deps.contacts.ping(), deps.state.ping());
    for (which, result) in [("contact map", &store), ("state store", &state)] {
        if let Err(e) = result {
            tracing::error!(endpoint = NAME, error = "store_unavailable", store = which, detail = %e, "health");
        }
    }
    let (store, state) = (store.is_ok(), state.is_ok());
    let checks = checks(deps, router, store, state);
    let healthy = checks.iter().all(|(_, ok)| *ok);
    let missing: Vec<&str> = deps
        .settings_present()
        .into_iter()
        .filter(|(_, present)| !present)
        .map(|(name, _)| name)
        .collect();
    tracing::info!(
        endpoint = NAME,
        router,
        status = word(healthy),
        degraded = ?checks.iter().filter(|(_, ok)| !ok).map(|(n, _)| *n).collect::<Vec<_>>(),
        settings_missing = ?missing,
        "health"
    );
    let mut body = json!({
        "status": word(healthy),
        "router": router,
        "version": env!("CARGO_PKG_VERSION"),
        "checks": checks.iter().map(|(name, ok)| (name.to_string(), json!(word(*ok)))).collect::<Map<String, Value>>(),
    });
    if super::auth::presents_a_webhook_secret(deps, &req) {
        for (k, v) in details(deps, router, store, state) {
            body[k] = v;
        }
    }
    let status = match healthy {
        true => StatusCode::OK,
        false => StatusCode::SERVICE_UNAVAILABLE,
    };
    json_response(status, &body)
}
