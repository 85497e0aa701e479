//! The backfill benchmark, small: it runs, and its rerun writes nothing.

use std::time::Duration;

use bridge_bench::backfill::{bench, BenchOptions};
use bridge_operator::backfill::Outcome;

#[tokio::test]
async fn the_benchmark_runs_small_and_its_rerun_writes_nothing() {
    let options = BenchOptions {
        contacts: 200,
        memory_store: true,
        ..BenchOptions::default()
    };
    let started = std::time::Instant::now();
    let (_, runs) = bench(&options).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let [dry, applied, rerun] = [&runs[0], &runs[1], &runs[2]];
    assert_eq!(dry.summary.count(Outcome::Linked), 169);
    assert_eq!(applied.summary.count(Outcome::Linked), 169);
    assert_eq!(rerun.summary.count(Outcome::AlreadyLinked), 169);
    assert_eq!([dry.writes, applied.writes, rerun.writes], [0, 0, 0]);
    assert_eq!(
        (applied.cloudtalk_requests, applied.ghl_requests),
        (1, 3),
        "one page of CloudTalk contacts; GHL's 100 a page, the last one empty"
    );
}
