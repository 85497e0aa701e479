//! A stateful simulator of the parts of the CloudTalk and GoHighLevel APIs the bridge uses, for
//! local runs, end-to-end tests and fault injection.
//!
//! - CloudTalk under `/cloudtalk/api` (Basic auth, `responseData` envelopes, ids as strings,
//!   406 validation errors, bulk per-command results inside HTTP 200, `addTags` appends while
//!   sending `ContactsTag` replaces, `X-CloudTalkAPI-*` rate-limit headers), and the
//!   company's agents, `GET /agents/index.json` (`id`, `associated_number`, `limit`, `page`),
//!   and click-to-call, `POST /calls/create.json` (see `dials.rs`: 403 for an agent not online,
//!   409 for one already calling, 404, 406; a dial that rings is a call of the history and
//!   makes the agent `calling` until it ends);
//! - GoHighLevel under `/ghl` (Bearer auth, required `Version` header, duplicate-contact 400 with
//!   `meta.contactId`, upsert, the contact's owner `assignedTo` (set by a create, upsert or
//!   update that carries it), notes, tags, tasks (`GET|POST /contacts/{id}/tasks`,
//!   `GET|PUT|DELETE /contacts/{id}/tasks/{taskId}`, `PUT /contacts/{id}/tasks/{taskId}/completed`;
//!   see `ghl_tasks.rs`), opportunities, pipelines, custom values, users (`GET
//!   /users/?locationId=…`, `GET /users/{userId}`), `X-RateLimit-*` headers and 429 over 100
//!   requests per 10 s);
//! - CloudTalk's Conversation Intelligence API under `/cloudtalk/ai/v1` (`GET
//!   /ai/calls/{callId}/summary`, `/smart-notes`, `/overall-sentiment`, `/transcription`,
//!   `/topics`; see `cloudtalk_ai.rs`): content derived from the calls of the history, ready
//!   [`SandboxConfig::ai_ready_after_secs`] after a call ends, 403 without
//!   [`SandboxConfig::ai_enabled`], or set by a test ([`Sandbox::set_call_ai`]);
//! - control under `/sandbox`: `GET /sandbox/state`, `POST /sandbox/reset`,
//!   `GET|PUT /sandbox/faults`, `GET /sandbox/requests`, `POST /sandbox/seed` (contacts, calls,
//!   agents and users a customer already has, see [`Seed`] and [`SeedRequest`]),
//!   `POST /sandbox/oauth/authorize` (a user approving the Marketplace app's install: a code,
//!   and optionally the `INSTALL` webhooks), `POST /sandbox/oauth/expire`,
//!   `GET /sandbox/webhook-public-key`, `PUT /sandbox/calls/{id}` (a call's tags, rating and
//!   notes, [`CallChange`]: CloudTalk's "Call Modified" webhook to the bridge),
//!   `PUT /sandbox/calls/{id}/ai` (its Conversation Intelligence content, [`CallAi`]),
//!   `PUT /sandbox/agents/{id}` (`{"availability_status": "online|offline|paused|calling"}`,
//!   [`Sandbox::set_agent_availability`]); click-to-call requests are `cloudtalk.dials` of the
//!   state ([`Dial`], [`Sandbox::dials`]);
//! - the local console at `/` (see [`console`]): both sides' contacts (a GHL contact with its
//!   owner and tasks), the click-to-call dials, the live event feed, parked events, and a
//!   button per sample of `events/`.
//!
//! GHL's Marketplace side: OAuth (code exchange, single-use rotating refresh tokens with reuse
//! detection, agency location tokens, reconnect) and Conversations (Call messages and their
//! attachments); see `ghl_oauth.rs` and `ghl_conversations.rs`.
//!
//! The people of both accounts (`team.rs`): CloudTalk's agents and the GHL location's users,
//! [`SandboxConfig::cloudtalk_agents`] and [`SandboxConfig::ghl_users`], by default
//! [`default_agents`] (ids `42` Roberto Bianchi, `43` Anna Verdi, `44` Franco Neri, `45` Lucia
//! Esposito) and [`default_users`] (`usr_roberto`, `usr_anna`, `usr_franco` with Franco's email
//! in another case, and `usr_giulia`, who is no agent; Lucia has no user). Seeded calls are made
//! by these agents.
//!
//! Feeds for reconciliation and backfills: CloudTalk's call history (`GET
//! /calls/index.json`, times in the company's zone, [`SandboxConfig::cloudtalk_utc_offset`];
//! calls come from [`Sandbox::record_call`] and seeding) and GoHighLevel's contact search
//! (`POST /contacts/search` by `dateUpdated` with `searchAfter` paging).
//!
//! It prints a readable line per write (`CloudTalk ← add contact "Mario Rossi" (…567)`), and can
//! call the bridge back the way CloudTalk workflow automation would: a contact added through the
//! API triggers a contact-created webhook, so sync loops show up locally; a call's tags, rating
//! or notes changed ([`Sandbox::modify_call`]) trigger a call-modified webhook.
//!
//! Each API is a route table (`ROUTES` in `cloudtalk.rs` and `ghl.rs`: method + path pattern →
//! one handler per operation) behind one shared pipeline in `api.rs` (faults, auth, rate limits,
//! request log, headers); adding an operation is a table line and a `fn(&mut Call) -> Outcome`.

