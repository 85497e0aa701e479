//! `card-bench`: how long after a call-started webhook arrives the agent has its cue card.
//!
//! The sandbox plays both APIs over HTTP with every request taking `latency_ms` to
//! `latency_ms + spread_ms` (uniform, drawn per request: by default 100 to 300 ms, a GHL or
//! CloudTalk API answering from another continent); the bridge runs in this process, warm (one
//! call handled before the measured ones), with its stores in memory. Its location holds
//! `contacts` GHL contacts, each with an owner, an open opportunity, tags and a note.
//!
//! The deployment's default budgets (GHL 100 requests per 10 s, CloudTalk 50 a minute) and a
//! call starting every 1.5 s (`every_ms`: 40 calls a minute, each card a request of CloudTalk's
//! budget), so that the budget has a token for each card. Three cases,
//! `contacts` calls each, one after the other:
//! - `known, first call`: a caller GHL holds, whose CloudTalk contact is not linked yet (the
//!   card finds them by GHL's duplicate search, then reads their record);
//! - `known, again within a minute`: the latest half of those callers again, latest first,
//!   each within a minute of their first call (linked now; the card of their first call is
//!   shown again without reading GHL);
//! - `not in GHL`: numbers GHL does not know (the search, then the "not in GHL" card).
//!
//! For each call: the time from the webhook's arrival (`bridge::route` called) to CloudTalk
//! holding the card (the sandbox stamps the card when it handles it, after the request's
//! latency), the time to the webhook's answer (the note written too), and the requests each API
//! received for the whole event.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bridge::config::Settings;
use bridge::{Backends, Deps};
use bridge_local::sandbox::{Faults, Sandbox, SandboxConfig};
use serde_json::{json, Value};

const CLOUDTALK_SECRET: &str = "card-bench-cloudtalk-secret";
const LOCATION: &str = "sandbox-location";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchOptions {
    pub contacts: usize,
    pub latency_ms: u64,
    pub spread_ms: u64,
    /// A call starts every this many ms: 40 calls a minute, each card one request of CloudTalk's
    /// 60 a minute (the deployment budgets 50), and GHL's 100 requests per 10 s hold.
    pub every_ms: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            contacts: 60,
            latency_ms: 100,
            spread_ms: 200,
            every_ms: 1500,
        }
    }
}

/// The pause between two seeding requests: under GHL's 100 requests per 10 s.
const SEED_PACE: Duration = Duration::from_millis(110);

/// One case's figures.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: &'static str,
    /// Webhook → card held by CloudTalk, per call, sorted.
    pub to_card: Vec<Duration>,
    /// Webhook → answer, per call, sorted.
    pub to_answer: Vec<Duration>,
    /// Calls without a card (none posted, or not answered 200).
    pub without_card: usize,
    pub cloudtalk_requests: f64,
    pub ghl_requests: f64,
}

/// The `q` quantile (nearest rank) of sorted durations, in ms.
pub fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

impl Case {
    pub fn row(&self) -> String {
        format!(
            "| {} | {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.1} | {:.1} |",
            self.name,
            self.to_card.len(),
            quantile_ms(&self.to_card, 0.5),
            quantile_ms(&self.to_card, 0.95),
            quantile_ms(&self.to_card, 1.0),
            quantile_ms(&self.to_answer, 0.5),
            self.cloudtalk_requests,
            self.ghl_requests,
        )
    }
}

pub const HEADER: &str = "| case | calls | webhook → card p50 | p95 | max | webhook → answer p50 | CloudTalk requests / call | GHL requests / call |\n|---|---|---|---|---|---|---|---|";

