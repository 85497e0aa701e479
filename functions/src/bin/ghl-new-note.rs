//! Lambda `ghl-new-note`: see [`bridge::handlers::ghl::NewNote`].

use bridge::handlers::ghl::NewNote;
use bridge::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::from_env().await?;
    bridge::webhook::serve(&deps, &NewNote).await
}
