//! The load simulations of `BENCHMARKS.md` (`load-sim`), smaller, as tests: bursts through the
//! real pipeline, clients, shared budget, retry queue and worker, in virtual time; and a GHL
//! CSV import against both costs a bulk request may have.

use std::time::Duration;

use bridge_bench::simulation::{run, Plan, Report, Traffic};
use bridge_local::sandbox::Faults;

fn check(name: &str, report: &Report, budget: usize) {
    println!("{name}: {report:?}");
    assert_eq!(
        report.answered_ok, report.events,
        "{name}: every webhook answered 200 or 202"
    );
    assert!(
        report.slowest_answer_ms <= 10_000,
        "{name}: answered within 10 s"
    );
    assert_eq!(
        (report.lost, report.duplicated),
        (0, 0),
        "{name}: nothing lost, nothing twice"
    );
    assert_eq!(report.applied + report.parked, report.events);
    assert!(
        report.peak_in_window <= budget,
        "{name}: the budget held: {}",
        report.peak_in_window
    );
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_new_contacts_drains_within_the_cloudtalk_budget() {
    let report = run(Plan::burst(Traffic::GhlNewContacts, 120)).await;
    check("burst", &report, 50);
    assert_eq!(report.parked, 0);
    assert!(
        report.drain_secs < report.floor_secs * 1.5,
        "drained near the floor: {report:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn calls_ended_drain_within_the_ghl_budget() {
    let report = run(Plan::burst(Traffic::CloudTalkCallsEnded, 150)).await;
    check("calls", &report, 100);
}

#[tokio::test(start_paused = true)]
async fn an_upstream_that_never_answers_is_ridden_out() {
    let plan = Plan {
        faults: Faults {
            latency_ms: 3_600_000,
            ..Faults::default()
        },
        recovery_after: Duration::from_secs(300),
        ..Plan::burst(Traffic::GhlNewContacts, 40)
    };
    let report = run(plan).await;
    check("never", &report, 50);
    assert_eq!(report.parked, 0, "an outage of minutes parks nothing");
}

#[tokio::test(start_paused = true)]
async fn faults_of_every_kind_lose_nothing_and_write_nothing_twice() {
    let plan = Plan {
        faults: Faults {
            error_rate: 0.08,
            rate_limit_every: 25,
            rate_limit_burst: 3,
            latency_ms: 20,
            late_answer_rate: 0.05,
            late_answer_ms: 15_000,
            ..Faults::default()
        },
        recovery_after: Duration::from_secs(1_800),
        abandon_rate: 0.05,
        store_failure_every: 31,
        ..Plan::burst(Traffic::GhlNewContacts, 200)
    };
    let report = run(plan).await;
    check("faults", &report, 50);
    let injected = report.faults_injected + report.store_failures + report.abandoned as u64;
    assert!(
        injected >= 20,
        "at least 10% of the events met a fault: {injected}"
    );
}

/// A CSV import of 30 leads over a minute, against a CloudTalk charging a bulk request `cost`:
/// every lead written once or parked. How fast is not asserted: that is the import lane's
/// (`load-sim import-cost1`, `import-cost10`).
async fn an_import(cost: u32) {
    // Hours are plenty for 30 leads: a bridge that stalls fails within them.
    let plan = Plan {
        horizon: Duration::from_secs(6 * 3600),
        ..Plan::import(30, cost)
    };
    let report = run(plan).await;
    let name = format!("import at cost {cost}");
    println!("{name}: {report:?}");
    assert_eq!(
        (report.lost, report.duplicated),
        (0, 0),
        "{name}: nothing lost, nothing twice"
    );
    assert_eq!(report.applied + report.parked, report.events, "{name}");
    assert_eq!(
        report.answered_ok, report.events,
        "{name}: every webhook answered 2xx"
    );
    // The floor is the bulk requests' at least: 3 for 30 leads, at their cost, in 50 a minute.
    assert!(
        report.floor_secs >= 3.0 * f64::from(cost) * 60.0 / 50.0,
        "{name}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_import_of_new_contacts_loses_nothing_when_a_bulk_request_costs_1() {
    an_import(1).await;
}

#[tokio::test(start_paused = true)]
async fn an_import_of_new_contacts_loses_nothing_when_a_bulk_request_costs_10() {
    an_import(10).await;
}