fn settings(sandbox_url: &str) -> Settings {
    let vars = [
        ("CLOUDTALK_API_BASE", format!("{sandbox_url}/cloudtalk/api")),
        (
            "CLOUDTALK_PLATFORM_API_BASE",
            format!("{sandbox_url}/cloudtalk/platform"),
        ),
        ("CLOUDTALK_API_KEY_ID", "sandbox-key-id".into()),
        ("CLOUDTALK_API_KEY_SECRET", "sandbox-key-secret".into()),
        ("CLOUDTALK_WEBHOOK_SECRET", CLOUDTALK_SECRET.into()),
        ("GHL_API_BASE", format!("{sandbox_url}/ghl")),
        ("GHL_API_TOKEN", "sandbox-ghl-token".into()),
        ("GHL_LOCATION_ID", LOCATION.into()),
        ("DEFAULT_PHONE_REGION", "IT".into()),
    ];
    Settings::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
}

/// The phone of known caller `i`, and of unknown caller `i`.
fn phone(i: usize, known: bool) -> String {
    let base = if known { 1_000_000 } else { 5_000_000 };
    format!("+39351{:07}", base + i)
}

/// GHL contact `i` with its record: an owner, tags, an open opportunity and a note.
async fn seed_contact(http: &reqwest::Client, url: &str, i: usize) -> Result<(), String> {
    let ghl = |path: &str| format!("{url}/ghl{path}");
    let send = |method: reqwest::Method, path: String, body: Value| {
        http.request(method, ghl(&path))
            .bearer_auth("sandbox-ghl-token")
            .header("version", "2021-07-28")
            .json(&body)
            .send()
    };
    let created: Value = send(
        reqwest::Method::POST,
        "/contacts/".into(),
        json!({"locationId": LOCATION, "firstName": "Caller", "lastName": format!("{i}"),
            "phone": phone(i, true), "tags": ["lead", "webinar"], "assignedTo": "usr_anna"}),
    )
    .await
    .map_err(|e| e.to_string())?
    .json()
    .await
    .map_err(|e| e.to_string())?;
    tokio::time::sleep(SEED_PACE).await;
    let id = created["contact"]["id"]
        .as_str()
        .ok_or_else(|| format!("no contact id: {created}"))?
        .to_string();
    let writes = [
        (
            reqwest::Method::POST,
            "/opportunities/".to_string(),
            json!({"pipelineId": "sandbox-pipeline", "pipelineStageId": "proposal",
                "locationId": LOCATION, "name": format!("Deal {i}"), "status": "open",
                "contactId": id, "monetaryValue": 2500}),
        ),
        (
            reqwest::Method::POST,
            format!("/contacts/{id}/notes"),
            json!({"body": "Prefers calls after 5 pm; asked for the premium plan."}),
        ),
    ];
    for (method, path, body) in writes {
        tokio::time::sleep(SEED_PACE).await;
        let answer = send(method, path.clone(), body)
            .await
            .map_err(|e| e.to_string())?;
        if !answer.status().is_success() {
            return Err(format!("{path}: {}", answer.status()));
        }
    }
    Ok(())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

fn counters(sandbox: &Sandbox) -> (u64, u64) {
    let state = sandbox.state_json();
    let get = |k: &str| state["counters"][k].as_u64().unwrap_or(0);
    (get("cloudtalkRequests"), get("ghlRequests"))
}

/// One call: its uuid, its CloudTalk call id, the caller's CloudTalk contact id and number.
type Caller = (String, u64, u64, String);

fn call_started((uuid, call_id, contact_id, number): &Caller) -> lambda_http::Request {
    let body = json!({"call_id": call_id, "call_uuid": uuid,
        "contact_id": contact_id, "external_number": number.trim_start_matches('+'),
        "direction": "incoming", "agent_id": 42});
    lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://bridge.bench/api/cloudtalk-webhooks/call-started")
        .header("authorization", format!("Bearer {CLOUDTALK_SECRET}"))
        .body(lambda_http::Body::Text(body.to_string()))
        .unwrap_or_default()
}

/// When the sandbox took the card of call `uuid`, in Unix ms, if it was shown.
fn card_at(sandbox: &Sandbox, uuid: &str) -> Option<i64> {
    let card = sandbox
        .cue_cards()
        .into_iter()
        .find(|c| c.call_uuid == uuid && c.status == 200)?;
    chrono::DateTime::parse_from_rfc3339(&card.at)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// One case: a call-started webhook per caller, one after the other.
async fn case(
    name: &'static str,
    deps: &Deps,
    sandbox: &Sandbox,
    callers: &[Caller],
    every: Duration,
) -> Case {
    let mut measured = Case {
        name,
        to_card: Vec::new(),
        to_answer: Vec::new(),
        without_card: 0,
        cloudtalk_requests: 0.0,
        ghl_requests: 0.0,
    };
    let before = counters(sandbox);
    for caller in callers {
        let next = tokio::time::Instant::now() + every;
        let (arrived, started) = (now_ms(), Instant::now());
        let answer = bridge::route(deps, call_started(caller)).await;
        measured.to_answer.push(started.elapsed());
        match card_at(sandbox, &caller.0) {
            Some(at) if answer.status() == 200 => measured
                .to_card
                .push(Duration::from_millis((at - arrived).max(0) as u64)),
            _ => measured.without_card += 1,
        }
        tokio::time::sleep_until(next).await;
    }
    let after = counters(sandbox);
    let calls = callers.len().max(1) as f64;
    measured.cloudtalk_requests = (after.0 - before.0) as f64 / calls;
    measured.ghl_requests = (after.1 - before.1) as f64 / calls;
    measured.to_card.sort();
    measured.to_answer.sort();
    measured
}

/// Seeds a sandbox and measures the three cases.
pub async fn bench(options: &BenchOptions) -> Result<Vec<Case>, String> {
    let config = SandboxConfig {
        quiet: true,
        ..SandboxConfig::default()
    };
    let (url, sandbox) = Sandbox::spawn(config).await;
    let http = reqwest::Client::new();
    for i in 0..options.contacts {
        seed_contact(&http, &url, i).await?;
    }
    let deps = Arc::new(
        Deps::build(settings(&url), Backends::in_memory())
            .map_err(|e| format!("the bench's clients could not be built: {e}"))?,
    );
    sandbox.set_faults(Faults {
        latency_ms: options.latency_ms,
        latency_spread_ms: options.spread_ms,
        ..Faults::default()
    });
    // Warm: the agents and users directories, the pipelines, the connections.
    let every = Duration::from_millis(options.every_ms);
    let warm = [(
        "bench-warm".to_string(),
        9_999_999,
        8_999_999,
        phone(999_999, false),
    )];
    case("warm-up", &deps, &sandbox, &warm, every).await;
    let known: Vec<Caller> = (0..options.contacts)
        .map(|i| {
            let n = i as u64;
            (
                format!("bench-a-{i}"),
                9_000_000 + n,
                7_000_000 + n,
                phone(i, true),
            )
        })
        .collect();
    // The latest half, latest first: each calls again within a minute of their first call.
    let again: Vec<Caller> = known[options.contacts / 2..]
        .iter()
        .rev()
        .map(|(uuid, call_id, contact_id, number)| {
            (
                uuid.replace("-a-", "-b-"),
                call_id + 100_000,
                *contact_id,
                number.clone(),
            )
        })
        .collect();
    let unknown: Vec<Caller> = (0..options.contacts)
        .map(|i| {
            let n = i as u64;
            (
                format!("bench-c-{i}"),
                9_200_000 + n,
                8_000_000 + n,
                phone(i, false),
            )
        })
        .collect();
    Ok(vec![
        case("known, first call", &deps, &sandbox, &known, every).await,
        case(
            "known, again within a minute",
            &deps,
            &sandbox,
            &again,
            every,
        )
        .await,
        case("not in GHL", &deps, &sandbox, &unknown, every).await,
    ])
}
