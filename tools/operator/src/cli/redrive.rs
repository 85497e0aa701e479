//! `bridge redrive`: the events parked on the dead-letter queue, listed by reason and moved back
//! to the retry queue (see [`crate::redrive`]).

use std::io::IsTerminal;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use super::{confirmed, print_json, stack_or_exit, Target};
use crate::redrive::{self, describe, group, DeadLetterQueue, Filter, Progress, SqsDestination};
use crate::stack::Stack;
use crate::status::{self, Deployment};

const AFTER: &str = "\
The queue URLs come from the flags, then the stack's outputs (DeadLetterQueueUrl,
RetryQueueUrl), then DEAD_LETTER_QUEUE_URL / RETRY_QUEUE_URL; AWS_ENDPOINT_URL is honoured.

Examples:
  bridge --stack ghl-cloudtalk-bridge redrive                      # list, by reason
  bridge --stack ghl-cloudtalk-bridge redrive move --reason 406 --dry-run
  bridge --stack ghl-cloudtalk-bridge redrive move --all --yes";

#[derive(Debug, Args)]
#[command(after_help = AFTER)]
pub struct RedriveArgs {
    #[command(subcommand)]
    pub command: Option<RedriveCommand>,
    #[command(flatten)]
    pub queues: Queues,
}

/// The queues, when not the stack's.
#[derive(Debug, Clone, Default, Args)]
pub struct Queues {
    /// The dead-letter queue's URL.
    #[arg(long, global = true, value_name = "URL")]
    pub dead_letter_queue_url: Option<String>,
    /// The retry queue's URL.
    #[arg(long, global = true, value_name = "URL")]
    pub retry_queue_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RedriveCommand {
    /// The parked events, grouped by reason (the default).
    List,
    /// Send the chosen events back to the retry queue, where the worker runs them again with
    /// fresh attempts; each is deleted from the dead-letter queue only after SQS confirmed its
    /// send.
    #[command(group(clap::ArgGroup::new("choice").required(true).multiple(true).args(["all", "reason", "endpoint"])))]
    Move(MoveArgs),
}

#[derive(Debug, Args)]
pub struct MoveArgs {
    /// Every parked event.
    #[arg(long)]
    pub all: bool,
    /// Events whose reason contains this text (any case).
    #[arg(long)]
    pub reason: Option<String>,
    /// Events of this function (ghl-new-contact, …).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// At most this many.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    /// Only say what would move.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Also move events parked 20 days ago or more (their idempotency record may be gone, so
    /// they could repeat steps they finished).
    #[arg(long)]
    pub allow_repeats: bool,
    /// How long each chosen message is held while it moves, in seconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(i32).range(1..=43_200))]
    pub hold_secs: i32,
    /// No progress, only the summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Do not ask before moving.
    #[arg(long, short)]
    pub yes: bool,
}

/// The queue URLs: flags, then the stack's outputs, then `env` (as `bridge status` finds them).
pub fn resolve(
    queues: &Queues,
    stack: Option<&Stack>,
    env: impl Fn(&str) -> Option<String>,
) -> (Option<String>, Option<String>) {
    let deployment = match stack {
        Some(stack) => Deployment::Stack(stack.clone()),
        None => Deployment::Local,
    };
    let url = |flag: &Option<String>, output: &str, var: &str| {
        status::resolve(flag.as_deref(), &deployment, output, env(var))
            .ok()
            .flatten()
    };
    (
        url(
            &queues.dead_letter_queue_url,
            "DeadLetterQueueUrl",
            "DEAD_LETTER_QUEUE_URL",
        ),
        url(&queues.retry_queue_url, "RetryQueueUrl", "RETRY_QUEUE_URL"),
    )
}

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
            let style = ProgressStyle::with_template("{spinner} {msg}");
            bar.set_style(style.unwrap_or_else(|_| ProgressStyle::default_spinner()));
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

/// The SQS client of the stack's region.
pub async fn sqs(target: &Target) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&crate::stack::aws_config(target.region.as_deref()).await)
}

