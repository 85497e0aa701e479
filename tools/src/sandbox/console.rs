//! The local console at `/`: one server-rendered page with a little script. Side by side, the
//! sandbox's CloudTalk and GoHighLevel contacts (tags, notes, activities, a GHL contact's owner
//! and tasks, its latest `[CloudTalk AI summary]` note as a "Summary" block and its `call: …`
//! tags apart, and the links between them), CloudTalk's click-to-call dials (newest first:
//! time, agent, number, answer), the live event feed (each webhook, its endpoint,
//! outcome, upstream calls and duration, newest first; the loop-prevention line when the bridge
//! ignored an echo of its own write), and the parked events (answers that said `parked`, and
//! the dead-letter queue when one is configured). One click sends any sample of `events/` to the
//! bridge, with the credential `send-events` would use.
//!
//! Routes: `GET /` the page, `GET /console/live` its live part (the script polls it),
//! `POST /console/send` (`sample=<folder>/<file>.json`), `POST /console/reset`,
//! `GET /console/feed` the feed as JSON, and `/bridge/…`, a proxy to the bridge that records
//! what goes through it (`send-events --base-url http://127.0.0.1:8787/bridge`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use serde_json::{json, Value};

use super::feed::{FeedEntry, Source};
use super::{Dial, Sandbox};
use crate::redrive::{group, DeadLetterQueue, ParkedMessage};
use crate::sender::{self, SendOptions};

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

/// The dead-letter queue as last read.
#[derive(Default)]
pub(crate) struct ParkedView {
    read_at: Option<Instant>,
    reading: bool,
    messages: Vec<ParkedMessage>,
    error: Option<String>,
}

