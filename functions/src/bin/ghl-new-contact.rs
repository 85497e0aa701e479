//! Lambda `ghl-new-contact`: see [`bridge::handlers::ghl::NewContact`].

use bridge::handlers::ghl::NewContact;
use bridge::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::from_env().await?;
    bridge::webhook::serve(&deps, &NewContact).await
}
