//! Lambda `cloudtalk-campaign-status-change`: see [`bridge::handlers::cloudtalk::CampaignStatusChange`].

use bridge::handlers::cloudtalk::CampaignStatusChange;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::webhook::run(&CampaignStatusChange).await
}
