//! Seeding: the contacts and calls a customer already has before the bridge is installed, made
//! up deterministically from a seed number (`POST /sandbox/seed`, [`super::base::Sandbox::seed`]).
//!
//! - `both`: a GHL contact and a CloudTalk contact with the same E.164 phone and email;
//! - `ghl_only`, `cloudtalk_only`: a contact on one side only;
//! - `duplicates`: a second CloudTalk contact with the phone of one of the `both` pairs (and
//!   another email), so that pair cannot be matched unambiguously;
//! - `calls`: calls in CloudTalk's history with the seeded CloudTalk contacts, over the last
//!   six hours, each made or taken by one of the sandbox's agents (see `team.rs`; none when it
//!   has none);
//! - `agents`, `users` (`POST /sandbox/seed` only, [`SeedRequest`]): CloudTalk agents and GHL
//!   users ([`super::team::Agent`], [`super::team::User`]) added before the rest, each replacing the one
//!   with its id;
//! - `blacklist` (`POST /sandbox/seed` only): numbers on CloudTalk's blacklist
//!   ([`BlacklistSeed`]: `{"public_number", "type"}`), as someone put them there, the number as
//!   given (E.164 or not).
//!
//! Seeded contacts are written straight into the state: no console line each, and no
//! contact-created callback to the bridge. Phones are `+39 347 …` numbers in a block chosen by
//! the seed, so two seeds rarely collide; the same seed on a fresh sandbox gives the same
//! contacts with the same ids.

use serde::{Deserialize, Serialize};

use super::call_spec::{CallDirection, CallSpec};
use super::calls;
use super::state::{millis_iso, now, BlacklistType, CtContact, GhlContact, State};
use super::team::{Agent, User, COMPANY_NUMBER};

/// The most contacts (or calls) of each kind one seeding makes.
pub const MAX_PER_KIND: usize = 100_000;
/// Calls are spread over this much time before now.
const CALL_SPAN_MS: i64 = 6 * 3600 * 1000;

const FIRST_NAMES: &[&str] = &[
    "Mario", "Giulia", "Luca", "Sofia", "Marco", "Chiara", "Paolo", "Elena", "Andrea", "Sara",
];
const LAST_NAMES: &[&str] = &[
    "Rossi", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti",
];

/// What to seed; every count defaults to 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Seed {
    pub seed: u64,
    pub both: usize,
    pub ghl_only: usize,
    pub cloudtalk_only: usize,
    pub duplicates: usize,
    pub calls: usize,
}

/// `POST /sandbox/seed`'s body: a [`Seed`]'s counts, agents and users to add first, and
/// numbers to put on CloudTalk's blacklist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SeedRequest {
    #[serde(flatten)]
    pub seed: Seed,
    #[serde(default)]
    pub agents: Vec<Agent>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub blacklist: Vec<BlacklistSeed>,
}

/// A number on CloudTalk's blacklist, seeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlacklistSeed {
    pub public_number: String,
    #[serde(rename = "type")]
    pub kind: BlacklistType,
}

/// A contact seeded on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeededPair {
    pub ghl_id: String,
    pub cloudtalk_id: String,
    /// The CloudTalk contact sharing this pair's phone, when the pair got a duplicate.
    pub duplicate_id: Option<String>,
}

/// What a seeding made: ids by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SeedSummary {
    pub seed: u64,
    pub pairs: Vec<SeededPair>,
    pub ghl_only: Vec<String>,
    pub cloudtalk_only: Vec<String>,
    pub calls: Vec<String>,
    /// The ids of the agents and users added or replaced.
    pub agents: Vec<String>,
    pub users: Vec<String>,
    /// The ids of the blacklist entries added.
    pub blacklist: Vec<String>,
}

impl SeedSummary {
    /// The pairs without a duplicate: the ones matching can link.
    pub fn unambiguous_pairs(&self) -> Vec<(String, String)> {
        self.pairs
            .iter()
            .filter(|p| p.duplicate_id.is_none())
            .map(|p| (p.ghl_id.clone(), p.cloudtalk_id.clone()))
            .collect()
    }

    /// The pairs with a duplicate.
    pub fn ambiguous_pairs(&self) -> Vec<&SeededPair> {
        self.pairs
            .iter()
            .filter(|p| p.duplicate_id.is_some())
            .collect()
    }

