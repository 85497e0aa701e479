//! `backfill`: links the contacts a customer already has in GoHighLevel and CloudTalk (see
//! [`bridge_tools::backfill`] and the README's *Backfill* section).
//!
//! ```sh
//! cargo run -p bridge-tools --bin backfill -- --report backfill.csv            # dry run
//! cargo run -p bridge-tools --bin backfill -- --apply --checkpoint backfill.ckpt --report backfill.csv
//! cargo run --release -p bridge-tools --bin backfill -- bench --contacts 2000
//! ```
//! Exits 0 when done, 1 on a failure (what was decided is kept; run again to continue), 2 on
//! a usage error, 3 when `--limit` stopped it before the end.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use bridge_tools::backfill::cli::{self, Command, USAGE};
use bridge_tools::backfill::progress::{Bar, Lines, Progress, Silent};
use bridge_tools::backfill::setup::{self, Sources};
use bridge_tools::backfill::{bench, run, Options};

fn progress(quiet: bool) -> Box<dyn Progress> {
    match (quiet, std::io::stderr().is_terminal()) {
        (true, _) => Box::new(Silent),
        (false, true) => Box::new(Bar::new()),
        (false, false) => Box::new(Lines::new(Duration::from_secs(10))),
    }
}

async fn backfill(sources: Sources, options: Options, quiet: bool) -> i32 {
    if std::env::var("RUST_LOG").is_ok() {
        bridge::telemetry::init();
    }
    let env: bridge::secrets::Lookup = Arc::new(|k: &str| std::env::var(k).ok());
    let deps = match setup::deps(&sources, env).await {
        Ok(deps) => deps,
        Err(e) => {
            eprintln!("backfill: {e}");
            return 1;
        }
    };
    let mut progress = progress(quiet);
    match run(&deps, &options, progress.as_mut()).await {
        Ok(summary) => {
            progress.finish();
            println!("{summary}");
            if summary.complete {
                0
            } else {
                3
            }
        }
        Err(e) => {
            progress.finish();
            eprintln!("backfill stopped: {e}");
            if options.checkpoint.is_some() {
                eprintln!("what it decided is in the checkpoint: run it again to continue");
            }
            1
        }
    }
}

async fn benchmark(options: bench::BenchOptions) -> i32 {
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
    match bench::bench(&options).await {
        Ok((seeded, runs)) => {
            println!("{seeded}");
            runs.iter().for_each(|r| println!("{}", r.line()));
            0
        }
        Err(e) => {
            eprintln!("bench failed: {e}");
            1
        }
    }
}

#[tokio::main]
async fn main() {
    let code = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Run {
            sources,
            options,
            quiet,
        }) => backfill(sources, options, quiet).await,
        Ok(Command::Bench(options)) => benchmark(options).await,
        Ok(Command::Help) => {
            println!("{USAGE}");
            0
        }
        Err(e) => {
            eprintln!("backfill: {e}\n{USAGE}");
            2
        }
    };
    std::process::exit(code);
}
