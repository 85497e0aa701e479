//! Lambda `ghl-status-change`: see [`bridge::handlers::ghl::StatusChange`].

use bridge::handlers::ghl::StatusChange;
use bridge::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::from_env().await?;
    bridge::webhook::serve(&deps, &StatusChange).await
}
