//! Lambda `cloudtalk-call-ended`: see [`bridge::handlers::cloudtalk::CallEnded`].

use bridge::handlers::cloudtalk::CallEnded;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::webhook::run(&CallEnded).await
}
