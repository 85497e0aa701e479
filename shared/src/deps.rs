//! Everything a handler needs, built once per container.

use std::sync::Arc;
use std::time::Duration;

use crate::clients::cloudtalk::{CloudTalkApi, CloudTalkClient};
use crate::clients::cloudtalk_ai::{CloudTalkAiApi, CloudTalkAiClient};
use crate::clients::cloudtalk_calls::{CallRecordsApi, CloudTalkCallsClient};
use crate::clients::cloudtalk_platform::{CloudTalkPlatformClient, CueCardsApi};
use crate::clients::ghl::{GhlApi, GhlClient};
use crate::clients::rest::AccountMeter;
use crate::clients::rest::{BucketOf, InProcess, Throttle};
use crate::clients::{build_http_client, CallCounter};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Settings};
use crate::contact_map::{ContactMap, DynamoContactMap, NotConfigured};
use crate::environment::Environment;
use crate::idempotency::{DynamoIdempotencyStore, IdempotencyStore};
use crate::local_store::LocalStore;
use crate::rate_limit::{Bucket, DynamoRateLimiter, RateLimiter};
use crate::retry_queue::{NoRetryQueue, RetryQueue, SqsRetryQueue};
use crate::secrets::{SecretStore, Secrets, SecretsManagerSource};
use crate::signature::GhlSignatureVerifier;
use crate::startup::{InitError, Needs};
use crate::state::{DynamoStateStore, StateStore};

/// Where the bridge keeps its state and queues its retries.
pub struct Backends {
    pub contacts: Arc<dyn ContactMap>,
    pub state: Arc<dyn StateStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub retry_queue: Arc<dyn RetryQueue>,
    /// The shared upstream budgets.
    pub limiter: Arc<dyn RateLimiter>,
    /// The tenant registry of an agency deployment (`TENANTS_TABLE`; locally the store file).
    pub tenants: Option<Arc<dyn crate::tenants::TenantStore>>,
}

impl Backends {
    /// DynamoDB tables and SQS queues when the configuration names them; otherwise, outside
    /// Lambda, the local store file (shared by every local process) and no retry queue. Inside
    /// Lambda a function without the contact map table (one that does not use it) gets a map
    /// that refuses every call; [`crate::startup::check_lambda`] has required the rest.
    pub fn from_config(
        config: &Config,
        aws: Option<&aws_types::SdkConfig>,
        environment: Environment,
    ) -> Self {
        let local = || {
            let store = LocalStore::from_env();
            tracing::info!(path = %store.path().display(), "no table configured: using the local store file");
            Arc::new(store)
        };
        // Built at their first use (see [`crate::aws::Lazy`]), so that a cold start builds none.
        let dynamo = aws.map(|aws| {
            let aws = aws.clone();
            crate::aws::Lazy::new(move || aws_sdk_dynamodb::Client::new(&aws))
        });
        let contacts: Arc<dyn ContactMap> = match (&config.contact_map_table, &dynamo) {
            (Some(table), Some(client)) => {
                Arc::new(DynamoContactMap::new(client.clone(), table.clone()))
            }
            _ if environment.is_lambda() => Arc::new(NotConfigured("CONTACT_MAP_TABLE")),
            _ => local(),
        };
        type StateStores = (
            Arc<dyn StateStore>,
            Arc<dyn IdempotencyStore>,
            Arc<dyn RateLimiter>,
        );
        let (state, idempotency, limiter): StateStores = match (&config.state_table, &dynamo) {
            (Some(table), Some(client)) => (
                Arc::new(DynamoStateStore::new(client.clone(), table.clone())),
                Arc::new(DynamoIdempotencyStore::new(client.clone(), table.clone())),
                Arc::new(DynamoRateLimiter::new(client.clone(), table.clone())),
            ),
            _ => {
                let store = local();
                (store.clone(), store.clone(), store)
            }
        };
        let tenants: Option<Arc<dyn crate::tenants::TenantStore>> =
            match (&config.tenants_table, &dynamo) {
                (Some(table), Some(client)) => Some(Arc::new(
                    crate::tenants::DynamoTenantStore::new(client.clone(), table.clone()),
                )),
                _ if environment.is_lambda() => None,
                _ => Some(local()),
            };
        let retry_queue: Arc<dyn RetryQueue> = match (&config.retry_queue_url, aws) {
            // A message never exceeds SQS's classic 256 KiB: larger bodies are kept in the
            // state table and queued by reference.
            (Some(url), Some(aws)) => Arc::new(crate::retry_queue::Offloading {
                inner: Arc::new(SqsRetryQueue::new(
                    {
                        let aws = aws.clone();
                        crate::aws::Lazy::new(move || aws_sdk_sqs::Client::new(&aws))
                    },
                    url.clone(),
                    config.dead_letter_queue_url.clone(),
                )),
                state: state.clone(),
            }),
            _ => Arc::new(NoRetryQueue),
        };
        Self {
            contacts,
            state,
            idempotency,
            retry_queue,
            limiter,
            tenants,
        }
    }

