//! The console's page ([`page`]) and its live part ([`live`], which the page's script re-reads
//! every second), as [`maud`] templates: one function per part, each escaping what it shows.
//! What they show is described in `console.rs`, which serves them.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde_json::Value;

use super::base::Sandbox;
use super::config::ConsoleConfig;
use super::console_cue_cards;
use super::console_sms;
use super::feed::{FeedEntry, ParkedView, Source};
use super::state::{of_contact, BlacklistEntry, CtContact, Dial, GhlContact, State, Task};
use bridge_operator::redrive::group;

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
.dnd { color: #cf222e; font-size: 12px; font-weight: 600; }
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

/// The whole page, offering `samples` (`<folder>/<file>` of the events folder).
pub(crate) fn page(sandbox: &Sandbox, samples: &[String]) -> Markup {
    let console = &sandbox.inner.config.console;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Bridge console" }
                meta name="viewport" content="width=device-width, initial-scale=1";
                style { (PreEscaped(STYLE)) (PreEscaped(console_sms::STYLE)) (PreEscaped(console_cue_cards::STYLE)) }
            }
            body {
                header {
                    h1 { "GHL ↔ CloudTalk bridge · local console" }
                    span.muted { "bridge " (console.bridge_url) }
                    span #status {}
                    form method="post" action="/console/reset" style="margin-left:auto" {
                        button type="submit" { "reset sandbox" }
                    }
                }
                main {
                    section.samples {
                        (console_sms::forms())
                        h2 { "Send a sample" }
                        (samples_html(console, samples))
                    }
                    div #live { (live(sandbox)) }
                }
                script { (PreEscaped(SCRIPT)) (PreEscaped(console_sms::SCRIPT)) }
            }
        }
    }
}

/// The samples of the events folder, a form of buttons per folder (each with the status its
/// name expects).
fn samples_html(console: &ConsoleConfig, samples: &[String]) -> Markup {
    let mut folders: Vec<(&str, Vec<&str>)> = Vec::new();
    for sample in samples {
        let dir = sample.split_once('/').map_or("", |(dir, _)| dir);
        match folders.last_mut() {
            Some((folder, files)) if *folder == dir => files.push(sample),
            _ => folders.push((dir, vec![sample])),
        }
    }
    html! {
        @for (folder, files) in &folders {
            h3 { (folder) }
            form.send method="post" action="/console/send" {
                @for sample in files {
                    (sample_button(sample))
                }
            }
        }
        @if folders.is_empty() {
            p.empty { "no samples in " (console.events_dir.display().to_string()) }
        }
    }
}

fn sample_button(sample: &str) -> Markup {
    let file = sample.split_once('/').map_or(sample, |(_, file)| file);
    let stem = file.trim_end_matches(".json");
    html! {
        button type="submit" name="sample" value=(sample) data-sample=(sample) {
            (stem)
            span.expect { (bridge::expected_sample_status(stem)) }
        }
    }
}

/// The live part: contacts, dials, feed, parked.
pub(crate) fn live(sandbox: &Sandbox) -> Markup {
    let feed: Vec<FeedEntry> = sandbox
        .inner
        .feed
        .lock()
        .map(|f| f.entries().cloned().collect())
        .unwrap_or_default();
    let Ok(state) = sandbox.inner.state.lock() else {
        return html! { section { "the sandbox's state is unavailable" } };
    };
    let links = links(&feed, &state);
    let cloudtalk = cloudtalk_contacts(&state, &links);
    let ghl = ghl_contacts(&state, &links);
    let dials = dials_html(&state.ct_dials);
    let blacklist = blacklist_html(&state.ct_blacklist);
    let cue_cards = console_cue_cards::cue_cards_html(&state.ct_cue_cards);
    let texts = console_sms::sent_texts(&state);
    drop(state);
    html! {
        section #cloudtalk {
            h2 { "CloudTalk contacts" }
            (cloudtalk)
            h2 #dials-title { "Dials " span.id { "newest first" } }
            div #dials { (dials) }
            h2 #blacklist-title { "Blacklist" }
            div #blacklist { (blacklist) }
            h2 #cue-cards-title { "Cue cards " span.id { "newest first" } }
            div #cue-cards { (cue_cards) }
            h2 #texts-title { "Texts sent " span.id { "newest first" } }
            div #texts { (texts) }
        }
        section #ghl {
            h2 { "GoHighLevel contacts" }
            (ghl)
        }
        section #events {
            h2 { "Event feed " span.id { "newest first" } }
            (feed_html(&feed))
            h2 #parked-title { "Parked events" }
            (parked_html(sandbox, &feed))
        }
    }
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

