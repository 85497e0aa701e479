//! The command line of `backfill`.

use std::path::PathBuf;

use super::bench::BenchOptions;
use super::setup::Sources;
use super::Options;

pub const USAGE: &str = "\
usage: backfill [--apply] [--create-missing] [--report PATH] [--checkpoint PATH] [--limit N]
                [--contact-map-table NAME] [--state-table NAME] [--stack-outputs FILE]
                [--local-store PATH] [--location ID] [--ghl-page-size N]
                [--cloudtalk-page-size N] [--quiet]
       backfill bench [--contacts N] [--create-missing] [--memory] [--seed N]

Links the contacts GoHighLevel and CloudTalk already share (same E.164 phone, else email).
A dry run by default: nothing is written until --apply. The APIs, credentials and tables come
from the environment (CLOUDTALK_API_BASE, GHL_API_BASE, CLOUDTALK_API_KEY_ID, ...), the flags
win. --report writes one row per contact (JSON lines, or CSV for a .csv path); --checkpoint
lets a stopped run continue. `bench` runs a backfill against a seeded sandbox in this process.";

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Run {
        sources: Sources,
        options: Options,
        /// No progress, only the summary.
        quiet: bool,
    },
    Bench(BenchOptions),
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
}

/// The command the arguments (without the program name) say.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, UsageError> {
    let mut args = args.into_iter().peekable();
    if args.peek().map(String::as_str) == Some("bench") {
        args.next();
        return parse_bench(args);
    }
    let mut sources = Sources::default();
    let (mut options, mut quiet) = (Options::default(), false);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| UsageError::MissingValue(flag.clone()))
        };
        match flag.as_str() {
            "--apply" => options.apply = true,
            "--create-missing" => options.create_missing = true,
            "--quiet" | "-q" => quiet = true,
            "--report" => options.report = Some(PathBuf::from(value()?)),
            "--checkpoint" => options.checkpoint = Some(PathBuf::from(value()?)),
            "--limit" => options.limit = Some(number(&flag, value()?)?),
            "--ghl-page-size" => options.ghl_page_size = number(&flag, value()?)?,
            "--cloudtalk-page-size" => options.cloudtalk_page_size = number(&flag, value()?)?,
            "--contact-map-table" => sources.flags.push(("CONTACT_MAP_TABLE", value()?)),
            "--state-table" => sources.flags.push(("STATE_TABLE", value()?)),
            "--location" => sources.flags.push(("GHL_LOCATION_ID", value()?)),
            "--stack-outputs" => sources.stack_outputs = Some(PathBuf::from(value()?)),
            "--local-store" => sources.local_store = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Ok(Command::Help),
            _ => return Err(UsageError::Unknown(flag)),
        }
    }
    Ok(Command::Run {
        sources,
        options,
        quiet,
    })
}

fn parse_bench(mut args: impl Iterator<Item = String>) -> Result<Command, UsageError> {
    let mut bench = BenchOptions::default();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| UsageError::MissingValue(flag.clone()))
        };
        match flag.as_str() {
            "--contacts" => bench.contacts = number(&flag, value()?)?,
            "--seed" => bench.seed = number(&flag, value()?)?,
            "--create-missing" => bench.create_missing = true,
            "--memory" => bench.memory_store = true,
            "-h" | "--help" => return Ok(Command::Help),
            _ => return Err(UsageError::Unknown(flag)),
        }
    }
    Ok(Command::Bench(bench))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn flags_set_options_and_settings() {
        let Command::Run {
            sources,
            options,
            quiet,
        } = parse(args(
            "--apply --report r.csv --checkpoint c.json --limit 50 --contact-map-table T --location L -q",
        ))
        .unwrap()
        else {
            panic!("not a run");
        };
        assert!(options.apply && !options.create_missing && quiet);
        assert_eq!(options.report, Some(PathBuf::from("r.csv")));
        assert_eq!(options.limit, Some(50));
        assert_eq!(
            sources.flags,
            vec![
                ("CONTACT_MAP_TABLE", "T".to_string()),
                ("GHL_LOCATION_ID", "L".to_string())
            ]
        );
    }

    #[test]
    fn a_run_is_dry_by_default_and_bad_arguments_are_named() {
        let Ok(Command::Run { options, .. }) = parse(Vec::new()) else {
            panic!("not a run");
        };
        assert!(!options.apply, "dry run by default");
        assert_eq!(
            parse(args("--limit")),
            Err(UsageError::MissingValue("--limit".into()))
        );
        assert!(matches!(
            parse(args("--limit 0")),
            Err(UsageError::NotANumber { .. })
        ));
        assert_eq!(
            parse(args("--aply")),
            Err(UsageError::Unknown("--aply".into()))
        );
        let Ok(Command::Bench(bench)) = parse(args("bench --contacts 300 --memory")) else {
            panic!("not a bench");
        };
        assert_eq!((bench.contacts, bench.memory_store), (300, true));
    }
}
