//! Lambda `cloudtalk-agent-status-change`: see [`bridge::handlers::cloudtalk::AgentStatusChange`].

use bridge::EndpointId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::pipeline::run(
        EndpointId::CloudtalkAgentStatusChange,
        bridge::handlers::bound::cloudtalk_agent_status_change,
    )
    .await
}
