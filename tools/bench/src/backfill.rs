//! `backfill bench`: a backfill of a seeded sandbox, in this process, through the real
//! clients and the deployment's default budgets (CloudTalk 50 a minute, GHL 100 per 10 s, as
//! background work), on the local store file (or in memory). Three runs: the dry run, the
//! `--apply` run, and the same again (which must find everything linked and write nothing);
//! each with its wall time and the requests each API received.
//!
//! The sandbox holds `contacts` GHL contacts: 85 % also in CloudTalk (one in a hundred of
//! those with a CloudTalk duplicate), 15 % only in GHL; and a tenth as many contacts only in
//! CloudTalk.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bridge::config::Settings;
use bridge::local_store::LocalStore;
use bridge::{Backends, Deps};

use bridge_local::sandbox::{Sandbox, SandboxConfig, Seed};
use bridge_operator::backfill::progress::Silent;
use bridge_operator::backfill::{run, BackfillError, Options, Outcome, Summary};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchOptions {
    pub contacts: usize,
    pub create_missing: bool,
    /// The map and the budget in memory rather than in the local store file.
    pub memory_store: bool,
    pub seed: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            contacts: 2000,
            create_missing: false,
            memory_store: false,
            seed: 7,
        }
    }
}

/// One run of the three.
#[derive(Debug, Clone)]
pub struct Measured {
    pub name: &'static str,
    pub wall: Duration,
    pub cloudtalk_requests: u64,
    pub ghl_requests: u64,
    pub writes: u64,
    pub summary: Summary,
}

impl Measured {
    pub fn line(&self) -> String {
        let counts: Vec<String> = Outcome::ALL
            .iter()
            .filter(|o| self.summary.count(**o) > 0)
            .map(|o| format!("{} {}", o.as_str(), self.summary.count(*o)))
            .collect();
        format!(
            "{:<8} {:>7.2} s  CloudTalk {:>4} requests  GHL {:>4} requests  {:>4} writes  {}",
            self.name,
            self.wall.as_secs_f64(),
            self.cloudtalk_requests,
            self.ghl_requests,
            self.writes,
            counts.join(", ")
        )
    }
}

/// What the sandbox holds for `contacts` GHL contacts.
pub fn seed_for(contacts: usize, seed: u64) -> Seed {
    let both = contacts * 85 / 100;
    Seed {
        seed,
        both,
        ghl_only: contacts - both,
        cloudtalk_only: contacts / 10,
        duplicates: both / 100,
        calls: 0,
    }
}

/// The sandbox's request counters: CloudTalk, GHL, writes.
fn counters(sandbox: &Sandbox) -> [u64; 3] {
    let state = sandbox.state_json();
    let get = |k: &str| state["counters"][k].as_u64().unwrap_or(0);
    [
        get("cloudtalkRequests"),
        get("ghlRequests"),
        get("cloudtalkWrites") + get("ghlWrites"),
    ]
}

fn settings(sandbox_url: &str) -> Settings {
    let vars = [
        ("CLOUDTALK_API_BASE", format!("{sandbox_url}/cloudtalk/api")),
        ("CLOUDTALK_API_KEY_ID", "sandbox-key-id".into()),
        ("CLOUDTALK_API_KEY_SECRET", "sandbox-key-secret".into()),
        ("GHL_API_BASE", format!("{sandbox_url}/ghl")),
        ("GHL_API_TOKEN", "sandbox-ghl-token".into()),
        ("GHL_LOCATION_ID", "sandbox-location".into()),
        ("DEFAULT_PHONE_REGION", "IT".into()),
    ];
    Settings::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
}

fn backends(options: &BenchOptions, store: &std::path::Path) -> Backends {
    let mut backends = Backends::in_memory();
    if !options.memory_store {
        let local = Arc::new(LocalStore::new(store));
        backends.contacts = local.clone();
        (backends.state, backends.idempotency) = (local.clone(), local.clone());
        backends.limiter = local;
    }
    backends
}

/// Seeds a sandbox and measures the three runs; the sandbox's seeding line is returned first.
pub async fn bench(options: &BenchOptions) -> Result<(String, Vec<Measured>), BackfillError> {
    let config = SandboxConfig {
        quiet: true,
        ..SandboxConfig::default()
    };
    let (url, sandbox) = Sandbox::spawn(config).await;
    let seeded = sandbox.seed(&seed_for(options.contacts, options.seed));
    let dir = std::env::temp_dir().join(format!("backfill-bench-{}", std::process::id()));
    let deps = Deps::build(settings(&url), backends(options, &dir.join("store.json")))
        .map_err(|_| BackfillError::Internal("the bench's clients could not be built"))?;
    let dry = Options {
        create_missing: options.create_missing,
        ..Options::default()
    };
    let apply = Options {
        apply: true,
        create_missing: options.create_missing,
        ..Options::default()
    };
    let mut measured = Vec::new();
    for (name, run_options) in [("dry run", &dry), ("apply", &apply), ("re-run", &apply)] {
        measured.push(measure(name, &deps, run_options, &sandbox).await?);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok((seeded.describe(), measured))
}

async fn measure(
    name: &'static str,
    deps: &Deps,
    options: &Options,
    sandbox: &Sandbox,
) -> Result<Measured, BackfillError> {
    let before = counters(sandbox);
    let started = Instant::now();
    let summary = run(deps, options, &mut Silent).await?;
    let wall = started.elapsed();
    let after = counters(sandbox);
    Ok(Measured {
        name,
        wall,
        cloudtalk_requests: after[0] - before[0],
        ghl_requests: after[1] - before[1],
        writes: after[2] - before[2],
        summary,
    })
}
