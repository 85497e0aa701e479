//! HTTP clients of the two upstream APIs, each behind a small trait so handlers can be tested
//! against faithful HTTP fakes and the rest of the code never sees reqwest. Both are one REST
//! core ([`rest::RestClient`]) speaking each upstream's dialect.

pub mod cloudtalk;
pub mod cloudtalk_ai;
pub mod cloudtalk_calls;
pub mod cloudtalk_platform;
pub mod ghl;
pub mod notes;
pub mod rest;
pub mod stage_names;
pub mod tls;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A contact as either API returns it (the fields the bridge reads).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactRecord {
    pub id: String,
    pub name: Option<String>,
    /// As the API holds them; compare with [`crate::phone::same_number`].
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub tags: Vec<String>,
    pub company: Option<String>,
    /// Who owns the contact: GHL's `assignedTo` (a user id); none for CloudTalk's.
    pub owner: Option<String>,
    /// Where the contact came from: GHL's `source`; none for CloudTalk's.
    pub source: Option<String>,
    /// The GHL location (sub-account) holding the contact: GHL's `locationId`; none for
    /// CloudTalk's.
    pub location_id: Option<String>,
    /// What the contact said about being contacted: GHL's `dnd` and `dndSettings`.
    pub consent: Consent,
}

/// A GHL contact's "do not disturb" state, as GHL holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consent {
    /// `dnd`: no channel at all.
    pub dnd_all: bool,
    /// `dndSettings.Call.status`: `active`, `inactive` or `permanent`.
    pub call_status: Option<String>,
    /// `dndSettings.SMS.status`.
    pub sms_status: Option<String>,
    /// The channels of `dndSettings` whose status is `active` or `permanent` (`Call`, `SMS`,
    /// `Email`, `WhatsApp`, `GMB`, `FB`), as GHL names them.
    pub blocked_channels: Vec<String>,
}

/// Whether a `dndSettings` channel's status bars it (`active` or `permanent`).
fn barred(status: Option<&str>) -> bool {
    status
        .map(str::trim)
        .is_some_and(|s| s.eq_ignore_ascii_case("active") || s.eq_ignore_ascii_case("permanent"))
}

impl Consent {
    /// Why the contact may not be texted, if it may not: `dnd` (every channel) or `dnd_sms`
    /// (`dndSettings.SMS` active or permanent).
    pub fn refuses_texts(&self) -> Option<&'static str> {
        if self.dnd_all {
            return Some("dnd");
        }
        barred(self.sms_status.as_deref()).then_some("dnd_sms")
    }

    /// Why the contact may not be called, if it may not: `dnd` (every channel) or `dnd_call`
    /// (`dndSettings.Call` active or permanent).
    pub fn refuses_calls(&self) -> Option<&'static str> {
        if self.dnd_all {
            return Some("dnd");
        }
        let call = self.call_status.as_deref().map(str::trim);
        let blocked = call.is_some_and(|s| {
            s.eq_ignore_ascii_case("active") || s.eq_ignore_ascii_case("permanent")
        });
        blocked.then_some("dnd_call")
    }
}

/// The id a lookup found (a tag, a note, an activity), if any.
pub type FoundId = Result<Option<String>, UpstreamError>;

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
    /// The deployment's shared budget for this upstream had no token in time: the call was not
    /// made, and the event waits for its turn.
    #[error("{service} {operation}: the shared request budget is spent; next turn in {retry_after_secs} s")]
    Throttled {
        service: Service,
        operation: &'static str,
        retry_after_secs: u64,
    },
    /// The attempt's deadline came before the call could be made: it was not made.
    #[error("{service} {operation}: no time left in this attempt")]
    OutOfTime {
        service: Service,
        operation: &'static str,
    },
}

