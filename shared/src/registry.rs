//! The one list of the bridge's endpoints. Each entry names the endpoint (its Lambda function),
//! its route, its sender, how its events are keyed, whether it uses the contact map and which
//! GHL Marketplace event types it applies. Routing, validation, application, the Marketplace
//! type table, health and the retry worker are all lookups here; the handler of each
//! [`EndpointId`] is bound by the exhaustive match in [`crate::handlers::handler`].
//!
//! Adding an endpoint: a variant of [`EndpointId`] and its entry in [`REGISTRY`], a handler in
//! [`crate::handlers`] bound to it, then its binary in `functions/`, its function in
//! `template.yaml`, its watch route in `Cargo.toml`, its folder in `events/` and its README row
//! (the consistency test checks all of them against this list).

/// Who sends an endpoint's webhooks, which decides the credential it must present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    GoHighLevel,
    CloudTalk,
}

/// An endpoint, by identity. Serialised as its function name (`ghl-new-contact`), which is
/// what queued events, idempotency keys and log lines carry.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "&'static str")]
pub enum EndpointId {
    GhlNewContact,
    GhlNewTag,
    GhlNewNote,
    GhlPipelineChange,
    GhlStatusChange,
    CloudtalkCallStarted,
    CloudtalkCallEnded,
    CloudtalkRecordingAvailable,
    CloudtalkAgentStatusChange,
    CloudtalkContactCreated,
    CloudtalkCampaignStatusChange,
    CloudtalkGeneric,
    GhlAppInstall,
    CloudtalkCallModified,
    GhlDndChange,
    GhlSmsDelivery,
    CloudtalkSmsReceived,
}

/// What tells one event of an endpoint from another (see [`crate::idempotency::event_key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKeys {
    /// GHL's `webhookId` (Marketplace events), else the body.
    WebhookId,
    /// The call id (inside an envelope too), else the call's uuid, else the envelope's
    /// `event_id`, else the body: one identity per call, whichever way it arrives.
    CallIds,
    /// CloudTalk's envelope `event_id`, else the body.
    EventId,
    /// The message's own id (GHL's `messageId`, CloudTalk's `sms_id`), else the envelope's
    /// `event_id`, else the body: one text, once.
    MessageId,
}

/// One endpoint of the bridge.
pub struct Entry {
    pub id: EndpointId,
    /// The Lambda binary and function name.
    pub name: &'static str,
    /// The API Gateway route (`POST`).
    pub route: &'static str,
    pub sender: Sender,
    pub keys: EventKeys,
    /// Its Lambda reads or writes the contact map (and so needs `CONTACT_MAP_TABLE`).
    pub uses_contact_map: bool,
    /// It writes to contacts found through the map, so it removes links whose contact is gone
    /// (and so needs `dynamodb:DeleteItem` on the map).
    pub heals_links: bool,
    /// GHL Marketplace event `type`s this endpoint applies, whichever GHL route received them.
    pub marketplace_types: &'static [&'static str],
    /// Which credentials it takes (see [`crate::admission::check_credential`]).
    pub credentials: Credentials,
}

/// The credentials an endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// Its sender's signature, or the shared secret of a workflow webhook; a signed event
    /// carries its timestamp.
    SignatureOrSecret,
    /// Only GoHighLevel's signature, for what changes the registry (install, uninstall):
    /// the refusal's message says why. A signed event carries its timestamp.
    SignatureOnly(&'static str),
    /// Only GoHighLevel's signature, and no timestamp: GHL's SMS provider delivery carries
    /// none; its `messageId` (the key) makes it once, and only a message GHL still holds as
    /// pending is sent.
    SignatureWithoutTimestamp(&'static str),
}

impl Credentials {
    /// Why a request without the signature is refused, when only the signature will do.
    pub fn signature_only(self) -> Option<&'static str> {
        match self {
            Self::SignatureOrSecret => None,
            Self::SignatureOnly(why) | Self::SignatureWithoutTimestamp(why) => Some(why),
        }
    }

    /// Whether a signed event must carry its timestamp.
    pub fn timestamped(self) -> bool {
        !matches!(self, Self::SignatureWithoutTimestamp(_))
    }
}

const fn ghl(
    id: EndpointId,
    name: &'static str,
    route: &'static str,
    marketplace_types: &'static [&'static str],
) -> Entry {
    Entry {
        id,
        name,
        route,
        sender: Sender::GoHighLevel,
        keys: EventKeys::WebhookId,
        uses_contact_map: true,
        heals_links: true,
        marketplace_types,
        credentials: Credentials::SignatureOrSecret,
    }
}

const fn cloudtalk(
    id: EndpointId,
    name: &'static str,
    route: &'static str,
    keys: EventKeys,
    map: MapUse,
) -> Entry {
    Entry {
        id,
        name,
        route,
        sender: Sender::CloudTalk,
        keys,
        uses_contact_map: !matches!(map, MapUse::None),
        heals_links: matches!(map, MapUse::Heals),
        marketplace_types: &[],
        credentials: Credentials::SignatureOrSecret,
    }
}

