//! `lambda-bench`: a function's cold start, first invocation, warm invocations and peak memory,
//! measured under the local Lambda Runtime API ([`bridge_local::runtime_api`]) side by side with bare
//! hello functions built with the same profile.
//!
//! Every start is a fresh process and a fresh Runtime API. The times are the Runtime API's own:
//! init is from the process being spawned to its first `next` request; an invocation is from the
//! event being handed out to the reply arriving. Peak RSS is `VmHWM` from `/proc/<pid>/status`
//! after the warm invocations. The binaries of one configuration are started in turn, round
//! after round, so a change in the machine's load touches all of them alike; the report gives
//! ratios to the first binary (the `lambda_http` hello).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use bridge_local::runtime_api::{Reply, RuntimeApi};

/// One binary to measure.
#[derive(Debug, Clone)]
pub struct Subject {
    pub name: String,
    pub path: PathBuf,
}

/// What one start of one binary measured.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub init: Duration,
    pub first: Duration,
    pub warm: Vec<Duration>,
    pub peak_rss_kb: u64,
    /// The status code of the first reply (0 when it was not an HTTP response).
    pub status: u64,
}

/// The settings one configuration gives every binary, and how the Runtime API is served.
#[derive(Debug, Clone)]
pub struct Setup {
    pub name: String,
    /// `true`: at `host:port`, as Lambda serves it; `false`: under `/.rt`, as
    /// `cargo lambda watch` does (the function then runs as a local one).
    pub lambda: bool,
    pub env: Vec<(String, String)>,
}

/// Why a start could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot start {0}: {1}")]
    Spawn(String, std::io::Error),
    #[error("{0} did not finish its init within {1:?}")]
    NoInit(String, Duration),
    #[error("{0} did not answer an invocation within {1:?}")]
    NoReply(String, Duration),
    #[error("the Runtime API could not start: {0}")]
    Api(std::io::Error),
}

const TIMEOUT: Duration = Duration::from_secs(20);

/// The peak resident set of a running process, in kB (`VmHWM`).
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_hwm(&status)
}

/// `VmHWM:     1234 kB` in a `/proc/<pid>/status` text.
pub fn parse_vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn status_of(reply: &Reply) -> u64 {
    match reply {
        Reply::Response(r) => r["statusCode"].as_u64().unwrap_or(200),
        Reply::Error(_) => 0,
    }
}

/// Starts `subject` once under `setup`, sends `event` once cold and `warm` times warm.
pub async fn measure_once(
    subject: &Subject,
    setup: &Setup,
    event: &Value,
    warm: usize,
) -> Result<Sample, BenchError> {
    let api = match setup.lambda {
        true => RuntimeApi::start().await,
        false => RuntimeApi::start_with_prefix("/.rt").await,
    }
    .map_err(BenchError::Api)?;
    let mut env = api.lambda_env(&subject.name);
    env.extend(setup.env.iter().cloned());
    let started = Instant::now();
    let child = Command::new(&subject.path)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| BenchError::Spawn(subject.path.display().to_string(), e))?;
    let child = Running(child);
    if !api.wait_until_ready(TIMEOUT).await {
        return Err(BenchError::NoInit(subject.name.clone(), TIMEOUT));
    }
    let init = api
        .first_poll_at()
        .map(|t| t.saturating_duration_since(started))
        .unwrap_or_default();
    let no_reply = || BenchError::NoReply(subject.name.clone(), TIMEOUT);
    let (reply, first) = api
        .invoke_timed(event.clone(), TIMEOUT)
        .await
        .ok_or_else(no_reply)?;
    let mut warm_times = Vec::with_capacity(warm);
    for _ in 0..warm {
        let (_, took) = api
            .invoke_timed(event.clone(), TIMEOUT)
            .await
            .ok_or_else(no_reply)?;
        warm_times.push(took);
    }
    let peak_rss_kb = peak_rss_kb(child.0.id()).unwrap_or_default();
    Ok(Sample {
        init,
        first,
        warm: warm_times,
        peak_rss_kb,
        status: status_of(&reply),
    })
}

