//! The people behind the features: CloudTalk agents as GHL users (the agent map wins over the
//! match by email, as `bridge::resolve::agent` matches them), the Conversations provider of
//! calls logged there, and the agents speed to lead rings.

use std::collections::{BTreeMap, HashMap};

use bridge::clients::cloudtalk::AgentRecord;
use bridge::clients::ghl::GhlUser;
use bridge::config::CallLogging;
use bridge::speed_to_lead::options::Eligible;
use bridge::speed_to_lead::SpeedToLeadOptions;

use super::check::{id, Check};
use super::deployment::{Context, Subject, Whose};

/// Each agent's GHL user, if any: the agent map's, else the user with the agent's email
/// (compared without regard to case).
pub fn users_of_agents(
    agents: &[AgentRecord],
    users: &[GhlUser],
    map: &BTreeMap<String, String>,
) -> BTreeMap<String, Option<String>> {
    let by_email: HashMap<String, &str> = users
        .iter()
        .filter_map(|u| Some((u.email.as_deref()?.trim().to_lowercase(), u.id.as_str())))
        .collect();
    agents
        .iter()
        .map(|a| {
            let matched = a
                .email
                .as_deref()
                .and_then(|e| by_email.get(&e.trim().to_lowercase()))
                .map(|u| u.to_string());
            (a.id.clone(), map.get(&a.id).cloned().or(matched))
        })
        .collect()
}

fn agent_name(agent: &AgentRecord) -> String {
    match &agent.name {
        Some(name) => format!("{} ({name})", agent.id),
        None => agent.id.clone(),
    }
}

/// The people features are on: a call's agent becomes its notes' author, the owner of a
/// contact it creates, the assignee of a callback task.
fn people_on(subject: &Subject) -> bool {
    let p = &subject.deps.config.people;
    p.assign_owner || p.missed_call_tasks || p.close_callback_tasks || !p.agent_map.is_empty()
}

/// The agent map's entries that name no agent of the account, or no user of the location.
fn map_lines(
    subject: &Subject,
    cx: &Context,
    agents: &[AgentRecord],
    users: &[GhlUser],
) -> Vec<Check> {
    let map = &subject.deps.config.people.agent_map;
    let location = subject.location.as_deref().unwrap_or_default();
    let fix = subject.set_setting(
        &cx.place,
        "AGENT_MAP",
        "--agent-map",
        "'{\"<agent id>\": \"<GHL user id>\"}'",
    );
    let mut out = Vec::new();
    for (agent, user) in map {
        let message = if !agents.iter().any(|a| &a.id == agent) {
            format!("AGENT_MAP names agent {agent}, which the CloudTalk account does not have")
        } else if !users.iter().any(|u| &u.id == user) {
            format!(
                "AGENT_MAP maps agent {agent} to {user}, who is not a user of location {location}"
            )
        } else {
            continue;
        };
        out.push(Check::warn(id::AGENTS, subject.tenant(), message).fix(fix.clone()));
    }
    out
}

/// Each CloudTalk agent has a GHL user: a `warn` per agent without one.
pub fn agents(
    subject: &Subject,
    cx: &Context,
    agents: Option<&[AgentRecord]>,
    users: Option<&[GhlUser]>,
) -> Vec<Check> {
    let tenant = subject.tenant();
    if !people_on(subject) {
        let message = "the people features are off (ASSIGN_CONTACT_OWNER, MISSED_CALL_TASKS, CLOSE_CALLBACK_TASKS, no AGENT_MAP): not checked";
        return vec![Check::ok(id::AGENTS, tenant, message)];
    }
    let (Some(agents), Some(users)) = (agents, users) else {
        let message = "not checked: the CloudTalk agents or the GHL users could not be read (see cloudtalk_key, ghl_access)";
        return vec![Check::warn(id::AGENTS, tenant, message)];
    };
    let location = subject.location.as_deref().unwrap_or_default();
    let map = &subject.deps.config.people.agent_map;
    let matched = users_of_agents(agents, users, map);
    let mut out = map_lines(subject, cx, agents, users);
    for agent in agents
        .iter()
        .filter(|a| matched.get(&a.id).is_some_and(Option::is_none))
    {
        let example = format!("'{{\"{}\": \"<GHL user id>\"}}'", agent.id);
        let fix = subject.set_setting(&cx.place, "AGENT_MAP", "--agent-map", &example);
        out.push(
            Check::warn(id::AGENTS, tenant, format!("CloudTalk agent {} has no GHL user in location {location}: their calls are attributed to nobody, and their callback tasks to the contact's owner only", agent_name(agent)))
                .fix(format!("give them a GHL user with the agent's email, or map the agent: {fix}")),
        );
    }
    if out.is_empty() {
        out.push(Check::ok(
            id::AGENTS,
            tenant,
            format!(
                "each of the {} CloudTalk agent(s) has a GHL user",
                agents.len()
            ),
        ));
    }
    out
}

/// The Conversations provider of calls logged in Conversations: GHL's API has no read of a
/// provider, so it is said to be unchecked.
pub fn call_provider(subject: &Subject) -> Check {
    let tenant = subject.tenant();
    match &subject.deps.config.call_logging {
        CallLogging::Notes => Check::ok(id::CALL_PROVIDER, tenant, "calls are logged as notes (no GHL_CALL_PROVIDER_ID)"),
        CallLogging::Conversations { provider_id } => Check::warn(
            id::CALL_PROVIDER,
            tenant,
            format!("calls are logged in Conversations through provider {provider_id}, which cannot be checked: GHL's API has no read of a conversation provider"),
        )
        .fix(format!("check that the Marketplace app's Call conversation provider has the id {provider_id} (the app's settings → Conversation Providers)")),
    }
}

