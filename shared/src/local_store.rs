//! The embedded store for local runs: the contact map and the bridge state in one JSON file,
//! used when `CONTACT_MAP_TABLE` / `STATE_TABLE` are not set.
//!
//! `cargo lambda watch` runs every function as its own process, so the file is shared between
//! processes: each operation takes an exclusive OS lock on `<file>.lock`, reads the file, applies
//! the change and replaces the file atomically (write to a temporary file, then rename). Links
//! keep their conditional semantics across processes, and everything survives restarts.
//! The default file is `.local/bridge-store.json` under the working directory
//! (`LOCAL_STORE_PATH` changes it).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::contact_map::{ContactLink, ContactMap, LinkOrigin, LinkOutcome};
use crate::idempotency::memory::Record as IdempotencyRecord;
use crate::idempotency::{Claim, IdempotencyStore};
use crate::rate_limit::{Admission, Bucket, BucketState, RateLimiter};
use crate::state::{AgentStatus, CountersRecord, StateStore, StoredEvent};
use crate::store::StoreError;

pub const DEFAULT_LOCAL_STORE_PATH: &str = ".local/bridge-store.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Data {
    #[serde(default)]
    links: BTreeMap<String, LinkRecord>,
    #[serde(default)]
    agents: BTreeMap<String, AgentRecord>,
    #[serde(default)]
    events: BTreeMap<String, EventRecord>,
    #[serde(default)]
    idempotency: BTreeMap<String, IdempotencyRecord>,
    #[serde(default)]
    buckets: BTreeMap<String, BucketState>,
    #[serde(default)]
    values: BTreeMap<String, String>,
    #[serde(default)]
    tenants: BTreeMap<String, TenantDoc>,
    #[serde(default)]
    counters: BTreeMap<String, CountersRecord>,
}

