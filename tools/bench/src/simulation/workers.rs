//! The senders of a burst and the retry worker's invocations, in virtual time.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge::worker::SqsEvent;
use bridge::Deps;

use super::{
    request, roll, worker_deadline, Answers, Drained, Plan, SimQueue, BATCH, BATCHING_WINDOW,
};
use bridge_local::sandbox::{Faults, Sandbox};

/// A cut-off attempt is abandoned at a random point of its first two seconds.
fn cut_after(n: u64) -> Duration {
    Duration::from_millis((roll(n ^ 0xA5A5) * 2_000.0) as u64)
}

/// Delivers event `i`: once, or, when the attempt is cut off, again a minute later.
async fn deliver(deps: Arc<Deps>, plan: Plan, i: usize, answers: Arc<Mutex<Answers>>) {
    let cut = roll(i as u64) < plan.abandon_rate;
    if cut {
        let attempt = bridge::route(&deps, request(plan.traffic, i));
        if tokio::time::timeout(cut_after(i as u64), attempt)
            .await
            .is_err()
        {
            if let Ok(mut a) = answers.lock() {
                a.abandoned += 1;
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
        } else {
            // It finished before the cut: count it as answered.
        }
    }
    let started = tokio::time::Instant::now();
    let status = bridge::route(&deps, request(plan.traffic, i))
        .await
        .status()
        .as_u16();
    let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if let Ok(mut a) = answers.lock() {
        *a.statuses.entry(status).or_default() += 1;
        a.slowest_ms = a.slowest_ms.max(took);
    }
}

/// Sends the burst, evenly over the plan's spread; returns when every sender is done.
pub(super) async fn send_burst(deps: &Arc<Deps>, plan: &Plan, done: Arc<AtomicBool>) -> Answers {
    let answers = Arc::new(Mutex::new(Answers::default()));
    let mut tasks = Vec::new();
    for i in 0..plan.events {
        let offset = plan.spread.mul_f64(i as f64 / plan.events.max(1) as f64);
        let (deps, plan, answers) = (deps.clone(), plan.clone(), answers.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            deliver(deps, plan, i, answers).await;
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    done.store(true, Ordering::SeqCst);
    let taken = answers.lock().map(|mut a| std::mem::take(&mut *a));
    taken.unwrap_or_default()
}

/// One worker invocation on a batch (receipt handle, event), as Lambda's poller runs it: the
/// messages it does not hand back are deleted when it returns; those it hands back, and all of
/// them when it is cut off, stay on the queue and come back when they are visible again (the
/// worker's lease, or the visibility timeout when it took none). Whether it was cut off, and how
/// many messages it handed back (batch item failures).
pub(super) async fn invoke(
    deps: &Deps,
    queue: &SimQueue,
    batch: Vec<(u64, bridge::retry_queue::QueuedEvent)>,
    n: u64,
    abandon_rate: f64,
) -> (bool, usize) {
    let records = batch
        .iter()
        .enumerate()
        .map(|(i, (handle, e))| {
            let mut record = bridge::worker::SqsMessage::default();
            record.message_id = Some(i.to_string());
            record.receipt_handle = Some(handle.to_string());
            record.body = serde_json::to_string(e).ok();
            record
        })
        .collect();
    let mut event = SqsEvent::default();
    event.records = records;
    let run = bridge::worker::handle_batch(deps, event, Some(worker_deadline()));
    let answer = if roll(n ^ 0x5A5A) < abandon_rate {
        match tokio::time::timeout(cut_after(n), run).await {
            Ok(answer) => answer,
            // Killed: nothing is deleted; the batch comes back when it is visible again.
            Err(_) => return (true, 0),
        }
    } else {
        run.await
    };
    let failed: std::collections::BTreeSet<String> = answer
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect();
    for (i, (handle, _)) in batch.iter().enumerate() {
        if !failed.contains(&i.to_string()) {
            queue.delete(*handle);
        }
    }
    (false, failed.len())
}

/// The batch of one worker invocation, as SQS's poller gathers it: the messages visible now, up
/// to [`BATCH`]; when there are some but fewer, it waits up to [`BATCHING_WINDOW`] for more to
/// become visible. Empty when none is visible.
async fn gather(queue: &SimQueue) -> Vec<(u64, bridge::retry_queue::QueuedEvent)> {
    let mut batch = queue.receive(BATCH);
    if batch.is_empty() {
        return batch;
    }
    let window_ms = i64::try_from(BATCHING_WINDOW.as_millis()).unwrap_or(i64::MAX);
    let until = queue.now().saturating_add(window_ms);
    while batch.len() < BATCH && queue.now() < until {
        let left = until - queue.now();
        let wait = queue
            .next_visible()
            .map_or(left, |at| (at - queue.now()).clamp(1, left));
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        batch.extend(queue.receive(BATCH - batch.len()));
    }
    batch
}

/// Two concurrent workers (the template's maximum concurrency) drain the queue until the
/// burst is over and nothing is left, or the horizon passes.
pub(super) async fn drain(
    deps: &Arc<Deps>,
    queue: &Arc<SimQueue>,
    sandbox: &Sandbox,
    plan: &Plan,
    senders_done: Arc<AtomicBool>,
) -> Drained {
    let recovery = plan.recovery_after;
    let sandbox_for_recovery = sandbox.clone();
    tokio::spawn(async move {
        tokio::time::sleep(recovery).await;
        sandbox_for_recovery.set_faults(Faults::default());
    });
    let invocations = Arc::new(AtomicUsize::new(0));
    let abandoned = Arc::new(AtomicUsize::new(0));
    let handed_back = Arc::new(AtomicUsize::new(0));
    let until = tokio::time::Instant::now() + plan.horizon;
    let mut workers = Vec::new();
    for w in 0..2u64 {
        let (deps, queue, done) = (deps.clone(), queue.clone(), senders_done.clone());
        let (invocations, abandoned) = (invocations.clone(), abandoned.clone());
        let handed_back = handed_back.clone();
        let abandon_rate = plan.abandon_rate;
        workers.push(tokio::spawn(async move {
            let mut last_done = queue.now();
            while tokio::time::Instant::now() < until {
                let batch = gather(&queue).await;
                if batch.is_empty() {
                    if done.load(Ordering::SeqCst) && queue.is_empty() {
                        break;
                    }
                    let wait = queue
                        .next_visible()
                        .map_or(1_000, |at| (at - queue.now()).clamp(10, 1_000));
                    tokio::time::sleep(Duration::from_millis(wait as u64)).await;
                    continue;
                }
                let n = invocations.fetch_add(1, Ordering::SeqCst) as u64 * 2 + w;
                let (cut, back) = invoke(&deps, &queue, batch, n, abandon_rate).await;
                abandoned.fetch_add(usize::from(cut), Ordering::SeqCst);
                handed_back.fetch_add(back, Ordering::SeqCst);
                last_done = queue.now();
            }
            last_done
        }));
    }
    let mut last_done_ms = queue.now();
    for w in workers {
        if let Ok(t) = w.await {
            last_done_ms = last_done_ms.max(t);
        }
    }
    Drained {
        last_done_ms,
        invocations: invocations.load(Ordering::SeqCst),
        abandoned: abandoned.load(Ordering::SeqCst),
        handed_back: handed_back.load(Ordering::SeqCst),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bridge::retry_queue::QueuedEvent;
    use bridge::worker::{leased, LEASE_SECS, RENEW_EVERY};
    use bridge::EndpointId;
    use bridge_local::sandbox::Faults;

    use super::super::{world, Plan, VISIBILITY_SECS};
    use super::{invoke, BATCH};

    const LEASE_MS: i64 = LEASE_SECS as i64 * 1000;

    fn lead(i: usize, now_ms: i64) -> QueuedEvent {
        let body = serde_json::json!({"contact_id": format!("sim-{i}"), "first_name": "Sim",
            "phone": super::super::phone(i), "location": {"id": super::super::LOCATION}});
        QueuedEvent::fresh(
            EndpointId::GhlNewContact,
            body.to_string(),
            format!("ghl-new-contact#body#lease-{i}"),
            None,
            None,
            now_ms,
        )
    }

    /// A killed worker invocation's messages come back when its lease ends, not after the
    /// queue's visibility timeout.
    #[tokio::test(start_paused = true)]
    async fn a_killed_invocation_s_batch_comes_back_when_its_lease_ends() {
        // CloudTalk answers after 5 s: the invocation is still at work when it is cut off.
        let plan = Plan {
            faults: Faults {
                latency_ms: 5_000,
                ..Faults::default()
            },
            recovery_after: Duration::from_secs(3_600),
            ..Plan::import(3, 1)
        };
        let w = world(&plan);
        for i in 0..3 {
            w.queue.push(w.queue.now(), lead(i, w.queue.now()));
        }
        let batch = w.queue.receive(BATCH);
        let received_at = w.queue.now();
        assert_eq!(batch.len(), 3);
        assert_eq!(
            w.queue.next_visible(),
            Some(received_at + VISIBILITY_SECS * 1000),
            "received: invisible for the visibility timeout"
        );
        // An abandon rate of 1: this invocation is cut off in its first 2 s.
        let (cut, _) = invoke(&w.deps, &w.queue, batch, 0, 1.0).await;
        assert!(cut, "the invocation was cut off");
        let killed_at = w.queue.now();
        let back = w
            .queue
            .next_visible()
            .expect("the messages are still on the queue");
        assert!(
            back > killed_at && back <= killed_at + LEASE_MS,
            "back {} ms after the kill (lease {LEASE_MS} ms)",
            back - killed_at
        );
        tokio::time::sleep(Duration::from_millis((back - killed_at) as u64)).await;
        assert_eq!(w.queue.receive(BATCH).len(), 3, "delivered again");
    }

    /// While the work runs, the lease is renewed: the messages are never delivered again under
    /// it, however long it takes; when it ends without deleting them (handed back), they come
    /// back when the last lease ends.
    #[tokio::test(start_paused = true)]
    async fn the_lease_is_renewed_while_the_invocation_runs() {
        let w = world(&Plan::import(2, 1));
        for i in 0..2 {
            w.queue.push(w.queue.now(), lead(i, w.queue.now()));
        }
        let batch = w.queue.receive(BATCH);
        let handles: Vec<String> = batch.iter().map(|(h, _)| h.to_string()).collect();
        let long = Duration::from_secs(3 * u64::from(LEASE_SECS));
        let watch = async {
            let mut seen = 0;
            for _ in 0..long.as_secs() - 1 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                seen += w.queue.receive(BATCH).len();
            }
            seen
        };
        let (seen, ()) = tokio::join!(watch, leased(&w.deps, &handles, tokio::time::sleep(long)));
        assert_eq!(seen, 0, "not delivered again while leased");
        let ended = w.queue.now();
        let back = w.queue.next_visible().expect("still on the queue");
        let renewed = i64::try_from(RENEW_EVERY.as_millis()).unwrap_or(0);
        assert!(
            back > ended && back <= ended + LEASE_MS && back >= ended + LEASE_MS - renewed,
            "back {} ms after the end",
            back - ended
        );
    }
}
