//! Lambda `cloudtalk-generic`: see [`bridge::handlers::cloudtalk::Generic`].

use bridge::handlers::cloudtalk::Generic;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::webhook::run(&Generic).await
}
