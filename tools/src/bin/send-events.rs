//! `send-events [--base-url URL] [--ghl-secret S] [--cloudtalk-secret S] [--keep-signatures] [PATH ...]`
//!
//! Posts each event file (default: everything under `events/`) to the bridge and prints the
//! status of each and a summary; a progress bar shows when there are many. The credentials
//! default to `GHL_WEBHOOK_SECRET` / `CLOUDTALK_WEBHOOK_SECRET` (first value), else the samples'
//! own; the base URL to `BRIDGE_URL`, else `http://127.0.0.1:9000`. Samples signed by GHL get
//! a current timestamp and are signed again with the samples' test key, which the local run
//! trusts (`--keep-signatures` sends them as they are). Exits 1 when any event did not get the
//! status its file name expects.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use bridge_tools::sender::{collect, line, send, SendOptions};
use indicatif::{ProgressBar, ProgressStyle};

fn first_secret(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .and_then(|v| v.split(',').next().map(|s| s.trim().to_string()))
        .filter(|s| !s.is_empty())
}

fn usage() -> ! {
    eprintln!(
        "usage: send-events [--base-url URL] [--ghl-secret S] [--cloudtalk-secret S] [--keep-signatures] [PATH ...]"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut options = SendOptions {
        base_url: std::env::var("BRIDGE_URL")
            .unwrap_or_else(|_| "http://127.0.0.1:9000".to_string()),
        ghl_secret: first_secret("GHL_WEBHOOK_SECRET"),
        cloudtalk_secret: first_secret("CLOUDTALK_WEBHOOK_SECRET"),
        timeout: Duration::from_secs(120),
        resign: true,
    };
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--base-url" => options.base_url = args.next().unwrap_or_else(|| usage()),
            "--ghl-secret" => options.ghl_secret = Some(args.next().unwrap_or_else(|| usage())),
            "--cloudtalk-secret" => {
                options.cloudtalk_secret = Some(args.next().unwrap_or_else(|| usage()))
            }
            "--keep-signatures" => options.resign = false,
            "-h" | "--help" => usage(),
            other if other.starts_with("--") => usage(),
            other => paths.push(PathBuf::from(other)),
        }
    }
    if paths.is_empty() {
        paths.push(PathBuf::from("events"));
    }
    let files = match collect(&paths) {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => {
            eprintln!("no event files found");
            std::process::exit(2)
        }
        Err(e) => {
            eprintln!("reading the event files: {e}");
            std::process::exit(2)
        }
    };
    println!("sending {} event(s) to {}", files.len(), options.base_url);
    let interactive = std::io::stderr().is_terminal();
    let bar = if files.len() > 5 && interactive {
        let bar = ProgressBar::new(files.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let client = reqwest::Client::new();
    let (mut ok, mut unexpected, mut failed) = (0, 0, 0);
    for file in &files {
        bar.set_message(file.display().to_string());
        let sent = send(&client, &options, file).await;
        match (&sent.status, sent.as_expected()) {
            (_, true) => ok += 1,
            (Ok(_), false) => unexpected += 1,
            (Err(_), _) => failed += 1,
        }
        if interactive {
            bar.println(line(&sent));
        } else {
            println!("{}", line(&sent));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "sent {}: {ok} as expected, {unexpected} unexpected, {failed} failed to send",
        files.len()
    );
    if unexpected + failed > 0 {
        std::process::exit(1);
    }
}
