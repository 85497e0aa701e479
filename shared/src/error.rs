//! Typed errors and the one place where they become HTTP responses.

use lambda_http::http::StatusCode;

use crate::clients::UpstreamError;
use crate::store::StoreError;

/// Everything that can stop a webhook from being applied.
///
/// Expected failures (auth, bad input) are answered with a 4xx JSON body; they never panic and
/// never reach an upstream API. [`crate::pipeline::answer`] is the only place that turns them into answers.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("missing or invalid webhook credential")]
    Unauthorized,
    #[error("{0}")]
    InvalidSignature(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{message}")]
    Unprocessable {
        message: String,
        missing: Vec<String>,
    },
    #[error("{0}")]
    Upstream(#[from] UpstreamError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("this event is being applied by another delivery right now")]
    InProgress,
    /// The tenant's GoHighLevel token could not be had just now (GHL's OAuth unavailable, its
    /// answer lost, another container renewing it): the event waits, using no attempt.
    #[error("the tenant's GoHighLevel token: {0}")]
    TokenUnavailable(String),
    /// Authenticated, but not for this deployment (another location or app).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// The tenant exists but cannot be served until someone acts (its authorization).
    #[error("{message}")]
    TenantUnavailable { code: &'static str, message: String },
    /// What the event needs is not there yet (a call's AI summary is computed minutes after
    /// the call): it waits on the retry queue `wait_secs`, using no attempt.
    #[error("{message}")]
    Waiting { message: String, wait_secs: u64 },
    /// A second version of one event (a call) that disagrees with the first on what matters,
    /// and that the system of record does not bear out: parked, never answered as the first.
    #[error("{0}")]
    ConflictingDuplicate(String),
}

impl BridgeError {
    /// A 422 naming the fields that would have identified the record.
    pub fn missing_fields(what: &str, fields: &[&str]) -> Self {
        BridgeError::Unprocessable {
            message: format!(
                "{what}: none of these fields is present: {}",
                fields.join(", ")
            ),
            missing: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    /// Stable machine-readable code used in the `error` field and in logs.
    pub fn code(&self) -> &'static str {
        match self {
            BridgeError::Unauthorized => "unauthorized",
            BridgeError::InvalidSignature(_) => "invalid_signature",
            BridgeError::BadRequest(_) => "bad_request",
            BridgeError::PayloadTooLarge { .. } => "payload_too_large",
            BridgeError::Unprocessable { .. } => "unprocessable_payload",
            BridgeError::Upstream(e) if e.is_retryable() => "upstream_unavailable",
            BridgeError::Upstream(_) => "upstream_rejected",
            BridgeError::Store(_) => "store_unavailable",
            BridgeError::Config(_) => "not_configured",
            BridgeError::InProgress => "in_progress",
            BridgeError::TokenUnavailable(_) => "token_unavailable",
            BridgeError::Forbidden { code, .. } => code,
            BridgeError::TenantUnavailable { code, .. } => code,
            BridgeError::Waiting { .. } => "waiting",
            BridgeError::ConflictingDuplicate(_) => "conflicting_duplicate",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            BridgeError::Unauthorized | BridgeError::InvalidSignature(_) => {
                StatusCode::UNAUTHORIZED
            }
            BridgeError::BadRequest(_) => StatusCode::BAD_REQUEST,
            BridgeError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BridgeError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            // GoHighLevel re-delivers a webhook only when it is answered with 429, never after a
            // 5xx; a transient failure is therefore answered with 429 so the event comes back.
            BridgeError::Upstream(e) if e.is_retryable() => StatusCode::TOO_MANY_REQUESTS,
            BridgeError::Store(_) => StatusCode::TOO_MANY_REQUESTS,
            BridgeError::Upstream(_) => StatusCode::BAD_GATEWAY,
            BridgeError::Config(_) => StatusCode::SERVICE_UNAVAILABLE,
            BridgeError::InProgress | BridgeError::TokenUnavailable(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            BridgeError::Forbidden { .. } => StatusCode::FORBIDDEN,
            BridgeError::TenantUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            BridgeError::Waiting { .. } => StatusCode::TOO_MANY_REQUESTS,
            BridgeError::ConflictingDuplicate(_) => StatusCode::CONFLICT,
        }
    }

    /// A failure that may succeed later: rate limits, upstream outages, the store, a
    /// concurrent delivery of the same event.
    pub fn is_retryable(&self) -> bool {
        match self {
            BridgeError::Upstream(e) => e.is_retryable(),
            BridgeError::Store(_)
            | BridgeError::InProgress
            | BridgeError::TokenUnavailable(_)
            | BridgeError::Waiting { .. } => true,
            _ => false,
        }
    }

    /// How long the upstream (or the shared budget) asked to wait, when it said.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            BridgeError::Upstream(e) => e.retry_after_secs(),
            BridgeError::Waiting { wait_secs, .. } => Some(*wait_secs),
            _ => None,
        }
    }

    /// A retryable failure that uses up one of the event's attempts. Rate limits, the shared
    /// budget, the deadline, a concurrent delivery and contended locks do not: the event only
    /// waits.
    pub fn uses_an_attempt(&self) -> bool {
        match self {
            BridgeError::Upstream(e) => !e.is_a_wait(),
            BridgeError::InProgress
            | BridgeError::Store(StoreError::Contended(_))
            | BridgeError::TokenUnavailable(_)
            | BridgeError::Waiting { .. } => false,
            _ => true,
        }
    }

    /// The message shown to the caller. Internal details (store errors) stay in the logs.
    pub fn public_message(&self) -> String {
        match self {
            BridgeError::Store(_) => "the contact map is unavailable; retry later".to_string(),
            BridgeError::TokenUnavailable(_) => {
                "the tenant's GoHighLevel authorization is being renewed; retry later".to_string()
            }
            other => other.to_string(),
        }
    }
}

impl From<crate::payload::PayloadError> for BridgeError {
    fn from(e: crate::payload::PayloadError) -> Self {
        use crate::payload::PayloadError as P;
        match e {
            P::Malformed(m) => BridgeError::BadRequest(m),
            P::TooLarge { limit } => BridgeError::PayloadTooLarge { limit },
            P::Missing { message, missing } => BridgeError::Unprocessable { message, missing },
            P::Invalid(message) => BridgeError::Unprocessable {
                message,
                missing: vec![],
            },
        }
    }
}
