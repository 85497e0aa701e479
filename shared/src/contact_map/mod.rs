//! The GoHighLevel ↔ CloudTalk contact id map.
//!
//! A link is stored under both ids, so it can be looked up in either direction, and each key
//! includes the GHL location id so one table can serve several locations. Links are created with
//! a conditional write: when two events race to link the same contact, one wins and the other
//! is told which link exists, so one contact never gets two links.

pub mod dynamodb;
pub mod memory;

use async_trait::async_trait;

pub use crate::store::StoreError;

pub use dynamodb::DynamoContactMap;
pub use memory::MemoryContactMap;

/// Which side the bridge created the other side's contact from. Used for loop prevention: a
/// CloudTalk "contact created" event for a contact the bridge created from GHL is an echo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOrigin {
    /// The CloudTalk contact was created or found from a GoHighLevel event.
    GoHighLevel,
    /// The GoHighLevel contact was created or found from a CloudTalk event.
    CloudTalk,
}

impl LinkOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkOrigin::GoHighLevel => "ghl",
            LinkOrigin::CloudTalk => "cloudtalk",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ghl" => Some(LinkOrigin::GoHighLevel),
            "cloudtalk" => Some(LinkOrigin::CloudTalk),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactLink {
    pub location_id: String,
    pub ghl_contact_id: String,
    pub cloudtalk_contact_id: String,
    pub origin: LinkOrigin,
    /// RFC 3339 time the link was recorded.
    pub created_at: String,
}

impl ContactLink {
    pub fn new(location_id: &str, ghl_id: &str, cloudtalk_id: &str, origin: LinkOrigin) -> Self {
        Self {
            location_id: location_id.to_string(),
            ghl_contact_id: ghl_id.to_string(),
            cloudtalk_contact_id: cloudtalk_id.to_string(),
            origin,
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    pub fn ghl_key(location_id: &str, ghl_id: &str) -> String {
        format!("ghl#{location_id}#{ghl_id}")
    }

    pub fn cloudtalk_key(location_id: &str, cloudtalk_id: &str) -> String {
        format!("ct#{location_id}#{cloudtalk_id}")
    }

    /// Both of this link's item keys.
    pub fn keys(&self) -> [String; 2] {
        [
            Self::ghl_key(&self.location_id, &self.ghl_contact_id),
            Self::cloudtalk_key(&self.location_id, &self.cloudtalk_contact_id),
        ]
    }

    /// Whether `other` links the same two contacts.
    pub fn same_pair(&self, other: &ContactLink) -> bool {
        self.ghl_contact_id == other.ghl_contact_id
            && self.cloudtalk_contact_id == other.cloudtalk_contact_id
    }
}

/// The result of [`ContactMap::link`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// This call recorded the link.
    Created,
    /// One of the two contacts was already linked; this is that link.
    Existing(ContactLink),
}

#[async_trait]
pub trait ContactMap: Send + Sync {
    async fn find_by_ghl(
        &self,
        location_id: &str,
        ghl_id: &str,
    ) -> Result<Option<ContactLink>, StoreError>;
    async fn find_by_cloudtalk(
        &self,
        location_id: &str,
        cloudtalk_id: &str,
    ) -> Result<Option<ContactLink>, StoreError>;
    /// Records the link unless either contact is linked already.
    async fn link(&self, link: &ContactLink) -> Result<LinkOutcome, StoreError>;
    /// Removes the link's two items, each only while it still links these two contacts (a
    /// concurrent relink is never undone): whether anything was removed.
    async fn unlink(&self, link: &ContactLink) -> Result<bool, StoreError>;
    /// Cheap reachability check for the health route.
    async fn ping(&self) -> Result<(), StoreError>;
    /// What backs the map, for the health route ("dynamodb", "memory").
    fn kind(&self) -> &'static str;
}

/// The map of a function that has none (its Lambda has no `CONTACT_MAP_TABLE` because it never
/// links contacts): every call fails, naming the missing variable.
#[derive(Debug, Clone, Copy)]
pub struct NotConfigured(pub &'static str);

impl NotConfigured {
    fn refuse<T>(&self) -> Result<T, StoreError> {
        Err(StoreError::new(format!(
            "{} is not configured for this function",
            self.0
        )))
    }
}

#[async_trait]
impl ContactMap for NotConfigured {
    async fn find_by_ghl(&self, _: &str, _: &str) -> Result<Option<ContactLink>, StoreError> {
        self.refuse()
    }
    async fn find_by_cloudtalk(&self, _: &str, _: &str) -> Result<Option<ContactLink>, StoreError> {
        self.refuse()
    }
    async fn link(&self, _: &ContactLink) -> Result<LinkOutcome, StoreError> {
        self.refuse()
    }
    async fn unlink(&self, _: &ContactLink) -> Result<bool, StoreError> {
        self.refuse()
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.refuse()
    }
    fn kind(&self) -> &'static str {
        "none"
    }
}
