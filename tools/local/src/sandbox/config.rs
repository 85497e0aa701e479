//! How the sandbox is set up: [`SandboxConfig`] (with [`SandboxConfig::from_env`]), its
//! [`Faults`] (and click-to-call's own, [`DialFault`]), its [`SandboxClock`] and the console's
//! [`ConsoleConfig`].

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::team::{default_agents, default_users, Agent, User};

/// Fault knobs, applied to both APIs (not to `/sandbox`). A fault answers without applying the
/// request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Delay before every answer.
    pub latency_ms: u64,
    /// Up to this much more delay, drawn for each request (uniform, deterministic): a
    /// request waits `latency_ms` to `latency_ms + latency_spread_ms`.
    pub latency_spread_ms: u64,
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

/// A fault of click-to-call alone (`GET|PUT /sandbox/faults/click-to-call`,
/// [`super::base::Sandbox::set_dial_fault`]): while `failing`, `POST /calls/create.json`
/// answers CloudTalk's 500 (`Something went wrong.`) without dialling, for the agents in
/// `agent_ids` (ids as strings or numbers), or for every agent when it is empty. Until
/// `{"failing": false}`, or a reset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DialFault {
    pub failing: bool,
    #[serde(deserialize_with = "agent_ids")]
    pub agent_ids: Vec<String>,
}

impl DialFault {
    /// Whether a click-to-call by agent `agent_id` fails.
    pub fn fails(&self, agent_id: &str) -> bool {
        self.failing && (self.agent_ids.is_empty() || self.agent_ids.iter().any(|a| a == agent_id))
    }
}

/// Agent ids as strings, from strings or numbers.
fn agent_ids<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    use serde::de::Error;
    let ids = Vec::<serde_json::Value>::deserialize(d)?;
    ids.into_iter()
        .map(|id| match id {
            serde_json::Value::String(s) => Ok(s),
            serde_json::Value::Number(n) => Ok(n.to_string()),
            other => Err(D::Error::custom(format!(
                "an agent id is a string or a number, not {other}"
            ))),
        })
        .collect()
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
    /// How many requests one `POST /bulk/contacts.json` (up to 10 commands) counts against the
    /// company's 60 a minute. CloudTalk does not document it: 1 (the default) if a bulk request
    /// costs what any request costs, 10 if it costs one per command it may carry (a cost of 0
    /// is taken as 1). Every CloudTalk answer's `X-CloudTalkAPI-Remaining` shows it, so a
    /// client reads the cost as the drop in `Remaining` across a bulk request; a bulk request
    /// that would take the minute over the limit is answered 429 (and counts as one request).
    /// Only with [`SandboxConfig::enforce_cloudtalk_limit`]: without it nothing is counted.
    pub bulk_request_cost: u32,
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
            bulk_request_cost: 1,
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
    /// `SANDBOX_BULK_REQUEST_COST` (1 when absent or unreadable), `SANDBOX_LATENCY_MS`, `SANDBOX_ERROR_RATE`, `SANDBOX_RATE_LIMIT_EVERY`,
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
            bulk_request_cost: var("SANDBOX_BULK_REQUEST_COST")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(d.bulk_request_cost),
            faults: Faults {
                latency_ms: num("SANDBOX_LATENCY_MS").unwrap_or(0),
                latency_spread_ms: num("SANDBOX_LATENCY_SPREAD_MS").unwrap_or(0),
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

/// How the console reaches the bridge.
#[derive(Clone, Debug)]
pub struct ConsoleConfig {
    /// The bridge's base URL (`cargo lambda watch` serves it on port 9000).
    pub bridge_url: String,
    /// The sample events the page offers.
    pub events_dir: PathBuf,
    /// The GHL webhook secret samples are sent with (else their own credential).
    pub ghl_webhook_secret: Option<String>,
    /// The dead-letter queue to show (SQS; `AWS_ENDPOINT_URL` for a local server).
    pub dead_letter_queue_url: Option<String>,
    pub aws_endpoint_url: Option<String>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            bridge_url: "http://127.0.0.1:9000".into(),
            events_dir: PathBuf::from("events"),
            ghl_webhook_secret: None,
            dead_letter_queue_url: None,
            aws_endpoint_url: None,
        }
    }
}
