//! Lambda `cloudtalk-call-started`: see [`bridge::handlers::cloudtalk::CallStarted`].

use bridge::handlers::cloudtalk::CallStarted;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::webhook::run(&CallStarted).await
}
