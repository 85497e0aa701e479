//! `bridge tenants`: agency mode's registry (see [`crate::tenants`]).

use std::sync::Arc;

use clap::{Args, Subcommand};

use super::{confirmed, print_json, stack_or_exit, Target};
use crate::backfill::setup::{self, Sources};
use crate::stack::Stack;
use crate::tenants::{self, Action, OptionChanges, Overlap};

const AFTER: &str = "\
Secret values come from the environment only, never from arguments (shells keep those in their
history): TENANT_CLOUDTALK_KEY_SECRET, TENANT_GHL_TOKEN, TENANT_GHL_WEBHOOK_SECRET and
TENANT_CLOUDTALK_WEBHOOK_SECRET (each webhook secret generated when not set, and printed once).
The registry and its seal key come from the stack (TenantsTableName, BridgeSecretsArn), else
TENANTS_TABLE and TENANT_SEAL_KEY; without a table, the local store file.

set-cloudtalk and set-ghl-secret replace a webhook secret: the previous one stays accepted for
--overlap (default 24h; 90m, 1h30m, 7d, at most 30d; 0 retires it at once), then retires.
They, and disable, name the stack (or the local store) and the tenant and ask first on a
terminal; --yes skips the question, and without a terminal they are refused unless --yes is
given. An operator's disable sticks: a Marketplace re-install is recorded, not applied, until
enable.

Examples:
  bridge --stack ghl-cloudtalk-bridge tenants list
  bridge --stack ghl-cloudtalk-bridge tenants show loc_123 --json
  TENANT_GHL_TOKEN=pit-… TENANT_CLOUDTALK_KEY_SECRET=… \\
    bridge --stack ghl-cloudtalk-bridge tenants add loc_123 --cloudtalk-key-id 4f2a…
  TENANT_CLOUDTALK_KEY_SECRET=… \\
    bridge --stack ghl-cloudtalk-bridge tenants set-cloudtalk loc_123 --cloudtalk-key-id 4f2a… --overlap 48h
  bridge --stack ghl-cloudtalk-bridge tenants set-ghl-secret loc_123 --overlap 90m
  bridge --stack ghl-cloudtalk-bridge tenants set-options loc_123 --missed-call-tasks off
  bridge --stack ghl-cloudtalk-bridge tenants disable loc_123 --yes";

#[derive(Debug, Args)]
#[command(after_help = AFTER)]
pub struct TenantsArgs {
    /// The tenants table (else the stack's, else TENANTS_TABLE).
    #[arg(long, global = true, value_name = "NAME")]
    pub tenants_table: Option<String>,
    #[command(subcommand)]
    pub command: TenantsCommand,
}

#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Every tenant, one line each.
    List,
    /// One tenant in full (secret values are never shown).
    #[command(alias = "status")]
    Show { location: String },
    /// Register a location served with a private integration token (TENANT_GHL_TOKEN,
    /// TENANT_CLOUDTALK_KEY_SECRET).
    Add {
        location: String,
        #[arg(long, value_name = "ID")]
        cloudtalk_key_id: String,
        #[command(flatten)]
        options: OptionFlags,
    },
    /// Give a tenant its CloudTalk key (TENANT_CLOUDTALK_KEY_SECRET) and a new CloudTalk
    /// webhook secret (TENANT_CLOUDTALK_WEBHOOK_SECRET, else generated); the previous one stays
    /// accepted for --overlap.
    SetCloudtalk {
        location: String,
        #[arg(long, value_name = "ID")]
        cloudtalk_key_id: String,
        #[command(flatten)]
        rotation: RotationFlags,
    },
    /// Give a tenant a new GHL workflow webhook secret (TENANT_GHL_WEBHOOK_SECRET, else
    /// generated); the previous one stays accepted for --overlap.
    SetGhlSecret {
        location: String,
        #[command(flatten)]
        rotation: RotationFlags,
    },
    /// Change a tenant's options (unset options fall back to the deployment's).
    SetOptions {
        location: String,
        #[command(flatten)]
        options: OptionFlags,
    },
    /// Switch a tenant off: its webhooks are refused and its queued events parked. The
    /// operator's decision sticks: a Marketplace re-install is recorded, not applied, until
    /// enable (disabling again acknowledges the re-installs refused).
    Disable {
        location: String,
        /// Do not ask first.
        #[arg(long, short)]
        yes: bool,
    },
    /// Switch a tenant on again (also after a re-install it refused).
    Enable { location: String },
}

