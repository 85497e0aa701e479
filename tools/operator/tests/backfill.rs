//! The backfill through its real code: the bridge's clients against a seeded sandbox, the
//! contact map on the local store file and on the DynamoDB test server.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bridge::config::Settings;
use bridge::contact_map::{ContactLink, ContactMap, LinkOrigin, LinkOutcome, StoreError};
use bridge::local_store::LocalStore;
use bridge::{Backends, Deps};
use bridge_local::sandbox::{Faults, Sandbox, SandboxConfig, Seed, SeedSummary};
use bridge_operator::backfill::patience::Patience;
use bridge_operator::backfill::progress::{Phase, Progress, Silent};
use bridge_operator::backfill::setup::{self, Sources};
use bridge_operator::backfill::{run, BackfillError, Options, Outcome, Row, Summary};
use bridge_testkit::aws::{aws_endpoint, dynamo_backends, dynamodb_client, fresh_table};
use serde_json::{json, Value};

const LOCATION: &str = "sandbox-location";

fn seed() -> Seed {
    Seed {
        seed: 21,
        both: 60,
        ghl_only: 12,
        cloudtalk_only: 9,
        duplicates: 4,
        calls: 0,
    }
}

/// The sandbox's URL, the sandbox and what it was seeded with.
async fn seeded(seed: &Seed) -> (String, Sandbox, SeedSummary) {
    let config = SandboxConfig {
        quiet: true,
        ..SandboxConfig::default()
    };
    let (url, sandbox) = Sandbox::spawn(config).await;
    let summary = sandbox.seed(seed);
    (url, sandbox, summary)
}

fn settings(url: &str, extra: &[(&str, &str)]) -> Settings {
    let mut vars: Vec<(String, String)> = vec![
        ("CLOUDTALK_API_BASE".into(), format!("{url}/cloudtalk/api")),
        ("CLOUDTALK_API_KEY_ID".into(), "sandbox-key-id".into()),
        (
            "CLOUDTALK_API_KEY_SECRET".into(),
            "sandbox-key-secret".into(),
        ),
        ("GHL_API_BASE".into(), format!("{url}/ghl")),
        ("GHL_API_TOKEN".into(), "sandbox-ghl-token".into()),
        ("GHL_LOCATION_ID".into(), LOCATION.into()),
        ("DEFAULT_PHONE_REGION".into(), "IT".into()),
        ("CLOUDTALK_RATE_PER_MIN".into(), "60000".into()),
        ("GHL_RATE_PER_10S".into(), "100000".into()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::from_lookup(|k| {
        vars.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    })
}

/// A fresh local store file.
fn store_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("backfill-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("store.json")
}

fn local_backends(file: &PathBuf) -> Backends {
    let store = Arc::new(LocalStore::new(file));
    let mut backends = Backends::in_memory();
    backends.contacts = store.clone();
    backends.limiter = store;
    backends
}

/// A contact map that counts its writes and can be told to fail after some.
struct CountingMap {
    inner: Arc<dyn ContactMap>,
    link_calls: AtomicUsize,
    created: AtomicUsize,
    /// Link calls after this many fail.
    fail_after: Option<usize>,
}

impl CountingMap {
    fn around(inner: Arc<dyn ContactMap>, fail_after: Option<usize>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            link_calls: AtomicUsize::new(0),
            created: AtomicUsize::new(0),
            fail_after,
        })
    }
}

#[async_trait]
impl ContactMap for CountingMap {
    async fn find_by_ghl(&self, l: &str, id: &str) -> Result<Option<ContactLink>, StoreError> {
        self.inner.find_by_ghl(l, id).await
    }
    async fn find_by_cloudtalk(
        &self,
        l: &str,
        id: &str,
    ) -> Result<Option<ContactLink>, StoreError> {
        self.inner.find_by_cloudtalk(l, id).await
    }
    async fn link(&self, link: &ContactLink) -> Result<LinkOutcome, StoreError> {
        let call = self.link_calls.fetch_add(1, Ordering::SeqCst);
        if self.fail_after.is_some_and(|n| call >= n) {
            return Err(StoreError::new("injected: the table is unreachable"));
        }
        let outcome = self.inner.link(link).await?;
        if outcome == LinkOutcome::Created {
            self.created.fetch_add(1, Ordering::SeqCst);
        }
        Ok(outcome)
    }
    async fn unlink(&self, link: &ContactLink) -> Result<bool, StoreError> {
        self.inner.unlink(link).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    fn kind(&self) -> &'static str {
        "counting"
    }
}

