//! Everything a handler needs, built once per container.

use std::sync::Arc;

use crate::clients::cloudtalk::{CloudTalkApi, CloudTalkClient};
use crate::clients::ghl::{GhlApi, GhlClient};
use crate::clients::{build_http_client, CallCounter};
use crate::config::Config;
use crate::contact_map::{ContactMap, DynamoContactMap, MemoryContactMap};
use crate::state::{DynamoStateStore, MemoryStateStore, StateStore};

pub struct Deps {
    pub config: Config,
    pub cloudtalk: Arc<dyn CloudTalkApi>,
    pub ghl: Arc<dyn GhlApi>,
    pub contacts: Arc<dyn ContactMap>,
    pub state: Arc<dyn StateStore>,
    /// Counts upstream requests; each event's log line reports its own delta.
    pub calls: CallCounter,
}

impl Deps {
    /// Wires the real HTTP clients around a configuration and a contact map.
    pub fn build(
        config: Config,
        contacts: Arc<dyn ContactMap>,
        state: Arc<dyn StateStore>,
    ) -> Result<Self, String> {
        let calls = CallCounter::default();
        let http = build_http_client(config.upstream_timeout)
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        let cloudtalk = CloudTalkClient::new(
            http.clone(),
            &config.cloudtalk_api_base,
            config.cloudtalk_api_key_id.as_deref().unwrap_or_default(),
            config
                .cloudtalk_api_key_secret
                .as_deref()
                .unwrap_or_default(),
            calls.clone(),
        );
        let ghl = GhlClient::new(
            http,
            &config.ghl_api_base,
            config.ghl_api_token.as_deref().unwrap_or_default(),
            calls.clone(),
        );
        Ok(Self {
            config,
            cloudtalk: Arc::new(cloudtalk),
            ghl: Arc::new(ghl),
            contacts,
            state,
            calls,
        })
    }

    /// The contact map the configuration asks for: DynamoDB when `CONTACT_MAP_TABLE` is set.
    pub fn contact_map(
        config: &Config,
        aws: Option<&aws_config::SdkConfig>,
    ) -> Arc<dyn ContactMap> {
        match (&config.contact_map_table, aws) {
            (Some(table), Some(aws)) => Arc::new(DynamoContactMap::new(
                aws_sdk_dynamodb::Client::new(aws),
                table.clone(),
            )),
            _ => {
                tracing::warn!(
                    "CONTACT_MAP_TABLE is not set: contact links are kept in this process's memory only"
                );
                Arc::new(MemoryContactMap::new())
            }
        }
    }

    /// The state store the configuration asks for: DynamoDB when `STATE_TABLE` is set.
    pub fn state_store(
        config: &Config,
        aws: Option<&aws_config::SdkConfig>,
    ) -> Arc<dyn StateStore> {
        match (&config.state_table, aws) {
            (Some(table), Some(aws)) => Arc::new(DynamoStateStore::new(
                aws_sdk_dynamodb::Client::new(aws),
                table.clone(),
            )),
            _ => Arc::new(MemoryStateStore::new()),
        }
    }

    /// Cold-start wiring used by every Lambda's `main`: telemetry, settings, clients. The AWS
    /// configuration is loaded only when something needs it (a table or the secrets secret),
    /// so a local run without AWS starts instantly and never probes for credentials.
    pub async fn from_env() -> Result<Self, String> {
        crate::telemetry::init();
        let env_config = Config::from_env();
        let secrets_arn = std::env::var("BRIDGE_SECRETS_ARN").unwrap_or_default();
        if env_config.contact_map_table.is_none()
            && env_config.state_table.is_none()
            && secrets_arn.trim().is_empty()
        {
            let contacts = Self::contact_map(&env_config, None);
            let state = Self::state_store(&env_config, None);
            return Self::build(env_config, contacts, state);
        }
        let aws = aws_config::load_from_env().await;
        let config = Config::load(&aws).await;
        let contacts = Self::contact_map(&config, Some(&aws));
        let state = Self::state_store(&config, Some(&aws));
        Self::build(config, contacts, state)
    }

    /// The GHL location this deployment serves: the configured one, else the event's.
    pub fn location_for(&self, event_location: Option<&str>) -> String {
        match (&self.config.ghl_location_id, event_location) {
            (Some(configured), Some(sent)) if configured != sent => {
                tracing::warn!(configured = %configured, sent = %sent, "event from another GHL location; using the configured one");
                configured.clone()
            }
            (Some(configured), _) => configured.clone(),
            (None, Some(sent)) => sent.to_string(),
            (None, None) => "default".to_string(),
        }
    }
}