/// How a webhook secret is replaced.
#[derive(Debug, Clone, Args)]
pub struct RotationFlags {
    /// How long the replaced secret stays accepted: 24h, 90m, 1h30m, 7d (at most 30d), or 0 to
    /// retire it at once.
    #[arg(long, value_name = "DURATION", default_value = tenants::DEFAULT_OVERLAP, value_parser = Overlap::parse)]
    pub overlap: Overlap,
    /// Do not ask first.
    #[arg(long, short)]
    pub yes: bool,
}

/// `on` / `off` (also `true` / `false`, `yes` / `no`).
fn switch(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(format!("takes on or off, not {text:?}")),
    }
}

fn json_value(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("takes JSON: {e}"))
}

/// `all`, `none` or field names, as `CUE_CARD_FIELDS` reads them; empty clears the option.
fn cue_card_fields(text: &str) -> Result<String, String> {
    let text = text.trim();
    if !text.is_empty() {
        bridge::cue_card::CueCardOptions::parse(text)?;
    }
    Ok(text.to_string())
}

fn agent_map(text: &str) -> Result<std::collections::BTreeMap<String, String>, String> {
    bridge::config::PeopleOptions::parse_agent_map(text).map_err(|e| e.to_string())
}

/// A tenant's options.
#[derive(Debug, Clone, Default, Args)]
pub struct OptionFlags {
    /// A name to show.
    #[arg(long, help_heading = "Tenant options")]
    pub name: Option<String>,
    /// The region of numbers without a country code (IT, US, …).
    #[arg(long, value_name = "CC", help_heading = "Tenant options")]
    pub phone_region: Option<String>,
    /// The GHL tag a missed call adds.
    #[arg(long, value_name = "TAG", help_heading = "Tenant options")]
    pub missed_call_tag: Option<String>,
    /// Calls as GHL Conversations entries of this provider; `none` for notes.
    #[arg(long, value_name = "ID", help_heading = "Tenant options")]
    pub call_provider: Option<String>,
    /// Campaign status (or name → status) → GHL pipeline stage, as CAMPAIGN_STAGE_MAP.
    #[arg(long, value_name = "JSON", value_parser = json_value, help_heading = "Tenant options")]
    pub campaign_stage_map: Option<serde_json::Value>,
    /// GHL custom field ids for the last call's date, outcome and duration.
    #[arg(long, value_name = "ID", help_heading = "Tenant options")]
    pub last_call_date_field: Option<String>,
    #[arg(long, value_name = "ID", help_heading = "Tenant options")]
    pub last_call_outcome_field: Option<String>,
    #[arg(long, value_name = "ID", help_heading = "Tenant options")]
    pub last_call_duration_field: Option<String>,
    /// CloudTalk agent id → GHL user id, winning over the match by email (`{}` clears it).
    #[arg(long, value_name = "JSON", value_parser = agent_map, help_heading = "People")]
    pub agent_map: Option<std::collections::BTreeMap<String, String>>,
    #[arg(long, value_name = "on|off", value_parser = switch, help_heading = "People")]
    pub assign_owner: Option<bool>,
    #[arg(long, value_name = "on|off", value_parser = switch, help_heading = "People")]
    pub missed_call_tasks: Option<bool>,
    #[arg(long, value_name = "on|off", value_parser = switch, help_heading = "People")]
    pub close_callback_tasks: Option<bool>,
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = "People")]
    pub callback_sla_minutes: Option<u32>,
    #[arg(long, value_name = "on|off", value_parser = switch, help_heading = "Calls in GHL")]
    pub call_summaries: Option<bool>,
    #[arg(long, value_name = "on|off", value_parser = switch, help_heading = "Calls in GHL")]
    pub call_transcripts: Option<bool>,
    #[arg(long, value_name = "TEXT", help_heading = "Calls in GHL")]
    pub call_tag_prefix: Option<String>,
    #[arg(long, value_name = "ID", help_heading = "Calls in GHL")]
    pub call_rating_field: Option<String>,
    #[arg(long, value_name = "ID", help_heading = "Calls in GHL")]
    pub call_disposition_field: Option<String>,
    /// What a call's cue card shows: all, none, or owner,tags,opportunities,note,dnd.
    #[arg(long, value_name = "LIST", value_parser = cue_card_fields, help_heading = "Calls in GHL")]
    pub cue_card_fields: Option<String>,
    #[command(flatten)]
    pub dial: DialFlags,
    #[command(flatten)]
    pub texts: TextFlags,
}

