//! The CloudTalk contact of a GoHighLevel event, in this order:
//!
//! 1. the contact map (GHL id → CloudTalk id);
//! 2. the contact this event created on an earlier attempt (its recorded `contact` step);
//! 3. the contact's phones and emails: from the event, or, when the event names the contact by
//!    id only (Marketplace `NoteCreate`, `OpportunityStageUpdate`…), from GoHighLevel
//!    (`GET /contacts/{id}`);
//! 4. a CloudTalk contact with one of those phones or emails;
//! 5. a new CloudTalk contact, created from that data (with no phone and no email only when
//!    GoHighLevel has neither, and then the answer says `incomplete`);
//!
//! then the link is recorded. A phone or email that cannot be read is skipped and named in the
//! answer (`skipped`); the contact still syncs.
//!
//! **One contact per phone.** Creating takes a claim keyed by the contact's first normalised
//! phone (else its first email, else its GHL id; hashed, so no personal data sits in keys), and
//! concurrent events wait for the claim's outcome. Two GHL contacts sharing a number, arriving
//! together, therefore create one CloudTalk contact: the first is linked to it, and the second
//! acts on the same CloudTalk contact without a link of its own (the map stays one-to-one; its
//! later events find the contact again by phone). A completed claim answers for
//! [`CREATION_CLAIM_KEEP_SECS`], long enough for CloudTalk's search to find the contact.
//!
//! **Self-healing links.** A contact found through the map is noted in the event's steps; when
//! CloudTalk then answers 404 for it, [`super::heal_stale_link`] removes the link and the event
//! is applied once more, resolving by phone or email and never to the gone contact.

use std::borrow::Cow;

use super::{FoundBy, CONTACT_STEP};
use crate::clients::cloudtalk::{bulk_result, BulkCommand, CloudTalkContact};
use crate::clients::ghl::GhlContactRecord;
use crate::clients::{Service, UpstreamError};
use crate::contact_map::{ContactLink, LinkOrigin, LinkOutcome};
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::idempotency::{Claim, Lease, Steps};
use crate::mapping::ghl_to_cloudtalk::{cloudtalk_contact, ghl_contact_url, reachable, Reachable};
use crate::payload::ghl::GhlContact;
use crate::phone::same_number;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedContact {
    pub cloudtalk_id: String,
    pub found_by: FoundBy,
    /// The tags the contact was created with (only when `found_by` is `Created`).
    pub created_with_tags: bool,
    /// Phones and emails that could not be read, masked (`phone …567`).
    pub skipped: Vec<String>,
    /// Created with no phone and no email: GoHighLevel has neither for this contact.
    pub incomplete: bool,
}

impl ResolvedContact {
    fn new(cloudtalk_id: String, found_by: FoundBy) -> Self {
        Self {
            cloudtalk_id,
            found_by,
            created_with_tags: found_by == FoundBy::Created,
            skipped: Vec::new(),
            incomplete: false,
        }
    }

    fn mapped(cloudtalk_id: String) -> Self {
        Self::new(cloudtalk_id, FoundBy::Map)
    }
}

/// How long an event waits for a concurrent event that is creating the same contact.
const CREATION_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// How often a waiting event looks at the creation claim again.
const CREATION_POLL: std::time::Duration = std::time::Duration::from_millis(250);
/// How long one event may hold the right to create a contact.
const CREATION_LOCK_MS: i64 = 20_000;
/// How long a completed creation claim tells later events which contact was created.
pub const CREATION_CLAIM_KEEP_SECS: i64 = 3600;
/// The step a creation claim records when a create request failed in a way that may have
/// applied it (its value: when, in Unix milliseconds): whoever creates next must look in
/// CloudTalk first (as after a takeover).
pub const CREATE_UNSURE_STEP: &str = "create-unsure";

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
    let replacing = steps.replacing().map(str::to_string);
    let linked = subject.link_of().await?;
    if let Some(link) = linked.filter(|l| Some(&l.cloudtalk_contact_id) != replacing.as_ref()) {
        let id = link.cloudtalk_contact_id.clone();
        steps.found_via(link, Service::CloudTalk);
        return Ok(ResolvedContact::mapped(id));
    }
    if let Some(created) = steps.get(CONTACT_STEP) {
        // An earlier attempt created the contact and failed before linking it.
        let created = created.to_string();
        return subject.link(created, FoundBy::Created).await;
    }
    subject
        .find_or_create(create_tags, steps, replacing.as_deref())
        .await
}

