//! In-process state for unit tests and runs without `STATE_TABLE`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{AgentStatus, CountersRecord, StateStore, StoredEvent};
use crate::store::StoreError;

#[derive(Debug, Default)]
pub struct MemoryStateStore {
    agents: Mutex<HashMap<String, AgentStatus>>,
    events: Mutex<HashMap<String, StoredEvent>>,
    values: Mutex<HashMap<String, String>>,
    counters: Mutex<BTreeMap<String, CountersRecord>>,
}

impl MemoryStateStore {
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::new("memory state lock poisoned")
}

#[async_trait]
impl StateStore for MemoryStateStore {
    async fn get_agent(
        &self,
        location_id: &str,
        agent_id: &str,
    ) -> Result<Option<AgentStatus>, StoreError> {
        let agents = self.agents.lock().map_err(poisoned)?;
        Ok(agents
            .get(&AgentStatus::key(location_id, agent_id))
            .cloned())
    }

    async fn put_agent(&self, status: &AgentStatus) -> Result<(), StoreError> {
        let mut agents = self.agents.lock().map_err(poisoned)?;
        agents.insert(
            AgentStatus::key(&status.location_id, &status.agent_id),
            status.clone(),
        );
        Ok(())
    }

    async fn put_event(&self, event: &StoredEvent) -> Result<(), StoreError> {
        let mut events = self.events.lock().map_err(poisoned)?;
        events.insert(event.id.clone(), event.clone());
        Ok(())
    }

    async fn get_event(&self, id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let events = self.events.lock().map_err(poisoned)?;
        Ok(events
            .get(id)
            .cloned()
            .and_then(StoredEvent::unless_expired))
    }

    async fn get_value(&self, name: &str) -> Result<Option<String>, StoreError> {
        let values = self.values.lock().map_err(poisoned)?;
        Ok(values.get(name).cloned())
    }

    async fn put_value(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let mut values = self.values.lock().map_err(poisoned)?;
        values.insert(name.to_string(), value.to_string());
        Ok(())
    }

    async fn next_turn(&self, name: &str) -> Result<u64, StoreError> {
        let mut values = self.values.lock().map_err(poisoned)?;
        let key = format!("turn#{name}");
        let turn = values
            .get(&key)
            .and_then(|t| t.parse().ok())
            .unwrap_or(0u64);
        values.insert(key, (turn + 1).to_string());
        Ok(turn)
    }

    async fn count(
        &self,
        name: &str,
        field: &str,
        limit: u64,
        expires_at: i64,
    ) -> Result<Option<u64>, StoreError> {
        let mut counters = self.counters.lock().map_err(poisoned)?;
        Ok(super::count_in(
            &mut counters,
            (name, field),
            limit,
            expires_at,
        ))
    }

    async fn counters(&self, name: &str) -> Result<BTreeMap<String, u64>, StoreError> {
        let counters = self.counters.lock().map_err(poisoned)?;
        Ok(counters
            .get(name)
            .map(|r| r.fields.clone())
            .unwrap_or_default())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}
