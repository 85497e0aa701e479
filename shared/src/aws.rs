//! The AWS SDK configuration of a function, from the variables Lambda sets.
//!
//! Lambda gives a function its region (`AWS_REGION`) and its role's credentials
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) in the environment, so
//! the functions read exactly those, plus `AWS_ENDPOINT_URL` for a local DynamoDB-, SQS- and
//! Secrets Manager-compatible server. There is no `aws-config` here: its default chain (profile
//! files, SSO, STS web identity, IMDS, the process provider) costs code size and init time and is
//! never reached in Lambda. A local run against real AWS exports a profile's credentials first
//! (`eval "$(aws configure export-credentials --format env)"`); the operator tools (`backfill`)
//! keep the full chain.
//!
//! Every SDK client of the process shares one HTTPS client (hyper 1, rustls, aws-lc-rs: the same
//! stack and crypto provider as reqwest), so one connection pool per host and one load of the
//! system's root certificates, which happens at the first HTTPS connection, not at init (the
//! SDK's client would load them when each SDK client is built; [`AtFirstUse`] defers that).

use std::sync::{Arc, OnceLock};

use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_types::region::Region;
use aws_types::sdk_config::{SharedCredentialsProvider, SharedHttpClient};
use aws_types::SdkConfig;

/// The SDK's hyper client, building its connector (and so loading the root certificates) at the
/// first request rather than when an SDK client is built: its `validate_base_client_config`,
/// which does that eagerly, is left out.
#[derive(Debug)]
pub struct AtFirstUse(SharedHttpClient);

impl HttpClient for AtFirstUse {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// An SDK client built at its first use: a function whose request never reaches a table or a
/// queue (a refused webhook, a health check) never pays for building their clients, and a cold
/// start builds none of them before its first request. Clones share the one client.
pub struct Lazy<C> {
    cell: Arc<OnceLock<C>>,
    make: Arc<dyn Fn() -> C + Send + Sync>,
}

impl<C> Lazy<C> {
    pub fn new(make: impl Fn() -> C + Send + Sync + 'static) -> Self {
        Self {
            cell: Arc::new(OnceLock::new()),
            make: Arc::new(make),
        }
    }

    /// The client, built now if it was not yet.
    pub fn get(&self) -> &C {
        self.cell.get_or_init(|| (self.make)())
    }

    /// Whether the client has been built.
    pub fn is_built(&self) -> bool {
        self.cell.get().is_some()
    }
}

impl<C> Clone for Lazy<C> {
    fn clone(&self) -> Self {
        Self {
            cell: self.cell.clone(),
            make: self.make.clone(),
        }
    }
}

/// A client already built.
impl<C: Clone + Send + Sync + 'static> From<C> for Lazy<C> {
    fn from(client: C) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(client.clone());
        Self {
            cell: Arc::new(cell),
            make: Arc::new(move || client.clone()),
        }
    }
}

impl<C> std::fmt::Debug for Lazy<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lazy")
            .field("built", &self.is_built())
            .finish()
    }
}

/// The one HTTPS client of the AWS SDK clients in this process.
pub fn http_client() -> SharedHttpClient {
    static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            SharedHttpClient::new(AtFirstUse(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
                    .build_https(),
            ))
        })
        .clone()
}

fn non_empty(get: &impl Fn(&str) -> Option<String>, key: &str) -> Option<String> {
    get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The SDK configuration from a variable lookup (the process environment in a function).
/// Without credentials in the environment the clients have none, and their calls fail with
/// the SDK's "no credentials" error, which names the cause.
pub fn sdk_config(get: impl Fn(&str) -> Option<String>) -> SdkConfig {
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http_client());
    if let Some(region) =
        non_empty(&get, "AWS_REGION").or_else(|| non_empty(&get, "AWS_DEFAULT_REGION"))
    {
        builder = builder.region(Region::new(region));
    }
    if let (Some(id), Some(secret)) = (
        non_empty(&get, "AWS_ACCESS_KEY_ID"),
        non_empty(&get, "AWS_SECRET_ACCESS_KEY"),
    ) {
        let token = non_empty(&get, "AWS_SESSION_TOKEN");
        let credentials = Credentials::new(id, secret, token, None, "Environment");
        builder = builder.credentials_provider(SharedCredentialsProvider::new(credentials));
    }
    if let Some(url) = non_empty(&get, "AWS_ENDPOINT_URL") {
        builder = builder.endpoint_url(url);
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::ProvideCredentials;

    fn lookup(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[tokio::test]
    async fn reads_what_lambda_sets() {
        let config = sdk_config(lookup(&[
            ("AWS_REGION", "eu-south-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]));
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-south-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:5000"));
        assert!(config.http_client().is_some());
        let credentials = config
            .credentials_provider()
            .expect("credentials from the environment")
            .provide_credentials()
            .await
            .expect("static credentials");
        assert_eq!(credentials.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(credentials.session_token(), Some("token"));
    }

    #[test]
    fn a_lazy_client_is_built_once_at_its_first_use_and_shared_by_its_clones() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let built = Arc::new(AtomicUsize::new(0));
        let counter = built.clone();
        let lazy = Lazy::new(move || counter.fetch_add(1, Ordering::SeqCst) + 1);
        let clone = lazy.clone();
        assert!(!lazy.is_built());
        assert_eq!(
            built.load(Ordering::SeqCst),
            0,
            "nothing built before a use"
        );
        assert_eq!((*clone.get(), *lazy.get()), (1, 1));
        assert_eq!(built.load(Ordering::SeqCst), 1, "one build for both");
        let ready: Lazy<u8> = 7.into();
        assert!(ready.is_built());
        assert_eq!(*ready.get(), 7);
    }

    #[test]
    fn blank_values_are_absent() {
        let config = sdk_config(lookup(&[
            ("AWS_REGION", " "),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_ENDPOINT_URL", ""),
        ]));
        assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert_eq!(config.endpoint_url(), None);
        // A key id without its secret is no credentials.
        assert!(config.credentials_provider().is_none());
    }
}
