//! Lambda `ghl-new-note`: see [`bridge::handlers::ghl::NewNote`].

use bridge::EndpointId;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(EndpointId::GhlNewNote).await
}
