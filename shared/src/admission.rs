//! Admission: who an event is for, and whether it may act. Decided here, once, for every way
//! work enters the bridge: the webhook routes (and the app's install webhook), the retry worker
//! (queued and redriven events), reconciliation and token renewal.
//!
//! The rule:
//! 1. **One parse** ([`Inbound::read`]): after the size check, the body is parsed once; that
//!    parse gives the event's kind (the endpoint that applies it, an install or uninstall, or a
//!    Marketplace type the bridge ignores) and the location it names. A signed body names its
//!    location only by GHL's exact `locationId`; an install is recognised in any spelling.
//! 2. **The tenant's record** ([`tenancy`]): the deployment's own location, or a registered
//!    tenant, read once for its webhook secrets. Nothing else happens before authentication:
//!    no token refresh, no minting, no upstream call.
//! 3. **The credential** (the pipeline's authentication) must match what the event does
//!    ([`check_credential`]): an install or uninstall only with GoHighLevel's signature.
//! 4. **May it act** ([`may_act`]): the tenant is active. A disabled or uninstalled tenant's
//!    webhooks are refused; its queued and redriven events are parked (`tenant_disabled`).
//! 5. **Its deployment** ([`deployment`]): the tenant's accounts, with its GHL token
//!    renewed when due. Only admitted work gets here; a token that cannot be had now makes
//!    the event wait on the retry queue.

use lambda_http::http::HeaderMap;
use serde_json::Value;

use crate::deps::Deps;
use crate::error::BridgeError;
use crate::payload::ghl::{install_event, signed_location, InstallEvent};
use crate::payload::{parse_body, PayloadError};
use crate::registry::{self, EndpointId, Entry, Sender};
use crate::signature::Credential;
pub use crate::tenants::registry::disabled;
use crate::tenants::{Tenant, WebhookSecretKind};

/// What applies an inbound event.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The endpoint whose handler applies it.
    Endpoint(EndpointId),
    /// The app was installed or uninstalled: the registry changes. Served by the deployment
    /// itself (never by a tenant), and only with GoHighLevel's signature.
    Install(InstallEvent),
    /// A Marketplace event type the bridge does not act on.
    Ignored,
}

impl Target {
    /// The endpoint that applies it (the install endpoint for an install).
    pub fn endpoint(&self, route: EndpointId) -> EndpointId {
        match self {
            Target::Endpoint(id) => *id,
            Target::Install(_) => EndpointId::GhlAppInstall,
            Target::Ignored => route,
        }
    }
}

/// A request as the one parse reads it.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The endpoint whose route received it.
    pub route: EndpointId,
    pub target: Target,
    /// The location it names: in the URL (CloudTalk), or in the body (GHL).
    pub location: Option<String>,
    /// It carries a GHL signature header (verified by authentication).
    pub signed: bool,
    pub body: Value,
}

/// Whether a request carries one of GHL's signature headers.
pub fn carries_signature(headers: &HeaderMap) -> bool {
    headers.contains_key("x-ghl-signature") || headers.contains_key("x-wh-signature")
}

/// The prefix of the fields that mark a body as one of the bridge's own jobs.
const JOB_FIELD_PREFIX: &str = "_bridge_";

fn carries_a_job(body: &Value) -> bool {
    body.as_object()
        .is_some_and(|o| o.keys().any(|k| k.starts_with(JOB_FIELD_PREFIX)))
}

impl Inbound {
    /// Reads a request to endpoint `route`'s route: the size check, then one parse.
    pub fn read(
        route: EndpointId,
        path: &str,
        headers: &HeaderMap,
        raw: &[u8],
    ) -> Result<Inbound, PayloadError> {
        let entry = route.entry();
        let body = parse_body(raw)?;
        if carries_a_job(&body) {
            // The bridge's own jobs (a call's AI summary, a lead's dial) are started by the
            // bridge only: a webhook cannot ask for one.
            return Err(PayloadError::Malformed(format!(
                "fields starting with {JOB_FIELD_PREFIX} are the bridge's own"
            )));
        }
        let signed = entry.sender == Sender::GoHighLevel && carries_signature(headers);
        let (target, location) = match entry.sender {
            Sender::CloudTalk => (
                Target::Endpoint(route),
                path_tenant(path, entry).map(str::to_string),
            ),
            Sender::GoHighLevel => match install_event(&body) {
                Some(install) => {
                    let location = install.location_id.clone();
                    (Target::Install(install), location)
                }
                None => {
                    let location = match signed {
                        true => signed_location(&body),
                        false => crate::payload::ghl::event_location(&body),
                    };
                    (marketplace_target(route, &body), location)
                }
            },
        };
        Ok(Inbound {
            route,
            target,
            location,
            signed,
            body,
        })
    }

