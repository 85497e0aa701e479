//! What became of every event: written once, more than once, parked, or lost.

use serde_json::Value;

use super::{phone, Answers, Call, CallKind, Plan, Report, SimQueue, Traffic, BULK_COMMANDS};
use bridge_local::sandbox::Sandbox;

/// How many times event `i` was written upstream.
fn writes(traffic: Traffic, state: &Value, i: usize) -> usize {
    match traffic {
        Traffic::GhlNewContacts | Traffic::GhlImport => {
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
    let weighed: Vec<(i64, usize)> = times.iter().map(|t| (*t, 1)).collect();
    peak_cost(&weighed, window_ms)
}

/// The most cost in any window of `window_ms` among calls sorted by time, each with its cost.
fn peak_cost(calls: &[(i64, usize)], window_ms: i64) -> usize {
    let (mut best, mut start, mut sum) = (0, 0, 0);
    for &(at, cost) in calls {
        sum += cost;
        while at - calls[start].0 >= window_ms {
            sum -= calls[start].1;
            start += 1;
        }
        best = best.max(sum);
    }
    best
}

/// What CloudTalk counts a call against its limit: a bulk request `bulk_cost` unless it was
/// refused with a 429 (a refused request counts one).
fn cost(call: &Call, bulk_cost: u32) -> usize {
    match (call.kind, call.status) {
        (CallKind::Bulk, s) if s != 429 => bulk_cost.max(1) as usize,
        _ => 1,
    }
}

/// The calls to the budgeted upstream: their number, peaks, kinds, 429s, and the floor.
fn budgeted(plan: &Plan, report: &mut Report, calls: &[Call]) {
    let to_cloudtalk = plan.traffic.to_cloudtalk();
    let mut calls: Vec<&Call> = calls
        .iter()
        .filter(|c| c.cloudtalk == to_cloudtalk)
        .collect();
    calls.sort_by_key(|c| c.at_ms);
    let times: Vec<i64> = calls.iter().map(|c| c.at_ms).collect();
    let (window_ms, limit) = match to_cloudtalk {
        true => (60_000, plan.cloudtalk_rate_per_min),
        false => (10_000, plan.ghl_rate_per_10s),
    };
    let count = |kind: CallKind| calls.iter().filter(|c| c.kind == kind).count();
    report.upstream_calls = times.len();
    report.window_secs = (window_ms / 1000) as u64;
    report.peak_in_window = peak(&times, window_ms);
    report.peak_cost_in_window = match to_cloudtalk {
        true => {
            let costs: Vec<(i64, usize)> = calls
                .iter()
                .map(|c| (c.at_ms, cost(c, plan.bulk_request_cost)))
                .collect();
            peak_cost(&costs, window_ms)
        }
        false => report.peak_in_window,
    };
    report.bulk_requests = count(CallKind::Bulk);
    report.list_requests = count(CallKind::List);
    report.rate_limited = calls.iter().filter(|c| c.status == 429).count();
    let needed = match plan.traffic {
        // The bulk requests the leads need at their cost, and the number index's pages.
        Traffic::GhlImport => {
            let bulks = plan.events.div_ceil(BULK_COMMANDS);
            bulks * plan.bulk_request_cost.max(1) as usize + report.list_requests
        }
        _ => times.len(),
    };
    report.floor_secs = needed as f64 * (window_ms as f64 / 1000.0) / f64::from(limit.max(1));
    let spent: usize = match to_cloudtalk {
        true => calls.iter().map(|c| cost(c, plan.bulk_request_cost)).sum(),
        false => times.len(),
    };
    report.spent_secs = spent as f64 * (window_ms as f64 / 1000.0) / f64::from(limit.max(1));
}

pub(super) fn judge(
    plan: &Plan,
    sandbox: &Sandbox,
    queue: &SimQueue,
    answers: &Answers,
    calls: &[Call],
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
            Traffic::GhlNewContacts | Traffic::GhlImport => format!("\"sim-{i}\""),
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
    budgeted(plan, &mut report, calls);
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

    #[test]
    fn the_peak_cost_weighs_each_call() {
        // Two bulk requests at 10 and a GET within a minute; the third bulk a minute later.
        let calls = [(0, 10), (10, 1), (20, 10), (60_000, 10)];
        assert_eq!(super::peak_cost(&calls, 60_000), 21);
        assert_eq!(super::peak_cost(&[], 60_000), 0);
    }
}
