//! Lambda `ghl-new-tag`: see [`bridge::handlers::ghl::NewTag`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(EndpointId::GhlNewTag, bridge::handlers::bound::ghl_new_tag).await
}
