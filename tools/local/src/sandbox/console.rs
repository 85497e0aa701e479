//! The local console at `/`: one server-rendered page with a little script. Side by side, the
//! sandbox's CloudTalk and GoHighLevel contacts (tags, notes, activities, a GHL contact's owner,
//! tasks and Do Not Disturb, its latest `[CloudTalk AI summary]` note as a "Summary" block and
//! its `call: …` tags apart, and the links between them), CloudTalk's click-to-call dials
//! (newest first: time, agent, number, answer), blacklist (number, type, id) and cue cards
//! (newest first: the card each call got, rendered in a sandboxed frame), the live
//! event feed (each webhook, its endpoint, outcome, upstream calls and duration, newest first;
//! the loop-prevention line when the bridge ignored an echo of its own write), and the parked
//! events (answers that said `parked`, and the dead-letter queue when one is configured). One
//! click sends any sample of `events/` to the bridge, with the credential `bridge send` would
//! use.
//!
//! The page is built in `console_page.rs`, with [`maud`] templates; this file serves it.
//!
//! Routes: `GET /` the page, `GET /console/live` its live part (the script polls it),
//! `POST /console/send` (`sample=<folder>/<file>.json`), `POST /console/reset`,
//! `GET /console/feed` the feed as JSON, and `/bridge/…`, a proxy to the bridge that records
//! what goes through it (`bridge send --base-url http://127.0.0.1:8787/bridge`).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::base::Sandbox;
use super::console_page::{live, page};
use super::feed::{FeedEntry, Source};
use bridge_operator::redrive::DeadLetterQueue;
use bridge_operator::sender::{self, SendOptions};

pub use super::config::ConsoleConfig;

/// How often the page re-reads the dead-letter queue.
const PARKED_REFRESH: Duration = Duration::from_secs(5);

/// The console's routes.
pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/", get(page_route))
        .route("/console/live", get(live_route))
        .route("/console/feed", get(feed_route))
        .route("/console/send", post(send_route))
        .route("/console/reset", post(reset_route))
        .route("/bridge", any(proxy_route))
        .route("/bridge/{*rest}", any(proxy_route))
}

/// The samples under the events folder, as `<folder>/<file>`, in the order `bridge send` sends
/// them.
pub fn samples(dir: &Path) -> Vec<String> {
    sender::collect(&[dir.to_path_buf()])
        .unwrap_or_default()
        .iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(dir).ok()?;
            Some(rel.to_string_lossy().replace('\\', "/"))
        })
        .collect()
}

/// Re-reads the dead-letter queue in the background when the last read is old.
fn refresh_parked(sandbox: &Sandbox) {
    let console = &sandbox.inner.config.console;
    let Some(url) = console.dead_letter_queue_url.clone() else {
        return;
    };
    {
        let Ok(mut view) = sandbox.inner.parked.lock() else {
            return;
        };
        if view.reading || view.read_at.is_some_and(|t| t.elapsed() < PARKED_REFRESH) {
            return;
        }
        view.reading = true;
    }
    let endpoint = console.aws_endpoint_url.clone();
    let sandbox = sandbox.clone();
    tokio::spawn(async move {
        let mut loader = aws_config::from_env();
        if let Some(endpoint) = endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let client = aws_sdk_sqs::Client::new(&loader.load().await);
        let mut dlq = DeadLetterQueue::new(client, url);
        // Held only while it is read; visible again right after.
        dlq.hold_secs = 10;
        let read = dlq.list(|_| {}).await;
        if let Ok(mut view) = sandbox.inner.parked.lock() {
            view.reading = false;
            view.read_at = Some(Instant::now());
            match read {
                Ok(messages) => {
                    view.messages = messages;
                    view.error = None;
                }
                Err(e) => view.error = Some(e.to_string()),
            }
        }
    });
}

async fn page_route(AxumState(sandbox): AxumState<Sandbox>) -> Html<String> {
    refresh_parked(&sandbox);
    let samples = samples(&sandbox.inner.config.console.events_dir);
    Html(page(&sandbox, &samples).into_string())
}

/// What the page's script polls.
async fn live_route(AxumState(sandbox): AxumState<Sandbox>) -> Html<String> {
    refresh_parked(&sandbox);
    Html(live(&sandbox).into_string())
}

async fn feed_route(AxumState(sandbox): AxumState<Sandbox>) -> Json<Value> {
    Json(
        sandbox
            .inner
            .feed
            .lock()
            .map(|f| json!(f.entries().collect::<Vec<_>>()))
            .unwrap_or(Value::Null),
    )
}

async fn reset_route(AxumState(sandbox): AxumState<Sandbox>) -> Redirect {
    sandbox.reset();
    Redirect::to("/")
}

fn form_value(body: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(body).split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| {
            urlencoding::decode(&v.replace('+', " "))
                .map(|v| v.into_owned())
                .unwrap_or_default()
        })
    })
}

