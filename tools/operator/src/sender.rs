//! Posts sample events (API Gateway HTTP API v2 event files, as in `events/`) to a running
//! bridge, local or deployed, with the right credential for each route, and reports the status
//! of each against what its file name expects.
//!
//! The webhook secrets it sends are never arguments (shells keep those in their history, and
//! every user of the machine sees a process's arguments): each comes from a file named by a
//! flag (`-` for standard input), else from the environment (`GHL_WEBHOOK_SECRET`,
//! `CLOUDTALK_WEBHOOK_SECRET`, their first value, as the local run sets them), else the
//! sample's own credential is sent ([`read_secret`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

/// Why a webhook secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("reading the {what} secret from {path}: {reason}")]
    Unreadable {
        what: &'static str,
        path: String,
        reason: String,
    },
    #[error("the {what} secret in {path} is empty")]
    Empty { what: &'static str, path: String },
    #[error("only one secret can come from standard input (-)")]
    TwoFromStdin,
}

/// The first of a comma-separated list of secrets (as `GHL_WEBHOOK_SECRET` may hold during a
/// rotation), trimmed; none when empty.
fn first_of(list: &str) -> Option<String> {
    list.split(',')
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_string)
}

/// The `what` (`GHL`, `CloudTalk`) webhook secret to send: the first value of the file `file`
/// (`-`: `stdin`), else of the variable `variable` in `env`, else none (the samples' own).
pub fn read_secret(
    what: &'static str,
    file: Option<&Path>,
    variable: &str,
    env: &dyn Fn(&str) -> Option<String>,
    stdin: &mut dyn FnMut() -> std::io::Result<String>,
) -> Result<Option<String>, SecretError> {
    let Some(file) = file else {
        return Ok(env(variable).as_deref().and_then(first_of));
    };
    let path = file.display().to_string();
    let text = match path.as_str() {
        "-" => stdin(),
        _ => std::fs::read_to_string(file),
    }
    .map_err(|e| SecretError::Unreadable {
        what,
        path: path.clone(),
        reason: e.to_string(),
    })?;
    first_of(&text)
        .map(Some)
        .ok_or(SecretError::Empty { what, path })
}

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct SendOptions {
    /// e.g. `http://127.0.0.1:9000` or the stack's `ApiUrl`.
    pub base_url: String,
    /// Replaces the sample's credential on `/api/ghl-webhooks/` routes.
    pub ghl_secret: Option<String>,
    /// Replaces the sample's credential on `/api/cloudtalk-webhooks/` routes.
    pub cloudtalk_secret: Option<String>,
    pub timeout: Duration,
    /// Samples signed by GHL (`x-ghl-signature`) are sent with a current `timestamp`, signed
    /// again with the samples' test key ([`crate::sample_key`]); on by default, for the local
    /// run, which trusts that key.
    pub resign: bool,
}

/// The outcome of one event.
#[derive(Debug, Clone)]
pub struct Sent {
    pub file: PathBuf,
    pub method: String,
    pub path: String,
    pub expected: u16,
    /// The answer's status, or why nothing was answered.
    pub status: Result<u16, String>,
    /// The answer's `result` or `error` field.
    pub summary: Option<String>,
    /// The answer's JSON body, when it had one.
    pub answer: Option<Value>,
    pub elapsed: Duration,
}

impl Sent {
    pub fn as_expected(&self) -> bool {
        self.status.as_ref().is_ok_and(|s| *s == self.expected)
    }
}

/// The API Gateway event files under `paths` (files, or folders searched recursively), in
/// endpoint order: contacts are created before they are tagged, noted or called. Other files
/// (the retry worker's SQS samples, reconciliation's scheduled event) are left out.
pub fn collect(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    fn walk(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        if path.is_dir() {
            for entry in std::fs::read_dir(path)? {
                walk(&entry?.path(), out)?;
            }
        } else if path.extension().and_then(|e| e.to_str()) == Some("json") && is_http_event(path) {
            out.push(path.to_path_buf());
        }
        Ok(())
    }
    let mut files = Vec::new();
    for path in paths {
        walk(path, &mut files)?;
    }
    let rank = |file: &Path| {
        let function = file
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        bridge::registry::routes()
            .iter()
            .position(|e| e.function == function)
            .unwrap_or(usize::MAX)
    };
    files.sort_by(|a, b| (rank(a), a).cmp(&(rank(b), b)));
    files.dedup();
    Ok(files)
}

fn is_http_event(path: &Path) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .is_some_and(|v| v.pointer("/requestContext/http/method").is_some())
}

