//! Finding the contact on the other side: map → search → create, then record the link.

use crate::clients::cloudtalk::{bulk_result, BulkCommand, CloudTalkContact};
use crate::clients::{Service, UpstreamError};
use crate::contact_map::{ContactLink, LinkOrigin, LinkOutcome};
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::idempotency::{Claim, Steps};
use crate::mapping::cloudtalk_to_ghl::ghl_contact;
use crate::mapping::ghl_to_cloudtalk::{
    cloudtalk_contact, ghl_contact_url, normalized_emails, normalized_phones,
};
use crate::payload::cloudtalk::ContactRef;
use crate::payload::ghl::GhlContact;
use crate::phone::{same_number, to_e164};

/// The step that records the contact an event created or found.
const CONTACT_STEP: &str = "contact";

/// How the CloudTalk contact of an event was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    /// The contact map already linked it.
    Map,
    /// A CloudTalk contact with the same phone or email existed.
    Search,
    /// The bridge created it for this event.
    Created,
}

impl FoundBy {
    pub fn as_str(self) -> &'static str {
        match self {
            FoundBy::Map => "map",
            FoundBy::Search => "search",
            FoundBy::Created => "created",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedContact {
    pub cloudtalk_id: String,
    pub found_by: FoundBy,
    /// The tags the contact was created with (only when `found_by` is `Created`).
    pub created_with_tags: bool,
}

fn matches_contact(
    candidate: &CloudTalkContact,
    phones: &[String],
    emails: &[String],
    region: Option<&str>,
) -> bool {
    candidate
        .numbers
        .iter()
        .any(|n| phones.iter().any(|p| same_number(n, p, region)))
        || candidate
            .emails
            .iter()
            .any(|e| emails.iter().any(|x| x.eq_ignore_ascii_case(e.trim())))
}

/// Searches CloudTalk by each phone, then each email, comparing candidates client-side since
/// CloudTalk's only search is a keyword.
async fn search_cloudtalk(
    deps: &Deps,
    phones: &[String],
    emails: &[String],
) -> Result<Option<String>, BridgeError> {
    let region = deps.config.default_phone_region.as_deref();
    let keywords = phones
        .iter()
        .map(|p| p.trim_start_matches('+').to_string())
        .chain(emails.iter().cloned());
    for keyword in keywords {
        let candidates = deps.cloudtalk.search_contacts(&keyword).await?;
        if let Some(found) = candidates
            .iter()
            .find(|c| matches_contact(c, phones, emails, region))
        {
            return Ok(Some(found.id.clone()));
        }
    }
    Ok(None)
}

/// How long an event waits for a concurrent event that is creating the same contact.
const CREATION_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long one event may hold the right to create a contact.
const CREATION_LOCK_MS: i64 = 20_000;

/// Waits for the link a concurrent event is creating; a retryable error when it does not come.
async fn wait_for_link(
    deps: &Deps,
    location_id: &str,
    ghl_id: &str,
) -> Result<String, BridgeError> {
    let started = std::time::Instant::now();
    while started.elapsed() < CREATION_WAIT {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if let Some(link) = deps.contacts.find_by_ghl(location_id, ghl_id).await? {
            return Ok(link.cloudtalk_contact_id);
        }
    }
    Err(BridgeError::Store(crate::store::StoreError::contended(
        "another event is still creating this contact",
    )))
}

/// Creates the CloudTalk contact through a bulk `add_contact` command, checking the command's
/// own result (a bulk answer is HTTP 200 even when the command failed).
async fn create_cloudtalk_contact(
    deps: &Deps,
    location_id: &str,
    contact: &GhlContact,
    phones: &[String],
    create_tags: &[String],
) -> Result<String, BridgeError> {
    let input = cloudtalk_contact(
        contact,
        phones,
        create_tags,
        Some(ghl_contact_url(
            &deps.config.ghl_app_base,
            location_id,
            &contact.id,
        )),
    );
    let command_id = format!(
        "ghl_contact_{}_{}",
        contact.id,
        chrono::Utc::now().timestamp()
    );
    let results = deps
        .cloudtalk
        .bulk(&[BulkCommand {
            action: "add_contact",
            command_id: command_id.clone(),
            data: serde_json::to_value(&input).unwrap_or_default(),
        }])
        .await?;
    // Matched by command_id; a lone result is ours even if CloudTalk mangled the id.
    let result =
        bulk_result(&results, &command_id).or_else(|| (results.len() == 1).then(|| &results[0]));
    match result {
        Some(r) if r.succeeded() && r.id.is_some() => Ok(r.id.clone().unwrap_or_default()),
        Some(r) => Err(UpstreamError::Status {
            service: Service::CloudTalk,
            operation: "bulk add_contact",
            status: r.status,
            message: r.message.clone().unwrap_or_else(|| "command failed".into()),
            retry_after_secs: None,
        }
        .into()),
        None => Err(UpstreamError::InvalidResponse {
            service: Service::CloudTalk,
            operation: "bulk add_contact",
            message: "no result for the command".into(),
        }
        .into()),
    }
}

/// Resolves the CloudTalk contact for a GHL contact, creating it (with `create_tags`) when no
/// contact matches, and records the link.
///
/// Concurrent events about the same unlinked contact create it once: creating takes a claim
/// (`create-cloudtalk#<location>#<ghlId>`) and the other events wait for its link. A retried
/// event that had created the contact before failing resumes from the recorded step.
pub async fn resolve_cloudtalk_contact(
    deps: &Deps,
    location_id: &str,
    contact: &GhlContact,
    create_tags: &[String],
    steps: &mut Steps,
) -> Result<ResolvedContact, BridgeError> {
    let link_found = |cloudtalk_id: String| ResolvedContact {
        cloudtalk_id,
        found_by: FoundBy::Map,
        created_with_tags: false,
    };
    if let Some(link) = deps.contacts.find_by_ghl(location_id, &contact.id).await? {
        return Ok(link_found(link.cloudtalk_contact_id));
    }
    let (cloudtalk_id, found_by) = if let Some(created) = steps.get(CONTACT_STEP) {
        // An earlier attempt created the contact and failed before linking it.
        (created.to_string(), FoundBy::Created)
    } else {
        let region = deps.config.default_phone_region.as_deref();
        let phones =
            normalized_phones(contact, region).map_err(|e| BridgeError::Unprocessable {
                message: format!("invalid phone number: {e}"),
                missing: vec![],
            })?;
        let emails = normalized_emails(contact);
        match search_cloudtalk(deps, &phones, &emails).await? {
            Some(id) => (id, FoundBy::Search),
            None => {
                let claim_key = format!("create-cloudtalk#{location_id}#{}", contact.id);
                let now = chrono::Utc::now().timestamp_millis();
                match deps
                    .idempotency
                    .claim(&claim_key, now, now + CREATION_LOCK_MS)
                    .await?
                {
                    Claim::Acquired { .. } => {
                        let created = create_cloudtalk_contact(
                            deps,
                            location_id,
                            contact,
                            &phones,
                            create_tags,
                        )
                        .await;
                        match created {
                            Ok(id) => {
                                steps.record(CONTACT_STEP, &id).await?;
                                deps.idempotency
                                    .complete(
                                        &claim_key,
                                        &serde_json::json!({ "cloudtalkContactId": id }),
                                    )
                                    .await?;
                                (id, FoundBy::Created)
                            }
                            Err(e) => {
                                deps.idempotency.release(&claim_key).await?;
                                return Err(e);
                            }
                        }
                    }
                    Claim::Completed { response } => {
                        match deps.contacts.find_by_ghl(location_id, &contact.id).await? {
                            Some(link) => return Ok(link_found(link.cloudtalk_contact_id)),
                            None => {
                                match response.get("cloudtalkContactId").and_then(|v| v.as_str()) {
                                    Some(id) => (id.to_string(), FoundBy::Search),
                                    None => {
                                        return Ok(link_found(
                                            wait_for_link(deps, location_id, &contact.id).await?,
                                        ))
                                    }
                                }
                            }
                        }
                    }
                    Claim::InProgress => {
                        return Ok(link_found(
                            wait_for_link(deps, location_id, &contact.id).await?,
                        ));
                    }
                }
            }
        }
    };

    let link = ContactLink::new(
        location_id,
        &contact.id,
        &cloudtalk_id,
        LinkOrigin::GoHighLevel,
    );
    match deps.contacts.link(&link).await? {
        LinkOutcome::Created => Ok(ResolvedContact {
            cloudtalk_id,
            found_by,
            created_with_tags: found_by == FoundBy::Created,
        }),
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
            Ok(ResolvedContact {
                cloudtalk_id: existing.cloudtalk_contact_id,
                found_by: FoundBy::Map,
                created_with_tags: false,
            })
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
            Ok(ResolvedContact {
                cloudtalk_id,
                found_by,
                created_with_tags: found_by == FoundBy::Created,
            })
        }
    }
}

/// How the GoHighLevel contact of a CloudTalk event was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedGhlContact {
    pub ghl_id: String,
    pub found_by: FoundBy,
    /// The phone used for matching, in E.164, when there was one.
    pub phone: Option<String>,
}

