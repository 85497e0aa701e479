//! Lambda `ghl-new-tag`: see [`bridge::handlers::ghl::NewTag`].

use bridge::handlers::ghl::NewTag;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::webhook::run(&NewTag).await
}
