//! Lambda `cloudtalk-call-modified`: see [`bridge::handlers::cloudtalk::CallModified`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::CloudtalkCallModified,
        bridge::handlers::bound::cloudtalk_call_modified,
    )
    .await
}
