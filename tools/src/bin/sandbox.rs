//! `sandbox [--bridge-url URL] [--events DIR]`: serves the CloudTalk and GoHighLevel
//! simulators and the local console on `SANDBOX_ADDR` (default `127.0.0.1:8787`); see
//! [`bridge_tools::sandbox`].
//!
//! `--bridge-url` (else `SANDBOX_BRIDGE_URL`, else `http://127.0.0.1:9000`, where
//! `cargo lambda watch` serves the bridge) is where the console sends samples; given as a flag
//! or `SANDBOX_BRIDGE_URL`, CloudTalk's contact-created callbacks go there too. `--events`
//! (else `SANDBOX_EVENTS_DIR`, else `events`) is the folder of samples the console offers.

use bridge_tools::sandbox::{Sandbox, SandboxConfig};

fn usage() -> ! {
    eprintln!("usage: sandbox [--bridge-url URL] [--events DIR]   (address: SANDBOX_ADDR)");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let addr = std::env::var("SANDBOX_ADDR").unwrap_or_else(|_| "127.0.0.1:8787".to_string());
    let Ok(addr) = addr.parse() else {
        eprintln!("SANDBOX_ADDR must be host:port, got {addr}");
        std::process::exit(2);
    };
    let mut config = SandboxConfig::from_env();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bridge-url" => {
                let url = args.next().unwrap_or_else(|| usage());
                config.bridge_url = Some(url.clone());
                config.console.bridge_url = url;
            }
            "--events" => {
                config.console.events_dir = args.next().unwrap_or_else(|| usage()).into();
            }
            _ => usage(),
        }
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
