//! Lambda `cloudtalk-contact-created`: see [`bridge::handlers::cloudtalk::ContactCreated`].

use bridge::handlers::cloudtalk::ContactCreated;
use bridge::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::from_env().await?;
    bridge::webhook::serve(&deps, &ContactCreated).await
}