/// Deps on the sandbox whose map is `map` (the rest of `backends` as given).
fn deps(url: &str, mut backends: Backends, map: &Arc<CountingMap>) -> Deps {
    backends.contacts = map.clone();
    Deps::build(settings(url, &[]), backends).unwrap()
}

fn quick() -> Patience {
    Patience {
        max_waiting: Duration::from_secs(2),
        max_failures: 1,
        first_backoff: Duration::from_millis(10),
    }
}

fn apply() -> Options {
    Options {
        apply: true,
        patience: quick(),
        ..Options::default()
    }
}

fn writes(sandbox: &Sandbox) -> u64 {
    let counters = &sandbox.state_json()["counters"];
    counters["cloudtalkWrites"].as_u64().unwrap() + counters["ghlWrites"].as_u64().unwrap()
}

/// Every link the map holds for the seeded contacts: GHL id → CloudTalk id, and the CloudTalk
/// contacts that are linked.
async fn links(map: &dyn ContactMap, seeded: &SeedSummary) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let ghl = seeded
        .pairs
        .iter()
        .map(|p| &p.ghl_id)
        .chain(&seeded.ghl_only);
    for id in ghl {
        if let Some(link) = map.find_by_ghl(LOCATION, id).await.unwrap() {
            found.insert(id.clone(), link.cloudtalk_contact_id);
        }
    }
    found
}

fn expected_links(seeded: &SeedSummary) -> BTreeMap<String, String> {
    seeded.unambiguous_pairs().into_iter().collect()
}

fn counts(summary: &Summary) -> Vec<(Outcome, usize)> {
    summary.counts.iter().map(|(o, n)| (*o, *n)).collect()
}