/// The subject's speed-to-lead settings, read again to tell invalid ones (the bridge turns
/// speed to lead off for them).
fn dial_options(subject: &Subject, cx: &Context) -> Result<SpeedToLeadOptions, String> {
    match &subject.whose {
        Whose::Own => SpeedToLeadOptions::parse(|n| (cx.lookup)(n)),
        Whose::Tenant(t) => SpeedToLeadOptions::from_settings(&t.record.options.speed_to_lead),
    }
}

/// Speed to lead's agents exist (`SPEED_TO_LEAD_AGENTS`) and, to ring the owner's agent
/// (`owner`), agents are users.
pub fn speed_to_lead(
    subject: &Subject,
    cx: &Context,
    agents: Option<&[AgentRecord]>,
    users: Option<&[GhlUser]>,
) -> Vec<Check> {
    let tenant = subject.tenant();
    let options = match dial_options(subject, cx) {
        Ok(options) => options,
        Err(e) => {
            let fix = match &subject.whose {
                Whose::Own if cx.place.on_stack => "correct the SpeedToLead* stack parameters (the message names the one) and deploy again".to_string(),
                Whose::Own => "correct the SPEED_TO_LEAD_* setting the message names".to_string(),
                Whose::Tenant(_) => format!("correct it: `bridge tenants set-options {} --dial-… <value>`", subject.name),
            };
            return vec![Check::fail(
                id::SPEED_TO_LEAD,
                tenant,
                format!("speed to lead's settings are invalid, so it is off: {e}"),
            )
            .fix(fix)];
        }
    };
    if !options.enabled {
        return vec![Check::ok(id::SPEED_TO_LEAD, tenant, "speed to lead is off")];
    }
    let Some(agents) = agents else {
        return vec![Check::warn(
            id::SPEED_TO_LEAD,
            tenant,
            "not checked: the CloudTalk agents could not be read (see cloudtalk_key)",
        )];
    };
    match &options.eligible {
        Eligible::All if agents.is_empty() => vec![Check::fail(
            id::SPEED_TO_LEAD,
            tenant,
            "speed to lead is on, and the CloudTalk account has no agent to ring",
        )
        .fix("add agents in CloudTalk, or turn speed to lead off")],
        Eligible::All => vec![Check::ok(
            id::SPEED_TO_LEAD,
            tenant,
            format!(
                "speed to lead rings any of the {} CloudTalk agent(s)",
                agents.len()
            ),
        )],
        Eligible::Listed(ids) => listed(subject, cx, agents, ids),
        Eligible::OwnerOnly => owner_only(subject, cx, agents, users),
    }
}

/// `SPEED_TO_LEAD_AGENTS`: each a CloudTalk agent.
fn listed(subject: &Subject, cx: &Context, agents: &[AgentRecord], ids: &[String]) -> Vec<Check> {
    let tenant = subject.tenant();
    let fix = subject.set_setting(
        &cx.place,
        "SPEED_TO_LEAD_AGENTS",
        "--dial-agents",
        "<agent ids>",
    );
    let missing: Vec<Check> = ids
        .iter()
        .filter(|i| !agents.iter().any(|a| &a.id == *i))
        .map(|i| {
            Check::fail(id::SPEED_TO_LEAD, tenant, format!("SPEED_TO_LEAD_AGENTS names agent {i}, which the CloudTalk account does not have"))
                .fix(format!("{fix} (the account's agents only)"))
        })
        .collect();
    match missing.is_empty() {
        true => vec![Check::ok(
            id::SPEED_TO_LEAD,
            tenant,
            format!(
                "speed to lead rings agents {}, each a CloudTalk agent",
                ids.join(", ")
            ),
        )],
        false => missing,
    }
}

/// `owner`: the lead's owner is rung through their agent, so agents must be users.
fn owner_only(
    subject: &Subject,
    cx: &Context,
    agents: &[AgentRecord],
    users: Option<&[GhlUser]>,
) -> Vec<Check> {
    let tenant = subject.tenant();
    let Some(users) = users else {
        return vec![Check::warn(
            id::SPEED_TO_LEAD,
            tenant,
            "not checked: the GHL users could not be read (see ghl_access)",
        )];
    };
    let map = &subject.deps.config.people.agent_map;
    let matched = users_of_agents(agents, users, map);
    let mapped = matched.values().filter(|u| u.is_some()).count();
    if mapped == 0 {
        let fix = subject.set_setting(
            &cx.place,
            "AGENT_MAP",
            "--agent-map",
            "'{\"<agent id>\": \"<GHL user id>\"}'",
        );
        return vec![Check::fail(
            id::SPEED_TO_LEAD,
            tenant,
            "speed to lead rings the owner's agent (owner), and no CloudTalk agent has a GHL user",
        )
        .fix(format!(
            "give the agents GHL users with their emails, or map them: {fix}"
        ))];
    }
    vec![Check::ok(id::SPEED_TO_LEAD, tenant, format!("speed to lead rings the owner's agent: {mapped} of {} agent(s) have a GHL user (leads of other owners become tasks)", agents.len()))]
}
