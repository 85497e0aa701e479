//! `sandbox [--bridge-url URL] [--events DIR] [--addr HOST:PORT]`: serves the CloudTalk and GoHighLevel
//! simulators and the local console on `SANDBOX_ADDR` (default `127.0.0.1:8787`); see
//! [`bridge_local::sandbox`].
//!
//! `--bridge-url` (else `SANDBOX_BRIDGE_URL`, else `http://127.0.0.1:9000`, where
//! `cargo lambda watch` serves the bridge) is where the console sends samples; given as a flag
//! or `SANDBOX_BRIDGE_URL`, CloudTalk's contact-created callbacks go there too. `--events`
//! (else `SANDBOX_EVENTS_DIR`, else `events`) is the folder of samples the console offers.

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
    println!("sandbox on http://{addr}");
    println!(
        "  console         http://{addr}/   (samples → {})",
        config.console.bridge_url
    );
    println!(
        "  CloudTalk API   http://{addr}/cloudtalk/api   (Basic {}:…)",
        config.cloudtalk_key_id
    );
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
