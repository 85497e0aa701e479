//! `load-sim`: the load simulations of `BENCHMARKS.md`, in virtual time (see
//! [`bridge_bench::simulation`]).
//!
//! ```sh
//! cargo run --release -p bridge-bench --bin load-sim            # every scenario
//! cargo run --release -p bridge-bench --bin load-sim -- burst-ghl 1000
//! ```
//! Scenarios: `burst-ghl`, `burst-calls`, `slow-4s`, `slow-9s`, `slow-never`, `faults`.

use std::time::Duration;

use bridge_bench::simulation::{run, Plan, Report, Traffic};
use bridge_local::sandbox::Faults;

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
        "faults" => Plan {
            faults: Faults {
                error_rate: 0.05,
                rate_limit_every: 40,
                rate_limit_burst: 3,
                latency_ms: 20,
                late_answer_rate: 0.03,
                late_answer_ms: 15_000,
            },
            recovery_after: Duration::from_secs(30 * 60),
            abandon_rate: 0.03,
            store_failure_every: 37,
            ..Plan::burst(Traffic::GhlNewContacts, events)
        },
        _ => return None,
    })
}

fn line(name: &str, r: &Report) -> String {
    format!(
        "{name}: events {}, answered 2xx {} (other {}), slowest answer {:.1} s, applied {}, parked {}, \
         duplicated {}, lost {}, drained in {:.0} s (floor {:.0} s, {:.2}x), {} calls, peak {} in {} s, \
         {} worker runs, {} faults, {} store failures, {} attempts cut off",
        r.events, r.answered_ok, r.answered_other, r.slowest_answer_ms as f64 / 1000.0, r.applied,
        r.parked, r.duplicated, r.lost, r.drain_secs, r.floor_secs,
        r.drain_secs / r.floor_secs.max(1.0), r.upstream_calls, r.peak_in_window, r.window_secs,
        r.worker_invocations, r.faults_injected, r.store_failures, r.abandoned
    )
}

const SCENARIOS: [&str; 6] = [
    "burst-ghl",
    "burst-calls",
    "slow-4s",
    "slow-9s",
    "slow-never",
    "faults",
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
