//! `tenants`: the operator's view of agency mode's registry (see the README's *Agency mode*).
//!
//! - `list` and `show` print each tenant's status, GHL auth, CloudTalk key id and options, and
//!   which secrets it holds, never their values;
//! - `add` registers a location served with a private integration token;
//! - `set-cloudtalk` gives a tenant (an app install, say) its CloudTalk key and webhook secret;
//! - `set-options` changes its options; `disable` / `enable` switch it off and on.
//!
//! Secret values are read from the environment (`TENANT_CLOUDTALK_KEY_SECRET`,
//! `TENANT_GHL_TOKEN`, `TENANT_GHL_WEBHOOK_SECRET`, `TENANT_CLOUDTALK_WEBHOOK_SECRET`), never
//! from arguments, which shells keep in their history. A webhook secret not given is generated
//! and printed once, for the tenant's GHL workflows and CloudTalk workflows.

use std::path::PathBuf;

use bridge::config::CallLogging;
use bridge::secrets::Lookup;
use bridge::tenants::registry::{private_token_tenant, TenantError};
use bridge::tenants::seal::random_secret;
use bridge::tenants::{
    GhlAuth, Tenant, TenantOptions, TenantRecord, TenantSecrets, TenantStatus, Tenants,
};

use crate::backfill::setup::Sources;

pub const USAGE: &str = "\
usage: tenants [--tenants-table NAME] [--stack-outputs FILE] [--local-store PATH] COMMAND
  list                               every tenant, one line each
  show LOCATION                      one tenant in full (secret values are never shown)
  add LOCATION --cloudtalk-key-id ID [OPTIONS]
                                     a location served with a private integration token
                                     (TENANT_GHL_TOKEN, TENANT_CLOUDTALK_KEY_SECRET)
  set-cloudtalk LOCATION --cloudtalk-key-id ID
                                     its CloudTalk key (TENANT_CLOUDTALK_KEY_SECRET) and a new
                                     CloudTalk webhook secret
  set-options LOCATION OPTIONS       change its options
  disable LOCATION | enable LOCATION

OPTIONS: --name TEXT --phone-region CC --missed-call-tag TAG --call-provider ID (calls as
Conversations entries; `--call-provider none` for notes) --campaign-stage-map JSON
--last-call-date-field ID --last-call-outcome-field ID --last-call-duration-field ID
--agent-map JSON (CloudTalk agent id → GHL user id, winning over the match by email; `{}` to
clear) --assign-owner on|off --missed-call-tasks on|off --close-callback-tasks on|off
--callback-sla-minutes N --call-summaries on|off --call-transcripts on|off --call-tag-prefix TEXT
--call-rating-field ID --call-disposition-field ID
Speed to lead (the tenant's own; an empty value clears one): --speed-to-lead on|off
--dial-on-new-contact on|off --dial-tag TAG --dial-exclude-sources LIST --dial-exclude-tags LIST
--dial-agents all|owner|IDS --dial-hours 'mon-fri 09:00-18:00' --dial-time-zone ZONE
--dial-after-hours queue|task --dial-window-minutes N --dial-retry-seconds N

Secret values come from the environment only: TENANT_CLOUDTALK_KEY_SECRET, TENANT_GHL_TOKEN,
TENANT_GHL_WEBHOOK_SECRET and TENANT_CLOUDTALK_WEBHOOK_SECRET (each generated when not set,
and printed once). The
registry and its seal key come from the environment (TENANTS_TABLE, BRIDGE_SECRETS_ARN or
TENANT_SEAL_KEY) or the stack's outputs; without a table, the local store file.";

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
    /// Speed-to-lead settings to change, by their `SPEED_TO_LEAD_*` name (empty: cleared).
    pub speed_to_lead: std::collections::BTreeMap<String, String>,
}

