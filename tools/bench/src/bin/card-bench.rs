//! `card-bench`: the time from a call-started webhook to the agent's cue card, against the
//! sandbox with realistic upstream latencies (see `BENCHMARKS.md`).
//!
//! ```sh
//! cargo run --release -p bridge-bench --bin card-bench -- --contacts 60
//! ```
//! Exits 0 when every measured call got its card, 1 otherwise, 2 on a usage error.

use bridge_bench::cue_cards::{bench, BenchOptions, HEADER};
use clap::Parser;

/// Times cue cards: callers GHL holds (first call, and again within a minute) and numbers it
/// does not know.
#[derive(Debug, Parser)]
#[command(name = "card-bench", version)]
struct Args {
    /// Callers per case (GHL contacts seeded, each with a record).
    #[arg(long, default_value_t = BenchOptions::default().contacts)]
    contacts: usize,
    /// The least time any upstream request takes, in ms.
    #[arg(long, default_value_t = BenchOptions::default().latency_ms)]
    latency_ms: u64,
    /// Up to this much more, drawn per request, in ms.
    #[arg(long, default_value_t = BenchOptions::default().spread_ms)]
    spread_ms: u64,
    /// A call starts every this many ms.
    #[arg(long, default_value_t = BenchOptions::default().every_ms)]
    every_ms: u64,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let options = BenchOptions {
        contacts: args.contacts,
        latency_ms: args.latency_ms,
        spread_ms: args.spread_ms,
        every_ms: args.every_ms,
    };
    println!(
        "card-bench: {} callers per case, every upstream request {}–{} ms",
        options.contacts,
        options.latency_ms,
        options.latency_ms + options.spread_ms
    );
    match bench(&options).await {
        Ok(cases) => {
            println!("{HEADER}");
            for case in &cases {
                println!("{}", case.row());
            }
            let missing: usize = cases.iter().map(|c| c.without_card).sum();
            if missing > 0 {
                eprintln!("card-bench: {missing} call(s) got no card");
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("card-bench: {e}");
            std::process::exit(1);
        }
    }
}
