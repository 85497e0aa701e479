//! The bridge's secrets: API credentials and webhook secrets.
//!
//! Locally they come from the environment of the shell. In AWS they come from one Secrets
//! Manager secret (`BRIDGE_SECRETS_ARN`): a JSON object keyed by the variable names in
//! [`SECRET_SETTINGS`]. A variable set in the environment wins over the secret.
//!
//! - The secret is read at cold start; when it cannot be read the function refuses to start
//!   (see [`crate::startup`]), rather than living on with empty credentials.
//! - It is read again once its lifetime (`BRIDGE_SECRETS_TTL_SECS`, 5 minutes) has passed, at
//!   the start of the next invocation, so a rotation reaches every warm container without a
//!   redeploy. A failed re-read keeps the values in use and is tried again 30 s later.
//! - Values are never logged; `Debug` shows only which are present.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;

use crate::clock::Clock;

/// Names of the settings that are secrets: never logged, never returned by the health routes.
pub const SECRET_SETTINGS: &[&str] = &[
    "CLOUDTALK_API_KEY_ID",
    "CLOUDTALK_API_KEY_SECRET",
    "GHL_API_TOKEN",
    "GHL_WEBHOOK_SECRET",
    "CLOUDTALK_WEBHOOK_SECRET",
    "GHL_APP_CLIENT_SECRET",
    "TENANT_SEAL_KEY",
];

/// Default lifetime of the values read from the secret.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// After a failed re-read, the next attempt waits this long.
const RETRY_AFTER_FAILURE_MS: i64 = 30_000;

/// One reading of the secrets.
#[derive(Clone, Default, PartialEq)]
pub struct Secrets {
    pub cloudtalk_api_key_id: Option<String>,
    pub cloudtalk_api_key_secret: Option<String>,
    pub ghl_api_token: Option<String>,
    /// Accepted shared secrets for GoHighLevel workflow webhooks; a comma separates the current
    /// and the next secret during a rotation.
    pub ghl_webhook_secrets: Vec<String>,
    pub cloudtalk_webhook_secrets: Vec<String>,
    /// The Marketplace app's OAuth client secret (agency mode).
    pub ghl_app_client_secret: Option<String>,
    /// The key that seals tenant secrets in the tenants table (agency mode).
    pub tenant_seal_key: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("cloudtalk_api_key_id", &self.cloudtalk_api_key_id.is_some())
            .field(
                "cloudtalk_api_key_secret",
                &self.cloudtalk_api_key_secret.is_some(),
            )
            .field("ghl_api_token", &self.ghl_api_token.is_some())
            .field("ghl_webhook_secrets", &self.ghl_webhook_secrets.len())
            .field(
                "cloudtalk_webhook_secrets",
                &self.cloudtalk_webhook_secrets.len(),
            )
            .field(
                "ghl_app_client_secret",
                &self.ghl_app_client_secret.is_some(),
            )
            .field("tenant_seal_key", &self.tenant_seal_key.is_some())
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

impl Secrets {
    /// Reads the secrets through `get` (the environment, completed by the secret's values).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |k: &str| non_empty(get(k));
        Secrets {
            cloudtalk_api_key_id: get("CLOUDTALK_API_KEY_ID"),
            cloudtalk_api_key_secret: get("CLOUDTALK_API_KEY_SECRET"),
            ghl_api_token: get("GHL_API_TOKEN"),
            ghl_webhook_secrets: secret_list(get("GHL_WEBHOOK_SECRET")),
            cloudtalk_webhook_secrets: secret_list(get("CLOUDTALK_WEBHOOK_SECRET")),
            ghl_app_client_secret: get("GHL_APP_CLIENT_SECRET"),
            tenant_seal_key: get("TENANT_SEAL_KEY"),
        }
    }

    pub fn cloudtalk_configured(&self) -> bool {
        self.cloudtalk_api_key_id.is_some() && self.cloudtalk_api_key_secret.is_some()
    }
}

/// Where the secret's values are read from.
#[async_trait]
pub trait SecretSource: Send + Sync {
    /// What is read (an ARN), for error messages; never a value.
    fn name(&self) -> &str;
    /// The secret's key → value pairs.
    async fn fetch(&self) -> Result<HashMap<String, String>, String>;
}

/// A Secrets Manager secret holding a JSON object of strings.
pub struct SecretsManagerSource {
    client: aws_sdk_secretsmanager::Client,
    arn: String,
}

