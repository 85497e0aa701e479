//! Configuration, read once per container from the environment of the process.
//!
//! The settings here are not secret. The secrets (API keys, token, webhook secrets) are in
//! [`crate::secrets`]: locally from the environment too, in AWS from the Secrets Manager secret,
//! which never supplies a setting of this module (the local-only switch included).

use std::time::Duration;

use crate::environment::Environment;
use crate::secrets::Secrets;

pub const DEFAULT_CLOUDTALK_API_BASE: &str = "https://my.cloudtalk.io/api";
pub const DEFAULT_CLOUDTALK_AI_API_BASE: &str = "https://api.cloudtalk.io/v1";
pub const DEFAULT_CLOUDTALK_ANALYTICS_API_BASE: &str = "https://analytics-api.cloudtalk.io/api";
pub const DEFAULT_CLOUDTALK_PLATFORM_API_BASE: &str = "https://platform-api.cloudtalk.io/api";
pub const DEFAULT_GHL_API_BASE: &str = "https://services.leadconnectorhq.com";
pub const DEFAULT_GHL_APP_BASE: &str = "https://app.gohighlevel.com";

/// GHL contact custom field ids for the last call's date, outcome and duration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LastCallFields {
    pub date: Option<String>,
    pub outcome: Option<String>,
    pub duration: Option<String>,
}

/// Where a campaign status moves the contact's opportunity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageTarget {
    pub pipeline_id: String,
    pub stage_id: String,
}

/// `CAMPAIGN_STAGE_MAP`: campaign status → stage, optionally per campaign name.
///
/// ```json
/// {"completed": {"pipelineId": "p1", "stageId": "s-done"},
///  "Spring promo": {"completed": {"pipelineId": "p1", "stageId": "s-promo-done"}}}
/// ```
/// Statuses and campaign names are matched case-insensitively; a per-campaign rule wins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignStageMap {
    by_status: Vec<(String, StageTarget)>,
    by_campaign: Vec<(String, String, StageTarget)>,
}

impl CampaignStageMap {
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("CAMPAIGN_STAGE_MAP is not valid JSON: {e}"))?;
        let object = value
            .as_object()
            .ok_or("CAMPAIGN_STAGE_MAP must be a JSON object")?;
        let target = |v: &serde_json::Value| -> Option<StageTarget> {
            let get = |keys: &[&str]| {
                keys.iter()
                    .find_map(|k| v.get(*k).and_then(crate::payload::fields::id_string))
            };
            Some(StageTarget {
                pipeline_id: get(&["pipelineId", "pipeline_id"])?,
                stage_id: get(&["stageId", "stage_id", "pipelineStageId"])?,
            })
        };
        let mut map = Self::default();
        for (key, v) in object {
            if let Some(t) = target(v) {
                map.by_status.push((key.to_lowercase(), t));
            } else if let Some(inner) = v.as_object() {
                for (status, v) in inner {
                    let t = target(v).ok_or_else(|| {
                        format!("CAMPAIGN_STAGE_MAP: \"{key}\" / \"{status}\" needs pipelineId and stageId")
                    })?;
                    map.by_campaign
                        .push((key.to_lowercase(), status.to_lowercase(), t));
                }
            } else {
                return Err(format!(
                    "CAMPAIGN_STAGE_MAP: \"{key}\" needs pipelineId and stageId"
                ));
            }
        }
        Ok(map)
    }

    pub fn is_empty(&self) -> bool {
        self.by_status.is_empty() && self.by_campaign.is_empty()
    }

    /// The stage for a campaign's status: the campaign's own rule, else the status rule.
    pub fn target(&self, campaign: Option<&str>, status: &str) -> Option<&StageTarget> {
        let status = status.to_lowercase();
        campaign
            .map(str::to_lowercase)
            .and_then(|c| {
                self.by_campaign
                    .iter()
                    .find(|(name, s, _)| *name == c && *s == status)
                    .map(|(_, _, t)| t)
            })
            .or_else(|| {
                self.by_status
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map(|(_, t)| t)
            })
    }
}

