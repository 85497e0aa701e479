//! Cold start: what a function checks before it serves anything, and how it refuses to start.
//!
//! A function that cannot serve safely fails its init instead of living on half-configured
//! (answering 401 or 503 to every event for its lifetime, which GHL never re-delivers):
//! - in AWS Lambda, with the local-only switch `BRIDGE_LOCAL_INSECURE_NO_AUTH` set;
//! - in AWS Lambda, without the tables and queues the template gives it (the embedded store
//!   file is for local runs only);
//! - anywhere, when `BRIDGE_SECRETS_ARN` is set and the secret cannot be read.
//!
//! The error is reported to the Lambda Runtime API (`/runtime/init/error`, so Lambda logs it as
//! `Runtime.InitError` and retries the init on the next event), logged, and returned from
//! `main`, which exits non-zero. Messages name variables and the secret's ARN, never values.

use crate::config::truthy;
use crate::environment::Environment;
use crate::secrets::SecretUnreadable;

/// Why a function refused to start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(
        "BRIDGE_LOCAL_INSECURE_NO_AUTH is set, but this function runs in AWS Lambda, where \
         unauthenticated webhooks are never accepted: remove the variable"
    )]
    LocalSwitchInLambda,
    #[error(
        "this function runs in AWS Lambda without {}: set {} (the template does); the local \
         store file is for local runs only",
        .0.join(", "),
        if .0.len() == 1 { "it" } else { "them" }
    )]
    MissingInLambda(Vec<&'static str>),
    #[error("cannot read the secret {} (BRIDGE_SECRETS_ARN): {}", .0.source, .0.reason)]
    SecretUnreadable(SecretUnreadable),
    #[error("{0}")]
    Invalid(String),
}

impl InitError {
    /// The `errorType` reported to the Runtime API.
    pub fn error_type(&self) -> &'static str {
        match self {
            InitError::LocalSwitchInLambda => "Bridge.LocalSwitchInLambda",
            InitError::MissingInLambda(_) => "Bridge.MissingConfiguration",
            InitError::SecretUnreadable(_) => "Bridge.SecretUnreadable",
            InitError::Invalid(_) => "Bridge.InvalidConfiguration",
        }
    }
}

/// What a function needs besides the state table and the queues, which all of them use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    pub contact_map: bool,
}

impl Needs {
    pub const ALL: Needs = Needs { contact_map: true };
    /// A function that never reads the contact map.
    pub const NONE: Needs = Needs { contact_map: false };
}

/// The checks that only apply inside Lambda, over a variable lookup.
pub fn check_lambda(
    environment: Environment,
    needs: Needs,
    get: impl Fn(&str) -> Option<String>,
) -> Result<(), InitError> {
    if !environment.is_lambda() {
        return Ok(());
    }
    let set = |k: &str| get(k).is_some_and(|v| !v.trim().is_empty());
    if get("BRIDGE_LOCAL_INSECURE_NO_AUTH").is_some_and(|v| truthy(&v)) {
        return Err(InitError::LocalSwitchInLambda);
    }
    let mut required = vec!["STATE_TABLE", "RETRY_QUEUE_URL", "DEAD_LETTER_QUEUE_URL"];
    if needs.contact_map {
        required.insert(0, "CONTACT_MAP_TABLE");
    }
    let missing: Vec<&'static str> = required.into_iter().filter(|k| !set(k)).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(InitError::MissingInLambda(missing))
    }
}

/// The `init failed` line, with the `init_failed` metric (by `error`, the `errorType`) in
/// `metrics_namespace` when there is one: the stack's `SecretsUnreadableAlarm` watches it.
pub fn log_failure(function: &str, error: &InitError, metrics_namespace: Option<&str>) {
    let metrics = crate::telemetry::init_failed_metrics(metrics_namespace);
    tracing::error!(
        endpoint = function,
        error = error.error_type(),
        detail = %error,
        init_failed = 1,
        _aws = metrics.as_deref(),
        "init failed"
    );
}

/// Tells the Lambda Runtime API (when there is one) that init failed, and logs it.
pub async fn report(function: &str, error: &InitError) {
    log_failure(
        function,
        error,
        crate::telemetry::metrics_namespace().as_deref(),
    );
    let Some(api) = std::env::var("AWS_LAMBDA_RUNTIME_API")
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return;
    };
    let api = api.trim().trim_end_matches('/');
    let url = match api.contains("://") {
        true => format!("{api}/2018-06-01/runtime/init/error"),
        false => format!("http://{api}/2018-06-01/runtime/init/error"),
    };
    let body = serde_json::json!({
        "errorType": error.error_type(),
        "errorMessage": error.to_string(),
    });
    let client = reqwest::Client::new();
    let sent = client
        .post(&url)
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .json(&body)
        .timeout(std::time::Duration::from_secs(2))
        .send()
        .await;
    if let Err(e) = sent {
        tracing::warn!(detail = %e.without_url(), "could not report the init error to the Runtime API");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(needs: Needs, vars: &[(&str, &str)]) -> Result<(), InitError> {
        let get = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        check_lambda(Environment::detect(get), needs, get)
    }

    const LAMBDA: (&str, &str) = ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001");

    #[test]
    fn lambda_needs_its_tables_and_queues() {
        let err = check(Needs::ALL, &[LAMBDA, ("STATE_TABLE", "t")]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("CONTACT_MAP_TABLE, RETRY_QUEUE_URL, DEAD_LETTER_QUEUE_URL"),
            "{text}"
        );
        let all = [
            LAMBDA,
            ("STATE_TABLE", "t"),
            ("RETRY_QUEUE_URL", "q"),
            ("DEAD_LETTER_QUEUE_URL", "d"),
        ];
        assert!(check(Needs { contact_map: false }, &all).is_ok());
        assert!(matches!(
            check(Needs::ALL, &all),
            Err(InitError::MissingInLambda(m)) if m == vec!["CONTACT_MAP_TABLE"]
        ));
        // Outside Lambda (tests, cargo lambda watch) the local store stands in.
        assert!(check(Needs::ALL, &[]).is_ok());
        assert!(check(
            Needs::ALL,
            &[("AWS_LAMBDA_RUNTIME_API", "http://127.0.0.1:9000/.rt")]
        )
        .is_ok());
    }

    #[test]
    fn the_local_switch_stops_a_lambda_from_starting() {
        let err = check(
            Needs::ALL,
            &[LAMBDA, ("BRIDGE_LOCAL_INSECURE_NO_AUTH", "TRUE")],
        )
        .unwrap_err();
        assert!(matches!(err, InitError::LocalSwitchInLambda));
        assert!(err.to_string().contains("BRIDGE_LOCAL_INSECURE_NO_AUTH"));
        assert!(check(Needs::ALL, &[("BRIDGE_LOCAL_INSECURE_NO_AUTH", "true")]).is_ok());
    }
}
