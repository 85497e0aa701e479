//! The people's operations: CloudTalk's agents (`GET /agents/index.json`) and the GHL
//! location's users (`GET /users/?locationId=…`, `GET /users/{userId}`); the people themselves
//! are in `team.rs`.
//!
//! As the real APIs: CloudTalk answers ids and the extension as strings, in its list envelope
//! (counts as strings); GHL leaves a user's unset fields out.

use serde_json::{json, Value};

use super::api::{Call, Outcome};
use super::cloudtalk_common::{list_envelope, paging};
use super::ghl_common::not_found;
use super::team::{Agent, User};

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
        .map(|a| agent_row(&call.state.agent_now(a, now)))
        .collect();
    let (page, limit) = paging(call);
    Ok((200, list_envelope(rows, page, limit)))
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
    let user = user.ok_or_else(|| not_found("User"))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::team::default_users;

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
