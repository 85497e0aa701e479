//! Lambda `ghl-status-change`: see [`bridge::handlers::ghl::StatusChange`].

use bridge::handlers::ghl::StatusChange;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::webhook::run(&StatusChange).await
}
