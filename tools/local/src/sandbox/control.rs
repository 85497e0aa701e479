//! What a test, or a developer through `/sandbox/…`, does to the sandbox: record and modify
//! calls of CloudTalk's history, set their Conversation Intelligence content, seed contacts,
//! calls, agents, users and blacklisted numbers, set an agent's availability, a GHL contact's
//! Do Not Disturb and click-to-call's own fault; and the control routes ([`routes`]):
//! `GET /sandbox/state`, `GET /sandbox/requests`, `GET /sandbox/violations`,
//! `POST /sandbox/reset`, `GET|PUT /sandbox/faults`, `GET|PUT /sandbox/faults/click-to-call`,
//! `POST /sandbox/seed`, `POST /sandbox/oauth/authorize`, `POST /sandbox/oauth/expire`,
//! `GET /sandbox/webhook-public-key`, `PUT /sandbox/calls/{id}`, `PUT /sandbox/calls/{id}/ai`,
//! `PUT /sandbox/agents/{id}` and `PUT /sandbox/contacts/{id}/dnd`.

use axum::body::Bytes;
use axum::extract::{Path as AxumPath, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::base::Sandbox;
use super::call_ai::CallAi;
use super::call_spec::{CallChange, CallChangeError, CallSpec};
use super::calls;
use super::cloudtalk::workflow_webhook;
use super::config::{DialFault, Faults};
use super::dials;
use super::ghl_common::contact_json;
use super::ghl_dnd::DndChange;
use super::ghl_oauth_state::Authorization;
use super::seed::{self, BlacklistSeed, Seed, SeedRequest, SeedSummary};
use super::state::{BlacklistEntry, Dial};
use super::team::{Agent, AgentStatus, User};

impl Sandbox {
    /// Adds a call to CloudTalk's call history (one that happened in CloudTalk, whose webhook
    /// may never have reached the bridge), with its [`CallSpec::uuid`] or, without one, a
    /// derived one ([`CallSpec::derived_uuid`]); returns its id.
    pub fn record_call(&self, spec: CallSpec) -> String {
        let line = format!(
            "CloudTalk ← call with {} ({:?}, {} s talking)",
            bridge::telemetry::mask_phone(&spec.external_number),
            spec.direction,
            spec.talking_secs
        );
        let id = match self.inner.state.lock() {
            Ok(mut state) => calls::record(&mut state, spec),
            Err(_) => return String::new(),
        };
        self.inner.say(format!("{line} id {id}"));
        id
    }

    /// Replaces the tags, rating and notes of call `call_id` of the history, as an agent does in
    /// CloudTalk after a call, and fires CloudTalk's "Call Modified" workflow trigger: after
    /// [`SandboxConfig::callback_delay_ms`], `POST /api/cloudtalk-webhooks/call-modified` to
    /// [`SandboxConfig::bridge_url`] (when set; a Tokio runtime is then needed) with
    /// [`SandboxConfig::cloudtalk_webhook_secret`] as bearer token. Returns the webhook's body:
    /// `{"call_id", "contact_id", "external_number", "agent_id", "tags", "rating", "notes"}`
    /// (ids as numbers; `contact_id`, `agent_id` and `rating` left out when the call has none).
    ///
    /// [`SandboxConfig::callback_delay_ms`]: super::config::SandboxConfig::callback_delay_ms
    /// [`SandboxConfig::bridge_url`]: super::config::SandboxConfig::bridge_url
    /// [`SandboxConfig::cloudtalk_webhook_secret`]: super::config::SandboxConfig::cloudtalk_webhook_secret
    pub fn modify_call(&self, call_id: &str, change: CallChange) -> Result<Value, CallChangeError> {
        let call = {
            let mut state = self
                .inner
                .state
                .lock()
                .map_err(|_| CallChangeError::UnknownCall)?;
            calls::modify(&mut state, call_id, change)?
        };
        let body = calls::modified_body(&call);
        self.inner.say(format!(
            "CloudTalk ← call {call_id} modified: tags {:?}, rating {:?}, {} note(s)",
            call.spec.tags,
            call.spec.rating,
            call.spec.notes.len()
        ));
        workflow_webhook(
            self,
            "/api/cloudtalk-webhooks/call-modified",
            body.clone(),
            format!("call-modified for {call_id}"),
        );
        Ok(body)
    }

    /// Sets the Conversation Intelligence content of call `call_id` of the history (see
    /// [`CallAi`]): its parts left `None` stay derived from the call, and it is ready after
    /// [`CallAi::ready_after_requests`] requests for the call, counted from now. False when the
    /// history has no such call.
    pub fn set_call_ai(&self, call_id: &str, ai: CallAi) -> bool {
        let Ok(mut state) = self.inner.state.lock() else {
            return false;
        };
        let Some(call) = state.ct_calls.iter_mut().find(|c| c.id == call_id) else {
            return false;
        };
        call.ai = Some(ai);
        call.ai_requests = 0;
        true
    }

    /// Adds the contacts and calls `seed` describes, at once and without callbacks; see
    /// [`Seed`].
    pub fn seed(&self, seed: &Seed) -> SeedSummary {
        let location = self.inner.config.ghl_location_id.clone();
        let summary = match self.inner.state.lock() {
            Ok(mut state) => seed::seed(&mut state, &location, seed),
            Err(_) => return SeedSummary::default(),
        };
        self.inner.say(format!("sandbox ← {}", summary.describe()));
        summary
    }

    /// Adds CloudTalk agents, each replacing the one with its id; returns their ids.
    pub fn seed_agents(&self, agents: &[Agent]) -> Vec<String> {
        match self.inner.state.lock() {
            Ok(mut state) => state.put_agents(agents),
            Err(_) => Vec::new(),
        }
    }

    /// Adds GHL users (in [`SandboxConfig::ghl_location_id`] unless they name a location),
    /// each replacing the one with its id; returns their ids.
    ///
    /// [`SandboxConfig::ghl_location_id`]: super::config::SandboxConfig::ghl_location_id
    pub fn seed_users(&self, users: &[User]) -> Vec<String> {
        let location = &self.inner.config.ghl_location_id;
        match self.inner.state.lock() {
            Ok(mut state) => state.put_users(location, users),
            Err(_) => Vec::new(),
        }
    }

    /// The CloudTalk agents the sandbox holds, with their availability now (`calling` while
    /// a call a dial of theirs made lasts).
    pub fn agents(&self) -> Vec<Agent> {
        let now = self.inner.config.clock.now_ms();
        self.inner
            .state
            .lock()
            .map(|s| s.agents_now(now))
            .unwrap_or_default()
    }

    /// Sets CloudTalk agent `id`'s availability, as the agent does in CloudTalk's app (what
    /// click-to-call and the agents list see); a dial's hold on the agent ends. False for an
    /// unknown agent.
    pub fn set_agent_availability(&self, id: &str, status: AgentStatus) -> bool {
        let set = match self.inner.state.lock() {
            Ok(mut state) => dials::set_availability(&mut state, id, status),
            Err(_) => false,
        };
        if set {
            self.inner
                .say(format!("CloudTalk ← agent {id} is now {}", json!(status)));
        }
        set
    }

    /// The click-to-call requests so far, oldest first (`cloudtalk.dials` of
    /// `GET /sandbox/state`).
    pub fn dials(&self) -> Vec<Dial> {
        self.inner
            .state
            .lock()
            .map(|s| s.ct_dials.clone())
            .unwrap_or_default()
    }

    /// Sets click-to-call's own fault (see [`DialFault`]), replacing the one set before.
    pub fn set_dial_fault(&self, fault: DialFault) {
        if let Ok(mut state) = self.inner.state.lock() {
            state.dial_fault = fault.clone();
        }
        self.inner
            .say(format!("sandbox ← click-to-call fault {}", json!(fault)));
    }

    /// Click-to-call's own fault as it is set.
    pub fn dial_fault(&self) -> DialFault {
        self.inner
            .state
            .lock()
            .map(|s| s.dial_fault.clone())
            .unwrap_or_default()
    }

    /// Puts numbers on CloudTalk's blacklist, as someone did in CloudTalk; their entries' ids.
    pub fn seed_blacklist(&self, numbers: &[BlacklistSeed]) -> Vec<String> {
        match self.inner.state.lock() {
            Ok(mut state) => seed::seed_blacklist(&mut state, numbers),
            Err(_) => Vec::new(),
        }
    }

    /// CloudTalk's blacklist, in the order numbers were added (`cloudtalk.blacklist` of
    /// `GET /sandbox/state`).
    pub fn blacklist(&self) -> Vec<BlacklistEntry> {
        self.inner
            .state
            .lock()
            .map(|s| s.ct_blacklist.clone())
            .unwrap_or_default()
    }

    /// Sets GHL contact `id`'s Do Not Disturb as someone does in GHL (see [`DndChange`]); its
    /// `dateUpdated` moves. The contact as `GET /contacts/{id}` now answers it; `None` for an
    /// unknown contact.
    pub fn set_contact_dnd(&self, id: &str, change: DndChange) -> Option<Value> {
        let line = format!("GHL ← Do Not Disturb of {id}: {}", json!(change));
        let contact = {
            let mut state = self.inner.state.lock().ok()?;
            let contact = state.ghl_contacts.get_mut(id)?;
            contact.set_dnd(change);
            contact.touch();
            contact_json(contact)
        };
        self.inner.say(line);
        Some(contact)
    }
}

/// The control routes, `/sandbox/…`.
pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/sandbox/state", get(state_route))
        .route("/sandbox/requests", get(requests_route))
        .route("/sandbox/violations", get(violations_route))
        .route("/sandbox/reset", post(reset_route))
        .route("/sandbox/faults", get(get_faults).put(put_faults))
        .route(
            "/sandbox/faults/click-to-call",
            get(get_dial_fault).put(put_dial_fault),
        )
        .route("/sandbox/seed", post(seed_route))
        .route("/sandbox/oauth/authorize", post(authorize_route))
        .route("/sandbox/oauth/expire", post(expire_route))
        .route("/sandbox/webhook-public-key", get(public_key_route))
        .route("/sandbox/calls/{id}", put(modify_call_route))
        .route("/sandbox/calls/{id}/ai", put(call_ai_route))
        .route("/sandbox/agents/{id}", put(availability_route))
        .route("/sandbox/contacts/{id}/dnd", put(dnd_route))
}