/// Texts: the tenant's own settings (an empty value clears one).
#[derive(Debug, Clone, Default, Args)]
pub struct TextFlags {
    /// The app's SMS conversation provider id (received texts arrive under it).
    #[arg(long, value_name = "ID", help_heading = "Texts")]
    pub sms_provider: Option<String>,
    /// The CloudTalk number texts are sent from (E.164).
    #[arg(long, value_name = "NUMBER", help_heading = "Texts")]
    pub sms_sender: Option<String>,
    /// Texts sent per minute at most (30).
    #[arg(long, value_name = "N", help_heading = "Texts")]
    pub sms_max_per_minute: Option<String>,
    /// Texts to one number per day at most (10).
    #[arg(long, value_name = "N", help_heading = "Texts")]
    pub sms_max_per_number: Option<String>,
    /// Opt-out words (STOP,UNSUBSCRIBE,…).
    #[arg(long, value_name = "LIST", help_heading = "Texts")]
    pub sms_stop_words: Option<String>,
    /// Opt-in words (START,UNSTOP,…).
    #[arg(long, value_name = "LIST", help_heading = "Texts")]
    pub sms_start_words: Option<String>,
}

impl TextFlags {
    /// The settings given, by their `SMS_*` name.
    fn settings(&self) -> std::collections::BTreeMap<String, String> {
        use bridge::sms::options::name;
        let given = [
            (name::PROVIDER, &self.sms_provider),
            (name::SENDER, &self.sms_sender),
            (name::MAX_PER_MINUTE, &self.sms_max_per_minute),
            (name::MAX_PER_NUMBER_PER_DAY, &self.sms_max_per_number),
            (name::STOP_WORDS, &self.sms_stop_words),
            (name::START_WORDS, &self.sms_start_words),
        ];
        given
            .into_iter()
            .filter_map(|(name, value)| value.clone().map(|v| (name.to_string(), v)))
            .collect()
    }
}

/// Speed to lead: the tenant's own settings (an empty value clears one).
#[derive(Debug, Clone, Default, Args)]
pub struct DialFlags {
    #[arg(long, value_name = "on|off", help_heading = "Speed to lead")]
    pub speed_to_lead: Option<String>,
    #[arg(long, value_name = "on|off", help_heading = "Speed to lead")]
    pub dial_on_new_contact: Option<String>,
    /// The tag that starts a dial (call-now, …).
    #[arg(long, value_name = "TAG", help_heading = "Speed to lead")]
    pub dial_tag: Option<String>,
    #[arg(long, value_name = "LIST", help_heading = "Speed to lead")]
    pub dial_exclude_sources: Option<String>,
    #[arg(long, value_name = "LIST", help_heading = "Speed to lead")]
    pub dial_exclude_tags: Option<String>,
    /// all, owner, or agent ids (42,43).
    #[arg(long, value_name = "WHO", help_heading = "Speed to lead")]
    pub dial_agents: Option<String>,
    /// When dials may ring: 'mon-fri 09:00-18:00; sat 10:00-13:00'.
    #[arg(long, value_name = "HOURS", help_heading = "Speed to lead")]
    pub dial_hours: Option<String>,
    /// The hours' IANA zone (Europe/Rome, …).
    #[arg(long, value_name = "ZONE", help_heading = "Speed to lead")]
    pub dial_time_zone: Option<String>,
    /// queue (wait for the opening) or task.
    #[arg(long, value_name = "queue|task", help_heading = "Speed to lead")]
    pub dial_after_hours: Option<String>,
    #[arg(long, value_name = "N", help_heading = "Speed to lead")]
    pub dial_window_minutes: Option<String>,
    #[arg(long, value_name = "N", help_heading = "Speed to lead")]
    pub dial_retry_seconds: Option<String>,
    /// Leads dialled per hour at most (60); the next get a task.
    #[arg(long, value_name = "N", help_heading = "Speed to lead")]
    pub dial_max_per_hour: Option<String>,
    /// Dials of one number per day at most, whatever the trigger (2).
    #[arg(long, value_name = "N", help_heading = "Speed to lead")]
    pub dial_max_per_number: Option<String>,
    /// Click-to-calls per lead that count (3); then a task.
    #[arg(long, value_name = "N", help_heading = "Speed to lead")]
    pub dial_max_attempts: Option<String>,
    /// A lead not dialled this many hours after its trigger gets a task (72).
    #[arg(long, value_name = "N", help_heading = "Speed to lead")]
    pub dial_horizon_hours: Option<String>,
    /// The countries dialled (IT,SM; default: the tenant's phone region).
    #[arg(long, value_name = "LIST", help_heading = "Speed to lead")]
    pub dial_countries: Option<String>,
}