/// People: CloudTalk agents as GHL users, contact owners, callback tasks (see
/// [`crate::people`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeopleOptions {
    /// CloudTalk agent id → GHL user id, always winning over the match by email (`AGENT_MAP`,
    /// a JSON object; a tenant's `agent_map` option).
    pub agent_map: std::collections::BTreeMap<String, String>,
    /// A GHL contact the bridge creates for a call gets the agent's user as its owner
    /// (`ASSIGN_CONTACT_OWNER`, on by default); an owner the contact has is never replaced.
    pub assign_owner: bool,
    /// A missed inbound call (or a voicemail) creates a callback task (`MISSED_CALL_TASKS`, on).
    pub missed_call_tasks: bool,
    /// A later answered call closes the callback tasks the bridge opened for the contact
    /// (`CLOSE_CALLBACK_TASKS`, on).
    pub close_callback_tasks: bool,
    /// A callback task is due this long after the missed call (`CALLBACK_TASK_SLA_MINUTES`, 15).
    pub callback_sla_minutes: u32,
}

impl Default for PeopleOptions {
    fn default() -> Self {
        Self {
            agent_map: Default::default(),
            assign_owner: true,
            missed_call_tasks: true,
            close_callback_tasks: true,
            callback_sla_minutes: 15,
        }
    }
}

impl PeopleOptions {
    /// The deployment's people options, from its settings (`AGENT_MAP`, `ASSIGN_CONTACT_OWNER`,
    /// `MISSED_CALL_TASKS`, `CLOSE_CALLBACK_TASKS`, `CALLBACK_TASK_SLA_MINUTES`).
    fn read(get: &impl Fn(&str) -> Option<String>) -> Self {
        PeopleOptions {
            agent_map: match get("AGENT_MAP").map(|t| PeopleOptions::parse_agent_map(&t)) {
                Some(Ok(map)) => map,
                Some(Err(e)) => {
                    tracing::warn!(detail = %e, "AGENT_MAP is ignored");
                    Default::default()
                }
                None => Default::default(),
            },
            assign_owner: get("ASSIGN_CONTACT_OWNER").is_none_or(|v| truthy(&v)),
            missed_call_tasks: get("MISSED_CALL_TASKS").is_none_or(|v| truthy(&v)),
            close_callback_tasks: get("CLOSE_CALLBACK_TASKS").is_none_or(|v| truthy(&v)),
            callback_sla_minutes: positive(get("CALLBACK_TASK_SLA_MINUTES"), 15),
        }
    }

    /// Reads `AGENT_MAP` (`{"<agent id>": "<GHL user id>"}`; ids as strings or numbers).
    pub fn parse_agent_map(
        text: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("AGENT_MAP is not JSON: {e}"))?;
        let object = value
            .as_object()
            .ok_or("AGENT_MAP must be a JSON object of agent id → GHL user id")?;
        let mut map = std::collections::BTreeMap::new();
        for (agent, user) in object {
            let user = crate::payload::fields::id_string(user)
                .ok_or_else(|| format!("AGENT_MAP: agent {agent} names no GHL user id"))?;
            map.insert(agent.trim().to_string(), user);
        }
        Ok(map)
    }
}

/// What was said on a call, in GHL: CloudTalk's AI summaries and transcripts, and the call's
/// tags, rating and agent notes (see [`crate::handlers::cloudtalk::insights`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightOptions {
    /// After a call ends, its AI summary and smart notes become a GHL note (`CALL_SUMMARIES`, on).
    pub summaries: bool,
    /// The call's transcript becomes GHL notes too (`CALL_TRANSCRIPTS`, off: personal data).
    pub transcripts: bool,
    /// The prefix of the GHL tags a call's CloudTalk tags become, its separator included:
    /// `CALL_TAG_PREFIX` names the word (`call`, the default) and the bridge adds `: `, so that
    /// whitespace a YAML editor or a console drops never changes it (see [`tag_prefix`]).
    pub tag_prefix: String,
    /// The GHL contact custom field a call's rating goes into (`CALL_RATING_FIELD`); without it
    /// the rating is a tag (`<prefix>rating <n>`).
    pub rating_field: Option<String>,
    /// The GHL contact custom field the last call's disposition (its tags) goes into
    /// (`CALL_DISPOSITION_FIELD`), for GHL workflows to trigger on.
    pub disposition_field: Option<String>,
}

