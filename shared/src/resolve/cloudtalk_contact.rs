//! The CloudTalk contact of a GoHighLevel event: the contact map, else a CloudTalk contact with
//! the same phone or email, else a new one; then the link.
//!
//! Concurrent events about the same unlinked contact create it once: creating takes a claim
//! (`create-cloudtalk#<location>#<ghlId>`) and the other events wait for its link. A retried
//! event that had created the contact before failing resumes from the recorded step.

use super::{FoundBy, CONTACT_STEP};
use crate::clients::cloudtalk::{bulk_result, BulkCommand, CloudTalkContact};
use crate::clients::{Service, UpstreamError};
use crate::contact_map::{ContactLink, LinkOrigin, LinkOutcome};
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::idempotency::{Claim, Steps};
use crate::mapping::ghl_to_cloudtalk::{
    cloudtalk_contact, ghl_contact_url, normalized_emails, normalized_phones,
};
use crate::payload::ghl::GhlContact;
use crate::phone::same_number;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedContact {
    pub cloudtalk_id: String,
    pub found_by: FoundBy,
    /// The tags the contact was created with (only when `found_by` is `Created`).
    pub created_with_tags: bool,
}

impl ResolvedContact {
    fn new(cloudtalk_id: String, found_by: FoundBy) -> Self {
        Self {
            cloudtalk_id,
            found_by,
            created_with_tags: found_by == FoundBy::Created,
        }
    }

    fn mapped(cloudtalk_id: String) -> Self {
        Self::new(cloudtalk_id, FoundBy::Map)
    }
}

/// How long an event waits for a concurrent event that is creating the same contact.
const CREATION_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long one event may hold the right to create a contact.
const CREATION_LOCK_MS: i64 = 20_000;

/// What an event about one GHL contact works with.
struct Subject<'a> {
    deps: &'a Deps,
    location: &'a str,
    contact: &'a GhlContact,
}

/// Resolves the CloudTalk contact for a GHL contact, creating it (with `create_tags`) when no
/// contact matches, and records the link.
pub async fn resolve_cloudtalk_contact(
    deps: &Deps,
    location_id: &str,
    contact: &GhlContact,
    create_tags: &[String],
    steps: &mut Steps,
) -> Result<ResolvedContact, BridgeError> {
    let subject = Subject {
        deps,
        location: location_id,
        contact,
    };
    if let Some(id) = subject.mapped().await? {
        return Ok(ResolvedContact::mapped(id));
    }
    let found = match steps.get(CONTACT_STEP) {
        // An earlier attempt created the contact and failed before linking it.
        Some(created) => Found::Ready(created.to_string(), FoundBy::Created),
        None => subject.search_or_create(create_tags, steps).await?,
    };
    match found {
        Found::Ready(id, found_by) => subject.link(id, found_by).await,
        Found::LinkedMeanwhile(id) => Ok(ResolvedContact::mapped(id)),
    }
}

/// What searching or creating gave.
enum Found {
    /// A contact to link, and how it was found.
    Ready(String, FoundBy),
    /// A concurrent event created and linked it.
    LinkedMeanwhile(String),
}