/// The `tenants` flag of each speed-to-lead setting.
const DIAL_FLAGS: [(&str, &str); 11] = {
    use bridge::speed_to_lead::options::name;
    [
        ("--speed-to-lead", name::ENABLED),
        ("--dial-on-new-contact", name::ON_NEW_CONTACT),
        ("--dial-tag", name::TAG),
        ("--dial-exclude-sources", name::EXCLUDE_SOURCES),
        ("--dial-exclude-tags", name::EXCLUDE_TAGS),
        ("--dial-agents", name::AGENTS),
        ("--dial-hours", name::HOURS),
        ("--dial-time-zone", name::TIME_ZONE),
        ("--dial-after-hours", name::AFTER_HOURS),
        ("--dial-window-minutes", name::WINDOW_MINUTES),
        ("--dial-retry-seconds", name::RETRY_SECONDS),
    ]
};

/// `on` / `off` (also `true` / `false`, `yes` / `no`).
fn switch(flag: &str, text: &str) -> Result<bool, UsageError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(UsageError::Invalid(format!(
            "{flag} takes on or off, not {text:?}"
        ))),
    }
}

fn on_off(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "on",
        Some(false) => "off",
        None => "(deployment's)",
    }
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
    },
    SetOptions {
        location: String,
        options: OptionChanges,
    },
    Enable(String, bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Run {
        sources: Sources,
        action: Box<Action>,
    },
    Help,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("{0} needs a location id")]
    MissingLocation(String),
    #[error("{0} needs --cloudtalk-key-id")]
    MissingKey(String),
    #[error("--campaign-stage-map takes JSON: {0}")]
    NotJson(String),
    #[error("{0}")]
    Invalid(String),
    #[error("unknown argument {0}")]
    Unknown(String),
    #[error("no command given")]
    NoCommand,
}

/// The command the arguments (without the program name) say.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let mut sources = Sources::default();
    let mut words = Vec::new();
    let mut key_id = None;
    let mut options = OptionChanges::default();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| UsageError::MissingValue(arg.clone()))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--tenants-table" => sources.flags.push(("TENANTS_TABLE", value()?)),
            "--stack-outputs" => sources.stack_outputs = Some(PathBuf::from(value()?)),
            "--local-store" => sources.local_store = Some(PathBuf::from(value()?)),
            "--cloudtalk-key-id" => key_id = Some(value()?),
            "--name" => options.name = Some(value()?),
            "--phone-region" => options.phone_region = Some(value()?),
            "--missed-call-tag" => options.missed_call_tag = Some(value()?),
            "--call-provider" => {
                let id = value()?;
                options.call_provider = Some((id != "none").then_some(id));
            }
            "--campaign-stage-map" => {
                let text = value()?;
                let map =
                    serde_json::from_str(&text).map_err(|e| UsageError::NotJson(e.to_string()))?;
                options.campaign_stage_map = Some(map);
            }
            "--last-call-date-field" => options.last_call_date_field = Some(value()?),
            "--last-call-outcome-field" => options.last_call_outcome_field = Some(value()?),
            "--last-call-duration-field" => options.last_call_duration_field = Some(value()?),
            "--agent-map" => {
                let map = bridge::config::PeopleOptions::parse_agent_map(&value()?)
                    .map_err(|e| UsageError::Invalid(format!("--agent-map: {e}")))?;
                options.agent_map = Some(map);
            }
            "--assign-owner" => options.assign_owner = Some(switch(&arg, &value()?)?),
            "--missed-call-tasks" => options.missed_call_tasks = Some(switch(&arg, &value()?)?),
            "--close-callback-tasks" => {
                options.close_callback_tasks = Some(switch(&arg, &value()?)?)
            }
            "--call-summaries" => options.call_summaries = Some(switch(&arg, &value()?)?),
            "--call-transcripts" => options.call_transcripts = Some(switch(&arg, &value()?)?),
            "--call-tag-prefix" => options.call_tag_prefix = Some(value()?),
            "--call-rating-field" => options.call_rating_field = Some(value()?),
            "--call-disposition-field" => options.call_disposition_field = Some(value()?),
            "--callback-sla-minutes" => {
                let text = value()?;
                let minutes = text.trim().parse::<u32>().ok().filter(|m| *m > 0);
                let minutes = minutes.ok_or_else(|| {
                    UsageError::Invalid(format!(
                        "--callback-sla-minutes takes a positive number, not {text:?}"
                    ))
                })?;
                options.callback_sla_minutes = Some(minutes);
            }
            flag if DIAL_FLAGS.iter().any(|(f, _)| *f == flag) => {
                let name = DIAL_FLAGS.iter().find(|(f, _)| *f == flag).map(|(_, n)| *n);
                let text = value()?;
                options
                    .speed_to_lead
                    .insert(name.unwrap_or_default().to_string(), text);
            }
            flag if flag.starts_with('-') => return Err(UsageError::Unknown(arg)),
            _ => words.push(arg),
        }
    }
    let mut words = words.into_iter();
    let command = words.next().ok_or(UsageError::NoCommand)?;
    let location = words.next();
    if let Some(extra) = words.next() {
        return Err(UsageError::Unknown(extra));
    }
    let location = || {
        location
            .clone()
            .ok_or(UsageError::MissingLocation(command.clone()))
    };
    let key = || {
        key_id
            .clone()
            .ok_or(UsageError::MissingKey(command.clone()))
    };
    let action = match command.as_str() {
        "list" => Action::List,
        "show" | "status" => Action::Show(location()?),
        "add" => Action::Add {
            location: location()?,
            cloudtalk_key_id: key()?,
            options: options.clone(),
        },
        "set-cloudtalk" => Action::SetCloudTalk {
            location: location()?,
            cloudtalk_key_id: key()?,
        },
        "set-options" => Action::SetOptions {
            location: location()?,
            options: options.clone(),
        },
        "disable" => Action::Enable(location()?, false),
        "enable" => Action::Enable(location()?, true),
        _ => return Err(UsageError::Unknown(command)),
    };
    Ok(Command::Run {
        sources,
        action: Box::new(action),
    })
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