impl InsightOptions {
    /// The deployment's insight options, from its settings (`CALL_SUMMARIES`,
    /// `CALL_TRANSCRIPTS`, `CALL_TAG_PREFIX`, `CALL_RATING_FIELD`, `CALL_DISPOSITION_FIELD`).
    fn read(get: &impl Fn(&str) -> Option<String>) -> Self {
        InsightOptions {
            summaries: get("CALL_SUMMARIES").is_none_or(|v| truthy(&v)),
            transcripts: get("CALL_TRANSCRIPTS").is_some_and(|v| truthy(&v)),
            tag_prefix: tag_prefix(get("CALL_TAG_PREFIX").as_deref().unwrap_or("call")),
            rating_field: get("CALL_RATING_FIELD"),
            disposition_field: get("CALL_DISPOSITION_FIELD"),
        }
    }
}

impl Default for InsightOptions {
    fn default() -> Self {
        Self {
            summaries: true,
            transcripts: false,
            tag_prefix: tag_prefix("call"),
            rating_field: None,
            disposition_field: None,
        }
    }
}

/// The prefix of a call's tags in GHL from `CALL_TAG_PREFIX`: the word, then `: ` (`call` →
/// `call: Interested`). A separator given with the word is the same (`call:`, `call: `), and
/// `none` means no prefix at all. So the meaning never depends on trailing whitespace.
pub fn tag_prefix(raw: &str) -> String {
    let word = raw.trim().trim_end_matches(':').trim_end();
    match word {
        "" => "call: ".to_string(),
        w if w.eq_ignore_ascii_case("none") => String::new(),
        w => format!("{w}: "),
    }
}

/// How calls are logged in GHL.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum CallLogging {
    /// A note per call (the default).
    #[default]
    Notes,
    /// A Call entry in the contact's conversation, through the Marketplace app's Call
    /// conversation provider.
    Conversations { provider_id: String },
}

