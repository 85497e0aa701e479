//! `tenants`: lists, adds, shows, changes and disables agency mode's tenants (see
//! [`bridge_tools::tenants`] and the README's *Agency mode* section).
//!
//! ```sh
//! cargo run -p bridge-tools --bin tenants -- --stack-outputs outputs.json list
//! TENANT_GHL_TOKEN=pit-… TENANT_CLOUDTALK_KEY_SECRET=… \
//!   cargo run -p bridge-tools --bin tenants -- --stack-outputs outputs.json add loc_123 --cloudtalk-key-id KEY
//! ```
//! Exits 0 when done, 1 on a failure, 2 on a usage error.

use std::sync::Arc;

use bridge_tools::backfill::setup;
use bridge_tools::tenants::{self, Command, USAGE};

#[tokio::main]
async fn main() {
    let command = match tenants::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("tenants: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let Command::Run { sources, action } = command else {
        println!("{USAGE}");
        return;
    };
    if std::env::var("RUST_LOG").is_ok() {
        bridge::telemetry::init();
    }
    let env: bridge::secrets::Lookup = Arc::new(|k: &str| std::env::var(k).ok());
    let deps = match setup::deps(&sources, env.clone()).await {
        Ok(deps) => deps,
        Err(e) => {
            eprintln!("tenants: {e}");
            std::process::exit(1);
        }
    };
    let Some(registry) = deps.tenants.as_deref() else {
        eprintln!("tenants: no tenant registry: set TENANTS_TABLE (or --tenants-table, --stack-outputs) and the seal key (TENANT_SEAL_KEY in the bridge's secret)");
        std::process::exit(1);
    };
    match tenants::run(registry, &action, &env).await {
        Ok(text) => println!("{text}"),
        Err(e) => {
            eprintln!("tenants: {e}");
            std::process::exit(1);
        }
    }
}
