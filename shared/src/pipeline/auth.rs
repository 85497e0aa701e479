//! Who sent a webhook, and whether it is for this deployment: shared secrets, GHL
//! signatures, the location and app fences, the signed timestamp window.

use lambda_http::Request;
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::admission::{Inbound, Tenancy};
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::payload::ghl::InstallEvent;
use crate::registry::Sender;
use crate::signature::{timestamp_freshness, Freshness, SignatureCheck};

fn presented_secret(req: &Request) -> Option<&str> {
    let headers = req.headers();
    if let Some(v) = headers
        .get("x-webhook-secret")
        .and_then(|v| v.to_str().ok())
    {
        return Some(v.trim());
    }
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
}

/// How a request proved who sent it (recorded on queued events: see [`Credential`]).
pub use crate::signature::Credential as Authenticated;

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Authenticates a webhook. GHL routes accept a valid Marketplace signature (`x-ghl-signature`,
/// else `x-wh-signature`) or a shared secret; a signature header that does not verify is refused
/// even when a secret is also sent. Secrets (`accepted`: the serving tenant's, see
/// [`crate::admission::Tenancy::webhook_secrets`]) are compared in constant time, and two may
/// be configured during a rotation. A route with no credential configured refuses everything,
/// unless the local-only switch `BRIDGE_LOCAL_INSECURE_NO_AUTH` is on outside Lambda.
pub fn authenticate(
    deps: &Deps,
    sender: Sender,
    req: &Request,
    accepted: &[String],
) -> Result<Authenticated, BridgeError> {
    if sender == Sender::GoHighLevel {
        let check = deps.ghl_signatures.check(
            header(req, "x-ghl-signature"),
            header(req, "x-wh-signature"),
            req.body().as_ref(),
        );
        match check {
            SignatureCheck::Valid => return Ok(Authenticated::Signature),
            SignatureCheck::Invalid(reason) => return Err(BridgeError::InvalidSignature(reason)),
            SignatureCheck::Absent => {}
        }
    }
    if accepted.is_empty() && deps.config.insecure_local_no_auth {
        tracing::warn!("no webhook credential configured: accepted without authentication (BRIDGE_LOCAL_INSECURE_NO_AUTH)");
        return Ok(Authenticated::LocalInsecure);
    }
    match presented_secret(req) {
        Some(presented) if secret_matches(accepted, presented) => Ok(Authenticated::Secret),
        _ => Err(BridgeError::Unauthorized),
    }
}

/// Whether `presented` is one of the `accepted` secrets, compared in constant time.
pub fn secret_matches(accepted: &[String], presented: &str) -> bool {
    let mut ok = subtle::Choice::from(0u8);
    for secret in accepted {
        ok |= secret.as_bytes().ct_eq(presented.as_bytes());
    }
    bool::from(ok)
}

/// Whether the request presents either sender's webhook secret (the health routes show their
/// details only to such a caller).
pub fn presents_a_webhook_secret(deps: &Deps, req: &Request) -> bool {
    let secrets = deps.secrets();
    presented_secret(req).is_some_and(|presented| {
        secret_matches(&secrets.ghl_webhook_secrets, presented)
            | secret_matches(&secrets.cloudtalk_webhook_secrets, presented)
    })
}

/// Checks that an authenticated GHL event belongs to the tenant serving it. GHL signs every
/// Marketplace app's webhooks with the same key, so a valid signature proves only that GHL sent
/// the body: anyone's app can point its webhook at this API. A signed event must therefore name
/// its location (GHL's `locationId`) and carry its timestamp, that location must be the one
/// served, and, when `GHL_APP_ID` is set, an `appId` it carries must be that app. A workflow
/// webhook (shared secret) whose body names another location is refused too: a workflow
/// copied from another sub-account must not write into this one.
pub fn check_origin(
    deps: &Deps,
    tenancy: &Tenancy,
    authenticated: Authenticated,
    inbound: &Inbound,
) -> Result<(), BridgeError> {
    let body = &inbound.body;
    let served = tenancy
        .location()
        .or(deps.config.ghl_location_id.as_deref());
    let location = inbound.location.as_deref();
    if authenticated == Authenticated::Signature {
        if inbound.endpoint().entry().credentials.timestamped() {
            require_timestamp(body)?;
        }
        let Some(location) = location else {
            return Err(BridgeError::missing_fields(
                "a signed event must name its GoHighLevel location",
                &["locationId"],
            ));
        };
        if let (Some(expected), Some(sent)) = (
            deps.config.ghl_app_id.as_deref(),
            body.get("appId")
                .and_then(crate::payload::fields::id_string),
        ) {
            if expected != sent {
                return Err(BridgeError::Forbidden {
                    code: "foreign_app",
                    message: "the event was sent for another GoHighLevel app".into(),
                });
            }
        }
        if served != Some(location) {
            return Err(foreign_location(location));
        }
        return Ok(());
    }
    match (served, location) {
        (Some(served), Some(sent)) if served != sent => Err(foreign_location(sent)),
        _ => Ok(()),
    }
}

fn require_timestamp(body: &Value) -> Result<(), BridgeError> {
    match body.get("timestamp").is_none_or(Value::is_null) {
        true => Err(BridgeError::missing_fields(
            "a signed event must carry its timestamp",
            &["timestamp"],
        )),
        false => Ok(()),
    }
}

/// Checks that an install or uninstall event may change this deployment's tenants: it must be
/// signed by GoHighLevel (a shared secret cannot vouch for an install: see
/// [`crate::admission::check_credential`]), carry its timestamp, and name this deployment's app
/// (`GHL_APP_ID`, without which no install is accepted).
pub fn check_install_origin(
    deps: &Deps,
    authenticated: Authenticated,
    install: &InstallEvent,
    body: &Value,
) -> Result<(), BridgeError> {
    crate::admission::check_credential(
        crate::registry::EndpointId::GhlAppInstall,
        Some(authenticated),
    )?;
    require_timestamp(body)?;
    match (deps.config.ghl_app_id.as_deref(), install.app_id.as_deref()) {
        (Some(expected), Some(sent)) if expected == sent => Ok(()),
        (None, _) => Err(BridgeError::Forbidden {
            code: "foreign_app",
            message: "GHL_APP_ID is not set, so this deployment accepts no app install".into(),
        }),
        _ => Err(BridgeError::Forbidden {
            code: "foreign_app",
            message: "the install is for another GoHighLevel app".into(),
        }),
    }
}

fn foreign_location(sent: &str) -> BridgeError {
    BridgeError::Forbidden {
        code: "foreign_location",
        message: format!(
            "GoHighLevel location {} is not served by this deployment",
            crate::payload::fields::clip(sent, 64)
        ),
    }
}

/// Refuses a signed event whose `timestamp` is more than five minutes away, unless it is a
/// redelivery: GHL re-delivers an event answered 429 ten minutes to hours later with its
/// original body and timestamp, and the bridge has a record of every event it answered that
/// way. A stale body the bridge has never seen stays refused.
pub(crate) async fn check_freshness(
    deps: &Deps,
    key: &str,
    body: &Value,
) -> Result<(), BridgeError> {
    let now_ms = deps.clock.now_ms();
    match timestamp_freshness(body, now_ms.div_euclid(1000)) {
        Freshness::Fresh => Ok(()),
        Freshness::Stale if deps.idempotency.seen(key, now_ms).await? => Ok(()),
        Freshness::Stale => Err(BridgeError::InvalidSignature(
            "the signed timestamp is more than 5 minutes old and the event was never received before",
        )),
        Freshness::Future => Err(BridgeError::InvalidSignature(
            "the signed timestamp is more than 5 minutes in the future",
        )),
        Freshness::Unreadable => Err(BridgeError::InvalidSignature(
            "the signed timestamp is not a date",
        )),
    }
}