#[derive(Clone, PartialEq)]
pub struct Config {
    pub cloudtalk_api_base: String,
    pub ghl_api_base: String,
    pub ghl_app_base: String,
    /// The GHL location (sub-account) this deployment serves; events for any other location
    /// are refused.
    pub ghl_location_id: Option<String>,
    /// The GHL Marketplace app whose signed events this deployment accepts (`GHL_APP_ID`);
    /// a signed event naming another `appId` is refused.
    pub ghl_app_id: Option<String>,
    /// ISO 3166 alpha-2 region for national phone numbers, e.g. `IT`.
    pub default_phone_region: Option<String>,
    /// DynamoDB table of the contact map; without it links are kept in process memory.
    pub contact_map_table: Option<String>,
    /// DynamoDB table of the bridge's other state: agent statuses and received generic events.
    pub state_table: Option<String>,
    /// Tag added to the GHL contact when a call was missed.
    pub missed_call_tag: String,
    /// GHL contact custom field ids written on every ended call, when configured.
    pub last_call_fields: LastCallFields,
    /// Campaign status → GHL pipeline stage rules (`CAMPAIGN_STAGE_MAP`).
    pub campaign_stage_map: Result<CampaignStageMap, String>,
    /// How long the generic endpoint keeps a received payload.
    pub generic_retention_days: u32,
    /// SQS queue of events waiting for another attempt (`RETRY_QUEUE_URL`).
    pub retry_queue_url: Option<String>,
    /// SQS queue of events that could not be applied (`DEAD_LETTER_QUEUE_URL`).
    pub dead_letter_queue_url: Option<String>,
    /// Attempts before an event is parked (`RETRY_MAX_ATTEMPTS`, default 6).
    pub max_attempts: u32,
    /// PEM overrides of GHL's webhook signing keys (`GHL_WEBHOOK_PUBLIC_KEY`, Ed25519, and
    /// `GHL_WEBHOOK_RSA_PUBLIC_KEY`); the published keys are built in.
    pub ghl_webhook_public_key: Option<String>,
    pub ghl_webhook_rsa_public_key: Option<String>,
    /// `BRIDGE_LOCAL_INSECURE_NO_AUTH=true` outside AWS Lambda: routes with no credential
    /// configured accept unauthenticated requests. Never honoured in Lambda, where a function
    /// with the switch set refuses to start (see [`crate::startup`]).
    pub insecure_local_no_auth: bool,
    /// How long values read from the secrets secret are used before it is read again
    /// (`BRIDGE_SECRETS_TTL_SECS`, default 300).
    pub secrets_ttl: Duration,
    /// Per-request timeout of upstream calls.
    pub upstream_timeout: Duration,
    /// Time one upstream call may spend retrying before the event is queued instead.
    pub upstream_retry_budget: Duration,
    /// A webhook is answered within this, whatever the upstreams do (`REQUEST_DEADLINE_MS`,
    /// 10 s): applied, or durably queued.
    pub request_deadline: Duration,
    /// The deployment's CloudTalk budget per account (`CLOUDTALK_RATE_PER_MIN`, 50 of
    /// CloudTalk's 60, leaving room for the account's other integrations).
    pub cloudtalk_rate_per_min: u32,
    /// The GoHighLevel budget per location (`GHL_RATE_PER_10S`, 100).
    pub ghl_rate_per_10s: u32,
    /// How long a completed event keyed by a hash of its body answers an identical body as a
    /// duplicate (`BODY_KEY_TTL_SECS`, 2 hours): the senders' redelivery horizon. After it, the
    /// same body is a new event (the same tag added again the next day).
    pub body_key_ttl_secs: i64,
    /// Reconciliation re-reads this much before its checkpoint (`RECONCILE_OVERLAP_SECS`, 900).
    pub reconcile_overlap_secs: i64,
    /// How far back reconciliation's first run reads (`RECONCILE_LOOKBACK_HOURS`, 24).
    pub reconcile_lookback_hours: i64,
    /// The CloudTalk company's offset from UTC, in which its call history gives times
    /// (`CLOUDTALK_UTC_OFFSET`, e.g. `+01:00`; UTC when absent or unreadable).
    pub cloudtalk_utc_offset: Option<String>,
    /// GHL's contact search takes times as epoch milliseconds (`GHL_SEARCH_DATE_FORMAT`
    /// `epoch_ms`) rather than ISO 8601 (`iso`, the default).
    pub ghl_search_dates_as_epoch_ms: bool,
    /// DynamoDB table of the tenants of an agency deployment (`TENANTS_TABLE`).
    pub tenants_table: Option<String>,
    /// The tenant this configuration is for (`None`: the deployment's own, the default tenant).
    pub tenant_id: Option<String>,
    /// How calls are logged in GHL: notes, or entries in the contact's conversation through a
    /// Call conversation provider (`GHL_CALL_PROVIDER_ID`).
    pub call_logging: CallLogging,
    /// The GHL Marketplace app's OAuth client id (`GHL_APP_CLIENT_ID`).
    pub ghl_app_client_id: Option<String>,
    /// Where GHL sends the installer back (`GHL_OAUTH_REDIRECT_URI`, the `/oauth/callback` URL).
    pub ghl_oauth_redirect_uri: Option<String>,
    /// CloudWatch namespace of the metrics embedded in the log lines (`METRICS_NAMESPACE`, set
    /// by the stack); without it the lines carry no metrics.
    pub metrics_namespace: Option<String>,
    /// Agents as users, owners and callback tasks.
    pub people: PeopleOptions,
    /// CloudTalk's Conversation Intelligence API (`CLOUDTALK_AI_API_BASE`).
    pub cloudtalk_ai_api_base: String,
    /// CloudTalk's analytics API, its record of each call (`CLOUDTALK_ANALYTICS_API_BASE`).
    pub cloudtalk_analytics_api_base: String,
    /// CloudTalk's platform API, its cue cards (`CLOUDTALK_PLATFORM_API_BASE`).
    pub cloudtalk_platform_api_base: String,
    /// The GHL record on a cue card while the call rings (`CUE_CARD_FIELDS`).
    pub cue_cards: crate::cue_card::CueCardOptions,
    /// Summaries, transcripts, dispositions.
    pub insights: InsightOptions,
    /// New leads dialled through CloudTalk's click-to-call (`SPEED_TO_LEAD_*`).
    pub speed_to_lead: crate::speed_to_lead::SpeedToLeadOptions,
    /// Texts through CloudTalk as GHL's SMS provider (`SMS_*`, `GHL_SMS_PROVIDER_ID`).
    pub sms: crate::sms::SmsOptions,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("cloudtalk_api_base", &self.cloudtalk_api_base)
            .field("ghl_api_base", &self.ghl_api_base)
            .field("ghl_location_id", &self.ghl_location_id)
            .field("default_phone_region", &self.default_phone_region)
            .field("contact_map_table", &self.contact_map_table)
            .field("state_table", &self.state_table)
            .finish()
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The speed-to-lead options; off, and said so, when its settings are invalid.
fn speed_to_lead(get: impl Fn(&str) -> Option<String>) -> crate::speed_to_lead::SpeedToLeadOptions {
    crate::speed_to_lead::SpeedToLeadOptions::parse(get).unwrap_or_else(|e| {
        tracing::error!(detail = %e, "speed to lead is off: its settings are invalid");
        Default::default()
    })
}

/// The text options; with invalid settings, the defaults (no sender number: nothing is sent),
/// and said so.
fn sms(get: impl Fn(&str) -> Option<String>) -> crate::sms::SmsOptions {
    crate::sms::SmsOptions::parse(get).unwrap_or_else(|e| {
        tracing::error!(detail = %e, "texts are not sent: their settings are invalid");
        Default::default()
    })
}

/// The default `REQUEST_DEADLINE_MS`.
pub const DEFAULT_REQUEST_DEADLINE_MS: u64 = 10_000;

fn positive(value: Option<String>, default: u32) -> u32 {
    number(value, |n| n > 0, default)
}

/// A number setting: its value when it reads as a number that `valid` accepts, else `default`.
fn number<N: std::str::FromStr + Copy>(
    value: Option<String>,
    valid: impl Fn(N) -> bool,
    default: N,
) -> N {
    value
        .and_then(|v| v.parse().ok())
        .filter(|n| valid(*n))
        .unwrap_or(default)
}

/// `true`, `1` or `yes`, in any case.
pub fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes"
    )
}

