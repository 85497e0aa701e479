//! Lambda `cloudtalk-call-started`: see [`bridge::handlers::cloudtalk::CallStarted`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::CloudtalkCallStarted,
        bridge::handlers::bound::cloudtalk_call_started,
    )
    .await
}
