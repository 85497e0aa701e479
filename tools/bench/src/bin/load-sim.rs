//! `load-sim`: the load simulations of `BENCHMARKS.md`, in virtual time (see
//! [`bridge_bench::simulation`]).
//!
//! ```sh
//! cargo run --release -p bridge-bench --bin load-sim            # every scenario
//! cargo run --release -p bridge-bench --bin load-sim -- burst-ghl 1000
//! cargo run --release -p bridge-bench --bin load-sim -- import-cost1 1000
//! ```
//! Scenarios (N events each, 1,000 unless given):
//! - `burst-ghl`: N GHL new contacts over 10 s, CloudTalk the upstream;
//! - `burst-calls`: N CloudTalk calls ended over 10 s, GoHighLevel the upstream;
//! - `slow-4s`, `slow-9s`, `slow-never`: `burst-ghl` with CloudTalk answering after 4 s, 9 s or
//!   never for its first 10 minutes;
//! - `faults`: `burst-ghl` with every kind of fault for 30 minutes (500s, 429 bursts, latency,
//!   late answers, attempts cut off, store failures);
//! - `import-cost1`, `import-cost10`: a GHL CSV import, N new-contact workflow webhooks of
//!   distinct leads (each its own phone) over 60 s, against a CloudTalk that charges a
//!   `POST /bulk/contacts.json` 1 or 10 of its 60 requests a minute (CloudTalk does not
//!   document which). Their floor is what the bulk cost allows: ceil(N / 10) bulk requests at
//!   that cost, plus the contact list requests made, within the budget of 50 a minute (1,000
//!   leads without list requests: 120 s at cost 1, 1,200 s at cost 10);
//! - `import-cost1-faults`, `import-cost10-faults`: the same with `faults`' faults.
//!
//! The retry worker gets up to 10 messages an invocation, gathered for up to 1 s (the
//! template's batch size and batching window) and leases them (30 s, renewed every 10 s while
//! it runs); `handed back` counts the messages it returned as batch item failures (each
//! delivered again when its lease ends, as is a killed invocation's batch). Each line
//! ends with the bulk and list requests made, the calls answered 429, and the most CloudTalk
//! counted against its limit in a minute (`peak cost`, a bulk request at its cost, refused
//! requests as one).

use std::time::Duration;

use bridge_bench::simulation::{run, Plan, Report, Traffic};
use bridge_local::sandbox::Faults;

/// `plan` with the faults of the `faults` scenario: 30 minutes of 500s, 429 bursts, latency and
/// late answers, attempts cut off and store failures.
fn with_faults(plan: Plan) -> Plan {
    Plan {
        faults: Faults {
            error_rate: 0.05,
            rate_limit_every: 40,
            rate_limit_burst: 3,
            latency_ms: 20,
            late_answer_rate: 0.03,
            late_answer_ms: 15_000,
            ..Faults::default()
        },
        recovery_after: Duration::from_secs(30 * 60),
        abandon_rate: 0.03,
        store_failure_every: 37,
        ..plan
    }
}

fn plan(name: &str, events: usize) -> Option<Plan> {
    let slow = |ms: u64| Plan {
        faults: Faults {
            latency_ms: ms,
            ..Faults::default()
        },
        recovery_after: Duration::from_secs(600),
        ..Plan::burst(Traffic::GhlNewContacts, events)
    };
    Some(match name {
        "burst-ghl" => Plan::burst(Traffic::GhlNewContacts, events),
        "burst-calls" => Plan::burst(Traffic::CloudTalkCallsEnded, events),
        "slow-4s" => slow(4_000),
        "slow-9s" => slow(9_000),
        "slow-never" => slow(3_600_000),
        "faults" => with_faults(Plan::burst(Traffic::GhlNewContacts, events)),
        "import-cost1" => Plan::import(events, 1),
        "import-cost10" => Plan::import(events, 10),
        "import-cost1-faults" => with_faults(Plan::import(events, 1)),
        "import-cost10-faults" => with_faults(Plan::import(events, 10)),
        _ => return None,
    })
}

fn line(name: &str, r: &Report) -> String {
    format!(
        "{name}: events {}, answered 2xx {} (other {}), slowest answer {:.1} s, applied {}, parked {}, \
         duplicated {}, lost {}, drained in {:.0} s (floor {:.0} s, {:.2}x; budget spent {:.0} s), {} calls, peak {} in {} s, \
         {} worker runs ({} handed back), {} faults, {} store failures, {} attempts cut off, {} bulk, {} list, \
         {} answered 429, peak cost {}",
        r.events, r.answered_ok, r.answered_other, r.slowest_answer_ms as f64 / 1000.0, r.applied,
        r.parked, r.duplicated, r.lost, r.drain_secs, r.floor_secs,
        r.drain_secs / r.floor_secs.max(1.0), r.spent_secs, r.upstream_calls, r.peak_in_window, r.window_secs,
        r.worker_invocations, r.handed_back, r.faults_injected, r.store_failures, r.abandoned, r.bulk_requests,
        r.list_requests, r.rate_limited, r.peak_cost_in_window
    )
}

const SCENARIOS: [&str; 10] = [
    "burst-ghl",
    "burst-calls",
    "slow-4s",
    "slow-9s",
    "slow-never",
    "faults",
    "import-cost1",
    "import-cost10",
    "import-cost1-faults",
    "import-cost10-faults",
];

/// The load simulations of BENCHMARKS.md, in virtual time.
#[derive(Debug, clap::Parser)]
#[command(name = "load-sim", version)]
struct Args {
    /// One scenario (default: every one).
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(SCENARIOS))]
    scenario: Option<String>,
    /// Events per scenario.
    #[arg(default_value_t = 1000)]
    events: usize,
}

fn main() {
    let args = <Args as clap::Parser>::parse();
    let names: Vec<&str> = match &args.scenario {
        Some(name) => vec![name.as_str()],
        None => SCENARIOS.to_vec(),
    };
    for name in names {
        let Some(plan) = plan(name, args.events) else {
            eprintln!("unknown scenario {name}");
            std::process::exit(2);
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("runtime");
        let started = std::time::Instant::now();
        let report = runtime.block_on(run(plan));
        println!(
            "{} ({:.1} s of real time)",
            line(name, &report),
            started.elapsed().as_secs_f64()
        );
    }
}