/// The links between the two sides' contacts: from the bridge's answers (oldest first), then
/// from what the contacts hold; one per pair.
fn links(feed: &[FeedEntry], state: &State) -> Vec<Link> {
    let mut links: Vec<Link> = Vec::new();
    let mut add = |cloudtalk: &str, ghl: &str, why| {
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
            add(ct, ghl, "the bridge's answer");
        }
    }
    for ct in state.ct_contacts.values() {
        for ghl in state.ghl_contacts.values() {
            if let Some(why) = link_reason(ct, ghl) {
                add(&ct.id, &ghl.id, why);
            }
        }
    }
    links
}

/// What links a CloudTalk contact to a GHL contact, if anything: CloudTalk's external URL
/// naming it, else the same phone, else the same email.
fn link_reason(ct: &CtContact, ghl: &GhlContact) -> Option<&'static str> {
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
    match (url_names, same_phone, same_email) {
        (true, _, _) => Some("CloudTalk's external URL"),
        (_, true, _) => Some("same phone"),
        (_, _, true) => Some("same email"),
        _ => None,
    }
}

/// A link's line on a card: the other side's contact (an anchor to its card when the sandbox
/// holds it) and why.
fn link_line(side: &str, anchor: &str, id: &str, held: bool, why: &str) -> Markup {
    html! {
        div.link {
            "↔ "
            @if held {
                a href={ "#" (anchor) "-" (id) } { (side) " " (id) }
            } @else {
                (side) " " (id) " (not in the sandbox)"
            }
            " · " (why)
        }
    }
}

/// A card's heading: the name, the id, and how to reach the contact.
fn card_head(name: &str, id: &str, reach: &[&String]) -> Markup {
    let reach: Vec<&str> = reach.iter().map(|r| r.as_str()).collect();
    html! {
        b { (name) }
        " "
        span.id { (id) }
        div { (reach.join(" · ")) }
    }
}

/// A titled list; nothing when there are no items.
fn list(title: &str, items: &[String]) -> Markup {
    html! {
        @if !items.is_empty() {
            h3 { (title) }
            ul {
                @for item in items {
                    li { (item) }
                }
            }
        }
    }
}

/// CloudTalk's contacts, each a card with its tags, notes, activities and links.
fn cloudtalk_contacts(state: &State, links: &[Link]) -> Markup {
    html! {
        @for c in state.ct_contacts.values() {
            (cloudtalk_card(state, c, links))
        }
        @if state.ct_contacts.is_empty() {
            p.empty { "no contacts yet" }
        }
    }
}

fn cloudtalk_card(state: &State, c: &CtContact, links: &[Link]) -> Markup {
    let reach: Vec<&String> = c.numbers.iter().chain(&c.emails).collect();
    let notes: Vec<String> = of_contact(&state.ct_notes, &c.id)
        .iter()
        .map(|n| n.note.clone())
        .collect();
    let activities: Vec<String> = of_contact(&state.ct_activities, &c.id)
        .iter()
        .map(|a| format!("{} ({})", a.name, a.kind))
        .collect();
    html! {
        div.card id={ "ct-" (c.id) } {
            (card_head(&c.name, &c.id, &reach))
            @for t in &c.tags {
                span.chip { (t) }
            }
            (list("notes", &notes))
            (list("activities", &activities))
            (console_sms::cloudtalk_texts(state, c))
            @for l in links.iter().filter(|l| l.cloudtalk == c.id) {
                @let held = state.ghl_contacts.contains_key(&l.ghl);
                (link_line("GHL", "ghl", &l.ghl, held, l.why))
            }
        }
    }
}