fn rows(report: &PathBuf) -> Vec<Row> {
    std::fs::read_to_string(report)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_dry_run_reads_everything_and_writes_nothing() {
    let (url, sandbox, seeded) = seeded(&seed()).await;
    let file = store_file("dry");
    let map = CountingMap::around(Arc::new(LocalStore::new(&file)), None);
    let deps = deps(&url, local_backends(&file), &map);
    let report = file.with_file_name("report.jsonl");
    let options = Options {
        report: Some(report.clone()),
        ..Options::default()
    };
    let summary = run(&deps, &options, &mut Silent).await.unwrap();
    assert!(summary.dry_run && summary.complete);
    assert_eq!(
        counts(&summary),
        [
            (Outcome::Linked, 56),
            (Outcome::Ambiguous, 4),
            (Outcome::OnlyInGhl, 12),
            (Outcome::OnlyInCloudtalk, 9)
        ]
    );
    assert_eq!(map.link_calls.load(Ordering::SeqCst), 0, "no map write");
    assert!(links(map.as_ref(), &seeded).await.is_empty());
    assert_eq!(writes(&sandbox), 0, "no upstream write");
    let rows = rows(&report);
    assert_eq!(rows.len(), 81);
    assert!(rows.iter().all(|r| r.dry_run));
    let linked = rows.iter().find(|r| r.outcome == Outcome::Linked).unwrap();
    assert_eq!(
        linked.matched_value.as_deref().map(|v| v.starts_with('…')),
        Some(true)
    );
    assert_no_personal_data(&std::fs::read_to_string(&report).unwrap(), &sandbox);
}

/// No phone number or email the sandbox holds appears in `text`.
fn assert_no_personal_data(text: &str, sandbox: &Sandbox) {
    let state = sandbox.state_json();
    let contacts = state["ghl"]["contacts"].as_array().unwrap().iter();
    for contact in contacts {
        for field in ["phone", "email"] {
            let value = contact[field].as_str().unwrap_or("none at all");
            assert!(!text.contains(value), "{field} {value} leaked");
        }
    }
}

/// `--apply` links the unambiguous pairs only; a second `--apply` finds them all linked and
/// writes nothing.
async fn apply_twice(backends: impl Fn() -> Backends) {
    let (url, sandbox, seeded) = seeded(&seed()).await;
    let map = CountingMap::around(backends().contacts, None);
    let deps = deps(&url, backends(), &map);
    let first = run(&deps, &apply(), &mut Silent).await.unwrap();
    assert_eq!(first.count(Outcome::Linked), 56);
    assert_eq!(links(map.as_ref(), &seeded).await, expected_links(&seeded));
    for pair in seeded.ambiguous_pairs() {
        let duplicate = pair.duplicate_id.as_deref().unwrap();
        for id in [pair.cloudtalk_id.as_str(), duplicate] {
            assert_eq!(map.find_by_cloudtalk(LOCATION, id).await.unwrap(), None);
        }
    }
    assert_eq!(map.created.load(Ordering::SeqCst), 56);
    let second = run(&deps, &apply(), &mut Silent).await.unwrap();
    assert_eq!(second.count(Outcome::AlreadyLinked), 56);
    assert_eq!(second.count(Outcome::Linked), 0);
    assert_eq!(
        map.created.load(Ordering::SeqCst),
        56,
        "nothing written again"
    );
    assert_eq!(links(map.as_ref(), &seeded).await, expected_links(&seeded));
    assert_eq!(writes(&sandbox), 0);
}

#[tokio::test]
async fn apply_links_the_unambiguous_pairs_once_on_the_local_store() {
    let file = store_file("apply-twice");
    apply_twice(|| local_backends(&file)).await;
}

#[tokio::test]
async fn apply_links_the_unambiguous_pairs_once_on_dynamodb() {
    let backends = dynamo_backends().await;
    let (contacts, state) = (backends.contacts.clone(), backends.state.clone());
    apply_twice(|| {
        let mut b = Backends::in_memory();
        (b.contacts, b.state) = (contacts.clone(), state.clone());
        b
    })
    .await;
}

async fn update_ghl_contact(url: &str, id: &str, fields: Value) {
    reqwest::Client::new()
        .put(format!("{url}/ghl/contacts/{id}"))
        .bearer_auth("sandbox-ghl-token")
        .header("version", "2021-07-28")
        .json(&fields)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
}

#[tokio::test]
async fn ambiguous_contacts_are_listed_with_their_candidates_and_never_linked() {
    let (url, sandbox, seeded) = seeded(&seed()).await;
    // A GHL-only contact takes the phone of an unambiguous pair: that pair's CloudTalk
    // contact now matches two GHL contacts.
    let pair = &seeded.pairs[1];
    assert!(pair.duplicate_id.is_none());
    let state = sandbox.state_json();
    let phone = state["ghl"]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == json!(pair.ghl_id))
        .map(|c| c["phone"].clone())
        .unwrap();
    let rival = &seeded.ghl_only[0];
    update_ghl_contact(&url, rival, json!({"phone": phone})).await;
    let file = store_file("ambiguous");
    let map = CountingMap::around(Arc::new(LocalStore::new(&file)), None);
    let deps = deps(&url, local_backends(&file), &map);
    let report = file.with_file_name("report.csv");
    let options = Options {
        report: Some(report.clone()),
        ..apply()
    };
    let summary = run(&deps, &options, &mut Silent).await.unwrap();
    assert_eq!(summary.count(Outcome::Ambiguous), 6);
    assert_eq!(summary.count(Outcome::Linked), 55);
    let csv = std::fs::read_to_string(&report).unwrap();
    let line = |ghl: &str| csv.lines().find(|l| l.contains(ghl)).unwrap().to_string();
    let expected = format!("ambiguous,{},,phone,", pair.ghl_id);
    assert!(
        line(&pair.ghl_id).starts_with(&expected),
        "{}",
        line(&pair.ghl_id)
    );
    assert!(line(&pair.ghl_id).contains(&format!(",{},{rival},", pair.cloudtalk_id)));
    let dup = seeded.ambiguous_pairs()[0];
    let both = format!(
        "{};{}",
        dup.cloudtalk_id,
        dup.duplicate_id.as_deref().unwrap()
    );
    assert!(line(&dup.ghl_id).contains(&both), "{}", line(&dup.ghl_id));
    for ghl in [&pair.ghl_id, rival, &dup.ghl_id] {
        assert_eq!(map.find_by_ghl(LOCATION, ghl).await.unwrap(), None);
    }
    assert_no_personal_data(&csv, &sandbox);
}

