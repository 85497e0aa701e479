//! One upstream budget for the whole deployment.
//!
//! CloudTalk allows 60 requests a minute per company, shared by every container and every
//! other integration on the account; GoHighLevel 100 per 10 s per location. Each container
//! retrying on its own would overrun that, so every upstream call first takes a token from a
//! shared bucket, kept in the state table (DynamoDB, with conditional writes) or, locally, in
//! the store file.
//!
//! A bucket holds at most `capacity` tokens and refills `limit - capacity` tokens per window,
//! so no window ever sees more than `limit` calls. A caller that finds no token either
//! reserves the next one, when it can wait for it within its deadline, or is told when its
//! turn will come: each such answer moves the bucket's `turn` one token later, so a burst of
//! events is queued with spread delays that match the budget instead of returning in a wave.

pub mod dynamodb;
pub mod memory;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use dynamodb::DynamoRateLimiter;
pub use memory::MemoryRateLimiter;

use crate::store::StoreError;

/// What one bucket allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Its key in the store, e.g. `cloudtalk#<account>`.
    pub key: String,
    /// Calls allowed in any `window_ms`.
    pub limit: u32,
    pub window_ms: i64,
    /// Tokens kept for a burst (part of `limit`).
    pub capacity: u32,
    /// Tokens a background caller must leave in the bucket (0 for live callers): background
    /// work takes a token only above them, and books none ahead.
    pub reserve: u32,
    /// Tokens this call takes (1; more for a request the upstream counts as several, such as
    /// a CloudTalk bulk request: see [`crate::import::bulk_cost`]).
    pub cost: u32,
    /// Whether a caller told to come back books its turn (advancing the turn of the next).
    /// A lead of an import does not: it waits for its turn in the import lane instead.
    pub books: bool,
}

impl Bucket {
    /// At most `limit` calls in any `window`; a tenth of them may come at once.
    pub fn new(key: impl Into<String>, limit: u32, window: Duration) -> Self {
        let limit = limit.max(1);
        Self {
            key: key.into(),
            limit,
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1),
            capacity: (limit / 10).max(1),
            reserve: 0,
            cost: 1,
            books: true,
        }
    }

    /// The bucket for a caller that waits elsewhere when throttled (books no turn).
    pub fn unbooked(mut self) -> Self {
        self.books = false;
        self
    }

    /// The bucket for a call that takes `cost` tokens.
    pub fn costing(mut self, cost: u32) -> Self {
        self.cost = cost.max(1);
        self
    }

    /// The bucket as background work sees it: half the burst is kept for live callers.
    pub fn for_background(mut self) -> Self {
        self.reserve = self.capacity / 2;
        self
    }

    /// Milli-tokens gained per millisecond.
    fn refill_rate(&self) -> f64 {
        let refilled = f64::from(self.limit.saturating_sub(self.capacity).max(1));
        refilled * 1000.0 / self.window_ms as f64
    }

    /// The time one token takes to come back.
    fn interval_ms(&self) -> i64 {
        (1000.0 / self.refill_rate()).ceil() as i64
    }

    /// What a caller at `now_ms` that can wait up to `may_wait_ms` gets, and the bucket after.
    pub fn decide(
        &self,
        state: Option<BucketState>,
        now_ms: i64,
        may_wait_ms: i64,
    ) -> (BucketState, Admission) {
        let full = i64::from(self.capacity) * 1000;
        let mut s = state.unwrap_or(BucketState {
            tokens_milli: full,
            updated_ms: now_ms,
            turn_ms: 0,
        });
        let elapsed = (now_ms - s.updated_ms).max(0) as f64;
        s.tokens_milli = (s.tokens_milli + (elapsed * self.refill_rate()) as i64).min(full);
        s.updated_ms = now_ms.max(s.updated_ms);
        let reserve = i64::from(self.reserve) * 1000;
        let need = i64::from(self.cost.max(1)) * 1000;
        if s.tokens_milli >= need + reserve {
            s.tokens_milli -= need;
            return (s, Admission::Now);
        }
        if reserve > 0 {
            // Background: come back when the bucket is above the reserve again; nothing booked.
            let wait_ms = ((need + reserve - s.tokens_milli) as f64 / self.refill_rate()).ceil();
            let turn_in = Duration::from_millis(wait_ms as u64);
            return (s, Admission::Throttled { turn_in });
        }
        // A call costing more than the burst borrows: it waits until its tokens have come in.
        let wait_ms = ((need - s.tokens_milli) as f64 / self.refill_rate()).ceil() as i64;
        if wait_ms <= may_wait_ms {
            // Reserved: the tokens are taken now and come back by then.
            s.tokens_milli -= need;
            return (s, Admission::After(Duration::from_millis(wait_ms as u64)));
        }
        if !self.books {
            let turn_in = Duration::from_millis(wait_ms.max(0) as u64);
            return (s, Admission::Throttled { turn_in });
        }
        s.turn_ms =
            s.turn_ms.max(now_ms + wait_ms) + self.interval_ms() * i64::from(self.cost.max(1));
        let turn_in = Duration::from_millis((s.turn_ms - now_ms).max(0) as u64);
        (s, Admission::Throttled { turn_in })
    }
}

