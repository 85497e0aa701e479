//! Lambda `cloudtalk-call-started`: see [`bridge::handlers::cloudtalk::CallStarted`].

use bridge::handlers::cloudtalk::CallStarted;
use bridge::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::from_env().await?;
    bridge::webhook::serve(&deps, &CallStarted).await
}
