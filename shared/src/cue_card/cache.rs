//! What a container remembers for cue cards: each contact's card for [`CARD_TTL_MS`] (a
//! contact who calls again within a minute costs no GHL read), each location's user names for
//! [`USERS_TTL_MS`] (an owner's name costs no read on a warm container), and the CloudTalk
//! accounts whose plan has no cue cards, for [`NO_CARDS_TTL_MS`] (no request per call).

use std::collections::HashMap;
use std::sync::Mutex;

use super::content::Known;

/// How long a contact's card is shown again without reading GHL.
pub const CARD_TTL_MS: i64 = 60 * 1000;
/// How long a location's users are known without reading them again.
pub const USERS_TTL_MS: i64 = 60 * 60 * 1000;
/// How long an account that answered that it has no cue cards is not asked again.
pub const NO_CARDS_TTL_MS: i64 = 60 * 60 * 1000;
/// Contacts kept at most; past it the expired ones go, then all.
const MAX_CARDS: usize = 1000;

/// User id → name.
pub type UserNames = HashMap<String, String>;

/// The per-container memory of cue cards.
#[derive(Debug, Default)]
pub struct Cache {
    cards: Mutex<HashMap<(String, String), (i64, Known)>>,
    users: Mutex<HashMap<String, (i64, UserNames)>>,
    no_cards_until: Mutex<HashMap<String, i64>>,
}

impl Cache {
    /// The card of contact `id` of `location` kept less than [`CARD_TTL_MS`] before `now`.
    pub fn card(&self, location: &str, id: &str, now: i64) -> Option<Known> {
        let cards = self.cards.lock().ok()?;
        let key = (location.to_string(), id.to_string());
        let (at, card) = cards.get(&key)?;
        (now - at < CARD_TTL_MS).then(|| card.clone())
    }

    pub fn keep_card(&self, location: &str, id: &str, now: i64, card: Known) {
        let Ok(mut cards) = self.cards.lock() else {
            return;
        };
        if cards.len() >= MAX_CARDS {
            cards.retain(|_, (at, _)| now - *at < CARD_TTL_MS);
            if cards.len() >= MAX_CARDS {
                cards.clear();
            }
        }
        cards.insert((location.to_string(), id.to_string()), (now, card));
    }

    /// The user names of `location` read less than [`USERS_TTL_MS`] before `now`.
    pub fn users(&self, location: &str, now: i64) -> Option<UserNames> {
        let users = self.users.lock().ok()?;
        let (at, names) = users.get(location)?;
        (now - at < USERS_TTL_MS).then(|| names.clone())
    }

    pub fn keep_users(&self, location: &str, now: i64, names: UserNames) {
        if let Ok(mut users) = self.users.lock() {
            users.insert(location.to_string(), (now, names));
        }
    }

    /// Whether `account` answered, less than [`NO_CARDS_TTL_MS`] before `now`, that its plan
    /// has no cue cards.
    pub fn knows_no_cards(&self, account: &str, now: i64) -> bool {
        self.no_cards_until
            .lock()
            .ok()
            .and_then(|m| m.get(account).copied())
            .is_some_and(|until| now < until)
    }

    pub fn saw_no_cards(&self, account: &str, now: i64) {
        if let Ok(mut m) = self.no_cards_until.lock() {
            m.insert(account.to_string(), now + NO_CARDS_TTL_MS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_kept_expires() {
        let cache = Cache::default();
        let card = Known {
            name: Some("Mario".into()),
            ..Known::default()
        };
        cache.keep_card("loc", "c1", 1_000, card.clone());
        assert_eq!(cache.card("loc", "c1", 1_000 + CARD_TTL_MS - 1), Some(card));
        assert_eq!(cache.card("loc", "c1", 1_000 + CARD_TTL_MS), None);
        assert_eq!(cache.card("other", "c1", 1_000), None);
        cache.keep_users("loc", 0, UserNames::from([("u1".into(), "Anna".into())]));
        assert!(cache.users("loc", USERS_TTL_MS - 1).is_some());
        assert!(cache.users("loc", USERS_TTL_MS).is_none());
        assert!(!cache.knows_no_cards("acct", 0));
        cache.saw_no_cards("acct", 0);
        assert!(cache.knows_no_cards("acct", NO_CARDS_TTL_MS - 1));
        assert!(!cache.knows_no_cards("acct", NO_CARDS_TTL_MS));
    }

    #[test]
    fn the_cards_kept_are_bounded() {
        let cache = Cache::default();
        for i in 0..(MAX_CARDS + 10) {
            cache.keep_card("loc", &i.to_string(), 0, Known::default());
        }
        assert!(cache.cards.lock().unwrap().len() <= MAX_CARDS);
    }
}
