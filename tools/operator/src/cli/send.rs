//! `bridge send`: posts event files to a bridge and says whether each got the status its file
//! name expects (see [`crate::sender`]).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::print_json;
use crate::sender::{collect, line, read_secret, send, SecretError, SendOptions};

const AFTER: &str = "\
The webhook secrets are never arguments: each comes from the file its flag names (- for
standard input), else from GHL_WEBHOOK_SECRET / CLOUDTALK_WEBHOOK_SECRET (their first value, as
the local run sets them), else the samples' own credentials are sent. Samples signed by GHL get
a current timestamp and are signed again with the samples' test key, which the local run
trusts. Exits 1 when any event did not get the status its file name expects.

Examples:
  bridge send                                       # every sample under events/
  bridge send events/ghl-new-contact --base-url http://127.0.0.1:8787/bridge
  GHL_WEBHOOK_SECRET=\"$(cat ghl.secret)\" bridge send --base-url \"$API_URL\" \\
    --cloudtalk-secret-file cloudtalk.secret
  pass show bridge/ghl | bridge send --ghl-secret-file - --base-url \"$API_URL\"";

#[derive(Debug, Args)]
#[command(after_help = AFTER)]
pub struct SendArgs {
    /// Event files or folders (default: events).
    pub paths: Vec<PathBuf>,
    /// The bridge's base URL.
    #[arg(long, env = "BRIDGE_URL", default_value = "http://127.0.0.1:9000")]
    pub base_url: String,
    /// A file holding the GHL webhook secret to send, or - for standard input (else
    /// GHL_WEBHOOK_SECRET's first value).
    #[arg(long, value_name = "FILE|-")]
    pub ghl_secret_file: Option<PathBuf>,
    /// A file holding the CloudTalk webhook secret to send, or - for standard input (else
    /// CLOUDTALK_WEBHOOK_SECRET's first value).
    #[arg(long, value_name = "FILE|-")]
    pub cloudtalk_secret_file: Option<PathBuf>,
    /// Send GHL-signed samples as they are, without signing them again.
    #[arg(long)]
    pub keep_signatures: bool,
}

/// The GHL and CloudTalk secrets to send: from the files the flags name (`-`: standard input,
/// for one of them), else the environment.
fn secrets(args: &SendArgs) -> Result<(Option<String>, Option<String>), SecretError> {
    let stdin = |f: &Option<PathBuf>| f.as_deref() == Some(std::path::Path::new("-"));
    if stdin(&args.ghl_secret_file) && stdin(&args.cloudtalk_secret_file) {
        return Err(SecretError::TwoFromStdin);
    }
    let env = |k: &str| std::env::var(k).ok();
    let mut read_stdin = || std::io::read_to_string(std::io::stdin());
    let ghl = read_secret(
        "GHL",
        args.ghl_secret_file.as_deref(),
        "GHL_WEBHOOK_SECRET",
        &env,
        &mut read_stdin,
    )?;
    let cloudtalk = read_secret(
        "CloudTalk",
        args.cloudtalk_secret_file.as_deref(),
        "CLOUDTALK_WEBHOOK_SECRET",
        &env,
        &mut read_stdin,
    )?;
    Ok((ghl, cloudtalk))
}

fn bar(files: usize, interactive: bool) -> ProgressBar {
    if files <= 5 || !interactive {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(files as u64);
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}");
    bar.set_style(style.unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}

pub async fn run(args: SendArgs, json: bool) -> i32 {
    let (ghl_secret, cloudtalk_secret) = match secrets(&args) {
        Ok(secrets) => secrets,
        Err(e) => {
            eprintln!("bridge send: {e}");
            return 2;
        }
    };
    let options = SendOptions {
        base_url: args.base_url,
        ghl_secret,
        cloudtalk_secret,
        timeout: Duration::from_secs(120),
        resign: !args.keep_signatures,
    };
    let mut paths = args.paths;
    if paths.is_empty() {
        paths.push(PathBuf::from("events"));
    }
    let files = match collect(&paths) {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => {
            eprintln!("bridge send: no event files found");
            return 2;
        }
        Err(e) => {
            eprintln!("bridge send: reading the event files: {e}");
            return 2;
        }
    };
    if !json {
        println!("sending {} event(s) to {}", files.len(), options.base_url);
    }
    let interactive = std::io::stderr().is_terminal() && !json;
    let bar = bar(files.len(), interactive);
    let client = reqwest::Client::new();
    let (mut ok, mut unexpected, mut failed) = (0, 0, 0);
    let mut results = Vec::new();
    for file in &files {
        bar.set_message(file.display().to_string());
        let sent = send(&client, &options, file).await;
        match (&sent.status, sent.as_expected()) {
            (_, true) => ok += 1,
            (Ok(_), false) => unexpected += 1,
            (Err(_), _) => failed += 1,
        }
        match (json, interactive) {
            (true, _) => results.push(serde_json::json!({
                "file": file.display().to_string(),
                "expected": sent.expected,
                "status": sent.status.as_ref().ok(),
                "result": sent.summary,
                "error": sent.status.as_ref().err().map(|e| e.to_string()),
                "as_expected": sent.as_expected(),
            })),
            (false, true) => bar.println(line(&sent)),
            (false, false) => println!("{}", line(&sent)),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if json {
        print_json(&serde_json::json!({
            "sent": files.len(), "as_expected": ok, "unexpected": unexpected,
            "failed": failed, "events": results,
        }));
    } else {
        println!(
            "sent {}: {ok} as expected, {unexpected} unexpected, {failed} failed to send",
            files.len()
        );
    }
    i32::from(unexpected + failed > 0)
}
