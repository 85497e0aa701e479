//! `POST /api/ghl-webhooks/pipeline-change`: an opportunity moved stage in GHL → add a
//! CloudTalk activity of type `other` titled "Pipeline Stage Change".

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::error::BridgeError;
use crate::handlers::require_cloudtalk;
use crate::idempotency::Steps;
use crate::mapping::ghl_to_cloudtalk::pipeline_activity;
use crate::payload::ghl::parse_pipeline_change;
use crate::resolve::resolve_cloudtalk_contact;
use crate::webhook::{Outcome, Sender, Webhook};

pub struct PipelineChange;

#[async_trait]
impl Webhook for PipelineChange {
    const NAME: &'static str = "ghl-pipeline-change";
    const ROUTE: &'static str = "/api/ghl-webhooks/pipeline-change";
    const SENDER: Sender = Sender::GoHighLevel;

    fn validate(&self, body: &Value) -> Result<(), BridgeError> {
        parse_pipeline_change(body).map(|_| ())
    }

    async fn apply(
        &self,
        deps: &Deps,
        body: &Value,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let event = parse_pipeline_change(body)?;
        require_cloudtalk(deps)?;
        let contact = &event.contact;
        let location = deps.location_for(contact.location_id.as_deref());
        let resolved =
            resolve_cloudtalk_contact(deps, &location, contact, &contact.tags, steps).await?;
        let activity_id = steps
            .run("activity", || async {
                Ok(deps
                    .cloudtalk
                    .add_activity(&resolved.cloudtalk_id, &pipeline_activity(&event))
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
