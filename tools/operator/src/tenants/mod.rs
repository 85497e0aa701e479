//! `tenants`: the operator's view of agency mode's registry (see the manual's `docs/src/operator/agency-mode.md`).
//!
//! - `list` and `show` print each tenant's status, GHL auth, CloudTalk key id and options, and
//!   which secrets it holds, never their values;
//! - `add` registers a location served with a private integration token;
//! - `set-cloudtalk` gives a tenant (an app install, say) its CloudTalk key and a new CloudTalk
//!   webhook secret, `set-ghl-secret` a new GHL workflow webhook secret; the secret replaced
//!   stays accepted for `--overlap` (24 h by default), then retires ([`rotate`]);
//! - `set-options` changes its options; `disable` / `enable` switch it off and on. An operator's
//!   disable sticks: a Marketplace re-install does not undo it (it is recorded on the tenant and
//!   shown by `show`, `list` and `bridge status`); `enable` does, and clears those records.
//!
//! The command line is `bridge tenants …` ([`crate::cli`]).
//!
//! Secret values are read from the environment (`TENANT_CLOUDTALK_KEY_SECRET`,
//! `TENANT_GHL_TOKEN`, `TENANT_GHL_WEBHOOK_SECRET`, `TENANT_CLOUDTALK_WEBHOOK_SECRET`), never
//! from arguments, which shells keep in their history. A webhook secret not given is generated
//! and printed once, for the tenant's GHL workflows and CloudTalk workflows.

mod overlap;
mod rotate;
mod show;

use bridge::config::CallLogging;
use bridge::secrets::Lookup;
use bridge::tenants::registry::{private_token_tenant, TenantError};
use bridge::tenants::seal::random_secret;
use bridge::tenants::{
    DisabledBy, GhlAuth, Tenant, TenantOptions, TenantSecrets, TenantStatus, Tenants,
    WebhookSecretKind,
};

pub use overlap::{Overlap, DEFAULT_OVERLAP, MAX_OVERLAP_SECS};
pub use rotate::Rotation;
pub use show::{describe, record_json, status_text, summary_line};

