//! HTTP clients of the two upstream APIs, each behind a small trait so handlers can be tested
//! against faithful HTTP fakes and the rest of the code never sees reqwest.

pub mod cloudtalk;
pub mod ghl;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Which upstream a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    CloudTalk,
    GoHighLevel,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::CloudTalk => "CloudTalk",
            Service::GoHighLevel => "GoHighLevel",
        })
    }
}

/// A failed upstream call, carrying the upstream status and message.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("{service} answered {status} on {operation}: {message}")]
    Status {
        service: Service,
        operation: &'static str,
        status: u16,
        message: String,
        /// When the upstream said how long to wait (CloudTalk's reset time, GHL's interval).
        retry_after_secs: Option<u64>,
    },
    #[error("{service} {operation}: {message}")]
    Transport {
        service: Service,
        operation: &'static str,
        message: String,
        /// The request may have reached the upstream (it timed out waiting for the answer).
        timed_out: bool,
    },
    #[error("{service} {operation}: unexpected response: {message}")]
    InvalidResponse {
        service: Service,
        operation: &'static str,
        message: String,
    },
}

impl UpstreamError {
    /// Rate limits, server errors and network failures may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            UpstreamError::Status { status, .. } => *status == 429 || *status >= 500,
            UpstreamError::Transport { .. } => true,
            UpstreamError::InvalidResponse { .. } => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            UpstreamError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Counts the upstream requests made, so every event's log line can say how many it cost.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<AtomicU32>);

impl CallCounter {
    pub fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One reqwest client per container: connection pool, TLS and timeouts are set up once.
pub fn build_http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(3))
        .user_agent(concat!("ghl-cloudtalk-bridge/", env!("CARGO_PKG_VERSION")))
        .build()
}

pub(crate) fn transport_error(
    service: Service,
    operation: &'static str,
    err: reqwest::Error,
) -> UpstreamError {
    let timed_out = err.is_timeout();
    let message = if timed_out {
        "request timed out".to_string()
    } else if err.is_connect() {
        "connection failed".to_string()
    } else {
        // Without the URL: a search URL carries the phone number or email looked up.
        crate::telemetry::redact_text(&err.without_url().to_string())
    };
    UpstreamError::Transport {
        service,
        operation,
        message,
        timed_out,
    }
}

/// Default time an upstream call may spend on retries before the event is queued instead.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(6);
const MAX_IN_REQUEST_RETRIES: u32 = 4;

/// Whether a failed call may be repeated: rate limits, server errors and failed connections.
/// A timeout is repeated only for reads, since the write may have been applied.
fn retry_worthy(error: &UpstreamError, idempotent: bool) -> bool {
    match error {
        UpstreamError::Status { status, .. } => *status == 429 || *status >= 500,
        UpstreamError::Transport { timed_out, .. } => idempotent || !*timed_out,
        UpstreamError::InvalidResponse { .. } => false,
    }
}

/// Runs `call`, repeating retry-worthy failures with jittered exponential backoff (or the wait
/// the upstream asked for) while the time `budget` allows. Other failures return at once.
pub(crate) async fn with_retries<T, F, Fut>(
    budget: Duration,
    idempotent: bool,
    mut call: F,
) -> Result<T, UpstreamError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, UpstreamError>>,
{
    let started = std::time::Instant::now();
    let mut attempt = 0u32;
    loop {
        let result = call().await;
        let error = match &result {
            Err(e) if retry_worthy(e, idempotent) && attempt < MAX_IN_REQUEST_RETRIES => e,
            _ => return result,
        };
        attempt += 1;
        let jitter = Duration::from_millis(u64::from(
            chrono::Utc::now().timestamp_subsec_millis() % 100,
        ));
        let wait = match error {
            UpstreamError::Status {
                retry_after_secs: Some(secs),
                ..
            } => Duration::from_secs(*secs),
            _ => Duration::from_millis(200 << attempt.min(5)),
        } + jitter;
        if started.elapsed() + wait > budget {
            return result;
        }
        tracing::warn!(error = %error, attempt, wait_ms = wait.as_millis() as u64, "upstream call failed; retrying");
        tokio::time::sleep(wait).await;
    }
}

/// Keeps an upstream error message short enough for a log line and a response body, with
/// phone numbers and emails masked.
pub(crate) fn truncate(message: &str, max: usize) -> String {
    let message = crate::telemetry::redact_text(message);
    if message.chars().count() <= max {
        message
    } else {
        let cut: String = message.chars().take(max).collect();
        format!("{cut}…")
    }
}
