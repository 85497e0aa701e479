//! Lambda `cloudtalk-call-ended`: see [`bridge::handlers::cloudtalk::CallEnded`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::CloudtalkCallEnded,
        bridge::handlers::bound::cloudtalk_call_ended,
    )
    .await
}
