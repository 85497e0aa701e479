//! `bridge doctor --print-setup`: for each webhook route, the exact URL, header and body to
//! paste into its sender, for the deployment at hand, per location (the deployment's own and
//! each tenant's: a tenant's CloudTalk routes carry its location,
//! `/api/cloudtalk-webhooks/<location>/<event>`). The bodies and triggers are
//! [`crate::sender_setup::SENDERS`].
//!
//! Headers name the webhook secret (`Authorization: Bearer <CLOUDTALK_WEBHOOK_SECRET>`): its
//! value is printed only with `--reveal-secrets`, which reads it (the stack's secret, a
//! tenant's sealed one) and says so on standard error. Without it nothing secret is read.

use serde::Serialize;

use bridge::registry::{tenant_route, EndpointId, Sender};
use bridge::tenants::{GhlAuth, TenantStatus, WebhookSecretKind};
use bridge::Deps;

use super::deployment::DEFAULT;
use crate::sender_setup::{SenderSetup, SENDERS};

/// One route to set up, for one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetupEntry {
    /// `default` for the deployment's own location, else the tenant's location id; none for
    /// the Marketplace app's (the deployment's).
    pub tenant: Option<String>,
    /// `gohighlevel`, `cloudtalk` or `marketplace`.
    pub sender: &'static str,
    /// The endpoint (`cloudtalk-call-ended`).
    pub endpoint: &'static str,
    pub trigger: Option<&'static str>,
    /// The sender's action (`Custom Webhook`, `API Request`).
    pub action: Option<&'static str>,
    pub method: &'static str,
    pub url: String,
    /// `Authorization: Bearer <…>`; none when the sender signs (the Marketplace app).
    pub header: Option<String>,
    pub body: Option<&'static str>,
    pub note: Option<String>,
}

/// A location whose senders are set up.
pub struct Whom {
    /// `default` or the tenant's location.
    pub name: String,
    pub location: Option<String>,
    /// The tenant's GHL authentication; none for the deployment's own.
    pub auth: Option<GhlAuth>,
    /// The webhook secrets to print (only with `--reveal-secrets`): GHL's, CloudTalk's.
    pub secrets: Option<(Option<String>, Option<String>)>,
}

impl Whom {
    fn via_app(&self) -> bool {
        self.auth.is_some_and(|a| a != GhlAuth::PrivateToken)
    }

    /// The `Authorization` header for `sender`'s webhooks.
    fn header(&self, sender: Sender) -> String {
        let (name, kind) = match sender {
            Sender::GoHighLevel => ("GHL_WEBHOOK_SECRET", "GHL"),
            Sender::CloudTalk => ("CLOUDTALK_WEBHOOK_SECRET", "CloudTalk"),
        };
        let placeholder = match self.auth {
            None => format!("<{name}>"),
            Some(_) => format!("<tenant {}'s {kind} webhook secret>", self.name),
        };
        let value = self.secrets.as_ref().map(|(ghl, ct)| match sender {
            Sender::GoHighLevel => ghl.clone(),
            Sender::CloudTalk => ct.clone(),
        });
        match value {
            Some(Some(secret)) => format!("Authorization: Bearer {secret}"),
            Some(None) => {
                format!("Authorization: Bearer {placeholder} (not set: see `bridge doctor`)")
            }
            None => format!("Authorization: Bearer {placeholder}"),
        }
    }
}

/// The route of `setup` for `whom` (a tenant's CloudTalk routes carry its location).
fn url(api: &str, setup: &SenderSetup, whom: &Whom) -> String {
    let entry = setup.endpoint.entry();
    let route = match (&whom.auth, &whom.location, tenant_route(entry)) {
        (Some(_), Some(location), Some(route)) => route.replace("{tenant}", location),
        _ => entry.route.to_string(),
    };
    format!("{}{route}", api.trim_end_matches('/'))
}

/// What `whom`'s senders are set up with.
pub fn entries(api: &str, whom: &Whom) -> Vec<SetupEntry> {
    SENDERS
        .iter()
        // An installed app sends the location's GHL events itself, to its own URL.
        .filter(|s| !whom.via_app() || s.endpoint.entry().marketplace_types.is_empty())
        .map(|s| SetupEntry {
            tenant: Some(whom.name.clone()),
            sender: match s.sender() {
                Sender::GoHighLevel => "gohighlevel",
                Sender::CloudTalk => "cloudtalk",
            },
            endpoint: s.endpoint.name(),
            trigger: Some(s.trigger),
            action: Some(s.action()),
            method: "POST",
            url: url(api, s, whom),
            header: Some(whom.header(s.sender())),
            body: Some(s.body),
            note: s.note.map(str::to_string),
        })
        .collect()
}

