//! Lambda `cloudtalk-contact-created`: see [`bridge::handlers::cloudtalk::ContactCreated`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::CloudtalkContactCreated,
        bridge::handlers::bound::cloudtalk_contact_created,
    )
    .await
}
