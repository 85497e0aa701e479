//! Lambda `cloudtalk-call-ended`: see [`bridge::handlers::cloudtalk::CallEnded`].

use bridge::handlers::cloudtalk::CallEnded;
use bridge::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::from_env().await?;
    bridge::webhook::serve(&deps, &CallEnded).await
}