    /// Everything in process memory (tests).
    pub fn in_memory() -> Self {
        Self {
            contacts: Arc::new(crate::contact_map::MemoryContactMap::new()),
            state: Arc::new(crate::state::MemoryStateStore::new()),
            idempotency: Arc::new(crate::idempotency::MemoryIdempotencyStore::new()),
            retry_queue: Arc::new(crate::retry_queue::MemoryRetryQueue::new()),
            limiter: Arc::new(crate::rate_limit::MemoryRateLimiter::new()),
            tenants: None,
        }
    }
}

/// The key that seals tenant secrets in the local store file.
const LOCAL_SEAL_KEY: &str = "local-development-only";

impl Wiring {
    /// The two upstream clients for `config` and `secrets`, on the shared budget.
    fn clients(
        &self,
        config: &Config,
        secrets: &Arc<SecretStore>,
        clock: &Arc<dyn Clock>,
        calls: &CallCounter,
    ) -> Clients {
        let throttle = |bucket: BucketOf| Throttle {
            limiter: self.limiter.clone(),
            clock: clock.clone(),
            bucket,
        };
        // Every CloudTalk API of the account reads and spends the same limit.
        let meter = self.meter(&cloudtalk_account(&secrets.current()));
        let mut cloudtalk = CloudTalkClient::new(
            self.http.clone(),
            &config.cloudtalk_api_base,
            secrets.clone(),
            calls.clone(),
        )
        .with_retry_budget(config.upstream_retry_budget)
        .with_timeout(config.upstream_timeout)
        .with_throttle(throttle(cloudtalk_bucket(config)))
        .with_account_meter(meter.clone());
        let mut ghl = GhlClient::new(
            self.http.clone(),
            &config.ghl_api_base,
            secrets.clone(),
            calls.clone(),
        )
        .with_retry_budget(config.upstream_retry_budget)
        .with_timeout(config.upstream_timeout)
        .with_throttle(throttle(ghl_bucket(config)));
        // The AI API is the same CloudTalk account: its budget too.
        let mut ai = CloudTalkAiClient::new(
            self.http.clone(),
            &config.cloudtalk_ai_api_base,
            secrets.clone(),
            calls.clone(),
        )
        .with_retry_budget(config.upstream_retry_budget)
        .with_timeout(config.upstream_timeout)
        .with_throttle(throttle(cloudtalk_bucket(config)))
        .with_account_meter(meter.clone());
        let mut records = CloudTalkCallsClient::new(
            self.http.clone(),
            &config.cloudtalk_analytics_api_base,
            secrets.clone(),
            calls.clone(),
        )
        .with_retry_budget(config.upstream_retry_budget)
        .with_timeout(config.upstream_timeout)
        .with_throttle(throttle(cloudtalk_bucket(config)))
        .with_account_meter(meter.clone());
        let mut platform = self.platform(config, secrets, calls, throttle, meter);
        if let Some(upstream) = &self.upstream {
            cloudtalk = cloudtalk.with_in_process(upstream.clone());
            ghl = ghl.with_in_process(upstream.clone());
            ai = ai.with_in_process(upstream.clone());
            records = records.with_in_process(upstream.clone());
            platform = platform.with_in_process(upstream.clone());
        }
        Clients {
            cloudtalk: Arc::new(cloudtalk),
            ghl: Arc::new(ghl),
            ai: Arc::new(ai),
            records: Arc::new(records),
            platform: Arc::new(platform),
        }
    }
}