impl DialFlags {
    /// The settings given, by their `SPEED_TO_LEAD_*` name.
    fn settings(&self) -> std::collections::BTreeMap<String, String> {
        use bridge::speed_to_lead::options::name;
        let given = [
            (name::ENABLED, &self.speed_to_lead),
            (name::ON_NEW_CONTACT, &self.dial_on_new_contact),
            (name::TAG, &self.dial_tag),
            (name::EXCLUDE_SOURCES, &self.dial_exclude_sources),
            (name::EXCLUDE_TAGS, &self.dial_exclude_tags),
            (name::AGENTS, &self.dial_agents),
            (name::HOURS, &self.dial_hours),
            (name::TIME_ZONE, &self.dial_time_zone),
            (name::AFTER_HOURS, &self.dial_after_hours),
            (name::WINDOW_MINUTES, &self.dial_window_minutes),
            (name::RETRY_SECONDS, &self.dial_retry_seconds),
            (name::MAX_PER_HOUR, &self.dial_max_per_hour),
            (name::MAX_PER_NUMBER_PER_DAY, &self.dial_max_per_number),
            (name::MAX_ATTEMPTS, &self.dial_max_attempts),
            (name::HORIZON_HOURS, &self.dial_horizon_hours),
            (name::COUNTRIES, &self.dial_countries),
        ];
        given
            .into_iter()
            .filter_map(|(name, value)| value.clone().map(|v| (name.to_string(), v)))
            .collect()
    }
}

impl From<OptionFlags> for OptionChanges {
    fn from(f: OptionFlags) -> Self {
        OptionChanges {
            speed_to_lead: f.dial.settings(),
            sms: f.texts.settings(),
            name: f.name,
            phone_region: f.phone_region,
            missed_call_tag: f.missed_call_tag,
            call_provider: f.call_provider.map(|id| (id != "none").then_some(id)),
            campaign_stage_map: f.campaign_stage_map,
            last_call_date_field: f.last_call_date_field,
            last_call_outcome_field: f.last_call_outcome_field,
            last_call_duration_field: f.last_call_duration_field,
            agent_map: f.agent_map,
            assign_owner: f.assign_owner,
            missed_call_tasks: f.missed_call_tasks,
            close_callback_tasks: f.close_callback_tasks,
            callback_sla_minutes: f.callback_sla_minutes,
            call_summaries: f.call_summaries,
            call_transcripts: f.call_transcripts,
            call_tag_prefix: f.call_tag_prefix,
            call_rating_field: f.call_rating_field,
            call_disposition_field: f.call_disposition_field,
            cue_card_fields: f.cue_card_fields,
        }
    }
}

impl TenantsCommand {
    /// The registry action the command asks for.
    pub fn action(self) -> Action {
        match self {
            TenantsCommand::List => Action::List,
            TenantsCommand::Show { location } => Action::Show(location),
            TenantsCommand::Add {
                location,
                cloudtalk_key_id,
                options,
            } => Action::Add {
                location,
                cloudtalk_key_id,
                options: options.into(),
            },
            TenantsCommand::SetCloudtalk {
                location,
                cloudtalk_key_id,
                rotation,
            } => Action::SetCloudTalk {
                location,
                cloudtalk_key_id,
                overlap: rotation.overlap,
            },
            TenantsCommand::SetGhlSecret { location, rotation } => Action::SetGhlSecret {
                location,
                overlap: rotation.overlap,
            },
            TenantsCommand::SetOptions { location, options } => Action::SetOptions {
                location,
                options: options.into(),
            },
            TenantsCommand::Disable { location, .. } => Action::Enable(location, false),
            TenantsCommand::Enable { location } => Action::Enable(location, true),
        }
    }

