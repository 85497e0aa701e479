//! GoHighLevel → CloudTalk endpoints, under `/api/ghl-webhooks/`. Each acts on the CloudTalk
//! contact linked to the GHL contact, which is found or created first
//! ([`crate::resolve::resolve_cloudtalk_contact`]).

pub mod app_install;
pub mod dnd_change;
pub mod new_contact;
pub mod new_note;
pub mod new_tag;
pub mod pipeline_change;
pub mod sms_delivery;
pub mod speed_to_lead;
pub mod status_change;

pub use app_install::AppInstall;
pub use dnd_change::DndChange;
pub use new_contact::NewContact;
pub use new_note::NewNote;
pub use new_tag::NewTag;
pub use pipeline_change::PipelineChange;
pub use sms_delivery::SmsDelivery;
pub use status_change::StatusChange;

use crate::deps::Deps;
use crate::endpoint::Outcome;
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::payload::ghl::GhlContact;
use crate::resolve::{resolve_cloudtalk_contact, ResolvedContact};

/// The outcome every GHL → CloudTalk endpoint reports: the contacts, how the CloudTalk one was
/// found, and what resolving it skipped or lacked.
pub(crate) fn outcome(ghl_id: &str, resolved: &ResolvedContact) -> Outcome {
    let mut outcome = Outcome::for_contact(
        Some(ghl_id.to_string()),
        Some(resolved.cloudtalk_id.clone()),
        resolved.found_by,
    );
    if !resolved.skipped.is_empty() {
        outcome = outcome.detail("skipped", &resolved.skipped);
    }
    if resolved.incomplete {
        outcome = outcome.detail("incomplete", true);
    }
    outcome
}

/// The CloudTalk contact of a GHL event's contact, found or created (with `create_tags`) and
/// linked; the CloudTalk API key must be configured.
pub(crate) async fn cloudtalk_contact_of(
    deps: &Deps,
    contact: &GhlContact,
    create_tags: &[String],
    steps: &mut Steps,
) -> Result<ResolvedContact, BridgeError> {
    super::require_cloudtalk(deps)?;
    let location = deps.location_for(contact.location_id.as_deref());
    resolve_cloudtalk_contact(deps, &location, contact, create_tags, steps).await
}

/// Adds a note to the CloudTalk contact once per event (the `note` step), marked so that a
/// note whose answer was lost is found again rather than written twice.
pub(crate) async fn add_note_once(
    deps: &Deps,
    cloudtalk_id: &str,
    text: &str,
    steps: &mut Steps,
) -> Result<String, BridgeError> {
    let marker = steps.marker("note").unwrap_or_default();
    let text = steps.marked("note", text);
    let read_back = || async {
        match marker.is_empty() {
            true => Ok(None),
            false => Ok(deps.cloudtalk.find_note(cloudtalk_id, &marker).await?),
        }
    };
    let write = || async { Ok(deps.cloudtalk.add_note(cloudtalk_id, &text).await?) };
    steps.run_checked("note", read_back, write).await
}

/// Appends tags to the CloudTalk contact once per event (the `tags` step).
pub(crate) async fn add_tags_once(
    deps: &Deps,
    cloudtalk_id: &str,
    tags: &[String],
    steps: &mut Steps,
) -> Result<(), BridgeError> {
    steps
        .run("tags", || async {
            deps.cloudtalk.add_tags(cloudtalk_id, tags).await?;
            Ok(String::new())
        })
        .await
        .map(|_| ())
}