/// The creation claim's key of a contact: its first phone, else its first email, else its GHL
/// id; a replacement of a gone contact has a claim of its own. One key for every way a contact
/// is created (an event, an import's bulk request).
pub(crate) fn creation_key(
    location: &str,
    ghl_id: &str,
    reach: &Reachable,
    replacing: Option<&str>,
) -> String {
    let who = match (reach.phones.first(), reach.emails.first()) {
        (Some(phone), _) => format!("phone#{}", digest(phone)),
        (None, Some(email)) => format!("email#{}", digest(email)),
        (None, None) => format!("ghl#{ghl_id}"),
    };
    let key = format!("create-cloudtalk#{location}#{who}");
    match replacing {
        Some(gone) => format!("{key}#replacing#{gone}"),
        None => key,
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
    async fn link_of(&self) -> Result<Option<ContactLink>, BridgeError> {
        let contacts = &self.deps.contacts;
        Ok(contacts
            .find_by_ghl(self.location, &self.contact.id)
            .await?)
    }

    async fn mapped(&self) -> Result<Option<String>, BridgeError> {
        Ok(self.link_of().await?.map(|l| l.cloudtalk_contact_id))
    }

    /// Steps 3 to 5 of the module's order, then the link; `replacing` is a linked contact that
    /// is gone, never to be found again.
    async fn find_or_create(
        &self,
        create_tags: &[String],
        steps: &mut Steps,
        replacing: Option<&str>,
    ) -> Result<ResolvedContact, BridgeError> {
        let full = self.completed().await?;
        let region = self.deps.config.default_phone_region.as_deref();
        let reach = reachable(&full, region);
        if reach.is_empty() && !reach.skipped.is_empty() {
            // It has a phone or email, but none that can be used: nothing to match or call by.
            return Err(BridgeError::Unprocessable {
                message: format!(
                    "the contact's phone and email cannot be read ({})",
                    reach.skipped.join(", ")
                ),
                missing: vec![],
            });
        }
        let found = match self.search(&reach, replacing).await? {
            Some(id) => Found::Ready(id, FoundBy::Search),
            None => {
                let mut tags = create_tags.to_vec();
                for tag in &full.tags {
                    if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
                        tags.push(tag.clone());
                    }
                }
                self.create_once(&full, &reach, &tags, steps, replacing)
                    .await?
            }
        };
        let mut resolved = match found {
            Found::Ready(id, found_by) => self.link(id, found_by).await?,
            Found::LinkedMeanwhile(id) => ResolvedContact::mapped(id),
        };
        resolved.incomplete = resolved.found_by == FoundBy::Created && reach.is_empty();
        if resolved.incomplete {
            tracing::warn!(
                ghl_contact_id = %self.contact.id,
                cloudtalk_contact_id = %resolved.cloudtalk_id,
                "GoHighLevel has no phone or email for this contact; created it with its name only"
            );
        }
        resolved.skipped = reach.skipped;
        Ok(resolved)
    }

    /// The event's contact with its phones and emails: as the event gave them, or read from
    /// GoHighLevel when the event names the contact by id only.
    async fn completed(&self) -> Result<Cow<'_, GhlContact>, BridgeError> {
        let contact = self.contact;
        if !contact.phones.is_empty() || !contact.emails.is_empty() {
            return Ok(Cow::Borrowed(contact));
        }
        if !self.deps.ghl_configured() {
            return Err(BridgeError::Unprocessable {
                message: format!(
                    "the event names GoHighLevel contact {} without a phone or email; \
                     GHL_API_TOKEN and GHL_LOCATION_ID are needed to read them",
                    contact.id
                ),
                missing: vec!["phone".into(), "email".into()],
            });
        }
        match self.deps.ghl.get_contact(&contact.id).await {
            Ok(record) => Ok(Cow::Owned(with_record(contact, record))),
            Err(e) if e.is_not_found() => Err(BridgeError::Unprocessable {
                message: format!("GoHighLevel has no contact with id {}", contact.id),
                missing: vec![],
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Searches CloudTalk by each phone, then each email, comparing candidates client-side
    /// since CloudTalk's only search is a keyword.
    async fn search(
        &self,
        reach: &Reachable,
        replacing: Option<&str>,
    ) -> Result<Option<String>, BridgeError> {
        let region = self.deps.config.default_phone_region.as_deref();
        let keywords = reach
            .phones
            .iter()
            .map(|p| p.trim_start_matches('+').to_string())
            .chain(reach.emails.iter().cloned());
        for keyword in keywords {
            let candidates = self.deps.cloudtalk.search_contacts(&keyword).await?;
            if let Some(found) = candidates
                .iter()
                .find(|c| Some(c.id.as_str()) != replacing && matches_contact(c, reach, region))
            {
                return Ok(Some(found.id.clone()));
            }
        }
        Ok(None)
    }

    /// The creation claim's key: the contact's first phone, else its first email, else its
    /// GHL id; a replacement of a gone contact has a claim of its own.
    fn creation_key(&self, reach: &Reachable, replacing: Option<&str>) -> String {
        creation_key(self.location, &self.contact.id, reach, replacing)
    }

    /// Creates the contact under the creation claim, or takes the contact that the event
    /// holding the claim created, waiting for it within the attempt's deadline.
    async fn create_once(
        &self,
        full: &GhlContact,
        reach: &Reachable,
        tags: &[String],
        steps: &mut Steps,
        replacing: Option<&str>,
    ) -> Result<Found, BridgeError> {
        let key = self.creation_key(reach, replacing);
        let store = &self.deps.idempotency;
        let until = tokio::time::Instant::now() + crate::deadline::Deadline::bound(CREATION_WAIT);
        loop {
            let now = self.deps.clock.now_ms();
            match store.claim(&key, now, now + CREATION_LOCK_MS).await? {
                Claim::Acquired { lease, .. } => {
                    return self
                        .create_claimed(&key, &lease, full, reach, tags, steps, replacing)
                        .await
                }
                Claim::Completed { response } => {
                    if let Some(id) = self.mapped().await? {
                        return Ok(Found::LinkedMeanwhile(id));
                    }
                    let created = response.get("cloudtalkContactId").and_then(|v| v.as_str());
                    return match created {
                        Some(id) => Ok(Found::Ready(id.to_string(), FoundBy::Search)),
                        None => Err(StoreError::new(format!(
                            "the creation claim {key} holds no contact id"
                        ))
                        .into()),
                    };
                }
                Claim::InProgress if tokio::time::Instant::now() + CREATION_POLL < until => {
                    tokio::time::sleep(CREATION_POLL).await;
                }
                Claim::InProgress => {
                    return Err(StoreError::contended(
                        "another event is still creating this contact",
                    )
                    .into())
                }
            }
        }
    }

    /// Creates the contact while holding its claim, then completes the claim with its id. A
    /// claim taken over from an attempt that died is searched first: that attempt may have
    /// created the contact before it could say so.
    #[allow(clippy::too_many_arguments)]
    async fn create_claimed(
        &self,
        key: &str,
        lease: &Lease,
        full: &GhlContact,
        reach: &Reachable,
        tags: &[String],
        steps: &mut Steps,
        replacing: Option<&str>,
    ) -> Result<Found, BridgeError> {
        let store = &self.deps.idempotency;
        let attempt = async {
            if lease.takeover {
                if let Some(id) = self.search(reach, replacing).await? {
                    return Ok(Found::Ready(id, FoundBy::Search));
                }
            }
            let id = match self.create(full, reach, tags).await {
                Ok(id) => id,
                Err(e) => {
                    if may_have_applied(&e) {
                        // Kept with the claim when it is released: the next creator searches.
                        let at = self.deps.clock.now_ms().to_string();
                        let _ = store
                            .record_step(key, &lease.owner, CREATE_UNSURE_STEP, &at)
                            .await;
                    }
                    return Err(e);
                }
            };
            steps.record(CONTACT_STEP, &id).await?;
            Ok::<_, BridgeError>(Found::Ready(id, FoundBy::Created))
        };
        match attempt.await {
            Ok(found) => {
                let Found::Ready(id, _) = &found else {
                    return Ok(found);
                };
                let answer = serde_json::json!({ "cloudtalkContactId": id });
                let keep_until = self.deps.clock.now_secs() + CREATION_CLAIM_KEEP_SECS;
                store
                    .complete(key, &lease.owner, &answer, keep_until)
                    .await?;
                Ok(found)
            }
            Err(e) => {
                store.release(key, &lease.owner).await?;
                Err(e)
            }
        }
    }

    /// Creates the CloudTalk contact through a bulk `add_contact` command, checking the
    /// command's own result (a bulk answer is HTTP 200 even when the command failed).
    async fn create(
        &self,
        contact: &GhlContact,
        reach: &Reachable,
        tags: &[String],
    ) -> Result<String, BridgeError> {
        let deps = self.deps;
        let link_back = ghl_contact_url(&deps.config.ghl_app_base, self.location, &contact.id);
        let input = cloudtalk_contact(contact, reach, tags, Some(link_back));
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

/// Whether a failed create request may have created the contact all the same.
pub(crate) fn may_have_applied(error: &BridgeError) -> bool {
    matches!(error, BridgeError::Upstream(e) if e.may_have_applied())
}

fn matches_contact(candidate: &CloudTalkContact, reach: &Reachable, region: Option<&str>) -> bool {
    candidate
        .phones
        .iter()
        .any(|n| reach.phones.iter().any(|p| same_number(n, p, region)))
        || candidate.emails.iter().any(|e| {
            reach
                .emails
                .iter()
                .any(|x| x.eq_ignore_ascii_case(e.trim()))
        })
}

/// The event's contact completed with what GoHighLevel holds for it: its phones and emails,
/// and its name, company and tags where the event had none.
fn with_record(contact: &GhlContact, record: GhlContactRecord) -> GhlContact {
    let mut full = contact.clone();
    full.phones = record.phones;
    full.emails = record.emails;
    let named = full.name.is_some() || full.first_name.is_some() || full.last_name.is_some();
    if !named {
        full.name = record.name;
    }
    full.company = full.company.or(record.company);
    for tag in record.tags {
        if !full.tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
            full.tags.push(tag);
        }
    }
    full
}

/// A short, stable digest of a phone or email, so that claim keys hold no personal data.
fn digest(text: &str) -> String {
    crate::digest::sha256(text.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}
