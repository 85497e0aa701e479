//! The deployment the command acts on: a CloudFormation stack found by its name (`--stack`, or
//! `BRIDGE_STACK`) through the standard AWS credential chain (profile, SSO, environment), or a
//! saved copy of its outputs (`--stack-outputs FILE`: the JSON of `aws cloudformation
//! describe-stacks --query 'Stacks[0].Outputs'`, or the whole `describe-stacks` answer). Without
//! either, the command works on the local run (its store file and the environment's queues).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use serde::Serialize;
use serde_json::Value;

/// One resource of the stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    pub logical_id: String,
    pub kind: String,
    pub physical_id: String,
}

/// A stack's outputs and, when read from CloudFormation, its resources and status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stack {
    pub name: Option<String>,
    /// `CREATE_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`, …; none from a file.
    pub status: Option<String>,
    pub outputs: BTreeMap<String, String>,
    /// Its parameters, by key, when read from CloudFormation (a saved copy of the outputs has
    /// none): the settings its functions run with (`GhlLocationId`, `CampaignStageMap`, …).
    pub parameters: BTreeMap<String, String>,
    pub resources: Vec<Resource>,
}

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("reading the stack outputs {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("no stack {0} (or no permission to describe it): {1}")]
    Describe(String, String),
    #[error("listing the resources of stack {0}: {1}")]
    Resources(String, String),
}

/// Every output of a saved `describe-stacks` answer, by key.
pub fn read_outputs(text: &str) -> Result<BTreeMap<String, String>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let outputs = value
        .pointer("/Stacks/0/Outputs")
        .unwrap_or(&value)
        .as_array()
        .ok_or("expected a list of outputs (describe-stacks --query 'Stacks[0].Outputs')")?;
    Ok(outputs
        .iter()
        .filter_map(|o| {
            let key = o.get("OutputKey").and_then(Value::as_str)?;
            let value = o.get("OutputValue").and_then(Value::as_str)?;
            Some((key.to_string(), value.to_string()))
        })
        .collect())
}

/// The AWS SDK's configuration: the standard chain, with `region` and `AWS_ENDPOINT_URL` (a
/// local AWS-compatible server) when given.
pub async fn aws_config(region: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::from_env();
    if let Some(url) = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_string()));
    }
    loader.load().await
}

impl Stack {
    /// A saved copy of the outputs.
    pub fn from_file(path: &Path) -> Result<Self, StackError> {
        let failed = |reason: String| StackError::File {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
        Ok(Self {
            outputs: read_outputs(&text).map_err(failed)?,
            ..Self::default()
        })
    }

    /// The stack `name` as CloudFormation describes it: outputs, status and resources.
    pub async fn describe(
        client: &aws_sdk_cloudformation::Client,
        name: &str,
    ) -> Result<Self, StackError> {
        let described = client
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| StackError::Describe(name.into(), error_text(&e)))?;
        let stack = described
            .stacks()
            .first()
            .ok_or_else(|| StackError::Describe(name.into(), "not found".into()))?;
        let outputs = stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
            .collect();
        let parameters = stack
            .parameters()
            .iter()
            .filter_map(|p| {
                let value = p.parameter_value().unwrap_or_default();
                Some((p.parameter_key()?.to_string(), value.to_string()))
            })
            .collect();
        Ok(Self {
            name: Some(name.to_string()),
            status: stack.stack_status().map(|s| s.as_str().to_string()),
            outputs,
            parameters,
            resources: Self::resources(client, name).await?,
        })
    }

    async fn resources(
        client: &aws_sdk_cloudformation::Client,
        name: &str,
    ) -> Result<Vec<Resource>, StackError> {
        let mut resources = Vec::new();
        let mut next = None;
        loop {
            let page = client
                .list_stack_resources()
                .stack_name(name)
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| StackError::Resources(name.into(), error_text(&e)))?;
            resources.extend(page.stack_resource_summaries().iter().map(|r| Resource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                kind: r.resource_type().unwrap_or_default().to_string(),
                physical_id: r.physical_resource_id().unwrap_or_default().to_string(),
            }));
            next = page.next_token().map(str::to_string);
            if next.is_none() {
                return Ok(resources);
            }
        }
    }

    /// An output's value, if the stack has it (and it is not empty).
    pub fn output(&self, key: &str) -> Option<&str> {
        self.outputs
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// The physical ids of the resources of one type (`AWS::Lambda::Function`, …).
    pub fn resources_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> {
        self.resources.iter().filter(move |r| r.kind == kind)
    }
}