    /// The endpoint that applies it.
    pub fn endpoint(&self) -> EndpointId {
        self.target.endpoint(self.route)
    }

    /// The location whose tenant serves it: none for an install, which the deployment serves.
    pub fn tenant_location(&self) -> Option<&str> {
        match self.target {
            Target::Install(_) => None,
            _ => self.location.as_deref(),
        }
    }
}

/// A GHL Marketplace app sends every event type to one URL. A Marketplace-shaped event (it has
/// `type` and `webhookId`) is applied by the endpoint for its type, or ignored when the bridge
/// does not act on the type; any other body by the route's own endpoint.
fn marketplace_target(route: EndpointId, body: &Value) -> Target {
    let kind = body
        .get("webhookId")
        .and(body.get("type"))
        .and_then(Value::as_str);
    match kind {
        None => Target::Endpoint(route),
        Some(kind) => match registry::by_marketplace_type(kind) {
            Some(entry) => Target::Endpoint(entry.id),
            None => Target::Ignored,
        },
    }
}

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

/// Who serves an event.
#[derive(Debug, Clone)]
pub enum Tenancy {
    /// The deployment's own location (its environment and secret).
    Default,
    /// A tenant of the registry, as read for this event.
    Registered(Box<Tenant>),
}

impl Tenancy {
    /// The registered tenant's location; `None` for the deployment's own.
    pub fn location(&self) -> Option<&str> {
        match self {
            Tenancy::Default => None,
            Tenancy::Registered(t) => Some(t.location_id()),
        }
    }

    /// The webhook secrets that authenticate `sender`'s requests for it: a registered
    /// tenant's current ones and, until they retire by the deployment's clock, those a rotation
    /// replaced (see [`crate::tenants::rotation`]).
    pub fn webhook_secrets(&self, deps: &Deps, sender: Sender) -> Vec<String> {
        let kind = match sender {
            Sender::GoHighLevel => WebhookSecretKind::Ghl,
            Sender::CloudTalk => WebhookSecretKind::Cloudtalk,
        };
        match (self, sender) {
            (Tenancy::Default, Sender::GoHighLevel) => deps.secrets().ghl_webhook_secrets.clone(),
            (Tenancy::Default, Sender::CloudTalk) => {
                deps.secrets().cloudtalk_webhook_secrets.clone()
            }
            (Tenancy::Registered(t), _) => t.secrets.accepted(kind, deps.clock.now_ms()),
        }
    }
}

/// Where a location was named, which decides what an unregistered one means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// In a GHL body: a deployment without a registry serves its own location and its fences
    /// refuse another one, after authentication (`foreign_location`).
    GhlBody,
    /// In a CloudTalk route, or on a queued event: it must be a registered tenant.
    Tenant,
}

/// Reads the tenant record of `location` (the deployment's own when `None` or when it is the
/// deployment's location). An unknown location is refused (403 `unknown_tenant`).
pub async fn tenancy(
    deps: &Deps,
    location: Option<&str>,
    named: Named,
) -> Result<Tenancy, BridgeError> {
    let Some(location) = location.filter(|l| !deps.serves_location(l)) else {
        return Ok(Tenancy::Default);
    };
    let Some(tenants) = &deps.tenants else {
        return match named {
            Named::GhlBody => Ok(Tenancy::Default),
            Named::Tenant => Err(unknown_tenant(location)),
        };
    };
    let tenant = tenants
        .get(location)
        .await
        .map_err(|e| BridgeError::Store(crate::store::StoreError::new(e.to_string())))?;
    let tenant = tenant.ok_or_else(|| unknown_tenant(location))?;
    Ok(Tenancy::Registered(Box::new(tenant)))
}

/// Whether the credential a request was received with may do what it does: an install or
/// uninstall changes the registry, and a provider delivery sends a text to someone outside the
/// agency, which only GoHighLevel's signature may ask for.
pub fn check_credential(
    endpoint: EndpointId,
    credential: Option<Credential>,
) -> Result<(), BridgeError> {
    let signed = credential == Some(Credential::Signature);
    match endpoint.entry().credentials.signature_only() {
        Some(why) if !signed => Err(BridgeError::InvalidSignature(why)),
        _ => Ok(()),
    }
}