/// Every row's contact key, checking none comes twice.
fn distinct_keys(rows: &[Row]) -> usize {
    let keys: Vec<String> = rows
        .iter()
        .map(|r| match (&r.ghl_id, &r.cloudtalk_id, r.outcome) {
            (_, Some(c), Outcome::OnlyInCloudtalk) => format!("ct:{c}"),
            (Some(g), _, _) => format!("ghl:{g}"),
            (None, Some(c), _) => format!("ct:{c}"),
            (None, None, _) => "?".into(),
        })
        .collect();
    let mut distinct = keys.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), keys.len(), "a contact reported twice");
    distinct.len()
}

#[tokio::test]
async fn a_run_stopped_by_its_limit_continues_from_its_checkpoint() {
    let (url, _sandbox, seeded) = seeded(&seed()).await;
    let file = store_file("limit");
    let map = CountingMap::around(Arc::new(LocalStore::new(&file)), None);
    let deps = deps(&url, local_backends(&file), &map);
    let (report, checkpoint) = (
        file.with_file_name("r.jsonl"),
        file.with_file_name("c.json"),
    );
    let options = |limit| Options {
        report: Some(report.clone()),
        checkpoint: Some(checkpoint.clone()),
        limit,
        ..apply()
    };
    let first = run(&deps, &options(Some(25)), &mut Silent).await.unwrap();
    assert!(!first.complete);
    assert_eq!((first.decided_now, first.remaining), (25, 56));
    let saved: Value = serde_json::from_slice(&std::fs::read(&checkpoint).unwrap()).unwrap();
    assert_eq!(saved["ghl"]["complete"], true);
    assert_eq!(saved["decided"].as_array().unwrap().len(), 25);
    let second = run(&deps, &options(Some(30)), &mut Silent).await.unwrap();
    assert!(second.resumed && !second.complete);
    let last = run(&deps, &options(None), &mut Silent).await.unwrap();
    assert!(last.resumed && last.complete);
    assert_eq!(
        last.count(Outcome::Linked),
        56,
        "counted over the three runs"
    );
    assert_eq!(last.counts.values().sum::<usize>(), 81);
    assert_eq!(distinct_keys(&rows(&report)), 81);
    assert_eq!(map.created.load(Ordering::SeqCst), 56);
    assert_eq!(links(map.as_ref(), &seeded).await, expected_links(&seeded));
    let again = run(&deps, &options(None), &mut Silent).await.unwrap();
    assert!(!again.resumed, "a finished checkpoint starts a new run");
    assert_eq!(again.count(Outcome::AlreadyLinked), 56);
}

