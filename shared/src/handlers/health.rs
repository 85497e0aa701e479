//! `GET /health`, `GET /api/ghl-webhooks/test`, `GET /api/cloudtalk-webhooks/test`: status of
//! the whole system or of one router. No auth; they name which settings are present, never
//! their values, and check that the contact map answers.

use lambda_http::{http::StatusCode, Body, Request, Response};
use serde_json::{json, Map, Value};

use crate::deps::Deps;
use crate::error::json_response;
use crate::ENDPOINTS;

pub const NAME: &str = "health";
pub const ROUTES: &[&str] = &[
    "/health",
    "/api/ghl-webhooks/test",
    "/api/cloudtalk-webhooks/test",
];

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
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
            tracing::error!(endpoint = NAME, error = "store_unavailable", store = which, message = %e, "health");
        }
    }
    let settings: Map<String, Value> = deps
        .config
        .settings_present()
        .into_iter()
        .map(|(name, present)| (name.to_string(), json!(present)))
        .collect();
    let endpoints: Vec<&str> = ENDPOINTS
        .iter()
        .filter(|e| match router {
            "ghl-webhooks" => e.route.starts_with("/api/ghl-webhooks/"),
            "cloudtalk-webhooks" => e.route.starts_with("/api/cloudtalk-webhooks/"),
            _ => true,
        })
        .map(|e| e.route)
        .collect();
    let ready = match router {
        "ghl-webhooks" => {
            deps.config.cloudtalk_configured() && !deps.config.ghl_webhook_secrets.is_empty()
        }
        "cloudtalk-webhooks" => {
            deps.config.ghl_configured() && !deps.config.cloudtalk_webhook_secrets.is_empty()
        }
        _ => deps.config.cloudtalk_configured() && deps.config.ghl_configured(),
    };
    let healthy = store.is_ok() && state.is_ok();
    let body = json!({
        "status": if !healthy { "unavailable" } else if ready { "ok" } else { "not_configured" },
        "router": router,
        "version": env!("CARGO_PKG_VERSION"),
        "contactMap": { "backend": deps.contacts.kind(), "reachable": store.is_ok() },
        "stateStore": { "backend": deps.state.kind(), "reachable": state.is_ok() },
        "settings": settings,
        "endpoints": endpoints,
    });
    tracing::info!(
        endpoint = NAME,
        router,
        reachable = healthy,
        ready,
        "health"
    );
    json_response(
        if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        &body,
    )
}
