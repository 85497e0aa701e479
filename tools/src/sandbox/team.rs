//! The people of both accounts: CloudTalk's agents (`GET /agents/index.json`) and the GHL
//! location's users (`GET /users/?locationId=…`, `GET /users/{userId}`).
//!
//! A fresh sandbox holds [`SandboxConfig::cloudtalk_agents`](super::SandboxConfig) and
//! [`SandboxConfig::ghl_users`](super::SandboxConfig), by default [`default_agents`] and
//! [`default_users`]: four agents, three of whom have a GHL user with their email (one of them
//! in another letter case), and a GHL user who is no agent. `POST /sandbox/seed` with `agents`
//! and `users` (and [`super::Sandbox::seed_agents`], [`super::Sandbox::seed_users`]) adds more,
//! replacing any with the same id. Seeded calls are made by these agents.
//!
//! As the real APIs: CloudTalk answers ids and the extension as strings, in its list envelope
//! (counts as strings); GHL leaves a user's unset fields out.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::api::{Call, Outcome};
use super::calls::{self, CallAgent};
use super::state::State;

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
    /// ([`super::SandboxConfig::ghl_location_id`]).
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

/// Adds agents, each replacing the one with its id; returns their ids.
pub(crate) fn put_agents(state: &mut State, agents: &[Agent]) -> Vec<String> {
    for agent in agents {
        match state.ct_agents.iter_mut().find(|a| a.id == agent.id) {
            Some(known) => *known = agent.clone(),
            None => state.ct_agents.push(agent.clone()),
        }
    }
    agents.iter().map(|a| a.id.clone()).collect()
}

/// Adds users, each replacing the one with its id, in `location` unless they name one;
/// returns their ids.
pub(crate) fn put_users(state: &mut State, location: &str, users: &[User]) -> Vec<String> {
    for user in users {
        let mut user = user.clone();
        user.location_id.get_or_insert_with(|| location.to_string());
        match state.ghl_users.iter_mut().find(|u| u.id == user.id) {
            Some(known) => *known = user,
            None => state.ghl_users.push(user),
        }
    }
    users.iter().map(|u| u.id.clone()).collect()
}

/// `GET /agents/index.json`: `id` and `associated_number` filter; `limit`, `page`; each
/// agent's availability as of now (`calling` while a dial's call lasts).
pub(crate) fn list_agents(call: &mut Call) -> Outcome {
    let id = call.req.query("id");
    let number = call.req.query("associated_number").map(digits);
    let mut agents: Vec<&Agent> = call
        .state
        .ct_agents
        .iter()
        .filter(|a| id.is_none_or(|id| a.id == id))
        .filter(|a| {
            number.as_deref().is_none_or(|n| {
                a.associated_numbers
                    .iter()
                    .chain(&a.default_number)
                    .any(|x| digits(x) == n)
            })
        })
        .collect();
    agents.sort_by_key(|a| (a.id.parse::<u64>().unwrap_or(u64::MAX), a.id.clone()));
    let now = call.inner.config.clock.now_ms();
    let rows = agents
        .into_iter()
        .map(|a| agent_row(&super::dials::agent_now(call.state, a, now)))
        .collect();
    let (page, limit) = calls::paging(call);
    Ok((200, calls::envelope(rows, page, limit)))
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// A row of the agents list: ids and the extension as strings; unset fields left out.
fn agent_row(agent: &Agent) -> Value {
    let mut row = json!({
        "id": agent.id,
        "firstname": agent.first_name,
        "lastname": agent.last_name,
        "email": agent.email,
        "availability_status": agent.availability_status,
        "associated_numbers": agent.associated_numbers,
    });
    if let Some(extension) = agent.extension {
        row["extension"] = json!(extension.to_string());
    }
    if let Some(number) = &agent.default_number {
        row["default_number"] = json!(number);
    }
    json!({ "Agent": row })
}

/// `GET /users/?locationId=…`: the location's users (`{"users": […]}`).
pub(crate) fn list_users(call: &mut Call) -> Outcome {
    let location = call.req.query("locationId").unwrap_or_default();
    let users: Vec<Value> = call
        .state
        .ghl_users
        .iter()
        .filter(|u| u.location_id.as_deref() == Some(location))
        .map(user_json)
        .collect();
    Ok((200, json!({ "users": users })))
}

/// `GET /users/{userId}`: the user itself; 400 `User not found` as for an unknown contact.
pub(crate) fn get_user(call: &mut Call) -> Outcome {
    let id = call.param("id");
    let user = call.state.ghl_users.iter().find(|u| u.id == id);
    let user = user.ok_or_else(|| super::ghl::not_found("User"))?;
    Ok((200, user_json(user)))
}

/// A user as GHL answers it: `id`, `name`, `firstName`, `lastName`, `email`, `phone`; unset
/// ones left out.
pub(crate) fn user_json(user: &User) -> Value {
    let mut v = json!({"id": user.id});
    let mut put = |key: &str, value: &str| {
        if !value.is_empty() {
            v[key] = json!(value);
        }
    };
    put("name", &user.name());
    put("firstName", &user.first_name);
    put("lastName", &user.last_name);
    put("email", &user.email);
    put("phone", user.phone.as_deref().unwrap_or_default());
    v
}

/// The name of the user with this id, when the sandbox knows one.
pub(crate) fn user_name(state: &State, id: &str) -> Option<String> {
    state
        .ghl_users
        .iter()
        .find(|u| u.id == id)
        .map(User::name)
        .filter(|n| !n.is_empty())
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

    #[test]
    fn unset_user_fields_are_left_out() {
        let anna = &default_users()[1];
        assert_eq!(
            user_json(anna),
            json!({"id": "usr_anna", "name": "Anna Verdi", "firstName": "Anna",
                "lastName": "Verdi", "email": "anna.verdi@example.com"})
        );
    }
}