#[tokio::test]
async fn a_run_that_fails_midway_resumes_without_loss_or_duplicate_links() {
    let (url, _sandbox, seeded) = seeded(&seed()).await;
    let file = store_file("fault");
    let store: Arc<dyn ContactMap> = Arc::new(LocalStore::new(&file));
    let failing = CountingMap::around(store.clone(), Some(23));
    let options = Options {
        checkpoint: Some(file.with_file_name("c.json")),
        report: Some(file.with_file_name("r.jsonl")),
        ..apply()
    };
    let broken = deps(&url, local_backends(&file), &failing);
    let stopped = run(&broken, &options, &mut Silent).await.unwrap_err();
    assert!(matches!(stopped, BackfillError::Store(_)), "{stopped}");
    assert_eq!(failing.created.load(Ordering::SeqCst), 23);
    let healthy = CountingMap::around(store, None);
    let fixed = deps(&url, local_backends(&file), &healthy);
    let resumed = run(&fixed, &options, &mut Silent).await.unwrap();
    assert!(resumed.resumed && resumed.complete);
    let linked = resumed.count(Outcome::Linked) + resumed.count(Outcome::AlreadyLinked);
    assert_eq!(
        linked, 56,
        "every pair once: linked, or already linked by the stopped run"
    );
    assert_eq!(healthy.created.load(Ordering::SeqCst), 56 - 23);
    assert_eq!(
        links(healthy.as_ref(), &seeded).await,
        expected_links(&seeded)
    );
    let report = rows(&file.with_file_name("r.jsonl"));
    assert_eq!(distinct_keys(&report), 81);
}

fn create() -> Options {
    Options {
        create_missing: true,
        ..apply()
    }
}