async fn state_route(AxumState(sandbox): AxumState<Sandbox>) -> Json<Value> {
    Json(sandbox.state_json())
}

/// The contract violations this sandbox recorded, one line each.
async fn violations_route(AxumState(sandbox): AxumState<Sandbox>) -> Json<Value> {
    let lines: Vec<String> = sandbox.violations().iter().map(|v| v.to_string()).collect();
    Json(serde_json::json!({ "violations": lines }))
}

async fn requests_route(AxumState(sandbox): AxumState<Sandbox>) -> Json<Value> {
    Json(
        sandbox
            .inner
            .state
            .lock()
            .map(|s| json!(s.requests))
            .unwrap_or(Value::Null),
    )
}

async fn reset_route(AxumState(sandbox): AxumState<Sandbox>) -> Json<Value> {
    sandbox.reset();
    Json(json!({"reset": true}))
}

/// Agents and users first (seeded calls are made by the agents), then the contacts and calls,
/// then the blacklist.
async fn seed_route(
    AxumState(sandbox): AxumState<Sandbox>,
    Json(request): Json<SeedRequest>,
) -> Json<SeedSummary> {
    let agents = sandbox.seed_agents(&request.agents);
    let users = sandbox.seed_users(&request.users);
    let mut summary = sandbox.seed(&request.seed);
    summary.agents = agents;
    summary.users = users;
    summary.blacklist = sandbox.seed_blacklist(&request.blacklist);
    Json(summary)
}

