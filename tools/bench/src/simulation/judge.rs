//! What became of every event: written once, more than once, parked, or lost.

use serde_json::Value;

use super::{phone, Answers, Plan, Report, SimQueue, Traffic};
use bridge_local::sandbox::Sandbox;

/// How many times event `i` was written upstream.
fn writes(traffic: Traffic, state: &Value, i: usize) -> usize {
    match traffic {
        Traffic::GhlNewContacts => {
            let phone = phone(i);
            state["cloudtalk"]["contacts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| {
                    c["numbers"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|n| n == &Value::String(phone.clone()))
                })
                .count()
        }
        Traffic::CloudTalkCallsEnded => {
            let call = format!("Call ID: {}", 9_000_000 + i);
            state["ghl"]["contacts"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|c| c["notes"].as_array().cloned().unwrap_or_default())
                .filter(|n| n.as_str().is_some_and(|t| t.contains(&call)))
                .count()
        }
    }
}

/// The most calls in any window of `window_ms` among sorted call times.
fn peak(times: &[i64], window_ms: i64) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= window_ms {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

pub(super) fn judge(
    plan: &Plan,
    sandbox: &Sandbox,
    queue: &SimQueue,
    answers: &Answers,
    calls: &[(i64, bool)],
) -> Report {
    let state = sandbox.state_json();
    let parked = queue.parked();
    let mut report = Report {
        events: plan.events,
        slowest_answer_ms: answers.slowest_ms,
        ..Report::default()
    };
    for (status, n) in &answers.statuses {
        match status {
            200 | 202 => report.answered_ok += n,
            _ => report.answered_other += n,
        }
    }
    for i in 0..plan.events {
        let marker = match plan.traffic {
            Traffic::GhlNewContacts => format!("\"sim-{i}\""),
            Traffic::CloudTalkCallsEnded => format!("{}", 9_000_000 + i),
        };
        let was_parked = parked.iter().any(|(e, _)| e.body.contains(&marker));
        match writes(plan.traffic, &state, i) {
            1 => report.applied += 1,
            0 if was_parked => report.parked += 1,
            0 => report.lost += 1,
            _ => report.duplicated += 1,
        }
    }
    let budgeted_cloudtalk = plan.traffic == Traffic::GhlNewContacts;
    let mut times: Vec<i64> = calls
        .iter()
        .filter(|(_, ct)| *ct == budgeted_cloudtalk)
        .map(|(t, _)| *t)
        .collect();
    times.sort_unstable();
    let (window_ms, limit) = match budgeted_cloudtalk {
        true => (60_000, plan.cloudtalk_rate_per_min),
        false => (10_000, plan.ghl_rate_per_10s),
    };
    report.upstream_calls = times.len();
    report.window_secs = (window_ms / 1000) as u64;
    report.peak_in_window = peak(&times, window_ms);
    report.floor_secs = times.len() as f64 * (window_ms as f64 / 1000.0) / f64::from(limit.max(1));
    report.faults_injected = state["counters"]["faultsInjected"].as_u64().unwrap_or(0);
    report
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_peak_counts_the_busiest_window() {
        // 10, 20, 60 000 and 60 005 fall within one minute.
        assert_eq!(super::peak(&[0, 10, 20, 60_000, 60_005], 60_000), 4);
        assert_eq!(super::peak(&[0, 30_000, 60_000, 90_000], 60_000), 2);
        assert_eq!(super::peak(&[], 60_000), 0);
    }
}
