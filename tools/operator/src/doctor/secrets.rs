//! Which secrets are present, by name (never a value): the deployment's, as its functions read
//! them (the environment locally, the stack's secret on a stack), and each tenant's, sealed in
//! the registry (what `bridge tenants show` says is set).

use bridge::tenants::{GhlAuth, WebhookSecretKind};
use bridge::Deps;

use super::check::{id, Check};
use super::deployment::{Context, Subject, Whose, DEFAULT};

/// A secret of the deployment: its name, whether it is set, and what needs it.
type Wanted = (&'static str, bool, &'static str);

/// The deployment's secrets that are needed: its own location's when it serves one, the
/// Marketplace app's when it has one, the seal key when tenants are registered on a stack.
fn wanted(deps: &Deps, own: bool, registered: usize, on_stack: bool) -> Vec<Wanted> {
    let s = deps.secrets();
    let mut out: Vec<Wanted> = Vec::new();
    if own {
        out.extend([
            (
                "CLOUDTALK_API_KEY_ID",
                s.cloudtalk_api_key_id.is_some(),
                "every GHL → CloudTalk endpoint",
            ),
            (
                "CLOUDTALK_API_KEY_SECRET",
                s.cloudtalk_api_key_secret.is_some(),
                "every GHL → CloudTalk endpoint",
            ),
            (
                "GHL_API_TOKEN",
                s.ghl_api_token.is_some(),
                "every CloudTalk → GHL endpoint",
            ),
            (
                "GHL_WEBHOOK_SECRET",
                !s.ghl_webhook_secrets.is_empty(),
                "GHL's workflow webhooks to authenticate",
            ),
            (
                "CLOUDTALK_WEBHOOK_SECRET",
                !s.cloudtalk_webhook_secrets.is_empty(),
                "CloudTalk's webhooks to authenticate",
            ),
        ]);
    }
    if deps.config.ghl_app_client_id.is_some() {
        let app = s.ghl_app_client_secret.is_some();
        out.push((
            "GHL_APP_CLIENT_SECRET",
            app,
            "the Marketplace app's OAuth code exchange and token refreshes",
        ));
    }
    let agency = deps.config.ghl_app_client_id.is_some() || registered > 0;
    if on_stack && agency {
        let seal = s.tenant_seal_key.is_some();
        out.push((
            "TENANT_SEAL_KEY",
            seal,
            "the tenants' sealed secrets to be opened",
        ));
    }
    out
}

/// The deployment's secrets: a `fail` line for each missing one, with how to set it; else one
/// `ok` line naming them.
pub fn of_deployment(deps: &Deps, cx: &Context, own: bool, registered: usize) -> Vec<Check> {
    let wanted = wanted(deps, own, registered, cx.place.on_stack);
    let tenant = Some(DEFAULT);
    let missing: Vec<Check> = wanted
        .iter()
        .filter(|(_, set, _)| !set)
        .map(|(name, _, why)| {
            Check::fail(
                id::SECRETS,
                tenant,
                format!("{name} is not set ({why} need it)"),
            )
            .fix(cx.place.set_secret(name))
        })
        .collect();
    if !missing.is_empty() || wanted.is_empty() {
        return missing;
    }
    let names: Vec<&str> = wanted.iter().map(|(n, _, _)| *n).collect();
    let from = match &cx.place.secret {
        Some(arn) => format!("in the secret {arn}"),
        None => "in the environment".into(),
    };
    vec![Check::ok(
        id::SECRETS,
        tenant,
        format!("{} set {from} (values not shown)", names.join(", ")),
    )]
}

/// A tenant's secrets: a `fail` line for each one missing, with the `bridge tenants` command
/// that sets it; else one `ok` line.
pub fn of_tenant(subject: &Subject) -> Vec<Check> {
    let Whose::Tenant(t) = &subject.whose else {
        return Vec::new();
    };
    let loc = subject.name.as_str();
    let (r, s) = (&t.record, &t.secrets);
    let set_cloudtalk = format!(
        "TENANT_CLOUDTALK_KEY_SECRET=… `bridge tenants set-cloudtalk {loc} --cloudtalk-key-id <key id>` (it also sets a new CloudTalk webhook secret)"
    );
    let private = r.ghl_auth == GhlAuth::PrivateToken;
    let mut missing = Vec::new();
    let key = r.cloudtalk_key_id.as_deref().is_some_and(|k| !k.is_empty());
    if !key || s.cloudtalk_key_secret.is_none() {
        missing.push(("CloudTalk API key", set_cloudtalk.clone()));
    }
    if s.current(WebhookSecretKind::Cloudtalk).is_empty() {
        missing.push(("CloudTalk webhook secret", set_cloudtalk));
    }
    match (private, &s.ghl_access_token, &s.ghl_refresh_token) {
        (true, None, _) => missing.push((
            "GHL token",
            format!("register it again with TENANT_GHL_TOKEN set (`bridge tenants add {loc} …`)"),
        )),
        (false, None, None) => missing.push((
            "GHL tokens (its install's)",
            "install the Marketplace app again in the location".into(),
        )),
        _ => {}
    }
    if private && s.current(WebhookSecretKind::Ghl).is_empty() {
        missing.push((
            "GHL webhook secret",
            format!("`bridge tenants set-ghl-secret {loc}`"),
        ));
    }
    if missing.is_empty() {
        let message = "its CloudTalk key and webhook secret and its GHL credentials are set (values not shown)";
        return vec![Check::ok(id::SECRETS, subject.tenant(), message)];
    }
    missing
        .into_iter()
        .map(|(what, fix)| {
            Check::fail(
                id::SECRETS,
                subject.tenant(),
                format!("tenant {loc} has no {what}"),
            )
            .fix(fix)
        })
        .collect()
}