    /// One line without personal data.
    pub fn describe(&self) -> String {
        format!(
            "seeded (seed {}): {} on both sides ({} with a CloudTalk duplicate), {} only in GHL, {} only in CloudTalk, {} calls, {} agents, {} users",
            self.seed,
            self.pairs.len(),
            self.ambiguous_pairs().len(),
            self.ghl_only.len(),
            self.cloudtalk_only.len(),
            self.calls.len(),
            self.agents.len(),
            self.users.len()
        )
    }
}

/// xorshift64, seeded.
struct Dice(u64);

impl Dice {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A person's made-up details.
struct Person {
    first: String,
    last: String,
    phone: String,
    email: String,
}

impl Person {
    fn name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }
}

/// The `index`th number of the seed's block: distinct for every index below ten million
/// (the step is coprime with the block's size).
fn phone(seed: u64, index: usize) -> String {
    const BLOCK: u64 = 10_000_000;
    let start = seed.wrapping_mul(2_654_435_761) % BLOCK;
    let n = (start + (index as u64 % BLOCK) * 7_654_321) % BLOCK;
    format!("+39347{n:07}")
}

fn person(dice: &mut Dice, seed: u64, index: usize) -> Person {
    let first = dice.pick(FIRST_NAMES).to_string();
    let last = dice.pick(LAST_NAMES).to_string();
    let email = format!(
        "{}.{}.{seed}.{index}@example.com",
        first.to_lowercase(),
        last.to_lowercase()
    );
    Person {
        phone: phone(seed, index),
        first,
        last,
        email,
    }
}

/// Puts the numbers on CloudTalk's blacklist; their entries' ids.
pub(crate) fn seed_blacklist(state: &mut State, numbers: &[BlacklistSeed]) -> Vec<String> {
    numbers
        .iter()
        .map(|n| state.blacklist_number(&n.public_number, n.kind))
        .collect()
}

/// Fills the state; see the module documentation.
pub(crate) fn seed(state: &mut State, location: &str, request: &Seed) -> SeedSummary {
    let counts = Seed {
        both: request.both.min(MAX_PER_KIND),
        ghl_only: request.ghl_only.min(MAX_PER_KIND),
        cloudtalk_only: request.cloudtalk_only.min(MAX_PER_KIND),
        duplicates: request.duplicates.min(request.both.min(MAX_PER_KIND)),
        calls: request.calls.min(MAX_PER_KIND),
        seed: request.seed,
    };
    let mut dice = Dice::new(counts.seed);
    let mut people = (0..).map(|i| person(&mut dice, counts.seed, i));
    let now_ms = chrono::Utc::now().timestamp_millis();
    let total_ghl = counts.both + counts.ghl_only;
    let mut summary = SeedSummary {
        seed: counts.seed,
        ..SeedSummary::default()
    };
    let mut ghl = GhlWriter::new(state, location, now_ms, total_ghl);
    for p in people.by_ref().take(counts.both) {
        let ghl_id = ghl.add(&p);
        let cloudtalk_id = add_cloudtalk(ghl.state, &p);
        summary.pairs.push(SeededPair {
            ghl_id,
            cloudtalk_id,
            duplicate_id: None,
        });
    }
    for p in people.by_ref().take(counts.ghl_only) {
        summary.ghl_only.push(ghl.add(&p));
    }
    for p in people.by_ref().take(counts.cloudtalk_only) {
        summary.cloudtalk_only.push(add_cloudtalk(state, &p));
    }
    add_duplicates(state, &mut summary, counts.duplicates);
    summary.calls = add_calls(state, &mut dice, &summary, counts.calls, now_ms);
    summary
}

/// Adds GHL contacts whose `dateUpdated` are a second apart, the last one a second ago.
struct GhlWriter<'s> {
    state: &'s mut State,
    location: String,
    first_ms: i64,
    added: i64,
}

impl<'s> GhlWriter<'s> {
    fn new(state: &'s mut State, location: &str, now_ms: i64, total: usize) -> Self {
        let total = i64::try_from(total).unwrap_or(i64::MAX / 2_000);
        Self {
            state,
            location: location.to_string(),
            first_ms: now_ms - total * 1000,
            added: 0,
        }
    }

    fn add(&mut self, p: &Person) -> String {
        let id = self.state.ghl_id("ghl");
        let stamp = millis_iso(self.first_ms + self.added * 1000);
        self.added += 1;
        let contact = GhlContact {
            id: id.clone(),
            location_id: self.location.clone(),
            first_name: Some(p.first.clone()),
            last_name: Some(p.last.clone()),
            name: Some(p.name()),
            email: Some(p.email.clone()),
            phone: Some(p.phone.clone()),
            date_added: stamp.clone(),
            date_updated: stamp,
            ..GhlContact::default()
        };
        self.state.ghl_contacts.insert(id.clone(), contact);
        id
    }
}

