//! Lambda `cloudtalk-campaign-status-change`: see [`bridge::handlers::cloudtalk::CampaignStatusChange`].

use bridge::handlers::cloudtalk::CampaignStatusChange;
use bridge::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::from_env().await?;
    bridge::webhook::serve(&deps, &CampaignStatusChange).await
}