mod api;
mod calls;
mod cloudtalk;
mod cloudtalk_ai;
pub mod console;
mod dials;
pub mod feed;
mod ghl;
mod ghl_conversations;
mod ghl_oauth;
mod ghl_search;
mod ghl_tasks;
mod routes;
mod seed;
mod state;
mod team;

pub use calls::{CallAgent, CallChange, CallChangeError, CallDirection, CallSpec};
pub use cloudtalk_ai::{CallAi, Sentiment, Speaker, TranscriptSegment};
pub use console::ConsoleConfig;
pub use dials::Dial;
pub use ghl_oauth::Authorization;
pub use seed::{Seed, SeedRequest, SeedSummary, SeededPair};
pub use team::{default_agents, default_users, Agent, AgentStatus, User};

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path as AxumPath, State as AxumState};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use cloudtalk::CloudTalk;
use cloudtalk_ai::CloudTalkAi;
use ghl::Ghl;
use state::State;

/// Fault knobs, applied to both APIs (not to `/sandbox`). A fault answers without applying the
/// request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Delay before every answer.
    pub latency_ms: u64,
    /// Probability (0..1) of a 500 answer.
    pub error_rate: f64,
    /// Every Nth request starts a burst of 429s (0 = never).
    pub rate_limit_every: u32,
    /// Length of each burst.
    pub rate_limit_burst: u32,
    /// Probability (0..1) that a request is applied and then answered only after
    /// `late_answer_ms`: past the client's timeout, the answer is lost but the write is done.
    pub late_answer_rate: f64,
    pub late_answer_ms: u64,
}

/// How the sandbox is set up; [`SandboxConfig::from_env`] reads `SANDBOX_*` variables.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    pub cloudtalk_key_id: String,
    pub cloudtalk_key_secret: String,
    pub ghl_token: String,
    pub ghl_location_id: String,
    /// The Marketplace app's OAuth client, for `/ghl/oauth`.
    pub ghl_app_client_id: String,
    pub ghl_app_client_secret: String,
    /// The app's id in the install webhooks it sends.
    pub ghl_app_id: String,
    /// Where to send contact-created webhooks after a contact is added through the API.
    pub bridge_url: Option<String>,
    pub cloudtalk_webhook_secret: Option<String>,
    /// Delay of that callback, as CloudTalk's workflows fire some time after the change.
    pub callback_delay_ms: u64,
    /// Enforce CloudTalk's 60 requests per minute.
    pub enforce_cloudtalk_limit: bool,
    pub faults: Faults,
    pub seed: u64,
    /// No console lines (tests).
    pub quiet: bool,
    /// Where the rate limits' reset times come from (virtual time in simulations).
    pub clock: SandboxClock,
    /// The CloudTalk company's offset from UTC: the call history's times are in it.
    pub cloudtalk_utc_offset: chrono::FixedOffset,
    /// The console page at `/`: where the bridge is, the samples, the dead-letter queue.
    pub console: ConsoleConfig,
    /// The CloudTalk company's agents in a fresh (or reset) sandbox; [`default_agents`] unless
    /// set.
    pub cloudtalk_agents: Vec<Agent>,
    /// The users of GHL locations in a fresh (or reset) sandbox (a user without a location is
    /// in [`SandboxConfig::ghl_location_id`]); [`default_users`] unless set.
    pub ghl_users: Vec<User>,
    /// The company's plan includes Conversation Intelligence; without it every path of the AI
    /// API answers 403. True unless set.
    pub ai_enabled: bool,
    /// Seconds after an answered call's end before its AI content is there (404 until then);
    /// 0 (at once) unless set.
    pub ai_ready_after_secs: u64,
}

