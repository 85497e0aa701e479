//! The deployment `bridge doctor` checks, found as `bridge status` finds it (`--stack` /
//! `BRIDGE_STACK` through CloudFormation, a saved copy of its outputs, else the local run),
//! with the settings its functions run with and the bridge's own `Deps` built from them:
//!
//! - on a stack, its parameters give the settings (`template.yaml` sets each function's
//!   variable from one, as `bridge::reference::SETTINGS` pairs them), its outputs the tables
//!   and the secret (`BridgeSecretsArn`), read from Secrets Manager as the functions read it,
//!   and never from this shell's environment (which only completes what the stack does not
//!   set: the API bases, AWS's endpoint and region);
//! - a saved copy of the outputs (`--stack-outputs`) has no parameters: the settings come from
//!   the environment, as for the other commands;
//! - locally, the environment, as `scripts/local.sh` gives it to the functions, and the store
//!   file.
//!
//! Then whom to check ([`Subject`]): the deployment's own location and each tenant it serves.

use std::collections::BTreeMap;
use std::sync::Arc;

use bridge::secrets::{Lookup, SECRET_SETTINGS};
use bridge::tenants::{GhlAuth, Tenant, TenantRecord, TenantStatus};
use bridge::Deps;

use super::check::{id, Check};
use crate::backfill::setup::{self, Sources};
use crate::stack::{Stack, Target};
use crate::status::Deployment;

/// The deployment's own location, as checks and the state table name it.
pub const DEFAULT: &str = "default";

/// Where the deployment is, as the fixes name it.
#[derive(Debug, Clone, Default)]
pub struct Place {
    /// The stack's name; none for a saved copy of its outputs or the local run.
    pub stack: Option<String>,
    pub on_stack: bool,
    /// The secret the functions read (`BridgeSecretsArn`).
    pub secret: Option<String>,
}

impl Place {
    /// The report's heading.
    pub fn heading(&self) -> String {
        match (&self.stack, self.on_stack) {
            (Some(name), _) => format!("stack {name}"),
            (None, true) => "the stack of the saved outputs".into(),
            (None, false) => "the local run".into(),
        }
    }

    /// How to set the deployment's secret `name`.
    pub fn set_secret(&self, name: &str) -> String {
        match (&self.secret, self.on_stack) {
            (Some(arn), _) => format!(
                "add {name} to the secret {arn} (Secrets Manager; the functions read it again within 5 minutes)"
            ),
            (None, true) => format!("add {name} to the stack's secret (its BridgeSecretsArn output)"),
            (None, false) => format!("set {name} in the environment the bridge runs with (scripts/local.sh passes it on)"),
        }
    }

    /// How to set the deployment's setting `variable` (its stack parameter, on a stack), to
    /// `value` when it says what to set (`<field id>`; empty: nothing to say).
    pub fn set_setting(&self, variable: &str, value: &str) -> String {
        let parameter = parameter_of(variable);
        let to = match value {
            "" => String::new(),
            v => format!(" to {v}"),
        };
        match (self.on_stack, parameter, value) {
            (true, Some(parameter), _) => {
                format!("set the stack parameter {parameter} ({variable}){to} and deploy again")
            }
            (_, _, "") => format!("set {variable}"),
            (_, _, v) => format!("set {variable}={v}"),
        }
    }
}

/// The stack parameter a variable is set from, as `template.yaml` sets it.
pub fn parameter_of(variable: &str) -> Option<&'static str> {
    parameter_variables()
        .into_iter()
        .find(|(_, v)| *v == variable)
        .map(|(p, _)| p)
}

/// Each stack parameter that sets a function's variable, with that variable (the reference
/// lists a setting's variables and parameters in the same order).
pub fn parameter_variables() -> Vec<(&'static str, &'static str)> {
    bridge::reference::SETTINGS
        .iter()
        .flat_map(|s| {
            s.parameters
                .iter()
                .copied()
                .zip(s.variables.iter().copied())
        })
        .collect()
}

