//! Lambda `ghl-pipeline-change`: see [`bridge::handlers::ghl::PipelineChange`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::GhlPipelineChange,
        bridge::handlers::bound::ghl_pipeline_change,
    )
    .await
}