/// The sandbox's clock.
#[derive(Clone)]
pub struct SandboxClock(pub std::sync::Arc<dyn bridge::clock::Clock>);

impl SandboxClock {
    pub fn now_secs(&self) -> i64 {
        self.0.now_secs()
    }

    pub fn now_ms(&self) -> i64 {
        self.0.now_ms()
    }
}

impl Default for SandboxClock {
    fn default() -> Self {
        Self(std::sync::Arc::new(bridge::clock::SystemClock))
    }
}

impl std::fmt::Debug for SandboxClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SandboxClock")
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            cloudtalk_key_id: "sandbox-key-id".into(),
            cloudtalk_key_secret: "sandbox-key-secret".into(),
            ghl_token: "sandbox-ghl-token".into(),
            ghl_location_id: "sandbox-location".into(),
            ghl_app_client_id: "sandbox-app-client".into(),
            ghl_app_client_secret: "sandbox-app-secret".into(),
            ghl_app_id: "sandbox-app".into(),
            bridge_url: None,
            cloudtalk_webhook_secret: None,
            callback_delay_ms: 1000,
            enforce_cloudtalk_limit: false,
            faults: Faults::default(),
            seed: 7,
            quiet: false,
            clock: SandboxClock::default(),
            cloudtalk_utc_offset: utc(),
            console: ConsoleConfig::default(),
            cloudtalk_agents: default_agents(),
            ghl_users: default_users(),
            ai_enabled: true,
            ai_ready_after_secs: 0,
        }
    }
}

fn utc() -> chrono::FixedOffset {
    use chrono::Offset;
    chrono::Utc.fix()
}