/// GoHighLevel's contacts, each a card with its owner, tags, call tags, latest call summary,
/// notes, tasks, opportunities and links.
fn ghl_contacts(state: &State, links: &[Link]) -> Markup {
    html! {
        @for c in state.ghl_contacts.values() {
            (ghl_card(state, c, links))
        }
        @if state.ghl_contacts.is_empty() {
            p.empty { "no contacts yet" }
        }
    }
}

/// A GHL contact's name: `name`, else first and last name, else `(no name)`.
fn ghl_name(c: &GhlContact) -> String {
    c.name
        .clone()
        .or_else(|| {
            let full = format!(
                "{} {}",
                c.first_name.as_deref().unwrap_or_default(),
                c.last_name.as_deref().unwrap_or_default()
            );
            (!full.trim().is_empty()).then(|| full.trim().to_string())
        })
        .unwrap_or_else(|| "(no name)".into())
}

fn ghl_card(state: &State, c: &GhlContact, links: &[Link]) -> Markup {
    let reach: Vec<&String> = c.phone.iter().chain(&c.email).collect();
    let (call_tags, tags): (Vec<&String>, Vec<&String>) =
        c.tags.iter().partition(|t| call_tag(t).is_some());
    let (summaries, notes): (Vec<String>, Vec<String>) = of_contact(&state.ghl_notes, &c.id)
        .iter()
        .map(|n| n.body.clone())
        .partition(|n| summary_lines(n).is_some());
    let tasks: Vec<String> = of_contact(&state.ghl_tasks, &c.id)
        .into_iter()
        .map(|t| task_line(state, t))
        .collect();
    let opportunities: Vec<String> = of_contact(state.opportunities.values(), &c.id)
        .iter()
        .map(|o| {
            let stage = o.pipeline_stage_id.as_deref().unwrap_or("?");
            format!("{} at {stage}", o.name)
        })
        .collect();
    html! {
        div.card id={ "ghl-" (c.id) } {
            (card_head(&ghl_name(c), &c.id, &reach))
            @if let Some(owner) = &c.assigned_to {
                div.owner { "owner: " (state.user_label(owner)) }
            }
            @if let Some(dnd) = dnd_line(c) {
                div.dnd { "Do Not Disturb: " (dnd) }
            }
            @for t in tags {
                span.chip { (t) }
            }
            (call_tags_html(&call_tags))
            (summary_html(&summaries))
            (list("notes", &notes))
            (list("tasks", &tasks))
            (list("opportunities", &opportunities))
            (console_sms::ghl_texts(state, c))
            @for l in links.iter().filter(|l| l.ghl == c.id) {
                @let held = state.ct_contacts.contains_key(&l.cloudtalk);
                (link_line("CloudTalk", "ct", &l.cloudtalk, held, l.why))
            }
        }
    }
}

