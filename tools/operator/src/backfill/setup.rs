//! The backfill's [`Deps`], wired the way a Lambda's are (see `Deps::from_env` in the bridge):
//! the real clients with the deployment's shared budget, the contact map and the budget's store.
//!
//! Settings come from the environment (the manual's configuration table, `docs/src/operator/configuration.md`), with two layers on
//! top, the first winning: flags (`--contact-map-table`, `--state-table`, `--location`), then a
//! stack's outputs (`--stack-outputs`, the JSON of `aws cloudformation describe-stacks --query
//! 'Stacks[0].Outputs'`: `ContactMapTableName`, `StateTableName` for the shared budget,
//! `BridgeSecretsArn` for the credentials). Without a table, the local store file
//! (`LOCAL_STORE_PATH`, or `--local-store`) holds the map and the budget.

use std::path::PathBuf;
use std::sync::Arc;

use bridge::clock::{Clock, SystemClock};
use bridge::config::Config;
use bridge::environment::Environment;
use bridge::local_store::LocalStore;
use bridge::secrets::{Lookup, SecretStore, Secrets, SecretsManagerSource};
use bridge::{Backends, Deps};

/// Where the settings come from, beyond the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    /// Settings given as flags, by variable name.
    pub flags: Vec<(&'static str, String)>,
    /// The deployment's stack (its outputs name the tables and the secret).
    pub stack: Option<crate::stack::Stack>,
    pub local_store: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the stack's outputs: {0}")]
    Stack(String),
    #[error("cannot read the secret {secret} (BRIDGE_SECRETS_ARN): {reason}")]
    Secret { secret: String, reason: String },
    #[error("{0}")]
    Init(String),
}

/// Stack outputs and the settings they give.
const OUTPUTS: [(&str, &str); 4] = [
    ("ContactMapTableName", "CONTACT_MAP_TABLE"),
    ("StateTableName", "STATE_TABLE"),
    ("TenantsTableName", "TENANTS_TABLE"),
    ("BridgeSecretsArn", "BRIDGE_SECRETS_ARN"),
];

/// The settings in a stack's outputs.
pub fn stack_settings(
    outputs: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<(&'static str, String)>, String> {
    let output = |key: &str| outputs.get(key);
    let settings: Vec<(&'static str, String)> = OUTPUTS
        .iter()
        .filter_map(|(key, name)| output(key).map(|v| (*name, v.to_string())))
        .collect();
    if !settings
        .iter()
        .any(|(name, _)| *name == "CONTACT_MAP_TABLE")
    {
        return Err("no ContactMapTableName output".into());
    }
    Ok(settings)
}

/// The layered lookup: flags, then the stack's outputs, then `env`.
fn lookup(sources: &Sources, env: Lookup) -> Result<Lookup, SetupError> {
    let mut layers = sources.flags.clone();
    if let Some(stack) = &sources.stack {
        layers.extend(stack_settings(&stack.outputs).map_err(SetupError::Stack)?);
    }
    Ok(Arc::new(move |key: &str| {
        layers
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| value.clone())
            .or_else(|| env(key))
    }))
}

/// The AWS SDK's configuration from its standard variables; the endpoint and region may also
/// come from the layers (the credentials come from the SDK's usual chain).
async fn aws_config(lookup: &Lookup) -> aws_config::SdkConfig {
    let mut loader = aws_config::from_env();
    if let Some(url) = lookup("AWS_ENDPOINT_URL") {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = lookup("AWS_REGION").or_else(|| lookup("AWS_DEFAULT_REGION")) {
        loader = loader.region(aws_config::Region::new(region));
    }
    loader.load().await
}

/// The `Deps` the backfill runs on; `env` is the process environment in the binary.
pub async fn deps(sources: &Sources, env: Lookup) -> Result<Deps, SetupError> {
    let lookup = lookup(sources, env)?;
    let config = Config::from_lookup(|k| lookup(k));
    let secrets_arn = lookup("BRIDGE_SECRETS_ARN").filter(|a| !a.trim().is_empty());
    let needs_aws = config.contact_map_table.is_some()
        || config.state_table.is_some()
        || config.tenants_table.is_some()
        || secrets_arn.is_some();
    let aws = match needs_aws {
        true => Some(aws_config(&lookup).await),
        false => None,
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let secrets = match (&secrets_arn, &aws) {
        (Some(arn), Some(aws)) => {
            let source = Arc::new(SecretsManagerSource::new(aws, arn.trim()));
            let loaded =
                SecretStore::load(source, lookup.clone(), config.secrets_ttl, clock.clone());
            loaded.await.map_err(|e| SetupError::Secret {
                secret: e.source,
                reason: e.reason,
            })?
        }
        _ => SecretStore::fixed(Secrets::from_lookup(|k| lookup(k))),
    };
    let mut backends = Backends::from_config(&config, aws.as_ref(), Environment::Local);
    if let Some(path) = &sources.local_store {
        let store = Arc::new(LocalStore::new(path));
        if config.contact_map_table.is_none() {
            backends.contacts = store.clone();
        }
        if config.tenants_table.is_none() {
            backends.tenants = Some(store.clone());
        }
        if config.state_table.is_none() {
            (backends.state, backends.idempotency) = (store.clone(), store.clone());
            backends.limiter = store;
        }
    }
    Deps::new(config, Arc::new(secrets), backends, clock)
        .map_err(|e| SetupError::Init(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_outputs_name_the_tables_and_the_secret() {
        let outputs = r#"[{"OutputKey": "ApiUrl", "OutputValue": "https://x"},
            {"OutputKey": "ContactMapTableName", "OutputValue": "bridge-ContactMap-1"},
            {"OutputKey": "StateTableName", "OutputValue": "bridge-State-1"}]"#;
        let read = |text: &str| crate::stack::read_outputs(text).unwrap();
        assert_eq!(
            stack_settings(&read(outputs)).unwrap(),
            vec![
                ("CONTACT_MAP_TABLE", "bridge-ContactMap-1".to_string()),
                ("STATE_TABLE", "bridge-State-1".to_string())
            ]
        );
        let api_only = read(r#"[{"OutputKey": "ApiUrl", "OutputValue": "x"}]"#);
        assert!(stack_settings(&api_only).is_err());
    }

    #[test]
    fn flags_win_over_the_stack_and_the_stack_over_the_environment() {
        let stack = r#"[{"OutputKey": "ContactMapTableName", "OutputValue": "from-stack"},
            {"OutputKey": "StateTableName", "OutputValue": "state-from-stack"}]"#;
        let sources = Sources {
            flags: vec![("CONTACT_MAP_TABLE", "from-flag".into())],
            stack: Some(crate::stack::Stack {
                outputs: crate::stack::read_outputs(stack).unwrap(),
                ..Default::default()
            }),
            local_store: None,
        };
        let env: Lookup = Arc::new(|k: &str| (k == "GHL_LOCATION_ID").then(|| "loc".to_string()));
        let get = lookup(&sources, env).unwrap();
        assert_eq!(get("CONTACT_MAP_TABLE").as_deref(), Some("from-flag"));
        assert_eq!(get("STATE_TABLE").as_deref(), Some("state-from-stack"));
        assert_eq!(get("GHL_LOCATION_ID").as_deref(), Some("loc"));
    }
}