/// Resolves the GHL contact for a CloudTalk event: map (CloudTalk id → GHL id), then GHL's
/// duplicate search by E.164 phone and email, then upsert (`source` "CloudTalk"); records the
/// link when the CloudTalk contact id is known. A CloudTalk id alone, unlinked, is looked up in
/// CloudTalk for its phone and email.
pub async fn resolve_ghl_contact(
    deps: &Deps,
    location_id: &str,
    contact: &ContactRef,
    steps: &mut Steps,
) -> Result<ResolvedGhlContact, BridgeError> {
    contact.require_identifiable()?;
    let region = deps.config.default_phone_region.as_deref();
    let normalize = |raw: &str| {
        to_e164(raw, region).map_err(|e| BridgeError::Unprocessable {
            message: format!("invalid phone number: {e}"),
            missing: vec![],
        })
    };
    let mut phone = contact.phone.as_deref().map(normalize).transpose()?;
    if let Some(ct_id) = &contact.cloudtalk_id {
        if let Some(link) = deps.contacts.find_by_cloudtalk(location_id, ct_id).await? {
            return Ok(ResolvedGhlContact {
                ghl_id: link.ghl_contact_id,
                found_by: FoundBy::Map,
                phone,
            });
        }
    }
    let mut email = contact.email.as_deref().map(str::to_lowercase);
    let mut name = contact.name.clone();
    if phone.is_none() && email.is_none() {
        // Only a CloudTalk id: read the contact from CloudTalk to learn how to match it.
        if let (Some(ct_id), true) = (&contact.cloudtalk_id, deps.cloudtalk_configured()) {
            let ct = match deps.cloudtalk.show_contact(ct_id).await {
                Err(e) if e.status() == Some(404) => {
                    return Err(BridgeError::Unprocessable {
                        message: format!("CloudTalk has no contact with id {ct_id}"),
                        missing: vec![],
                    })
                }
                other => other?,
            };
            phone = ct.numbers.iter().find_map(|n| to_e164(n, region).ok());
            email = ct.emails.first().map(|e| e.to_lowercase());
            name = name.or(ct.name);
        }
    }
    if phone.is_none() && email.is_none() {
        return Err(BridgeError::missing_fields(
            "the contact has no phone number or email to match in GoHighLevel",
            &["external_number", "contact_phone", "contact_email"],
        ));
    }
    // GHL's duplicate search and upsert match by phone and email, so a retry finds the contact
    // an earlier attempt created; the step still saves the lookups.
    let found = steps
        .run(CONTACT_STEP, || async {
            if let Some(found) = deps
                .ghl
                .find_duplicate(location_id, phone.as_deref(), email.as_deref())
                .await?
            {
                return Ok(format!("search|{}", found.id));
            }
            let input = ghl_contact(
                location_id,
                name.as_deref(),
                phone.as_deref(),
                email.as_deref(),
                None,
            );
            let (id, new) = deps.ghl.upsert_contact(&input).await?;
            Ok(format!("{}|{id}", if new { "created" } else { "search" }))
        })
        .await?;
    let (ghl_id, found_by) = match found.split_once('|') {
        Some(("created", id)) => (id.to_string(), FoundBy::Created),
        Some((_, id)) => (id.to_string(), FoundBy::Search),
        None => (found.clone(), FoundBy::Search),
    };
    if let Some(ct_id) = &contact.cloudtalk_id {
        let link = ContactLink::new(location_id, &ghl_id, ct_id, LinkOrigin::CloudTalk);
        if let LinkOutcome::Existing(existing) = deps.contacts.link(&link).await? {
            if existing.cloudtalk_contact_id == *ct_id {
                return Ok(ResolvedGhlContact {
                    ghl_id: existing.ghl_contact_id,
                    found_by: FoundBy::Map,
                    phone,
                });
            }
            tracing::warn!(
                ghl_contact_id = %ghl_id,
                cloudtalk_contact_id = %ct_id,
                linked_cloudtalk_contact_id = %existing.cloudtalk_contact_id,
                "GHL contact is already linked to another CloudTalk contact"
            );
        }
    }
    Ok(ResolvedGhlContact {
        ghl_id,
        found_by,
        phone,
    })
}
