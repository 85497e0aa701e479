//! `POST /api/cloudtalk-webhooks/call-started`: a call started → a note on the GHL contact with
//! the direction, agent, number and time.

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::deps::Deps;
use crate::error::BridgeError;
use crate::handlers::require_ghl;
use crate::idempotency::Steps;
use crate::mapping::cloudtalk_to_ghl::call_started_note;
use crate::payload::cloudtalk::parse_call;
use crate::resolve::resolve_ghl_contact;
use crate::webhook::{Outcome, Sender, Webhook};

pub struct CallStarted;

#[async_trait]
impl Webhook for CallStarted {
    const NAME: &'static str = "cloudtalk-call-started";
    const ROUTE: &'static str = "/api/cloudtalk-webhooks/call-started";
    const SENDER: Sender = Sender::CloudTalk;

    fn validate(&self, body: &Value) -> Result<(), BridgeError> {
        parse_call(body).contact.require_identifiable()
    }

    async fn apply(
        &self,
        deps: &Deps,
        body: &Value,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let call = parse_call(body);
        call.contact.require_identifiable()?;
        require_ghl(deps)?;
        let location = deps.location_for(None);
        let resolved = resolve_ghl_contact(deps, &location, &call.contact, steps).await?;
        let note = call_started_note(&call, resolved.phone.as_deref());
        let note_id = steps
            .run("note", || async {
                Ok(deps.ghl.add_note(&resolved.ghl_id, &note).await?)
            })
            .await?;
        let mut outcome = super::outcome(call.contact.cloudtalk_id.as_deref(), &resolved);
        outcome.details.insert("ghlNoteId".into(), json!(note_id));
        Ok(super::with_call(outcome, &call))
    }
}
