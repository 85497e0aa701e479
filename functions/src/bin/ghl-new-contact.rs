//! Lambda `ghl-new-contact`: see [`bridge::handlers::ghl::NewContact`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::GhlNewContact,
        bridge::handlers::bound::ghl_new_contact,
    )
    .await
}
