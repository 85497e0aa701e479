//! The sandbox's handle ([`Sandbox`]) and what every part of it shares ([`Inner`]): its
//! configuration, fault knobs, state, console feed and dead-letter view, and the pipeline's
//! common steps (console lines, injected faults, late answers, the request log).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::Method;
use serde_json::Value;

use super::config::{Faults, SandboxConfig};
use super::feed::{Feed, FeedEntry, ParkedView};
use super::state::State;

/// A fault injected into a request.
pub(crate) enum Fault {
    ServerError,
    RateLimited,
}

pub(crate) struct Inner {
    pub(crate) config: SandboxConfig,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) state: Mutex<State>,
    /// xorshift state, requests seen, and the remaining length of the current 429 burst.
    pub(crate) fault_clock: Mutex<(u64, u64, u32)>,
    /// xorshift state of the latency spread.
    pub(crate) spread_rng: Mutex<u64>,
    pub(crate) http: reqwest::Client,
    /// The console's event feed.
    pub(crate) feed: Mutex<Feed>,
    /// The dead-letter queue as the console last read it.
    pub(crate) parked: Mutex<ParkedView>,
    /// This sandbox's name for the contract violations it records.
    pub(crate) origin: String,
}

static SANDBOXES: AtomicU64 = AtomicU64::new(0);

/// The sandbox: a cloneable handle on its state.
#[derive(Clone)]
pub struct Sandbox {
    pub(crate) inner: Arc<Inner>,
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Self {
        let seed = config.seed.max(1);
        let state = State::new(&config);
        Self {
            inner: Arc::new(Inner {
                faults: Mutex::new(config.faults.clone()),
                config,
                state: Mutex::new(state),
                fault_clock: Mutex::new((seed, 0, 0)),
                spread_rng: Mutex::new(seed ^ 0x9E37_79B9_7F4A_7C15),
                http: reqwest::Client::new(),
                origin: format!(
                    "sandbox-{}-{}",
                    std::process::id(),
                    SANDBOXES.fetch_add(1, Ordering::SeqCst)
                ),
                feed: Mutex::default(),
                parked: Mutex::default(),
            }),
        }
    }

    /// The requests (and answers) of this sandbox that broke a vendor's contract, not taken.
    pub fn violations(&self) -> Vec<bridge_contracts::Violation> {
        let origin = &self.inner.origin;
        bridge_contracts::pending()
            .into_iter()
            .filter(|v| &v.origin == origin)
            .collect()
    }

    /// Takes back this sandbox's violations: for a test that plants one on purpose.
    pub fn take_violations(&self) -> Vec<bridge_contracts::Violation> {
        bridge_contracts::take(&self.inner.origin)
    }

    /// Everything the sandbox holds, as `GET /sandbox/state` shows it.
    pub fn state_json(&self) -> Value {
        let now = self.inner.config.clock.now_ms();
        self.inner
            .state
            .lock()
            .map(|s| s.to_json(now))
            .unwrap_or(Value::Null)
    }

    /// Replaces the fault knobs; a 429 burst in progress ends.
    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut f) = self.inner.faults.lock() {
            *f = faults;
        }
        if let Ok(mut clock) = self.inner.fault_clock.lock() {
            clock.2 = 0;
        }
    }

    /// Empties the state (but for the configured agents and users) and the console's feed.
    pub fn reset(&self) {
        if let Ok(mut s) = self.inner.state.lock() {
            *s = State::new(&self.inner.config);
        }
        if let Ok(mut feed) = self.inner.feed.lock() {
            feed.clear();
        }
    }

    /// The console's feed, newest first (as `GET /console/feed` shows it).
    pub fn feed(&self) -> Vec<FeedEntry> {
        self.inner
            .feed
            .lock()
            .map(|f| f.entries().cloned().collect())
            .unwrap_or_default()
    }

    /// Injected faults so far.
    pub fn faults_injected(&self) -> u64 {
        self.inner
            .state
            .lock()
            .map(|s| s.faults_injected)
            .unwrap_or(0)
    }
}

impl Inner {
    pub(crate) fn say(&self, line: String) {
        if !self.config.quiet {
            println!("{line}");
        }
    }

    /// Sleeps for the latency knob, then decides whether this request fails.
    pub(crate) async fn fault(&self) -> Option<Fault> {
        let faults = self.faults.lock().map(|f| f.clone()).unwrap_or_default();
        let latency = faults.latency_ms + self.spread(faults.latency_spread_ms);
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        let Ok(mut clock) = self.fault_clock.lock() else {
            return None;
        };
        let (rng, seen, burst) = &mut *clock;
        *seen += 1;
        let decision = if *burst > 0 {
            *burst -= 1;
            Some(Fault::RateLimited)
        } else if faults.rate_limit_every > 0
            && faults.rate_limit_burst > 0
            && *seen % u64::from(faults.rate_limit_every) == 0
        {
            *burst = faults.rate_limit_burst - 1;
            Some(Fault::RateLimited)
        } else {
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            let roll = (*rng % 1_000_000) as f64 / 1_000_000.0;
            (roll < faults.error_rate).then_some(Fault::ServerError)
        };
        if decision.is_some() {
            if let Ok(mut s) = self.state.lock() {
                s.faults_injected += 1;
            }
        }
        decision
    }

    /// A delay in `0..=spread` ms, from its own generator (the faults' draws stay as they
    /// are whatever the spread).
    fn spread(&self, spread: u64) -> u64 {
        if spread == 0 {
            return 0;
        }
        let Ok(mut rng) = self.spread_rng.lock() else {
            return 0;
        };
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        *rng % (spread + 1)
    }

    /// After a request was applied: whether its answer comes late, and by how much.
    pub(crate) fn late_answer(&self) -> Option<Duration> {
        let faults = self.faults.lock().map(|f| f.clone()).unwrap_or_default();
        if faults.late_answer_rate <= 0.0 {
            return None;
        }
        let mut clock = self.fault_clock.lock().ok()?;
        let rng = &mut clock.0;
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        let roll = (*rng % 1_000_000) as f64 / 1_000_000.0;
        drop(clock);
        let late = roll < faults.late_answer_rate;
        if late {
            if let Ok(mut s) = self.state.lock() {
                s.faults_injected += 1;
            }
        }
        late.then(|| Duration::from_millis(faults.late_answer_ms))
    }

    pub(crate) fn log_request(&self, api: &str, method: &Method, path: &str, status: u16) {
        if let Ok(mut s) = self.state.lock() {
            s.log(api, method.as_str(), path, status);
        }
        if let Ok(mut feed) = self.feed.lock() {
            feed.upstream(api, method.as_str(), path, status);
        }
    }
}