/// A bucket as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketState {
    /// Tokens left, in thousandths; negative while reserved tokens are owed.
    pub tokens_milli: i64,
    pub updated_ms: i64,
    /// When the next caller told to come back may expect a token.
    pub turn_ms: i64,
}

/// The answer to a caller asking for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go now.
    Now,
    /// A token is reserved: go after this wait.
    After(Duration),
    /// No token in time; come back after `turn_in`.
    Throttled { turn_in: Duration },
}

tokio::task_local! {
    static BACKGROUND: ();
    static IN_LANE: ();
    static ARRIVING: ();
    static PATIENT: ();
}

/// Runs `work` as a webhook's own attempt (not the retry worker's).
pub async fn arriving<F: std::future::Future>(work: F) -> F::Output {
    ARRIVING.scope((), work).await
}

/// Whether the running task is a webhook's own attempt.
pub fn is_arriving() -> bool {
    ARRIVING.try_with(|_| ()).is_ok()
}

/// Runs `work` as a call that waits for its token as long as a bulk request would (up to its
/// deadline) rather than be told to come back: the contact list read an import needs before
/// its bulk request, which would otherwise lose every token to the bulk requests reserving
/// theirs (see `clients::rest::admit`).
pub async fn patient<F: std::future::Future>(work: F) -> F::Output {
    PATIENT.scope((), work).await
}

/// Whether the running task's calls wait for their tokens like a bulk request.
pub fn is_patient() -> bool {
    PATIENT.try_with(|_| ()).is_ok()
}

/// Runs `work` for a lead of an import: when its calls are throttled it waits in the import
/// lane, so they book no turn in the budget (see [`Bucket::unbooked`]).
pub async fn in_lane<F: std::future::Future>(work: F) -> F::Output {
    IN_LANE.scope((), work).await
}

/// Whether the running task is a lead's, waiting in the import lane when throttled.
pub fn is_in_lane() -> bool {
    IN_LANE.try_with(|_| ()).is_ok()
}

/// Runs `work` as background work (reconciliation): its upstream calls use only what live
/// webhooks leave of the budget (see [`Bucket::for_background`]).
pub async fn background<F: std::future::Future>(work: F) -> F::Output {
    BACKGROUND.scope((), work).await
}

/// Whether the running task is background work.
pub fn is_background() -> bool {
    BACKGROUND.try_with(|_| ()).is_ok()
}