/// How often the page re-reads the dead-letter queue.
const PARKED_REFRESH: Duration = Duration::from_secs(5);

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The samples under the events folder, as `<folder>/<file>`, in the order `send-events` sends
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

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
header { background: #1d2330; color: #fff; padding: 10px 16px; display: flex; gap: 16px; align-items: baseline; }
header h1 { font-size: 18px; margin: 0; }
header .muted { color: #aab; }
main { display: grid; grid-template-columns: 230px 1fr 1fr 1.3fr; gap: 12px; padding: 12px; align-items: start; }
#live { display: contents; }
section { background: #fff; border-radius: 6px; padding: 10px; box-shadow: 0 1px 2px #0002; min-width: 0; }
h2 { font-size: 15px; margin: 0 0 8px; }
h3 { font-size: 12px; margin: 8px 0 4px; text-transform: uppercase; color: #667; }
.card { border: 1px solid #dde; border-radius: 5px; padding: 6px 8px; margin-bottom: 8px; }
.card:target { outline: 2px solid #3b7ddd; }
.id { color: #778; font-family: ui-monospace, monospace; font-size: 12px; }
.chip { display: inline-block; background: #e6eefc; color: #234; border-radius: 9px; padding: 0 7px; margin: 1px; font-size: 12px; }
.link { color: #1a7f37; font-size: 12px; }
.owner { color: #556; font-size: 12px; }
.chip.call { background: #fff1d6; color: #5a3b00; }
.summary { background: #f3f8ff; border-left: 3px solid #3b7ddd; padding: 2px 6px; margin: 4px 0; font-size: 13px; }
ul { margin: 2px 0; padding-left: 18px; }
.samples form { margin: 0; }
.samples button { display: block; width: 100%; text-align: left; margin: 2px 0; padding: 3px 6px; border: 1px solid #ccd; background: #fafbff; border-radius: 4px; cursor: pointer; font-size: 12px; }
.samples button:hover { background: #e6eefc; }
.samples .expect { float: right; color: #889; }
.event { border-left: 4px solid #99a; padding: 4px 8px; margin-bottom: 6px; background: #fafbfc; }
.event.ok { border-color: #2da44e; } .event.refused { border-color: #d4a72c; } .event.failed { border-color: #cf222e; }
.event.loop { border-color: #8250df; background: #f6f0ff; }
.event .head { display: flex; gap: 8px; flex-wrap: wrap; align-items: baseline; }
.event .outcome { font-weight: 600; }
.loop-line { color: #8250df; font-weight: 600; }
.dial { border-left: 4px solid #99a; padding: 2px 8px; margin-bottom: 4px; background: #fafbfc; font-size: 13px; }
.dial.ok { border-color: #2da44e; } .dial.refused { border-color: #d4a72c; } .dial.failed { border-color: #cf222e; }
.dial .outcome { font-weight: 600; }
.parked { border-left: 4px solid #cf222e; padding: 4px 8px; margin-bottom: 6px; background: #fff5f5; }
.empty { color: #889; font-style: italic; }
#status { color: #ccd; }
"#;

const SCRIPT: &str = r#"
const live = document.getElementById('live');
const status = document.getElementById('status');
let last = '';
async function refresh() {
  try {
    const r = await fetch('/console/live', {cache: 'no-store'});
    if (!r.ok) return;
    const html = await r.text();
    if (html !== last) { last = html; live.innerHTML = html; }
  } catch (e) { status.textContent = 'sandbox unreachable'; }
}
setInterval(refresh, 1000);
document.addEventListener('submit', async (event) => {
  const form = event.target;
  if (!form.matches('form.send')) return;
  event.preventDefault();
  const button = event.submitter;
  button.disabled = true;
  status.textContent = 'sending ' + button.value + '…';
  try {
    const r = await fetch(form.action, {method: 'POST', headers: {accept: 'application/json'},
      body: new URLSearchParams({sample: button.value})});
    const entry = await r.json();
    status.textContent = button.value + ' → ' + (entry.status ?? '') + ' ' + (entry.outcome ?? entry.error ?? '');
  } catch (e) { status.textContent = 'sending failed: ' + e; }
  button.disabled = false;
  refresh();
});
"#;

/// The whole page.
pub(crate) fn page(sandbox: &Sandbox) -> String {
    let console = &sandbox.inner.config.console;
    let mut samples_html = String::new();
    let mut folder = String::new();
    for sample in samples(&console.events_dir) {
        let (dir, file) = sample.split_once('/').unwrap_or(("", sample.as_str()));
        if dir != folder {
            if !folder.is_empty() {
                samples_html.push_str("</form>");
            }
            folder = dir.to_string();
            let _ = write!(
                samples_html,
                r#"<h3>{}</h3><form class="send" method="post" action="/console/send">"#,
                esc(dir)
            );
        }
        let stem = file.trim_end_matches(".json");
        let _ = write!(
            samples_html,
            r#"<button type="submit" name="sample" value="{v}" data-sample="{v}">{stem}<span class="expect">{code}</span></button>"#,
            v = esc(&sample),
            stem = esc(stem),
            code = bridge::expected_sample_status(stem),
        );
    }
    if folder.is_empty() {
        let _ = write!(
            samples_html,
            r#"<p class="empty">no samples in {}</p>"#,
            esc(&console.events_dir.display().to_string())
        );
    } else {
        samples_html.push_str("</form>");
    }
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bridge console</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>
<body>
<header><h1>GHL ↔ CloudTalk bridge · local console</h1>
<span class="muted">bridge {bridge}</span><span id="status"></span>
<form method="post" action="/console/reset" style="margin-left:auto"><button type="submit">reset sandbox</button></form></header>
<main>
<section class="samples"><h2>Send a sample</h2>{samples_html}</section>
<div id="live">{live}</div>
</main>
<script>{SCRIPT}</script>
</body></html>"#,
        bridge = esc(&console.bridge_url),
        live = live(sandbox),
    )
}

/// A pair of linked contacts and what tells so.
struct Link {
    cloudtalk: String,
    ghl: String,
    why: &'static str,
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// The live part: contacts, feed, parked.
pub(crate) fn live(sandbox: &Sandbox) -> String {
    refresh_parked(sandbox);
    let feed: Vec<FeedEntry> = sandbox
        .inner
        .feed
        .lock()
        .map(|f| f.entries().cloned().collect())
        .unwrap_or_default();
    let Ok(state) = sandbox.inner.state.lock() else {
        return "<section>the sandbox's state is unavailable</section>".into();
    };
    let mut links: Vec<Link> = Vec::new();
    let add = |links: &mut Vec<Link>, cloudtalk: &str, ghl: &str, why| {
        if !links
            .iter()
            .any(|l| l.cloudtalk == cloudtalk && l.ghl == ghl)
        {
            links.push(Link {
                cloudtalk: cloudtalk.to_string(),
                ghl: ghl.to_string(),
                why,
            });
        }
    };
    for e in feed.iter().rev() {
        if let (Some(ct), Some(ghl)) = (&e.cloudtalk_contact_id, &e.ghl_contact_id) {
            add(&mut links, ct, ghl, "the bridge's answer");
        }
    }
    for ct in state.ct_contacts.values() {
        for ghl in state.ghl_contacts.values() {
            let url_names = ct.external_urls.iter().any(|u| {
                u.get("url")
                    .and_then(Value::as_str)
                    .is_some_and(|url| url.contains(&ghl.id))
            });
            let phone = ghl.phone.as_deref().map(digits).filter(|p| !p.is_empty());
            let same_phone = phone.is_some_and(|p| ct.numbers.iter().any(|n| digits(n) == p));
            let same_email = ghl
                .email
                .as_deref()
                .is_some_and(|m| ct.emails.iter().any(|e| e.eq_ignore_ascii_case(m)));
            if url_names {
                add(&mut links, &ct.id, &ghl.id, "CloudTalk's external URL");
            } else if same_phone {
                add(&mut links, &ct.id, &ghl.id, "same phone");
            } else if same_email {
                add(&mut links, &ct.id, &ghl.id, "same email");
            }
        }
    }
    let mut ct_html = String::new();
    for c in state.ct_contacts.values() {
        let _ = write!(
            ct_html,
            r#"<div class="card" id="ct-{id}"><b>{name}</b> <span class="id">{id}</span><div>{reach}</div>"#,
            id = esc(&c.id),
            name = esc(&c.name),
            reach = esc(&c
                .numbers
                .iter()
                .chain(&c.emails)
                .cloned()
                .collect::<Vec<_>>()
                .join(" · ")),
        );
        for t in &c.tags {
            let _ = write!(ct_html, r#"<span class="chip">{}</span>"#, esc(t));
        }
        let notes: Vec<&str> = super::state::of_contact(&state.ct_notes, &c.id)
            .iter()
            .map(|n| n.note.as_str())
            .collect();
        list(&mut ct_html, "notes", &notes);
        let activities: Vec<String> = super::state::of_contact(&state.ct_activities, &c.id)
            .iter()
            .map(|a| format!("{} ({})", a.name, a.kind))
            .collect();
        list(
            &mut ct_html,
            "activities",
            &activities.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        for l in links.iter().filter(|l| l.cloudtalk == c.id) {
            let other = if state.ghl_contacts.contains_key(&l.ghl) {
                format!(r##"<a href="#ghl-{t}">GHL {t}</a>"##, t = esc(&l.ghl))
            } else {
                format!("GHL {} (not in the sandbox)", esc(&l.ghl))
            };
            let _ = write!(
                ct_html,
                r#"<div class="link">↔ {other} · {}</div>"#,
                esc(l.why)
            );
        }
        ct_html.push_str("</div>");
    }
    if ct_html.is_empty() {
        ct_html.push_str(r#"<p class="empty">no contacts yet</p>"#);
    }

    let mut ghl_html = String::new();
    for c in state.ghl_contacts.values() {
        let name = c
            .name
            .clone()
            .or_else(|| {
                let full = format!(
                    "{} {}",
                    c.first_name.as_deref().unwrap_or_default(),
                    c.last_name.as_deref().unwrap_or_default()
                );
                (!full.trim().is_empty()).then(|| full.trim().to_string())
            })
            .unwrap_or_else(|| "(no name)".into());
        let reach: Vec<&str> = c.phone.iter().chain(&c.email).map(String::as_str).collect();
        let _ = write!(
            ghl_html,
            r#"<div class="card" id="ghl-{id}"><b>{name}</b> <span class="id">{id}</span><div>{reach}</div>"#,
            id = esc(&c.id),
            name = esc(&name),
            reach = esc(&reach.join(" · ")),
        );
        if let Some(owner) = &c.assigned_to {
            let _ = write!(
                ghl_html,
                r#"<div class="owner">owner: {}</div>"#,
                esc(&state.user_label(owner))
            );
        }
        let (call_tags, tags): (Vec<&String>, Vec<&String>) =
            c.tags.iter().partition(|t| call_tag(t).is_some());
        for t in tags {
            let _ = write!(ghl_html, r#"<span class="chip">{}</span>"#, esc(t));
        }
        if !call_tags.is_empty() {
            ghl_html.push_str(r#"<div class="call-tags"><h3>call tags</h3>"#);
            for t in call_tags {
                let _ = write!(
                    ghl_html,
                    r#"<span class="chip call" title="{}">{}</span>"#,
                    esc(t),
                    esc(call_tag(t).unwrap_or(t))
                );
            }
            ghl_html.push_str("</div>");
        }
        let (summaries, notes): (Vec<&str>, Vec<&str>) =
            super::state::of_contact(&state.ghl_notes, &c.id)
                .iter()
                .map(|n| n.body.as_str())
                .partition(|n| summary_lines(n).is_some());
        if let Some(latest) = summaries.last().and_then(|n| summary_lines(n)) {
            ghl_html.push_str(r#"<div class="summary"><h3>Summary</h3>"#);
            for line in latest {
                let _ = write!(ghl_html, "<div>{}</div>", esc(&line));
            }
            if summaries.len() > 1 {
                let _ = write!(
                    ghl_html,
                    r#"<div class="id">and {} earlier summary note(s)</div>"#,
                    summaries.len() - 1
                );
            }
            ghl_html.push_str("</div>");
        }
        list(&mut ghl_html, "notes", &notes);
        let tasks: Vec<String> = super::state::of_contact(&state.ghl_tasks, &c.id)
            .iter()
            .map(|t| {
                let due = t
                    .due_date
                    .get(..16)
                    .unwrap_or(&t.due_date)
                    .replace('T', " ");
                let assignee = t
                    .assigned_to
                    .as_deref()
                    .map(|u| format!(" · {}", state.user_label(u)))
                    .unwrap_or_default();
                let done = if t.completed { "completed" } else { "open" };
                format!("{} · due {due} UTC{assignee} · {done}", t.title)
            })
            .collect();
        list(
            &mut ghl_html,
            "tasks",
            &tasks.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let opportunities: Vec<String> =
            super::state::of_contact(state.opportunities.values(), &c.id)
                .iter()
                .map(|o| {
                    format!(
                        "{} at {}",
                        o.name,
                        o.pipeline_stage_id.as_deref().unwrap_or("?")
                    )
                })
                .collect();
        list(
            &mut ghl_html,
            "opportunities",
            &opportunities.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        for l in links.iter().filter(|l| l.ghl == c.id) {
            let known = state.ct_contacts.contains_key(&l.cloudtalk);
            let other = if known {
                format!(
                    r##"<a href="#ct-{t}">CloudTalk {t}</a>"##,
                    t = esc(&l.cloudtalk)
                )
            } else {
                format!("CloudTalk {} (not in the sandbox)", esc(&l.cloudtalk))
            };
            let _ = write!(
                ghl_html,
                r#"<div class="link">↔ {other} · {}</div>"#,
                esc(l.why)
            );
        }
        ghl_html.push_str("</div>");
    }
    if ghl_html.is_empty() {
        ghl_html.push_str(r#"<p class="empty">no contacts yet</p>"#);
    }
    let dials = dials_html(&state.ct_dials);
    drop(state);

    let mut feed_html = String::new();
    for e in &feed {
        feed_html.push_str(&event_html(e));
    }
    if feed_html.is_empty() {
        feed_html.push_str(r#"<p class="empty">no webhooks yet: send a sample</p>"#);
    }

    format!(
        r#"<section id="cloudtalk"><h2>CloudTalk contacts</h2>{ct_html}
<h2 id="dials-title">Dials <span class="id">newest first</span></h2><div id="dials">{dials}</div></section>
<section id="ghl"><h2>GoHighLevel contacts</h2>{ghl_html}</section>
<section id="events"><h2>Event feed <span class="id">newest first</span></h2>{feed_html}
<h2 id="parked-title">Parked events</h2>{parked}</section>"#,
        parked = parked_html(sandbox, &feed),
    )
}

/// Dials the console lists, newest first.
const DIALS_SHOWN: usize = 30;

/// The click-to-call requests, newest first: time (UTC), agent, number, answer.
fn dials_html(dials: &[Dial]) -> String {
    let mut html = String::new();
    for d in dials.iter().rev().take(DIALS_SHOWN) {
        let class = match d.status {
            200 => "ok",
            s if s < 500 => "refused",
            _ => "failed",
        };
        let agent = match (&d.agent_name, &d.agent_id) {
            (Some(name), _) => name.clone(),
            (None, Some(id)) => format!("agent {id}"),
            (None, None) => "no agent".into(),
        };
        let call = d
            .call_id
            .as_deref()
            .map(|id| format!(r#" <span class="id">call {}</span>"#, esc(id)))
            .unwrap_or_default();
        let _ = write!(
            html,
            r#"<div class="dial {class}" data-status="{status}"><span class="id">{time}</span> <b>{agent}</b> → {callee} · <span class="outcome">{answer}</span> <span class="id">{status}</span>{call}</div>"#,
            time = esc(d.at.get(11..19).unwrap_or(&d.at)),
            agent = esc(&agent),
            callee = esc(d.callee.as_deref().unwrap_or("(no number)")),
            answer = esc(&d.answer),
            status = d.status,
        );
    }
    if dials.len() > DIALS_SHOWN {
        let more = dials.len() - DIALS_SHOWN;
        let _ = write!(html, r#"<p class="id">… and {more} earlier</p>"#);
    }
    if html.is_empty() {
        html.push_str(r#"<p class="empty">no click-to-call yet</p>"#);
    }
    html
}

/// How the bridge marks the note of a call's Conversation Intelligence summary.
const SUMMARY_MARKER: &str = "[CloudTalk AI summary]";
/// Lines of a summary note the console shows.
const SUMMARY_LINES: usize = 4;

/// The first lines of a summary note (its text after the marker, empty lines left out, `…`
/// when there is more); `None` for any other note.
fn summary_lines(note: &str) -> Option<Vec<String>> {
    let text = note.trim_start().strip_prefix(SUMMARY_MARKER)?;
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut shown: Vec<String> = lines
        .iter()
        .take(SUMMARY_LINES)
        .map(|l| l.to_string())
        .collect();
    if lines.len() > SUMMARY_LINES {
        shown.push("…".into());
    }
    Some(shown)
}

/// A tag the bridge set from a CloudTalk call's tags (`call: interested`): its name after the
/// prefix.
fn call_tag(tag: &str) -> Option<&str> {
    let prefix = tag.get(..5)?;
    prefix
        .eq_ignore_ascii_case("call:")
        .then(|| tag[5..].trim())
        .filter(|name| !name.is_empty())
}

fn list(out: &mut String, title: &str, items: &[&str]) {
    if items.is_empty() {
        return;
    }
    let _ = write!(out, "<h3>{title}</h3><ul>");
    for item in items {
        let _ = write!(out, "<li>{}</li>", esc(item));
    }
    out.push_str("</ul>");
}

fn event_html(e: &FeedEntry) -> String {
    let class = match (e.loop_prevention, e.status) {
        (true, _) => "loop",
        (_, Some(s)) if s < 300 => "ok",
        (_, Some(s)) if s < 500 => "refused",
        (_, Some(_)) => "failed",
        (_, None) if e.in_flight || e.source == Source::Unseen => "",
        (_, None) => "failed",
    };
    let time = e.at.get(11..19).unwrap_or(&e.at);
    let target = match (&e.endpoint, e.source) {
        (_, Source::Unseen) => "bridge activity".to_string(),
        (Some(endpoint), _) => endpoint.clone(),
        (None, _) => format!("{} {}", e.method, e.path),
    };
    let status = match (e.status, e.in_flight) {
        (_, true) => "…".to_string(),
        (Some(s), _) => s.to_string(),
        (None, _) => String::new(),
    };
    let mut html = format!(
        r#"<div class="event {class}" data-endpoint="{target}"><div class="head"><span class="id">{time}</span><span class="id">{source}</span><b>{target}</b><span>{status}</span><span class="outcome">{outcome}</span><span class="id">{calls} upstream call(s){duration}</span></div>"#,
        target = esc(&target),
        source = esc(e.source.label()),
        outcome = esc(e.outcome.as_deref().unwrap_or_default()),
        calls = e.calls(),
        duration = e
            .duration_ms
            .filter(|_| e.source != Source::Unseen)
            .map(|d| format!(" · {d} ms"))
            .unwrap_or_default(),
    );
    if let Some(sample) = &e.sample {
        let _ = write!(html, r#"<div class="id">{}</div>"#, esc(sample));
    }
    if e.loop_prevention {
        let side = if e.path.contains("cloudtalk-webhooks") {
            "CloudTalk"
        } else {
            "GoHighLevel"
        };
        let _ = write!(
            html,
            r#"<div class="loop-line">Loop prevention: the bridge ignored {side}'s echo of its own write (already linked, nothing written)</div>"#
        );
    }
    if let Some(message) = &e.message {
        let _ = write!(html, "<div>{}</div>", esc(message));
    }
    if !e.upstream.is_empty() {
        html.push_str("<ul>");
        for call in &e.upstream {
            let _ = write!(html, r#"<li class="id">{}</li>"#, esc(call));
        }
        if e.upstream_more > 0 {
            let _ = write!(
                html,
                r#"<li class="id">… and {} more</li>"#,
                e.upstream_more
            );
        }
        html.push_str("</ul>");
    }
    html.push_str("</div>");
    html
}

fn parked_html(sandbox: &Sandbox, feed: &[FeedEntry]) -> String {
    let mut html = String::new();
    for e in feed.iter().filter(|e| e.parked) {
        let _ = write!(
            html,
            r#"<div class="parked"><b>{}</b> {} · {}<div>{}</div></div>"#,
            esc(e.endpoint.as_deref().unwrap_or(&e.path)),
            e.status.unwrap_or_default(),
            esc(e.outcome.as_deref().unwrap_or_default()),
            esc(e.message.as_deref().unwrap_or_default()),
        );
    }
    let console = &sandbox.inner.config.console;
    if console.dead_letter_queue_url.is_some() {
        let view = sandbox.inner.parked.lock();
        match view.as_deref() {
            Ok(ParkedView {
                read_at: Some(_),
                error: None,
                messages,
                ..
            }) => {
                let _ = write!(
                    html,
                    r#"<h3>dead-letter queue: {} message(s)</h3>"#,
                    messages.len()
                );
                for g in group(messages) {
                    let endpoints: Vec<String> = g
                        .endpoints
                        .iter()
                        .map(|(e, n)| format!("{e} × {n}"))
                        .collect();
                    let _ = write!(
                        html,
                        r#"<div class="parked"><b>{}</b> × {}<div class="id">{}</div></div>"#,
                        esc(&g.reason),
                        g.count,
                        esc(&endpoints.join(", "))
                    );
                }
                if !messages.is_empty() {
                    html.push_str(r#"<p class="id">move them back: cargo run -p bridge-tools --bin redrive -- move --all</p>"#);
                }
            }
            Ok(ParkedView { error: Some(e), .. }) => {
                let _ = write!(
                    html,
                    r#"<p class="empty">dead-letter queue unreadable: {}</p>"#,
                    esc(e)
                );
            }
            _ => html.push_str(r#"<p class="empty">reading the dead-letter queue…</p>"#),
        }
    } else if html.is_empty() {
        html.push_str(r#"<p class="empty">none (no dead-letter queue configured: SANDBOX_DEAD_LETTER_QUEUE_URL)</p>"#);
    }
    html
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

pub(crate) async fn page_route(AxumState(sandbox): AxumState<Sandbox>) -> Html<String> {
    Html(page(&sandbox))
}

pub(crate) async fn live_route(AxumState(sandbox): AxumState<Sandbox>) -> Html<String> {
    Html(live(&sandbox))
}

pub(crate) async fn feed_route(AxumState(sandbox): AxumState<Sandbox>) -> Json<Value> {
    Json(
        sandbox
            .inner
            .feed
            .lock()
            .map(|f| json!(f.entries().collect::<Vec<_>>()))
            .unwrap_or(Value::Null),
    )
}

pub(crate) async fn reset_route(AxumState(sandbox): AxumState<Sandbox>) -> Redirect {
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
pub(crate) async fn send_route(
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

/// Sends a sample as `send-events` would and records it; the feed entry.
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
pub(crate) async fn proxy_route(
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
    let mut url = format!(
        "{}{path}",
        sandbox
            .inner
            .config
            .console
            .bridge_url
            .trim_end_matches('/')
    );
    if let Some(query) = uri.query() {
        url = format!("{url}?{query}");
    }
    let mut request = sandbox.inner.http.request(method, &url);
    for (name, value) in &headers {
        let hop = [
            "host",
            "content-length",
            "connection",
            "transfer-encoding",
            "expect",
        ];
        if !hop.contains(&name.as_str()) {
            request = request.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = request.body(body.to_vec()).send().await;
    let (status, content_type, bytes) = match answer {
        Ok(r) => {
            let status = r.status().as_u16();
            let content_type = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/json")
                .to_string();
            (
                Ok(status),
                content_type,
                r.bytes().await.unwrap_or_default(),
            )
        }
        Err(e) => (
            Err(e.without_url().to_string()),
            String::new(),
            Bytes::new(),
        ),
    };
    if let Ok(mut feed) = sandbox.inner.feed.lock() {
        let recorded = status
            .clone()
            .map(|s| (s, serde_json::from_slice::<Value>(&bytes).ok()));
        feed.finish(id, recorded);
    }
    match status {
        Ok(status) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            [("content-type", content_type)],
            bytes,
        )
            .into_response(),
        Err(why) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({"error": "bridge_unreachable", "message": why})),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_decoded_and_html_escaped() {
        assert_eq!(
            form_value(b"x=1&sample=ghl-new-contact%2Fnested.json", "sample").as_deref(),
            Some("ghl-new-contact/nested.json")
        );
        assert_eq!(form_value(b"sample=a+b", "sample").as_deref(), Some("a b"));
        assert_eq!(form_value(b"other=1", "sample"), None);
        assert_eq!(esc(r#"<b a="x">&'"#), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn summary_notes_and_call_tags_are_recognised() {
        let note = "[CloudTalk AI summary] Mario asked.\n\nRoberto promised.\n3\n4\n5";
        assert_eq!(
            summary_lines(note).unwrap(),
            ["Mario asked.", "Roberto promised.", "3", "4", "…"]
        );
        assert_eq!(summary_lines("just a note"), None);
        assert_eq!(call_tag("call: interested"), Some("interested"));
        assert_eq!(call_tag("Call:Callback"), Some("Callback"));
        assert_eq!(call_tag("callback"), None);
        assert_eq!(call_tag("call: "), None);
        assert_eq!(call_tag("cé"), None);
    }

    #[test]
    fn the_samples_are_the_http_events_of_the_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
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
