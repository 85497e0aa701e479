//! `sandbox [--bridge-url URL] [--events DIR] [--addr HOST:PORT] [--enforce-cloudtalk-limit]
//! [--bulk-request-cost N]`: serves the CloudTalk and GoHighLevel
//! simulators and the local console on `SANDBOX_ADDR` (default `127.0.0.1:8787`); see
//! [`bridge_local::sandbox`].
//!
//! `--bridge-url` (else `SANDBOX_BRIDGE_URL`, else `http://127.0.0.1:9000`, where
//! `cargo lambda watch` serves the bridge) is where the console sends samples; given as a flag
//! or `SANDBOX_BRIDGE_URL`, CloudTalk's contact-created callbacks go there too. `--events`
//! (else `SANDBOX_EVENTS_DIR`, else `events`) is the folder of samples the console offers.
//! `--enforce-cloudtalk-limit` (else `SANDBOX_ENFORCE_CLOUDTALK_LIMIT=1`) answers 429 past
//! CloudTalk's 60 requests a minute; `--bulk-request-cost` (else `SANDBOX_BULK_REQUEST_COST`,
//! else 1) is what one `POST /bulk/contacts.json` counts against it, seen in the drop of
//! `X-CloudTalkAPI-Remaining` (CloudTalk does not document whether it is 1 or 10; see
//! [`SandboxConfig::bulk_request_cost`]). Other settings: [`SandboxConfig::from_env`].

use bridge_local::sandbox::{Sandbox, SandboxConfig};

/// Serves the CloudTalk and GoHighLevel simulators and the local console.
#[derive(Debug, clap::Parser)]
#[command(name = "sandbox", version)]
struct Args {
    /// Where the console sends samples, and CloudTalk's contact-created callbacks go
    /// (default http://127.0.0.1:9000, where `cargo lambda watch` serves the bridge).
    #[arg(long, env = "SANDBOX_BRIDGE_URL", value_name = "URL")]
    bridge_url: Option<String>,
    /// The folder of samples the console offers (default events).
    #[arg(long, env = "SANDBOX_EVENTS_DIR", value_name = "DIR")]
    events: Option<std::path::PathBuf>,
    /// The address to listen on.
    #[arg(long, env = "SANDBOX_ADDR", default_value = "127.0.0.1:8787")]
    addr: std::net::SocketAddr,
    /// Answer 429 past CloudTalk's 60 requests a minute (else SANDBOX_ENFORCE_CLOUDTALK_LIMIT=1).
    #[arg(long)]
    enforce_cloudtalk_limit: bool,
    /// How many requests one `POST /bulk/contacts.json` counts against CloudTalk's limit: 1 (a
    /// request like any other) or 10 (one per command); counted only with the limit enforced
    /// (default 1).
    #[arg(long, env = "SANDBOX_BULK_REQUEST_COST", value_name = "N")]
    bulk_request_cost: Option<u32>,
}

#[tokio::main]
async fn main() {
    let args = <Args as clap::Parser>::parse();
    let addr = args.addr;
    let mut config = SandboxConfig::from_env();
    if let Some(url) = args.bridge_url {
        config.bridge_url = Some(url.clone());
        config.console.bridge_url = url;
    }
    if let Some(dir) = args.events {
        config.console.events_dir = dir;
    }
    config.enforce_cloudtalk_limit |= args.enforce_cloudtalk_limit;
    if let Some(cost) = args.bulk_request_cost {
        config.bulk_request_cost = cost;
    }
    println!("sandbox on http://{addr}");
    println!(
        "  console         http://{addr}/   (samples → {})",
        config.console.bridge_url
    );
    println!(
        "  CloudTalk API   http://{addr}/cloudtalk/api   (Basic {}:…)",
        config.cloudtalk_key_id
    );
    if config.enforce_cloudtalk_limit {
        println!(
            "                  60 requests a minute, a bulk request counting {}",
            config.bulk_request_cost.max(1)
        );
    }
    println!("  CloudTalk AI    http://{addr}/cloudtalk/ai/v1");
    println!("  CloudTalk calls http://{addr}/cloudtalk/analytics   (analytics API)");
    println!(
        "  GoHighLevel API http://{addr}/ghl             (location {})",
        config.ghl_location_id
    );
    println!("  state           http://{addr}/sandbox/state");
    println!("  bridge proxy    http://{addr}/bridge   (recorded in the console's feed)");
    if let Some(bridge) = &config.bridge_url {
        println!("  contact-created webhooks → {bridge}");
    }
    if let Err(e) = Sandbox::new(config).serve(addr).await {
        eprintln!("sandbox: {e}");
        std::process::exit(1);
    }
}