impl Config {
    /// Builds the configuration from a variable lookup (the process environment in production,
    /// a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let environment = Environment::detect(&get);
        let get = |k: &str| non_empty(get(k));
        let millis = |key: &str, least: u64, default: u64| {
            Duration::from_millis(number(get(key), |ms| ms >= least, default))
        };
        Config {
            cloudtalk_api_base: get("CLOUDTALK_API_BASE")
                .unwrap_or_else(|| DEFAULT_CLOUDTALK_API_BASE.to_string()),
            ghl_api_base: get("GHL_API_BASE").unwrap_or_else(|| DEFAULT_GHL_API_BASE.to_string()),
            ghl_app_base: get("GHL_APP_BASE").unwrap_or_else(|| DEFAULT_GHL_APP_BASE.to_string()),
            ghl_location_id: get("GHL_LOCATION_ID"),
            ghl_app_id: get("GHL_APP_ID"),
            default_phone_region: get("DEFAULT_PHONE_REGION").map(|r| r.to_uppercase()),
            contact_map_table: get("CONTACT_MAP_TABLE"),
            state_table: get("STATE_TABLE"),
            missed_call_tag: get("MISSED_CALL_TAG")
                .unwrap_or_else(|| "CloudTalk missed call".to_string()),
            last_call_fields: LastCallFields {
                date: get("GHL_FIELD_LAST_CALL_DATE"),
                outcome: get("GHL_FIELD_LAST_CALL_OUTCOME"),
                duration: get("GHL_FIELD_LAST_CALL_DURATION"),
            },
            campaign_stage_map: get("CAMPAIGN_STAGE_MAP")
                .map(|text| CampaignStageMap::parse(&text))
                .unwrap_or_else(|| Ok(CampaignStageMap::default())),
            retry_queue_url: get("RETRY_QUEUE_URL"),
            dead_letter_queue_url: get("DEAD_LETTER_QUEUE_URL"),
            max_attempts: positive(
                get("RETRY_MAX_ATTEMPTS"),
                crate::retry_queue::DEFAULT_MAX_ATTEMPTS,
            ),
            generic_retention_days: number(get("GENERIC_RETENTION_DAYS"), |d| d > 0, 14),
            ghl_webhook_public_key: get("GHL_WEBHOOK_PUBLIC_KEY"),
            ghl_webhook_rsa_public_key: get("GHL_WEBHOOK_RSA_PUBLIC_KEY"),
            insecure_local_no_auth: get("BRIDGE_LOCAL_INSECURE_NO_AUTH")
                .is_some_and(|v| truthy(&v))
                && !environment.is_lambda(),
            secrets_ttl: get("BRIDGE_SECRETS_TTL_SECS")
                .and_then(|v| v.parse().ok())
                .map(Duration::from_secs)
                .unwrap_or(crate::secrets::DEFAULT_TTL),
            upstream_retry_budget: millis("UPSTREAM_RETRY_BUDGET_MS", 0, 6_000),
            upstream_timeout: millis("UPSTREAM_TIMEOUT_MS", 0, 8_000),
            request_deadline: millis("REQUEST_DEADLINE_MS", 2_000, DEFAULT_REQUEST_DEADLINE_MS),
            cloudtalk_rate_per_min: positive(get("CLOUDTALK_RATE_PER_MIN"), 50),
            ghl_rate_per_10s: positive(get("GHL_RATE_PER_10S"), 100),
            body_key_ttl_secs: number(
                get("BODY_KEY_TTL_SECS"),
                |secs| secs > 0,
                crate::idempotency::DEFAULT_BODY_KEY_TTL_SECS,
            )
            .min(crate::idempotency::RECORD_TTL_SECS),
            reconcile_overlap_secs: number(get("RECONCILE_OVERLAP_SECS"), |secs| secs >= 0, 900),
            reconcile_lookback_hours: number(get("RECONCILE_LOOKBACK_HOURS"), |h| h > 0, 24),
            cloudtalk_utc_offset: get("CLOUDTALK_UTC_OFFSET"),
            ghl_search_dates_as_epoch_ms: get("GHL_SEARCH_DATE_FORMAT")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("epoch_ms")),
            tenants_table: get("TENANTS_TABLE"),
            tenant_id: None,
            call_logging: match get("GHL_CALL_PROVIDER_ID") {
                Some(provider_id) => CallLogging::Conversations { provider_id },
                None => CallLogging::Notes,
            },
            ghl_app_client_id: get("GHL_APP_CLIENT_ID"),
            ghl_oauth_redirect_uri: get("GHL_OAUTH_REDIRECT_URI"),
            metrics_namespace: get("METRICS_NAMESPACE"),
            people: PeopleOptions::read(&get),
            cloudtalk_ai_api_base: get("CLOUDTALK_AI_API_BASE")
                .unwrap_or_else(|| DEFAULT_CLOUDTALK_AI_API_BASE.to_string()),
            cloudtalk_analytics_api_base: get("CLOUDTALK_ANALYTICS_API_BASE")
                .unwrap_or_else(|| DEFAULT_CLOUDTALK_ANALYTICS_API_BASE.to_string()),
            cloudtalk_platform_api_base: get("CLOUDTALK_PLATFORM_API_BASE")
                .unwrap_or_else(|| DEFAULT_CLOUDTALK_PLATFORM_API_BASE.to_string()),
            cue_cards: crate::cue_card::CueCardOptions::read(get("CUE_CARD_FIELDS").as_deref()),
            insights: InsightOptions::read(&get),
            sms: sms(get),
            speed_to_lead: speed_to_lead(get),
        }
    }

    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

