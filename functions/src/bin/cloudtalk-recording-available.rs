//! Lambda `cloudtalk-recording-available`: see [`bridge::handlers::cloudtalk::RecordingAvailable`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::CloudtalkRecordingAvailable,
        bridge::handlers::bound::cloudtalk_recording_available,
    )
    .await
}
