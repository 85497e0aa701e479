//! `POST /api/ghl-webhooks/pipeline-change`: an opportunity moved stage in GHL → add a
//! CloudTalk activity of type `other` titled "Pipeline Stage Change". Pipeline and stage ids
//! (all a Marketplace `OpportunityStageUpdate` carries) are written as their names.

use std::borrow::Cow;

use async_trait::async_trait;
use serde_json::Value;

use super::cloudtalk_contact_of;
use crate::clients::cloudtalk::ActivityInput;
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
        let event = with_names(deps, event).await;
        let id = &resolved.cloudtalk_id;
        // The marker in `external_id` (an integer, as CloudTalk types it) finds an activity
        // whose answer was lost.
        let marker = steps.numeric_marker("activity");
        let activity = ActivityInput {
            external_id: marker,
            ..pipeline_activity(&event)
        };
        let read_back = || async {
            match &marker {
                Some(m) => Ok(deps.cloudtalk.find_activity(id, *m).await?),
                None => Ok(None),
            }
        };
        let write = || async { Ok(deps.cloudtalk.add_activity(id, &activity).await?) };
        let activity_id = steps.run_checked("activity", read_back, write).await?;
        Ok(super::outcome(&contact.id, &resolved).detail("cloudtalkActivityId", activity_id))
    }
}

/// The event with its pipeline and stage names, looked up by id when it carries only ids.
async fn with_names<'e>(
    deps: &Deps,
    event: &'e PipelineChangeEvent,
) -> Cow<'e, PipelineChangeEvent> {
    let unnamed = |name: &Option<String>, id: &Option<String>| name.is_none() && id.is_some();
    if !unnamed(&event.pipeline, &event.pipeline_id) && !unnamed(&event.stage, &event.stage_id) {
        return Cow::Borrowed(event);
    }
    let location = deps.location_for(event.contact.location_id.as_deref());
    let (pipeline_id, stage_id) = (event.pipeline_id.as_deref(), event.stage_id.as_deref());
    let ghl = deps.ghl_configured().then_some(deps.ghl.as_ref());
    let now = deps.clock.now_ms();
    let names = deps
        .stage_names
        .names(ghl, now, &location, pipeline_id, stage_id)
        .await;
    let mut named = event.clone();
    named.pipeline = named.pipeline.or(names.pipeline);
    named.stage = named.stage.or(names.stage);
    Cow::Owned(named)
}
