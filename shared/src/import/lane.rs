//! The import lane: when new-contact webhooks come faster than the CloudTalk budget drains
//! them (a lead list imported into GHL), each throttled lead waits on the retry queue for its
//! turn in the lane, whose pace is ten leads per bulk request: `CLOUDTALK_RATE_PER_MIN × 10 /
//! cost` leads a minute. Turns are rounded up to the time one bulk request takes, so the leads
//! of one slot become visible together and reach one worker invocation as one SQS batch (the
//! template's batch size is 10), which creates them with one bulk request ([`super::prepare`]).

use std::time::Duration;

use crate::deps::{cloudtalk_account, Deps};
use crate::rate_limit::{Admission, Bucket};
use crate::retry_queue::QueuedEvent;

/// A lead's failed attempts retried in the lane (see [`crate::pipeline::apply::defer`]) before
/// it waits out the failure schedule like any other event. They are not counted by the
/// schedule: a lead rides out an outage as long as any event, and a few quick retries more.
/// Six: a retry in the lane costs a tenth of a bulk request, and a lead of a large import may
/// meet a few failures in a row (a 500, a store hiccup, a timeout) without waiting out the
/// schedule's 5 minutes (`load-sim import-cost1-faults`, 1,000 leads: with 3, three runs
/// drained at 2.0, 2.3 and 4.8 times the floor, the slowest waiting on leads sent 5 minutes
/// away; with 6, at 1.8 to 2.3 times).
pub const LANE_ATTEMPTS: u32 = 6;

/// The failures the failure schedule counts for `event` (and parks it by): a lead's first
/// [`LANE_ATTEMPTS`] are retried in the lane instead.
pub fn scheduled_failures(event: &QueuedEvent) -> u32 {
    match super::is_lead(event) {
        true => event.attempt.saturating_sub(LANE_ATTEMPTS),
        false => event.attempt,
    }
}

/// When a lead that failed is retried in the lane: its turn, and at least the failure
/// schedule's first delay.
pub async fn retry_delay_secs(deps: &Deps, key: &str) -> u64 {
    let first = crate::retry_queue::failure_delay_secs(1, None, key);
    first.max(delay_secs(deps).await)
}

/// How long a throttled lead waits, in seconds, for its turn in the lane.
pub async fn delay_secs(deps: &Deps) -> u64 {
    let cost = u64::from(super::bulk_cost::known(deps).await);
    let rate = u64::from(deps.config.cloudtalk_rate_per_min.max(1));
    // One bulk request's share of the budget, whole seconds.
    let slot_secs = (cost * 60).div_ceil(rate).max(1);
    let leads_per_min = u32::try_from(rate * 10 / cost).unwrap_or(u32::MAX).max(1);
    let account = cloudtalk_account(&deps.secrets.current());
    let lane = Bucket::new(
        format!("cloudtalk-import#{account}"),
        leads_per_min,
        Duration::from_secs(60),
    );
    let now = deps.clock.now_ms();
    let turn_ms = match deps.limiter().acquire(&lane, now, 0).await {
        Ok(Admission::Throttled { turn_in }) => turn_in.as_millis() as u64,
        _ => 0,
    };
    let slots = turn_ms.div_ceil(slot_secs * 1000).max(1);
    slots * slot_secs
}