impl UpstreamError {
    /// Rate limits, server errors and network failures may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            UpstreamError::Status { status, .. } => *status == 429 || *status >= 500,
            UpstreamError::Transport { .. } => true,
            UpstreamError::InvalidResponse { .. } => false,
            UpstreamError::Throttled { .. } | UpstreamError::OutOfTime { .. } => true,
        }
    }

    /// A rate limit (the upstream's 429 or the shared budget) or a deadline: the event waits,
    /// and no attempt is used up.
    pub fn is_a_wait(&self) -> bool {
        match self {
            UpstreamError::Status { status, .. } => *status == 429,
            UpstreamError::Throttled { .. } | UpstreamError::OutOfTime { .. } => true,
            _ => false,
        }
    }

    /// How long the upstream (or the shared budget) asked to wait, when it said.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            UpstreamError::Status {
                retry_after_secs, ..
            } => *retry_after_secs,
            UpstreamError::Throttled {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// A write that was sent and may have been applied all the same: no answer (or one that
    /// could not be read), or a server error. Not a refusal (4xx), and not a call never made.
    pub fn may_have_applied(&self) -> bool {
        match self {
            UpstreamError::Status { status, .. } => *status >= 500,
            UpstreamError::Transport { .. } | UpstreamError::InvalidResponse { .. } => true,
            UpstreamError::Throttled { .. } | UpstreamError::OutOfTime { .. } => false,
        }
    }

    /// A write that timed out after it was sent: it may have been applied.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            UpstreamError::Transport {
                timed_out: true,
                ..
            }
        )
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            UpstreamError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The record the call named does not exist: a 404, or GoHighLevel's 400 "Contact not
    /// found" (its contacts API answers a missing id so).
    pub fn is_not_found(&self) -> bool {
        match self {
            UpstreamError::Status { status: 404, .. } => true,
            UpstreamError::Status {
                service: Service::GoHighLevel,
                status: 400,
                message,
                ..
            } => message.to_ascii_lowercase().contains("not found"),
            _ => false,
        }
    }

    /// The upstream the call went to.
    pub fn service(&self) -> Service {
        match self {
            UpstreamError::Status { service, .. }
            | UpstreamError::Transport { service, .. }
            | UpstreamError::InvalidResponse { service, .. }
            | UpstreamError::Throttled { service, .. }
            | UpstreamError::OutOfTime { service, .. } => *service,
        }
    }
}

/// Counts the upstream requests made, per upstream, and the 429s they were answered with, so
/// every event's log line (and its metrics) can say what it cost.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<[AtomicU32; 4]>);

/// What a [`CallCounter`] has counted, or the difference between two readings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCounts {
    pub cloudtalk: u32,
    pub ghl: u32,
    pub cloudtalk_429s: u32,
    pub ghl_429s: u32,
}

impl CallCounts {
    /// Requests to both upstreams.
    pub fn total(&self) -> u32 {
        self.cloudtalk + self.ghl
    }

    /// What was counted since `before`.
    pub fn since(&self, before: CallCounts) -> CallCounts {
        CallCounts {
            cloudtalk: self.cloudtalk.saturating_sub(before.cloudtalk),
            ghl: self.ghl.saturating_sub(before.ghl),
            cloudtalk_429s: self.cloudtalk_429s.saturating_sub(before.cloudtalk_429s),
            ghl_429s: self.ghl_429s.saturating_sub(before.ghl_429s),
        }
    }
}

impl CallCounter {
    fn slot(service: Service, rate_limited: bool) -> usize {
        match (service, rate_limited) {
            (Service::CloudTalk, false) => 0,
            (Service::GoHighLevel, false) => 1,
            (Service::CloudTalk, true) => 2,
            (Service::GoHighLevel, true) => 3,
        }
    }

    /// One request sent to `service`.
    pub fn increment(&self, service: Service) {
        self.0[Self::slot(service, false)].fetch_add(1, Ordering::Relaxed);
    }

    /// `service` answered a request with 429.
    pub fn rate_limited(&self, service: Service) {
        self.0[Self::slot(service, true)].fetch_add(1, Ordering::Relaxed);
    }

    /// Requests sent to both upstreams.
    pub fn get(&self) -> u32 {
        self.counts().total()
    }

    pub fn counts(&self) -> CallCounts {
        let read = |i: usize| self.0[i].load(Ordering::Relaxed);
        CallCounts {
            cloudtalk: read(0),
            ghl: read(1),
            cloudtalk_429s: read(2),
            ghl_429s: read(3),
        }
    }
}

/// Why the upstream HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error(transparent)]
    Build(#[from] reqwest::Error),
}

/// One reqwest client per container: connection pool, TLS and timeouts are set up once; the
/// system's root certificates are loaded at the first HTTPS connection (see [`tls`]).
pub fn build_http_client(timeout: Duration) -> Result<reqwest::Client, HttpClientError> {
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls::client_config()?)
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(3))
        .user_agent(concat!("ghl-cloudtalk-bridge/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// Default timeout of one upstream request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(8);

/// Default time an upstream call may spend on retries before the event is queued instead.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(6);
