//! Matching, in memory and without side effects: each GHL contact's CloudTalk candidates by
//! E.164 phone (any of its phones), else by email; a pair only when the GHL contact has exactly
//! one candidate and no other GHL contact claims that candidate. Everything else is
//! ambiguous (listed, never linked) or one-sided.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::contacts::Known;
use super::outcome::MatchedBy;

/// The field and (normalised) value that matched, kept in memory only; rows mask it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub by: MatchedBy,
    pub value: String,
}

/// What matching decided for one contact; indexes are into the two sides' lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Pair {
        ghl: usize,
        cloudtalk: usize,
        by: Match,
    },
    Ambiguous {
        ghl: usize,
        /// The CloudTalk contacts it matches.
        candidates: Vec<usize>,
        /// Other GHL contacts matching one of those.
        rivals: Vec<usize>,
        by: Match,
    },
    OnlyInGhl {
        ghl: usize,
    },
    OnlyInCloudTalk {
        cloudtalk: usize,
    },
}

impl Decision {
    /// Its key in the checkpoint: `ghl:<id>` or `ct:<id>`.
    pub fn key(&self, ghl: &[Known], cloudtalk: &[Known]) -> String {
        match self {
            Decision::Pair { ghl: g, .. }
            | Decision::Ambiguous { ghl: g, .. }
            | Decision::OnlyInGhl { ghl: g } => format!("ghl:{}", ghl[*g].id()),
            Decision::OnlyInCloudTalk { cloudtalk: c } => format!("ct:{}", cloudtalk[*c].id()),
        }
    }
}

/// CloudTalk contacts by phone and by email.
struct Index<'a> {
    by_phone: HashMap<&'a str, Vec<usize>>,
    by_email: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Index<'a> {
    fn new(cloudtalk: &'a [Known]) -> Self {
        let mut index = Self {
            by_phone: HashMap::new(),
            by_email: HashMap::new(),
        };
        for (i, contact) in cloudtalk.iter().enumerate() {
            for phone in &contact.reach.phones {
                index.by_phone.entry(phone).or_default().push(i);
            }
            for email in &contact.reach.emails {
                index.by_email.entry(email).or_default().push(i);
            }
        }
        index
    }

    /// The candidates of one contact: by phone when any phone matches, else by email.
    fn candidates(&self, contact: &Known) -> Option<(Match, Vec<usize>)> {
        let by_phone = Self::lookup(&self.by_phone, &contact.reach.phones, MatchedBy::Phone);
        by_phone.or_else(|| Self::lookup(&self.by_email, &contact.reach.emails, MatchedBy::Email))
    }

    fn lookup(
        map: &HashMap<&str, Vec<usize>>,
        values: &[String],
        by: MatchedBy,
    ) -> Option<(Match, Vec<usize>)> {
        let mut found = BTreeSet::new();
        let mut first = None;
        for value in values {
            if let Some(hits) = map.get(value.as_str()) {
                first.get_or_insert_with(|| value.clone());
                found.extend(hits.iter().copied());
            }
        }
        let value = first?;
        Some((Match { by, value }, found.into_iter().collect()))
    }
}

/// The decision for every contact: the GHL contacts in their order, then the CloudTalk
/// contacts no GHL contact matches.
pub fn plan(ghl: &[Known], cloudtalk: &[Known]) -> Vec<Decision> {
    let index = Index::new(cloudtalk);
    let matched: Vec<Option<(Match, Vec<usize>)>> =
        ghl.iter().map(|g| index.candidates(g)).collect();
    let mut claimed_by: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (g, found) in matched.iter().enumerate() {
        for c in found.iter().flat_map(|(_, candidates)| candidates) {
            claimed_by.entry(*c).or_default().push(g);
        }
    }
    let mut decisions: Vec<Decision> = matched
        .into_iter()
        .enumerate()
        .map(|(g, found)| decide(g, found, &claimed_by))
        .collect();
    decisions.extend(
        (0..cloudtalk.len())
            .filter(|c| !claimed_by.contains_key(c))
            .map(|cloudtalk| Decision::OnlyInCloudTalk { cloudtalk }),
    );
    decisions
}

