//! The GoHighLevel ↔ CloudTalk bridge library: everything the Lambda binaries in `functions/`
//! run. Each binary's `main` builds [`Deps`] and serves one endpoint from [`handlers`].
//!
//! - [`payload`]: inbound webhook shapes, normalised into one event per endpoint;
//! - [`mapping`]: pure functions from events to upstream writes;
//! - [`clients`]: the CloudTalk and GoHighLevel API clients;
//! - [`contact_map`]: the GHL ↔ CloudTalk id map (DynamoDB, in-memory);
//! - [`resolve`]: finding or creating the contact on the other side;
//! - [`webhook`]: the shared request pipeline (auth, body, answer, log line);
//! - [`config`], [`error`], [`telemetry`], [`phone`].

pub mod clients;
pub mod clock;
pub mod config;
pub mod contact_map;
pub mod deps;
pub mod dynamo;
pub mod environment;
pub mod error;
pub mod handlers;
pub mod idempotency;
pub mod local_store;
pub mod mapping;
pub mod payload;
pub mod phone;
pub mod resolve;
pub mod retry_queue;
pub mod secrets;
pub mod signature;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod webhook;
pub mod worker;

pub use deps::{Backends, Deps};
pub use error::BridgeError;

use webhook::Webhook;

/// One deployed endpoint: its Lambda binary, HTTP method and route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub function: &'static str,
    pub method: &'static str,
    pub route: &'static str,
}

const fn post<W: Webhook>() -> Endpoint {
    Endpoint {
        function: W::NAME,
        method: "POST",
        route: W::ROUTE,
    }
}

const fn health(route: &'static str) -> Endpoint {
    Endpoint {
        function: handlers::health::NAME,
        method: "GET",
        route,
    }
}

/// Every route the bridge serves. The consistency test checks each against `functions/`,
/// `template.yaml`, the watch router in `Cargo.toml`, `events/` and the README.
pub const ENDPOINTS: &[Endpoint] = &[
    post::<handlers::ghl::NewContact>(),
    post::<handlers::ghl::NewTag>(),
    post::<handlers::ghl::NewNote>(),
    post::<handlers::ghl::PipelineChange>(),
    post::<handlers::ghl::StatusChange>(),
    post::<handlers::cloudtalk::CallStarted>(),
    post::<handlers::cloudtalk::CallEnded>(),
    post::<handlers::cloudtalk::RecordingAvailable>(),
    post::<handlers::cloudtalk::AgentStatusChange>(),
    post::<handlers::cloudtalk::ContactCreated>(),
    post::<handlers::cloudtalk::CampaignStatusChange>(),
    post::<handlers::cloudtalk::Generic>(),
    health("/health"),
    health("/api/ghl-webhooks/test"),
    health("/api/cloudtalk-webhooks/test"),
];

/// The status a sample event in `events/` expects, from its file name: `unauthorized*` → 401,
/// `bad-*` → 400, `missing-*` and `invalid-*` → 422, anything else → 200.
pub fn expected_sample_status(file_stem: &str) -> u16 {
    if file_stem.starts_with("unauthorized") {
        401
    } else if file_stem.starts_with("bad-") {
        400
    } else if file_stem.starts_with("missing-") || file_stem.starts_with("invalid-") {
        422
    } else {
        200
    }
}

