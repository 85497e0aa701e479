//! Lambda `cloudtalk-generic`: see [`bridge::handlers::cloudtalk::Generic`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::CloudtalkGeneric,
        bridge::handlers::bound::cloudtalk_generic,
    )
    .await
}
