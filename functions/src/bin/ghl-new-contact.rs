//! Lambda `ghl-new-contact`: see [`bridge::handlers::ghl::NewContact`].

use bridge::handlers::ghl::NewContact;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::webhook::run(&NewContact).await
}