/// A versioned tenant document as the file keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TenantDoc {
    doc: String,
    version: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LinkRecord {
    location_id: String,
    ghl_contact_id: String,
    cloudtalk_contact_id: String,
    origin: String,
    created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AgentRecord {
    location_id: String,
    agent_id: String,
    agent_name: Option<String>,
    status: String,
    changed_at: String,
    ghl_custom_value_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct EventRecord {
    route: String,
    received_at: String,
    body: String,
    expires_at: i64,
}

impl From<&ContactLink> for LinkRecord {
    fn from(l: &ContactLink) -> Self {
        Self {
            location_id: l.location_id.clone(),
            ghl_contact_id: l.ghl_contact_id.clone(),
            cloudtalk_contact_id: l.cloudtalk_contact_id.clone(),
            origin: l.origin.as_str().to_string(),
            created_at: l.created_at.clone(),
        }
    }
}

impl From<&LinkRecord> for ContactLink {
    fn from(r: &LinkRecord) -> Self {
        Self {
            location_id: r.location_id.clone(),
            ghl_contact_id: r.ghl_contact_id.clone(),
            cloudtalk_contact_id: r.cloudtalk_contact_id.clone(),
            origin: LinkOrigin::parse(&r.origin).unwrap_or(LinkOrigin::GoHighLevel),
            created_at: r.created_at.clone(),
        }
    }
}

/// One JSON file shared by every local process; see the module documentation.
#[derive(Debug, Clone)]
pub struct LocalStore {
    path: PathBuf,
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::new(format!("{what} {}: {e}", path.display()))
}

impl LocalStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// `LOCAL_STORE_PATH`, else the default file.
    pub fn from_env() -> Self {
        Self::new(
            std::env::var("LOCAL_STORE_PATH")
                .ok()
                .filter(|p| !p.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_LOCAL_STORE_PATH.to_string()),
        )
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the file's data under an exclusive lock and saves the data when `f` says so.
    fn with_data<T>(&self, f: impl FnOnce(&mut Data) -> (T, bool)) -> Result<T, StoreError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| io_error("creating", dir, e))?;
        }
        let lock_path = self.path.with_extension("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_error("opening", &lock_path, e))?;
        lock.lock()
            .map_err(|e| io_error("locking", &lock_path, e))?;
        let result = (|| {
            let mut data: Data = match fs::read(&self.path) {
                Ok(bytes) if !bytes.is_empty() => serde_json::from_slice(&bytes).map_err(|e| {
                    StoreError::new(format!(
                        "{} is not a bridge store: {e}",
                        self.path.display()
                    ))
                })?,
                Ok(_) => Data::default(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Data::default(),
                Err(e) => return Err(io_error("reading", &self.path, e)),
            };
            let (value, changed) = f(&mut data);
            if changed {
                let now = chrono::Utc::now().timestamp();
                data.events.retain(|_, e| e.expires_at > now);
                data.idempotency.retain(|_, r| r.expires_at > now);
                let tmp = self.path.with_extension("tmp");
                let text = serde_json::to_vec_pretty(&data)
                    .map_err(|e| StoreError::new(format!("encoding the store: {e}")))?;
                fs::write(&tmp, text).map_err(|e| io_error("writing", &tmp, e))?;
                fs::rename(&tmp, &self.path).map_err(|e| io_error("replacing", &self.path, e))?;
            }
            Ok(value)
        })();
        let _ = File::unlock(&lock);
        result
    }
}

#[async_trait]
impl ContactMap for LocalStore {
    async fn find_by_ghl(
        &self,
        location_id: &str,
        ghl_id: &str,
    ) -> Result<Option<ContactLink>, StoreError> {
        let key = ContactLink::ghl_key(location_id, ghl_id);
        self.with_data(|d| (d.links.get(&key).map(ContactLink::from), false))
    }

    async fn find_by_cloudtalk(
        &self,
        location_id: &str,
        cloudtalk_id: &str,
    ) -> Result<Option<ContactLink>, StoreError> {
        let key = ContactLink::cloudtalk_key(location_id, cloudtalk_id);
        self.with_data(|d| (d.links.get(&key).map(ContactLink::from), false))
    }

    async fn link(&self, link: &ContactLink) -> Result<LinkOutcome, StoreError> {
        let ghl_key = ContactLink::ghl_key(&link.location_id, &link.ghl_contact_id);
        let ct_key = ContactLink::cloudtalk_key(&link.location_id, &link.cloudtalk_contact_id);
        self.with_data(|d| {
            if let Some(existing) = d.links.get(&ghl_key).or_else(|| d.links.get(&ct_key)) {
                return (LinkOutcome::Existing(ContactLink::from(existing)), false);
            }
            d.links.insert(ghl_key.clone(), LinkRecord::from(link));
            d.links.insert(ct_key.clone(), LinkRecord::from(link));
            (LinkOutcome::Created, true)
        })
    }

    async fn unlink(&self, link: &ContactLink) -> Result<bool, StoreError> {
        self.with_data(|d| {
            let mut removed = false;
            for key in link.keys() {
                if d.links
                    .get(&key)
                    .is_some_and(|l| link.same_pair(&ContactLink::from(l)))
                {
                    d.links.remove(&key);
                    removed = true;
                }
            }
            (removed, removed)
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with_data(|_| ((), false))
    }

    fn kind(&self) -> &'static str {
        "local-file"
    }
}

#[async_trait]
impl StateStore for LocalStore {
    async fn get_agent(
        &self,
        location_id: &str,
        agent_id: &str,
    ) -> Result<Option<AgentStatus>, StoreError> {
        let key = AgentStatus::key(location_id, agent_id);
        self.with_data(|d| {
            let found = d.agents.get(&key).map(|a| AgentStatus {
                location_id: a.location_id.clone(),
                agent_id: a.agent_id.clone(),
                agent_name: a.agent_name.clone(),
                status: a.status.clone(),
                changed_at: a.changed_at.clone(),
                ghl_custom_value_id: a.ghl_custom_value_id.clone(),
            });
            (found, false)
        })
    }

    async fn put_agent(&self, s: &AgentStatus) -> Result<(), StoreError> {
        let key = AgentStatus::key(&s.location_id, &s.agent_id);
        let record = AgentRecord {
            location_id: s.location_id.clone(),
            agent_id: s.agent_id.clone(),
            agent_name: s.agent_name.clone(),
            status: s.status.clone(),
            changed_at: s.changed_at.clone(),
            ghl_custom_value_id: s.ghl_custom_value_id.clone(),
        };
        self.with_data(|d| {
            d.agents.insert(key, record);
            ((), true)
        })
    }

    async fn put_event(&self, e: &StoredEvent) -> Result<(), StoreError> {
        let record = EventRecord {
            route: e.route.clone(),
            received_at: e.received_at.clone(),
            body: e.body.clone(),
            expires_at: e.expires_at,
        };
        let id = e.id.clone();
        self.with_data(|d| {
            d.events.insert(id, record);
            ((), true)
        })
    }

    async fn get_event(&self, id: &str) -> Result<Option<StoredEvent>, StoreError> {
        self.with_data(|d| {
            let found = d.events.get(id).map(|r| StoredEvent {
                id: id.to_string(),
                route: r.route.clone(),
                received_at: r.received_at.clone(),
                body: r.body.clone(),
                expires_at: r.expires_at,
            });
            // Pruned on the next write; gone from now on.
            (found.and_then(StoredEvent::unless_expired), false)
        })
    }

    async fn get_value(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.with_data(|d| (d.values.get(name).cloned(), false))
    }

    async fn put_value(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.with_data(|d| {
            d.values.insert(name.to_string(), value.to_string());
            ((), true)
        })
    }

    async fn next_turn(&self, name: &str) -> Result<u64, StoreError> {
        self.with_data(|d| {
            let key = format!("turn#{name}");
            let turn = d
                .values
                .get(&key)
                .and_then(|t| t.parse().ok())
                .unwrap_or(0u64);
            d.values.insert(key, (turn + 1).to_string());
            (turn, true)
        })
    }

    async fn count(
        &self,
        name: &str,
        field: &str,
        limit: u64,
        expires_at: i64,
    ) -> Result<Option<u64>, StoreError> {
        self.with_data(|d| {
            let counted = crate::state::count_in(&mut d.counters, (name, field), limit, expires_at);
            (counted, counted.is_some())
        })
    }

    async fn counters(&self, name: &str) -> Result<BTreeMap<String, u64>, StoreError> {
        self.with_data(|d| {
            let fields = d.counters.get(name).map(|r| r.fields.clone());
            (fields.unwrap_or_default(), false)
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with_data(|_| ((), false))
    }

    fn kind(&self) -> &'static str {
        "local-file"
    }
}

impl LocalStore {
    /// Applies `change` to the idempotency record of `key` held by `owner`, if there is one.
    fn update_record(
        &self,
        key: &str,
        owner: &str,
        change: impl FnOnce(&mut IdempotencyRecord),
    ) -> Result<(), StoreError> {
        self.with_data(|d| {
            let exists = d.idempotency.contains_key(key);
            let result = IdempotencyRecord::update(d.idempotency.get_mut(key), owner, change);
            let changed = exists && result.is_ok();
            (result, changed)
        })?
    }
}

#[async_trait]
impl IdempotencyStore for LocalStore {
    async fn claim(&self, key: &str, now_ms: i64, lock_until_ms: i64) -> Result<Claim, StoreError> {
        self.with_data(|d| {
            let mut slot = d.idempotency.remove(key);
            let (claim, changed) = IdempotencyRecord::claim(&mut slot, now_ms, lock_until_ms);
            if let Some(record) = slot {
                d.idempotency.insert(key.to_string(), record);
            }
            (claim, changed)
        })
    }

    async fn record_step(
        &self,
        key: &str,
        owner: &str,
        step: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        self.update_record(key, owner, |r| {
            r.steps.insert(step.to_string(), value.to_string());
        })
    }

    async fn complete(
        &self,
        key: &str,
        owner: &str,
        response: &serde_json::Value,
        expires_at_secs: i64,
    ) -> Result<(), StoreError> {
        self.update_record(key, owner, |r| {
            r.completed = Some(response.clone());
            r.expires_at = expires_at_secs;
        })
    }

    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.update_record(key, owner, |r| r.lock_until_ms = 0)
    }

    async fn seen(&self, key: &str, now_ms: i64) -> Result<bool, StoreError> {
        self.with_data(|d| {
            let seen = d.idempotency.get(key).is_some_and(|r| r.is_live(now_ms));
            (seen, false)
        })
    }
}

#[async_trait]
impl RateLimiter for LocalStore {
    async fn acquire(
        &self,
        bucket: &Bucket,
        now_ms: i64,
        may_wait_ms: i64,
    ) -> Result<Admission, StoreError> {
        self.with_data(|d| {
            let state = d.buckets.get(&bucket.key).copied();
            let (next, admission) = bucket.decide(state, now_ms, may_wait_ms);
            d.buckets.insert(bucket.key.clone(), next);
            (admission, true)
        })
    }

    fn kind(&self) -> &'static str {
        "local-file"
    }
}

#[async_trait]
impl crate::tenants::TenantStore for LocalStore {
    async fn get(&self, key: &str) -> Result<Option<crate::tenants::Versioned>, StoreError> {
        self.with_data(|d| {
            let found = d.tenants.get(key).map(|t| crate::tenants::Versioned {
                doc: t.doc.clone(),
                version: t.version,
            });
            (found, false)
        })
    }

    async fn put(&self, key: &str, doc: &str, expected: Option<i64>) -> Result<i64, StoreError> {
        self.with_data(|d| {
            let mut docs: BTreeMap<String, crate::tenants::Versioned> = BTreeMap::new();
            if let Some(t) = d.tenants.get(key) {
                let current = crate::tenants::Versioned {
                    doc: t.doc.clone(),
                    version: t.version,
                };
                docs.insert(key.to_string(), current);
            }
            let result = crate::tenants::memory::versioned_put(&mut docs, key, doc, expected);
            if let (Ok(version), Some(new)) = (&result, docs.remove(key)) {
                let doc = TenantDoc {
                    doc: new.doc,
                    version: *version,
                };
                d.tenants.insert(key.to_string(), doc);
            }
            let changed = result.is_ok();
            (result, changed)
        })?
    }

    async fn list(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, crate::tenants::Versioned)>, StoreError> {
        self.with_data(|d| {
            let found = d
                .tenants
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .map(|(k, t)| {
                    let versioned = crate::tenants::Versioned {
                        doc: t.doc.clone(),
                        version: t.version,
                    };
                    (k.clone(), versioned)
                })
                .collect();
            (found, false)
        })
    }

    fn kind(&self) -> &'static str {
        "local-file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_store(name: &str) -> LocalStore {
        let dir = std::env::temp_dir().join(format!("bridge-store-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        LocalStore::new(dir.join("store.json"))
    }

    #[tokio::test]
    async fn links_persist_and_stay_conditional() {
        let store = temp_store("links");
        let link = ContactLink::new("loc", "g1", "c1", LinkOrigin::GoHighLevel);
        assert_eq!(store.link(&link).await.unwrap(), LinkOutcome::Created);
        // A second handle on the same file, as another process would have.
        let other = LocalStore::new(store.path());
        assert_eq!(
            other.find_by_cloudtalk("loc", "c1").await.unwrap().unwrap(),
            link
        );
        let clash = ContactLink::new("loc", "g1", "c2", LinkOrigin::GoHighLevel);
        assert_eq!(
            other.link(&clash).await.unwrap(),
            LinkOutcome::Existing(link)
        );
    }

    #[tokio::test]
    async fn concurrent_links_from_many_handles_produce_one() {
        let store = temp_store("race");
        let mut tasks = Vec::new();
        for i in 0..8 {
            let handle = LocalStore::new(store.path());
            tasks.push(tokio::task::spawn_blocking(move || {
                tokio::runtime::Runtime::new()
                    .unwrap()
                    .block_on(async move {
                        handle
                            .link(&ContactLink::new(
                                "loc",
                                "g",
                                &format!("c{i}"),
                                LinkOrigin::GoHighLevel,
                            ))
                            .await
                            .unwrap()
                    })
            }));
        }
        let mut created = 0;
        for t in tasks {
            if t.await.unwrap() == LinkOutcome::Created {
                created += 1;
            }
        }
        assert_eq!(created, 1);
    }
}
