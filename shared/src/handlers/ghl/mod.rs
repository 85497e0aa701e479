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

use serde_json::json;

use crate::resolve::{FoundBy, ResolvedContact};
use crate::webhook::Outcome;

/// The outcome every GHL → CloudTalk endpoint reports.
pub(crate) fn outcome(ghl_id: &str, resolved: &ResolvedContact) -> Outcome {
    let mut outcome = Outcome::applied();
    outcome.ghl_contact_id = Some(ghl_id.to_string());
    outcome.cloudtalk_contact_id = Some(resolved.cloudtalk_id.clone());
    outcome.contact_created = resolved.found_by == FoundBy::Created;
    let found_by = match resolved.found_by {
        FoundBy::Map => "map",
        FoundBy::Search => "search",
        FoundBy::Created => "created",
    };
    outcome.details.insert("foundBy".into(), json!(found_by));
    outcome
}
