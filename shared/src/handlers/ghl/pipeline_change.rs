//! `POST /api/ghl-webhooks/pipeline-change`: an opportunity moved stage in GHL → add a
//! CloudTalk activity of type `other` titled "Pipeline Stage Change".

use async_trait::async_trait;
use serde_json::{json, Value};

use super::cloudtalk_contact_of;
use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::mapping::ghl_to_cloudtalk::pipeline_activity;
use crate::payload::ghl::{parse_pipeline_change, PipelineChangeEvent};
use crate::payload::PayloadError;

pub struct PipelineChange;

#[async_trait]
impl Handler for PipelineChange {
    type Event = PipelineChangeEvent;

    fn parse(&self, body: &Value) -> Result<PipelineChangeEvent, PayloadError> {
        parse_pipeline_change(body)
    }

    async fn apply(
        &self,
        deps: &Deps,
        event: &PipelineChangeEvent,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let contact = &event.contact;
        let resolved = cloudtalk_contact_of(deps, contact, &contact.tags, steps).await?;
        let activity_id = steps
            .run("activity", || async {
                Ok(deps
                    .cloudtalk
                    .add_activity(&resolved.cloudtalk_id, &pipeline_activity(event))
                    .await?)
            })
            .await?;
        let mut outcome = super::outcome(&contact.id, &resolved);
        outcome
            .details
            .insert("cloudtalkActivityId".into(), json!(activity_id));
        Ok(outcome)
    }
}
