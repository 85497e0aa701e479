//! How long the backfill keeps at an upstream call. The bridge's clients already retry within
//! a few seconds; a backfill has no webhook waiting for it, so it waits out rate limits and the
//! shared budget (the wait each answer asks for) for as long as `max_waiting`, and repeats
//! outages a few times more. A write whose outcome is unknown (timed out after it was sent) is
//! never repeated: the run stops, and the next one reads both sides again.

use std::future::Future;
use std::time::Duration;

use bridge::clients::UpstreamError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patience {
    /// Total time spent waiting for rate limits and the budget, per call.
    pub max_waiting: Duration,
    /// Outages (5xx, failed connections) repeated per call.
    pub max_failures: u32,
    /// The wait after the first outage; doubled after each.
    pub first_backoff: Duration,
}

impl Default for Patience {
    fn default() -> Self {
        Self {
            max_waiting: Duration::from_secs(15 * 60),
            max_failures: 5,
            first_backoff: Duration::from_secs(1),
        }
    }
}

impl Patience {
    /// Runs `call` until it succeeds or patience runs out.
    pub async fn call<T, F, Fut>(&self, mut call: F) -> Result<T, UpstreamError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, UpstreamError>>,
    {
        let (mut waited, mut failures) = (Duration::ZERO, 0u32);
        loop {
            let error = match call().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let pause = if error.is_a_wait() {
                let wait = Self::wait_asked(&error);
                waited += wait;
                (waited <= self.max_waiting).then_some(wait)
            } else if error.is_retryable() && !error.outcome_unknown() {
                failures += 1;
                let backoff = self.first_backoff * 2u32.saturating_pow(failures - 1);
                (failures <= self.max_failures).then_some(backoff)
            } else {
                None
            };
            match pause {
                Some(pause) => tokio::time::sleep(pause).await,
                None => return Err(error),
            }
        }
    }

    /// The wait a rate limit or the budget asked for (a second when it said nothing).
    fn wait_asked(error: &UpstreamError) -> Duration {
        let secs = match error {
            UpstreamError::Status {
                retry_after_secs, ..
            } => retry_after_secs.unwrap_or(1),
            UpstreamError::Throttled {
                retry_after_secs, ..
            } => *retry_after_secs,
            _ => 1,
        };
        Duration::from_secs(secs.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bridge::clients::Service;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn status(status: u16) -> UpstreamError {
        UpstreamError::Status {
            service: Service::CloudTalk,
            operation: "list contacts",
            status,
            message: "m".into(),
            retry_after_secs: Some(2),
        }
    }

    async fn attempts_until(patience: &Patience, failure: fn() -> UpstreamError) -> u32 {
        let calls = AtomicU32::new(0);
        let _ = patience
            .call(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(failure())
            })
            .await;
        calls.load(Ordering::SeqCst)
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limits_are_waited_out_outages_repeated_and_the_rest_returned() {
        let patience = Patience {
            max_waiting: Duration::from_secs(9),
            max_failures: 2,
            first_backoff: Duration::from_millis(10),
        };
        assert_eq!(
            attempts_until(&patience, || status(429)).await,
            5,
            "4 waits of 2 s"
        );
        assert_eq!(attempts_until(&patience, || status(503)).await, 3);
        assert_eq!(attempts_until(&patience, || status(406)).await, 1);
        let unknown = || UpstreamError::Transport {
            service: Service::CloudTalk,
            operation: "bulk",
            message: "request timed out".into(),
            timed_out: true,
        };
        assert_eq!(
            attempts_until(&patience, unknown).await,
            1,
            "never repeated"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_recovers_succeeds() {
        let calls = AtomicU32::new(0);
        let result = Patience::default()
            .call(|| async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(status(500)),
                    _ => Ok(7),
                }
            })
            .await;
        assert_eq!(result.unwrap(), 7);
    }
}