/// `all channels · Call active · SMS permanent`: what the contact's Do Not Disturb bars;
/// `None` when nothing.
fn dnd_line(c: &GhlContact) -> Option<String> {
    let all = c.dnd.then(|| "all channels".to_string());
    let barred = c.dnd_settings.iter().flat_map(|s| s.barred());
    let channels = barred.map(|(name, status)| format!("{name} {}", status.as_str()));
    let parts: Vec<String> = all.into_iter().chain(channels).collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// `Call back Giulia · due 2026-12-01 10:00 UTC · Anna Verdi · open`.
fn task_line(state: &State, t: &Task) -> String {
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
}

/// The tags the bridge set from a call's tags, apart: each by its name after the prefix.
fn call_tags_html(call_tags: &[&String]) -> Markup {
    html! {
        @if !call_tags.is_empty() {
            div.call-tags {
                h3 { "call tags" }
                @for t in call_tags {
                    span.chip.call title=(t) { (call_tag(t).unwrap_or(t)) }
                }
            }
        }
    }
}

/// The latest of a contact's summary notes, and how many came before it.
fn summary_html(summaries: &[String]) -> Markup {
    let Some(latest) = summaries.last().and_then(|n| summary_lines(n)) else {
        return html! {};
    };
    html! {
        div.summary {
            h3 { "Summary" }
            @for line in &latest {
                div { (line) }
            }
            @if summaries.len() > 1 {
                div.id { "and " (summaries.len() - 1) " earlier summary note(s)" }
            }
        }
    }
}

/// Dials the console lists, newest first.
const DIALS_SHOWN: usize = 30;

/// The click-to-call requests, newest first: time (UTC), agent, number, answer.
fn dials_html(dials: &[Dial]) -> Markup {
    html! {
        @for d in dials.iter().rev().take(DIALS_SHOWN) {
            (dial_html(d))
        }
        @if dials.len() > DIALS_SHOWN {
            p.id { "… and " (dials.len() - DIALS_SHOWN) " earlier" }
        }
        @if dials.is_empty() {
            p.empty { "no click-to-call yet" }
        }
    }
}

fn dial_html(d: &Dial) -> Markup {
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
    html! {
        div class={ "dial " (class) } data-status=(d.status) {
            span.id { (d.at.get(11..19).unwrap_or(&d.at)) }
            " " b { (agent) }
            " → " (d.callee.as_deref().unwrap_or("(no number)"))
            " · " span.outcome { (d.answer) }
            " " span.id { (d.status) }
            @if let Some(call) = &d.call_id {
                " " span.id { "call " (call) }
            }
        }
    }
}

/// CloudTalk's blacklist, oldest first: number, type, id.
fn blacklist_html(entries: &[BlacklistEntry]) -> Markup {
    html! {
        @for e in entries {
            div.dial data-type=(e.kind.as_str()) {
                b { (e.public_number) } " · " (e.kind.as_str()) " calls "
                span.id { (e.id) }
            }
        }
        @if entries.is_empty() {
            p.empty { "no number blacklisted" }
        }
    }
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

/// The event feed, newest first.
fn feed_html(feed: &[FeedEntry]) -> Markup {
    html! {
        @for e in feed {
            (event_html(e))
        }
        @if feed.is_empty() {
            p.empty { "no webhooks yet: send a sample" }
        }
    }
}

/// An entry's class: how it went.
fn event_class(e: &FeedEntry) -> &'static str {
    match (e.loop_prevention, e.status) {
        (true, _) => "loop",
        (_, Some(s)) if s < 300 => "ok",
        (_, Some(s)) if s < 500 => "refused",
        (_, Some(_)) => "failed",
        (_, None) if e.in_flight || e.source == Source::Unseen => "",
        (_, None) => "failed",
    }
}

fn event_html(e: &FeedEntry) -> Markup {
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
    let duration = e
        .duration_ms
        .filter(|_| e.source != Source::Unseen)
        .map(|d| format!(" · {d} ms"))
        .unwrap_or_default();
    html! {
        div class={ "event " (event_class(e)) } data-endpoint=(target) {
            div.head {
                span.id { (e.at.get(11..19).unwrap_or(&e.at)) }
                span.id { (e.source.label()) }
                b { (target) }
                span { (status) }
                span.outcome { (e.outcome.as_deref().unwrap_or_default()) }
                span.id { (e.calls()) " upstream call(s)" (duration) }
            }
            @if let Some(sample) = &e.sample {
                div.id { (sample) }
            }
            @if e.loop_prevention {
                (loop_line(e))
            }
            @if let Some(message) = &e.message {
                div { (message) }
            }
            (upstream_html(e))
        }
    }
}

/// The loop-prevention line: the bridge ignored an echo of its own write.
fn loop_line(e: &FeedEntry) -> Markup {
    let side = if e.path.contains("cloudtalk-webhooks") {
        "CloudTalk"
    } else {
        "GoHighLevel"
    };
    html! {
        div.loop-line {
            "Loop prevention: the bridge ignored " (side)
            "'s echo of its own write (already linked, nothing written)"
        }
    }
}

/// The upstream calls the sandbox served while the entry was in flight.
fn upstream_html(e: &FeedEntry) -> Markup {
    html! {
        @if !e.upstream.is_empty() {
            ul {
                @for call in &e.upstream {
                    li.id { (call) }
                }
                @if e.upstream_more > 0 {
                    li.id { "… and " (e.upstream_more) " more" }
                }
            }
        }
    }
}

/// The answers that said `parked`, and the dead-letter queue when one is configured.
fn parked_html(sandbox: &Sandbox, feed: &[FeedEntry]) -> Markup {
    let parked: Vec<&FeedEntry> = feed.iter().filter(|e| e.parked).collect();
    let configured = sandbox.inner.config.console.dead_letter_queue_url.is_some();
    html! {
        @for e in &parked {
            div.parked {
                b { (e.endpoint.as_deref().unwrap_or(&e.path)) }
                " " (e.status.unwrap_or_default()) " · " (e.outcome.as_deref().unwrap_or_default())
                div { (e.message.as_deref().unwrap_or_default()) }
            }
        }
        @if configured {
            (dead_letter_html(sandbox))
        } @else if parked.is_empty() {
            p.empty { "none (no dead-letter queue configured: SANDBOX_DEAD_LETTER_QUEUE_URL)" }
        }
    }
}

/// The dead-letter queue as last read: its messages by reason.
fn dead_letter_html(sandbox: &Sandbox) -> Markup {
    let view = sandbox.inner.parked.lock();
    match view.as_deref() {
        Ok(ParkedView {
            read_at: Some(_),
            error: None,
            messages,
            ..
        }) => html! {
            h3 { "dead-letter queue: " (messages.len()) " message(s)" }
            @for g in group(messages) {
                @let endpoints: Vec<String> =
                    g.endpoints.iter().map(|(e, n)| format!("{e} × {n}")).collect();
                div.parked {
                    b { (g.reason) } " × " (g.count)
                    div.id { (endpoints.join(", ")) }
                }
            }
            @if !messages.is_empty() {
                p.id { "move them back: bridge redrive move --all" }
            }
        },
        Ok(ParkedView { error: Some(e), .. }) => html! {
            p.empty { "dead-letter queue unreadable: " (e) }
        },
        _ => html! { p.empty { "reading the dead-letter queue…" } },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_page_shows_is_html_escaped() {
        let contact = CtContact {
            id: "1\"2".into(),
            name: "<b>Mario</b> & Co".into(),
            tags: vec!["a<b".into()],
            ..CtContact::default()
        };
        let state = State::new(&crate::sandbox::SandboxConfig::default());
        let card = cloudtalk_card(&state, &contact, &[]).into_string();
        assert!(
            card.contains("<b>&lt;b&gt;Mario&lt;/b&gt; &amp; Co</b>"),
            "{card}"
        );
        assert!(card.contains(r#"id="ct-1&quot;2""#), "{card}");
        assert!(
            card.contains(r#"<span class="chip">a&lt;b</span>"#),
            "{card}"
        );
    }

    #[test]
    fn do_not_disturb_and_the_blacklist_are_shown() {
        use crate::sandbox::{BlacklistType, DndChange, DndSetting, DndSettings, DndStatus};
        let mut contact = GhlContact::default();
        assert_eq!(dnd_line(&contact), None);
        contact.set_dnd(DndChange {
            dnd: Some(true),
            dnd_settings: Some(DndSettings {
                call: Some(DndSetting::status(DndStatus::Permanent)),
                sms: Some(DndSetting::status(DndStatus::Inactive)),
                ..DndSettings::default()
            }),
        });
        assert_eq!(
            dnd_line(&contact).as_deref(),
            Some("all channels · Call permanent")
        );
        let mut state = State::new(&crate::sandbox::SandboxConfig::default());
        assert!(blacklist_html(&state.ct_blacklist)
            .into_string()
            .contains("no number blacklisted"));
        state.blacklist_number("+39<350>", BlacklistType::Outgoing);
        let shown = blacklist_html(&state.ct_blacklist).into_string();
        assert!(
            shown.contains("<b>+39&lt;350&gt;</b> · outgoing calls"),
            "{shown}"
        );
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
}
