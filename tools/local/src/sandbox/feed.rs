//! The console's event feed: every webhook the sandbox saw reach the bridge (a sample sent from
//! the console, CloudTalk's contact-created callback, GHL's delivery of a text to the SMS
//! provider, a request through the `/bridge` proxy),
//! with its endpoint, answer, duration and the upstream calls the sandbox served while it was in
//! flight; and the upstream calls made while no webhook the sandbox saw was in flight (the
//! bridge working for a sender that went to it directly), grouped. And the dead-letter queue's
//! parked events as last read.

use std::collections::VecDeque;
use std::time::Instant;

use bridge_operator::redrive::ParkedMessage;
use serde::Serialize;
use serde_json::Value;

use super::state::now;

/// Entries kept, newest first.
const KEPT: usize = 200;
/// Upstream calls this close together, outside any webhook, are one entry.
const UNSEEN_GAP_MS: u128 = 2_000;
/// Upstream calls listed per entry; the others are counted.
const CALLS_LISTED: usize = 50;

/// Who sent a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A sample sent with the console's button.
    Console,
    /// The sandbox's CloudTalk, calling the bridge back as its workflow automation would.
    #[serde(rename = "cloudtalk-workflow")]
    CloudTalkWorkflow,
    /// The sandbox's GoHighLevel, delivering a text a user sent to the SMS provider's Delivery
    /// URL.
    GhlDelivery,
    /// A request through the sandbox's `/bridge` proxy (e.g. `bridge send --base-url …/bridge`).
    Proxy,
    /// Upstream calls with no webhook the sandbox saw.
    Unseen,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Console => "console",
            Source::CloudTalkWorkflow => "CloudTalk workflow",
            Source::GhlDelivery => "GHL SMS delivery",
            Source::Proxy => "via /bridge",
            Source::Unseen => "not seen",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedEntry {
    pub id: u64,
    pub at: String,
    pub source: Source,
    pub method: String,
    pub path: String,
    /// The function serving the path (`ghl-new-contact`), when it is a bridge route.
    pub endpoint: Option<String>,
    pub sample: Option<String>,
    pub status: Option<u16>,
    /// `applied`, `already_linked`, `duplicate (applied)`, an error code, `queued`…
    pub outcome: Option<String>,
    pub message: Option<String>,
    /// The bridge ignored an echo of its own write.
    pub loop_prevention: bool,
    pub parked: bool,
    pub ghl_contact_id: Option<String>,
    pub cloudtalk_contact_id: Option<String>,
    /// `CloudTalk PUT /contacts/add.json → 200`, the first `CALLS_LISTED` (50).
    pub upstream: Vec<String>,
    /// Upstream calls beyond those listed.
    pub upstream_more: usize,
    pub duration_ms: Option<u64>,
    pub in_flight: bool,
    #[serde(skip)]
    started: Option<Instant>,
    #[serde(skip)]
    last_call: Option<Instant>,
}

/// The function serving a bridge path, per tenant routes included.
pub fn endpoint_of(method: &str, path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or_default();
    bridge::registry::routes()
        .into_iter()
        .find(|r| r.method.eq_ignore_ascii_case(method) && route_matches(r.route, path))
        .map(|r| r.function.to_string())
}

fn route_matches(route: &str, path: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (route.split('/').collect(), path.split('/').collect());
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(r, p)| r == p || (r.starts_with('{') && !p.is_empty()))
}

impl FeedEntry {
    /// All upstream calls, listed or not.
    pub fn calls(&self) -> usize {
        self.upstream.len() + self.upstream_more
    }

    fn call(&mut self, line: &str) {
        match self.upstream.len() < CALLS_LISTED {
            true => self.upstream.push(line.to_string()),
            false => self.upstream_more += 1,
        }
    }
}

#[derive(Default)]
pub struct Feed {
    next: u64,
    /// Newest first.
    entries: VecDeque<FeedEntry>,
}

impl Feed {
    /// A webhook on its way to the bridge; its id.
    pub fn begin(
        &mut self,
        source: Source,
        method: &str,
        path: &str,
        sample: Option<String>,
    ) -> u64 {
        self.next += 1;
        let entry = FeedEntry {
            id: self.next,
            at: now(),
            source,
            method: method.to_string(),
            path: path.to_string(),
            endpoint: endpoint_of(method, path),
            sample,
            status: None,
            outcome: None,
            message: None,
            loop_prevention: false,
            parked: false,
            ghl_contact_id: None,
            cloudtalk_contact_id: None,
            upstream: Vec::new(),
            upstream_more: 0,
            duration_ms: None,
            in_flight: true,
            started: Some(Instant::now()),
            last_call: None,
        };
        self.entries.push_front(entry);
        self.entries.truncate(KEPT);
        self.next
    }