impl SecretsManagerSource {
    pub fn new(aws: &aws_types::SdkConfig, arn: &str) -> Self {
        Self {
            client: aws_sdk_secretsmanager::Client::new(aws),
            arn: arn.to_string(),
        }
    }
}

#[async_trait]
impl SecretSource for SecretsManagerSource {
    fn name(&self) -> &str {
        &self.arn
    }

    async fn fetch(&self) -> Result<HashMap<String, String>, String> {
        let secret = self
            .client
            .get_secret_value()
            .secret_id(&self.arn)
            .send()
            .await
            .map_err(|e| aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string())?;
        parse_secret_string(secret.secret_string().unwrap_or("{}"))
    }
}

/// The secret's JSON object; non-string and empty values are ignored.
pub fn parse_secret_string(text: &str) -> Result<HashMap<String, String>, String> {
    let values: HashMap<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|_| "the secret does not hold a JSON object".to_string())?;
    Ok(values
        .into_iter()
        .filter_map(|(k, v)| Some((k, non_empty(v.as_str().map(str::to_string))?)))
        .collect())
}

/// A variable lookup (the process environment), shared with the refresher.
pub type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

struct Refresher {
    source: Arc<dyn SecretSource>,
    env: Lookup,
    ttl_ms: i64,
    clock: Arc<dyn Clock>,
    next_refresh_ms: AtomicI64,
    in_flight: tokio::sync::Mutex<()>,
}

/// The secrets in use, re-read from their source when their lifetime has passed.
pub struct SecretStore {
    current: RwLock<Arc<Secrets>>,
    refresher: Option<Refresher>,
}

/// The secret could not be read at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretUnreadable {
    /// The secret's name (its ARN).
    pub source: String,
    /// Why, as the source said; never a value.
    pub reason: String,
}

impl SecretStore {
    /// Secrets that never change (the environment only, tests).
    pub fn fixed(secrets: Secrets) -> Self {
        Self {
            current: RwLock::new(Arc::new(secrets)),
            refresher: None,
        }
    }