/// How a CloudTalk endpoint uses the contact map.
enum MapUse {
    None,
    /// Reads and links.
    Links,
    /// Reads, links, and writes to contacts found through it (so it heals stale links).
    Heals,
}

use EndpointId as E;
use EventKeys::{CallIds, EventId, MessageId};
use MapUse::{Heals, Links};

/// Every webhook endpoint, in the order of the manual's endpoint table (`docs/src/sales/endpoints.md`) (and of [`EndpointId`]).
#[rustfmt::skip]
pub static REGISTRY: [Entry; 17] = [
    ghl(E::GhlNewContact, "ghl-new-contact", "/api/ghl-webhooks/new-contact", &["ContactCreate"]),
    ghl(E::GhlNewTag, "ghl-new-tag", "/api/ghl-webhooks/new-tag", &["ContactTagUpdate"]),
    ghl(E::GhlNewNote, "ghl-new-note", "/api/ghl-webhooks/new-note", &["NoteCreate"]),
    ghl(E::GhlPipelineChange, "ghl-pipeline-change", "/api/ghl-webhooks/pipeline-change", &["OpportunityStageUpdate"]),
    ghl(E::GhlStatusChange, "ghl-status-change", "/api/ghl-webhooks/status-change", &[]),
    cloudtalk(E::CloudtalkCallStarted, "cloudtalk-call-started", "/api/cloudtalk-webhooks/call-started", CallIds, Heals),
    cloudtalk(E::CloudtalkCallEnded, "cloudtalk-call-ended", "/api/cloudtalk-webhooks/call-ended", CallIds, Heals),
    cloudtalk(E::CloudtalkRecordingAvailable, "cloudtalk-recording-available", "/api/cloudtalk-webhooks/recording-available", CallIds, Heals),
    cloudtalk(E::CloudtalkAgentStatusChange, "cloudtalk-agent-status-change", "/api/cloudtalk-webhooks/agent-status-change", EventId, MapUse::None),
    cloudtalk(E::CloudtalkContactCreated, "cloudtalk-contact-created", "/api/cloudtalk-webhooks/contact-created", CallIds, Links),
    cloudtalk(E::CloudtalkCampaignStatusChange, "cloudtalk-campaign-status-change", "/api/cloudtalk-webhooks/campaign-status-change", CallIds, Heals),
    cloudtalk(E::CloudtalkGeneric, "cloudtalk-generic", "/api/cloudtalk-webhooks/generic", EventId, MapUse::None),
    APP_INSTALL,
    cloudtalk(E::CloudtalkCallModified, "cloudtalk-call-modified", "/api/cloudtalk-webhooks/call-modified", EventId, Heals),
    ghl(E::GhlDndChange, "ghl-dnd-change", "/api/ghl-webhooks/dnd-change", &["ContactDndUpdate"]),
    SMS_DELIVERY,
    cloudtalk(E::CloudtalkSmsReceived, "cloudtalk-sms-received", "/api/cloudtalk-webhooks/sms-received", MessageId, Links),
];

/// The app's SMS provider Delivery URL: GHL posts each text sent to a contact of a location
/// whose SMS provider is the app, signed (`X-GHL-Signature`) and keyed by its `messageId`.
const SMS_DELIVERY: Entry = Entry {
    id: EndpointId::GhlSmsDelivery,
    name: "ghl-sms-delivery",
    route: "/api/ghl-webhooks/sms-delivery",
    sender: Sender::GoHighLevel,
    keys: EventKeys::MessageId,
    uses_contact_map: false,
    heals_links: false,
    marketplace_types: &[],
    credentials: Credentials::SignatureWithoutTimestamp(
        "texts to deliver are accepted only with GoHighLevel's signature",
    ),
};

/// The Marketplace app's install and uninstall events: they create and retire tenants, so
/// they are not for a tenant themselves (see [`crate::admission`]). Its route is the
/// app's one webhook URL, where every other event type arrives too (and is applied by its own
/// endpoint's handler), so its Lambda uses the contact map as they do.
const APP_INSTALL: Entry = Entry {
    id: EndpointId::GhlAppInstall,
    name: "ghl-app-install",
    route: "/api/ghl-webhooks/app-install",
    sender: Sender::GoHighLevel,
    keys: EventKeys::WebhookId,
    uses_contact_map: true,
    heals_links: true,
    marketplace_types: &["INSTALL", "UNINSTALL"],
    credentials: Credentials::SignatureOnly(
        "install events are accepted only with GoHighLevel's signature",
    ),
};

/// The health function and its routes (`GET`).
pub const HEALTH_FUNCTION: &str = "health";
pub const HEALTH_ROUTES: [&str; 3] = [
    "/health",
    "/api/ghl-webhooks/test",
    "/api/cloudtalk-webhooks/test",
];

/// The retry worker's function (no route; fed by the retry queue).
pub const RETRY_WORKER_FUNCTION: &str = "retry-worker";