async fn authorize_route(
    AxumState(sandbox): AxumState<Sandbox>,
    Json(install): Json<Authorization>,
) -> Json<Value> {
    let code = sandbox.authorize(install);
    Json(json!({ "code": code }))
}

async fn expire_route(AxumState(sandbox): AxumState<Sandbox>) -> Json<Value> {
    sandbox.expire_access_tokens();
    Json(json!({"expired": true}))
}

async fn public_key_route(AxumState(sandbox): AxumState<Sandbox>) -> String {
    sandbox.webhook_public_key()
}

/// A control route's JSON error.
fn control_error(status: StatusCode, error: &str, message: String) -> Response {
    (status, Json(json!({"error": error, "message": message}))).into_response()
}

/// `PUT /sandbox/calls/{id}`: a [`CallChange`]; answers `{"call_modified": <the webhook's
/// body>, "sent_to_bridge": <whether a bridge is configured>}`, 404 for an unknown call, 400
/// for a body that is not a change or a rating outside 1–5.
async fn modify_call_route(
    AxumState(sandbox): AxumState<Sandbox>,
    AxumPath(id): AxumPath<String>,
    body: Bytes,
) -> Response {
    let change = match serde_json::from_slice::<CallChange>(&body) {
        Ok(change) => change,
        Err(e) => return control_error(StatusCode::BAD_REQUEST, "invalid_body", e.to_string()),
    };
    match sandbox.modify_call(&id, change) {
        Ok(sent) => Json(json!({
            "call_modified": sent,
            "sent_to_bridge": sandbox.inner.config.bridge_url.is_some(),
        }))
        .into_response(),
        Err(e @ CallChangeError::UnknownCall) => {
            control_error(StatusCode::NOT_FOUND, "unknown_call", e.to_string())
        }
        Err(e @ CallChangeError::InvalidRating(_)) => {
            control_error(StatusCode::BAD_REQUEST, "invalid_rating", e.to_string())
        }
    }
}

