//! `backfill-bench`: a backfill against a seeded sandbox in this process, timed (see
//! `BENCHMARKS.md`).
//!
//! ```sh
//! cargo run --release -p bridge-bench --bin backfill-bench -- --contacts 2000
//! ```
//! Exits 0 when done, 1 on a failure, 2 on a usage error.

use bridge_bench::backfill::{bench, BenchOptions};
use clap::Parser;

/// Times a backfill of a seeded sandbox (dry run, apply, and a run that finds everything linked).
#[derive(Debug, Parser)]
#[command(name = "backfill-bench", version)]
struct Args {
    /// GHL contacts to seed (CloudTalk gets matching ones, some by email only).
    #[arg(long, default_value_t = BenchOptions::default().contacts)]
    contacts: usize,
    /// Also create the contacts missing on one side.
    #[arg(long)]
    create_missing: bool,
    /// Keep the contact map in memory rather than in a local store file.
    #[arg(long)]
    memory: bool,
    /// The seed of the generated data.
    #[arg(long, default_value_t = BenchOptions::default().seed)]
    seed: u64,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let options = BenchOptions {
        contacts: args.contacts,
        create_missing: args.create_missing,
        memory_store: args.memory,
        seed: args.seed,
    };
    println!(
        "bench: {} GHL contacts{}, {} store",
        options.contacts,
        if options.create_missing {
            ", --create-missing"
        } else {
            ""
        },
        if options.memory_store {
            "in-memory"
        } else {
            "local file"
        }
    );
    match bench(&options).await {
        Ok((seeded, runs)) => {
            println!("{seeded}");
            runs.iter().for_each(|r| println!("{}", r.line()));
        }
        Err(e) => {
            eprintln!("bench failed: {e}");
            std::process::exit(1);
        }
    }
}
