//! `bridge backfill`: links the contacts GoHighLevel and CloudTalk already share (see
//! [`crate::backfill`]).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::{confirmed, print_json, stack_or_exit, Target};
use crate::backfill::progress::{Bar, Lines, Progress, Silent};
use crate::backfill::setup::{self, Sources};
use crate::backfill::{run as backfill, Options};

const AFTER: &str = "\
A dry run by default: nothing is written until --apply. The APIs and credentials come from the
environment (CLOUDTALK_API_BASE, GHL_API_BASE, CLOUDTALK_API_KEY_ID, ...) or the stack's secret,
the tables from the stack; the flags win. Exits 0 when done, 1 on a failure (what was decided is
kept: run again to continue), 3 when --limit stopped it before the end.

Examples:
  bridge --stack ghl-cloudtalk-bridge backfill --report backfill.csv
  bridge --stack ghl-cloudtalk-bridge backfill --apply --checkpoint backfill.ckpt --report backfill.csv";

#[derive(Debug, Args)]
#[command(after_help = AFTER)]
pub struct BackfillArgs {
    /// Write the links (otherwise a dry run).
    #[arg(long)]
    pub apply: bool,
    /// Also create, on the other side, the contacts only one side has.
    #[arg(long)]
    pub create_missing: bool,
    /// One row per contact: JSON lines, or CSV for a .csv path.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Lets a stopped run continue where it stopped.
    #[arg(long, value_name = "PATH")]
    pub checkpoint: Option<PathBuf>,
    /// Decide at most this many contacts in this run.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// The contact map table (else the stack's, else CONTACT_MAP_TABLE).
    #[arg(long, value_name = "NAME")]
    pub contact_map_table: Option<String>,
    /// The state table, for the shared budget (else the stack's, else STATE_TABLE).
    #[arg(long, value_name = "NAME")]
    pub state_table: Option<String>,
    /// The GHL location (else GHL_LOCATION_ID).
    #[arg(long, value_name = "ID")]
    pub location: Option<String>,
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub ghl_page_size: u32,
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub cloudtalk_page_size: u32,
    /// No progress, only the summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Do not ask before an --apply run.
    #[arg(long, short)]
    pub yes: bool,
}

impl BackfillArgs {
    /// The run's options and where its settings come from (beyond the stack).
    pub fn options(&self) -> (Options, Vec<(&'static str, String)>) {
        let options = Options {
            apply: self.apply,
            create_missing: self.create_missing,
            report: self.report.clone(),
            checkpoint: self.checkpoint.clone(),
            limit: self.limit.map(|n| n as usize),
            ghl_page_size: self.ghl_page_size,
            cloudtalk_page_size: self.cloudtalk_page_size,
            ..Options::default()
        };
        let flags = [
            ("CONTACT_MAP_TABLE", &self.contact_map_table),
            ("STATE_TABLE", &self.state_table),
            ("GHL_LOCATION_ID", &self.location),
        ];
        let flags = flags
            .into_iter()
            .filter_map(|(name, v)| v.clone().map(|v| (name, v)))
            .collect();
        (options, flags)
    }
}

fn progress(quiet: bool) -> Box<dyn Progress> {
    match (quiet, std::io::stderr().is_terminal()) {
        (true, _) => Box::new(Silent),
        (false, true) => Box::new(Bar::new()),
        (false, false) => Box::new(Lines::new(Duration::from_secs(10))),
    }
}

pub async fn run(target: &Target, args: BackfillArgs, json: bool) -> i32 {
    let stack = match stack_or_exit(target).await {
        Ok(stack) => stack,
        Err(code) => return code,
    };
    if args.apply {
        if let Err(code) = confirmed("backfill --apply writes links to the contact map", args.yes) {
            return code;
        }
    }
    let (options, flags) = args.options();
    let sources = Sources {
        flags,
        stack,
        local_store: target.local_store.clone(),
    };
    let env: bridge::secrets::Lookup = Arc::new(|k: &str| std::env::var(k).ok());
    let deps = match setup::deps(&sources, env).await {
        Ok(deps) => deps,
        Err(e) => {
            eprintln!("bridge backfill: {e}");
            return 1;
        }
    };
    let mut progress = progress(args.quiet || json);
    match backfill(&deps, &options, progress.as_mut()).await {
        Ok(summary) => {
            progress.finish();
            match json {
                true => print_json(&summary),
                false => println!("{summary}"),
            }
            if summary.complete {
                0
            } else {
                3
            }
        }
        Err(e) => {
            progress.finish();
            eprintln!("bridge backfill stopped: {e}");
            if options.checkpoint.is_some() {
                eprintln!("what it decided is in the checkpoint: run it again to continue");
            }
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Command};
    use super::*;

    fn backfill(line: &str) -> Result<BackfillArgs, clap::Error> {
        let args = std::iter::once("bridge").chain(line.split_whitespace());
        match parse(args)?.command {
            Command::Backfill(b) => Ok(b),
            other => panic!("not a backfill: {other:?}"),
        }
    }

    #[test]
    fn flags_set_options_and_settings() {
        let args = backfill(
            "backfill --apply --report r.csv --checkpoint c.json --limit 50 --contact-map-table T --location L -q",
        )
        .unwrap();
        let (options, flags) = args.options();
        assert!(options.apply && !options.create_missing && args.quiet);
        assert_eq!(options.report, Some(PathBuf::from("r.csv")));
        assert_eq!(options.limit, Some(50));
        assert_eq!(
            flags,
            vec![
                ("CONTACT_MAP_TABLE", "T".to_string()),
                ("GHL_LOCATION_ID", "L".to_string())
            ]
        );
    }

    #[test]
    fn a_run_is_dry_by_default_and_bad_arguments_are_refused() {
        assert!(!backfill("backfill").unwrap().options().0.apply);
        assert!(backfill("backfill --limit").is_err());
        assert!(backfill("backfill --limit 0").is_err());
        assert!(backfill("backfill --aply").is_err());
    }
}