fn decide(
    ghl: usize,
    found: Option<(Match, Vec<usize>)>,
    claimed_by: &BTreeMap<usize, Vec<usize>>,
) -> Decision {
    let Some((by, candidates)) = found else {
        return Decision::OnlyInGhl { ghl };
    };
    let rivals: BTreeSet<usize> = candidates
        .iter()
        .flat_map(|c| claimed_by.get(c).into_iter().flatten())
        .copied()
        .filter(|other| *other != ghl)
        .collect();
    match candidates.as_slice() {
        [cloudtalk] if rivals.is_empty() => Decision::Pair {
            ghl,
            cloudtalk: *cloudtalk,
            by,
        },
        _ => Decision::Ambiguous {
            ghl,
            candidates,
            rivals: rivals.into_iter().collect(),
            by,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bridge::clients::ContactRecord;

    fn known(id: &str, phones: &[&str], emails: &[&str]) -> Known {
        Known::new(
            ContactRecord {
                id: id.into(),
                phones: phones.iter().map(|p| p.to_string()).collect(),
                emails: emails.iter().map(|e| e.to_string()).collect(),
                ..ContactRecord::default()
            },
            Some("IT"),
        )
    }

    const MARIO: &str = "+393501234567";
    const ANNA: &str = "+393507654321";

    #[test]
    fn a_phone_wins_over_an_email_and_any_phone_counts() {
        let ghl = [known(
            "g1",
            &["+39 351 000 0000", "350 123 4567"],
            &["m@example.com"],
        )];
        let cloudtalk = [
            known("c1", &[MARIO], &[]),
            known("c2", &[], &["M@example.com"]),
        ];
        let plan = plan(&ghl, &cloudtalk);
        let phone = Match {
            by: MatchedBy::Phone,
            value: MARIO.into(),
        };
        assert_eq!(
            plan,
            vec![
                Decision::Pair {
                    ghl: 0,
                    cloudtalk: 0,
                    by: phone
                },
                Decision::OnlyInCloudTalk { cloudtalk: 1 },
            ]
        );
    }

    #[test]
    fn an_email_matches_when_no_phone_does() {
        let ghl = [known("g1", &[ANNA], &["Anna@Example.com"])];
        let cloudtalk = [known("c1", &[MARIO], &["anna@example.com"])];
        let email = Match {
            by: MatchedBy::Email,
            value: "anna@example.com".into(),
        };
        assert_eq!(
            plan(&ghl, &cloudtalk),
            vec![Decision::Pair {
                ghl: 0,
                cloudtalk: 0,
                by: email
            }]
        );
    }

    #[test]
    fn several_candidates_or_rivals_are_ambiguous_and_nobody_is_paired() {
        let ghl = [
            known("g1", &[MARIO], &[]),
            known("g2", &[ANNA], &[]),
            known("g3", &[ANNA], &[]),
            known("g4", &[], &[]),
        ];
        let cloudtalk = [
            known("c1", &[MARIO], &[]),
            known("c2", &[MARIO], &[]),
            known("c3", &[ANNA], &[]),
        ];
        let plan = plan(&ghl, &cloudtalk);
        let shape: Vec<(Vec<usize>, Vec<usize>)> = plan
            .iter()
            .filter_map(|d| match d {
                Decision::Ambiguous {
                    candidates, rivals, ..
                } => Some((candidates.clone(), rivals.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            shape,
            vec![(vec![0, 1], vec![]), (vec![2], vec![2]), (vec![2], vec![1])]
        );
        assert_eq!(plan[3], Decision::OnlyInGhl { ghl: 3 });
        assert_eq!(plan.len(), 4, "every CloudTalk contact was a candidate");
        assert_eq!(plan[1].key(&ghl, &cloudtalk), "ghl:g2");
    }
}