/// The Marketplace app's webhook URL (its install events, and every event of the locations
/// it is installed in).
pub fn app_entry(api: &str) -> SetupEntry {
    let api = api.trim_end_matches('/');
    SetupEntry {
        tenant: None,
        sender: "marketplace",
        endpoint: EndpointId::GhlAppInstall.name(),
        trigger: None,
        action: None,
        method: "POST",
        url: format!("{api}{}", EndpointId::GhlAppInstall.entry().route),
        header: None,
        body: None,
        note: Some(format!(
            "the Marketplace app's webhook URL (GHL signs its events: no header); its redirect URL is {api}/oauth/callback"
        )),
    }
}

/// The locations to set up: `only`, else the deployment's own (when it serves one) and each
/// active tenant; their webhook secrets when `reveal`.
pub async fn whoms(deps: &Deps, only: Option<&str>, reveal: bool) -> Result<Vec<Whom>, String> {
    let records = match deps.tenants.as_deref() {
        Some(registry) => registry.list().await.map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    let own_location = deps.config.ghl_location_id.clone();
    let agency = !records.is_empty() || deps.config.ghl_app_client_id.is_some();
    let named_own = only.is_some_and(|o| o == DEFAULT || Some(o) == own_location.as_deref());
    let mut out = Vec::new();
    if named_own || (only.is_none() && (own_location.is_some() || !agency)) {
        let s = deps.secrets();
        out.push(Whom {
            name: DEFAULT.into(),
            location: own_location.clone(),
            auth: None,
            secrets: reveal.then(|| {
                (
                    s.ghl_webhook_secrets.first().cloned(),
                    s.cloudtalk_webhook_secrets.first().cloned(),
                )
            }),
        });
    }
    let wanted = records.iter().map(|(r, _)| r).filter(|r| match only {
        _ if Some(r.location_id.as_str()) == own_location.as_deref() => false,
        Some(o) => r.location_id == o,
        None => r.status == TenantStatus::Active,
    });
    for record in wanted {
        let secrets = match (reveal, deps.tenants.as_deref()) {
            (true, Some(registry)) => {
                let t = registry
                    .get(&record.location_id)
                    .await
                    .map_err(|e| e.to_string())?;
                t.map(|t| {
                    let first = |k| t.secrets.current(k).first().cloned();
                    (
                        first(WebhookSecretKind::Ghl),
                        first(WebhookSecretKind::Cloudtalk),
                    )
                })
            }
            _ => None,
        };
        out.push(Whom {
            name: record.location_id.clone(),
            location: Some(record.location_id.clone()),
            auth: Some(record.ghl_auth),
            secrets,
        });
    }
    if let (Some(o), true) = (only, out.is_empty()) {
        return Err(format!("{o} is neither the deployment's location nor a registered tenant (`bridge tenants list`)"));
    }
    Ok(out)
}

/// The setup as text: per location, per sender, each route's URL, header and body.
pub fn render(heading: &str, whoms: &[Whom], entries: &[SetupEntry]) -> String {
    let mut out = format!("Sender setup for {heading}\n");
    for whom in whoms {
        let mine: Vec<&SetupEntry> = entries
            .iter()
            .filter(|e| e.tenant.as_deref() == Some(whom.name.as_str()))
            .collect();
        let location = whom
            .location
            .as_deref()
            .unwrap_or("GHL_LOCATION_ID not set");
        out.push_str(&format!("\n== {} (location {location}) ==\n", whom.name));
        if whom.via_app() {
            out.push_str("GoHighLevel: the Marketplace app sends the location's contact, tag, note, stage and DND events itself (see its webhook URL below)\n");
        }
        for (sender, how) in [
            ("gohighlevel", "GoHighLevel: in a workflow, the Custom Webhook action"),
            ("cloudtalk", "CloudTalk: Settings → Workflow Automations, one workflow per event, the API Request action"),
        ] {
            let routes: Vec<&&SetupEntry> = mine.iter().filter(|e| e.sender == sender).collect();
            if routes.is_empty() {
                continue;
            }
            out.push_str(&format!("{how}\n"));
            for e in routes {
                out.push_str(&entry_text(e));
            }
        }
    }
    for e in entries.iter().filter(|e| e.sender == "marketplace") {
        out.push_str(&format!(
            "\n== the Marketplace app ==\n  {} {}\n    {}\n",
            e.method,
            e.url,
            e.note.as_deref().unwrap_or_default()
        ));
    }
    out
}

fn entry_text(e: &SetupEntry) -> String {
    let route = e.url.rsplit('/').next().unwrap_or_default();
    let mut text = format!("  {route}  (trigger: {})\n", e.trigger.unwrap_or("-"));
    text.push_str(&format!("    {} {}\n", e.method, e.url));
    if let Some(header) = &e.header {
        text.push_str(&format!("    {header}\n"));
    }
    if let Some(body) = e.body {
        text.push_str(&format!("    {body}\n"));
    }
    if let Some(note) = &e.note {
        text.push_str(&format!("    ({note})\n"));
    }
    text
}
