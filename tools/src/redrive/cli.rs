//! The command line of `redrive`.

use std::path::PathBuf;

use super::Filter;

pub const USAGE: &str = "\
usage: redrive [list] [QUEUES]
       redrive move (--all | [--reason TEXT] [--endpoint NAME]) [--limit N] [--dry-run]
                    [--allow-repeats] [--hold-secs N] [--quiet] [QUEUES]
QUEUES: [--dead-letter-queue-url URL] [--retry-queue-url URL] [--stack-outputs FILE]

`list` (the default) shows the events parked on the dead-letter queue, grouped by reason.
`move` sends the chosen ones back to the retry queue, where the retry worker runs them again
with fresh attempts; each is deleted from the dead-letter queue only after SQS confirmed its
send. --reason matches part of the reason (any case), --endpoint a function name
(ghl-new-contact); --all moves every parked event; --dry-run only says what would move.
An event parked 20 days ago or more is left parked (its idempotency record, kept 21 days from
its last attempt, may be gone, so it could repeat the steps it finished); --allow-repeats moves
it anyway.
The queue URLs come from the flags, then the stack's outputs (the JSON of `aws cloudformation
describe-stacks --query 'Stacks[0].Outputs'`), then DEAD_LETTER_QUEUE_URL / RETRY_QUEUE_URL;
AWS_ENDPOINT_URL and AWS_REGION are honoured.";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queues {
    pub dead_letter_url: Option<String>,
    pub retry_url: Option<String>,
    pub stack_outputs: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    List(Queues),
    Move {
        queues: Queues,
        filter: Filter,
        dry_run: bool,
        hold_secs: i32,
        quiet: bool,
    },
    Help,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("{flag} takes a positive number, not {value:?}")]
    NotANumber { flag: String, value: String },
    #[error("unknown argument {0}")]
    Unknown(String),
    #[error("move needs --all, or --reason / --endpoint to choose events")]
    NothingChosen,
    #[error("{0} only applies to move")]
    OnlyForMove(String),
}

fn number<T: std::str::FromStr + PartialOrd + Default>(
    flag: &str,
    value: String,
) -> Result<T, UsageError> {
    match value.parse::<T>() {
        Ok(n) if n > T::default() => Ok(n),
        _ => Err(UsageError::NotANumber {
            flag: flag.to_string(),
            value,
        }),
    }
}

/// The command the arguments (without the program name) say.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, UsageError> {
    let mut args = args.into_iter().peekable();
    let moving = match args.peek().map(String::as_str) {
        Some("move") => {
            args.next();
            true
        }
        Some("list") => {
            args.next();
            false
        }
        _ => false,
    };
    let mut queues = Queues::default();
    let mut filter = Filter::default();
    let (mut all, mut dry_run, mut quiet, mut hold_secs) = (false, false, false, 300);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| UsageError::MissingValue(flag.clone()))
        };
        let move_only = matches!(
            flag.as_str(),
            "--all"
                | "--reason"
                | "--endpoint"
                | "--limit"
                | "--dry-run"
                | "--hold-secs"
                | "--allow-repeats"
        );
        if move_only && !moving {
            return Err(UsageError::OnlyForMove(flag));
        }
        match flag.as_str() {
            "--dead-letter-queue-url" => queues.dead_letter_url = Some(value()?),
            "--retry-queue-url" => queues.retry_url = Some(value()?),
            "--stack-outputs" => queues.stack_outputs = Some(PathBuf::from(value()?)),
            "--all" => all = true,
            "--reason" => filter.reason = Some(value()?),
            "--endpoint" => filter.endpoint = Some(value()?),
            "--limit" => filter.limit = Some(number(&flag, value()?)?),
            "--hold-secs" => hold_secs = number(&flag, value()?)?,
            "--dry-run" | "-n" => dry_run = true,
            "--allow-repeats" => filter.allow_repeats = true,
            "--quiet" | "-q" => quiet = true,
            "-h" | "--help" => return Ok(Command::Help),
            _ => return Err(UsageError::Unknown(flag)),
        }
    }
    if !moving {
        return Ok(Command::List(queues));
    }
    if !all && filter.reason.is_none() && filter.endpoint.is_none() {
        return Err(UsageError::NothingChosen);
    }
    Ok(Command::Move {
        queues,
        filter,
        dry_run,
        hold_secs,
        quiet,
    })
}

/// The queue URLs: flags, then the stack's outputs, then `env`.
pub fn resolve(
    queues: &Queues,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(Option<String>, Option<String>), String> {
    let (mut dlq, mut retry) = (queues.dead_letter_url.clone(), queues.retry_url.clone());
    if let Some(path) = &queues.stack_outputs {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading the stack outputs {}: {e}", path.display()))?;
        let (stack_dlq, stack_retry) = super::stack_queue_urls(&text)
            .map_err(|e| format!("reading the stack outputs {}: {e}", path.display()))?;
        dlq = dlq.or(stack_dlq);
        retry = retry.or(stack_retry);
    }
    let set = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    Ok((
        set(dlq).or_else(|| set(env("DEAD_LETTER_QUEUE_URL"))),
        set(retry).or_else(|| set(env("RETRY_QUEUE_URL"))),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn list_is_the_default_and_move_must_choose() {
        assert_eq!(parse(args("")), Ok(Command::List(Queues::default())));
        assert_eq!(parse(args("move")), Err(UsageError::NothingChosen));
        assert_eq!(
            parse(args("list --all")),
            Err(UsageError::OnlyForMove("--all".into()))
        );
        let Ok(Command::Move {
            filter, dry_run, ..
        }) = parse(args(
            "move --reason 406 --endpoint ghl-new-tag --limit 5 --dry-run",
        ))
        else {
            panic!("not a move");
        };
        assert!(dry_run);
        assert_eq!(filter.limit, Some(5));
        assert_eq!(filter.endpoint.as_deref(), Some("ghl-new-tag"));
        assert!(matches!(
            parse(args("move --all --limit 0")),
            Err(UsageError::NotANumber { .. })
        ));
        assert_eq!(
            parse(args("--bogus")),
            Err(UsageError::Unknown("--bogus".into()))
        );
    }

    #[test]
    fn flags_win_over_the_stack_and_the_stack_over_the_environment() {
        let dir = std::env::temp_dir().join(format!("redrive-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let outputs = dir.join("outputs.json");
        std::fs::write(
            &outputs,
            r#"[{"OutputKey": "DeadLetterQueueUrl", "OutputValue": "stack-dlq"},
                {"OutputKey": "RetryQueueUrl", "OutputValue": "stack-retry"}]"#,
        )
        .unwrap();
        let queues = Queues {
            dead_letter_url: Some("flag-dlq".into()),
            retry_url: None,
            stack_outputs: Some(outputs),
        };
        let env = |k: &str| Some(format!("env-{k}"));
        assert_eq!(
            resolve(&queues, env).unwrap(),
            (Some("flag-dlq".into()), Some("stack-retry".into()))
        );
        assert_eq!(
            resolve(&Queues::default(), env).unwrap(),
            (
                Some("env-DEAD_LETTER_QUEUE_URL".into()),
                Some("env-RETRY_QUEUE_URL".into())
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
