//! The number indexes a container keeps, one per CloudTalk account (see
//! [`crate::import::index`]): plain data, shared by the container's `Deps`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::mapping::ghl_to_cloudtalk::Reachable;

/// One account's contacts by E.164 number and by lower-case email.
#[derive(Debug, Clone, Default)]
pub struct NumberIndex {
    pub(crate) built_ms: i64,
    /// The account is larger than [`MAX_PAGES`]: no index (until it is looked at again).
    pub(crate) too_large: bool,
    pub(crate) numbers: HashMap<String, String>,
    pub(crate) emails: HashMap<String, String>,
}

impl NumberIndex {
    /// The contact with one of the lead's numbers, else one of its emails.
    pub fn find(&self, reach: &Reachable) -> Option<String> {
        let by_number = reach.phones.iter().find_map(|p| self.numbers.get(p));
        let by_email = || {
            reach
                .emails
                .iter()
                .find_map(|e| self.emails.get(&e.to_lowercase()))
        };
        by_number.or_else(by_email).cloned()
    }

    /// Learns a contact the bridge created.
    pub fn learn(&mut self, reach: &Reachable, id: &str) {
        for phone in &reach.phones {
            self.numbers.insert(phone.clone(), id.to_string());
        }
        for email in &reach.emails {
            self.emails.insert(email.to_lowercase(), id.to_string());
        }
    }
}

/// Every account's index in this container.
pub type Indexes = Arc<Mutex<HashMap<String, NumberIndex>>>;