    /// Reads `source` once (a failure is returned, so that the function refuses to start) and
    /// keeps it for `ttl`. Variables in `env` win over the secret's values.
    pub async fn load(
        source: Arc<dyn SecretSource>,
        env: Lookup,
        ttl: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SecretUnreadable> {
        let values = source.fetch().await.map_err(|reason| SecretUnreadable {
            source: source.name().to_string(),
            reason,
        })?;
        let secrets = merge(&env, &values);
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let next = clock.now_ms().saturating_add(ttl_ms);
        Ok(Self {
            current: RwLock::new(Arc::new(secrets)),
            refresher: Some(Refresher {
                source,
                env,
                ttl_ms,
                clock,
                next_refresh_ms: AtomicI64::new(next),
                in_flight: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// The secrets in use.
    pub fn current(&self) -> Arc<Secrets> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The secret's name, when the values come from one.
    pub fn source_name(&self) -> Option<&str> {
        self.refresher.as_ref().map(|r| r.source.name())
    }

    /// Re-reads the secret when its lifetime has passed. One caller re-reads; concurrent callers
    /// go on with the values in use. A failure keeps them and is logged (never with values).
    pub async fn refresh_if_due(&self) {
        let Some(r) = &self.refresher else {
            return;
        };
        if r.clock.now_ms() < r.next_refresh_ms.load(Ordering::SeqCst) {
            return;
        }
        let Ok(_guard) = r.in_flight.try_lock() else {
            return;
        };
        if r.clock.now_ms() < r.next_refresh_ms.load(Ordering::SeqCst) {
            return;
        }
        match r.source.fetch().await {
            Ok(values) => {
                let fresh = Arc::new(merge(&r.env, &values));
                let changed = *self.current() != *fresh;
                match self.current.write() {
                    Ok(mut guard) => *guard = fresh,
                    Err(poisoned) => *poisoned.into_inner() = fresh,
                }
                r.next_refresh_ms
                    .store(r.clock.now_ms().saturating_add(r.ttl_ms), Ordering::SeqCst);
                tracing::info!(secret = %r.source.name(), changed, "secrets re-read");
            }
            Err(reason) => {
                r.next_refresh_ms.store(
                    r.clock.now_ms().saturating_add(RETRY_AFTER_FAILURE_MS),
                    Ordering::SeqCst,
                );
                tracing::error!(error = "secrets_unavailable", secret = %r.source.name(), detail = %reason, "could not re-read the secrets; the values in use are kept");
            }
        }
    }
}

fn merge(env: &Lookup, values: &HashMap<String, String>) -> Secrets {
    Secrets::from_lookup(|k| non_empty(env(k)).or_else(|| values.get(k).cloned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::Mutex;

    struct Rotating {
        value: Mutex<Result<String, String>>,
        reads: AtomicI64,
    }

    #[async_trait]
    impl SecretSource for Rotating {
        fn name(&self) -> &str {
            "arn:aws:secretsmanager:eu-west-1:123:secret:bridge"
        }
        async fn fetch(&self) -> Result<HashMap<String, String>, String> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let value = self.value.lock().unwrap().clone()?;
            Ok(HashMap::from([
                ("GHL_WEBHOOK_SECRET".to_string(), value),
                ("GHL_API_TOKEN".to_string(), "from-secret".to_string()),
            ]))
        }
    }

    fn rotating(value: &str) -> Arc<Rotating> {
        Arc::new(Rotating {
            value: Mutex::new(Ok(value.to_string())),
            reads: AtomicI64::new(0),
        })
    }

    #[tokio::test]
    async fn the_secret_is_re_read_after_its_lifetime() {
        let source = rotating("old");
        let clock = Arc::new(ManualClock::at_ms(1_000_000));
        let env: Lookup = Arc::new(|k| (k == "GHL_API_TOKEN").then(|| "from-env".to_string()));
        let store = SecretStore::load(source.clone(), env, Duration::from_secs(300), clock.clone())
            .await
            .unwrap();
        assert_eq!(store.current().ghl_webhook_secrets, vec!["old"]);
        assert_eq!(
            store.current().ghl_api_token.as_deref(),
            Some("from-env"),
            "the environment wins"
        );

        *source.value.lock().unwrap() = Ok("new".into());
        clock.advance_ms(299_000);
        store.refresh_if_due().await;
        assert_eq!(
            store.current().ghl_webhook_secrets,
            vec!["old"],
            "not yet due"
        );
        assert_eq!(source.reads.load(Ordering::SeqCst), 1);

        clock.advance_ms(1_000);
        store.refresh_if_due().await;
        assert_eq!(store.current().ghl_webhook_secrets, vec!["new"]);
        assert_eq!(source.reads.load(Ordering::SeqCst), 2);

        // A failed re-read keeps the values and is retried 30 s later, not on every call.
        *source.value.lock().unwrap() = Err("AccessDeniedException".into());
        clock.advance_ms(300_000);
        store.refresh_if_due().await;
        store.refresh_if_due().await;
        assert_eq!(store.current().ghl_webhook_secrets, vec!["new"]);
        assert_eq!(source.reads.load(Ordering::SeqCst), 3);
        *source.value.lock().unwrap() = Ok("newer".into());
        clock.advance_ms(30_000);
        store.refresh_if_due().await;
        assert_eq!(store.current().ghl_webhook_secrets, vec!["newer"]);
    }

    #[tokio::test]
    async fn an_unreadable_secret_names_the_source_not_values() {
        let source = rotating("x");
        *source.value.lock().unwrap() = Err("ResourceNotFoundException".into());
        let err = SecretStore::load(
            source,
            Arc::new(|_| None),
            DEFAULT_TTL,
            Arc::new(ManualClock::at_ms(0)),
        )
        .await
        .err()
        .unwrap();
        assert!(err.source.starts_with("arn:aws:secretsmanager:"));
        assert_eq!(err.reason, "ResourceNotFoundException");
    }

    #[test]
    fn rotation_lists_and_debug_without_values() {
        let s = Secrets::from_lookup(|k| match k {
            "GHL_WEBHOOK_SECRET" => Some("current, next".into()),
            "CLOUDTALK_API_KEY_ID" => Some("  ".into()),
            "GHL_API_TOKEN" => Some("pit-very-secret".into()),
            _ => None,
        });
        assert_eq!(s.ghl_webhook_secrets, vec!["current", "next"]);
        assert_eq!(s.cloudtalk_api_key_id, None);
        assert!(!s.cloudtalk_configured());
        let shown = format!("{s:?}");
        assert!(!shown.contains("pit-very-secret") && !shown.contains("current"));
        assert!(parse_secret_string("[]").is_err());
        assert_eq!(
            parse_secret_string(r#"{"A":"1","B":"","C":2}"#).unwrap(),
            HashMap::from([("A".to_string(), "1".to_string())])
        );
    }
}
