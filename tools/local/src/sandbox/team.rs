//! The people of both accounts: CloudTalk's agents (`GET /agents/index.json`) and the GHL
//! location's users (`GET /users/?locationId=…`, `GET /users/{userId}`).
//!
//! A fresh sandbox holds `SandboxConfig::cloudtalk_agents` and `SandboxConfig::ghl_users`, by
//! default [`default_agents`] and [`default_users`]: four agents, three of whom have a GHL user
//! with their email (one of them in another letter case), and a GHL user who is no agent.
//! `POST /sandbox/seed` with `agents` and `users` (and `Sandbox::seed_agents`,
//! `Sandbox::seed_users`) adds more, replacing any with the same id. Seeded calls are made by
//! these agents. (The people know nothing of the sandbox: its configuration and state hold
//! them.)
//!
//! Their operations, CloudTalk's `GET /agents/index.json` and GHL's users, are in
//! `team_routes.rs`.

use serde::{Deserialize, Serialize};

use super::call_spec::CallAgent;

/// The CloudTalk company's number: every default agent's default (and only) number, and the
/// number on seeded calls.
pub(crate) const COMPANY_NUMBER: &str = "+390212345678";

/// An agent's availability, as CloudTalk names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    Online,
    #[default]
    Offline,
    Paused,
    Calling,
}

/// A CloudTalk agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Agent {
    /// Digits, as CloudTalk's ids are (`"42"`).
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub availability_status: AgentStatus,
    /// 1000..=9999.
    pub extension: Option<u16>,
    /// E.164.
    pub default_number: Option<String>,
    pub associated_numbers: Vec<String>,
}

impl Agent {
    /// "First Last".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_string()
    }

    /// The agent as a call of the history names it.
    pub fn call_agent(&self) -> CallAgent {
        CallAgent {
            id: self.id.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
        }
    }
}

/// A GoHighLevel user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    /// The location the user belongs to; `None` for the sandbox's own
    /// (`SandboxConfig::ghl_location_id`).
    pub location_id: Option<String>,
}

impl User {
    /// "First Last".
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_string()
    }
}

/// An agent of the default set.
fn agent(id: &str, first: &str, last: &str, status: AgentStatus, extension: u16) -> Agent {
    Agent {
        id: id.into(),
        first_name: first.into(),
        last_name: last.into(),
        email: format!(
            "{}.{}@example.com",
            first.to_lowercase(),
            last.to_lowercase()
        ),
        availability_status: status,
        extension: Some(extension),
        default_number: Some(COMPANY_NUMBER.into()),
        associated_numbers: vec![COMPANY_NUMBER.into()],
    }
}

/// The sandbox's CloudTalk agents unless configured otherwise:
///
/// | id | name | email | status | extension |
/// |---|---|---|---|---|
/// | `42` | Roberto Bianchi | `roberto.bianchi@example.com` | online | 1001 |
/// | `43` | Anna Verdi | `anna.verdi@example.com` | paused | 1002 |
/// | `44` | Franco Neri | `franco.neri@example.com` | offline | 1003 |
/// | `45` | Lucia Esposito | `lucia.esposito@example.com` | calling | 1004 |
///
/// Each with the default number `+390212345678`. Roberto Bianchi (42) is the agent of the call
/// history's examples; Lucia Esposito has no GHL user.
pub fn default_agents() -> Vec<Agent> {
    vec![
        agent("42", "Roberto", "Bianchi", AgentStatus::Online, 1001),
        agent("43", "Anna", "Verdi", AgentStatus::Paused, 1002),
        agent("44", "Franco", "Neri", AgentStatus::Offline, 1003),
        agent("45", "Lucia", "Esposito", AgentStatus::Calling, 1004),
    ]
}

/// The users of the sandbox's GHL location unless configured otherwise:
///
/// | id | name | email | phone |
/// |---|---|---|---|
/// | `usr_roberto` | Roberto Bianchi | `roberto.bianchi@example.com` | `+393470000042` |
/// | `usr_anna` | Anna Verdi | `anna.verdi@example.com` | (none) |
/// | `usr_franco` | Franco Neri | `Franco.Neri@Example.com` (agent 44's, another case) | (none) |
/// | `usr_giulia` | Giulia Romano | `giulia.romano@example.com` (no agent) | `+393470000001` |
pub fn default_users() -> Vec<User> {
    let user = |id: &str, first: &str, last: &str, email: &str, phone: Option<&str>| User {
        id: id.into(),
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
        phone: phone.map(str::to_string),
        location_id: None,
    };
    vec![
        user(
            "usr_roberto",
            "Roberto",
            "Bianchi",
            "roberto.bianchi@example.com",
            Some("+393470000042"),
        ),
        user("usr_anna", "Anna", "Verdi", "anna.verdi@example.com", None),
        user(
            "usr_franco",
            "Franco",
            "Neri",
            "Franco.Neri@Example.com",
            None,
        ),
        user(
            "usr_giulia",
            "Giulia",
            "Romano",
            "giulia.romano@example.com",
            Some("+393470000001"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_default_agents_have_a_user_with_their_email_in_any_case() {
        let (agents, users) = (default_agents(), default_users());
        let user_of = |a: &Agent| {
            users
                .iter()
                .find(|u| u.email.eq_ignore_ascii_case(&a.email))
                .map(|u| u.id.as_str())
        };
        let matched: Vec<(&str, Option<&str>)> =
            agents.iter().map(|a| (a.id.as_str(), user_of(a))).collect();
        assert_eq!(
            matched,
            [
                ("42", Some("usr_roberto")),
                ("43", Some("usr_anna")),
                ("44", Some("usr_franco")),
                ("45", None),
            ]
        );
        assert_eq!(agents[0].full_name(), "Roberto Bianchi");
        let case_only = |u: &User| {
            agents
                .iter()
                .any(|a| a.email != u.email && a.email.eq_ignore_ascii_case(&u.email))
        };
        assert_eq!(users.iter().filter(|u| case_only(u)).count(), 1);
    }
}