impl SandboxConfig {
    /// `SANDBOX_CLOUDTALK_KEY_ID`, `SANDBOX_CLOUDTALK_KEY_SECRET`, `SANDBOX_GHL_TOKEN`,
    /// `SANDBOX_GHL_LOCATION_ID`, `SANDBOX_GHL_APP_CLIENT_ID`, `SANDBOX_GHL_APP_CLIENT_SECRET`,
    /// `SANDBOX_GHL_APP_ID`, `SANDBOX_BRIDGE_URL`, `SANDBOX_CLOUDTALK_WEBHOOK_SECRET` (else
    /// `CLOUDTALK_WEBHOOK_SECRET`), `SANDBOX_CALLBACK_DELAY_MS`, `SANDBOX_ENFORCE_CLOUDTALK_LIMIT`,
    /// `SANDBOX_LATENCY_MS`, `SANDBOX_ERROR_RATE`, `SANDBOX_RATE_LIMIT_EVERY`,
    /// `SANDBOX_RATE_LIMIT_BURST`, `SANDBOX_SEED`, `SANDBOX_CLOUDTALK_UTC_OFFSET` (`+01:00`; UTC
    /// when absent or unreadable), `SANDBOX_AI_ENABLED` (`0` or `false` turn it off),
    /// `SANDBOX_AI_READY_AFTER_SECS`; for the console, `SANDBOX_BRIDGE_URL` (else
    /// `http://127.0.0.1:9000`), `SANDBOX_EVENTS_DIR` (else `events`),
    /// `SANDBOX_GHL_WEBHOOK_SECRET` (else `GHL_WEBHOOK_SECRET`, first value),
    /// `SANDBOX_DEAD_LETTER_QUEUE_URL` (else `DEAD_LETTER_QUEUE_URL`) and `AWS_ENDPOINT_URL`.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let num = |k: &str| var(k).and_then(|v| v.parse::<u64>().ok());
        let d = Self::default();
        Self {
            cloudtalk_key_id: var("SANDBOX_CLOUDTALK_KEY_ID").unwrap_or(d.cloudtalk_key_id),
            cloudtalk_key_secret: var("SANDBOX_CLOUDTALK_KEY_SECRET")
                .unwrap_or(d.cloudtalk_key_secret),
            ghl_token: var("SANDBOX_GHL_TOKEN").unwrap_or(d.ghl_token),
            ghl_location_id: var("SANDBOX_GHL_LOCATION_ID").unwrap_or(d.ghl_location_id),
            ghl_app_client_id: var("SANDBOX_GHL_APP_CLIENT_ID").unwrap_or(d.ghl_app_client_id),
            ghl_app_client_secret: var("SANDBOX_GHL_APP_CLIENT_SECRET")
                .unwrap_or(d.ghl_app_client_secret),
            ghl_app_id: var("SANDBOX_GHL_APP_ID").unwrap_or(d.ghl_app_id),
            bridge_url: var("SANDBOX_BRIDGE_URL"),
            cloudtalk_webhook_secret: var("SANDBOX_CLOUDTALK_WEBHOOK_SECRET").or_else(|| {
                var("CLOUDTALK_WEBHOOK_SECRET")
                    .map(|s| s.split(',').next().unwrap_or_default().trim().to_string())
            }),
            callback_delay_ms: num("SANDBOX_CALLBACK_DELAY_MS").unwrap_or(d.callback_delay_ms),
            enforce_cloudtalk_limit: var("SANDBOX_ENFORCE_CLOUDTALK_LIMIT")
                .is_some_and(|v| v == "1" || v == "true"),
            faults: Faults {
                latency_ms: num("SANDBOX_LATENCY_MS").unwrap_or(0),
                error_rate: var("SANDBOX_ERROR_RATE")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0.0),
                rate_limit_every: num("SANDBOX_RATE_LIMIT_EVERY").unwrap_or(0) as u32,
                rate_limit_burst: num("SANDBOX_RATE_LIMIT_BURST").unwrap_or(0) as u32,
                ..Faults::default()
            },
            seed: num("SANDBOX_SEED").unwrap_or(d.seed),
            quiet: false,
            clock: d.clock,
            cloudtalk_utc_offset: var("SANDBOX_CLOUDTALK_UTC_OFFSET")
                .and_then(|o| bridge::reconcile::company_time::parse_offset(&o))
                .unwrap_or(d.cloudtalk_utc_offset),
            console: ConsoleConfig {
                bridge_url: var("SANDBOX_BRIDGE_URL").unwrap_or(d.console.bridge_url),
                events_dir: var("SANDBOX_EVENTS_DIR")
                    .map(std::path::PathBuf::from)
                    .unwrap_or(d.console.events_dir),
                ghl_webhook_secret: var("SANDBOX_GHL_WEBHOOK_SECRET").or_else(|| {
                    var("GHL_WEBHOOK_SECRET")
                        .map(|s| s.split(',').next().unwrap_or_default().trim().to_string())
                }),
                dead_letter_queue_url: var("SANDBOX_DEAD_LETTER_QUEUE_URL")
                    .or_else(|| var("DEAD_LETTER_QUEUE_URL")),
                aws_endpoint_url: var("AWS_ENDPOINT_URL"),
            },
            cloudtalk_agents: d.cloudtalk_agents,
            ghl_users: d.ghl_users,
            ai_enabled: var("SANDBOX_AI_ENABLED")
                .map(|v| !matches!(v.trim(), "0" | "false" | "no" | "off"))
                .unwrap_or(d.ai_enabled),
            ai_ready_after_secs: num("SANDBOX_AI_READY_AFTER_SECS")
                .unwrap_or(d.ai_ready_after_secs),
        }
    }
}

/// A fault injected into a request.
pub(crate) enum Fault {
    ServerError,
    RateLimited,
}

