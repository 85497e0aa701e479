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
use serde::Serialize;
use serde_json::Value;

use super::{CallCounter, Service, UpstreamError};
use crate::clock::Clock;
use crate::deadline::Deadline;
use crate::rate_limit::{Admission, Bucket, RateLimiter};
use crate::secrets::{SecretStore, Secrets};

/// Longest upstream message kept in an error, in characters.
const MAX_MESSAGE_CHARS: usize = 500;
const MAX_IN_REQUEST_RETRIES: u32 = 4;
/// A call is not started with less time than this left in the attempt.
const MIN_CALL_TIME: Duration = Duration::from_millis(300);
/// The longest a call waits for a token of the shared budget (within the deadline).
const MAX_TOKEN_WAIT: Duration = Duration::from_secs(10);
/// Time kept, after waiting for a token, for the call itself.
const TOKEN_WAIT_RESERVE: Duration = Duration::from_secs(2);

/// An upstream served in the same process: the request as `http` types, the answer back.
/// Simulations use it to run the real clients against the sandbox in virtual time, with no
/// sockets in between.
pub type InProcess = Arc<
    dyn Fn(
            lambda_http::http::Request<Vec<u8>>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = lambda_http::http::Response<Vec<u8>>> + Send>,
        > + Send
        + Sync,
>;

/// The bucket a call draws from, given the credentials in use (CloudTalk's budget is per
/// account, so per API key).
pub type BucketOf = Arc<dyn Fn(&Secrets) -> Bucket + Send + Sync>;

/// The deployment's shared budget for one upstream.
#[derive(Clone)]
pub struct Throttle {
    pub limiter: Arc<dyn RateLimiter>,
    pub clock: Arc<dyn Clock>,
    pub bucket: BucketOf,
}

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
    /// `version` overrides the dialect's API version (an endpoint whose spec enumerates
    /// another).
    fn apply(
        self,
        request: RequestBuilder,
        secrets: &Secrets,
        version_override: Option<&'static str>,
    ) -> RequestBuilder {
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
                .header("version", version_override.unwrap_or(version)),
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
    /// Repeating it changes nothing (a read), so outages are retried too.
    safe: bool,
    /// The API version this endpoint needs, when not the dialect's.
    version: Option<&'static str>,
    /// Tokens of the shared budget it takes (see [`crate::rate_limit::Bucket::cost`]).
    cost: u32,
}

impl<'a> Call<'a> {
    /// `POST path` with a JSON body; `safe` when repeating it changes nothing (a search).
    fn post(operation: &'static str, path: &'a str, body: &'a Value, safe: bool) -> Self {
        Call {
            operation,
            method: Method::POST,
            path,
            query: &[],
            body: Some(body),
            safe,
            version: None,
            cost: 1,
        }
    }
}

/// An upstream's REST API, spoken in dialect `D`.
#[derive(Clone)]
pub struct RestClient<D> {
    http: reqwest::Client,
    base: String,
    /// The credentials are read from here on every call, so a rotated secret takes effect at once.
    secrets: Arc<SecretStore>,
    calls: CallCounter,
    retry_budget: Duration,
    /// Per-request timeout, shortened to the attempt's time left.
    timeout: Duration,
    throttle: Option<Throttle>,
    in_process: Option<InProcess>,
    /// What the upstream's rate-limit headers said last (CloudTalk's `Remaining`), shared by
    /// every client of the same account in this container.
    account: Arc<AccountMeter>,
    dialect: PhantomData<D>,
}

/// One upstream account's rate-limit readings in this container: the last
/// `X-CloudTalkAPI-Remaining` seen (with its window's reset time), and what a bulk request was
/// measured to cost (the drop of `Remaining` across it; the least seen, since another
/// caller's request in between can only make the drop larger).
#[derive(Debug, Default)]
pub struct AccountMeter {
    last: std::sync::Mutex<Option<(u64, Option<i64>)>>,
    bulk_cost: std::sync::atomic::AtomicU32,
    /// Until when (Unix ms) the account is known to have no Conversation Intelligence (the AI
    /// API answered 403): its AI reads are answered without a request meanwhile.
    no_ai_until_ms: std::sync::atomic::AtomicI64,
}

impl AccountMeter {
    /// Whether the AI API said, less than an hour before `now_ms`, that the plan has no AI.
    pub fn knows_no_ai(&self, now_ms: i64) -> bool {
        now_ms
            < self
                .no_ai_until_ms
                .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Notes that the AI API answered 403 (not on this plan) at `now_ms`.
    pub fn saw_no_ai(&self, now_ms: i64) {
        let until = now_ms + 3_600_000;
        self.no_ai_until_ms
            .store(until, std::sync::atomic::Ordering::Relaxed);
    }

    /// The last reading of `Remaining` and its reset time.
    pub fn last(&self) -> Option<(u64, Option<i64>)> {
        self.last.lock().ok().and_then(|l| *l)
    }

    /// Keeps a reading when it is the newest: of a later window, or lower in the same one.
    /// `Remaining` only falls within a window, so an answer that arrives late (sent before
    /// others, its reading older) never undoes a newer one, and a bulk request's drop is
    /// never read smaller than it was.
    fn note(&self, remaining: Option<u64>, reset: Option<i64>) {
        if let (Some(remaining), Ok(mut last)) = (remaining, self.last.lock()) {
            let newer = match *last {
                None => true,
                Some((was, window)) => reset > window || (reset == window && remaining < was),
            };
            if newer {
                *last = Some((remaining, reset));
            }
        }
    }

    /// What a bulk request costs, once measured (or learned from another container).
    pub fn bulk_cost(&self) -> Option<u32> {
        match self.bulk_cost.load(std::sync::atomic::Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }

    /// Keeps `cost` when it is the least seen so far.
    pub fn observe_bulk_cost(&self, cost: u32) {
        if cost == 0 {
            return;
        }
        let cell = &self.bulk_cost;
        let mut seen = cell.load(std::sync::atomic::Ordering::Relaxed);
        while seen == 0 || cost < seen {
            match cell.compare_exchange(
                seen,
                cost,
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => seen = now,
            }
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
            timeout: super::DEFAULT_TIMEOUT,
            throttle: None,
            in_process: None,
            account: Arc::default(),
            dialect: PhantomData,
        }
    }

    /// Shares `meter` with every client of the same account.
    pub fn with_account_meter(mut self, meter: Arc<AccountMeter>) -> Self {
        self.account = meter;
        self
    }

    /// This client's account readings.
    pub fn meter(&self) -> &AccountMeter {
        &self.account
    }

    /// Now, on the clock the budget reads (the system clock without a budget).
    pub fn now_ms(&self) -> i64 {
        match &self.throttle {
            Some(throttle) => throttle.clock.now_ms(),
            None => chrono::Utc::now().timestamp_millis(),
        }
    }

    /// The per-request timeout (the HTTP client's own, at most).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends every request to an upstream in this process instead of over HTTP.
    pub fn with_in_process(mut self, upstream: InProcess) -> Self {
        self.in_process = Some(upstream);
        self
    }

    /// Takes a token from the shared budget before every call.
    pub fn with_throttle(mut self, throttle: Throttle) -> Self {
        self.throttle = Some(throttle);
        self
    }

    /// How long a call may spend retrying rate limits and outages.
    pub fn with_retry_budget(mut self, budget: Duration) -> Self {
        self.retry_budget = budget;
        self
    }

    /// A read: `GET path?query`.
    pub(crate) async fn get(
        &self,
        operation: &'static str,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Value, UpstreamError> {
        self.call(operation, Method::GET, path, query, None).await
    }

    /// A write: `method path` with `body` as JSON.
    pub(crate) async fn write<B: Serialize + ?Sized>(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<Value, UpstreamError> {
        let body = serde_json::to_value(body).unwrap_or_default();
        self.call(operation, method, path, &[], Some(&body)).await
    }

    /// A write that the upstream counts as `cost` requests (a CloudTalk bulk request).
    pub(crate) async fn write_costing<B: Serialize + ?Sized>(
        &self,
        operation: &'static str,
        path: &str,
        body: &B,
        cost: u32,
    ) -> Result<Value, UpstreamError> {
        let body = serde_json::to_value(body).unwrap_or_default();
        let mut call = Call::post(operation, path, &body, false);
        call.cost = cost.max(1);
        self.run(call).await
    }

    /// A removal: `DELETE path` (repeating it changes nothing).
    pub(crate) async fn delete(
        &self,
        operation: &'static str,
        path: &str,
    ) -> Result<Value, UpstreamError> {
        let call = Call {
            operation,
            method: Method::DELETE,
            path,
            query: &[],
            body: None,
            safe: true,
            version: None,
            cost: 1,
        };
        self.run(call).await
    }

    /// A write sent once whatever its answer, never repeated by the client: one whose repeat
    /// would do it twice in a way no read-back can undo (a click-to-call rings again).
    pub(crate) async fn write_once<B: Serialize + ?Sized>(
        &self,
        operation: &'static str,
        path: &str,
        body: &B,
    ) -> Result<Value, UpstreamError> {
        let body = serde_json::to_value(body).unwrap_or_default();
        let call = Call::post(operation, path, &body, false);
        self.run_within(call, Duration::ZERO).await
    }

    /// A read sent as `POST path` with `body` (a search): retried like a `GET`, since
    /// repeating it changes nothing.
    pub(crate) async fn search<B: Serialize + ?Sized>(
        &self,
        operation: &'static str,
        path: &str,
        body: &B,
    ) -> Result<Value, UpstreamError> {
        let body = serde_json::to_value(body).unwrap_or_default();
        self.run(Call::post(operation, path, &body, true)).await
    }

    /// A write under API `version` (GHL's conversations endpoints use `2021-04-15`).
    pub(crate) async fn write_versioned<B: Serialize + ?Sized>(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        body: &B,
        version: &'static str,
    ) -> Result<Value, UpstreamError> {
        let body = serde_json::to_value(body).unwrap_or_default();
        let safe = false;
        let call = Call {
            operation,
            method,
            path,
            query: &[],
            body: Some(&body),
            safe,
            version: Some(version),
            cost: 1,
        };
        self.run(call).await
    }

    /// A read under API `version`.
    pub(crate) async fn get_versioned(
        &self,
        operation: &'static str,
        path: &str,
        query: &[(&str, &str)],
        version: &'static str,
    ) -> Result<Value, UpstreamError> {
        let call = Call {
            operation,
            method: Method::GET,
            path,
            query,
            body: None,
            safe: true,
            version: Some(version),
            cost: 1,
        };
        self.run(call).await
    }

    /// What `operation` expected to find in the answer, or an invalid-response error naming it.
    pub(crate) fn expect<T>(
        operation: &'static str,
        found: Option<T>,
        what: &str,
    ) -> Result<T, UpstreamError> {
        found.ok_or_else(|| Self::invalid(operation, &format!("no {what} in the answer")))
    }

    /// One API call, repeated on rate limits (waiting what the rate-limit headers ask) and
    /// outages within the retry budget.
    async fn call(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, UpstreamError> {
        let call = Call {
            operation,
            safe: method == Method::GET,
            method,
            path,
            query,
            body,
            version: None,
            cost: 1,
        };
        self.run(call).await
    }

    async fn run(&self, call: Call<'_>) -> Result<Value, UpstreamError> {
        self.run_within(call, self.retry_budget).await
    }

    /// [`Self::run`] with `budget` for retries (zero: the request is sent once).
    async fn run_within(&self, call: Call<'_>, budget: Duration) -> Result<Value, UpstreamError> {
        let operation = call.operation;
        let mut retries = Retries::new(budget, call.safe);
        let mut pause = None;
        loop {
            let result = match self.send(&call, pause).await {
                Ok(response) => self.answer(operation, response).await,
                Err(e) => Err(e),
            };
            if let Err(UpstreamError::Status { status: 429, .. }) = &result {
                self.calls.rate_limited(D::SERVICE);
            }
            pause = retries.pause_after(&result);
            if pause.is_none() {
                return result;
            }
        }
    }

    /// Every request to the upstream leaves from here, once per attempt: after the pause the
    /// retry policy chose, with a token of the shared budget, within the attempt's deadline,
    /// with the credentials in use at that moment, counted.
    async fn send(
        &self,
        call: &Call<'_>,
        pause: Option<Duration>,
    ) -> Result<Response, UpstreamError> {
        if let Some(pause) = pause {
            tokio::time::sleep(pause).await;
        }
        let secrets = self.secrets.current();
        self.admit(call.operation, &secrets, call.cost).await?;
        if Deadline::time_left().is_some_and(|left| left < MIN_CALL_TIME) {
            return Err(UpstreamError::OutOfTime {
                service: D::SERVICE,
                operation: call.operation,
            });
        }
        let url = format!("{}{}", self.base, call.path);
        let request = self.http.request(call.method.clone(), &url);
        let mut request = D::AUTH
            .apply(request, &secrets, call.version)
            .header("accept", "application/json")
            .timeout(Deadline::bound(self.timeout));
        if !call.query.is_empty() {
            request = request.query(call.query);
        }
        if let Some(body) = call.body {
            request = request.json(body);
        }
        self.calls.increment(D::SERVICE);
        match &self.in_process {
            Some(upstream) => {
                self.send_in_process(upstream, request, call.operation)
                    .await
            }
            None => request
                .send()
                .await
                .map_err(|e| transport_error(D::SERVICE, call.operation, e)),
        }
    }

    /// The same request, answered by an upstream in this process, within the same timeout.
    async fn send_in_process(
        &self,
        upstream: &InProcess,
        request: RequestBuilder,
        operation: &'static str,
    ) -> Result<Response, UpstreamError> {
        let request = request
            .build()
            .map_err(|e| transport_error(D::SERVICE, operation, e))?;
        let mut http = lambda_http::http::Request::builder()
            .method(request.method().clone())
            .uri(request.url().as_str());
        for (name, value) in request.headers() {
            http = http.header(name, value);
        }
        let body = request
            .body()
            .and_then(|b| b.as_bytes())
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        let http = http
            .body(body)
            .map_err(|e| Self::invalid(operation, &e.to_string()))?;
        let timeout = Deadline::bound(self.timeout);
        match tokio::time::timeout(timeout, upstream(http)).await {
            Ok(answer) => Ok(Response::from(answer)),
            Err(_) => Err(UpstreamError::Transport {
                service: D::SERVICE,
                operation,
                message: "request timed out".into(),
                timed_out: true,
            }),
        }
    }

    /// Takes a token from the shared budget: at once, after a reserved wait that fits the
    /// deadline, or not at all (the event is told when its turn comes). A budget that cannot
    /// be read does not stop the call; the upstream's own limit still answers 429.
    async fn admit(
        &self,
        operation: &'static str,
        secrets: &Secrets,
        cost: u32,
    ) -> Result<(), UpstreamError> {
        let Some(throttle) = &self.throttle else {
            return Ok(());
        };
        let background = crate::rate_limit::is_background();
        let bucket = match background {
            true => (throttle.bucket)(secrets).for_background(),
            false => (throttle.bucket)(secrets),
        }
        .costing(cost);
        // A lead waits in the import lane rather than book a turn; arriving, its single
        // calls leave half the burst to the import's bulk requests (a lead alone finds the
        // bucket full and goes at once; during an import it joins the lane).
        let bucket = match crate::rate_limit::is_in_lane() {
            true if cost == 1 && crate::rate_limit::is_arriving() => {
                bucket.unbooked().for_background()
            }
            true => bucket.unbooked(),
            false => bucket,
        };
        loop {
            // A call that costs several tokens (a bulk request) may wait for as many to come
            // in: it reserves them, so that single calls cannot starve it.
            let most = match crate::rate_limit::is_patient() {
                true => MAX_TOKEN_WAIT * 4,
                false => MAX_TOKEN_WAIT * cost.clamp(1, 4),
            };
            let may_wait = Deadline::time_left()
                .map_or(most, |left| left.saturating_sub(TOKEN_WAIT_RESERVE))
                .min(most);
            let now_ms = throttle.clock.now_ms();
            let may_wait_ms = i64::try_from(may_wait.as_millis()).unwrap_or(0);
            let admission = throttle.limiter.acquire(&bucket, now_ms, may_wait_ms).await;
            match admission {
                // Background work waits for the bucket to be above the reserve again.
                Ok(Admission::Throttled { turn_in }) if background && turn_in <= may_wait => {
                    tokio::time::sleep(turn_in).await;
                }
                other => return self.admitted(operation, other).await,
            }
        }
    }

    async fn admitted(
        &self,
        operation: &'static str,
        admission: Result<Admission, crate::store::StoreError>,
    ) -> Result<(), UpstreamError> {
        match admission {
            Ok(Admission::Now) => Ok(()),
            Ok(Admission::After(wait)) => {
                tokio::time::sleep(wait).await;
                Ok(())
            }
            Ok(Admission::Throttled { turn_in }) => Err(UpstreamError::Throttled {
                service: D::SERVICE,
                operation,
                retry_after_secs: turn_in.as_millis().div_ceil(1000).max(1) as u64,
            }),
            Err(e) => {
                tracing::warn!(service = %D::SERVICE, detail = %e, "the shared request budget could not be read; calling anyway");
                Ok(())
            }
        }
    }

    async fn answer(
        &self,
        operation: &'static str,
        response: Response,
    ) -> Result<Value, UpstreamError> {
        let status = response.status();
        let limit = D::RATE_LIMIT.read(response.headers());
        if let RateLimit::ResetAt(reset) = limit {
            let remaining = header_number(response.headers(), "x-cloudtalkapi-remaining");
            self.account.note(remaining, reset);
        }
        let text = response
            .text()
            .await
            .map_err(|e| transport_error(D::SERVICE, operation, e))?;
        let now_secs = self.now_ms().div_euclid(1000);
        Self::interpret(operation, status, limit, &text, now_secs)
    }

    /// The outcome of an answer: its JSON, or the error its status, envelope or body says.
    pub(super) fn interpret(
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
        if self.started.elapsed() + wait > self.budget || !Deadline::allows(wait, MIN_CALL_TIME) {
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
        // Not a failure of the upstream: the event waits for its turn or for the next attempt.
        UpstreamError::InvalidResponse { .. }
        | UpstreamError::Throttled { .. }
        | UpstreamError::OutOfTime { .. } => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_answer_never_undoes_a_newer_reading_of_remaining() {
        let meter = AccountMeter::default();
        meter.note(Some(40), Some(120));
        // Sent earlier, answered later: its reading is older.
        meter.note(Some(45), Some(120));
        assert_eq!(meter.last(), Some((40, Some(120))));
        meter.note(Some(30), Some(120));
        assert_eq!(meter.last(), Some((30, Some(120))));
        // A new window starts full again.
        meter.note(Some(59), Some(180));
        assert_eq!(meter.last(), Some((59, Some(180))));
        // A reading of the old window, arriving late, is ignored.
        meter.note(Some(10), Some(120));
        assert_eq!(meter.last(), Some((59, Some(180))));
    }
    use reqwest::header::{HeaderValue, AUTHORIZATION};
    use serde_json::json;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_reset_time_is_read_trimmed_and_anything_else_ignored() {
        let read = |value: &str| {
            RateLimitHeaders::ResetTime.read(&headers(&[("x-cloudtalkapi-resettime", value)]))
        };
        assert_eq!(
            read(" 1700000030 "),
            RateLimit::ResetAt(Some(1_700_000_030))
        );
        assert_eq!(read("soon"), RateLimit::ResetAt(None));
        assert_eq!(
            RateLimitHeaders::ResetTime.read(&headers(&[("x-ratelimit-remaining", "0")])),
            RateLimit::ResetAt(None),
            "GoHighLevel's headers mean nothing to CloudTalk"
        );
    }

    #[test]
    fn the_reset_time_asks_for_a_wait_on_any_failure_between_one_second_and_two_minutes() {
        let now = 1_700_000_000;
        assert_eq!(
            RateLimit::ResetAt(Some(now + 7)).retry_after_secs(429, now),
            Some(7)
        );
        assert_eq!(
            RateLimit::ResetAt(Some(now + 7)).retry_after_secs(503, now),
            Some(7)
        );
        assert_eq!(
            RateLimit::ResetAt(Some(now - 30)).retry_after_secs(429, now),
            Some(1)
        );
        assert_eq!(
            RateLimit::ResetAt(Some(now + 900)).retry_after_secs(429, now),
            Some(120)
        );
        assert_eq!(RateLimit::ResetAt(None).retry_after_secs(429, now), None);
    }

    #[test]
    fn the_interval_headers_ask_for_a_wait_only_on_a_429() {
        let limit = RateLimitHeaders::Interval.read(&headers(&[
            ("x-ratelimit-interval-milliseconds", "2500"),
            ("x-ratelimit-remaining", "0"),
        ]));
        assert_eq!(
            limit,
            RateLimit::Interval {
                interval_ms: Some(2500),
                remaining: Some(0)
            }
        );
        assert_eq!(
            limit.retry_after_secs(429, 0),
            Some(3),
            "one interval, rounded up"
        );
        assert_eq!(limit.retry_after_secs(500, 0), None);
        let wait = |interval_ms, remaining| {
            RateLimit::Interval {
                interval_ms,
                remaining,
            }
            .retry_after_secs(429, 0)
        };
        assert_eq!(wait(Some(10), Some(0)), Some(1), "at least a second");
        assert_eq!(wait(None, None), Some(10), "no headers: ten seconds");
        assert_eq!(wait(Some(10_000), Some(4)), Some(1), "burst left: a second");
    }

    fn authorized(auth: Auth, secrets: &Secrets) -> reqwest::Request {
        let request = reqwest::Client::new().get("http://upstream.test/x");
        auth.apply(request, secrets, None).build().unwrap()
    }

    #[test]
    fn credentials_are_taken_from_the_secrets_given() {
        let secrets = Secrets {
            cloudtalk_api_key_id: Some("id".into()),
            cloudtalk_api_key_secret: Some("secret".into()),
            ghl_api_token: Some("pit-1".into()),
            ..Secrets::default()
        };
        let basic = authorized(Auth::CloudTalkApiKey, &secrets);
        assert_eq!(basic.headers()[AUTHORIZATION], "Basic aWQ6c2VjcmV0");
        assert!(basic.headers().get("version").is_none());
        let bearer = authorized(
            Auth::GhlToken {
                version: "2021-07-28",
            },
            &secrets,
        );
        assert_eq!(bearer.headers()[AUTHORIZATION], "Bearer pit-1");
        assert_eq!(bearer.headers()["version"], "2021-07-28");
        let missing = authorized(Auth::CloudTalkApiKey, &Secrets::default());
        assert_eq!(
            missing.headers()[AUTHORIZATION],
            "Basic Og==",
            "empty id and secret"
        );
    }

    fn status(status: u16, retry_after_secs: Option<u64>) -> UpstreamError {
        UpstreamError::Status {
            service: Service::CloudTalk,
            operation: "test",
            status,
            message: String::new(),
            retry_after_secs,
        }
    }

    fn timeout() -> UpstreamError {
        UpstreamError::Transport {
            service: Service::GoHighLevel,
            operation: "test",
            message: "request timed out".into(),
            timed_out: true,
        }
    }

    #[test]
    fn only_retry_worthy_failures_are_repeated_and_timeouts_only_for_reads() {
        let pause = |error: UpstreamError, idempotent| {
            Retries::new(Duration::from_secs(60), idempotent).pause_after::<()>(&Err(error))
        };
        assert!(Retries::new(Duration::from_secs(60), true)
            .pause_after(&Ok(()))
            .is_none());
        assert!(pause(status(400, None), true).is_none());
        assert!(pause(status(404, Some(1)), true).is_none());
        assert!(pause(status(500, None), false).is_some());
        assert!(pause(timeout(), true).is_some());
        assert!(
            pause(timeout(), false).is_none(),
            "the write may have landed"
        );
    }

    #[test]
    fn retries_wait_what_was_asked_and_stop_at_the_budget_or_the_fourth_retry() {
        let asked = Retries::new(Duration::from_secs(60), true)
            .pause_after::<()>(&Err(status(429, Some(2))))
            .unwrap();
        assert!(asked >= Duration::from_secs(2) && asked < Duration::from_millis(2100));
        let over_budget = Retries::new(Duration::from_secs(1), true)
            .pause_after::<()>(&Err(status(429, Some(2))));
        assert!(over_budget.is_none());

        let mut retries = Retries::new(Duration::from_secs(3600), true);
        let pauses: Vec<_> = (0..5)
            .map(|_| retries.pause_after::<()>(&Err(status(503, None))))
            .collect();
        let backoff: Vec<_> = pauses[..4]
            .iter()
            .map(|p| p.unwrap().as_millis() / 100 * 100)
            .collect();
        assert_eq!(
            backoff,
            [400, 800, 1600, 3200],
            "doubling, jitter under 100 ms"
        );
        assert!(pauses[4].is_none());
    }

    #[test]
    fn messages_are_masked_and_shortened() {
        let masked = upstream_message("no contact with jane.doe@example.com");
        assert!(!masked.contains("jane.doe@example.com"), "{masked}");
        let long = upstream_message(&"x".repeat(600));
        assert_eq!(long.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(long.ends_with('…'));
        assert_eq!(upstream_message("short"), "short");
    }

    /// A dialect with every default, to check what the core does on its own.
    struct Plain;

    impl Dialect for Plain {
        const SERVICE: Service = Service::GoHighLevel;
        const AUTH: Auth = Auth::GhlToken { version: "v" };
        const RATE_LIMIT: RateLimitHeaders = RateLimitHeaders::Interval;

        fn error_message(body: &Value, _status: StatusCode) -> String {
            body["why"].as_str().unwrap_or("?").to_string()
        }
    }

    type Core = RestClient<Plain>;

    #[test]
    fn an_answer_fails_by_its_status_with_the_dialects_message_and_the_wait_asked() {
        let limit = RateLimit::Interval {
            interval_ms: Some(4000),
            remaining: Some(0),
        };
        let body = json!({ "why": format!("slow down, {}", "y".repeat(600)) }).to_string();
        match Core::interpret("op", StatusCode::TOO_MANY_REQUESTS, limit, &body, 0) {
            Err(UpstreamError::Status {
                service,
                operation,
                status,
                message,
                retry_after_secs,
            }) => {
                assert_eq!(
                    (service, operation, status),
                    (Service::GoHighLevel, "op", 429)
                );
                assert!(message.starts_with("slow down, yyy"));
                assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
                assert_eq!(retry_after_secs, Some(4));
            }
            other => panic!("expected a status error, got {other:?}"),
        }
    }

    #[test]
    fn a_successful_answer_is_its_json_or_null_unless_the_dialect_requires_json() {
        let limit = RateLimit::ResetAt(None);
        let ok = Core::interpret("op", StatusCode::OK, limit, r#"{"a":1}"#, 0);
        assert_eq!(ok.unwrap(), json!({"a": 1}));
        let empty = Core::interpret("op", StatusCode::NO_CONTENT, limit, "", 0);
        assert_eq!(empty.unwrap(), Value::Null);
    }

    struct Rotating(std::sync::Mutex<String>);

    #[async_trait::async_trait]
    impl crate::secrets::SecretSource for Rotating {
        fn name(&self) -> &str {
            "test secret"
        }
        async fn fetch(&self) -> Result<std::collections::HashMap<String, String>, String> {
            let token = self.0.lock().map_err(|e| e.to_string())?.clone();
            Ok([("GHL_API_TOKEN".to_string(), token)].into())
        }
    }

    #[tokio::test]
    async fn every_attempt_reads_the_credentials_in_use_and_is_counted() {
        use wiremock::matchers::{header, method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        for (token, status) in [
            ("Bearer old", 200),
            ("Bearer new", 503),
            ("Bearer new", 200),
        ] {
            Mock::given(method("GET"))
                .and(path("/x"))
                .and(header("authorization", token))
                .and(header("version", "v"))
                .respond_with(ResponseTemplate::new(status).set_body_json(json!({ "why": token })))
                .up_to_n_times(1)
                .expect(1)
                .mount(&server)
                .await;
        }
        let source = Arc::new(Rotating(std::sync::Mutex::new("old".into())));
        let clock = Arc::new(crate::clock::ManualClock::at_ms(0));
        let env: crate::secrets::Lookup = Arc::new(|_| None);
        let store = SecretStore::load(source.clone(), env, Duration::from_secs(1), clock.clone());
        let store = Arc::new(store.await.unwrap());
        let calls = CallCounter::default();
        let base = format!("{}/", server.uri());
        let core = Core::new(reqwest::Client::new(), &base, store.clone(), calls.clone());

        let first = core.get("read", "/x", &[]).await.unwrap();
        assert_eq!(first, json!({ "why": "Bearer old" }));
        *source.0.lock().unwrap() = "new".into();
        clock.advance_ms(1_000);
        store.refresh_if_due().await;
        let second = core.get("read", "/x", &[]).await.unwrap();
        assert_eq!(
            second,
            json!({ "why": "Bearer new" }),
            "retried after the 503"
        );
        assert_eq!(calls.get(), 3, "one count per attempt");
    }
}
