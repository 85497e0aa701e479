//! Lambda `ghl-sms-delivery`: see [`bridge::handlers::ghl::SmsDelivery`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::GhlSmsDelivery,
        bridge::handlers::bound::ghl_sms_delivery,
    )
    .await
}
