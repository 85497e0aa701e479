//! Lambda `ghl-status-change`: see [`bridge::handlers::ghl::StatusChange`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::GhlStatusChange,
        bridge::handlers::bound::ghl_status_change,
    )
    .await
}
