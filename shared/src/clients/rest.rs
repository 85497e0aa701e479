//! The REST core both upstream clients are built on.
//!
//! [`RestClient`] owns what every call has in common: the reqwest client, the base URL, the
//! call counter and the retry budget; the credentials, read from the [`SecretStore`] on every
//! call so a rotated secret takes effect at once; the rate-limit headers turned into the wait a
//! failed answer asks for; the retries; and the mapping of statuses and bodies to
//! [`UpstreamError`], with messages masked and shortened. What differs between the upstreams is
//! said by a [`Dialect`].

use std::marker::PhantomData;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

use super::{CallCounter, Service, UpstreamError};
use crate::secrets::{SecretStore, Secrets};

/// Longest upstream message kept in an error, in characters.
const MAX_MESSAGE_CHARS: usize = 500;
const MAX_IN_REQUEST_RETRIES: u32 = 4;

/// What sets one upstream's REST API apart from the other's.
pub trait Dialect: Send + Sync + 'static {
    const SERVICE: Service;
    const AUTH: Auth;
    const RATE_LIMIT: RateLimitHeaders;
    /// Whether a successful answer that is not JSON is invalid (otherwise it reads as `null`).
    const REQUIRES_JSON_ANSWER: bool = false;

    /// The status an answer failed with, if it failed. By default the HTTP status when it is
    /// not a success.
    fn failed_status(status: StatusCode, _body: &Value) -> Option<u16> {
        (!status.is_success()).then(|| status.as_u16())
    }

    /// The human message of a failed answer (masked and shortened by the core).
    fn error_message(body: &Value, status: StatusCode) -> String;
}

/// How a request is authenticated; the credentials are read from the secrets in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// HTTP Basic with CloudTalk's API key id and secret.
    CloudTalkApiKey,
    /// Bearer with the GoHighLevel token, plus the API `Version` header.
    GhlToken { version: &'static str },
}

impl Auth {
    fn apply(self, request: RequestBuilder, secrets: &Secrets) -> RequestBuilder {
        match self {
            Auth::CloudTalkApiKey => request.basic_auth(
                secrets.cloudtalk_api_key_id.as_deref().unwrap_or_default(),
                Some(
                    secrets
                        .cloudtalk_api_key_secret
                        .as_deref()
                        .unwrap_or_default(),
                ),
            ),
            Auth::GhlToken { version } => request
                .bearer_auth(secrets.ghl_api_token.as_deref().unwrap_or_default())
                .header("version", version),
        }
    }
}

/// The rate-limit headers an upstream sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitHeaders {
    /// `X-CloudTalkAPI-ResetTime`: the epoch second the window resets.
    ResetTime,
    /// `X-RateLimit-Interval-Milliseconds` and `X-RateLimit-Remaining` (GoHighLevel).
    Interval,
}

/// What an answer's rate-limit headers said, as far as they parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    ResetAt(Option<i64>),
    Interval {
        interval_ms: Option<u64>,
        remaining: Option<u64>,
    },
}

impl RateLimitHeaders {
    pub fn read(self, headers: &HeaderMap) -> RateLimit {
        match self {
            RateLimitHeaders::ResetTime => {
                RateLimit::ResetAt(header_number(headers, "x-cloudtalkapi-resettime"))
            }
            RateLimitHeaders::Interval => RateLimit::Interval {
                interval_ms: header_number(headers, "x-ratelimit-interval-milliseconds"),
                remaining: header_number(headers, "x-ratelimit-remaining"),
            },
        }
    }
}

impl RateLimit {
    /// How long an answer that failed with `failed` asks to wait, in seconds, at `now_secs`.
    pub fn retry_after_secs(self, failed: u16, now_secs: i64) -> Option<u64> {
        match self {
            // CloudTalk's reset time counts on every failure, between 1 s and 2 minutes.
            RateLimit::ResetAt(reset) => reset.map(|reset| (reset - now_secs).clamp(1, 120) as u64),
            // GHL sends no reset time; when the burst window is spent, wait one interval.
            RateLimit::Interval {
                interval_ms,
                remaining,
            } => (failed == 429).then(|| match remaining {
                Some(0) | None => interval_ms.map(|ms| ms.div_ceil(1000).max(1)).unwrap_or(10),
                Some(_) => 1,
            }),
        }
    }
}

fn header_number<T: FromStr>(headers: &HeaderMap, name: &str) -> Option<T> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// One API call as an endpoint describes it.
struct Call<'a> {
    operation: &'static str,
    method: Method,
    path: &'a str,
    query: &'a [(&'a str, &'a str)],
    body: Option<&'a Value>,
}

/// An upstream's REST API, spoken in dialect `D`.
pub struct RestClient<D> {
    http: reqwest::Client,
    base: String,
    /// The credentials are read from here on every call, so a rotated secret takes effect at once.
    secrets: Arc<SecretStore>,
    calls: CallCounter,
    retry_budget: Duration,
    dialect: PhantomData<D>,
}

impl<D> Clone for RestClient<D> {
    fn clone(&self) -> Self {
        Self {
            http: self.http.clone(),
            base: self.base.clone(),
            secrets: self.secrets.clone(),
            calls: self.calls.clone(),
            retry_budget: self.retry_budget,
            dialect: PhantomData,
        }
    }
}