/// Whether the tenant may act now: the one status rule of every way in.
pub fn may_act(tenancy: &Tenancy) -> Result<(), BridgeError> {
    match tenancy {
        Tenancy::Default => Ok(()),
        Tenancy::Registered(tenant) => tenant.may_act(),
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

/// The deployment that applies an admitted event: `None` for the deployment's own location,
/// else the tenant's, with its GHL token (renewed or minted first when due).
pub async fn deployment(deps: &Deps, tenancy: &Tenancy) -> Result<Option<Deps>, BridgeError> {
    match tenancy {
        Tenancy::Default => Ok(None),
        Tenancy::Registered(tenant) => {
            let token = crate::oauth::ghl_token(deps, tenant).await?;
            Ok(Some(deps.for_tenant(tenant, token)))
        }
    }
}

/// The check for work that was admitted once already (a queued or redriven event: its
/// credential is checked by [`check_credential`] too) or that the bridge starts itself
/// (reconciliation): the tenant, read now, exists and may act. The deployment that applies its
/// events follows with [`deployment`].
pub async fn readmit(deps: &Deps, location: Option<&str>) -> Result<Tenancy, BridgeError> {
    let tenancy = tenancy(deps, location, Named::Tenant).await?;
    may_act(&tenancy)?;
    Ok(tenancy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    fn read(body: Value, signed: bool) -> Inbound {
        let mut headers = HeaderMap::new();
        if signed {
            headers.insert("x-ghl-signature", "sig".parse().unwrap());
        }
        let raw = body.to_string();
        Inbound::read(
            EndpointId::GhlNewContact,
            "/api/ghl-webhooks/new-contact",
            &headers,
            raw.as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn an_install_is_an_install_in_any_spelling() {
        for body in [
            json!({"type": "INSTALL", "locationId": "a"}),
            json!({"type": "uninstall", "locationId": null, "location_id": "b"}),
            json!({"Type": "Uninstall", "companyId": "c"}),
            json!({"TYPE": " install ", "locationId": "a"}),
            json!({"t_y_p_e": "UnInstall"}),
        ] {
            let inbound = read(body.clone(), false);
            assert!(
                matches!(inbound.target, Target::Install(_)),
                "{body}: {:?}",
                inbound.target
            );
            assert_eq!(inbound.endpoint(), EndpointId::GhlAppInstall);
            assert_eq!(inbound.tenant_location(), None, "served by the deployment");
        }
        // The ids are GHL's exact keys: a lookalike names nothing.
        let inbound = read(
            json!({"type": "uninstall", "locationId": null, "location_id": "B", "location": {"id": "A"}}),
            true,
        );
        match inbound.target {
            Target::Install(event) => {
                assert!(!event.installed);
                assert_eq!(event.location_id, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_signed_body_names_its_location_by_the_exact_key_only() {
        let body = json!({"type": "ContactCreate", "webhookId": "w", "Location ID": "steer",
            "location": {"id": "steer"}, "locationId": "real"});
        assert_eq!(read(body, true).location.as_deref(), Some("real"));
        let body = json!({"type": "ContactCreate", "webhookId": "w", "Location ID": "steer"});
        assert_eq!(read(body.clone(), true).location, None);
        // A workflow body (a shared secret) is read leniently, as hand-written bodies are.
        assert_eq!(read(body, false).location.as_deref(), Some("steer"));
    }

    #[test]
    fn marketplace_types_are_routed_by_their_type() {
        let body = json!({"type": "NoteCreate", "webhookId": "w", "locationId": "l"});
        assert_eq!(read(body, true).endpoint(), EndpointId::GhlNewNote);
        let body = json!({"type": "TaskCreate", "webhookId": "w", "locationId": "l"});
        assert_eq!(read(body, true).target, Target::Ignored);
        let body = json!({"contact_id": "c"});
        assert_eq!(read(body, false).endpoint(), EndpointId::GhlNewContact);
    }

    #[test]
    fn only_a_signature_may_change_the_registry() {
        for credential in [
            None,
            Some(Credential::Secret),
            Some(Credential::LocalInsecure),
        ] {
            assert!(check_credential(EndpointId::GhlAppInstall, credential).is_err());
        }
        assert!(check_credential(EndpointId::GhlAppInstall, Some(Credential::Signature)).is_ok());
        assert!(check_credential(EndpointId::GhlNewNote, Some(Credential::Secret)).is_ok());
    }

    #[test]
    fn the_registry_says_which_endpoints_take_only_a_signature_and_which_no_timestamp() {
        use crate::registry::REGISTRY;
        let signature_only: Vec<EndpointId> = REGISTRY
            .iter()
            .filter(|e| e.credentials.signature_only().is_some())
            .map(|e| e.id)
            .collect();
        assert_eq!(
            signature_only,
            [EndpointId::GhlAppInstall, EndpointId::GhlSmsDelivery]
        );
        for id in signature_only {
            assert!(check_credential(id, Some(Credential::Secret)).is_err());
            assert!(check_credential(id, Some(Credential::Signature)).is_ok());
        }
        let untimed: Vec<EndpointId> = REGISTRY
            .iter()
            .filter(|e| !e.credentials.timestamped())
            .map(|e| e.id)
            .collect();
        assert_eq!(untimed, [EndpointId::GhlSmsDelivery]);
    }
}