/// The most useful text of an SDK error (its service message when it has one).
pub fn error_text<E, R>(error: &aws_sdk_cloudformation::error::SdkError<E, R>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    match error.as_service_error() {
        Some(e) => e
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string()),
        None => std::error::Error::source(error)
            .map(|s| s.to_string())
            .unwrap_or_else(|| error.to_string()),
    }
}

/// Which deployment.
#[derive(Debug, Clone, Default, Args)]
pub struct Target {
    /// The deployment's CloudFormation stack name (else BRIDGE_STACK, unless --stack-outputs is
    /// given: a saved copy named on the command line wins over the environment).
    #[arg(long, global = true)]
    pub stack: Option<String>,
    /// The stack's AWS region (else the profile's or AWS_REGION).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// A saved copy of the stack's outputs (`aws cloudformation describe-stacks --query
    /// 'Stacks[0].Outputs'`), for offline use.
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "stack")]
    pub stack_outputs: Option<PathBuf>,
    /// The local run's store file, when no stack is named (default LOCAL_STORE_PATH).
    #[arg(long, global = true, value_name = "PATH")]
    pub local_store: Option<PathBuf>,
}

impl Target {
    /// The stack to describe: `--stack`, else the environment's `BRIDGE_STACK`; none when a
    /// saved copy of the outputs is named (the environment never overrides a flag).
    pub fn stack_name(&self, environment: Option<String>) -> Option<String> {
        if self.stack_outputs.is_some() {
            return None;
        }
        self.stack
            .clone()
            .or(environment)
            .filter(|n| !n.trim().is_empty())
    }

    /// The stack the flags name, if any: described through CloudFormation, or read from the
    /// saved outputs.
    pub async fn stack(&self) -> Result<Option<Stack>, StackError> {
        if let Some(path) = &self.stack_outputs {
            return Stack::from_file(path).map(Some);
        }
        let Some(name) = self.stack_name(std::env::var("BRIDGE_STACK").ok()) else {
            return Ok(None);
        };
        let name = name.as_str();
        let config = aws_config(self.region.as_deref()).await;
        let client = aws_sdk_cloudformation::Client::new(&config);
        Stack::describe(&client, name).await.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_answer_or_its_outputs_alone() {
        let outputs = r#"[{"OutputKey": "ApiUrl", "OutputValue": "https://x"},
            {"OutputKey": "RetryQueueUrl", "OutputValue": "q"}]"#;
        let read = read_outputs(outputs).unwrap();
        assert_eq!(read.get("ApiUrl").map(String::as_str), Some("https://x"));
        let whole = format!(r#"{{"Stacks": [{{"Outputs": {outputs}}}]}}"#);
        assert_eq!(read_outputs(&whole).unwrap(), read);
        assert!(read_outputs("{").is_err());
        assert!(read_outputs(r#"{"a": 1}"#).is_err());
    }

    #[test]
    fn the_flag_wins_over_the_environment_and_a_saved_copy_over_both() {
        let env = || Some("from-env".to_string());
        let none = Target::default();
        assert_eq!(none.stack_name(env()).as_deref(), Some("from-env"));
        assert_eq!(none.stack_name(Some("  ".into())), None);
        let flag = Target {
            stack: Some("from-flag".into()),
            ..Target::default()
        };
        assert_eq!(flag.stack_name(env()).as_deref(), Some("from-flag"));
        let saved = Target {
            stack_outputs: Some(PathBuf::from("o.json")),
            ..Target::default()
        };
        assert_eq!(saved.stack_name(env()), None);
    }
}
