//! `redrive`: lists the events parked on the dead-letter queue by reason and moves them back to
//! the retry queue (see [`bridge_tools::redrive`] and the README's *Redrive* section).
//!
//! ```sh
//! cargo run -p bridge-tools --bin redrive -- --stack-outputs outputs.json               # list
//! cargo run -p bridge-tools --bin redrive -- move --reason 406 --dry-run --stack-outputs outputs.json
//! cargo run -p bridge-tools --bin redrive -- move --all --stack-outputs outputs.json
//! ```
//! Exits 0 when done, 1 on a failure (or when some events could not be moved), 2 on a usage
//! error.

use std::io::IsTerminal;

use bridge_tools::redrive::cli::{self, Command, Queues, USAGE};
use bridge_tools::redrive::{self, describe, group, DeadLetterQueue, Progress, SqsDestination};
use indicatif::{ProgressBar, ProgressStyle};

/// A bar on a terminal, else a line per batch; nothing with `--quiet`.
struct Shown {
    bar: Option<ProgressBar>,
    lines: bool,
}

impl Shown {
    fn new(quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        });
        Self {
            bar,
            lines: !quiet && !terminal,
        }
    }

    fn say(&self, line: String) {
        match &self.bar {
            Some(bar) => bar.set_message(line),
            None if self.lines => eprintln!("{line}"),
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Shown {
    fn reading(&mut self, read: usize) {
        // On a terminal only: a line per receive would be noise in a log.
        if self.bar.is_some() {
            self.say(format!("reading the dead-letter queue: {read} message(s)"));
        }
    }

    fn moving(&mut self, done: usize, chosen: usize, moved: usize, failed: usize) {
        self.say(format!(
            "moving: {done}/{chosen} ({moved} moved, {failed} failed)"
        ));
    }
}

async fn sqs() -> aws_sdk_sqs::Client {
    let mut loader = aws_config::from_env();
    if let Ok(url) = std::env::var("AWS_ENDPOINT_URL") {
        loader = loader.endpoint_url(url);
    }
    aws_sdk_sqs::Client::new(&loader.load().await)
}

fn queues(queues: &Queues, need_retry: bool) -> Result<(String, Option<String>), String> {
    let (dlq, retry) = cli::resolve(queues, |k| std::env::var(k).ok())?;
    let dlq = dlq.ok_or(
        "no dead-letter queue: --dead-letter-queue-url, --stack-outputs or DEAD_LETTER_QUEUE_URL",
    )?;
    if need_retry && retry.is_none() {
        return Err("no retry queue: --retry-queue-url, --stack-outputs or RETRY_QUEUE_URL".into());
    }
    Ok((dlq, retry))
}

async fn list(q: Queues) -> Result<i32, String> {
    let (dlq_url, _) = queues(&q, false)?;
    let dlq = DeadLetterQueue::new(sqs().await, dlq_url);
    let mut shown = Shown::new(false);
    let all = dlq
        .list(|n| shown.reading(n))
        .await
        .map_err(|e| e.to_string())?;
    shown.finish();
    print!("{}", describe(&group(&all)));
    Ok(0)
}

async fn moving(
    q: Queues,
    filter: redrive::Filter,
    dry_run: bool,
    hold_secs: i32,
    quiet: bool,
) -> Result<i32, String> {
    let (dlq_url, retry_url) = queues(&q, true)?;
    let client = sqs().await;
    let mut dlq = DeadLetterQueue::new(client.clone(), dlq_url);
    dlq.hold_secs = hold_secs;
    let destination = SqsDestination {
        client,
        queue_url: retry_url.unwrap_or_default(),
    };
    let mut shown = Shown::new(quiet);
    let report = redrive::redrive(&dlq, &destination, &filter, dry_run, &mut shown)
        .await
        .map_err(|e| e.to_string())?;
    shown.finish();
    if dry_run {
        println!("dry run: nothing is moved");
    }
    print!("chosen: {}", describe(&report.groups));
    for (id, why) in &report.send_failed {
        println!("not sent, still parked: {id}: {why}");
    }
    for (id, why) in &report.delete_failed {
        println!("sent but still on the dead-letter queue: {id}: {why}");
    }
    println!("{report}");
    Ok(i32::from(
        !(report.send_failed.is_empty() && report.delete_failed.is_empty()),
    ))
}

#[tokio::main]
async fn main() {
    let result = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::List(q)) => list(q).await,
        Ok(Command::Move {
            queues,
            filter,
            dry_run,
            hold_secs,
            quiet,
        }) => moving(queues, filter, dry_run, hold_secs, quiet).await,
        Ok(Command::Help) => {
            println!("{USAGE}");
            Ok(0)
        }
        Err(e) => {
            eprintln!("redrive: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("redrive: {e}");
            std::process::exit(1);
        }
    }
}
