//! The GoHighLevel contact of a CloudTalk event: the contact map (CloudTalk id → GHL id), else
//! GHL's duplicate search by E.164 phone and email, else an upsert (`source` "CloudTalk"); the
//! link is recorded when the CloudTalk contact id is known. A CloudTalk id alone, unlinked, is
//! looked up in CloudTalk for its phone and email.
//!
//! A contact found through the map is noted in the event's steps; when GoHighLevel then answers
//! 404 for it, [`super::heal_stale_link`] removes the link and the event is applied once more,
//! resolving by phone or email and never to the gone contact.

use serde::{Deserialize, Serialize};

use super::{FoundBy, CONTACT_STEP};
use crate::clients::Service;
use crate::contact_map::{ContactLink, LinkOrigin, LinkOutcome};
use crate::deps::Deps;
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::mapping::cloudtalk_to_ghl::ghl_contact;
use crate::payload::cloudtalk::ContactRef;
use crate::phone::to_e164;

/// How the GoHighLevel contact of a CloudTalk event was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedGhlContact {
    pub ghl_id: String,
    pub found_by: FoundBy,
    /// The phone used for matching, in E.164, when there was one.
    pub phone: Option<String>,
    /// The contact's owner (GHL's `assignedTo`), when the resolution saw it (a search, or the
    /// owner it gave a contact it created); `None` when unknown (found through the map).
    pub owner: Option<String>,
}

/// The recorded value of the contact step: which GHL contact, found how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FoundGhlContact {
    id: String,
    found_by: FoundBy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
}

impl FoundGhlContact {
    /// The `created|<id>` / `search|<id>` form earlier versions recorded.
    fn legacy(text: &str) -> Option<Self> {
        let (how, id) = text.split_once('|')?;
        let found_by = match how {
            "created" => FoundBy::Created,
            _ => FoundBy::Search,
        };
        Some(Self {
            id: id.to_string(),
            found_by,
            owner: None,
        })
    }
}

/// How to match a contact in GHL.
struct Identity {
    phone: Option<String>,
    email: Option<String>,
    name: Option<String>,
}

fn e164(raw: &str, region: Option<&str>) -> Result<String, BridgeError> {
    to_e164(raw, region).map_err(|e| BridgeError::Unprocessable {
        message: format!("invalid phone number: {e}"),
        missing: vec![],
    })
}

/// Resolves the GHL contact for a CloudTalk event and records the link. A contact it creates
/// gets `owner` (a GHL user id) as its owner when `ASSIGN_CONTACT_OWNER` is on: it is part of
/// the creation, so an owner a contact already has is never replaced.
pub async fn resolve_ghl_contact(
    deps: &Deps,
    location_id: &str,
    contact: &ContactRef,
    owner: Option<&str>,
    steps: &mut Steps,
) -> Result<ResolvedGhlContact, BridgeError> {
    contact.require_identifiable()?;
    let region = deps.config.default_phone_region.as_deref();
    let phone = contact
        .phone
        .as_deref()
        .map(|p| e164(p, region))
        .transpose()?;
    let replacing = steps.replacing().map(str::to_string);
    if let Some(ct_id) = &contact.cloudtalk_id {
        let linked = deps.contacts.find_by_cloudtalk(location_id, ct_id).await?;
        if let Some(link) = linked.filter(|l| Some(&l.ghl_contact_id) != replacing.as_ref()) {
            let ghl_id = link.ghl_contact_id.clone();
            steps.found_via(link, Service::GoHighLevel);
            return Ok(ResolvedGhlContact {
                ghl_id,
                found_by: FoundBy::Map,
                phone,
                owner: None,
            });
        }
    }
    let identity = identify(deps, contact, phone).await?;
    // GHL's duplicate search and upsert match by phone and email, so a retry finds the contact
    // an earlier attempt created; the step still saves the lookups.
    let found = steps
        .run_typed(CONTACT_STEP, FoundGhlContact::legacy, || async {
            let owner = owner.filter(|_| deps.config.people.assign_owner);
            let found = find_or_create(deps, location_id, &identity, owner).await?;
            match replacing {
                Some(gone) if found.id == gone => Err(BridgeError::Unprocessable {
                    message: format!(
                        "GoHighLevel still finds contact {gone}, which it said is gone"
                    ),
                    missing: vec![],
                }),
                _ => Ok(found),
            }
        })
        .await?;
    finish(deps, location_id, contact, identity, found).await
}

