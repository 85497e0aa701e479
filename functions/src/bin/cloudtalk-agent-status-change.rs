//! Lambda `cloudtalk-agent-status-change`: see [`bridge::handlers::cloudtalk::AgentStatusChange`].

use bridge::handlers::cloudtalk::AgentStatusChange;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::webhook::run(&AgentStatusChange).await
}
