//! Finding the contact on the other side of an event: map → search → create, then record the
//! link. [`cloudtalk_contact`] resolves the CloudTalk contact of a GoHighLevel event,
//! [`ghl_contact`] the GoHighLevel contact of a CloudTalk event.

pub mod cloudtalk_contact;
pub mod ghl_contact;

pub use crate::endpoint::FoundBy;
pub use cloudtalk_contact::{resolve_cloudtalk_contact, ResolvedContact};
pub use ghl_contact::{resolve_ghl_contact, ResolvedGhlContact};

/// The step that records the contact an event created or found.
pub(crate) const CONTACT_STEP: &str = "contact";
