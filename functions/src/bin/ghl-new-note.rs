//! Lambda `ghl-new-note`: see [`bridge::handlers::ghl::NewNote`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::GhlNewNote,
        bridge::handlers::bound::ghl_new_note,
    )
    .await
}