fn add_cloudtalk(state: &mut State, p: &Person) -> String {
    let id = state.ct_id();
    let contact = CtContact {
        id: id.clone(),
        name: p.name(),
        numbers: vec![p.phone.clone()],
        emails: vec![p.email.clone()],
        created: now(),
        ..CtContact::default()
    };
    state.ct_contacts.insert(id.clone(), contact);
    id
}

/// A CloudTalk contact with the phone of each of `count` pairs spread over all of them.
fn add_duplicates(state: &mut State, summary: &mut SeedSummary, count: usize) {
    let pairs = summary.pairs.len();
    for k in 0..count {
        let index = k * pairs / count.max(1);
        let Some(original) = state
            .ct_contacts
            .get(&summary.pairs[index].cloudtalk_id)
            .cloned()
        else {
            continue;
        };
        let id = state.ct_id();
        let duplicate = CtContact {
            id: id.clone(),
            name: format!("{} (2)", original.name),
            emails: vec![format!("duplicate.{}.{k}@example.com", summary.seed)],
            ..original
        };
        state.ct_contacts.insert(id.clone(), duplicate);
        summary.pairs[index].duplicate_id = Some(id);
    }
}

/// `count` calls with seeded CloudTalk contacts over the last six hours.
fn add_calls(
    state: &mut State,
    dice: &mut Dice,
    summary: &SeedSummary,
    count: usize,
    now_ms: i64,
) -> Vec<String> {
    let contacts: Vec<String> = summary
        .pairs
        .iter()
        .flat_map(|p| std::iter::once(p.cloudtalk_id.clone()).chain(p.duplicate_id.clone()))
        .chain(summary.cloudtalk_only.iter().cloned())
        .collect();
    if contacts.is_empty() {
        return Vec::new();
    }
    let agents = state.ct_agents.clone();
    (0..count)
        .map(|_| {
            let contact = &contacts[dice.below(contacts.len() as u64) as usize];
            let number = state
                .ct_contacts
                .get(contact)
                .and_then(|c| c.numbers.first().cloned())
                .unwrap_or_default();
            let spec = call_spec(dice, &agents, contact, number, now_ms);
            calls::record(state, spec)
        })
        .collect()
}

fn call_spec(
    dice: &mut Dice,
    agents: &[Agent],
    contact: &str,
    number: String,
    now_ms: i64,
) -> CallSpec {
    let started_ms = now_ms - 60_000 - dice.below(CALL_SPAN_MS as u64) as i64;
    let answered = dice.below(4) != 0;
    let ring_ms = 2_000 + dice.below(20_000) as i64;
    let talking_secs = if answered { 20 + dice.below(600) } else { 0 };
    let ended_ms = started_ms + ring_ms + talking_secs as i64 * 1000;
    let agent = agents.get(dice.below(agents.len() as u64) as usize);
    CallSpec {
        contact_id: Some(contact.to_string()),
        external_number: number,
        internal_number: agent
            .and_then(|a| a.default_number.clone())
            .unwrap_or_else(|| COMPANY_NUMBER.to_string()),
        direction: match dice.below(2) {
            0 => CallDirection::Incoming,
            _ => CallDirection::Outgoing,
        },
        agent: agent.map(Agent::call_agent),
        started_ms,
        answered_ms: answered.then_some(started_ms + ring_ms),
        ended_ms,
        talking_secs,
        voicemail: !answered && dice.below(3) == 0,
        recording_link: answered.then(|| format!("https://my.cloudtalk.io/r/play/{started_ms}")),
        tags: Vec::new(),
        rating: None,
        notes: Vec::new(),
        uuid: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_phones_are_valid_distinct_and_stable() {
        let numbers: Vec<String> = (0..2000).map(|i| phone(7, i)).collect();
        let distinct: std::collections::BTreeSet<&String> = numbers.iter().collect();
        assert_eq!(distinct.len(), numbers.len());
        for n in numbers.iter().step_by(97) {
            assert_eq!(bridge::phone::to_e164(n, None).as_ref(), Ok(n), "{n}");
        }
        assert_eq!(phone(7, 5), phone(7, 5));
        assert_ne!(phone(7, 5), phone(8, 5));
    }

    #[test]
    fn the_same_seed_makes_the_same_people() {
        let names = |seed| {
            let mut dice = Dice::new(seed);
            (0..20)
                .map(|i| person(&mut dice, seed, i).email)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(3), names(3));
        assert_ne!(names(3), names(4));
    }
}
