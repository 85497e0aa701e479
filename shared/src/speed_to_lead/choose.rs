//! Which agents a dial tries, in order: pure, so that fairness is tested without a clock or an
//! API.

use super::options::Eligible;

/// An agent as the agents list shows it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Available {
    pub id: String,
    /// `online`, `offline`, `paused` or `calling`.
    pub status: Option<String>,
}

/// The online agents that may take the lead, by id (numerically).
pub fn online(agents: &[Available], eligible: &Eligible, owner_agent: Option<&str>) -> Vec<String> {
    let mut ids: Vec<String> = agents
        .iter()
        .filter(|a| a.status.as_deref() == Some("online"))
        .filter(|a| eligible.admits(&a.id, owner_agent))
        .map(|a| a.id.clone())
        .collect();
    ids.sort_by_key(|id| (id.len(), id.clone()));
    ids.dedup();
    ids
}

/// Whether round robin decides this try: the owner's agent is not online and someone is.
pub fn needs_turn(online: &[String], owner_agent: Option<&str>) -> bool {
    !online.is_empty() && !owner_agent.is_some_and(|o| online.iter().any(|id| id == o))
}

/// The order of this try: the owner's agent first when online; otherwise every online agent,
/// starting with the one whose turn it is (`turn` counts the leads given out by round robin,
/// across every container; see [`needs_turn`]).
pub fn order(online: &[String], owner_agent: Option<&str>, turn: u64) -> Vec<String> {
    if let Some(owner) = owner_agent.filter(|o| online.iter().any(|id| id == o)) {
        let mut agents = vec![owner.to_string()];
        agents.extend(online.iter().filter(|id| *id != owner).cloned());
        return agents;
    }
    if online.is_empty() {
        return Vec::new();
    }
    let start = (turn % online.len() as u64) as usize;
    let mut agents = online[start..].to_vec();
    agents.extend_from_slice(&online[..start]);
    agents
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agents(list: &[(&str, &str)]) -> Vec<Available> {
        list.iter()
            .map(|(id, s)| Available {
                id: id.to_string(),
                status: Some(s.to_string()),
            })
            .collect()
    }

    #[test]
    fn only_online_eligible_agents_in_id_order() {
        let all = agents(&[
            ("101", "online"),
            ("43", "calling"),
            ("42", "online"),
            ("9", "paused"),
        ]);
        assert_eq!(online(&all, &Eligible::All, None), vec!["42", "101"]);
        let listed = Eligible::Listed(vec!["101".into()]);
        assert_eq!(online(&all, &listed, None), vec!["101"]);
        assert_eq!(online(&all, &Eligible::OwnerOnly, Some("42")), vec!["42"]);
        assert!(online(&all, &Eligible::OwnerOnly, None).is_empty());
    }

    #[test]
    fn the_owner_first_else_whose_turn_it_is() {
        let ids: Vec<String> = ["42", "43", "44"].iter().map(|s| s.to_string()).collect();
        assert!(!needs_turn(&ids, Some("44")), "the owner's agent is online");
        assert_eq!(order(&ids, Some("44"), 7), vec!["44", "42", "43"]);
        assert!(needs_turn(&ids, Some("99")) && needs_turn(&ids, None));
        let firsts: Vec<String> = (0..6)
            .map(|turn| order(&ids, Some("99"), turn)[0].clone())
            .collect();
        assert_eq!(firsts, vec!["42", "43", "44", "42", "43", "44"]);
        assert_eq!(order(&ids, None, 4), vec!["43", "44", "42"]);
        assert!(!needs_turn(&[], None) && order(&[], None, 0).is_empty());
    }
}
