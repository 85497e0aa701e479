//! What the backfill decided for each contact: one [`Row`] per outcome, as the report holds it.
//! Rows carry ids and masked values only.

use bridge::contact_map::ContactLink;
use bridge::telemetry::{mask_email, mask_phone};
use serde::{Deserialize, Serialize};

/// What happened to a contact (or, in a dry run, what would happen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Exactly one candidate on the other side: the link was written (or would be).
    Linked,
    /// The map already links the contact, to the matched contact or to another one.
    AlreadyLinked,
    /// Several candidates: listed, never linked.
    Ambiguous,
    /// A GHL contact no CloudTalk contact matches.
    OnlyInGhl,
    /// A CloudTalk contact no GHL contact matches.
    OnlyInCloudtalk,
    /// `--create-missing`: the GHL contact's CloudTalk contact was created and linked.
    CreatedInCloudtalk,
    /// `--create-missing`: the CloudTalk contact's GHL contact was created and linked.
    CreatedInGhl,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Linked,
        Outcome::AlreadyLinked,
        Outcome::Ambiguous,
        Outcome::OnlyInGhl,
        Outcome::OnlyInCloudtalk,
        Outcome::CreatedInCloudtalk,
        Outcome::CreatedInGhl,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Linked => "linked",
            Outcome::AlreadyLinked => "already_linked",
            Outcome::Ambiguous => "ambiguous",
            Outcome::OnlyInGhl => "only_in_ghl",
            Outcome::OnlyInCloudtalk => "only_in_cloudtalk",
            Outcome::CreatedInCloudtalk => "created_in_cloudtalk",
            Outcome::CreatedInGhl => "created_in_ghl",
        }
    }
}

/// Which field matched the two contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    Phone,
    Email,
}

impl MatchedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Phone => "phone",
            MatchedBy::Email => "email",
        }
    }

    /// The matched value as it may be shown: a phone's last three digits, an email's first
    /// letter and domain.
    pub fn mask(self, value: &str) -> String {
        match self {
            MatchedBy::Phone => mask_phone(value),
            MatchedBy::Email => mask_email(value),
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ghl_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudtalk_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_by: Option<MatchedBy>,
    /// Masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_value: Option<String>,
    /// The CloudTalk contacts an ambiguous GHL contact matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
    /// Other GHL contacts matching the same CloudTalk contact (which makes it ambiguous too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ghl_candidates: Vec<String>,
    /// For `already_linked`: the link the map holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_ghl_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_cloudtalk_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Nothing was written for this row.
    pub dry_run: bool,
}

impl Row {
    pub fn new(outcome: Outcome, dry_run: bool) -> Self {
        Self {
            outcome,
            ghl_id: None,
            cloudtalk_id: None,
            matched_by: None,
            matched_value: None,
            candidates: Vec::new(),
            ghl_candidates: Vec::new(),
            linked_ghl_id: None,
            linked_cloudtalk_id: None,
            detail: None,
            dry_run,
        }
    }

    pub fn ghl(mut self, id: &str) -> Self {
        self.ghl_id = Some(id.to_string());
        self
    }

    pub fn cloudtalk(mut self, id: &str) -> Self {
        self.cloudtalk_id = Some(id.to_string());
        self
    }

    /// The field that matched and its value, masked here.
    pub fn matched(mut self, by: MatchedBy, value: &str) -> Self {
        self.matched_by = Some(by);
        self.matched_value = Some(by.mask(value));
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// `already_linked` with the link the map holds, saying whom it links.
    pub fn linked_already(mut self, link: &ContactLink) -> Self {
        let same_ghl = self.ghl_id.as_deref() == Some(link.ghl_contact_id.as_str());
        let same_cloudtalk =
            self.cloudtalk_id.as_deref() == Some(link.cloudtalk_contact_id.as_str());
        let detail = match (same_ghl, same_cloudtalk) {
            (true, true) => "linked to each other",
            (true, false) if self.cloudtalk_id.is_none() => "the GHL contact is linked",
            (true, false) => "the GHL contact is linked to another CloudTalk contact",
            (false, true) if self.ghl_id.is_none() => "the CloudTalk contact is linked",
            (false, _) => "the CloudTalk contact is linked to another GHL contact",
        };
        self.outcome = Outcome::AlreadyLinked;
        self.linked_ghl_id = Some(link.ghl_contact_id.clone());
        self.linked_cloudtalk_id = Some(link.cloudtalk_contact_id.clone());
        self.detail = Some(detail.to_string());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bridge::contact_map::LinkOrigin;

    #[test]
    fn an_existing_link_says_whom_it_links() {
        let link = ContactLink::new("loc", "g1", "c1", LinkOrigin::GoHighLevel);
        let row = |g: &str, c: &str| {
            Row::new(Outcome::Linked, false)
                .ghl(g)
                .cloudtalk(c)
                .linked_already(&link)
        };
        assert_eq!(row("g1", "c1").detail.unwrap(), "linked to each other");
        let other = row("g1", "c2");
        assert_eq!(
            other.detail.as_deref(),
            Some("the GHL contact is linked to another CloudTalk contact")
        );
        assert_eq!(other.linked_cloudtalk_id.as_deref(), Some("c1"));
        assert_eq!(
            row("g2", "c1").detail.as_deref(),
            Some("the CloudTalk contact is linked to another GHL contact")
        );
        assert_eq!(row("g2", "c1").outcome, Outcome::AlreadyLinked);
    }

    #[test]
    fn matched_values_are_masked() {
        let row = Row::new(Outcome::Linked, true).matched(MatchedBy::Phone, "+393501234567");
        assert_eq!(row.matched_value.as_deref(), Some("…567"));
        let row = Row::new(Outcome::Linked, true).matched(MatchedBy::Email, "mario@example.com");
        assert_eq!(row.matched_value.as_deref(), Some("m…@example.com"));
        let names: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        let serialized: Vec<String> = Outcome::ALL
            .iter()
            .map(|o| {
                serde_json::to_value(o)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(names, serialized);
    }
}
