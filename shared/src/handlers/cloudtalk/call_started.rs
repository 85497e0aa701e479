//! `POST /api/cloudtalk-webhooks/call-started`: a call started → first its cue card in CloudTalk
//! (the caller's GHL record in front of the agent while it rings, see [`super::cue_card`]),
//! then a note on the GHL contact with the direction, agent, number and time.

use async_trait::async_trait;
use serde_json::Value;

use super::{add_note_once, attributed, call_note_outcome, ghl_contact_of, Attributed};
use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::identity::CallIdentity;
use crate::mapping::cloudtalk_to_ghl::call_started_note;
use crate::payload::cloudtalk::{parse_call, CallEvent};
use crate::payload::PayloadError;

pub struct CallStarted;

#[async_trait]
impl Handler for CallStarted {
    type Event = CallEvent;

    fn parse(&self, body: &Value) -> Result<CallEvent, PayloadError> {
        let call = parse_call(body);
        call.contact.require_identifiable()?;
        Ok(call)
    }

    fn identity(&self, deps: &Deps, call: &CallEvent) -> Option<CallIdentity> {
        let region = deps.config.default_phone_region.as_deref();
        CallIdentity::of_call(call, region, false)
    }

    async fn apply(
        &self,
        deps: &Deps,
        call: &CallEvent,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        // The card first, while it rings; never in the way of the note (a second application
        // after a stale link was healed posts none).
        let card = match steps.relinked() {
            0 => super::cue_card::show(deps, call).await,
            _ => None,
        };
        let Attributed { call, user_id } = attributed(deps, call).await;
        let user = user_id.as_deref();
        let resolved = ghl_contact_of(deps, &call, user, steps).await?;
        let note = call_started_note(&call, resolved.phone.as_deref());
        let note_id = add_note_once(deps, &resolved.ghl_id, &note, user, steps).await?;
        let outcome = call_note_outcome(&call, &resolved, note_id);
        Ok(match card {
            Some(card) => outcome.detail("cueCard", card),
            None => outcome,
        })
    }
}
