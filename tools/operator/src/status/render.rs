//! The report as text: one block per section, a label in the first column. Pure: the same
//! report always gives the same text.

use std::fmt::Write;

use super::report::{
    duration, Alarm, Dials, Health, OldestAge, Parked, Reconciliation, RetryQueue, Section,
    StackInfo, StatusReport, TenantCounts,
};

const LABEL: usize = 16;

/// Appends a block: its first line after the label, the others under it.
fn block(out: &mut String, label: &str, text: &str) {
    for (i, line) in text.lines().enumerate() {
        let head = if i == 0 { label } else { "" };
        let _ = writeln!(out, "{head:<LABEL$}{line}");
    }
}

/// A section's text: `body` of its data, or why there is none.
fn section<T>(out: &mut String, label: &str, s: &Section<T>, body: impl Fn(&T) -> String) {
    let text = match s {
        Section::Ok { data } => body(data),
        Section::Unavailable { reason } => format!("unavailable: {reason}"),
        Section::NotConfigured { reason } => format!("not configured: {reason}"),
    };
    block(out, label, &text);
}

fn stack(s: &StackInfo) -> String {
    let name = s
        .name
        .as_deref()
        .unwrap_or("(from a saved copy of its outputs)");
    match &s.status {
        Some(status) => format!("{name}  {status}"),
        None => name.to_string(),
    }
}

fn health(h: &Health) -> String {
    let said = h.status.as_deref().unwrap_or("no status field");
    format!("{said} (HTTP {})  {}", h.http_status, h.url)
}

fn retry_queue(q: &RetryQueue) -> String {
    let oldest = match &q.oldest_age {
        OldestAge::Cloudwatch { seconds, at } => {
            format!("oldest {} (CloudWatch, {at})", duration(*seconds))
        }
        OldestAge::Empty => "no oldest message".to_string(),
        OldestAge::Unknown { why } => format!("oldest unknown: {why}"),
    };
    format!(
        "{} waiting, {} in flight, {} delayed; {oldest}\n{}",
        q.visible, q.in_flight, q.delayed, q.url
    )
}

fn parked(p: &Parked) -> String {
    match p.total {
        0 => format!("none\n{}", p.url),
        _ => format!("{}{}", crate::redrive::describe(&p.groups), p.url),
    }
}

fn reconciliation(r: &Reconciliation) -> String {
    let mut text = String::new();
    for p in &r.passes {
        let when = match (p.lag_seconds, &p.caught_up_at, &p.note) {
            (Some(lag), Some(at), _) => format!("caught up {} ago ({at})", duration(lag)),
            (_, _, Some(note)) => note.clone(),
            _ => "unknown".to_string(),
        };
        let _ = writeln!(text, "{:<9} {:<20} {when}", p.pass, p.tenant);
    }
    if let Some(why) = &r.tenants_unlisted {
        let _ = writeln!(text, "tenants' passes not shown: {why}");
    }
    if text.is_empty() {
        text.push_str("no passes");
    }
    text
}

fn tenants(t: &TenantCounts) -> String {
    let by: Vec<String> = t
        .disabled_by
        .iter()
        .map(|(who, n)| format!("{n} by {who}"))
        .collect();
    let counts: Vec<String> = t
        .by_status
        .iter()
        .map(|(status, n)| match (status.as_str(), by.is_empty()) {
            ("disabled", false) => format!("{n} {status} ({})", by.join(", ")),
            _ => format!("{n} {status}"),
        })
        .collect();
    let mut text = format!("{} tenant(s): {}", t.total, counts.join(", "));
    for r in &t.reinstalls_refused {
        let company = r
            .company_id
            .as_deref()
            .map(|c| format!(", company {c}"))
            .unwrap_or_default();
        let _ = write!(
            text,
            "\n{:<20} re-install refused at {} ({}{company}): disabled by an operator",
            r.tenant, r.at, r.via
        );
    }
    text
}

/// `by` as `3 not_in_ghl, 1 dnd_call`, or `none`.
fn counted(by: &std::collections::BTreeMap<String, u64>) -> String {
    match by.is_empty() {
        true => "none".to_string(),
        false => by
            .iter()
            .map(|(what, n)| format!("{n} {what}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn dials(d: &Dials) -> String {
    if d.tenants.is_empty() {
        return format!("no dials in the last {} h", d.hours);
    }
    let mut text = format!("last {} h\n", d.hours);
    for t in &d.tenants {
        let _ = writeln!(
            text,
            "{:<20} {} dialled; refused: {}; tasks: {}",
            t.tenant,
            t.dialled,
            counted(&t.refused),
            counted(&t.tasks)
        );
    }
    text
}

fn alarms(list: &Vec<Alarm>) -> String {
    if list.is_empty() {
        return "none in the stack".to_string();
    }
    let firing = list.iter().filter(|a| a.state == "ALARM").count();
    let mut text = format!("{firing} of {} in ALARM\n", list.len());
    for a in list {
        let reason = a
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let _ = writeln!(
            text,
            "{:<17} {} ({}){reason}",
            a.state, a.logical_id, a.name
        );
    }
    text
}

/// The whole report as text.
pub fn render(report: &StatusReport) -> String {
    let mut out = format!("bridge status at {}\n", report.generated_at);
    section(&mut out, "Stack", &report.stack, stack);
    section(&mut out, "Health", &report.health, health);
    section(&mut out, "Retry queue", &report.retry_queue, retry_queue);
    section(&mut out, "Parked", &report.parked, parked);
    section(
        &mut out,
        "Reconciliation",
        &report.reconciliation,
        reconciliation,
    );
    section(&mut out, "Tenants", &report.tenants, tenants);
    section(&mut out, "Dials", &report.dials, dials);
    section(&mut out, "Alarms", &report.alarms, alarms);
    match report.attention.len() {
        0 => out.push_str("\nNothing needs attention.\n"),
        n => {
            let _ = writeln!(out, "\nNeeds attention ({n}):");
            for item in &report.attention {
                let _ = writeln!(out, "  - {item}");
            }
        }
    }
    out
}