    /// The bridge's answer (`Err`: why there was none).
    pub fn finish(&mut self, id: u64, answer: Result<(u16, Option<Value>), String>) {
        let Some(entry) = self.entries.iter_mut().find(|e| e.id == id) else {
            return;
        };
        entry.in_flight = false;
        entry.duration_ms = entry.started.map(|s| s.elapsed().as_millis() as u64);
        match answer {
            Err(why) => {
                entry.outcome = Some("no answer".into());
                entry.message = Some(why);
            }
            Ok((status, body)) => {
                entry.status = Some(status);
                let body = body.unwrap_or(Value::Null);
                let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
                let result = text("result")
                    .or_else(|| text("error"))
                    .or_else(|| text("status"));
                let duplicate = body.get("duplicate") == Some(&Value::Bool(true));
                entry.outcome = match (result, duplicate) {
                    (Some(r), true) => Some(format!("duplicate ({r})")),
                    (None, true) => Some("duplicate".into()),
                    (r, false) => r,
                };
                entry.message = text("message").or_else(|| text("reason"));
                entry.loop_prevention = text("result").as_deref() == Some("already_linked");
                entry.parked = body.get("parked") == Some(&Value::Bool(true));
                entry.ghl_contact_id = text("ghlContactId");
                entry.cloudtalk_contact_id = text("cloudtalkContactId");
            }
        }
    }

    /// An upstream call the sandbox served: it belongs to the webhooks in flight, else to the
    /// latest unseen group (or a new one).
    pub fn upstream(&mut self, api: &str, method: &str, path: &str, status: u16) {
        let name = match api {
            "cloudtalk" => "CloudTalk",
            "cloudtalk-ai" => "CloudTalk AI",
            "cloudtalk-analytics" => "CloudTalk analytics",
            _ => "GHL",
        };
        let line = format!("{name} {method} {path} → {status}");
        let mut attributed = false;
        for entry in self.entries.iter_mut().filter(|e| e.in_flight) {
            entry.call(&line);
            attributed = true;
        }
        if attributed {
            return;
        }
        let now = Instant::now();
        if let Some(latest) = self.entries.front_mut().filter(|e| {
            e.source == Source::Unseen
                && e.last_call
                    .is_some_and(|t| now.duration_since(t).as_millis() < UNSEEN_GAP_MS)
        }) {
            latest.call(&line);
            latest.last_call = Some(now);
            latest.duration_ms = latest.started.map(|s| s.elapsed().as_millis() as u64);
            return;
        }
        let id = self.begin(Source::Unseen, "", "", None);
        if let Some(entry) = self.entries.iter_mut().find(|e| e.id == id) {
            entry.in_flight = false;
            entry.message = Some(
                "upstream calls while no webhook the sandbox saw was in flight (sent to the bridge directly?)"
                    .into(),
            );
            entry.upstream.push(line);
            entry.last_call = Some(now);
            entry.duration_ms = Some(0);
        }
    }

    /// Newest first.
    pub fn entries(&self) -> impl Iterator<Item = &FeedEntry> {
        self.entries.iter()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// The dead-letter queue as the console last read it (re-read in the background, see
/// `console.rs`).
#[derive(Default)]
pub(crate) struct ParkedView {
    pub read_at: Option<Instant>,
    pub reading: bool,
    pub messages: Vec<ParkedMessage>,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_calls_and_the_loop_prevention_line() {
        let mut feed = Feed::default();
        let id = feed.begin(
            Source::Console,
            "POST",
            "/api/ghl-webhooks/new-contact",
            None,
        );
        feed.upstream("cloudtalk", "PUT", "/contacts/add.json", 200);
        feed.finish(
            id,
            Ok((
                200,
                Some(json!({"result": "applied", "cloudtalkContactId": "1000001"})),
            )),
        );
        let echo = feed.begin(
            Source::CloudTalkWorkflow,
            "POST",
            "/api/cloudtalk-webhooks/contact-created",
            None,
        );
        feed.finish(echo, Ok((200, Some(json!({"result": "already_linked"})))));
        let entries: Vec<&FeedEntry> = feed.entries().collect();
        assert_eq!(
            entries[0].endpoint.as_deref(),
            Some("cloudtalk-contact-created")
        );
        assert!(entries[0].loop_prevention && entries[0].upstream.is_empty());
        assert_eq!(
            entries[1].upstream,
            vec!["CloudTalk PUT /contacts/add.json → 200"]
        );
        assert_eq!(entries[1].cloudtalk_contact_id.as_deref(), Some("1000001"));
        assert!(!entries[1].loop_prevention && !entries[1].in_flight);
        assert_eq!(
            serde_json::to_value(entries[0].source).unwrap(),
            json!("cloudtalk-workflow")
        );
    }

    #[test]
    fn calls_outside_any_webhook_are_grouped_and_parked_answers_marked() {
        let mut feed = Feed::default();
        feed.upstream("ghl", "POST", "/contacts/upsert", 200);
        feed.upstream("ghl", "POST", "/contacts/x/notes", 201);
        let id = feed.begin(
            Source::Proxy,
            "POST",
            "/api/cloudtalk-webhooks/t1/call-ended",
            None,
        );
        feed.finish(
            id,
            Ok((
                422,
                Some(json!({"error": "refused", "message": "no", "parked": true})),
            )),
        );
        let entries: Vec<&FeedEntry> = feed.entries().collect();
        assert_eq!(entries.len(), 2);
        assert!(entries[0].parked);
        assert_eq!(
            entries[0].endpoint.as_deref(),
            Some("cloudtalk-call-ended"),
            "tenant route"
        );
        assert_eq!(
            (entries[1].source, entries[1].upstream.len()),
            (Source::Unseen, 2)
        );
        assert_eq!(endpoint_of("GET", "/health").as_deref(), Some("health"));
        assert_eq!(endpoint_of("POST", "/nowhere"), None);
    }
}