/// Runs `action` on `tenants`, reading secret values from `env`; what to print.
pub async fn run(tenants: &Tenants, action: &Action, env: &Lookup) -> Result<String, TenantsError> {
    let secret = |name: &'static str| {
        env(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or(TenantsError::MissingSecret(name))
    };
    let existing = |location: &str| {
        let location = location.to_string();
        async move {
            tenants
                .get(&location)
                .await?
                .ok_or(TenantsError::Unknown(location))
        }
    };
    match action {
        Action::List => {
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
        Action::Show(location) => Ok(describe(&existing(location).await?)),
        Action::Add {
            location,
            cloudtalk_key_id,
            options,
        } => {
            if tenants.get(location).await?.is_some() {
                return Err(TenantsError::Exists(location.clone()));
            }
            let ghl_hook = given_or_new(env, "TENANT_GHL_WEBHOOK_SECRET");
            let cloudtalk_hook = given_or_new(env, "TENANT_CLOUDTALK_WEBHOOK_SECRET");
            let secrets = TenantSecrets {
                cloudtalk_key_secret: Some(secret("TENANT_CLOUDTALK_KEY_SECRET")?),
                ghl_access_token: Some(secret("TENANT_GHL_TOKEN")?),
                ghl_webhook_secrets: vec![ghl_hook.0.clone()],
                cloudtalk_webhook_secrets: vec![cloudtalk_hook.0.clone()],
                ghl_refresh_token: None,
            };
            let mut tenant = private_token_tenant(location, cloudtalk_key_id, secrets);
            apply_options(&mut tenant, options)?;
            tenants.save(&tenant, None).await?;
            let saved = existing(location).await?;
            Ok(format!(
                "added\n{}\n{}{}",
                describe(&saved),
                webhook_note(
                    "GHL workflow webhooks",
                    "/api/ghl-webhooks/<event>",
                    &ghl_hook
                ),
                webhook_note(
                    "CloudTalk workflows",
                    &format!("/api/cloudtalk-webhooks/{location}/<event>"),
                    &cloudtalk_hook
                )
            ))
        }
        Action::SetCloudTalk {
            location,
            cloudtalk_key_id,
        } => {
            let mut tenant = existing(location).await?;
            let cloudtalk_hook = given_or_new(env, "TENANT_CLOUDTALK_WEBHOOK_SECRET");
            tenant.record.cloudtalk_key_id = Some(cloudtalk_key_id.clone());
            tenant.secrets.cloudtalk_key_secret = Some(secret("TENANT_CLOUDTALK_KEY_SECRET")?);
            tenant.secrets.cloudtalk_webhook_secrets = vec![cloudtalk_hook.0.clone()];
            tenants.save(&tenant, Some(tenant.version)).await?;
            let saved = existing(location).await?;
            Ok(format!(
                "updated\n{}\n{}",
                describe(&saved),
                webhook_note(
                    "CloudTalk workflows",
                    &format!("/api/cloudtalk-webhooks/{location}/<event>"),
                    &cloudtalk_hook
                )
            ))
        }
        Action::SetOptions { location, options } => {
            let mut tenant = existing(location).await?;
            apply_options(&mut tenant, options)?;
            tenants.save(&tenant, Some(tenant.version)).await?;
            Ok(format!("updated\n{}", describe(&existing(location).await?)))
        }
        Action::Enable(location, on) => {
            let mut tenant = existing(location).await?;
            tenant.record.status = match (on, tenant.record.ghl_auth) {
                (false, _) => TenantStatus::Disabled,
                (true, GhlAuth::LocationInstall) if tenant.secrets.ghl_access_token.is_none() => {
                    TenantStatus::AwaitingAuthorization
                }
                (true, _) => TenantStatus::Active,
            };
            tenants.save(&tenant, Some(tenant.version)).await?;
            Ok(summary_line(&existing(location).await?.record))
        }
    }
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

fn auth_name(auth: GhlAuth) -> &'static str {
    match auth {
        GhlAuth::PrivateToken => "private integration",
        GhlAuth::LocationInstall => "app install (location)",
        GhlAuth::AgencyInstall => "app install (agency)",
    }
}

fn summary_line(r: &TenantRecord) -> String {
    format!(
        "{}  {}  {}  cloudtalk key {}{}",
        r.location_id,
        r.status.as_str(),
        auth_name(r.ghl_auth),
        r.cloudtalk_key_id
            .as_deref()
            .filter(|k| !k.is_empty())
            .unwrap_or("(none)"),
        r.name
            .as_deref()
            .map(|n| format!("  \"{n}\""))
            .unwrap_or_default()
    )
}

/// One tenant in full: everything but secret values (only whether each is held).
pub fn describe(tenant: &Tenant) -> String {
    let r = &tenant.record;
    let s = &tenant.secrets;
    let held = |present: bool| if present { "set" } else { "not set" };
    let when = |ms: Option<i64>| {
        ms.and_then(chrono::DateTime::<chrono::Utc>::from_timestamp_millis)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| "-".into())
    };
    let o = &r.options;
    let option = |v: &Option<String>| v.clone().unwrap_or_else(|| "(deployment's)".into());
    let logging = match &o.call_logging {
        CallLogging::Notes => "notes".to_string(),
        CallLogging::Conversations { provider_id } => {
            format!("conversations (provider {provider_id})")
        }
    };
    let lines = [
        format!("location:              {}", r.location_id),
        format!(
            "name:                  {}",
            r.name.as_deref().unwrap_or("-")
        ),
        format!("status:                {}", r.status.as_str()),
        format!("ghl auth:              {}", auth_name(r.ghl_auth)),
        format!(
            "agency (company):      {}",
            r.company_id.as_deref().unwrap_or("-")
        ),
        format!(
            "ghl token:             {}",
            held(s.ghl_access_token.is_some())
        ),
        format!(
            "ghl refresh token:     {}",
            held(s.ghl_refresh_token.is_some())
        ),
        format!("ghl token expires:     {}", when(r.token_expires_at_ms)),
        format!(
            "cloudtalk key:         {} (secret {})",
            r.cloudtalk_key_id.as_deref().unwrap_or("(none)"),
            held(s.cloudtalk_key_secret.is_some())
        ),
        format!("ghl webhook secrets:   {}", s.ghl_webhook_secrets.len()),
        format!(
            "ct webhook secrets:    {}",
            s.cloudtalk_webhook_secrets.len()
        ),
        format!("phone region:          {}", option(&o.phone_region)),
        format!("missed-call tag:       {}", option(&o.missed_call_tag)),
        format!("call logging:          {logging}"),
        format!(
            "agent map:             {}",
            o.agent_map.as_ref().map_or("(by email only)".into(), |m| {
                serde_json::to_string(m).unwrap_or_default()
            })
        ),
        format!(
            "owners, tasks:         assign owner {}, missed-call tasks {}, close tasks {}, due after {} min",
            on_off(o.assign_owner),
            on_off(o.missed_call_tasks),
            on_off(o.close_callback_tasks),
            o.callback_sla_minutes
                .map_or("(deployment's)".to_string(), |m| m.to_string())
        ),
        format!(
            "campaign stage map:    {}",
            o.campaign_stage_map
                .as_ref()
                .map_or("(deployment's)".into(), |m| m.to_string())
        ),
        format!(
            "calls in GHL:          summaries {}, transcripts {}, tag prefix {:?}, rating field {}, disposition field {}",
            on_off(o.call_summaries),
            on_off(o.call_transcripts),
            o.call_tag_prefix.as_deref().unwrap_or("(deployment's)"),
            option(&o.call_rating_field),
            option(&o.call_disposition_field)
        ),
        format!(
            "speed to lead:         {}",
            match o.speed_to_lead.is_empty() {
                true => "off".to_string(),
                false => o
                    .speed_to_lead
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            }
        ),
        format!("updated:               {}", r.updated_at),
    ];
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn commands_and_their_flags_are_read() {
        let Ok(Command::Run { sources, action }) = parse(args(
            "--tenants-table T add loc_1 --cloudtalk-key-id K --phone-region IT --call-provider prov_1",
        )) else {
            panic!("not a run");
        };
        assert_eq!(sources.flags, vec![("TENANTS_TABLE", "T".to_string())]);
        let Action::Add {
            location,
            cloudtalk_key_id,
            options,
        } = *action
        else {
            panic!("not an add");
        };
        assert_eq!(
            (location.as_str(), cloudtalk_key_id.as_str()),
            ("loc_1", "K")
        );
        assert_eq!(options.phone_region.as_deref(), Some("IT"));
        assert_eq!(options.call_provider, Some(Some("prov_1".into())));
        assert_eq!(
            parse(args("add loc_1")),
            Err(UsageError::MissingKey("add".into()))
        );
        assert_eq!(
            parse(args("disable")),
            Err(UsageError::MissingLocation("disable".into()))
        );
        assert_eq!(parse(args("")), Err(UsageError::NoCommand));
        let Ok(Command::Run { action, .. }) = parse(args("set-options loc_1 --call-provider none"))
        else {
            panic!("not a run");
        };
        assert!(matches!(
            *action,
            Action::SetOptions {
                options: OptionChanges {
                    call_provider: Some(None),
                    ..
                },
                ..
            }
        ));
        assert!(matches!(
            parse(args("add loc --cloudtalk-key-id K --campaign-stage-map {")),
            Err(UsageError::NotJson(_))
        ));
    }
}
