//! One module per endpoint. GoHighLevel → CloudTalk endpoints are in [`ghl`]; the health
//! routes are in [`health`].

pub mod ghl;
pub mod health;

use crate::deps::Deps;
use crate::error::BridgeError;

/// GHL → CloudTalk endpoints need the CloudTalk API key; checked after the request has been
/// authenticated and parsed, before any upstream call.
pub(crate) fn require_cloudtalk(deps: &Deps) -> Result<(), BridgeError> {
    if deps.config.cloudtalk_configured() {
        Ok(())
    } else {
        Err(BridgeError::Config(
            "CLOUDTALK_API_KEY_ID and CLOUDTALK_API_KEY_SECRET are not configured".into(),
        ))
    }
}
