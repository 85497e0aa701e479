//! Lambda `cloudtalk-campaign-status-change`: see [`bridge::handlers::cloudtalk::CampaignStatusChange`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::CloudtalkCampaignStatusChange,
        bridge::handlers::bound::cloudtalk_campaign_status_change,
    )
    .await
}