#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Takes a token from `bucket` for a caller at `now_ms` that can wait `may_wait_ms`.
    async fn acquire(
        &self,
        bucket: &Bucket,
        now_ms: i64,
        may_wait_ms: i64,
    ) -> Result<Admission, StoreError>;
    fn kind(&self) -> &'static str;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_work_leaves_the_reserve_and_books_nothing() {
        let live = Bucket::new("ct", 50, Duration::from_secs(60));
        let background = live.clone().for_background();
        assert_eq!(background.reserve, 2);
        let mut state = None;
        let mut taken = 0;
        // Background takes tokens only while more than the reserve is left.
        loop {
            let (next, admission) = background.decide(state, 0, 60_000);
            state = Some(next);
            match admission {
                Admission::Now => taken += 1,
                Admission::Throttled { turn_in } => {
                    assert!(turn_in > Duration::ZERO);
                    break;
                }
                Admission::After(_) => panic!("background work books no token"),
            }
        }
        assert_eq!(taken, 3, "5 tokens, 2 kept");
        // The reserve is there for a live burst, at once.
        for _ in 0..2 {
            let (next, admission) = live.decide(state, 0, 0);
            state = Some(next);
            assert_eq!(admission, Admission::Now);
        }
        assert_eq!(state.unwrap().turn_ms, 0, "background moved no live turn");
    }

    #[test]
    fn a_call_costing_ten_takes_ten_tokens() {
        let bucket = Bucket::new("ct", 50, Duration::from_secs(60));
        let bulk = bucket.clone().costing(10);
        // The burst is 5: a bulk request waits for the 5 more it needs, reserved.
        let (state, admission) = bulk.decide(None, 0, 60_000);
        let Admission::After(wait) = admission else {
            panic!("{admission:?}");
        };
        // 45 tokens a minute come back: 5 of them take 6.67 s.
        assert!(
            (6_600..6_700).contains(&(wait.as_millis() as i64)),
            "{wait:?}"
        );
        assert_eq!(state.tokens_milli, -5_000);
        // Nobody else gets a token before those 10 are paid for.
        let (_, next) = bucket.decide(Some(state), 0, 0);
        assert!(matches!(next, Admission::Throttled { .. }), "{next:?}");
    }

    #[test]
    fn a_caller_that_waits_in_the_lane_books_no_turn() {
        let bucket = Bucket::new("ct", 50, Duration::from_secs(60));
        let mut state = None;
        // The burst spent.
        for _ in 0..5 {
            let (s, a) = bucket.decide(state, 0, 0);
            assert_eq!(a, Admission::Now);
            state = Some(s);
        }
        // A hundred leads told to come back leave the next turn where it was.
        for _ in 0..100 {
            let (s, a) = bucket.clone().unbooked().decide(state, 0, 0);
            assert!(matches!(a, Admission::Throttled { .. }), "{a:?}");
            state = Some(s);
        }
        let (_, a) = bucket.decide(state, 0, 0);
        let Admission::Throttled { turn_in } = a else {
            panic!("{a:?}");
        };
        assert!(turn_in <= Duration::from_secs(3), "{turn_in:?}");
        // A booking caller moves the next one's turn on.
        let (s, _) = bucket.decide(state, 0, 0);
        let (_, a) = bucket.decide(Some(s), 0, 0);
        assert!(
            matches!(a, Admission::Throttled { turn_in } if turn_in > Duration::from_secs(3)),
            "{a:?}"
        );
    }

    #[test]
    fn no_window_sees_more_than_the_limit() {
        let bucket = Bucket::new("ct", 50, Duration::from_secs(60));
        assert_eq!(bucket.capacity, 5);
        let mut state = None;
        let mut admitted = Vec::new();
        // One caller every 100 ms for 5 minutes, none willing to wait.
        for step in 0..3000 {
            let now = step * 100;
            let (next, admission) = bucket.decide(state, now, 0);
            state = Some(next);
            if admission == Admission::Now {
                admitted.push(now);
            }
        }
        for (i, start) in admitted.iter().enumerate() {
            let in_window = admitted[i..]
                .iter()
                .take_while(|t| **t < start + 60_000)
                .count();
            assert!(
                in_window <= 50,
                "{in_window} calls in the minute from {start}"
            );
        }
        assert!(
            admitted.len() >= 5 * 45,
            "the budget is used: {}",
            admitted.len()
        );
    }

    #[test]
    fn a_caller_that_can_wait_reserves_and_others_get_spread_turns() {
        let bucket = Bucket::new("ct", 10, Duration::from_secs(10));
        let mut state = None;
        for _ in 0..bucket.capacity {
            let (s, a) = bucket.decide(state, 0, 0);
            assert_eq!(a, Admission::Now);
            state = Some(s);
        }
        let (s, a) = bucket.decide(state, 0, 5_000);
        assert!(
            matches!(a, Admission::After(w) if w <= Duration::from_millis(1_200)),
            "{a:?}"
        );
        state = Some(s);
        let mut turns = Vec::new();
        for _ in 0..5 {
            let (s, a) = bucket.decide(state, 0, 0);
            state = Some(s);
            let Admission::Throttled { turn_in } = a else {
                panic!("{a:?}")
            };
            turns.push(turn_in);
        }
        assert!(
            turns.windows(2).all(|w| w[1] > w[0]),
            "turns are spread: {turns:?}"
        );
    }
}
