//! Configuration, read once per container.
//!
//! Locally every setting comes from the environment of the shell. In AWS the secrets (API keys,
//! token, webhook secrets) come from one Secrets Manager secret whose ARN is in
//! `BRIDGE_SECRETS_ARN`: a JSON object whose keys are the variable names below. It is fetched
//! once at cold start; values found there override the environment.

use std::collections::HashMap;
use std::time::Duration;

pub const DEFAULT_CLOUDTALK_API_BASE: &str = "https://my.cloudtalk.io/api";
pub const DEFAULT_GHL_API_BASE: &str = "https://services.leadconnectorhq.com";
pub const DEFAULT_GHL_APP_BASE: &str = "https://app.gohighlevel.com";

/// Names of the settings that are secrets: never logged, never returned by the health routes.
pub const SECRET_SETTINGS: &[&str] = &[
    "CLOUDTALK_API_KEY_ID",
    "CLOUDTALK_API_KEY_SECRET",
    "GHL_API_TOKEN",
    "GHL_WEBHOOK_SECRET",
    "CLOUDTALK_WEBHOOK_SECRET",
];

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

#[derive(Clone, PartialEq)]
pub struct Config {
    pub cloudtalk_api_base: String,
    pub cloudtalk_api_key_id: Option<String>,
    pub cloudtalk_api_key_secret: Option<String>,
    pub ghl_api_base: String,
    pub ghl_app_base: String,
    pub ghl_api_token: Option<String>,
    pub ghl_location_id: Option<String>,
    /// Accepted shared secrets for GoHighLevel workflow webhooks; a comma separates the current
    /// and the next secret during a rotation.
    pub ghl_webhook_secrets: Vec<String>,
    pub cloudtalk_webhook_secrets: Vec<String>,
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
    /// configured accept unauthenticated requests. Never honoured in Lambda.
    pub insecure_local_no_auth: bool,
    /// Per-request timeout of upstream calls.
    pub upstream_timeout: Duration,
    /// Time one upstream call may spend retrying before the event is queued instead.
    pub upstream_retry_budget: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are shown only as present or absent.
        f.debug_struct("Config")
            .field("cloudtalk_api_base", &self.cloudtalk_api_base)
            .field("ghl_api_base", &self.ghl_api_base)
            .field("ghl_location_id", &self.ghl_location_id)
            .field("default_phone_region", &self.default_phone_region)
            .field("contact_map_table", &self.contact_map_table)
            .field("settings", &self.settings_present())
            .finish()
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn secret_list(v: Option<String>) -> Vec<String> {
    v.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Config {
    /// Builds the configuration from a variable lookup (the process environment in production,
    /// a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |k: &str| non_empty(get(k));
        Config {
            cloudtalk_api_base: get("CLOUDTALK_API_BASE")
                .unwrap_or_else(|| DEFAULT_CLOUDTALK_API_BASE.to_string()),
            cloudtalk_api_key_id: get("CLOUDTALK_API_KEY_ID"),
            cloudtalk_api_key_secret: get("CLOUDTALK_API_KEY_SECRET"),
            ghl_api_base: get("GHL_API_BASE").unwrap_or_else(|| DEFAULT_GHL_API_BASE.to_string()),
            ghl_app_base: get("GHL_APP_BASE").unwrap_or_else(|| DEFAULT_GHL_APP_BASE.to_string()),
            ghl_api_token: get("GHL_API_TOKEN"),
            ghl_location_id: get("GHL_LOCATION_ID"),
            ghl_webhook_secrets: secret_list(get("GHL_WEBHOOK_SECRET")),
            cloudtalk_webhook_secrets: secret_list(get("CLOUDTALK_WEBHOOK_SECRET")),
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
            max_attempts: get("RETRY_MAX_ATTEMPTS")
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or(crate::retry_queue::DEFAULT_MAX_ATTEMPTS),
            generic_retention_days: get("GENERIC_RETENTION_DAYS")
                .and_then(|v| v.parse().ok())
                .filter(|d| *d > 0)
                .unwrap_or(14),
            ghl_webhook_public_key: get("GHL_WEBHOOK_PUBLIC_KEY"),
            ghl_webhook_rsa_public_key: get("GHL_WEBHOOK_RSA_PUBLIC_KEY"),
            insecure_local_no_auth: get("BRIDGE_LOCAL_INSECURE_NO_AUTH")
                .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
                && !get("AWS_EXECUTION_ENV").is_some_and(|e| e.starts_with("AWS_Lambda")),
            upstream_retry_budget: Duration::from_millis(
                get("UPSTREAM_RETRY_BUDGET_MS")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(6_000),
            ),
            upstream_timeout: Duration::from_millis(
                get("UPSTREAM_TIMEOUT_MS")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(8_000),
            ),
        }
    }

    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// The environment, completed by the Secrets Manager secret named by `BRIDGE_SECRETS_ARN`.
    /// A variable set in the environment wins over the secret, so a local shell always decides.
    /// A secret that cannot be read is logged and skipped: the routes then refuse requests as
    /// unconfigured and the health route shows which settings are missing.
    pub async fn load(aws: &aws_config::SdkConfig) -> Self {
        let Some(arn) = non_empty(std::env::var("BRIDGE_SECRETS_ARN").ok()) else {
            return Self::from_env();
        };
        let values = match fetch_secret(aws, &arn).await {
            Ok(values) => values,
            Err(message) => {
                tracing::error!(error = "secrets_unavailable", message = %message, "configuration");
                HashMap::new()
            }
        };
        Self::from_lookup(|k| non_empty(std::env::var(k).ok()).or_else(|| values.get(k).cloned()))
    }

    pub fn cloudtalk_configured(&self) -> bool {
        self.cloudtalk_api_key_id.is_some() && self.cloudtalk_api_key_secret.is_some()
    }

    pub fn ghl_configured(&self) -> bool {
        self.ghl_api_token.is_some() && self.ghl_location_id.is_some()
    }

    /// Which settings are present, by name; values are never included.
    pub fn settings_present(&self) -> Vec<(&'static str, bool)> {
        vec![
            ("CLOUDTALK_API_KEY_ID", self.cloudtalk_api_key_id.is_some()),
            (
                "CLOUDTALK_API_KEY_SECRET",
                self.cloudtalk_api_key_secret.is_some(),
            ),
            ("GHL_API_TOKEN", self.ghl_api_token.is_some()),
            ("GHL_LOCATION_ID", self.ghl_location_id.is_some()),
            ("GHL_WEBHOOK_SECRET", !self.ghl_webhook_secrets.is_empty()),
            (
                "CLOUDTALK_WEBHOOK_SECRET",
                !self.cloudtalk_webhook_secrets.is_empty(),
            ),
            ("DEFAULT_PHONE_REGION", self.default_phone_region.is_some()),
            ("CONTACT_MAP_TABLE", self.contact_map_table.is_some()),
            ("STATE_TABLE", self.state_table.is_some()),
            ("RETRY_QUEUE_URL", self.retry_queue_url.is_some()),
            (
                "DEAD_LETTER_QUEUE_URL",
                self.dead_letter_queue_url.is_some(),
            ),
            (
                "CAMPAIGN_STAGE_MAP",
                matches!(&self.campaign_stage_map, Ok(m) if !m.is_empty()),
            ),
        ]
    }
}

/// Reads a JSON object of strings from Secrets Manager.
async fn fetch_secret(
    aws: &aws_config::SdkConfig,
    arn: &str,
) -> Result<HashMap<String, String>, String> {
    let client = aws_sdk_secretsmanager::Client::new(aws);
    let secret = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            format!(
                "reading BRIDGE_SECRETS_ARN: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            )
        })?;
    let text = secret.secret_string().unwrap_or("{}");
    let values: HashMap<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|_| "BRIDGE_SECRETS_ARN does not hold a JSON object".to_string())?;
    Ok(values
        .into_iter()
        .filter_map(|(k, v)| Some((k, non_empty(v.as_str().map(str::to_string))?)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_rotation_lists() {
        let vars = HashMap::from([
            ("GHL_WEBHOOK_SECRET", "current, next"),
            ("DEFAULT_PHONE_REGION", "it"),
            ("CLOUDTALK_API_KEY_ID", "  "),
        ]);
        let cfg = Config::from_lookup(|k| vars.get(k).map(|v| v.to_string()));
        assert_eq!(cfg.cloudtalk_api_base, DEFAULT_CLOUDTALK_API_BASE);
        assert_eq!(cfg.ghl_api_base, DEFAULT_GHL_API_BASE);
        assert_eq!(cfg.ghl_webhook_secrets, vec!["current", "next"]);
        assert!(cfg.cloudtalk_webhook_secrets.is_empty());
        assert_eq!(cfg.default_phone_region.as_deref(), Some("IT"));
        assert_eq!(cfg.cloudtalk_api_key_id, None);
        assert!(!cfg.cloudtalk_configured());
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
    fn debug_output_hides_secrets() {
        let vars = HashMap::from([("GHL_API_TOKEN", "pit-very-secret")]);
        let cfg = Config::from_lookup(|k| vars.get(k).map(|v| v.to_string()));
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("pit-very-secret"));
        assert!(shown.contains("GHL_API_TOKEN"));
    }
}
