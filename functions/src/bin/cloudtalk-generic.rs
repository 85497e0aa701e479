//! Lambda `cloudtalk-generic`: see [`bridge::handlers::cloudtalk::Generic`].

use bridge::handlers::cloudtalk::Generic;
use bridge::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::from_env().await?;
    bridge::webhook::serve(&deps, &Generic).await
}
