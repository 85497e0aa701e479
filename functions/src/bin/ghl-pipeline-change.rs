//! Lambda `ghl-pipeline-change`: see [`bridge::handlers::ghl::PipelineChange`].

use bridge::handlers::ghl::PipelineChange;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::webhook::run(&PipelineChange).await
}
