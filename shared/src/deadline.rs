//! The time an attempt has left.
//!
//! Senders stop waiting after about 10 s, and a Lambda killed at its timeout answers nothing
//! useful: so every attempt runs under a [`Deadline`] (`REQUEST_DEADLINE_MS`, 10 s, for a
//! webhook; the time left in the invocation for the retry worker). Every wait inside it (an
//! upstream call's timeout, a retry pause, a rate-limit wait, waiting for a concurrent event)
//! is bounded by the time left, and work that would pass the deadline is handed to the retry
//! queue instead, with its recorded steps.
//!
//! The deadline travels with the task (a task-local), the way a request context does, so the
//! REST clients and the resolution steps read it without every signature carrying it. Time is
//! tokio's, so simulations with paused time run the same code in virtual time.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

tokio::task_local! {
    static DEADLINE: Deadline;
}

/// The instant an attempt must be done by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Instant,
}

impl Deadline {
    pub fn after(budget: Duration) -> Self {
        Self {
            at: Instant::now() + budget,
        }
    }

    pub fn at(at: Instant) -> Self {
        Self { at }
    }

    /// The earlier of the two.
    pub fn min(self, other: Deadline) -> Self {
        Self {
            at: self.at.min(other.at),
        }
    }

    pub fn instant(self) -> Instant {
        self.at
    }

    pub fn remaining(self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// Runs `work` under this deadline (nested deadlines keep the earlier one).
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        let deadline = match Self::current() {
            Some(outer) => self.min(outer),
            None => self,
        };
        DEADLINE.scope(deadline, work).await
    }

    /// The deadline of the running attempt, if it has one.
    pub fn current() -> Option<Deadline> {
        DEADLINE.try_with(|d| *d).ok()
    }

    /// The time the running attempt has left; unbounded outside one.
    pub fn time_left() -> Option<Duration> {
        Self::current().map(Deadline::remaining)
    }

    /// Whether a wait of `wait` still leaves `reserve` before the deadline.
    pub fn allows(wait: Duration, reserve: Duration) -> bool {
        Self::time_left().is_none_or(|left| wait + reserve <= left)
    }

    /// `limit`, shortened to the time left.
    pub fn bound(limit: Duration) -> Duration {
        Self::time_left().map_or(limit, |left| limit.min(left))
    }
}

/// The deadline of a Lambda invocation, from its context's deadline (epoch milliseconds).
pub fn invocation_deadline(deadline_epoch_ms: u64) -> Option<Deadline> {
    let now = u64::try_from(chrono::Utc::now().timestamp_millis()).ok()?;
    let left = deadline_epoch_ms.checked_sub(now)?;
    Some(Deadline::after(Duration::from_millis(left)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_deadline_bounds_the_work_run_under_it() {
        assert_eq!(Deadline::time_left(), None);
        assert!(Deadline::allows(Duration::from_secs(3600), Duration::ZERO));
        Deadline::after(Duration::from_secs(10))
            .scope(async {
                assert_eq!(Deadline::time_left(), Some(Duration::from_secs(10)));
                tokio::time::sleep(Duration::from_secs(4)).await;
                assert_eq!(
                    Deadline::bound(Duration::from_secs(8)),
                    Duration::from_secs(6)
                );
                assert!(Deadline::allows(
                    Duration::from_secs(5),
                    Duration::from_secs(1)
                ));
                assert!(!Deadline::allows(
                    Duration::from_secs(5),
                    Duration::from_secs(2)
                ));
                // A nested, later deadline does not extend the outer one.
                Deadline::after(Duration::from_secs(60))
                    .scope(async {
                        assert_eq!(Deadline::time_left(), Some(Duration::from_secs(6)));
                    })
                    .await;
                tokio::time::sleep(Duration::from_secs(7)).await;
                assert_eq!(Deadline::time_left(), Some(Duration::ZERO));
            })
            .await;
    }
}
