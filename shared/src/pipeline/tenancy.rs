//! Which tenant a webhook is for, before anything else is done with it.
//!
//! - CloudTalk webhooks name theirs in the URL: `/api/cloudtalk-webhooks/<locationId>/<event>`
//!   (the route without it serves the default tenant, as in a single-location deployment).
//! - GHL webhooks name theirs in the body (`locationId`, `location.id`…).
//! - The deployment's own location is the default tenant. Any other is looked up in the tenant
//!   registry: an unknown or disabled one is refused (403) before authentication, with nothing
//!   written; one awaiting (re)authorization is answered 503 with that code.
//!
//! The tenant's deployment ([`Deps::for_tenant`]) then authenticates the request with the
//! tenant's own webhook secrets and applies it with the tenant's accounts and options.

use lambda_http::Request;

use crate::deps::Deps;
use crate::error::BridgeError;
use crate::registry::{Entry, Sender};
use crate::tenants::{GhlAuth, Tenant, TenantStatus};

/// The location a CloudTalk route names, for `entry`: `None` for the route itself (and for
/// any route of a GHL endpoint, whose tenant is in the body).
pub fn path_tenant<'p>(path: &'p str, entry: &Entry) -> Option<&'p str> {
    if entry.sender != Sender::CloudTalk {
        return None;
    }
    let event = entry.route.rsplit('/').next()?;
    let prefix = entry.route.strip_suffix(event)?;
    let rest = path.strip_prefix(prefix)?.strip_suffix(event)?;
    let tenant = rest.strip_suffix('/')?;
    (!tenant.is_empty() && !tenant.contains('/')).then_some(tenant)
}

/// The location a GHL body names, read leniently (an unreadable body is the pipeline's to
/// refuse, after authentication).
fn body_location(req: &Request) -> Option<String> {
    let body: serde_json::Value = serde_json::from_slice(req.body().as_ref()).ok()?;
    crate::payload::ghl::event_location(&body)
}

/// Whether a GHL request is the app's install or uninstall event: those create and retire
/// tenants, and are served by the deployment itself.
pub fn is_install(req: &Request) -> bool {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(req.body().as_ref()) else {
        return false;
    };
    let kind = body
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    crate::registry::EndpointId::GhlAppInstall
        .entry()
        .marketplace_types
        .contains(&kind)
}

/// The deployment serving the request: `None` for the default tenant.
pub async fn select(
    deps: &Deps,
    entry: &Entry,
    req: &Request,
) -> Result<Option<Deps>, BridgeError> {
    let named = match entry.sender {
        Sender::CloudTalk => match path_tenant(req.uri().path(), entry) {
            Some(location) => Some(location.to_string()),
            None => return Ok(None),
        },
        Sender::GoHighLevel => body_location(req),
    };
    let Some(location) = named.filter(|l| !deps.serves_location(l)) else {
        return Ok(None);
    };
    let Some(tenants) = &deps.tenants else {
        // No registry: a single-location deployment, whose fences refuse other locations.
        return match entry.sender {
            Sender::CloudTalk => Err(unknown_tenant(&location)),
            Sender::GoHighLevel => Ok(None),
        };
    };
    let tenant = tenants
        .get(&location)
        .await
        .map_err(|e| BridgeError::Store(crate::store::StoreError::new(e.to_string())))?;
    let tenant = tenant.ok_or_else(|| unknown_tenant(&location))?;
    usable(&tenant)?;
    let token = crate::oauth::ghl_token(deps, &tenant).await?;
    Ok(Some(deps.for_tenant(&tenant, token)))
}

/// Refuses a tenant that cannot be served now.
fn usable(tenant: &Tenant) -> Result<(), BridgeError> {
    match tenant.record.status {
        TenantStatus::Active => Ok(()),
        TenantStatus::Disabled => Err(BridgeError::Forbidden {
            code: "tenant_disabled",
            message: format!("tenant {} is disabled", tenant.location_id()),
        }),
        status => Err(BridgeError::TenantUnavailable {
            code: status.as_str(),
            message: match (status, tenant.record.ghl_auth) {
                (TenantStatus::ReauthorizationRequired, _) => format!(
                    "GoHighLevel refused tenant {}'s authorization: install the app again",
                    tenant.location_id()
                ),
                (_, GhlAuth::AgencyInstall) => format!(
                    "tenant {} waits for its agency's authorization",
                    tenant.location_id()
                ),
                _ => format!("tenant {} is not authorized yet", tenant.location_id()),
            },
        }),
    }
}

fn unknown_tenant(location: &str) -> BridgeError {
    BridgeError::Forbidden {
        code: "unknown_tenant",
        message: format!(
            "no tenant {} is registered in this deployment",
            crate::payload::fields::clip(location, 64)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::EndpointId;

    #[test]
    fn the_tenant_is_the_path_segment_before_the_event() {
        let entry = EndpointId::CloudtalkCallEnded.entry();
        assert_eq!(
            path_tenant("/api/cloudtalk-webhooks/call-ended", entry),
            None
        );
        assert_eq!(
            path_tenant("/api/cloudtalk-webhooks/loc_b/call-ended", entry),
            Some("loc_b")
        );
        assert_eq!(
            path_tenant("/api/cloudtalk-webhooks/a/b/call-ended", entry),
            None
        );
        assert_eq!(
            path_tenant("/api/cloudtalk-webhooks/loc_b/call-started", entry),
            None
        );
    }
}