/// A request read from an event file.
struct Prepared {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn prepare(event: &Value, options: &SendOptions, expected: u16) -> Result<Prepared, String> {
    let method = event
        .pointer("/requestContext/http/method")
        .and_then(Value::as_str)
        .ok_or("not an HTTP API v2 event: no requestContext.http.method")?
        .to_string();
    let path = event
        .get("rawPath")
        .and_then(Value::as_str)
        .ok_or("not an HTTP API v2 event: no rawPath")?
        .to_string();
    let query = event
        .get("rawQueryString")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let body = match event.get("body").and_then(Value::as_str) {
        None => Vec::new(),
        Some(text) if event.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| format!("body is not valid base64: {e}"))?
        }
        Some(text) => text.as_bytes().to_vec(),
    };
    let secret = if path.starts_with("/api/ghl-webhooks/") {
        options.ghl_secret.as_deref()
    } else if path.starts_with("/api/cloudtalk-webhooks/") {
        options.cloudtalk_secret.as_deref()
    } else {
        None
    };
    let mut headers = Vec::new();
    let mut body = body;
    let signed = event
        .pointer("/headers/x-ghl-signature")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    let mut signature = None;
    if signed && options.resign && expected != 401 {
        // GHL signs a fresh timestamp: the sample's is made current and signed again with the
        // samples' test key (which the local run trusts).
        if let Some((fresh, signed_again)) = crate::sample_key::refreshed(&body) {
            body = fresh;
            signature = Some(signed_again);
        }
    }
    if let Some(map) = event.get("headers").and_then(Value::as_object) {
        for (name, value) in map {
            let name = name.to_lowercase();
            if matches!(name.as_str(), "host" | "content-length") {
                continue;
            }
            let Some(value) = value.as_str() else {
                continue;
            };
            // Samples that test refusals keep their wrong credential.
            let value = match (name.as_str(), secret, expected) {
                ("x-ghl-signature", _, _) if signature.is_some() => {
                    signature.clone().unwrap_or_default()
                }
                ("authorization", Some(s), e) if e != 401 => format!("Bearer {s}"),
                ("x-webhook-secret", Some(s), e) if e != 401 => s.to_string(),
                _ => value.to_string(),
            };
            headers.push((name, value));
        }
    }
    Ok(Prepared {
        method,
        path,
        query,
        headers,
        body,
    })
}

/// Sends one event file.
pub async fn send(client: &reqwest::Client, options: &SendOptions, file: &Path) -> Sent {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let expected = bridge::expected_sample_status(stem);
    let started = Instant::now();
    let failed = |method: String, path: String, error: String| Sent {
        file: file.to_path_buf(),
        method,
        path,
        expected,
        status: Err(error),
        summary: None,
        answer: None,
        elapsed: started.elapsed(),
    };
    let event: Value = match std::fs::read(file)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => return failed(String::new(), String::new(), e),
    };
    let prepared = match prepare(&event, options, expected) {
        Ok(p) => p,
        Err(e) => return failed(String::new(), String::new(), e),
    };
    let mut url = format!(
        "{}{}",
        options.base_url.trim_end_matches('/'),
        prepared.path
    );
    if !prepared.query.is_empty() {
        url = format!("{url}?{}", prepared.query);
    }
    let method =
        reqwest::Method::from_bytes(prepared.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut request = client.request(method, &url).timeout(options.timeout);
    for (name, value) in &prepared.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    if !prepared.body.is_empty() {
        request = request.body(prepared.body.clone());
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let summary = body
                .get("result")
                .or_else(|| body.get("error"))
                .or_else(|| body.get("status"))
                .and_then(Value::as_str)
                .map(|s| {
                    if body.get("duplicate") == Some(&Value::Bool(true)) {
                        format!("duplicate ({s})")
                    } else {
                        s.to_string()
                    }
                });
            Sent {
                file: file.to_path_buf(),
                method: prepared.method,
                path: prepared.path,
                expected,
                status: Ok(status),
                summary,
                answer: (!body.is_null()).then_some(body),
                elapsed: started.elapsed(),
            }
        }
        Err(e) => failed(prepared.method, prepared.path, e.to_string()),
    }
}

