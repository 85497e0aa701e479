//! The command line of `bridge`, the operator's command: its arguments (clap, derived), how it
//! finds the deployment, and what each subcommand runs.
//!
//! Exit codes: 0 done; 1 failed (or, for `redrive move` and `send`, something was not done; for
//! `doctor`, a check failed);
//! 2 a usage error (clap's own, or a destructive action refused without `--yes` off a
//! terminal); 3 `backfill --limit` stopped before the end.

mod backfill;
mod redrive;
mod send;
mod tenants;

use std::ffi::OsString;
use std::io::{IsTerminal, Write};

use clap::{CommandFactory, Parser, Subcommand};

use crate::stack::Stack;
pub use crate::stack::Target;

pub use backfill::BackfillArgs;
pub use redrive::{RedriveArgs, RedriveCommand};
pub use send::SendArgs;
pub use tenants::{TenantsArgs, TenantsCommand};

const EXAMPLES: &str = "\
Examples:
  bridge --stack ghl-cloudtalk-bridge status
  bridge --stack ghl-cloudtalk-bridge doctor
  bridge --stack ghl-cloudtalk-bridge tenants list --json
  bridge --stack ghl-cloudtalk-bridge redrive move --reason 406 --dry-run
  bridge --stack ghl-cloudtalk-bridge backfill --report backfill.csv
  bridge send events/ghl-new-contact            # to the local run
  bridge completions bash > ~/.local/share/bash-completion/completions/bridge

Exit codes: 0 done, 1 failed (or not everything was done; for doctor, a check failed), 2 usage
error (or a destructive action refused without --yes off a terminal), 3 backfill stopped by
--limit.";

/// The GoHighLevel <-> CloudTalk bridge's operator command.
///
/// It finds the deployment by its CloudFormation stack (`--stack`, or BRIDGE_STACK) through
/// the standard AWS credentials (profile, SSO, environment) and `--region`; `--stack-outputs`
/// reads a saved copy of its outputs instead. With neither, it works on the local run: the
/// store file and the queues the environment names.
#[derive(Debug, Parser)]
#[command(name = "bridge", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub target: Target,
    /// Print JSON instead of text (status, doctor, tenants list/show, redrive list, backfill,
    /// send).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Agency mode's tenants: list, show, add, change, disable, enable.
    Tenants(Box<TenantsArgs>),
    /// Link the contacts GoHighLevel and CloudTalk already share (a dry run unless --apply).
    Backfill(BackfillArgs),
    /// The events parked on the dead-letter queue: list them by reason, move them back.
    Redrive(RedriveArgs),
    /// Post event files (default: everything under events/) to a bridge.
    Send(SendArgs),
    /// One screen: the stack, its queues, parked events, reconciliation, tenants and alarms.
    Status(crate::status::StatusArgs),
    /// Read-only checks, each ok/warn/fail with what to do; or each sender's setup.
    Doctor(crate::doctor::DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Whether a destructive action may go ahead: `--yes`, or a "y" on a terminal. Off a terminal
/// without `--yes` it is refused (exit 2), so a script never hangs on a question.
pub fn confirmed(what: &str, yes: bool) -> Result<(), i32> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        eprintln!("bridge: {what}: refused without --yes (no terminal to ask on)");
        return Err(2);
    }
    eprint!("{what}: go ahead? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => {
            eprintln!("bridge: {what}: not done");
            Err(1)
        }
    }
}

/// The arguments, parsed (the program name first).
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    Cli::try_parse_from(args)
}

/// Runs the command the arguments say and gives its exit code.
pub async fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match parse(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    if std::env::var("RUST_LOG").is_ok() {
        bridge::telemetry::init();
    }
    run(cli).await
}

/// Runs a parsed command.
pub async fn run(cli: Cli) -> i32 {
    let json = cli.json;
    match cli.command {
        Command::Tenants(args) => tenants::run(&cli.target, *args, json).await,
        Command::Backfill(args) => backfill::run(&cli.target, args, json).await,
        Command::Redrive(args) => redrive::run(&cli.target, args, json).await,
        Command::Send(args) => send::run(args, json).await,
        Command::Status(args) => crate::status::run(&cli.target, args, json).await,
        Command::Doctor(args) => crate::doctor::run(&cli.target, args, json).await,
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "bridge", &mut std::io::stdout());
            0
        }
    }
}

/// The stack, or the exit code after saying why it could not be read.
async fn stack_or_exit(target: &Target) -> Result<Option<Stack>, i32> {
    target.stack().await.map_err(|e| {
        eprintln!("bridge: {e}");
        1
    })
}

/// Prints `value` as JSON.
fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("bridge: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_stack_and_a_saved_copy_exclude_each_other() {
        let both = parse([
            "bridge",
            "--stack",
            "s",
            "--stack-outputs",
            "o.json",
            "status",
        ]);
        assert!(both.is_err());
        let cli = parse(["bridge", "status", "--stack", "s", "--region", "eu-west-1"]).unwrap();
        assert_eq!(cli.target.stack.as_deref(), Some("s"));
        assert_eq!(cli.target.region.as_deref(), Some("eu-west-1"));
        assert!(parse(["bridge"]).is_err(), "a subcommand is required");
    }
}