/// Routes a request to its endpoint's handler by method and path, the way API Gateway does
/// in AWS. Used where one process serves every route (tests, local runs); each Lambda serves
/// one endpoint directly.
pub async fn route(
    deps: &Deps,
    req: lambda_http::Request,
) -> lambda_http::Response<lambda_http::Body> {
    use handlers::cloudtalk::{
        AgentStatusChange, CallEnded, CallStarted, CampaignStatusChange, ContactCreated, Generic,
        RecordingAvailable,
    };
    use handlers::ghl::{NewContact, NewNote, NewTag, PipelineChange, StatusChange};
    use webhook::handle;
    let path = req.uri().path().trim_end_matches('/').to_string();
    let method = req.method().as_str().to_string();
    let endpoint = ENDPOINTS.iter().find(|e| {
        e.route == path && (e.method == method || (e.method == "GET" && method == "HEAD"))
    });
    let Some(endpoint) = endpoint else {
        let status = if ENDPOINTS.iter().any(|e| e.route == path) {
            lambda_http::http::StatusCode::METHOD_NOT_ALLOWED
        } else {
            lambda_http::http::StatusCode::NOT_FOUND
        };
        return error::json_response(
            status,
            &serde_json::json!({"error": "no_route", "message": format!("no route for {method} {path}")}),
        );
    };
    match endpoint.function {
        NewContact::NAME => handle(&NewContact, deps, req).await,
        NewTag::NAME => handle(&NewTag, deps, req).await,
        NewNote::NAME => handle(&NewNote, deps, req).await,
        PipelineChange::NAME => handle(&PipelineChange, deps, req).await,
        StatusChange::NAME => handle(&StatusChange, deps, req).await,
        CallStarted::NAME => handle(&CallStarted, deps, req).await,
        CallEnded::NAME => handle(&CallEnded, deps, req).await,
        RecordingAvailable::NAME => handle(&RecordingAvailable, deps, req).await,
        AgentStatusChange::NAME => handle(&AgentStatusChange, deps, req).await,
        ContactCreated::NAME => handle(&ContactCreated, deps, req).await,
        CampaignStatusChange::NAME => handle(&CampaignStatusChange, deps, req).await,
        Generic::NAME => handle(&Generic, deps, req).await,
        _ => handlers::health::handle(deps, req).await,
    }
}

/// Checks an event for the endpoint named `function` (see [`webhook::Webhook::validate`]).
pub fn validate_by_name(function: &str, body: &serde_json::Value) -> Result<(), BridgeError> {
    use handlers::cloudtalk::{
        AgentStatusChange, CallEnded, CallStarted, CampaignStatusChange, ContactCreated, Generic,
        RecordingAvailable,
    };
    use handlers::ghl::{NewContact, NewNote, NewTag, PipelineChange, StatusChange};
    match function {
        NewContact::NAME => NewContact.validate(body),
        NewTag::NAME => NewTag.validate(body),
        NewNote::NAME => NewNote.validate(body),
        PipelineChange::NAME => PipelineChange.validate(body),
        StatusChange::NAME => StatusChange.validate(body),
        CallStarted::NAME => CallStarted.validate(body),
        CallEnded::NAME => CallEnded.validate(body),
        RecordingAvailable::NAME => RecordingAvailable.validate(body),
        AgentStatusChange::NAME => AgentStatusChange.validate(body),
        ContactCreated::NAME => ContactCreated.validate(body),
        CampaignStatusChange::NAME => CampaignStatusChange.validate(body),
        Generic::NAME => Generic.validate(body),
        other => Err(BridgeError::BadRequest(format!("unknown endpoint {other}"))),
    }
}

/// Applies an event to the endpoint named `function` (its Lambda name). The one registry of
/// endpoint implementations, used by the HTTP pipeline and the retry worker alike.
pub async fn apply_by_name(
    function: &str,
    deps: &Deps,
    body: &serde_json::Value,
    steps: &mut idempotency::Steps,
) -> Result<webhook::Outcome, BridgeError> {
    use handlers::cloudtalk::{
        AgentStatusChange, CallEnded, CallStarted, CampaignStatusChange, ContactCreated, Generic,
        RecordingAvailable,
    };
    use handlers::ghl::{NewContact, NewNote, NewTag, PipelineChange, StatusChange};
    match function {
        NewContact::NAME => NewContact.apply(deps, body, steps).await,
        NewTag::NAME => NewTag.apply(deps, body, steps).await,
        NewNote::NAME => NewNote.apply(deps, body, steps).await,
        PipelineChange::NAME => PipelineChange.apply(deps, body, steps).await,
        StatusChange::NAME => StatusChange.apply(deps, body, steps).await,
        CallStarted::NAME => CallStarted.apply(deps, body, steps).await,
        CallEnded::NAME => CallEnded.apply(deps, body, steps).await,
        RecordingAvailable::NAME => RecordingAvailable.apply(deps, body, steps).await,
        AgentStatusChange::NAME => AgentStatusChange.apply(deps, body, steps).await,
        ContactCreated::NAME => ContactCreated.apply(deps, body, steps).await,
        CampaignStatusChange::NAME => CampaignStatusChange.apply(deps, body, steps).await,
        Generic::NAME => Generic.apply(deps, body, steps).await,
        other => Err(BridgeError::BadRequest(format!("unknown endpoint {other}"))),
    }
}
