//! Lambda `cloudtalk-sms-received`: see [`bridge::handlers::cloudtalk::SmsReceived`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::CloudtalkSmsReceived,
        bridge::handlers::bound::cloudtalk_sms_received,
    )
    .await
}