/// `PUT /sandbox/calls/{id}/ai`: a [`CallAi`]; answers `{"call_id", "ai"}`, 404 for an
/// unknown call, 400 for a body that is not one.
async fn call_ai_route(
    AxumState(sandbox): AxumState<Sandbox>,
    AxumPath(id): AxumPath<String>,
    body: Bytes,
) -> Response {
    let ai = match serde_json::from_slice::<CallAi>(&body) {
        Ok(ai) => ai,
        Err(e) => return control_error(StatusCode::BAD_REQUEST, "invalid_body", e.to_string()),
    };
    match sandbox.set_call_ai(&id, ai.clone()) {
        true => Json(json!({"call_id": id, "ai": ai})).into_response(),
        false => control_error(
            StatusCode::NOT_FOUND,
            "unknown_call",
            "no call with this id".into(),
        ),
    }
}

async fn get_faults(AxumState(sandbox): AxumState<Sandbox>) -> Json<Faults> {
    Json(
        sandbox
            .inner
            .faults
            .lock()
            .map(|f| f.clone())
            .unwrap_or_default(),
    )
}

async fn put_faults(
    AxumState(sandbox): AxumState<Sandbox>,
    Json(faults): Json<Faults>,
) -> Json<Faults> {
    sandbox.set_faults(faults.clone());
    Json(faults)
}

/// `PUT /sandbox/agents/{id}`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AvailabilityChange {
    availability_status: AgentStatus,
}

/// `PUT /sandbox/agents/{id}` with `{"availability_status": "online|offline|paused|calling"}`:
/// answers the agent as it now is; 400 for another body, 404 for an unknown agent.
pub(crate) async fn availability_route(
    AxumState(sandbox): AxumState<Sandbox>,
    AxumPath(id): AxumPath<String>,
    body: Bytes,
) -> Response {
    let change = match serde_json::from_slice::<AvailabilityChange>(&body) {
        Ok(change) => change,
        Err(e) => {
            let message =
                format!("{e}: availability_status is one of online, offline, paused, calling");
            return control_error(StatusCode::BAD_REQUEST, "invalid_body", message);
        }
    };
    if !sandbox.set_agent_availability(&id, change.availability_status) {
        let message = format!("no CloudTalk agent {id}");
        return control_error(StatusCode::NOT_FOUND, "unknown_agent", message);
    }
    let agent = sandbox.agents().into_iter().find(|a| a.id == id);
    Json(json!({ "agent": agent })).into_response()
}

async fn get_dial_fault(AxumState(sandbox): AxumState<Sandbox>) -> Json<DialFault> {
    Json(sandbox.dial_fault())
}

/// `PUT /sandbox/faults/click-to-call` with a [`DialFault`] (`{"failing": true}`, optionally
/// `"agent_ids": ["42"]`; `{"failing": false}` clears it): answers it; 400 for another body.
async fn put_dial_fault(AxumState(sandbox): AxumState<Sandbox>, body: Bytes) -> Response {
    match serde_json::from_slice::<DialFault>(&body) {
        Ok(fault) => {
            sandbox.set_dial_fault(fault.clone());
            Json(fault).into_response()
        }
        Err(e) => {
            let message = format!("{e}: the body is {{\"failing\": bool, \"agent_ids\": [ids]}}");
            control_error(StatusCode::BAD_REQUEST, "invalid_body", message)
        }
    }
}

/// `PUT /sandbox/contacts/{id}/dnd` with a [`DndChange`] (`{"dnd": false, "dndSettings":
/// {"Call": {"status": "active"}}}`: `dnd`, `dndSettings` or both): answers
/// `{"contact": …}` as `GET /contacts/{id}` now does; 400 for another body (or an empty one),
/// 404 for an unknown contact.
async fn dnd_route(
    AxumState(sandbox): AxumState<Sandbox>,
    AxumPath(id): AxumPath<String>,
    body: Bytes,
) -> Response {
    let change = serde_json::from_slice::<DndChange>(&body)
        .map_err(|e| e.to_string())
        .and_then(|c| match c.is_empty() {
            true => Err("nothing to set".to_string()),
            false => Ok(c),
        });
    let change = match change {
        Ok(change) => change,
        Err(e) => {
            let message = format!(
                "{e}: the body sets dnd (a boolean), dndSettings ({{\"Call\": {{\"status\": \"active|inactive|permanent\"}}, …}}) or both"
            );
            return control_error(StatusCode::BAD_REQUEST, "invalid_body", message);
        }
    };
    match sandbox.set_contact_dnd(&id, change) {
        Some(contact) => Json(json!({ "contact": contact })).into_response(),
        None => {
            let message = format!("no GHL contact {id}");
            control_error(StatusCode::NOT_FOUND, "unknown_contact", message)
        }
    }
}
