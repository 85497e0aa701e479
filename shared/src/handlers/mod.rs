//! One module per endpoint. GoHighLevel → CloudTalk endpoints are in [`ghl`], CloudTalk →
//! GoHighLevel endpoints in [`cloudtalk`], the health routes in [`health`].

pub mod cloudtalk;
pub mod ghl;
pub mod health;

use crate::deps::Deps;
use crate::error::BridgeError;

/// GHL → CloudTalk endpoints need the CloudTalk API key; checked after the request has been
/// authenticated and parsed, before any upstream call.
pub(crate) fn require_cloudtalk(deps: &Deps) -> Result<(), BridgeError> {
    if deps.cloudtalk_configured() {
        Ok(())
    } else {
        Err(BridgeError::Config(
            "CLOUDTALK_API_KEY_ID and CLOUDTALK_API_KEY_SECRET are not configured".into(),
        ))
    }
}

/// CloudTalk → GHL endpoints need the GHL token and location; checked after the request has
/// been authenticated and parsed, before any upstream call.
pub(crate) fn require_ghl(deps: &Deps) -> Result<(), BridgeError> {
    if deps.ghl_configured() {
        Ok(())
    } else {
        Err(BridgeError::Config(
            "GHL_API_TOKEN and GHL_LOCATION_ID are not configured".into(),
        ))
    }
}
