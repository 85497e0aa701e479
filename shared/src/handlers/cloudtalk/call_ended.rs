//! `POST /api/cloudtalk-webhooks/call-ended`: a call ended → a note with the outcome
//! (answered / missed / voicemail), duration, talking time, agent and direction; missed calls
//! also get the `MISSED_CALL_TAG` tag; configured custom fields get the last call's date,
//! outcome and duration. With a Call conversation provider the call is an entry of the
//! contact's conversation instead of a note (see [`super::conversation`]). The note is the
//! agent's (their GHL user); a missed inbound call opens a callback task, and an answered one
//! completes the callback tasks the bridge opened for the contact (see [`super::callback`]).

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{
    add_note_once, attributed, callback, conversation, ghl_contact_of, insights, Attributed,
};
use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::identity::CallIdentity;
use crate::mapping::cloudtalk_to_ghl::{
    call_ended_note, call_outcome, last_call_custom_fields, CallOutcome,
};
use crate::payload::cloudtalk::{is_insights_event, parse_call, CallEvent};
use crate::payload::PayloadError;

pub struct CallEnded;

/// What arrives at the call-ended route: a call that ended, or the job for its AI data (the
/// bridge's own, queued when the call ended, or CloudTalk's announcement that it is ready).
pub enum CallEndedEvent {
    Ended(CallEvent),
    Insights(CallEvent, insights::InsightsJob),
}

#[async_trait]
impl Handler for CallEnded {
    type Event = CallEndedEvent;

    fn parse(&self, body: &Value) -> Result<CallEndedEvent, PayloadError> {
        let call = parse_call(body);
        call.contact.require_identifiable()?;
        if is_insights_event(body) {
            if call.call_id.is_none() {
                return Err(PayloadError::missing_fields(
                    "the AI data of which call",
                    &["call_id"],
                ));
            }
            return Ok(CallEndedEvent::Insights(call, insights::job(body)));
        }
        Ok(CallEndedEvent::Ended(call))
    }

    fn identity(&self, deps: &Deps, event: &CallEndedEvent) -> Option<CallIdentity> {
        let region = deps.config.default_phone_region.as_deref();
        match event {
            CallEndedEvent::Ended(call) => CallIdentity::of_call(call, region, true),
            CallEndedEvent::Insights(..) => None,
        }
    }

    async fn apply(
        &self,
        deps: &Deps,
        event: &CallEndedEvent,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let call = match event {
            CallEndedEvent::Ended(call) => call,
            CallEndedEvent::Insights(call, job) => {
                let Attributed { call, user_id } = attributed(deps, call).await;
                let resolved = ghl_contact_of(deps, &call, None, steps).await?;
                let outcome =
                    insights::apply(deps, &call, job, &resolved, user_id.as_deref(), steps).await?;
                let outcome = outcome
                    .detail("ghlContactId", &resolved.ghl_id)
                    .detail("insights", true);
                return Ok(super::with_call(outcome, &call));
            }
        };
        let Attributed { call, user_id } = attributed(deps, call).await;
        let (call, user) = (&call, user_id.as_deref());
        let resolved = ghl_contact_of(deps, call, user, steps).await?;
        // A conversation entry with a Call conversation provider, else a note.
        let logged = match conversation::provider(deps, call) {
            Some(provider) => {
                let id = conversation::log_call(deps, call, &resolved, provider, steps).await?;
                ("ghlMessageId", id)
            }
            None => {
                let note = call_ended_note(call, resolved.phone.as_deref());
                (
                    "ghlNoteId",
                    add_note_once(deps, &resolved.ghl_id, &note, user, steps).await?,
                )
            }
        };
        let result = call_outcome(call);
        if result == CallOutcome::Missed {
            let tag = std::slice::from_ref(&deps.config.missed_call_tag);
            steps
                .run("tag", || async {
                    deps.ghl.add_tags(&resolved.ghl_id, tag).await?;
                    Ok(String::new())
                })
                .await?;
        }
        let fields = last_call_custom_fields(&deps.config.last_call_fields, call);
        if !fields.is_empty() {
            let update = json!({ "customFields": fields });
            steps
                .run("fields", || async {
                    deps.ghl.update_contact(&resolved.ghl_id, &update).await?;
                    Ok(String::new())
                })
                .await?;
        }
        let people = &deps.config.people;
        let mut outcome = super::outcome(call.contact.cloudtalk_id.as_deref(), &resolved);
        if people.missed_call_tasks && callback::wants_callback(call, result) {
            let task = callback::open(deps, call, &resolved, user, steps).await?;
            outcome = outcome.detail("ghlTaskId", task);
        }
        if people.close_callback_tasks && result == CallOutcome::Answered {
            let closed = callback::close(deps, call, &resolved, user, steps).await?;
            if closed > 0 {
                outcome = outcome.detail("callbackTasksClosed", closed);
            }
        }
        if let Some(user) = user {
            outcome = outcome.detail("ghlUserId", user);
        }
        insights::schedule(deps, call, steps).await?;
        let outcome = super::with_call(outcome.detail(logged.0, logged.1), call);
        Ok(outcome.detail("callOutcome", result.as_str()))
    }
}