/// `POST /console/send`: sends one sample to the bridge and records it in the feed.
async fn send_route(
    AxumState(sandbox): AxumState<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let wants_json = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let console = sandbox.inner.config.console.clone();
    let known: BTreeSet<String> = samples(&console.events_dir).into_iter().collect();
    let Some(sample) = form_value(&body, "sample").filter(|s| known.contains(s)) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unknown_sample", "message": "sample must name a file of the events folder, e.g. ghl-new-contact/nested.json"})),
        )
            .into_response();
    };
    let entry = send_sample(&sandbox, &console, &sample).await;
    match wants_json {
        true => Json(json!(entry)).into_response(),
        false => Redirect::to("/").into_response(),
    }
}

/// Sends a sample as `bridge send` would and records it; the feed entry.
pub async fn send_sample(
    sandbox: &Sandbox,
    console: &ConsoleConfig,
    sample: &str,
) -> Option<FeedEntry> {
    let file = console.events_dir.join(sample);
    let event: Value = std::fs::read(&file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let method = event
        .pointer("/requestContext/http/method")
        .and_then(Value::as_str)
        .unwrap_or("POST")
        .to_string();
    let path = event
        .get("rawPath")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let id = sandbox.inner.feed.lock().ok()?.begin(
        Source::Console,
        &method,
        &path,
        Some(sample.to_string()),
    );
    let options = SendOptions {
        base_url: console.bridge_url.clone(),
        ghl_secret: console.ghl_webhook_secret.clone(),
        cloudtalk_secret: sandbox.inner.config.cloudtalk_webhook_secret.clone(),
        timeout: Duration::from_secs(60),
        resign: true,
    };
    let sent = sender::send(&sandbox.inner.http, &options, &file).await;
    let answer = sent.status.map(|status| (status, sent.answer));
    let mut feed = sandbox.inner.feed.lock().ok()?;
    feed.finish(id, answer);
    let entry = feed.entries().find(|e| e.id == id).cloned();
    entry
}

/// `/bridge/…`: forwards a request to the bridge and records it.
async fn proxy_route(
    AxumState(sandbox): AxumState<Sandbox>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().strip_prefix("/bridge").unwrap_or(uri.path());
    let path = if path.is_empty() { "/" } else { path };
    let id = sandbox
        .inner
        .feed
        .lock()
        .map(|mut f| f.begin(Source::Proxy, method.as_str(), path, None))
        .unwrap_or_default();
    let bridge = sandbox
        .inner
        .config
        .console
        .bridge_url
        .trim_end_matches('/');
    let url = match uri.query() {
        Some(query) => format!("{bridge}{path}?{query}"),
        None => format!("{bridge}{path}"),
    };
    let answer = forward(&sandbox, method, &url, &headers, body).await;
    if let Ok(mut feed) = sandbox.inner.feed.lock() {
        let recorded = answer
            .as_ref()
            .map(|a| (a.status, serde_json::from_slice::<Value>(&a.body).ok()))
            .map_err(Clone::clone);
        feed.finish(id, recorded);
    }
    match answer {
        Ok(a) => (
            StatusCode::from_u16(a.status).unwrap_or(StatusCode::BAD_GATEWAY),
            [("content-type", a.content_type)],
            a.body,
        )
            .into_response(),
        Err(why) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({"error": "bridge_unreachable", "message": why})),
        )
            .into_response(),
    }
}

/// The bridge's answer to a proxied request.
struct Forwarded {
    status: u16,
    content_type: String,
    body: Bytes,
}

/// Headers of one hop, not forwarded.
const HOP_HEADERS: [&str; 5] = [
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "expect",
];

/// Sends the request on to `url`; the answer, or why there is none.
async fn forward(
    sandbox: &Sandbox,
    method: Method,
    url: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Forwarded, String> {
    let mut request = sandbox.inner.http.request(method, url);
    for (name, value) in headers {
        if !HOP_HEADERS.contains(&name.as_str()) {
            request = request.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = request.body(body.to_vec()).send().await;
    let answer = answer.map_err(|e| e.without_url().to_string())?;
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    Ok(Forwarded {
        status: answer.status().as_u16(),
        content_type,
        body: answer.bytes().await.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_decoded() {
        assert_eq!(
            form_value(b"x=1&sample=ghl-new-contact%2Fnested.json", "sample").as_deref(),
            Some("ghl-new-contact/nested.json")
        );
        assert_eq!(form_value(b"sample=a+b", "sample").as_deref(), Some("a b"));
        assert_eq!(form_value(b"other=1", "sample"), None);
    }

    #[test]
    fn the_samples_are_the_http_events_of_the_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
        let samples = samples(&dir);
        assert!(samples.contains(&"ghl-new-contact/nested.json".to_string()));
        assert!(
            !samples.iter().any(|s| s.starts_with("retry-worker/")),
            "SQS samples are not webhooks"
        );
        assert_eq!(
            samples[0].split('/').next(),
            Some("ghl-new-contact"),
            "contacts first"
        );
    }
}
