//! Lambda `ghl-pipeline-change`: see [`bridge::handlers::ghl::PipelineChange`].

use bridge::handlers::ghl::PipelineChange;
use bridge::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::from_env().await?;
    bridge::webhook::serve(&deps, &PipelineChange).await
}
