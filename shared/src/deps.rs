//! Everything a handler needs, built once per container.

use std::sync::Arc;

use crate::clients::cloudtalk::{CloudTalkApi, CloudTalkClient};
use crate::clients::ghl::{GhlApi, GhlClient};
use crate::clients::{build_http_client, CallCounter};
use crate::config::Config;
use crate::contact_map::{ContactMap, DynamoContactMap};
use crate::idempotency::{DynamoIdempotencyStore, IdempotencyStore};
use crate::local_store::LocalStore;
use crate::retry_queue::{NoRetryQueue, RetryQueue, SqsRetryQueue};
use crate::signature::GhlSignatureVerifier;
use crate::state::{DynamoStateStore, StateStore};

/// Where the bridge keeps its state and queues its retries.
pub struct Backends {
    pub contacts: Arc<dyn ContactMap>,
    pub state: Arc<dyn StateStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub retry_queue: Arc<dyn RetryQueue>,
}

impl Backends {
    /// DynamoDB tables and SQS queues when the configuration names them; otherwise the local
    /// store file (shared by every local process) and no retry queue.
    pub fn from_config(config: &Config, aws: Option<&aws_config::SdkConfig>) -> Self {
        let local = || {
            let store = LocalStore::from_env();
            tracing::info!(path = %store.path().display(), "no table configured: using the local store file");
            Arc::new(store)
        };
        let dynamo = aws.map(aws_sdk_dynamodb::Client::new);
        let contacts: Arc<dyn ContactMap> = match (&config.contact_map_table, &dynamo) {
            (Some(table), Some(client)) => {
                Arc::new(DynamoContactMap::new(client.clone(), table.clone()))
            }
            _ => local(),
        };
        let (state, idempotency): (Arc<dyn StateStore>, Arc<dyn IdempotencyStore>) =
            match (&config.state_table, &dynamo) {
                (Some(table), Some(client)) => (
                    Arc::new(DynamoStateStore::new(client.clone(), table.clone())),
                    Arc::new(DynamoIdempotencyStore::new(client.clone(), table.clone())),
                ),
                _ => {
                    let store = local();
                    (store.clone(), store)
                }
            };
        let retry_queue: Arc<dyn RetryQueue> = match (&config.retry_queue_url, aws) {
            (Some(url), Some(aws)) => Arc::new(SqsRetryQueue::new(
                aws_sdk_sqs::Client::new(aws),
                url.clone(),
                config.dead_letter_queue_url.clone(),
            )),
            _ => Arc::new(NoRetryQueue),
        };
        Self {
            contacts,
            state,
            idempotency,
            retry_queue,
        }
    }

    /// Everything in process memory (tests).
    pub fn in_memory() -> Self {
        Self {
            contacts: Arc::new(crate::contact_map::MemoryContactMap::new()),
            state: Arc::new(crate::state::MemoryStateStore::new()),
            idempotency: Arc::new(crate::idempotency::MemoryIdempotencyStore::new()),
            retry_queue: Arc::new(crate::retry_queue::MemoryRetryQueue::new()),
        }
    }
}

pub struct Deps {
    pub config: Config,
    pub cloudtalk: Arc<dyn CloudTalkApi>,
    pub ghl: Arc<dyn GhlApi>,
    pub contacts: Arc<dyn ContactMap>,
    pub state: Arc<dyn StateStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub retry_queue: Arc<dyn RetryQueue>,
    /// Counts upstream requests; each event's log line reports its own delta.
    pub calls: CallCounter,
    /// GHL Marketplace webhook signature keys, parsed once.
    pub ghl_signatures: GhlSignatureVerifier,
}

impl Deps {
    /// Wires the real HTTP clients around a configuration and a contact map.
    pub fn build(config: Config, backends: Backends) -> Result<Self, String> {
        let Backends {
            contacts,
            state,
            idempotency,
            retry_queue,
        } = backends;
        let ghl_signatures = GhlSignatureVerifier::new(
            config.ghl_webhook_public_key.as_deref(),
            config.ghl_webhook_rsa_public_key.as_deref(),
        )?;
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
        )
        .with_retry_budget(config.upstream_retry_budget);
        let ghl = GhlClient::new(
            http,
            &config.ghl_api_base,
            config.ghl_api_token.as_deref().unwrap_or_default(),
            calls.clone(),
        )
        .with_retry_budget(config.upstream_retry_budget);
        Ok(Self {
            config,
            cloudtalk: Arc::new(cloudtalk),
            ghl: Arc::new(ghl),
            contacts,
            state,
            idempotency,
            retry_queue,
            calls,
            ghl_signatures,
        })
    }

    /// Cold-start wiring used by every Lambda's `main`: telemetry, settings, clients. The AWS
    /// configuration is loaded only when something needs it (a table, a queue or the secrets
    /// secret), so a local run without AWS starts instantly and never probes for credentials.
    pub async fn from_env() -> Result<Self, String> {
        crate::telemetry::init();
        let env_config = Config::from_env();
        let secrets_arn = std::env::var("BRIDGE_SECRETS_ARN").unwrap_or_default();
        let needs_aws = env_config.contact_map_table.is_some()
            || env_config.state_table.is_some()
            || env_config.retry_queue_url.is_some()
            || !secrets_arn.trim().is_empty();
        if !needs_aws {
            let backends = Backends::from_config(&env_config, None);
            return Self::build(env_config, backends);
        }
        let aws = aws_config::load_from_env().await;
        let config = Config::load(&aws).await;
        let backends = Backends::from_config(&config, Some(&aws));
        Self::build(config, backends)
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