/// Option changes; each `None` leaves the option as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionChanges {
    pub name: Option<String>,
    pub phone_region: Option<String>,
    pub missed_call_tag: Option<String>,
    /// `Some(None)`: back to notes.
    pub call_provider: Option<Option<String>>,
    pub campaign_stage_map: Option<serde_json::Value>,
    pub last_call_date_field: Option<String>,
    pub last_call_outcome_field: Option<String>,
    pub last_call_duration_field: Option<String>,
    /// `Some(map)`: the agent map (an empty map clears it).
    pub agent_map: Option<std::collections::BTreeMap<String, String>>,
    pub assign_owner: Option<bool>,
    pub missed_call_tasks: Option<bool>,
    pub close_callback_tasks: Option<bool>,
    pub callback_sla_minutes: Option<u32>,
    pub call_summaries: Option<bool>,
    pub call_transcripts: Option<bool>,
    pub call_tag_prefix: Option<String>,
    pub call_rating_field: Option<String>,
    pub call_disposition_field: Option<String>,
    /// What a call's cue card shows (`all`, `none`, fields; empty: the deployment's).
    pub cue_card_fields: Option<String>,
    /// Speed-to-lead settings to change, by their `SPEED_TO_LEAD_*` name (empty: cleared).
    pub speed_to_lead: std::collections::BTreeMap<String, String>,
    /// Text settings to change, by their `SMS_*` name (empty: cleared).
    pub sms: std::collections::BTreeMap<String, String>,
}

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    List,
    Show(String),
    Add {
        location: String,
        cloudtalk_key_id: String,
        options: OptionChanges,
    },
    SetCloudTalk {
        location: String,
        cloudtalk_key_id: String,
        overlap: Overlap,
    },
    SetGhlSecret {
        location: String,
        overlap: Overlap,
    },
    SetOptions {
        location: String,
        options: OptionChanges,
    },
    Enable(String, bool),
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum TenantsError {
    #[error(transparent)]
    Store(#[from] TenantError),
    #[error("no tenant {0} is registered")]
    Unknown(String),
    #[error("tenant {0} is registered already (use set-cloudtalk or set-options)")]
    Exists(String),
    #[error("{0} is not set in the environment")]
    MissingSecret(&'static str),
    #[error("{0}")]
    InvalidOption(String),
}

fn apply_options(tenant: &mut Tenant, changes: &OptionChanges) -> Result<(), TenantsError> {
    let o: &mut TenantOptions = &mut tenant.record.options;
    for (name, value) in &changes.speed_to_lead {
        match value.trim() {
            "" => o.speed_to_lead.remove(name),
            v => o.speed_to_lead.insert(name.clone(), v.to_string()),
        };
    }
    bridge::speed_to_lead::SpeedToLeadOptions::from_settings(&o.speed_to_lead)
        .map_err(TenantsError::InvalidOption)?;
    for (name, value) in &changes.sms {
        match value.trim() {
            "" => o.sms.remove(name),
            v => o.sms.insert(name.clone(), v.to_string()),
        };
    }
    bridge::sms::SmsOptions::from_settings(&o.sms).map_err(TenantsError::InvalidOption)?;
    if let Some(name) = &changes.name {
        tenant.record.name = Some(name.clone());
    }
    let set = |slot: &mut Option<String>, value: &Option<String>| {
        if let Some(v) = value {
            *slot = (!v.is_empty()).then(|| v.clone());
        }
    };
    set(&mut o.phone_region, &changes.phone_region);
    set(&mut o.missed_call_tag, &changes.missed_call_tag);
    set(&mut o.last_call_date_field, &changes.last_call_date_field);
    set(
        &mut o.last_call_outcome_field,
        &changes.last_call_outcome_field,
    );
    set(
        &mut o.last_call_duration_field,
        &changes.last_call_duration_field,
    );
    if let Some(map) = &changes.campaign_stage_map {
        o.campaign_stage_map = Some(map.clone());
    }
    if let Some(map) = &changes.agent_map {
        o.agent_map = (!map.is_empty()).then(|| map.clone());
    }
    o.assign_owner = changes.assign_owner.or(o.assign_owner);
    o.missed_call_tasks = changes.missed_call_tasks.or(o.missed_call_tasks);
    o.close_callback_tasks = changes.close_callback_tasks.or(o.close_callback_tasks);
    o.callback_sla_minutes = changes.callback_sla_minutes.or(o.callback_sla_minutes);
    o.call_summaries = changes.call_summaries.or(o.call_summaries);
    o.call_transcripts = changes.call_transcripts.or(o.call_transcripts);
    set(&mut o.call_tag_prefix, &changes.call_tag_prefix);
    set(&mut o.call_rating_field, &changes.call_rating_field);
    set(
        &mut o.call_disposition_field,
        &changes.call_disposition_field,
    );
    set(&mut o.cue_card_fields, &changes.cue_card_fields);
    if let Some(provider) = &changes.call_provider {
        o.call_logging = match provider {
            Some(id) => CallLogging::Conversations {
                provider_id: id.clone(),
            },
            None => CallLogging::Notes,
        };
    }
    Ok(())
}

/// A secret value from `env`, required.
fn secret(env: &Lookup, name: &'static str) -> Result<String, TenantsError> {
    env(name)
        .filter(|v| !v.trim().is_empty())
        .ok_or(TenantsError::MissingSecret(name))
}

/// The tenant of `location`, which must be registered.
async fn existing(tenants: &Tenants, location: &str) -> Result<Tenant, TenantsError> {
    tenants
        .get(location)
        .await?
        .ok_or_else(|| TenantsError::Unknown(location.to_string()))
}

/// Runs `action` on `tenants`, reading secret values from `env`; what to print.
pub async fn run(tenants: &Tenants, action: &Action, env: &Lookup) -> Result<String, TenantsError> {
    run_at(tenants, action, env, "this registry").await
}

/// [`run`], the answer naming where the registry is (`place`: `stack …`, `local store …`).
pub async fn run_at(
    tenants: &Tenants,
    action: &Action,
    env: &Lookup,
    place: &str,
) -> Result<String, TenantsError> {
    let rotation = |location, kind, overlap| Rotation {
        location,
        kind,
        overlap,
        place,
    };
    match action {
        Action::List => list(tenants).await,
        Action::Show(location) => Ok(describe(&existing(tenants, location).await?)),
        Action::Add {
            location,
            cloudtalk_key_id,
            options,
        } => add(tenants, location, cloudtalk_key_id, options, env).await,
        Action::SetCloudTalk {
            location,
            cloudtalk_key_id,
            overlap,
        } => {
            let rotation = rotation(location, WebhookSecretKind::Cloudtalk, *overlap);
            rotate::set_cloudtalk(tenants, &rotation, cloudtalk_key_id, env).await
        }
        Action::SetGhlSecret { location, overlap } => {
            let rotation = rotation(location, WebhookSecretKind::Ghl, *overlap);
            rotate::rotate(tenants, &rotation, env, |_| {}).await
        }
        Action::SetOptions { location, options } => {
            let mut tenant = existing(tenants, location).await?;
            apply_options(&mut tenant, options)?;
            tenants.save(&tenant, Some(tenant.version)).await?;
            let saved = existing(tenants, location).await?;
            Ok(format!("updated\n{}", describe(&saved)))
        }
        Action::Enable(location, on) => enable(tenants, location, *on, place).await,
    }
}

async fn list(tenants: &Tenants) -> Result<String, TenantsError> {
    // The records say all a line shows: no secret needs opening.
    let mut lines: Vec<String> = tenants
        .list()
        .await?
        .iter()
        .map(|(record, _)| summary_line(record))
        .collect();
    lines.sort();
    match lines.is_empty() {
        true => Ok("no tenants registered".into()),
        false => Ok(lines.join("\n")),
    }
}

async fn add(
    tenants: &Tenants,
    location: &str,
    cloudtalk_key_id: &str,
    options: &OptionChanges,
    env: &Lookup,
) -> Result<String, TenantsError> {
    if tenants.get(location).await?.is_some() {
        return Err(TenantsError::Exists(location.to_string()));
    }
    let ghl_hook = given_or_new(env, "TENANT_GHL_WEBHOOK_SECRET");
    let cloudtalk_hook = given_or_new(env, "TENANT_CLOUDTALK_WEBHOOK_SECRET");
    let secrets = TenantSecrets {
        cloudtalk_key_secret: Some(secret(env, "TENANT_CLOUDTALK_KEY_SECRET")?),
        ghl_access_token: Some(secret(env, "TENANT_GHL_TOKEN")?),
        ghl_webhook_secrets: vec![ghl_hook.0.clone()],
        cloudtalk_webhook_secrets: vec![cloudtalk_hook.0.clone()],
        ghl_refresh_token: None,
        retiring: Vec::new(),
    };
    let mut tenant = private_token_tenant(location, cloudtalk_key_id, secrets);
    apply_options(&mut tenant, options)?;
    tenants.save(&tenant, None).await?;
    let saved = existing(tenants, location).await?;
    let ghl_route = "/api/ghl-webhooks/<event>";
    let cloudtalk_route = format!("/api/cloudtalk-webhooks/{location}/<event>");
    Ok(format!(
        "added\n{}\n{}{}",
        describe(&saved),
        webhook_note("GHL workflow webhooks", ghl_route, &ghl_hook),
        webhook_note("CloudTalk workflows", &cloudtalk_route, &cloudtalk_hook)
    ))
}

/// `enable` / `disable`. Disabling is the operator's decision, which a re-install does not
/// undo (and acknowledges the re-installs refused before it); enabling clears it.
async fn enable(
    tenants: &Tenants,
    location: &str,
    on: bool,
    place: &str,
) -> Result<String, TenantsError> {
    let mut tenant = existing(tenants, location).await?;
    let awaiting = tenant.record.ghl_auth == GhlAuth::LocationInstall
        && tenant.secrets.ghl_access_token.is_none();
    match (on, awaiting) {
        (false, _) => tenant.record.disable(DisabledBy::Operator),
        (true, true) => tenant.record.reinstate(TenantStatus::AwaitingAuthorization),
        (true, false) => tenant.record.reinstate(TenantStatus::Active),
    }
    tenants.save(&tenant, Some(tenant.version)).await?;
    let line = summary_line(&existing(tenants, location).await?.record);
    let done = if on { "enabled" } else { "disabled" };
    Ok(format!("{done} tenant {location} on {place}\n{line}"))
}

/// The webhook secret in `name`, else a new one (and whether it is new).
fn given_or_new(env: &Lookup, name: &str) -> (String, bool) {
    match env(name).filter(|s| !s.trim().is_empty()) {
        Some(given) => (given, false),
        None => (random_secret(), true),
    }
}

/// Where a sender posts, and with which secret: a generated one is shown this once.
fn webhook_note(senders: &str, route: &str, (secret, generated): &(String, bool)) -> String {
    match generated {
        true => format!(
            "\n{senders} post to {route} with the header\n  Authorization: Bearer {secret}\n(generated; shown once: it is stored sealed and never printed again)"
        ),
        false => format!("\n{senders} post to {route} with the secret you gave"),
    }
}

/// `list` and `show` as JSON (the other actions answer in text).
pub async fn json(tenants: &Tenants, action: &Action) -> Result<serde_json::Value, TenantsError> {
    match action {
        Action::Show(location) => {
            let tenant = tenants
                .get(location)
                .await?
                .ok_or_else(|| TenantsError::Unknown(location.clone()))?;
            Ok(record_json(&tenant.record))
        }
        _ => {
            let mut records = tenants.list().await?;
            records.sort_by(|a, b| a.0.location_id.cmp(&b.0.location_id));
            Ok(records.iter().map(|(r, _)| record_json(r)).collect())
        }
    }
}