/// The resolved contact, linked when the CloudTalk contact id is known.
async fn finish(
    deps: &Deps,
    location_id: &str,
    contact: &ContactRef,
    identity: Identity,
    found: FoundGhlContact,
) -> Result<ResolvedGhlContact, BridgeError> {
    let resolved = ResolvedGhlContact {
        ghl_id: found.id,
        found_by: found.found_by,
        phone: identity.phone,
        owner: found.owner,
    };
    match &contact.cloudtalk_id {
        Some(ct_id) => link(deps, location_id, ct_id, resolved).await,
        None => Ok(resolved),
    }
}

/// The phone and email to match by; when the event names only a CloudTalk id, they are read
/// from CloudTalk.
async fn identify(
    deps: &Deps,
    contact: &ContactRef,
    phone: Option<String>,
) -> Result<Identity, BridgeError> {
    let mut identity = Identity {
        phone,
        email: contact.email.as_deref().map(str::to_lowercase),
        name: contact.name.clone(),
    };
    if identity.phone.is_none() && identity.email.is_none() {
        if let (Some(ct_id), true) = (&contact.cloudtalk_id, deps.cloudtalk_configured()) {
            let ct = match deps.cloudtalk.show_contact(ct_id).await {
                Err(e) if e.is_not_found() => {
                    return Err(BridgeError::Unprocessable {
                        message: format!("CloudTalk has no contact with id {ct_id}"),
                        missing: vec![],
                    })
                }
                other => other?,
            };
            let region = deps.config.default_phone_region.as_deref();
            identity.phone = ct.phones.iter().find_map(|n| to_e164(n, region).ok());
            identity.email = ct.emails.first().map(|e| e.to_lowercase());
            identity.name = identity.name.or(ct.name);
        }
    }
    if identity.phone.is_none() && identity.email.is_none() {
        return Err(BridgeError::missing_fields(
            "the contact has no phone number or email to match in GoHighLevel",
            &["external_number", "contact_phone", "contact_email"],
        ));
    }
    Ok(identity)
}

async fn find_or_create(
    deps: &Deps,
    location_id: &str,
    who: &Identity,
    owner: Option<&str>,
) -> Result<FoundGhlContact, BridgeError> {
    let (phone, email) = (who.phone.as_deref(), who.email.as_deref());
    if let Some(found) = deps.ghl.find_duplicate(location_id, phone, email).await? {
        return Ok(FoundGhlContact {
            id: found.id,
            found_by: FoundBy::Search,
            owner: found.owner,
        });
    }
    let mut input = ghl_contact(location_id, who.name.as_deref(), phone, email, None);
    // Only on creation (nothing matched the duplicate search): an existing contact keeps the
    // owner it has.
    input.assigned_to = owner.map(str::to_string);
    let (id, new) = deps.ghl.upsert_contact(&input).await?;
    let found_by = if new {
        FoundBy::Created
    } else {
        FoundBy::Search
    };
    let owner = match new {
        true => input.assigned_to,
        false => None,
    };
    Ok(FoundGhlContact {
        id,
        found_by,
        owner,
    })
}

/// Records the link; a GHL contact linked meanwhile to this CloudTalk contact wins.
async fn link(
    deps: &Deps,
    location_id: &str,
    ct_id: &str,
    resolved: ResolvedGhlContact,
) -> Result<ResolvedGhlContact, BridgeError> {
    let link = ContactLink::new(location_id, &resolved.ghl_id, ct_id, LinkOrigin::CloudTalk);
    let LinkOutcome::Existing(existing) = deps.contacts.link(&link).await? else {
        return Ok(resolved);
    };
    if existing.cloudtalk_contact_id == ct_id {
        return Ok(ResolvedGhlContact {
            ghl_id: existing.ghl_contact_id,
            found_by: FoundBy::Map,
            ..resolved
        });
    }
    tracing::warn!(
        ghl_contact_id = %resolved.ghl_id,
        cloudtalk_contact_id = %ct_id,
        linked_cloudtalk_contact_id = %existing.cloudtalk_contact_id,
        "GHL contact is already linked to another CloudTalk contact"
    );
    Ok(resolved)
}
