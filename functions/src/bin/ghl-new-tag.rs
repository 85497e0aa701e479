//! Lambda `ghl-new-tag`: see [`bridge::handlers::ghl::NewTag`].

use bridge::handlers::ghl::NewTag;
use bridge::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::from_env().await?;
    bridge::webhook::serve(&deps, &NewTag).await
}