/// The settings a stack's parameters give its functions, by variable.
pub fn parameter_settings(parameters: &BTreeMap<String, String>) -> Vec<(&'static str, String)> {
    parameter_variables()
        .into_iter()
        .filter_map(|(p, v)| parameters.get(p).map(|value| (v, value.clone())))
        .collect()
}

/// What the checks share: where the deployment is, its settings as the functions read them,
/// and now.
pub struct Context {
    pub place: Place,
    /// The deployment's settings, raw (`CAMPAIGN_STAGE_MAP`, `SPEED_TO_LEAD_*`).
    pub lookup: Lookup,
    pub now_ms: i64,
}

/// The deployment found, and the bridge's `Deps` for it (or why they could not be built).
pub struct Resolved {
    pub deployment: Deployment,
    pub context: Context,
    pub deps: Result<Arc<Deps>, String>,
}

/// The environment as the deployment's functions see it: on a stack, without the secrets
/// (theirs come from the stack's secret, never from this shell).
fn environment(on_stack: bool) -> Lookup {
    Arc::new(move |k: &str| {
        if on_stack && SECRET_SETTINGS.contains(&k) {
            return None;
        }
        std::env::var(k).ok()
    })
}

/// The settings in layers: `flags`, then the stack's outputs, then `env`.
fn layered(flags: &[(&'static str, String)], stack: Option<&Stack>, env: Lookup) -> Lookup {
    let mut layers = flags.to_vec();
    if let Some(outputs) = stack.and_then(|s| setup::stack_settings(&s.outputs).ok()) {
        layers.extend(outputs);
    }
    Arc::new(move |k: &str| {
        let layer = layers.iter().find(|(n, _)| *n == k);
        layer.map(|(_, v)| v.clone()).or_else(|| env(k))
    })
}

/// Finds the deployment and builds its `Deps`; the secret is opened only when `open_secret`.
pub async fn resolve(target: &Target, open_secret: bool) -> Resolved {
    let deployment = match target.stack().await {
        Ok(Some(stack)) => Deployment::Stack(stack),
        Ok(None) => Deployment::Local,
        Err(e) => Deployment::Failed(e.to_string()),
    };
    let stack = deployment.stack().cloned();
    let on_stack = !matches!(deployment, Deployment::Local);
    let mut flags = stack
        .as_ref()
        .map(|s| parameter_settings(&s.parameters))
        .unwrap_or_default();
    if !open_secret {
        flags.push(("BRIDGE_SECRETS_ARN", String::new()));
    }
    let env = environment(on_stack);
    let lookup = layered(&flags, stack.as_ref(), env.clone());
    let place = Place {
        stack: stack.as_ref().and_then(|s| s.name.clone()),
        on_stack,
        secret: stack
            .as_ref()
            .and_then(|s| s.output("BridgeSecretsArn"))
            .map(str::to_string),
    };
    let deps = match &deployment {
        Deployment::Failed(why) => Err(why.clone()),
        _ => {
            let sources = Sources {
                flags,
                stack,
                local_store: target.local_store.clone(),
            };
            let built = setup::deps(&sources, env).await;
            built.map(Arc::new).map_err(|e| e.to_string())
        }
    };
    let context = Context {
        place,
        lookup,
        now_ms: chrono::Utc::now().timestamp_millis(),
    };
    Resolved {
        deployment,
        context,
        deps,
    }
}

/// Whose configuration a subject is.
pub enum Whose {
    /// The deployment's own location: its environment (or stack) and secret.
    Own,
    /// A tenant of the registry, opened.
    Tenant(Box<Tenant>),
}

/// One location to check: the deployment's own, or a tenant, with the `Deps` its events are
/// applied with.
pub struct Subject {
    /// `default`, or the tenant's location id.
    pub name: String,
    pub location: Option<String>,
    pub whose: Whose,
    pub deps: Arc<Deps>,
    /// Why GHL cannot be read for it, when it cannot (no token, no location, an expired one).
    pub no_ghl: Option<String>,
}

impl Subject {
    /// The name checks give it.
    pub fn tenant(&self) -> Option<&str> {
        Some(&self.name)
    }

    pub fn record(&self) -> Option<&TenantRecord> {
        match &self.whose {
            Whose::Own => None,
            Whose::Tenant(t) => Some(&t.record),
        }
    }

    pub fn is_own(&self) -> bool {
        matches!(self.whose, Whose::Own)
    }

    /// How to set a setting of the subject: the deployment's `variable`, or the tenant's
    /// option `flag` (`bridge tenants set-options`).
    pub fn set_setting(&self, place: &Place, variable: &str, flag: &str, value: &str) -> String {
        match &self.whose {
            Whose::Own => place.set_setting(variable, value),
            Whose::Tenant(_) => {
                format!("`bridge tenants set-options {} {flag} {value}`", self.name)
            }
        }
    }

    /// The deployment's own location.
    fn own(deps: &Arc<Deps>) -> Self {
        let location = deps.config.ghl_location_id.clone();
        let no_ghl = match (&location, deps.secrets().ghl_api_token.is_some()) {
            (None, _) => Some("GHL_LOCATION_ID is not set".to_string()),
            (_, false) => Some("no GHL token (GHL_API_TOKEN)".to_string()),
            _ => None,
        };
        Subject {
            name: DEFAULT.into(),
            location,
            whose: Whose::Own,
            deps: deps.clone(),
            no_ghl,
        }
    }

    /// A tenant, with the token its events would use now, unless getting it means a write
    /// (renewing an install's token is a `POST /oauth/token` and a registry write).
    fn of_tenant(base: &Deps, tenant: Tenant, now_ms: i64) -> Self {
        let secrets = &tenant.secrets;
        let (token, no_ghl) = match tenant.record.ghl_auth {
            GhlAuth::PrivateToken => match &secrets.ghl_access_token {
                Some(t) => (Some(t.clone()), None),
                None => (None, Some("the tenant has no GHL token".to_string())),
            },
            GhlAuth::LocationInstall | GhlAuth::AgencyInstall => {
                let unexpired = tenant
                    .record
                    .token_expires_at_ms
                    .is_some_and(|at| at > now_ms);
                match (&secrets.ghl_access_token, unexpired) {
                    (Some(t), true) => (Some(t.clone()), None),
                    _ => (None, Some("the install's access token has expired (the bridge renews it with the tenant's next event; renewing is a write doctor does not make)".to_string())),
                }
            }
        };
        let deps = Arc::new(base.for_tenant(&tenant, token));
        Subject {
            name: tenant.location_id().to_string(),
            location: Some(tenant.location_id().to_string()),
            whose: Whose::Tenant(Box::new(tenant)),
            deps,
            no_ghl,
        }
    }
}

/// The locations to check, and what was found of the tenants that are not checked.
#[derive(Default)]
pub struct Subjects {
    pub list: Vec<Subject>,
    pub lines: Vec<Check>,
    /// The deployment serves tenants (a registry with tenants, or the Marketplace app).
    pub agency: bool,
    /// How many tenants the registry holds (any status).
    pub registered: usize,
}

/// Why a registered tenant is not checked: `ok` for a disabled one (nobody's to serve), else a
/// warning with what to do.
fn not_served(record: &TenantRecord) -> Check {
    let loc = record.location_id.as_str();
    let tenant = Some(loc);
    match record.status {
        TenantStatus::Active => Check::ok(id::TENANT, tenant, "served"),
        TenantStatus::Disabled => Check::ok(
            id::TENANT,
            tenant,
            format!(
                "tenant {loc} is disabled (by {}): not checked",
                record.disabled_by_text().unwrap_or("operator")
            ),
        ),
        TenantStatus::AwaitingAuthorization => Check::warn(
            id::TENANT,
            tenant,
            format!("tenant {loc} waits for its authorization: its events are refused (503)"),
        )
        .fix("finish the Marketplace app's install (the agency approves the location, or the OAuth callback completes)"),
        TenantStatus::ReauthorizationRequired => Check::warn(
            id::TENANT,
            tenant,
            format!("GoHighLevel refused tenant {loc}'s authorization: its events are refused (503)"),
        )
        .fix("install the Marketplace app again in the location"),
    }
}

/// The tenant `location`, opened, as a subject; or the line saying why not.
async fn tenant_subject(deps: &Arc<Deps>, location: &str, now_ms: i64) -> Result<Subject, Check> {
    let tenant = Some(location);
    let Some(registry) = deps.tenants.as_deref() else {
        return Err(Check::fail(
            id::TENANT,
            tenant,
            format!("no tenant registry to find {location} in"),
        )
        .fix("name the stack (--stack), or set TENANTS_TABLE and TENANT_SEAL_KEY"));
    };
    match registry.get(location).await {
        Ok(Some(t)) if t.record.status == TenantStatus::Active => {
            Ok(Subject::of_tenant(deps, t, now_ms))
        }
        Ok(Some(t)) => Err(not_served(&t.record)),
        Ok(None) => Err(Check::fail(
            id::TENANT,
            tenant,
            format!("{location} is not a registered tenant"),
        )
        .fix("`bridge tenants list` lists them; `bridge tenants add` registers one")),
        Err(e) => Err(Check::fail(
            id::TENANT,
            tenant,
            format!("tenant {location} could not be read: {e}"),
        )
        .fix("TENANT_SEAL_KEY must be the deployment's (its secret's, on a stack)")),
    }
}

/// Whom to check: `only` (a location, or `default`), else the deployment's own location and
/// every tenant it serves.
pub async fn subjects(deps: &Arc<Deps>, only: Option<&str>, now_ms: i64) -> Subjects {
    let mut out = Subjects::default();
    let records = match deps.tenants.as_deref() {
        Some(registry) => match registry.list().await {
            Ok(records) => records.into_iter().map(|(r, _)| r).collect(),
            Err(e) => {
                let line = Check::fail(
                    id::TENANT,
                    None,
                    format!("the tenant registry could not be read: {e}"),
                );
                out.lines.push(line);
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    out.registered = records.len();
    out.agency = !records.is_empty() || deps.config.ghl_app_client_id.is_some();
    let own_location = deps.config.ghl_location_id.as_deref();
    let named_own = only.is_some_and(|o| o == DEFAULT || Some(o) == own_location);
    match only {
        Some(location) if !named_own => match tenant_subject(deps, location, now_ms).await {
            Ok(subject) => out.list.push(subject),
            Err(line) => out.lines.push(line),
        },
        _ => {
            if own_location.is_some() || !out.agency || named_own {
                out.list.push(Subject::own(deps));
            } else {
                out.lines.push(Check::ok(id::TENANT, Some(DEFAULT), "the deployment serves no location of its own (GHL_LOCATION_ID is empty): only its tenants are checked"));
            }
        }
    }
    if only.is_none() {
        // A tenant of the deployment's own location is never served as a tenant: its events
        // are the deployment's (see `bridge::admission::tenancy`).
        let tenants = records
            .iter()
            .filter(|r| Some(r.location_id.as_str()) != own_location);
        for record in tenants {
            match record.status {
                TenantStatus::Active => {
                    match tenant_subject(deps, &record.location_id, now_ms).await {
                        Ok(subject) => out.list.push(subject),
                        Err(line) => out.lines.push(line),
                    }
                }
                _ => out.lines.push(not_served(record)),
            }
        }
    }
    out
}
