//! Lambda `ghl-app-install`: see [`bridge::handlers::ghl::AppInstall`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::GhlAppInstall,
        bridge::handlers::bound::ghl_app_install,
    )
    .await
}
