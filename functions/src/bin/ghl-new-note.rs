//! Lambda `ghl-new-note`: see [`bridge::handlers::ghl::NewNote`].

use bridge::handlers::ghl::NewNote;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::webhook::run(&NewNote).await
}
