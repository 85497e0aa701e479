//! `POST /api/cloudtalk-webhooks/call-modified`: CloudTalk's Call Modified trigger (a call's
//! tags, rating or agent notes changed, wrap-up included) → the call's tags become GHL contact
//! tags with `CALL_TAG_PREFIX` (`call: Interested`), its rating a tag (`call: rating 4`) or the
//! `CALL_RATING_FIELD` custom field, each agent note a GHL note, and the call's tags, as its
//! disposition, the `CALL_DISPOSITION_FIELD` custom field, for GHL workflows to trigger on.
//!
//! The trigger fires several times for one call with what the call has **now**, so only the
//! difference is written: what was written for each call on each contact is kept in the state
//! table (`value#call-modified#<location>#<call id>#<GHL contact>`; at most 50 tags and 20
//! notes an event, so the item stays small), and each write is a step named after its
//! content. The same body twice is a duplicate (its key is its hash); the same tags after that
//! window write nothing; a new tag writes only itself. Reconciliation sends the same data from
//! the call history (`Tags`, `Ratings`, `Notes`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{attributed, ghl_contact_of, Attributed};
use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::payload::cloudtalk::{parse_call_modified, CallModifiedEvent};
use crate::payload::PayloadError;

pub struct CallModified;

/// What was written for a call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Written {
    /// Tag names, as CloudTalk gave them.
    tags: Vec<String>,
    rating: Option<u8>,
    /// Hashes of the notes written.
    notes: Vec<String>,
}

/// What was written for a call on one contact: the tenant's, the call's and the contact's, so
/// that an event about another contact (a forged one, say) can never make this one a no-op.
fn state_name(location: &str, call_id: &str, contact: &str) -> String {
    format!("call-modified#{location}#{call_id}#{contact}")
}

fn hash(text: &str) -> String {
    crate::digest::sha256(text.trim().as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[async_trait]
impl Handler for CallModified {
    type Event = CallModifiedEvent;

    fn parse(&self, body: &Value) -> Result<CallModifiedEvent, PayloadError> {
        parse_call_modified(body)
    }

    async fn apply(
        &self,
        deps: &Deps,
        event: &CallModifiedEvent,
        steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let Attributed { call, user_id } = attributed(deps, &event.call).await;
        let resolved = ghl_contact_of(deps, &call, user_id.as_deref(), steps).await?;
        let contact = resolved.ghl_id.as_str();
        let call_id = call.call_id.clone().unwrap_or_default();
        let name = state_name(&deps.location_for(None), &call_id, contact);
        let written: Written = deps
            .state
            .get_value(&name)
            .await?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let mut writer = Writer {
            deps,
            contact,
            steps,
            done: written.clone(),
            written: &written,
        };
        let new_tags = writer.tags(event).await?;
        let new_rating = writer
            .rating_and_fields(event, !new_tags.is_empty())
            .await?;
        let note = |text: &str| {
            let agent = call
                .agent_name
                .as_deref()
                .map(|a| format!(" by {a}"))
                .unwrap_or_default();
            format!(
                "[CloudTalk call note] {}{agent} - Call ID: {call_id}",
                text.trim()
            )
        };
        let notes_added = writer.notes(event, note, user_id.as_deref()).await?;
        let changed = writer.done != written;
        if changed {
            let text = serde_json::to_string(&writer.done).unwrap_or_default();
            deps.state.put_value(&name, &text).await?;
        }
        let outcome = match changed {
            true => super::outcome(call.contact.cloudtalk_id.as_deref(), &resolved),
            false => Outcome::with_result("unchanged").detail("ghlContactId", contact),
        };
        let outcome = outcome
            .detail("tagsAdded", new_tags.len())
            .detail("notesAdded", notes_added);
        let outcome = match new_rating {
            Some(rating) => outcome.detail("rating", rating),
            None => outcome,
        };
        Ok(super::with_call(outcome, &call))
    }
}

/// Writes what is new on a call to its GHL contact, each write a step named after its content,
/// and keeps in `done` what has been written.
struct Writer<'a> {
    deps: &'a Deps,
    contact: &'a str,
    steps: &'a mut Steps,
    /// What was written before this event.
    written: &'a Written,
    done: Written,
}

impl Writer<'_> {
    fn prefix(&self) -> &str {
        self.deps.config.insights.tag_prefix.as_str()
    }

    async fn add_tags(&mut self, step: &str, tags: Vec<String>) -> Result<(), BridgeError> {
        let (deps, contact) = (self.deps, self.contact);
        self.steps
            .run(step, || async {
                deps.ghl.add_tags(contact, &tags).await?;
                Ok(String::new())
            })
            .await?;
        Ok(())
    }

    /// The call's tags not written yet, as prefixed GHL tags; returns them.
    async fn tags(&mut self, event: &CallModifiedEvent) -> Result<Vec<String>, BridgeError> {
        let new_tags: Vec<String> = event
            .tags
            .iter()
            .filter(|t| !self.written.tags.iter().any(|w| w.eq_ignore_ascii_case(t)))
            .cloned()
            .collect();
        if !new_tags.is_empty() {
            let prefix = self.prefix().to_string();
            let ghl_tags: Vec<String> = new_tags.iter().map(|t| format!("{prefix}{t}")).collect();
            let step = format!("tags:{}", hash(&ghl_tags.join("\n")));
            self.add_tags(&step, ghl_tags).await?;
            self.done.tags.extend(new_tags.iter().cloned());
        }
        Ok(new_tags)
    }

    /// A new rating (a custom field, else a tag) and, when the tags changed, the disposition
    /// field; returns the new rating.
    async fn rating_and_fields(
        &mut self,
        event: &CallModifiedEvent,
        tags_changed: bool,
    ) -> Result<Option<u8>, BridgeError> {
        let options = &self.deps.config.insights;
        let mut fields = Vec::new();
        let new_rating = event.rating.filter(|r| self.written.rating != Some(*r));
        if let Some(rating) = new_rating {
            match &options.rating_field {
                Some(field) => fields.push(json!({"id": field, "field_value": rating})),
                None => {
                    let tag = vec![format!("{}rating {rating}", self.prefix())];
                    self.add_tags(&format!("rating:{rating}"), tag).await?;
                }
            }
            self.done.rating = Some(rating);
        }
        if let (Some(field), true) = (&options.disposition_field, tags_changed) {
            fields.push(json!({"id": field, "field_value": event.tags.join(", ")}));
        }
        if !fields.is_empty() {
            let update = json!({ "customFields": fields });
            let step = format!("fields:{}", hash(&update.to_string()));
            let (deps, contact) = (self.deps, self.contact);
            self.steps
                .run(&step, || async {
                    deps.ghl.update_contact(contact, &update).await?;
                    Ok(String::new())
                })
                .await?;
        }
        Ok(new_rating)
    }

    /// The agent notes not written yet, each a GHL note by `user`; returns how many.
    async fn notes(
        &mut self,
        event: &CallModifiedEvent,
        text_of: impl Fn(&str) -> String,
        user: Option<&str>,
    ) -> Result<usize, BridgeError> {
        let mut added = 0;
        for note in &event.notes {
            let key = hash(note);
            if self.written.notes.contains(&key) {
                continue;
            }
            let text = text_of(note);
            let (deps, contact) = (self.deps, self.contact);
            self.steps
                .run(&format!("note:{key}"), || async {
                    Ok(deps.ghl.add_note(contact, &text, user).await?)
                })
                .await?;
            self.done.notes.push(key);
            added += 1;
        }
        Ok(added)
    }
}