/// One line per event: `✓ 200 POST /api/ghl-webhooks/new-contact  events/…/nested.json  (12 ms) applied`.
pub fn line(sent: &Sent) -> String {
    let mark = if sent.as_expected() { "✓" } else { "✗" };
    let status = match &sent.status {
        Ok(s) if *s == sent.expected => s.to_string(),
        Ok(s) => format!("{s} (expected {})", sent.expected),
        Err(e) => format!("failed: {e}"),
    };
    format!(
        "{mark} {status} {} {}  {}  ({} ms){}",
        sent.method,
        sent.path,
        sent.file.display(),
        sent.elapsed.as_millis(),
        sent.summary
            .as_deref()
            .map(|s| format!(" {s}"))
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options() -> SendOptions {
        SendOptions {
            base_url: "http://x".into(),
            ghl_secret: Some("real-ghl".into()),
            cloudtalk_secret: Some("real-ct".into()),
            timeout: Duration::from_secs(1),
            resign: true,
        }
    }

    #[test]
    fn signed_samples_are_sent_with_a_current_timestamp_and_signed_again() {
        let body = r#"{"type":"INSTALL","timestamp":"2026-11-28T10:20:00.000Z"}"#;
        let event = json!({"rawPath": "/api/ghl-webhooks/app-install",
            "requestContext": {"http": {"method": "POST"}},
            "headers": {"x-ghl-signature": "old"}, "body": body});
        let signature = |p: &Prepared| {
            p.headers
                .iter()
                .find(|(n, _)| n == "x-ghl-signature")
                .map(|(_, v)| v.clone())
        };
        let sent = prepare(&event, &options(), 200).unwrap();
        let text = String::from_utf8(sent.body.clone()).unwrap();
        assert!(!text.contains("2026-11-28"), "{text}");
        assert_eq!(signature(&sent), Some(crate::sample_key::sign(&sent.body)));
        // As they are when asked, and on the samples that test a refusal.
        let kept = SendOptions {
            resign: false,
            ..options()
        };
        for (options, expected) in [(kept, 200), (options(), 401)] {
            let sent = prepare(&event, &options, expected).unwrap();
            assert_eq!(sent.body, body.as_bytes());
            assert_eq!(signature(&sent).as_deref(), Some("old"));
        }
    }

    #[test]
    fn secrets_come_from_a_file_or_stdin_else_the_environment() {
        let env = |k: &str| (k == "GHL_WEBHOOK_SECRET").then(|| " old , new ".to_string());
        let mut stdin = || Ok("from-stdin\n".to_string());
        let read = |file: Option<&str>, stdin: &mut dyn FnMut() -> std::io::Result<String>| {
            read_secret(
                "GHL",
                file.map(Path::new),
                "GHL_WEBHOOK_SECRET",
                &env,
                stdin,
            )
        };
        assert_eq!(read(None, &mut stdin).unwrap().as_deref(), Some("old"));
        assert_eq!(
            read(Some("-"), &mut stdin).unwrap().as_deref(),
            Some("from-stdin")
        );
        let file = std::env::temp_dir().join(format!("send-secret-{}", std::process::id()));
        std::fs::write(&file, "from-file\n").unwrap();
        let path = file.to_str().unwrap();
        assert_eq!(
            read(Some(path), &mut stdin).unwrap().as_deref(),
            Some("from-file")
        );
        std::fs::write(&file, "  \n").unwrap();
        let empty = read(Some(path), &mut stdin).unwrap_err().to_string();
        assert!(
            empty.contains("is empty") && !empty.contains("from-file"),
            "{empty}"
        );
        let _ = std::fs::remove_file(&file);
        assert!(read(Some(path), &mut stdin).is_err(), "a missing file");
        let none = read_secret(
            "CloudTalk",
            None,
            "CLOUDTALK_WEBHOOK_SECRET",
            &env,
            &mut stdin,
        );
        assert_eq!(none.unwrap(), None, "the samples' own credential");
    }

    #[test]
    fn credentials_are_replaced_except_on_refusal_samples() {
        let event = json!({"rawPath": "/api/ghl-webhooks/new-tag", "requestContext": {"http": {"method": "POST"}},
            "headers": {"authorization": "Bearer local-dev-ghl-secret", "host": "h"}, "body": "e30=", "isBase64Encoded": true});
        let p = prepare(&event, &options(), 200).unwrap();
        assert_eq!(
            p.headers,
            vec![("authorization".to_string(), "Bearer real-ghl".to_string())]
        );
        assert_eq!(p.body, b"{}");
        let p = prepare(&event, &options(), 401).unwrap();
        assert_eq!(p.headers[0].1, "Bearer local-dev-ghl-secret");
        assert!(prepare(&json!({"body": "x"}), &options(), 200).is_err());
    }
}