pub(crate) struct Inner {
    pub(crate) config: SandboxConfig,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) state: Mutex<State>,
    /// xorshift state, requests seen, and the remaining length of the current 429 burst.
    pub(crate) fault_clock: Mutex<(u64, u64, u32)>,
    pub(crate) http: reqwest::Client,
    /// The console's event feed.
    pub(crate) feed: Mutex<feed::Feed>,
    /// The dead-letter queue as the console last read it.
    pub(crate) parked: Mutex<console::ParkedView>,
    /// This sandbox's name for the contract violations it records.
    pub(crate) origin: String,
}

static SANDBOXES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The sandbox: a cloneable handle on its state.
#[derive(Clone)]
pub struct Sandbox {
    pub(crate) inner: Arc<Inner>,
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Self {
        let seed = config.seed.max(1);
        let state = State::new(&config);
        Self {
            inner: Arc::new(Inner {
                faults: Mutex::new(config.faults.clone()),
                config,
                state: Mutex::new(state),
                fault_clock: Mutex::new((seed, 0, 0)),
                http: reqwest::Client::new(),
                origin: format!(
                    "sandbox-{}-{}",
                    std::process::id(),
                    SANDBOXES.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                ),
                feed: Mutex::default(),
                parked: Mutex::default(),
            }),
        }
    }

    /// The requests (and answers) of this sandbox that broke a vendor's contract, not taken.
    pub fn violations(&self) -> Vec<bridge_contracts::Violation> {
        let origin = &self.inner.origin;
        bridge_contracts::pending()
            .into_iter()
            .filter(|v| &v.origin == origin)
            .collect()
    }

    /// Takes back this sandbox's violations: for a test that plants one on purpose.
    pub fn take_violations(&self) -> Vec<bridge_contracts::Violation> {
        bridge_contracts::take(&self.inner.origin)
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/cloudtalk/api/{*rest}", any(api::handle::<CloudTalk>))
            .route("/cloudtalk/ai/v1/{*rest}", any(api::handle::<CloudTalkAi>))
            .route("/ghl/{*rest}", any(api::handle::<Ghl>))
            .route("/sandbox/state", get(state_route))
            .route("/sandbox/requests", get(requests_route))
            .route("/sandbox/violations", get(violations_route))
            .route("/sandbox/reset", post(reset_route))
            .route("/sandbox/faults", get(get_faults).put(put_faults))
            .route("/sandbox/seed", post(seed_route))
            .route("/sandbox/oauth/authorize", post(authorize_route))
            .route("/sandbox/oauth/expire", post(expire_route))
            .route("/sandbox/webhook-public-key", get(public_key_route))
            .route("/sandbox/calls/{id}", put(modify_call_route))
            .route("/sandbox/calls/{id}/ai", put(call_ai_route))
            .route("/sandbox/agents/{id}", put(dials::availability_route))
            .route("/", get(console::page_route))
            .route("/console/live", get(console::live_route))
            .route("/console/feed", get(console::feed_route))
            .route("/console/send", post(console::send_route))
            .route("/console/reset", post(console::reset_route))
            .route("/bridge", any(console::proxy_route))
            .route("/bridge/{*rest}", any(console::proxy_route))
            .with_state(self.clone())
    }

