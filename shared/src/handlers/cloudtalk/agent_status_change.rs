//! `POST /api/cloudtalk-webhooks/agent-status-change`: an agent's status changed → keep the
//! agent's latest status and when it changed (state store), and mirror it into GHL as a
//! location custom value `CloudTalk agent <name> (<id>) status` = `<status> since <time>`,
//! created on first use. GHL users can show it with `{{custom_values.…}}` or use it in
//! workflows. An event older than the stored status is ignored.

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::handlers::require_ghl;
use crate::idempotency::Steps;
use crate::mapping::cloudtalk_to_ghl::{agent_custom_value, agent_custom_value_name};
use crate::mapping::timestamp_or_now;
use crate::payload::cloudtalk::{parse_agent_status, AgentStatusEvent};
use crate::payload::PayloadError;
use crate::state::AgentStatus;

pub struct AgentStatusChange;

#[async_trait]
impl Handler for AgentStatusChange {
    type Event = AgentStatusEvent;

    fn parse(&self, body: &Value) -> Result<AgentStatusEvent, PayloadError> {
        parse_agent_status(body)
    }

    async fn apply(
        &self,
        deps: &Deps,
        event: &AgentStatusEvent,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        require_ghl(deps)?;
        let location = deps.location_for(None);
        let changed_at = timestamp_or_now(event.changed_at.as_deref());
        let previous = deps.state.get_agent(&location, &event.agent_id).await?;
        if let Some(prev) = &previous {
            if event.changed_at.is_some() && prev.changed_at.as_str() > changed_at.as_str() {
                let mut outcome = Outcome {
                    result: "stale",
                    ..Outcome::default()
                };
                outcome
                    .details
                    .insert("agentId".into(), json!(event.agent_id));
                return Ok(outcome);
            }
        }
        let name = agent_custom_value_name(&event.agent_id, event.agent_name.as_deref());
        let value = agent_custom_value(&event.status, &changed_at);
        let known_id = previous
            .as_ref()
            .and_then(|p| p.ghl_custom_value_id.clone());
        let custom_value_id = steps
            .run("custom_value", || async {
                if let Some(id) = known_id {
                    deps.ghl
                        .update_custom_value(&location, &id, &name, &value)
                        .await?;
                    return Ok(id);
                }
                let existing = deps.ghl.list_custom_values(&location).await?;
                match existing.iter().find(|v| v.name.eq_ignore_ascii_case(&name)) {
                    Some(found) => {
                        deps.ghl
                            .update_custom_value(&location, &found.id, &name, &value)
                            .await?;
                        Ok(found.id.clone())
                    }
                    None => Ok(deps
                        .ghl
                        .create_custom_value(&location, &name, &value)
                        .await?),
                }
            })
            .await?;
        deps.state
            .put_agent(&AgentStatus {
                location_id: location,
                agent_id: event.agent_id.clone(),
                agent_name: event.agent_name.clone(),
                status: event.status.clone(),
                changed_at,
                ghl_custom_value_id: Some(custom_value_id.clone()),
            })
            .await?;
        let mut outcome = Outcome::applied();
        outcome
            .details
            .insert("agentId".into(), json!(event.agent_id));
        outcome.details.insert("status".into(), json!(event.status));
        outcome
            .details
            .insert("ghlCustomValueId".into(), json!(custom_value_id));
        Ok(outcome)
    }
}