    /// The question a command asks before it changes a tenant, naming `place` (the stack or
    /// the local store) and the tenant, and whether `--yes` answered it; `None` for the others.
    pub fn question(&self, place: &str) -> Option<(String, bool)> {
        let replaced = |what: &str, r: &RotationFlags| match r.overlap.secs() {
            0 => format!("{what}; the previous one is retired at once (--overlap 0)"),
            _ => format!(
                "{what}; the previous one stays accepted for {} (--overlap), then retires",
                r.overlap
            ),
        };
        match self {
            TenantsCommand::Disable { location, yes } => {
                Some((format!("{place}: disable tenant {location}"), *yes))
            }
            TenantsCommand::SetCloudtalk { location, cloudtalk_key_id, rotation } => Some((
                format!(
                    "{place}: tenant {location}: {}",
                    replaced(
                        &format!("set CloudTalk key {cloudtalk_key_id} and a new CloudTalk webhook secret"),
                        rotation
                    )
                ),
                rotation.yes,
            )),
            TenantsCommand::SetGhlSecret { location, rotation } => Some((
                format!(
                    "{place}: tenant {location}: {}",
                    replaced("a new GHL workflow webhook secret", rotation)
                ),
                rotation.yes,
            )),
            _ => None,
        }
    }
}

/// Where the registry is, as questions and answers name it: `stack <name>` (or its saved
/// outputs), `table <name>`, or `local store <path>`.
pub fn place(target: &Target, stack: Option<&Stack>, deps: &bridge::Deps) -> String {
    let table = deps.config.tenants_table.as_deref();
    match (table, stack, &target.stack_outputs) {
        (
            Some(_),
            Some(Stack {
                name: Some(name), ..
            }),
            _,
        ) => format!("stack {name}"),
        (Some(_), Some(_), Some(file)) => format!("the stack of {}", file.display()),
        (Some(table), _, _) => format!("table {table}"),
        (None, _, _) => {
            let path = target.local_store.clone().unwrap_or_else(|| {
                bridge::local_store::LocalStore::from_env()
                    .path()
                    .to_path_buf()
            });
            format!("local store {}", path.display())
        }
    }
}