impl EndpointId {
    /// Its registry entry.
    pub fn entry(self) -> &'static Entry {
        // REGISTRY lists the variants in declaration order (checked by a test below).
        &REGISTRY[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.entry().name
    }

    pub fn from_name(name: &str) -> Option<Self> {
        REGISTRY.iter().find(|e| e.name == name).map(|e| e.id)
    }
}

impl std::fmt::Display for EndpointId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<EndpointId> for &'static str {
    fn from(id: EndpointId) -> Self {
        id.name()
    }
}

impl TryFrom<String> for EndpointId {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        Self::from_name(&name).ok_or_else(|| format!("unknown endpoint {name}"))
    }
}

/// The entry serving a `POST` to `path`.
pub fn by_route(path: &str) -> Option<&'static Entry> {
    REGISTRY.iter().find(|e| e.route == path)
}

/// What a GHL Marketplace event `type` is applied by: `Some(entry)`, or `None` for the types the
/// bridge does not act on (deletions, tasks, messages…).
pub fn by_marketplace_type(kind: &str) -> Option<&'static Entry> {
    REGISTRY
        .iter()
        .find(|e| e.marketplace_types.contains(&kind))
}

/// One route the bridge serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The Lambda function serving it.
    pub function: &'static str,
    pub method: &'static str,
    pub route: &'static str,
}

/// The OAuth callback's function and route (`GET`): where GHL sends the app's installer back.
pub const OAUTH_CALLBACK_FUNCTION: &str = "oauth-callback";
pub const OAUTH_CALLBACK_ROUTE: &str = "/oauth/callback";

/// A CloudTalk endpoint's route for one tenant of an agency deployment:
/// `/api/cloudtalk-webhooks/{tenant}/<event>`, `{tenant}` being the GHL location id.
pub fn tenant_route(entry: &Entry) -> Option<&'static str> {
    static ROUTES: std::sync::OnceLock<Vec<(EndpointId, &'static str)>> =
        std::sync::OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        REGISTRY
            .iter()
            .filter(|e| e.sender == Sender::CloudTalk)
            .filter_map(|e| {
                let (prefix, event) = e.route.rsplit_once('/')?;
                let route: &'static str =
                    Box::leak(format!("{prefix}/{{tenant}}/{event}").into_boxed_str());
                Some((e.id, route))
            })
            .collect()
    });
    routes
        .iter()
        .find(|(id, _)| *id == entry.id)
        .map(|(_, r)| *r)
}

/// Every route: the webhooks (`POST`, the CloudTalk ones also per tenant), health and the
/// OAuth callback (`GET`).
pub fn routes() -> Vec<Route> {
    let webhooks = REGISTRY.iter().flat_map(|e| {
        let own = Route {
            function: e.name,
            method: "POST",
            route: e.route,
        };
        let tenant = tenant_route(e).map(|route| Route {
            function: e.name,
            method: "POST",
            route,
        });
        std::iter::once(own).chain(tenant)
    });
    let health = HEALTH_ROUTES.iter().map(|route| Route {
        function: HEALTH_FUNCTION,
        method: "GET",
        route,
    });
    let callback = Route {
        function: OAUTH_CALLBACK_FUNCTION,
        method: "GET",
        route: OAUTH_CALLBACK_ROUTE,
    };
    webhooks.chain(health).chain([callback]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_has_one_entry_and_names_round_trip() {
        for (i, entry) in REGISTRY.iter().enumerate() {
            assert_eq!(
                entry.id as usize, i,
                "REGISTRY is in the order of EndpointId"
            );
            assert_eq!(entry.id.entry().name, entry.name, "entry {i}");
            assert_eq!(EndpointId::from_name(entry.name), Some(entry.id));
            let json = serde_json::to_string(&entry.id).unwrap();
            assert_eq!(json, format!("\"{}\"", entry.name));
            assert_eq!(serde_json::from_str::<EndpointId>(&json).unwrap(), entry.id);
            let prefix = match entry.sender {
                Sender::GoHighLevel => "/api/ghl-webhooks/",
                Sender::CloudTalk => "/api/cloudtalk-webhooks/",
            };
            assert!(entry.route.starts_with(prefix), "{}", entry.route);
        }
        assert!(serde_json::from_str::<EndpointId>("\"nope\"").is_err());
        assert_eq!(
            by_marketplace_type("NoteCreate").map(|e| e.id),
            Some(EndpointId::GhlNewNote)
        );
        assert!(by_marketplace_type("ContactDelete").is_none());
        let cloudtalk = REGISTRY
            .iter()
            .filter(|e| e.sender == Sender::CloudTalk)
            .count();
        assert_eq!(
            routes().len(),
            REGISTRY.len() + cloudtalk + HEALTH_ROUTES.len() + 1
        );
        assert_eq!(
            tenant_route(EndpointId::CloudtalkCallEnded.entry()),
            Some("/api/cloudtalk-webhooks/{tenant}/call-ended")
        );
    }
}