impl Wiring {
    /// The platform API's client (cue cards): the account's budget and meter too (CloudTalk
    /// documents no limit of its own for it), a card waiting for no turn (it books none).
    fn platform(
        &self,
        config: &Config,
        secrets: &Arc<SecretStore>,
        calls: &CallCounter,
        throttle: impl Fn(BucketOf) -> Throttle,
        meter: Arc<AccountMeter>,
    ) -> CloudTalkPlatformClient {
        let bucket = cloudtalk_bucket(config);
        let unbooked: BucketOf = Arc::new(move |s: &Secrets| bucket(s).unbooked());
        CloudTalkPlatformClient::new(
            self.http.clone(),
            &config.cloudtalk_platform_api_base,
            secrets.clone(),
            calls.clone(),
        )
        .with_retry_budget(Duration::ZERO)
        .with_timeout(config.upstream_timeout)
        .with_throttle(throttle(unbooked))
        .with_account_meter(meter)
    }

    /// The readings of CloudTalk account `account` in this container.
    fn meter(&self, account: &str) -> Arc<AccountMeter> {
        match self.meters.lock() {
            Ok(mut meters) => meters.entry(account.to_string()).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }
}

/// The upstream clients of one tenant.
struct Clients {
    cloudtalk: Arc<dyn CloudTalkApi>,
    ghl: Arc<dyn GhlApi>,
    ai: Arc<dyn CloudTalkAiApi>,
    records: Arc<dyn CallRecordsApi>,
    platform: Arc<dyn CueCardsApi>,
}

/// A CloudTalk company account, named by a hash of its API key id (never the id itself).
pub fn cloudtalk_account(secrets: &Secrets) -> String {
    let id = secrets.cloudtalk_api_key_id.as_deref().unwrap_or_default();
    let digest = crate::digest::sha256(id.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// CloudTalk's budget is per company account: one bucket per API key.
fn cloudtalk_bucket(config: &Config) -> BucketOf {
    let limit = config.cloudtalk_rate_per_min;
    Arc::new(move |secrets: &Secrets| {
        let account = cloudtalk_account(secrets);
        Bucket::new(
            format!("cloudtalk#{account}"),
            limit,
            Duration::from_secs(60),
        )
    })
}

/// GoHighLevel's budget is per location.
fn ghl_bucket(config: &Config) -> BucketOf {
    let limit = config.ghl_rate_per_10s;
    let key = format!(
        "ghl#{}",
        config.ghl_location_id.as_deref().unwrap_or("default")
    );
    Arc::new(move |_: &Secrets| Bucket::new(key.clone(), limit, Duration::from_secs(10)))
}

pub struct Deps {
    pub config: Config,
    /// The secrets in use; re-read from the secrets secret when their lifetime has passed.
    pub secrets: Arc<SecretStore>,
    pub clock: Arc<dyn Clock>,
    pub cloudtalk: Arc<dyn CloudTalkApi>,
    /// CloudTalk's Conversation Intelligence (summaries, transcripts).
    pub cloudtalk_ai: Arc<dyn CloudTalkAiApi>,
    /// CloudTalk's record of each call (its analytics API).
    pub cloudtalk_calls: Arc<dyn CallRecordsApi>,
    /// CloudTalk's platform API: cue cards.
    pub cloudtalk_platform: Arc<dyn CueCardsApi>,
    pub ghl: Arc<dyn GhlApi>,
    pub contacts: Arc<dyn ContactMap>,
    pub state: Arc<dyn StateStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub retry_queue: Arc<dyn RetryQueue>,
    /// Counts upstream requests; each event's log line reports its own delta.
    pub calls: CallCounter,
    /// GHL Marketplace webhook signature keys, parsed once.
    pub ghl_signatures: GhlSignatureVerifier,
    /// GHL pipeline and stage names by id, cached per container.
    pub stage_names: Arc<crate::clients::stage_names::StageNames>,
    /// The agent directories (CloudTalk agents as GHL users), cached per container.
    pub people: Arc<crate::people::Directories>,
    /// Each CloudTalk account's number index, for imports (see [`crate::import::index`]).
    pub number_indexes: crate::number_index::Indexes,
    /// What cue cards remember between calls, per container.
    pub card_cache: Arc<crate::cue_card::Cache>,
    /// The tenant registry of an agency deployment.
    pub tenants: Option<Arc<crate::tenants::Tenants>>,
    /// What a tenant's clients are built from.
    wiring: Wiring,
}

/// What the wiring needs besides the secrets.
struct Prepared {
    backends: Backends,
    http: reqwest::Client,
    ghl_signatures: GhlSignatureVerifier,
}

impl Prepared {
    fn new(config: &Config, backends: Backends) -> Result<Self, InitError> {
        let ghl_signatures = GhlSignatureVerifier::new(
            config.ghl_webhook_public_key.as_deref(),
            config.ghl_webhook_rsa_public_key.as_deref(),
        )
        .map_err(InitError::Invalid)?;
        let http = build_http_client(config.upstream_timeout)
            .map_err(|e| InitError::Invalid(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            backends,
            http,
            ghl_signatures,
        })
    }
}

/// What the upstream clients are built from, kept to build a tenant's.
#[derive(Clone)]
struct Wiring {
    http: reqwest::Client,
    limiter: Arc<dyn RateLimiter>,
    upstream: Option<InProcess>,
    /// Each CloudTalk account's rate-limit readings, shared by every client of the account in
    /// this container (a tenant's clients are built per event).
    meters: Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<AccountMeter>>>>,
}

impl Deps {
    /// Wires the real HTTP clients around settings whose secrets never change (tests, tools).
    pub fn build(settings: Settings, backends: Backends) -> Result<Self, InitError> {
        let Settings { config, secrets } = settings;
        Self::new(
            config,
            Arc::new(SecretStore::fixed(secrets)),
            backends,
            Arc::new(SystemClock),
        )
    }

    /// The same, reading time from `clock` (tests, simulations).
    pub fn build_with_clock(
        settings: Settings,
        backends: Backends,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, InitError> {
        let Settings { config, secrets } = settings;
        Self::new(
            config,
            Arc::new(SecretStore::fixed(secrets)),
            backends,
            clock,
        )
    }

    /// Wires the real HTTP clients around a configuration, a secret store, the backends and a
    /// clock.
    pub fn new(
        config: Config,
        secrets: Arc<SecretStore>,
        backends: Backends,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, InitError> {
        let prepared = Prepared::new(&config, backends)?;
        Self::assemble(config, secrets, prepared, clock, None)
    }

    /// The real clients, speaking to upstreams served in this process (`upstream` answers both
    /// APIs, told apart by their base URLs): simulations in virtual time.
    pub fn simulated(
        settings: Settings,
        backends: Backends,
        clock: Arc<dyn Clock>,
        upstream: InProcess,
    ) -> Result<Self, InitError> {
        let Settings { config, secrets } = settings;
        let secrets = Arc::new(SecretStore::fixed(secrets));
        let prepared = Prepared::new(&config, backends)?;
        Self::assemble(config, secrets, prepared, clock, Some(upstream))
    }

    fn assemble(
        config: Config,
        secrets: Arc<SecretStore>,
        prepared: Prepared,
        clock: Arc<dyn Clock>,
        upstream: Option<InProcess>,
    ) -> Result<Self, InitError> {
        let Prepared {
            backends,
            http,
            ghl_signatures,
        } = prepared;
        let Backends {
            contacts,
            state,
            idempotency,
            retry_queue,
            limiter,
            tenants,
        } = backends;
        let calls = CallCounter::default();
        let wiring = Wiring {
            http,
            limiter,
            upstream,
            meters: Arc::default(),
        };
        let clients = wiring.clients(&config, &secrets, &clock, &calls);
        let tenants = match (tenants, secrets.current().tenant_seal_key.clone()) {
            (Some(store), Some(key)) => Some(Arc::new(
                crate::tenants::Tenants::new(store, &key).with_clock(clock.clone()),
            )),
            (Some(store), None) if !crate::environment::Environment::current().is_lambda() => {
                // Locally the store file is sealed with a fixed development key.
                Some(Arc::new(
                    crate::tenants::Tenants::new(store, LOCAL_SEAL_KEY).with_clock(clock.clone()),
                ))
            }
            (Some(_), None) => {
                // A single-location deployment: the stack names a tenants table, but without
                // the seal key (agency mode's setup step) no tenant can be read.
                tracing::info!(
                    "TENANT_SEAL_KEY is not set: serving the deployment's own location only"
                );
                None
            }
            (None, _) => None,
        };
        Ok(Self {
            config,
            secrets,
            clock,
            cloudtalk: clients.cloudtalk,
            cloudtalk_ai: clients.ai,
            cloudtalk_calls: clients.records,
            cloudtalk_platform: clients.platform,
            ghl: clients.ghl,
            contacts,
            state,
            idempotency,
            retry_queue,
            calls,
            ghl_signatures,
            stage_names: Default::default(),
            people: Default::default(),
            number_indexes: Default::default(),
            card_cache: Default::default(),
            tenants,
            wiring,
        })
    }

    /// The same container serving `tenant`: its configuration and options, its CloudTalk
    /// account, `ghl_token` for GHL, and this container's stores, budgets and counters.
    pub fn for_tenant(&self, tenant: &crate::tenants::Tenant, ghl_token: Option<String>) -> Deps {
        let config = tenant.config(&self.config);
        let secrets = Arc::new(SecretStore::fixed(tenant.client_secrets(ghl_token)));
        let clients = self
            .wiring
            .clients(&config, &secrets, &self.clock, &self.calls);
        Deps {
            config,
            secrets,
            clock: self.clock.clone(),
            cloudtalk: clients.cloudtalk,
            cloudtalk_ai: clients.ai,
            cloudtalk_calls: clients.records,
            cloudtalk_platform: clients.platform,
            ghl: clients.ghl,
            contacts: self.contacts.clone(),
            state: self.state.clone(),
            idempotency: self.idempotency.clone(),
            retry_queue: self.retry_queue.clone(),
            calls: self.calls.clone(),
            ghl_signatures: self.ghl_signatures.clone(),
            stage_names: self.stage_names.clone(),
            people: self.people.clone(),
            number_indexes: self.number_indexes.clone(),
            card_cache: self.card_cache.clone(),
            tenants: self.tenants.clone(),
            wiring: self.wiring.clone(),
        }
    }

    /// Cold-start wiring used by every Lambda's `main`: telemetry, settings, secrets, clients.
    /// A function that cannot serve safely refuses to start (see [`crate::startup`]): the error
    /// is reported to the Lambda Runtime API and returned.
    pub async fn start(function: &str, needs: Needs) -> Result<Self, InitError> {
        crate::telemetry::init();
        match Self::from_env(needs).await {
            Ok(deps) => Ok(deps),
            Err(error) => {
                crate::startup::report(function, &error).await;
                Err(error)
            }
        }
    }

    /// The AWS configuration is loaded only when something needs it (a table, a queue or the
    /// secrets secret), so a local run without AWS starts instantly and never probes for
    /// credentials.
    async fn from_env(needs: Needs) -> Result<Self, InitError> {
        let environment = Environment::current();
        let env = |k: &str| std::env::var(k).ok();
        crate::startup::check_lambda(environment, needs, env)?;
        let config = Config::from_env();
        let secrets_arn = env("BRIDGE_SECRETS_ARN")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        let needs_aws = config.contact_map_table.is_some()
            || config.state_table.is_some()
            || config.retry_queue_url.is_some()
            || secrets_arn.is_some();
        let aws = needs_aws.then(|| crate::aws::sdk_config(env));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let read_secret = async {
            match (&secrets_arn, &aws) {
                (Some(arn), Some(aws)) => SecretStore::load(
                    Arc::new(SecretsManagerSource::new(aws, arn)),
                    Arc::new(|k: &str| std::env::var(k).ok()),
                    config.secrets_ttl,
                    clock.clone(),
                )
                .await
                .map_err(InitError::SecretUnreadable),
                _ => Ok(SecretStore::fixed(Secrets::from_lookup(env))),
            }
        };
        // The secret read waits on the network (polled first, it sends its request): the rest
        // of the wiring is built meanwhile.
        let prepare = async {
            Prepared::new(
                &config,
                Backends::from_config(&config, aws.as_ref(), environment),
            )
        };
        let (secrets, prepared) = tokio::join!(read_secret, prepare);
        let (secrets, prepared) = (secrets?, prepared?);
        Self::assemble(config, Arc::new(secrets), prepared, clock, None)
    }

    /// The HTTP client every upstream call shares.
    pub fn http(&self) -> &reqwest::Client {
        &self.wiring.http
    }

    /// The secrets in use.
    pub fn secrets(&self) -> Arc<Secrets> {
        self.secrets.current()
    }

    /// The CloudTalk API key is configured (GHL → CloudTalk endpoints need it).
    pub fn cloudtalk_configured(&self) -> bool {
        self.secrets().cloudtalk_configured()
    }

    /// The GHL token and location are configured (CloudTalk → GHL endpoints need them).
    pub fn ghl_configured(&self) -> bool {
        self.secrets().ghl_api_token.is_some() && self.config.ghl_location_id.is_some()
    }

    /// Which settings are present, by name; values are never included.
    pub fn settings_present(&self) -> Vec<(&'static str, bool)> {
        let secrets = self.secrets();
        let config = &self.config;
        vec![
            (
                "CLOUDTALK_API_KEY_ID",
                secrets.cloudtalk_api_key_id.is_some(),
            ),
            (
                "CLOUDTALK_API_KEY_SECRET",
                secrets.cloudtalk_api_key_secret.is_some(),
            ),
            ("GHL_API_TOKEN", secrets.ghl_api_token.is_some()),
            ("GHL_LOCATION_ID", config.ghl_location_id.is_some()),
            ("GHL_APP_ID", config.ghl_app_id.is_some()),
            (
                "GHL_WEBHOOK_SECRET",
                !secrets.ghl_webhook_secrets.is_empty(),
            ),
            (
                "CLOUDTALK_WEBHOOK_SECRET",
                !secrets.cloudtalk_webhook_secrets.is_empty(),
            ),
            ("BRIDGE_SECRETS_ARN", self.secrets.source_name().is_some()),
            (
                "DEFAULT_PHONE_REGION",
                config.default_phone_region.is_some(),
            ),
            ("CONTACT_MAP_TABLE", config.contact_map_table.is_some()),
            ("STATE_TABLE", config.state_table.is_some()),
            ("RETRY_QUEUE_URL", config.retry_queue_url.is_some()),
            (
                "DEAD_LETTER_QUEUE_URL",
                config.dead_letter_queue_url.is_some(),
            ),
            (
                "CAMPAIGN_STAGE_MAP",
                matches!(&config.campaign_stage_map, Ok(m) if !m.is_empty()),
            ),
        ]
    }

    /// The GHL location this deployment serves.
    pub fn serves_location(&self, location: &str) -> bool {
        self.config.ghl_location_id.as_deref() == Some(location)
    }

    /// The shared upstream budget (the import lane takes its turns from it).
    pub fn limiter(&self) -> &Arc<dyn RateLimiter> {
        &self.wiring.limiter
    }

    /// Work the bridge starts itself for this tenant (a dial job, a call's summary job, a
    /// campaign page): a fresh queued event under the key its body gives (the one key of every
    /// way in), with no credential.
    pub fn own_event(
        &self,
        id: crate::registry::EndpointId,
        body: &serde_json::Value,
    ) -> crate::retry_queue::QueuedEvent {
        let key = crate::idempotency::key_of(self.config.tenant_id.as_deref(), id, body);
        self.own_event_keyed(id, body, key)
    }

    /// [`Deps::own_event`] under a key given by the caller.
    pub fn own_event_keyed(
        &self,
        id: crate::registry::EndpointId,
        body: &serde_json::Value,
        key: String,
    ) -> crate::retry_queue::QueuedEvent {
        crate::retry_queue::QueuedEvent::fresh(
            id,
            body.to_string(),
            key,
            self.config.tenant_id.clone(),
            None,
            self.clock.now_ms(),
        )
    }

    /// The GHL location an event is applied to: the configured one, else the event's (events
    /// for another location are refused before they get here; see [`crate::pipeline::auth`]).
    pub fn location_for(&self, event_location: Option<&str>) -> String {
        match (&self.config.ghl_location_id, event_location) {
            (Some(configured), _) => configured.clone(),
            (None, Some(sent)) => sent.to_string(),
            (None, None) => "default".to_string(),
        }
    }
}
