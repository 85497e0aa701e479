//! GoHighLevel → CloudTalk endpoints, under `/api/ghl-webhooks/`. Each acts on the CloudTalk
//! contact linked to the GHL contact, which is found or created first
//! ([`crate::resolve::resolve_cloudtalk_contact`]).

pub mod new_contact;
pub mod new_note;
pub mod new_tag;
pub mod pipeline_change;
pub mod status_change;

pub use new_contact::NewContact;
pub use new_note::NewNote;
pub use new_tag::NewTag;
pub use pipeline_change::PipelineChange;
pub use status_change::StatusChange;

use crate::endpoint::Outcome;
use crate::resolve::ResolvedContact;

/// The outcome every GHL → CloudTalk endpoint reports.
pub(crate) fn outcome(ghl_id: &str, resolved: &ResolvedContact) -> Outcome {
    Outcome::for_contact(
        Some(ghl_id.to_string()),
        Some(resolved.cloudtalk_id.clone()),
        resolved.found_by,
    )
}
