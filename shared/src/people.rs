//! People, not ids: CloudTalk agents as GHL users.
//!
//! CloudTalk's agents list (`GET /agents/index.json`) gives each agent's email; GHL's users of
//! the location (`GET /users/?locationId=`) give each user's. An agent is the user with the
//! same email, compared without regard to case; the tenant's `agent_map` (`AGENT_MAP` for the
//! deployment's own location) names users by agent id and always wins. The list of users of a
//! location is one request where the users search the issue suggested (`/users/search`) is one
//! per agent and needs the agency's `companyId`, which a private-token tenant does not have.
//!
//! The directory of a location is kept in the state table (`value#people#agents#<location>`)
//! and in each container's memory, and refreshed once a day, or at once when an agent id it
//! does not know appears (at most every [`UNKNOWN_AGENT_RETRY_MS`]). A known agent costs no
//! upstream call on a warm container. An agent with no GHL user is logged once per refresh
//! (ids only), never an error; a refresh that fails keeps what the directory had.
//!
//! This module holds the directory; [`crate::resolve::agent`] reads and refreshes it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The directory is read again from the APIs after this long.
pub const REFRESH_MS: i64 = 24 * 3600 * 1000;
/// An agent the directory does not know makes it refresh, at most this often.
pub const UNKNOWN_AGENT_RETRY_MS: i64 = 10 * 60 * 1000;

/// An agent as the bridge names it in GHL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agent {
    pub name: Option<String>,
    /// The agent's GHL user, when there is one.
    pub user_id: Option<String>,
}

/// One agent of the directory (no email is kept: only what GHL needs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The agent's default outbound number: its user's texts are sent from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// A location's agents, as last read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentDirectory {
    pub refreshed_at_ms: i64,
    /// The last refresh that failed: the next is tried [`UNKNOWN_AGENT_RETRY_MS`] after it.
    #[serde(default)]
    pub tried_at_ms: i64,
    pub agents: BTreeMap<String, AgentEntry>,
}

/// Each container's copy of the directories, by location.
#[derive(Debug, Default)]
pub struct Directories {
    by_location: Mutex<HashMap<String, AgentDirectory>>,
}

impl Directories {
    pub fn get(&self, location: &str) -> Option<AgentDirectory> {
        self.by_location.lock().ok()?.get(location).cloned()
    }

    pub fn put(&self, location: &str, directory: AgentDirectory) {
        if let Ok(mut all) = self.by_location.lock() {
            all.insert(location.to_string(), directory);
        }
    }
}

/// The state table's name of a location's directory.
pub fn state_name(location: &str) -> String {
    format!("people#agents#{location}")
}