pub async fn run(target: &Target, args: TenantsArgs, json: bool) -> i32 {
    let stack = match stack_or_exit(target).await {
        Ok(stack) => stack,
        Err(code) => return code,
    };
    let sources = Sources {
        flags: args
            .tenants_table
            .clone()
            .map(|t| vec![("TENANTS_TABLE", t)])
            .unwrap_or_default(),
        stack: stack.clone(),
        local_store: target.local_store.clone(),
    };
    let env: bridge::secrets::Lookup = Arc::new(|k: &str| std::env::var(k).ok());
    let deps = match setup::deps(&sources, env.clone()).await {
        Ok(deps) => deps,
        Err(e) => {
            eprintln!("bridge tenants: {e}");
            return 1;
        }
    };
    let Some(registry) = deps.tenants.as_deref() else {
        eprintln!("bridge tenants: no tenant registry: name the stack (--stack), or set TENANTS_TABLE and the seal key (TENANT_SEAL_KEY)");
        return 1;
    };
    let place = place(target, stack.as_ref(), &deps);
    if let Some((question, yes)) = args.command.question(&place) {
        if let Err(code) = confirmed(&question, yes) {
            return code;
        }
    }
    let action = args.command.action();
    let result = match (json, &action) {
        (true, Action::List | Action::Show(_)) => tenants::json(registry, &action)
            .await
            .map(|v| print_json(&v)),
        _ => tenants::run_at(registry, &action, &env, &place)
            .await
            .map(|text| println!("{text}")),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("bridge tenants: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Command};
    use super::*;

    fn tenants(line: &str) -> Result<TenantsArgs, clap::Error> {
        let args = std::iter::once("bridge").chain(line.split_whitespace());
        match parse(args)?.command {
            Command::Tenants(t) => Ok(*t),
            other => panic!("not tenants: {other:?}"),
        }
    }

    /// Every tenant option is in the configuration reference (`bridge::reference`), and every
    /// tenant option the reference names is a flag of `set-options`.
    #[test]
    fn the_tenant_options_are_the_reference_s() {
        use clap::Args;
        let flags: std::collections::BTreeSet<String> =
            OptionFlags::augment_args(clap::Command::new("set-options"))
                .get_arguments()
                .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                .filter(|f| f != "--name")
                .collect();
        let named: std::collections::BTreeSet<String> = bridge::reference::SETTINGS
            .iter()
            .flat_map(|s| s.tenant_flags.iter().map(|f| f.to_string()))
            .collect();
        assert_eq!(
            flags, named,
            "set-options flags against the reference's tenant options"
        );
    }

    #[test]
    fn commands_and_their_flags_are_read() {
        let args = tenants(
            "tenants --tenants-table T add loc_1 --cloudtalk-key-id K --phone-region IT --call-provider prov_1 --dial-tag call-now",
        )
        .unwrap();
        assert_eq!(args.tenants_table.as_deref(), Some("T"));
        let Action::Add {
            location,
            cloudtalk_key_id,
            options,
        } = args.command.action()
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
            options
                .speed_to_lead
                .get("SPEED_TO_LEAD_TAG")
                .map(String::as_str),
            Some("call-now")
        );
        assert!(tenants("tenants add loc_1").is_err(), "add needs a key id");
        assert!(
            tenants("tenants disable").is_err(),
            "disable needs a location"
        );
        assert!(tenants("tenants").is_err(), "a command is needed");
        let Action::SetOptions { options, .. } =
            tenants("tenants set-options loc_1 --call-provider none --assign-owner off")
                .unwrap()
                .command
                .action()
        else {
            panic!("not set-options");
        };
        assert_eq!(options.call_provider, Some(None));
        assert_eq!(options.assign_owner, Some(false));
        assert!(tenants("tenants add loc --cloudtalk-key-id K --campaign-stage-map {").is_err());
        assert!(tenants("tenants set-options loc --assign-owner maybe").is_err());
    }

    #[test]
    fn rotations_take_an_overlap_and_name_the_place_and_the_tenant_when_asking() {
        let Action::SetCloudTalk { overlap, .. } =
            tenants("tenants set-cloudtalk loc_1 --cloudtalk-key-id K")
                .unwrap()
                .command
                .action()
        else {
            panic!("not set-cloudtalk");
        };
        assert_eq!(overlap, Overlap::default(), "24h unless told");
        assert_eq!(overlap.to_string(), "24h");
        let args = tenants("tenants set-ghl-secret loc_1 --overlap 90m").unwrap();
        let question = args.command.question("stack ghl-cloudtalk-bridge");
        assert_eq!(
            question,
            Some((
                "stack ghl-cloudtalk-bridge: tenant loc_1: a new GHL workflow webhook secret; the previous one stays accepted for 1h30m (--overlap), then retires".to_string(),
                false
            ))
        );
        assert_eq!(
            args.command.action(),
            Action::SetGhlSecret {
                location: "loc_1".into(),
                overlap: Overlap::from_secs(5_400)
            }
        );
        let args =
            tenants("tenants set-cloudtalk loc_1 --cloudtalk-key-id K --overlap 0 -y").unwrap();
        let (question, yes) = args.command.question("local store s.json").unwrap();
        assert!(yes);
        assert_eq!(question, "local store s.json: tenant loc_1: set CloudTalk key K and a new CloudTalk webhook secret; the previous one is retired at once (--overlap 0)");
        let (question, _) = tenants("tenants disable loc_1")
            .unwrap()
            .command
            .question("stack s")
            .unwrap();
        assert_eq!(question, "stack s: disable tenant loc_1");
        assert_eq!(
            tenants("tenants enable loc_1")
                .unwrap()
                .command
                .question("stack s"),
            None
        );
        for wrong in ["24", "1h 30m", "-1h", "31d"] {
            let line = format!("tenants set-ghl-secret loc_1 --overlap {wrong}");
            assert!(tenants(&line).is_err(), "{wrong}");
        }
        assert!(
            tenants("tenants set-ghl-secret").is_err(),
            "a location is needed"
        );
    }
}