impl Subject<'_> {
    async fn mapped(&self) -> Result<Option<String>, BridgeError> {
        let link = self
            .deps
            .contacts
            .find_by_ghl(self.location, &self.contact.id)
            .await?;
        Ok(link.map(|l| l.cloudtalk_contact_id))
    }

    async fn search_or_create(
        &self,
        create_tags: &[String],
        steps: &mut Steps,
    ) -> Result<Found, BridgeError> {
        let region = self.deps.config.default_phone_region.as_deref();
        let phones =
            normalized_phones(self.contact, region).map_err(|e| BridgeError::Unprocessable {
                message: format!("invalid phone number: {e}"),
                missing: vec![],
            })?;
        let emails = normalized_emails(self.contact);
        if let Some(id) = self.search(&phones, &emails).await? {
            return Ok(Found::Ready(id, FoundBy::Search));
        }
        self.create_once(&phones, create_tags, steps).await
    }

    /// Searches CloudTalk by each phone, then each email, comparing candidates client-side
    /// since CloudTalk's only search is a keyword.
    async fn search(
        &self,
        phones: &[String],
        emails: &[String],
    ) -> Result<Option<String>, BridgeError> {
        let region = self.deps.config.default_phone_region.as_deref();
        let keywords = phones
            .iter()
            .map(|p| p.trim_start_matches('+').to_string())
            .chain(emails.iter().cloned());
        for keyword in keywords {
            let candidates = self.deps.cloudtalk.search_contacts(&keyword).await?;
            if let Some(found) = candidates
                .iter()
                .find(|c| matches_contact(c, phones, emails, region))
            {
                return Ok(Some(found.id.clone()));
            }
        }
        Ok(None)
    }

    /// Creates the contact under the creation claim, or waits for the event holding it.
    async fn create_once(
        &self,
        phones: &[String],
        create_tags: &[String],
        steps: &mut Steps,
    ) -> Result<Found, BridgeError> {
        let claim_key = format!("create-cloudtalk#{}#{}", self.location, self.contact.id);
        let idempotency = &self.deps.idempotency;
        let now = self.deps.clock.now_ms();
        match idempotency
            .claim(&claim_key, now, now + CREATION_LOCK_MS)
            .await?
        {
            Claim::Acquired { lease, .. } => match self.create(phones, create_tags).await {
                Ok(id) => {
                    steps.record(CONTACT_STEP, &id).await?;
                    let answer = serde_json::json!({ "cloudtalkContactId": id });
                    idempotency
                        .complete(&claim_key, &lease.owner, &answer)
                        .await?;
                    Ok(Found::Ready(id, FoundBy::Created))
                }
                Err(e) => {
                    idempotency.release(&claim_key, &lease.owner).await?;
                    Err(e)
                }
            },
            Claim::Completed { response } => match self.mapped().await? {
                Some(id) => Ok(Found::LinkedMeanwhile(id)),
                None => match response.get("cloudtalkContactId").and_then(|v| v.as_str()) {
                    Some(id) => Ok(Found::Ready(id.to_string(), FoundBy::Search)),
                    None => Ok(Found::LinkedMeanwhile(self.wait_for_link().await?)),
                },
            },
            Claim::InProgress => Ok(Found::LinkedMeanwhile(self.wait_for_link().await?)),
        }
    }

    /// Waits for the link a concurrent event is creating, within the attempt's deadline; a
    /// retryable error when it does not come.
    async fn wait_for_link(&self) -> Result<String, BridgeError> {
        let until = tokio::time::Instant::now() + crate::deadline::Deadline::bound(CREATION_WAIT);
        while tokio::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            if let Some(id) = self.mapped().await? {
                return Ok(id);
            }
        }
        Err(StoreError::contended("another event is still creating this contact").into())
    }

    /// Creates the CloudTalk contact through a bulk `add_contact` command, checking the
    /// command's own result (a bulk answer is HTTP 200 even when the command failed).
    async fn create(
        &self,
        phones: &[String],
        create_tags: &[String],
    ) -> Result<String, BridgeError> {
        let (deps, contact) = (self.deps, self.contact);
        let link_back = ghl_contact_url(&deps.config.ghl_app_base, self.location, &contact.id);
        let input = cloudtalk_contact(contact, phones, create_tags, Some(link_back));
        let command_id = format!("ghl_contact_{}_{}", contact.id, deps.clock.now_secs());
        let results = deps
            .cloudtalk
            .bulk(&[BulkCommand {
                action: "add_contact",
                command_id: command_id.clone(),
                data: serde_json::to_value(&input).unwrap_or_default(),
            }])
            .await?;
        // Matched by command_id; a lone result is ours even if CloudTalk mangled the id.
        let result = bulk_result(&results, &command_id)
            .or_else(|| (results.len() == 1).then(|| &results[0]));
        let operation = "bulk add_contact";
        let service = Service::CloudTalk;
        match result {
            Some(r) if r.succeeded() && r.id.is_some() => Ok(r.id.clone().unwrap_or_default()),
            Some(r) => Err(UpstreamError::Status {
                service,
                operation,
                status: r.status,
                message: r.message.clone().unwrap_or_else(|| "command failed".into()),
                retry_after_secs: None,
            }
            .into()),
            None => Err(UpstreamError::InvalidResponse {
                service,
                operation,
                message: "no result for the command".into(),
            }
            .into()),
        }
    }

    /// Records the link; when either contact was linked meanwhile, says which one to act on.
    async fn link(
        &self,
        cloudtalk_id: String,
        found_by: FoundBy,
    ) -> Result<ResolvedContact, BridgeError> {
        let contact = self.contact;
        let link = ContactLink::new(
            self.location,
            &contact.id,
            &cloudtalk_id,
            LinkOrigin::GoHighLevel,
        );
        match self.deps.contacts.link(&link).await? {
            LinkOutcome::Created => Ok(ResolvedContact::new(cloudtalk_id, found_by)),
            LinkOutcome::Existing(existing) if existing.ghl_contact_id == contact.id => {
                // A concurrent event linked this GHL contact first: use its CloudTalk contact.
                if found_by == FoundBy::Created && existing.cloudtalk_contact_id != cloudtalk_id {
                    tracing::warn!(
                        ghl_contact_id = %contact.id,
                        kept = %existing.cloudtalk_contact_id,
                        orphan = %cloudtalk_id,
                        "a concurrent event created the same CloudTalk contact; keeping the linked one"
                    );
                }
                Ok(ResolvedContact::mapped(existing.cloudtalk_contact_id))
            }
            LinkOutcome::Existing(existing) => {
                // The CloudTalk contact found by phone/email belongs to another GHL contact
                // (GHL holds duplicates). Act on it without re-linking.
                tracing::warn!(
                    ghl_contact_id = %contact.id,
                    linked_ghl_contact_id = %existing.ghl_contact_id,
                    cloudtalk_contact_id = %cloudtalk_id,
                    "CloudTalk contact is already linked to another GHL contact"
                );
                Ok(ResolvedContact::new(cloudtalk_id, found_by))
            }
        }
    }
}

fn matches_contact(
    candidate: &CloudTalkContact,
    phones: &[String],
    emails: &[String],
    region: Option<&str>,
) -> bool {
    candidate
        .phones
        .iter()
        .any(|n| phones.iter().any(|p| same_number(n, p, region)))
        || candidate
            .emails
            .iter()
            .any(|e| emails.iter().any(|x| x.eq_ignore_ascii_case(e.trim())))
}