/// The sandbox's contacts on one side.
fn contacts(sandbox: &Sandbox, side: &str) -> Vec<Value> {
    sandbox.state_json()[side]["contacts"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn create_missing_creates_the_missing_side_and_links_it() {
    let (url, sandbox, seeded) = seeded(&seed()).await;
    let map = CountingMap::around(Arc::new(bridge::contact_map::MemoryContactMap::new()), None);
    let deps = deps(&url, Backends::in_memory(), &map);
    let dry = Options {
        apply: false,
        ..create()
    };
    let preview = run(&deps, &dry, &mut Silent).await.unwrap();
    assert_eq!(preview.count(Outcome::CreatedInCloudtalk), 12);
    assert_eq!(
        (writes(&sandbox), map.link_calls.load(Ordering::SeqCst)),
        (0, 0)
    );
    let done = run(&deps, &create(), &mut Silent).await.unwrap();
    assert_eq!(done.count(Outcome::CreatedInCloudtalk), 12);
    assert_eq!(done.count(Outcome::CreatedInGhl), 9);
    assert_eq!(contacts(&sandbox, "cloudtalk").len(), 60 + 4 + 9 + 12);
    assert_eq!(contacts(&sandbox, "ghl").len(), 60 + 12 + 9);
    assert_eq!(writes(&sandbox), 2 + 9, "two bulk requests, nine upserts");
    for id in &seeded.ghl_only {
        let link = map.find_by_ghl(LOCATION, id).await.unwrap().unwrap();
        assert_eq!(link.origin, LinkOrigin::GoHighLevel);
    }
    for id in &seeded.cloudtalk_only {
        let link = map.find_by_cloudtalk(LOCATION, id).await.unwrap().unwrap();
        assert_eq!(link.origin, LinkOrigin::CloudTalk);
        let ghl = contacts(&sandbox, "ghl");
        let made = ghl
            .iter()
            .find(|c| c["id"] == json!(link.ghl_contact_id))
            .unwrap();
        assert_eq!(made["source"], "CloudTalk");
    }
    let again = run(&deps, &create(), &mut Silent).await.unwrap();
    assert_eq!(again.count(Outcome::AlreadyLinked), 56 + 12 + 9);
    assert_eq!(writes(&sandbox), 11, "nothing created twice");
}

/// Once settling starts, every answer comes after the client gave up (the writes are applied).
struct LateAnswersWhenSettling(Sandbox);

impl Progress for LateAnswersWhenSettling {
    fn phase(&mut self, phase: Phase, _: Option<u64>) {
        if phase == Phase::Settle {
            self.0.set_faults(Faults {
                late_answer_rate: 1.0,
                late_answer_ms: 600,
                ..Faults::default()
            });
        }
    }
    fn advance(&mut self, _: u64) {}
    fn note(&mut self, _: &str) {}
    fn finish(&mut self) {}
}

#[tokio::test]
async fn contacts_created_by_a_run_whose_answer_was_lost_are_linked_not_created_again() {
    let (url, sandbox, seeded) = seeded(&seed()).await;
    let map = CountingMap::around(Arc::new(bridge::contact_map::MemoryContactMap::new()), None);
    let mut backends = Backends::in_memory();
    backends.contacts = map.clone();
    let impatient = Deps::build(settings(&url, &[("UPSTREAM_TIMEOUT_MS", "300")]), backends);
    let options = Options {
        checkpoint: Some(store_file("lost-answer").with_file_name("c.json")),
        ..create()
    };
    let mut faults = LateAnswersWhenSettling(sandbox.clone());
    let stopped = run(&impatient.unwrap(), &options, &mut faults)
        .await
        .unwrap_err();
    assert!(
        stopped.to_string().contains("may have been applied"),
        "{stopped}"
    );
    let created_blind = contacts(&sandbox, "cloudtalk").len() - (60 + 4 + 9);
    assert!(created_blind > 0, "the lost bulk request was applied");
    sandbox.set_faults(Faults::default());
    let deps = deps(&url, Backends::in_memory(), &map);
    let resumed = run(&deps, &options, &mut Silent).await.unwrap();
    assert!(resumed.resumed && resumed.complete);
    assert_eq!(
        contacts(&sandbox, "cloudtalk").len(),
        60 + 4 + 9 + 12,
        "no duplicates"
    );
    for id in &seeded.ghl_only {
        assert!(
            map.find_by_ghl(LOCATION, id).await.unwrap().is_some(),
            "{id}"
        );
    }
    let found_again = resumed.count(Outcome::Linked) - 56;
    assert_eq!(found_again, created_blind, "found by phone and linked");
}

#[tokio::test]
async fn the_command_line_setup_reads_a_stack_outputs_file_and_uses_its_tables() {
    let Some(endpoint) = aws_endpoint() else {
        return;
    };
    let client = dynamodb_client(&endpoint);
    let (contacts, state) = (
        fresh_table(&client, "backfill-map").await,
        fresh_table(&client, "backfill-state").await,
    );
    let (url, _sandbox, seeded) = seeded(&seed()).await;
    let file = store_file("stack");
    let outputs = file.with_file_name("outputs.json");
    let stack = json!([{"OutputKey": "ContactMapTableName", "OutputValue": contacts},
        {"OutputKey": "StateTableName", "OutputValue": state}]);
    std::fs::write(&outputs, stack.to_string()).unwrap();
    let vars = settings_vars(&url, &endpoint);
    let env: bridge::secrets::Lookup =
        Arc::new(move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()));
    let sources = Sources {
        stack: Some(bridge_operator::stack::Stack::from_file(&outputs).unwrap()),
        local_store: Some(file.clone()),
        ..Sources::default()
    };
    let deps = setup::deps(&sources, env).await.unwrap();
    assert_eq!(deps.contacts.kind(), "dynamodb");
    let summary = run(&deps, &apply(), &mut Silent).await.unwrap();
    assert_eq!(summary.count(Outcome::Linked), 56);
    let table = bridge::contact_map::DynamoContactMap::new(client, contacts);
    assert_eq!(links(&table, &seeded).await, expected_links(&seeded));
    assert!(
        !file.exists(),
        "the tables are used, not the local store file"
    );
}

fn settings_vars(url: &str, endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CLOUDTALK_API_BASE", format!("{url}/cloudtalk/api")),
        ("CLOUDTALK_API_KEY_ID", "sandbox-key-id".into()),
        ("CLOUDTALK_API_KEY_SECRET", "sandbox-key-secret".into()),
        ("GHL_API_BASE", format!("{url}/ghl")),
        ("GHL_API_TOKEN", "sandbox-ghl-token".into()),
        ("GHL_LOCATION_ID", LOCATION.into()),
        ("DEFAULT_PHONE_REGION", "IT".into()),
        ("CLOUDTALK_RATE_PER_MIN", "60000".into()),
        ("GHL_RATE_PER_10S", "100000".into()),
        ("AWS_ENDPOINT_URL", endpoint.into()),
        ("AWS_REGION", "us-east-1".into()),
    ]
}
