//! Where the process runs: inside AWS Lambda, or on a developer's machine.
//!
//! Every Lambda runtime, the OS-only `provided` family included, sets `AWS_LAMBDA_RUNTIME_API`
//! (`host:port` of the Runtime API) and `AWS_LAMBDA_FUNCTION_NAME`; both are reserved, so a
//! function's configuration can neither set nor remove them. (`AWS_EXECUTION_ENV` is **not** set
//! for `provided.al2023`, so its absence proves nothing.)
//!
//! `cargo lambda watch` also sets them, to run the same binaries locally. Its Runtime API
//! address is a URL with a scheme and a path (`http://127.0.0.1:9000/.rt`), while Lambda's is
//! always a bare `host:port`, and no configuration can give a deployed function another one:
//! that is what tells the local emulator apart.

/// The place the process runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// AWS Lambda (or a Runtime API that looks exactly like it): local-only features are off,
    /// and the tables and queues must be configured.
    Lambda,
    /// `cargo lambda watch`: the Lambda binaries, served on a developer's machine.
    LocalEmulator,
    /// A plain local process (tests, the sandbox, `cargo run`).
    Local,
}

impl Environment {
    /// Reads the reserved Lambda variables through `get` (the process environment in
    /// production, a map in tests).
    pub fn detect(get: impl Fn(&str) -> Option<String>) -> Self {
        let set = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        match set("AWS_LAMBDA_RUNTIME_API") {
            Some(api) if runtime_api_is_a_url(&api) => Environment::LocalEmulator,
            Some(_) => Environment::Lambda,
            None if set("AWS_LAMBDA_FUNCTION_NAME").is_some() => Environment::Lambda,
            // Managed runtimes also name themselves; harmless to honour.
            None if set("AWS_EXECUTION_ENV").is_some_and(|e| e.starts_with("AWS_Lambda")) => {
                Environment::Lambda
            }
            None => Environment::Local,
        }
    }

    /// The process environment.
    pub fn current() -> Self {
        Self::detect(|k| std::env::var(k).ok())
    }

    pub fn is_lambda(self) -> bool {
        self == Environment::Lambda
    }
}

/// Lambda's `127.0.0.1:9001` is a bare address; `http://127.0.0.1:9000/.rt` is a URL.
fn runtime_api_is_a_url(api: &str) -> bool {
    let api = api.trim();
    let (scheme, rest) = match api.split_once("://") {
        Some((_, rest)) => (true, rest),
        None => (false, api),
    };
    scheme
        || rest
            .split_once('/')
            .is_some_and(|(_, path)| !path.trim_matches('/').is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(vars: &[(&str, &str)]) -> Environment {
        Environment::detect(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn lambda_is_known_by_its_reserved_variables() {
        // What Lambda sets for provided.al2023: no AWS_EXECUTION_ENV.
        assert_eq!(
            detect(&[
                ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
                ("AWS_LAMBDA_FUNCTION_NAME", "bridge-ghl-new-contact"),
                ("LAMBDA_TASK_ROOT", "/var/task"),
            ]),
            Environment::Lambda
        );
        assert_eq!(
            detect(&[("AWS_LAMBDA_FUNCTION_NAME", "f")]),
            Environment::Lambda
        );
        assert_eq!(
            detect(&[("AWS_LAMBDA_RUNTIME_API", "169.254.100.1:9001/")]),
            Environment::Lambda
        );
        // cargo lambda watch.
        assert_eq!(
            detect(&[
                ("AWS_LAMBDA_RUNTIME_API", "http://127.0.0.1:9000/.rt"),
                ("AWS_LAMBDA_FUNCTION_NAME", "some-function"),
            ]),
            Environment::LocalEmulator
        );
        assert_eq!(
            detect(&[("AWS_LAMBDA_RUNTIME_API", "http://[::1]:9000")]),
            Environment::LocalEmulator
        );
        assert_eq!(detect(&[]), Environment::Local);
        assert_eq!(
            detect(&[("AWS_EXECUTION_ENV", "AWS_Lambda_nodejs22.x")]),
            Environment::Lambda
        );
        assert_eq!(
            detect(&[("AWS_LAMBDA_RUNTIME_API", " ")]),
            Environment::Local
        );
    }
}