/// Everything a container is configured with: the settings and the secrets.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Config,
    pub secrets: Secrets,
}

impl Settings {
    /// Both from one lookup (tests, local runs: the environment holds the secrets too).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            config: Config::from_lookup(&get),
            secrets: Secrets::from_lookup(&get),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn defaults() {
        let vars = HashMap::from([("DEFAULT_PHONE_REGION", "it"), ("GHL_APP_ID", " ")]);
        let cfg = Config::from_lookup(|k| vars.get(k).map(|v| v.to_string()));
        assert_eq!(cfg.cloudtalk_api_base, DEFAULT_CLOUDTALK_API_BASE);
        assert_eq!(cfg.ghl_api_base, DEFAULT_GHL_API_BASE);
        assert_eq!(cfg.default_phone_region.as_deref(), Some("IT"));
        assert_eq!(cfg.ghl_app_id, None);
        assert_eq!(cfg.secrets_ttl, Duration::from_secs(300));
        assert!(!cfg.insecure_local_no_auth);
    }

    #[test]
    fn the_local_switch_is_never_on_inside_lambda() {
        let on = |vars: &[(&str, &str)]| {
            Config::from_lookup(|k| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            })
            .insecure_local_no_auth
        };
        assert!(on(&[("BRIDGE_LOCAL_INSECURE_NO_AUTH", "true")]));
        assert!(on(&[
            ("BRIDGE_LOCAL_INSECURE_NO_AUTH", "1"),
            ("AWS_LAMBDA_RUNTIME_API", "http://127.0.0.1:9000/.rt")
        ]));
        // provided.al2023 sets no AWS_EXECUTION_ENV: the Runtime API gives Lambda away.
        assert!(!on(&[
            ("BRIDGE_LOCAL_INSECURE_NO_AUTH", "true"),
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
        ]));
        assert!(!on(&[
            ("BRIDGE_LOCAL_INSECURE_NO_AUTH", "true"),
            ("AWS_LAMBDA_FUNCTION_NAME", "bridge-ghl-new-contact")
        ]));
        assert!(!on(&[("BRIDGE_LOCAL_INSECURE_NO_AUTH", "false")]));
    }

    #[test]
    fn campaign_stage_map_rules() {
        let map = CampaignStageMap::parse(
            r#"{"completed":{"pipelineId":"p1","stageId":"s1"},"Spring Promo":{"Completed":{"pipeline_id":"p2","stage_id":"s2"}}}"#,
        )
        .unwrap();
        assert_eq!(
            map.target(Some("spring promo"), "COMPLETED")
                .unwrap()
                .stage_id,
            "s2"
        );
        assert_eq!(
            map.target(Some("other"), "completed").unwrap().stage_id,
            "s1"
        );
        assert_eq!(map.target(None, "completed").unwrap().pipeline_id, "p1");
        assert!(map.target(None, "paused").is_none());
        assert!(CampaignStageMap::parse("[]").is_err());
        assert!(CampaignStageMap::parse("{").is_err());
        assert!(CampaignStageMap::parse(r#"{"x":{"y":{"pipelineId":"p"}}}"#).is_err());
    }

    #[test]
    fn the_call_tag_prefix_never_depends_on_whitespace() {
        for raw in ["call", "call:", "call: ", " call : ", "call:  "] {
            assert_eq!(tag_prefix(raw), "call: ", "{raw:?}");
        }
        assert_eq!(tag_prefix("esito"), "esito: ");
        assert_eq!(tag_prefix("none"), "");
        // As a deployed stack passes the template's default, trimmed by the config.
        let vars = HashMap::from([("CALL_TAG_PREFIX", "call")]);
        let cfg = Config::from_lookup(|k| vars.get(k).map(|v| v.to_string()));
        assert_eq!(
            format!("{}Interested", cfg.insights.tag_prefix),
            "call: Interested"
        );
    }

    #[test]
    fn settings_keep_secrets_apart() {
        let vars = HashMap::from([("GHL_API_TOKEN", "pit-very-secret")]);
        let settings = Settings::from_lookup(|k| vars.get(k).map(|v| v.to_string()));
        assert_eq!(
            settings.secrets.ghl_api_token.as_deref(),
            Some("pit-very-secret")
        );
        assert!(!format!("{settings:?}").contains("pit-very-secret"));
    }
}
