//! A CloudTalk agent as a GHL user: the directory of [`crate::people`], read from this
//! container's memory, else the state table, and refreshed from both APIs when it is a day old
//! or does not know the agent.

use std::collections::{BTreeMap, HashMap};

use crate::deps::Deps;
use crate::people::{
    state_name, Agent, AgentDirectory, AgentEntry, REFRESH_MS, UNKNOWN_AGENT_RETRY_MS,
};

/// The most pages of agents read (1000 a page).
const MAX_AGENT_PAGES: u32 = 10;

/// The agent `agent_id` of the event's tenant: its name and GHL user. Never fails: what
/// cannot be read is simply not known.
pub async fn agent(deps: &Deps, agent_id: &str) -> Agent {
    let location = deps.location_for(None);
    let now = deps.clock.now_ms();
    let mut directory = directory(deps, &location, now).await;
    let tried = now - directory.tried_at_ms <= UNKNOWN_AGENT_RETRY_MS;
    let stale = now - directory.refreshed_at_ms > REFRESH_MS;
    let unknown = !directory.agents.contains_key(agent_id)
        && now - directory.refreshed_at_ms > UNKNOWN_AGENT_RETRY_MS;
    if (stale || unknown) && !tried {
        match refresh(deps, &location, now).await {
            Some(fresh) => directory = fresh,
            None => {
                directory.tried_at_ms = now;
                deps.people.put(&location, directory.clone());
            }
        }
    }
    let entry = directory.agents.get(agent_id).cloned().unwrap_or_default();
    Agent {
        name: entry.name,
        user_id: deps
            .config
            .people
            .agent_map
            .get(agent_id)
            .cloned()
            .or(entry.user_id),
    }
}

/// The agent whose GHL user is `user_id`: the agent map first, else the directory (refreshed
/// when a day old). `None` when no agent is that user.
pub async fn agent_of_user(deps: &Deps, user_id: &str) -> Option<String> {
    let mapped = deps
        .config
        .people
        .agent_map
        .iter()
        .find(|(_, u)| *u == user_id);
    if let Some((agent, _)) = mapped {
        return Some(agent.clone());
    }
    let location = deps.location_for(None);
    let now = deps.clock.now_ms();
    let mut directory = directory(deps, &location, now).await;
    let tried = now - directory.tried_at_ms <= UNKNOWN_AGENT_RETRY_MS;
    if now - directory.refreshed_at_ms > REFRESH_MS && !tried {
        if let Some(fresh) = refresh(deps, &location, now).await {
            directory = fresh;
        }
    }
    directory
        .agents
        .into_iter()
        .find(|(_, entry)| entry.user_id.as_deref() == Some(user_id))
        .map(|(agent, _)| agent)
}

/// The number the texts of GHL user `user_id` are sent from: the default number of the user's
/// agent (the agent map first, else the directory), when it has one.
pub async fn number_of_user(deps: &Deps, user_id: &str) -> Option<String> {
    let agent = agent_of_user(deps, user_id).await?;
    let location = deps.location_for(None);
    let directory = directory(deps, &location, deps.clock.now_ms()).await;
    directory.agents.get(&agent)?.number.clone()
}

/// The directory from this container's memory, else the state table.
async fn directory(deps: &Deps, location: &str, now: i64) -> AgentDirectory {
    if let Some(cached) = deps.people.get(location) {
        let tried = now - cached.tried_at_ms <= UNKNOWN_AGENT_RETRY_MS;
        if now - cached.refreshed_at_ms <= REFRESH_MS || tried {
            return cached;
        }
    }
    let stored = deps
        .state
        .get_value(&state_name(location))
        .await
        .ok()
        .flatten()
        .and_then(|text| serde_json::from_str::<AgentDirectory>(&text).ok())
        .unwrap_or_default();
    deps.people.put(location, stored.clone());
    stored
}

/// Reads the agents and the location's users again and matches them by email; `None` when
/// either cannot be read (the directory stays as it was).
async fn refresh(deps: &Deps, location: &str, now: i64) -> Option<AgentDirectory> {
    if !deps.cloudtalk_configured() || !deps.ghl_configured() {
        return None;
    }
    let mut agents = Vec::new();
    let mut page = 1;
    loop {
        let listed = match deps.cloudtalk.list_agents(page).await {
            Ok(listed) => listed,
            Err(e) => {
                tracing::warn!(detail = %e, "people: the CloudTalk agents could not be read");
                return None;
            }
        };
        let more = listed.has_more() && page < MAX_AGENT_PAGES;
        agents.extend(listed.items);
        if !more {
            break;
        }
        page += 1;
    }
    let users = match deps.ghl.location_users(location).await {
        Ok(users) => users,
        Err(e) => {
            tracing::warn!(detail = %e, "people: the GHL users could not be read");
            return None;
        }
    };
    let by_email: HashMap<String, String> = users
        .into_iter()
        .filter_map(|u| Some((u.email?.trim().to_lowercase(), u.id)))
        .collect();
    let mut directory = AgentDirectory {
        refreshed_at_ms: now,
        tried_at_ms: 0,
        agents: BTreeMap::new(),
    };
    let mut without_user = Vec::new();
    for agent in agents {
        let user_id = agent
            .email
            .as_deref()
            .and_then(|e| by_email.get(&e.trim().to_lowercase()))
            .cloned();
        if user_id.is_none() && !deps.config.people.agent_map.contains_key(&agent.id) {
            without_user.push(agent.id.clone());
        }
        directory.agents.insert(
            agent.id,
            AgentEntry {
                name: agent.name,
                user_id,
                number: agent.default_number,
            },
        );
    }
    if !without_user.is_empty() {
        tracing::info!(
            agents_without_user = without_user.len(),
            agent_ids = %without_user.join(","),
            "people: CloudTalk agents with no GHL user of the same email (their calls are not attributed)"
        );
    }
    let text = serde_json::to_string(&directory).unwrap_or_default();
    if let Err(e) = deps.state.put_value(&state_name(location), &text).await {
        tracing::warn!(detail = %e, "people: the agent directory could not be kept");
    }
    deps.people.put(location, directory.clone());
    Some(directory)
}