/// The `p`-th percentile (0–100) of `values`, nearest rank; zero when there are none.
pub fn percentile(values: &[Duration], p: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What one binary measured over all its starts in one configuration.
#[derive(Debug, Clone)]
pub struct Summary {
    pub name: String,
    pub init_p50: Duration,
    pub first_p50: Duration,
    pub warm_p50: Duration,
    pub warm_p99: Duration,
    pub peak_rss_kb: u64,
    pub statuses: Vec<u64>,
    pub binary_bytes: u64,
}

pub fn summarize(subject: &Subject, samples: &[Sample]) -> Summary {
    let inits: Vec<Duration> = samples.iter().map(|s| s.init).collect();
    let firsts: Vec<Duration> = samples.iter().map(|s| s.first).collect();
    let warm: Vec<Duration> = samples.iter().flat_map(|s| s.warm.clone()).collect();
    let mut statuses: Vec<u64> = samples.iter().map(|s| s.status).collect();
    statuses.sort();
    statuses.dedup();
    Summary {
        name: subject.name.clone(),
        init_p50: percentile(&inits, 50.0),
        first_p50: percentile(&firsts, 50.0),
        warm_p50: percentile(&warm, 50.0),
        warm_p99: percentile(&warm, 99.0),
        peak_rss_kb: samples.iter().map(|s| s.peak_rss_kb).max().unwrap_or(0),
        statuses,
        binary_bytes: std::fs::metadata(&subject.path)
            .map(|m| m.len())
            .unwrap_or(0),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn ratio(a: f64, b: f64) -> String {
    match b > 0.0 {
        true => format!("{:.2}×", a / b),
        false => "–".to_string(),
    }
}

/// A Markdown table of `summaries`, with ratios to the first one.
pub fn table(setup: &str, summaries: &[Summary]) -> String {
    let mut out = format!(
        "\n### {setup}\n\n| binary | status | init p50 | first invocation p50 | warm p50 | warm p99 | warm p99 − base | peak RSS | binary |\n|---|---|---|---|---|---|---|---|---|\n"
    );
    let Some(base) = summaries.first() else {
        return out;
    };
    let secs = |d: Duration| d.as_secs_f64();
    for s in summaries {
        let statuses: Vec<String> = s.statuses.iter().map(u64::to_string).collect();
        out.push_str(&format!(
            "| {} | {} | {} ({}) | {} ({}) | {} | {} | {:+.2} ms | {:.1} MB ({}) | {:.1} MB |\n",
            s.name,
            statuses.join(","),
            ms(s.init_p50),
            ratio(secs(s.init_p50), secs(base.init_p50)),
            ms(s.first_p50),
            ratio(secs(s.first_p50), secs(base.first_p50)),
            ms(s.warm_p50),
            ms(s.warm_p99),
            (secs(s.warm_p99) - secs(base.warm_p99)) * 1000.0,
            s.peak_rss_kb as f64 / 1024.0,
            ratio(s.peak_rss_kb as f64, base.peak_rss_kb as f64),
            s.binary_bytes as f64 / 1_048_576.0,
        ));
    }
    out
}

/// Runs `subjects` `runs` times each under `setup`, interleaved, and summarizes them.
pub async fn run(
    subjects: &[Subject],
    setup: &Setup,
    event: &Value,
    runs: usize,
    warm: usize,
) -> Result<Vec<Summary>, BenchError> {
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); subjects.len()];
    for _ in 0..runs {
        for (subject, into) in subjects.iter().zip(samples.iter_mut()) {
            into.push(measure_once(subject, setup, event, warm).await?);
        }
    }
    Ok(subjects
        .iter()
        .zip(&samples)
        .map(|(subject, samples)| summarize(subject, samples))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_peak_resident_set() {
        let status =
            "Name:\tbootstrap\nVmPeak:\t   20000 kB\nVmHWM:\t    6144 kB\nVmRSS:\t    6000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(6144));
        assert_eq!(parse_vm_hwm("VmRSS: 1 kB\n"), None);
        // This very process has one.
        assert!(peak_rss_kb(std::process::id()).is_some_and(|kb| kb > 0));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let ms = |v: u64| Duration::from_millis(v);
        let values: Vec<Duration> = (1..=100).rev().map(ms).collect();
        assert_eq!(percentile(&values, 50.0), ms(50));
        assert_eq!(percentile(&values, 99.0), ms(99));
        assert_eq!(percentile(&values, 100.0), ms(100));
        assert_eq!(percentile(&[ms(7)], 99.0), ms(7));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn the_table_gives_ratios_to_the_first_binary() {
        let summary = |name: &str, init: u64, rss: u64| Summary {
            name: name.into(),
            init_p50: Duration::from_millis(init),
            first_p50: Duration::from_millis(1),
            warm_p50: Duration::from_micros(200),
            warm_p99: Duration::from_micros(300),
            peak_rss_kb: rss,
            statuses: vec![401],
            binary_bytes: 1_048_576,
        };
        let text = table(
            "local",
            &[summary("hello", 2, 4096), summary("fn", 3, 8192)],
        );
        assert!(text.contains("| hello | 401 | 2.00 ms (1.00×)"), "{text}");
        assert!(text.contains("| fn | 401 | 3.00 ms (1.50×)"), "{text}");
        assert!(text.contains("8.0 MB (2.00×)"), "{text}");
    }
}
