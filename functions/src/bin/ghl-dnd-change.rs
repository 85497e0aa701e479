//! Lambda `ghl-dnd-change`: see [`bridge::handlers::ghl::DndChange`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::GhlDndChange,
        bridge::handlers::bound::ghl_dnd_change,
    )
    .await
}