impl<D: Dialect> RestClient<D> {
    pub fn new(
        http: reqwest::Client,
        base: &str,
        secrets: Arc<SecretStore>,
        calls: CallCounter,
    ) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            secrets,
            calls,
            retry_budget: super::DEFAULT_RETRY_BUDGET,
            dialect: PhantomData,
        }
    }

    /// How long a call may spend retrying rate limits and outages.
    pub fn with_retry_budget(mut self, budget: Duration) -> Self {
        self.retry_budget = budget;
        self
    }

    /// One API call, repeated on rate limits (waiting what the rate-limit headers ask) and
    /// outages within the retry budget.
    pub(crate) async fn call(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, UpstreamError> {
        let call = Call {
            operation,
            method,
            path,
            query,
            body,
        };
        let mut retries = Retries::new(self.retry_budget, call.method == Method::GET);
        let mut pause = None;
        loop {
            let result = match self.send(&call, pause).await {
                Ok(response) => self.answer(operation, response).await,
                Err(e) => Err(e),
            };
            pause = retries.pause_after(&result);
            if pause.is_none() {
                return result;
            }
        }
    }

    /// Every request to the upstream leaves from here, once per attempt: after the pause the
    /// retry policy chose, with the credentials in use at that moment, counted.
    async fn send(
        &self,
        call: &Call<'_>,
        pause: Option<Duration>,
    ) -> Result<Response, UpstreamError> {
        if let Some(pause) = pause {
            tokio::time::sleep(pause).await;
        }
        let url = format!("{}{}", self.base, call.path);
        let request = self.http.request(call.method.clone(), &url);
        let mut request = D::AUTH
            .apply(request, &self.secrets.current())
            .header("accept", "application/json");
        if !call.query.is_empty() {
            request = request.query(call.query);
        }
        if let Some(body) = call.body {
            request = request.json(body);
        }
        self.calls.increment();
        request
            .send()
            .await
            .map_err(|e| transport_error(D::SERVICE, call.operation, e))
    }

    async fn answer(
        &self,
        operation: &'static str,
        response: Response,
    ) -> Result<Value, UpstreamError> {
        let status = response.status();
        let limit = D::RATE_LIMIT.read(response.headers());
        let text = response
            .text()
            .await
            .map_err(|e| transport_error(D::SERVICE, operation, e))?;
        let now_secs = chrono::Utc::now().timestamp();
        Self::interpret(operation, status, limit, &text, now_secs)
    }

    /// The outcome of an answer: its JSON, or the error its status, envelope or body says.
    fn interpret(
        operation: &'static str,
        status: StatusCode,
        limit: RateLimit,
        text: &str,
        now_secs: i64,
    ) -> Result<Value, UpstreamError> {
        let value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        if let Some(failed) = D::failed_status(status, &value) {
            return Err(UpstreamError::Status {
                service: D::SERVICE,
                operation,
                status: failed,
                message: upstream_message(&D::error_message(&value, status)),
                retry_after_secs: limit.retry_after_secs(failed, now_secs),
            });
        }
        if D::REQUIRES_JSON_ANSWER && value.is_null() {
            return Err(Self::invalid(operation, "body is not JSON"));
        }
        Ok(value)
    }

    /// An answer that does not hold what `operation` expects.
    pub(crate) fn invalid(operation: &'static str, message: &str) -> UpstreamError {
        UpstreamError::InvalidResponse {
            service: D::SERVICE,
            operation,
            message: message.to_string(),
        }
    }
}

/// The retry policy of one call: retry-worthy failures are repeated with jittered exponential
/// backoff (or the wait the upstream asked for) while the time budget allows.
struct Retries {
    budget: Duration,
    idempotent: bool,
    started: Instant,
    attempt: u32,
}

impl Retries {
    fn new(budget: Duration, idempotent: bool) -> Self {
        Self {
            budget,
            idempotent,
            started: Instant::now(),
            attempt: 0,
        }
    }

    /// The pause before the next attempt, or `None` when `result` is the call's outcome.
    fn pause_after<T>(&mut self, result: &Result<T, UpstreamError>) -> Option<Duration> {
        let error = match result {
            Err(e) if retry_worthy(e, self.idempotent) && self.attempt < MAX_IN_REQUEST_RETRIES => {
                e
            }
            _ => return None,
        };
        self.attempt += 1;
        let jitter = Duration::from_millis(u64::from(
            chrono::Utc::now().timestamp_subsec_millis() % 100,
        ));
        let wait = backoff(error, self.attempt) + jitter;
        if self.started.elapsed() + wait > self.budget {
            return None;
        }
        tracing::warn!(error = %error, attempt = self.attempt, wait_ms = wait.as_millis() as u64, "upstream call failed; retrying");
        Some(wait)
    }
}

/// Whether a failed call may be repeated: rate limits, server errors and failed connections.
/// A timeout is repeated only for reads, since the write may have been applied.
fn retry_worthy(error: &UpstreamError, idempotent: bool) -> bool {
    match error {
        UpstreamError::Status { status, .. } => *status == 429 || *status >= 500,
        UpstreamError::Transport { timed_out, .. } => idempotent || !*timed_out,
        UpstreamError::InvalidResponse { .. } => false,
    }
}

/// The wait before retry number `attempt`, without jitter.
fn backoff(error: &UpstreamError, attempt: u32) -> Duration {
    match error {
        UpstreamError::Status {
            retry_after_secs: Some(secs),
            ..
        } => Duration::from_secs(*secs),
        _ => Duration::from_millis(200 << attempt.min(5)),
    }
}

fn transport_error(
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

/// Keeps an upstream error message short enough for a log line and a response body, with
/// phone numbers and emails masked.
pub(crate) fn upstream_message(message: &str) -> String {
    let message = crate::telemetry::redact_text(message);
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        message
    } else {
        let cut: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
        format!("{cut}…")
    }
}