pub async fn run(target: &Target, args: RedriveArgs, json: bool) -> i32 {
    let stack = match stack_or_exit(target).await {
        Ok(stack) => stack,
        Err(code) => return code,
    };
    let (dlq, retry) = resolve(&args.queues, stack.as_ref(), |k| std::env::var(k).ok());
    let Some(dlq) = dlq else {
        eprintln!("bridge: no dead-letter queue: --stack, --dead-letter-queue-url or DEAD_LETTER_QUEUE_URL");
        return 1;
    };
    let client = sqs(target).await;
    let result = match args.command {
        None | Some(RedriveCommand::List) => list(client, dlq, json).await,
        Some(RedriveCommand::Move(m)) => {
            let Some(retry) = retry else {
                eprintln!("bridge: no retry queue: --stack, --retry-queue-url or RETRY_QUEUE_URL");
                return 1;
            };
            if !m.dry_run {
                if let Err(code) = confirmed("move parked events to the retry queue", m.yes) {
                    return code;
                }
            }
            moving(client, dlq, retry, m, json).await
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("bridge redrive: {e}");
        1
    })
}

async fn list(client: aws_sdk_sqs::Client, dlq_url: String, json: bool) -> Result<i32, String> {
    let dlq = DeadLetterQueue::new(client, dlq_url);
    let mut shown = Shown::new(json);
    let all = dlq
        .list(|n| shown.reading(n))
        .await
        .map_err(|e| e.to_string())?;
    shown.finish();
    let groups = group(&all);
    match json {
        true => print_json(&groups),
        false => print!("{}", describe(&groups)),
    }
    Ok(0)
}

async fn moving(
    client: aws_sdk_sqs::Client,
    dlq_url: String,
    retry_url: String,
    m: MoveArgs,
    json: bool,
) -> Result<i32, String> {
    let mut dlq = DeadLetterQueue::new(client.clone(), dlq_url);
    dlq.hold_secs = m.hold_secs;
    let destination = SqsDestination {
        client,
        queue_url: retry_url,
    };
    let filter = Filter {
        reason: m.reason,
        endpoint: m.endpoint,
        limit: m.limit.map(|n| n as usize),
        allow_repeats: m.allow_repeats,
    };
    let mut shown = Shown::new(m.quiet || json);
    let report = redrive::redrive(&dlq, &destination, &filter, m.dry_run, &mut shown)
        .await
        .map_err(|e| e.to_string())?;
    shown.finish();
    let done = report.send_failed.is_empty() && report.delete_failed.is_empty();
    if json {
        print_json(&report);
        return Ok(i32::from(!done));
    }
    if m.dry_run {
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
    Ok(i32::from(!done))
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Command};
    use super::*;

    fn redrive(line: &str) -> Result<RedriveArgs, clap::Error> {
        let args = std::iter::once("bridge").chain(line.split_whitespace());
        match parse(args)?.command {
            Command::Redrive(r) => Ok(r),
            other => panic!("not a redrive: {other:?}"),
        }
    }

    #[test]
    fn list_is_the_default_and_move_must_choose() {
        assert!(redrive("redrive").unwrap().command.is_none());
        assert!(redrive("redrive move").is_err(), "move needs a choice");
        assert!(redrive("redrive list --all").is_err());
        let Some(RedriveCommand::Move(m)) =
            redrive("redrive move --reason 406 --endpoint ghl-new-tag --limit 5 --dry-run")
                .unwrap()
                .command
        else {
            panic!("not a move");
        };
        assert!(m.dry_run);
        assert_eq!(m.limit, Some(5));
        assert_eq!(m.endpoint.as_deref(), Some("ghl-new-tag"));
        assert!(redrive("redrive move --all --limit 0").is_err());
        assert!(redrive("redrive --bogus").is_err());
    }

    #[test]
    fn flags_win_over_the_stack_and_the_stack_over_the_environment() {
        let stack = Stack {
            outputs: [
                ("DeadLetterQueueUrl".to_string(), "stack-dlq".to_string()),
                ("RetryQueueUrl".to_string(), "stack-retry".to_string()),
            ]
            .into(),
            ..Default::default()
        };
        let queues = Queues {
            dead_letter_queue_url: Some("flag-dlq".into()),
            retry_queue_url: None,
        };
        let env = |k: &str| Some(format!("env-{k}"));
        assert_eq!(
            resolve(&queues, Some(&stack), env),
            (Some("flag-dlq".into()), Some("stack-retry".into()))
        );
        assert_eq!(
            resolve(&Queues::default(), None, env),
            (
                Some("env-DEAD_LETTER_QUEUE_URL".into()),
                Some("env-RETRY_QUEUE_URL".into())
            )
        );
    }
}
