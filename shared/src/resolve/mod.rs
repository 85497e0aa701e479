//! Finding the contact on the other side of an event: map → search → create, then record the
//! link. [`cloudtalk_contact`] resolves the CloudTalk contact of a GoHighLevel event,
//! [`ghl_contact`] the GoHighLevel contact of a CloudTalk event.

pub mod agent;
pub mod cloudtalk_contact;
pub mod ghl_contact;

pub use crate::endpoint::FoundBy;

use crate::clients::Service;
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::idempotency::Steps;
pub use cloudtalk_contact::{resolve_cloudtalk_contact, ResolvedContact};
pub use ghl_contact::{resolve_ghl_contact, ResolvedGhlContact};

/// The step that records the contact an event created or found.
pub(crate) const CONTACT_STEP: &str = "contact";

/// After a failed attempt: when `error` says the contact the attempt found through the map is
/// gone (its side answered 404 for it), removes that link, only if it still links the same two
/// contacts, and readies `steps` to resolve again without it. `true` when the event should be
/// applied once more; a link is healed once per attempt.
pub async fn heal_stale_link(
    deps: &Deps,
    steps: &mut Steps,
    error: &BridgeError,
) -> Result<bool, BridgeError> {
    if steps.relinked() > 0 {
        return Ok(false);
    }
    let Some((link, side)) = steps.take_link() else {
        return Ok(false);
    };
    if !is_gone(error, side) {
        return Ok(false);
    }
    let removed = deps.contacts.unlink(&link).await?;
    let gone = match side {
        Service::CloudTalk => link.cloudtalk_contact_id.clone(),
        Service::GoHighLevel => link.ghl_contact_id.clone(),
    };
    tracing::warn!(
        ghl_contact_id = %link.ghl_contact_id,
        cloudtalk_contact_id = %link.cloudtalk_contact_id,
        gone = %side,
        removed,
        "relinked: the linked contact is gone; resolving it again"
    );
    steps.replace_gone(gone, CONTACT_STEP);
    Ok(true)
}

/// Whether `error` says the contact a write named no longer exists at `side`.
pub fn is_gone(error: &BridgeError, side: Service) -> bool {
    matches!(error, BridgeError::Upstream(e) if e.service() == side && e.is_not_found())
}