    pub async fn serve(self, addr: SocketAddr) -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        axum::serve(listener, self.router()).await
    }

    /// Starts on a free local port in the background; returns its base URL.
    pub async fn spawn(config: SandboxConfig) -> (String, Sandbox) {
        let sandbox = Sandbox::new(config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let router = sandbox.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        (url, sandbox)
    }

    /// Everything the sandbox holds, as `GET /sandbox/state` shows it.
    pub fn state_json(&self) -> Value {
        let now = self.inner.config.clock.now_ms();
        self.inner
            .state
            .lock()
            .map(|s| s.to_json(now))
            .unwrap_or(Value::Null)
    }

    /// Replaces the fault knobs; a 429 burst in progress ends.
    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut f) = self.inner.faults.lock() {
            *f = faults;
        }
        if let Ok(mut clock) = self.inner.fault_clock.lock() {
            clock.2 = 0;
        }
    }

    /// Empties the state (but for the configured agents and users) and the console's feed.
    pub fn reset(&self) {
        if let Ok(mut s) = self.inner.state.lock() {
            *s = State::new(&self.inner.config);
        }
        if let Ok(mut feed) = self.inner.feed.lock() {
            feed.clear();
        }
    }

    /// The console's feed, newest first (as `GET /console/feed` shows it).
    pub fn feed(&self) -> Vec<feed::FeedEntry> {
        self.inner
            .feed
            .lock()
            .map(|f| f.entries().cloned().collect())
            .unwrap_or_default()
    }

    /// Adds a call to CloudTalk's call history (one that happened in CloudTalk, whose webhook
    /// may never have reached the bridge); returns its id.
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
        cloudtalk::workflow_webhook(
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
            Ok(mut state) => team::put_agents(&mut state, agents),
            Err(_) => Vec::new(),
        }
    }

    /// Adds GHL users (in [`SandboxConfig::ghl_location_id`] unless they name a location),
    /// each replacing the one with its id; returns their ids.
    pub fn seed_users(&self, users: &[User]) -> Vec<String> {
        let location = &self.inner.config.ghl_location_id;
        match self.inner.state.lock() {
            Ok(mut state) => team::put_users(&mut state, location, users),
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

    /// Injected faults so far.
    pub fn faults_injected(&self) -> u64 {
        self.inner
            .state
            .lock()
            .map(|s| s.faults_injected)
            .unwrap_or(0)
    }
}

impl Inner {
    pub(crate) fn say(&self, line: String) {
        if !self.config.quiet {
            println!("{line}");
        }
    }

    /// Sleeps for the latency knob, then decides whether this request fails.
    pub(crate) async fn fault(&self) -> Option<Fault> {
        let faults = self.faults.lock().map(|f| f.clone()).unwrap_or_default();
        if faults.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
        }
        let Ok(mut clock) = self.fault_clock.lock() else {
            return None;
        };
        let (rng, seen, burst) = &mut *clock;
        *seen += 1;
        let decision = if *burst > 0 {
            *burst -= 1;
            Some(Fault::RateLimited)
        } else if faults.rate_limit_every > 0
            && faults.rate_limit_burst > 0
            && *seen % u64::from(faults.rate_limit_every) == 0
        {
            *burst = faults.rate_limit_burst - 1;
            Some(Fault::RateLimited)
        } else {
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            let roll = (*rng % 1_000_000) as f64 / 1_000_000.0;
            (roll < faults.error_rate).then_some(Fault::ServerError)
        };
        if decision.is_some() {
            if let Ok(mut s) = self.state.lock() {
                s.faults_injected += 1;
            }
        }
        decision
    }

    /// After a request was applied: whether its answer comes late, and by how much.
    pub(crate) fn late_answer(&self) -> Option<Duration> {
        let faults = self.faults.lock().map(|f| f.clone()).unwrap_or_default();
        if faults.late_answer_rate <= 0.0 {
            return None;
        }
        let mut clock = self.fault_clock.lock().ok()?;
        let rng = &mut clock.0;
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        let roll = (*rng % 1_000_000) as f64 / 1_000_000.0;
        drop(clock);
        let late = roll < faults.late_answer_rate;
        if late {
            if let Ok(mut s) = self.state.lock() {
                s.faults_injected += 1;
            }
        }
        late.then(|| Duration::from_millis(faults.late_answer_ms))
    }

    pub(crate) fn log_request(&self, api: &str, method: &Method, path: &str, status: u16) {
        if let Ok(mut s) = self.state.lock() {
            s.log(api, method.as_str(), path, status);
        }
        if let Ok(mut feed) = self.feed.lock() {
            feed.upstream(api, method.as_str(), path, status);
        }
    }
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

/// Agents and users first (seeded calls are made by the agents), then the contacts and calls.
async fn seed_route(
    AxumState(sandbox): AxumState<Sandbox>,
    Json(request): Json<SeedRequest>,
) -> Json<SeedSummary> {
    let agents = sandbox.seed_agents(&request.agents);
    let users = sandbox.seed_users(&request.users);
    let mut summary = sandbox.seed(&request.seed);
    summary.agents = agents;
    summary.users = users;
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
