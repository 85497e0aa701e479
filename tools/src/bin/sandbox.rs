//! `sandbox`: serves the CloudTalk and GoHighLevel simulators on `SANDBOX_ADDR`
//! (default `127.0.0.1:8787`); see [`bridge_tools::sandbox`].

use bridge_tools::sandbox::{Sandbox, SandboxConfig};

#[tokio::main]
async fn main() {
    let addr = std::env::var("SANDBOX_ADDR").unwrap_or_else(|_| "127.0.0.1:8787".to_string());
    let Ok(addr) = addr.parse() else {
        eprintln!("SANDBOX_ADDR must be host:port, got {addr}");
        std::process::exit(2);
    };
    let config = SandboxConfig::from_env();
    println!("sandbox on http://{addr}");
    println!(
        "  CloudTalk API   http://{addr}/cloudtalk/api   (Basic {}:…)",
        config.cloudtalk_key_id
    );
    println!(
        "  GoHighLevel API http://{addr}/ghl             (location {})",
        config.ghl_location_id
    );
    println!("  state           http://{addr}/sandbox/state");
    if let Some(bridge) = &config.bridge_url {
        println!("  contact-created webhooks → {bridge}");
    }
    if let Err(e) = Sandbox::new(config).serve(addr).await {
        eprintln!("sandbox: {e}");
        std::process::exit(1);
    }
}
