//! Which webhooks have ever arrived, per endpoint and tenant, and when last: the pipeline notes
//! each accepted webhook in the state table (`bridge::arrivals`), so a sender never set up is
//! said in words, with where its setup is.

use bridge::registry::{EndpointId, Entry, Sender, REGISTRY};
use bridge::state::StateStore;
use bridge::tenants::GhlAuth;

use super::check::{id, Check};
use super::deployment::{Context, Subject};

/// `call-ended`, of `/api/cloudtalk-webhooks/call-ended`.
fn event_name(entry: &Entry) -> &'static str {
    entry.route.rsplit('/').next().unwrap_or(entry.route)
}

/// When, said as a person reads it: `2026-12-06T14:01:23Z (3h 2m ago)`.
fn when(at: &str, now_ms: i64) -> String {
    let ago = chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| (now_ms - t.timestamp_millis()) / 1000)
        .ok();
    match ago {
        Some(secs) => format!("{at} ({} ago)", crate::status::duration(secs)),
        None => at.to_string(),
    }
}

/// How the subject's sender of `entry` is set up.
fn setup_fix(subject: &Subject, entry: &Entry) -> String {
    let via_app = subject
        .record()
        .is_some_and(|r| r.ghl_auth != GhlAuth::PrivateToken);
    match (entry.sender, entry.marketplace_types.first()) {
        (Sender::CloudTalk, _) => {
            "set up the CloudTalk workflow (see `bridge doctor --print-setup`)".into()
        }
        (Sender::GoHighLevel, Some(kind)) if via_app => format!(
            "subscribe the Marketplace app to {kind} events (see `bridge doctor --print-setup`)"
        ),
        (Sender::GoHighLevel, _) => {
            "set up the GHL workflow (see `bridge doctor --print-setup`)".into()
        }
    }
}

/// One line per endpoint the subject is sent: when its webhook last arrived, or that none ever
/// did (a `warn`, with where its setup is).
pub async fn webhooks(subject: &Subject, cx: &Context) -> Vec<Check> {
    let tenant = subject.tenant();
    // The deployment's own location is noted as `default`: no tenant.
    let noted = (!subject.is_own()).then_some(subject.name.as_str());
    let state = subject.deps.state.as_ref();
    let mut out = Vec::new();
    for entry in REGISTRY
        .iter()
        .filter(|e| e.id != EndpointId::GhlAppInstall)
    {
        let event = event_name(entry);
        let line = match bridge::arrivals::last(state, noted, entry.id).await {
            Ok(Some(at)) => Check::ok(
                id::WEBHOOKS,
                tenant,
                format!("the last {event} webhook arrived {}", when(&at, cx.now_ms)),
            ),
            Ok(None) => Check::warn(
                id::WEBHOOKS,
                tenant,
                format!("no {event} webhook has ever arrived for {}", subject.name),
            )
            .fix(setup_fix(subject, entry)),
            Err(e) => {
                out.push(Check::warn(
                    id::WEBHOOKS,
                    tenant,
                    format!("when webhooks arrived could not be read: {e}"),
                ));
                return out;
            }
        };
        out.push(line);
    }
    out
}

/// The Marketplace app's install webhook, for a deployment with the app: it arrives for the
/// deployment or any tenant, so the latest of them.
pub async fn app_install(state: &dyn StateStore, tenants: &[String], cx: &Context) -> Check {
    let mut latest: Option<String> = None;
    let whose = std::iter::once(None).chain(tenants.iter().map(|t| Some(t.as_str())));
    for tenant in whose {
        match bridge::arrivals::last(state, tenant, EndpointId::GhlAppInstall).await {
            Ok(Some(at)) if latest.as_ref().is_none_or(|l| at > *l) => latest = Some(at),
            Ok(_) => {}
            Err(e) => {
                return Check::warn(
                    id::WEBHOOKS,
                    None,
                    format!("when webhooks arrived could not be read: {e}"),
                );
            }
        }
    }
    match latest {
        Some(at) => Check::ok(id::WEBHOOKS, None, format!("the last app-install webhook arrived {}", when(&at, cx.now_ms))),
        None => Check::warn(id::WEBHOOKS, None, "no app-install webhook has ever arrived from the Marketplace app")
            .fix("set the app's webhook URL to <ApiUrl>/api/ghl-webhooks/app-install (see `bridge doctor --print-setup`)"),
    }
}
