//! Lambda `cloudtalk-agent-status-change`: see [`bridge::handlers::cloudtalk::AgentStatusChange`].

use bridge::handlers::cloudtalk::AgentStatusChange;
use bridge::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::from_env().await?;
    bridge::webhook::serve(&deps, &AgentStatusChange).await
}
