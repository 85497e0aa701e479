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
    let path = req.uri().path().trim_end_matches('/');
    let router = if path.ends_with("/api/ghl-webhooks/test") {
        "ghl-webhooks"
    } else if path.ends_with("/api/cloudtalk-webhooks/test") {
        "cloudtalk-webhooks"
    } else {
        "system"
    };
    let (store, state) = tokio::join!(deps.contacts.ping(), deps.state.ping());
    for (which, result) in [("contact map", &store), ("state store", &state)] {
        if let Err(e) = result {
            tracing::error!(endpoint = NAME, error = "store_unavailable", store = which, detail = %e, "health");
        }
    }
    let secrets = deps.secrets();
    let mut checks: Vec<(&str, bool)> =
        vec![("contactMap", store.is_ok()), ("stateStore", state.is_ok())];
    if router != "cloudtalk-webhooks" {
        checks.push(("cloudtalk", deps.cloudtalk_configured()));
    }
    if router != "ghl-webhooks" {
        checks.push(("gohighlevel", deps.ghl_configured()));
    }
    if router == "cloudtalk-webhooks" {
        checks.push(("webhookAuth", !secrets.cloudtalk_webhook_secrets.is_empty()));
    }
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
        body["settings"] = json!(settings);
        body["contactMap"] = json!({ "backend": deps.contacts.kind(), "reachable": store.is_ok() });
        body["stateStore"] = json!({ "backend": deps.state.kind(), "reachable": state.is_ok() });
        body["endpoints"] = json!(endpoints);
    }
    json_response(
        if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        &body,
    )
}
