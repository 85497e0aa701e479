//! GoHighLevel webhook payloads.
//!
//! Three shapes carry the same events and are all accepted:
//! - the nested format: `{"contact": {"id", "firstName", ...}, "tag": {"name"}, ...}`;
//! - the workflow "Webhook" action: flat snake_case `contact_id`, `first_name`, `full_name`,
//!   `phone`, `tags` as a comma string, with `location{}`, `workflow{}` and `customData{}`;
//! - Marketplace app events: flat camelCase with `type`, `webhookId`, `timestamp`, `locationId`.
//!
//! A body may mix the nested and flat shapes (a workflow body's flat `contact_id`, `email`,
//! `tags` beside a `contact` object holding only attribution data): every contact field is read
//! from the nested `contact` first and from the flat fields after, and phones, emails and tags
//! are gathered from both, so a nested object never hides the flat fields.

use serde_json::Value;

use super::error::PayloadError;
use super::fields::{find, find_id, find_string, tag_list};

/// The contact an event is about, as sent (phones not yet normalised).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GhlContact {
    pub id: String,
    pub location_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub tags: Vec<String>,
    pub company: Option<String>,
    /// Where the lead came from (`source`: a form, an import, …).
    pub source: Option<String>,
    /// The contact's owner, a GHL user id (`assignedTo`).
    pub owner: Option<String>,
}

/// Delivery metadata common to every GHL event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventMeta {
    /// Marketplace events carry a unique `webhookId`.
    pub webhook_id: Option<String>,
    pub event_type: Option<String>,
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewContactEvent {
    pub meta: EventMeta,
    pub contact: GhlContact,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewTagEvent {
    pub meta: EventMeta,
    pub contact: GhlContact,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewNoteEvent {
    pub meta: EventMeta,
    pub contact: GhlContact,
    pub body: String,
    pub user_id: Option<String>,
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PipelineChangeEvent {
    pub meta: EventMeta,
    pub contact: GhlContact,
    pub pipeline: Option<String>,
    pub pipeline_id: Option<String>,
    pub stage: Option<String>,
    pub stage_id: Option<String>,
    pub previous_stage: Option<String>,
    pub opportunity_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusChangeEvent {
    pub meta: EventMeta,
    pub contact: GhlContact,
    pub status: String,
    pub previous_status: Option<String>,
    pub reason: Option<String>,
}

fn event_type(root: &Value) -> Option<String> {
    find_string(root, &["type", "event", "eventType"])
}

/// Marketplace events of the Contact* family put the contact's own fields at the top level.
fn top_level_is_contact(root: &Value) -> bool {
    match event_type(root) {
        None => root.get("contact").is_none(),
        Some(t) => t.to_ascii_lowercase().starts_with("contact"),
    }
}

pub fn parse_meta(root: &Value) -> EventMeta {
    EventMeta {
        webhook_id: find_id(root, &["webhookId", "webhook_id"]),
        event_type: event_type(root),
        timestamp: find_string(root, &["timestamp", "dateAdded", "date_added"]),
    }
}

fn list(root: &Value, paths: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for path in paths {
        if let Some(v) = find(root, &[path]) {
            let items = match v {
                Value::Array(items) => items
                    .iter()
                    .filter_map(|i| match i {
                        Value::Object(_) => find_string(i, &["phone", "email", "number", "value"]),
                        other => super::fields::scalar_string(other),
                    })
                    .collect::<Vec<_>>(),
                other => super::fields::scalar_string(other).into_iter().collect(),
            };
            for item in items {
                if !out.iter().any(|o| o.eq_ignore_ascii_case(&item)) {
                    out.push(item);
                }
            }
        }
    }
    out
}

/// Where each GHL shape names its location: Marketplace events at the top, workflow bodies in
/// `location{}`, nested bodies on the contact.
pub const LOCATION_PATHS: &[&str] = &[
    "locationId",
    "location.id",
    "location_id",
    "contact.locationId",
    "contact.location_id",
];

/// The GHL location an event names, if any.
pub fn event_location(root: &Value) -> Option<String> {
    find_id(root, LOCATION_PATHS)
}

/// The location a **signed** body names: GHL's own key, `locationId`, at the top level, exactly.
/// A signed body picks its tenant by this alone, so that no user-named field ("Location ID", a
/// custom field) can steer it; workflow bodies, written by hand, are read with
/// [`event_location`].
pub fn signed_location(root: &Value) -> Option<String> {
    root.get("locationId").and_then(super::fields::id_string)
}

/// A Marketplace app's install or uninstall (GHL's `INSTALL` / `UNINSTALL` webhooks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallEvent {
    pub installed: bool,
    /// `locationId`: absent for an agency's install or uninstall.
    pub location_id: Option<String>,
    pub company_id: Option<String>,
    pub app_id: Option<String>,
}

/// Whether a body is an install or uninstall. Such a body changes tenants, so it is recognised
/// in **any** spelling of the `type` key and of its value (`type`, `Type`, `TYPE`; `INSTALL`,
/// `Uninstall`, ` install `): every such body is then held to the install rule (GHL's
/// signature, this deployment's app), and none can slip through as an ordinary event. Its ids
/// are read from GHL's exact top-level keys (`locationId`, `companyId`, `appId`), the ones the
/// signature covers.
pub fn install_event(root: &Value) -> Option<InstallEvent> {
    let object = root.as_object()?;
    let mut installed = None;
    for (key, value) in object {
        if super::fields::normalize_key(key) != "type" {
            continue;
        }
        let kind = value.as_str().map(super::fields::normalize_key);
        match kind.as_deref() {
            Some("install") => installed = installed.or(Some(true)),
            // An uninstall wins over an install in the same body: the safer reading.
            Some("uninstall") => installed = Some(false),
            _ => {}
        }
    }
    let id = |key: &str| root.get(key).and_then(super::fields::id_string);
    Some(InstallEvent {
        installed: installed?,
        location_id: id("locationId"),
        company_id: id("companyId"),
        app_id: id("appId"),
    })
}

/// Where a contact's phones and emails are: the nested contact first, then the flat fields
/// (see the module's notes on mixed shapes); every one found is kept.
const PHONE_PATHS: [&str; 4] = [
    "contact.phone",
    "contact.additionalPhones",
    "phone",
    "additionalPhones",
];
const EMAIL_PATHS: [&str; 4] = [
    "contact.email",
    "contact.additionalEmails",
    "email",
    "additionalEmails",
];

/// The contact's tags from the nested contact and the flat field, without duplicates.
fn gathered_tags(root: &Value) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for path in ["contact.tags", "tags"] {
        for tag in find(root, &[path]).map(tag_list).unwrap_or_default() {
            if !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                tags.push(tag);
            }
        }
    }
    tags
}

/// Where each GHL event shape carries a contact's fields.
const FIRST_NAME_PATHS: [&str; 4] = [
    "contact.firstName",
    "contact.first_name",
    "first_name",
    "firstName",
];
const LAST_NAME_PATHS: [&str; 4] = [
    "contact.lastName",
    "contact.last_name",
    "last_name",
    "lastName",
];
const COMPANY_PATHS: [&str; 5] = [
    "contact.companyName",
    "contact.company",
    "company_name",
    "companyName",
    "company",
];
const SOURCE_PATHS: [&str; 4] = [
    "contact.source",
    "contact_source",
    "contactSource",
    "source",
];
const OWNER_PATHS: [&str; 4] = [
    "contact.assignedTo",
    "contact.assigned_to",
    "assignedTo",
    "assigned_to",
];

/// Reads the contact of any GHL event shape; 422 when no contact id is present.
pub fn parse_contact(root: &Value) -> Result<GhlContact, PayloadError> {
    let flat = top_level_is_contact(root);
    let mut id_paths = vec!["contact.id", "contact_id", "contactId", "contact.contactId"];
    if flat {
        id_paths.push("id");
    }
    let id = find_id(root, &id_paths).ok_or_else(|| {
        PayloadError::missing_fields(
            "no GoHighLevel contact id",
            &["contact.id", "contact_id", "contactId"],
        )
    })?;
    if id.len() > 128 {
        return Err(PayloadError::Malformed(
            "the contact id is longer than 128 characters".into(),
        ));
    }
    let mut name_paths = vec![
        "contact.name",
        "contact.fullName",
        "contact.full_name",
        "full_name",
        "fullName",
    ];
    if flat {
        name_paths.push("name");
    }
    let tags = gathered_tags(root);
    check_tags(&tags)?;
    Ok(GhlContact {
        id,
        location_id: event_location(root),
        first_name: find_string(root, &FIRST_NAME_PATHS),
        last_name: find_string(root, &LAST_NAME_PATHS),
        name: find_string(root, &name_paths),
        emails: list(root, &EMAIL_PATHS),
        phones: list(root, &PHONE_PATHS),
        tags,
        company: find_string(root, &COMPANY_PATHS),
        source: find_string(root, &SOURCE_PATHS),
        owner: find_string(root, &OWNER_PATHS),
    })
}

/// CloudTalk and GHL tag names are short; a longer one is a broken payload, not a tag.
pub const MAX_TAG_CHARS: usize = 255;

fn check_tags(tags: &[String]) -> Result<(), PayloadError> {
    match tags.iter().find(|t| t.chars().count() > MAX_TAG_CHARS) {
        Some(_) => Err(PayloadError::Invalid(format!(
            "a tag is longer than {MAX_TAG_CHARS} characters"
        ))),
        None => Ok(()),
    }
}

/// The key of the bridge's own speed-to-lead job in a new-contact body (see
/// [`crate::handlers::ghl::speed_to_lead`]); a webhook carrying it is refused.
pub const DIAL_JOB_KEY: &str = "_bridge_dial";

/// A lead to dial: the contact as the triggering event gave it, why, and since when.
#[derive(Debug, Clone, PartialEq)]
pub struct DialJob {
    pub contact: GhlContact,
    /// `new-contact`, or `tag:<tag>`.
    pub trigger: String,
    pub created_ms: i64,
}

/// Whether a new-contact body is the bridge's dial job.
pub fn is_dial_job(body: &Value) -> bool {
    body.get(DIAL_JOB_KEY).is_some()
}

/// The idempotency key of a dial job: one per contact and trigger, whoever asks.
pub fn dial_job_key(body: &Value) -> Option<String> {
    let job = body.get(DIAL_JOB_KEY)?;
    let contact = find_id(body, &["contact.id"])?;
    let trigger = job.get("trigger").and_then(Value::as_str)?;
    Some(format!("speed-to-lead#{contact}#{trigger}"))
}

pub fn parse_dial_job(root: &Value) -> Result<DialJob, PayloadError> {
    let job = root.get(DIAL_JOB_KEY).unwrap_or(&Value::Null);
    let trigger = job
        .get("trigger")
        .and_then(Value::as_str)
        .ok_or_else(|| PayloadError::missing_fields("a dial job", &["_bridge_dial.trigger"]))?;
    Ok(DialJob {
        contact: parse_contact(root)?,
        trigger: trigger.to_string(),
        created_ms: job.get("created_ms").and_then(Value::as_i64).unwrap_or(0),
    })
}

pub fn parse_new_contact(root: &Value) -> Result<NewContactEvent, PayloadError> {
    Ok(NewContactEvent {
        meta: parse_meta(root),
        contact: parse_contact(root)?,
    })
}

pub fn parse_new_tag(root: &Value) -> Result<NewTagEvent, PayloadError> {
    let contact = parse_contact(root)?;
    let tags = [
        "tag",
        "customData.tag",
        "customData.tags",
        "tags",
        "contact.tags",
    ]
    .iter()
    .map(|p| find(root, &[p]).map(tag_list).unwrap_or_default())
    .find(|t| !t.is_empty())
    .ok_or_else(|| {
        PayloadError::missing_fields("no tag", &["tag.name", "tag", "customData.tag", "tags"])
    })?;
    check_tags(&tags)?;
    Ok(NewTagEvent {
        meta: parse_meta(root),
        contact,
        tags,
    })
}

pub fn parse_new_note(root: &Value) -> Result<NewNoteEvent, PayloadError> {
    let contact = parse_contact(root)?;
    let body = find_string(
        root,
        &[
            "note.body",
            "note",
            "body",
            "customData.note",
            "customData.body",
            "note_body",
            "noteBody",
        ],
    )
    .ok_or_else(|| {
        PayloadError::missing_fields("no note body", &["note.body", "body", "customData.note"])
    })?;
    Ok(NewNoteEvent {
        meta: parse_meta(root),
        contact,
        body,
        user_id: find_id(
            root,
            &[
                "note.userId",
                "note.user_id",
                "userId",
                "user_id",
                "user.id",
                "customData.userId",
                "customData.user_id",
            ],
        ),
        timestamp: find_string(
            root,
            &[
                "note.dateAdded",
                "note.createdAt",
                "dateAdded",
                "timestamp",
                "date_added",
            ],
        ),
    })
}

pub fn parse_pipeline_change(root: &Value) -> Result<PipelineChangeEvent, PayloadError> {
    let contact = parse_contact(root)?;
    let stage = find_string(
        root,
        &[
            "stage.name",
            "stage",
            "stage_name",
            "stageName",
            "pipeline_stage",
            "pipelineStage",
            "pipleline_stage",
            "opportunity.stage_name",
            "opportunity.stageName",
            "customData.stage",
        ],
    );
    let stage_id = find_id(
        root,
        &[
            "stage.id",
            "pipelineStageId",
            "pipeline_stage_id",
            "opportunity.pipelineStageId",
        ],
    );
    if stage.is_none() && stage_id.is_none() {
        return Err(PayloadError::missing_fields(
            "no pipeline stage",
            &["stage.name", "stage_name", "pipelineStageId"],
        ));
    }
    let flat_opportunity = event_type(root)
        .map(|t| t.to_ascii_lowercase().starts_with("opportunity"))
        .unwrap_or(false);
    let mut name_paths = vec!["opportunity.name", "opportunity_name", "opportunityName"];
    if flat_opportunity {
        name_paths.push("name");
    }
    Ok(PipelineChangeEvent {
        meta: parse_meta(root),
        contact,
        pipeline: find_string(
            root,
            &[
                "pipeline.name",
                "pipeline",
                "pipeline_name",
                "pipelineName",
                "opportunity.pipeline_name",
                "customData.pipeline",
            ],
        ),
        pipeline_id: find_id(
            root,
            &[
                "pipeline.id",
                "pipelineId",
                "pipeline_id",
                "opportunity.pipelineId",
            ],
        ),
        stage,
        stage_id,
        previous_stage: find_string(
            root,
            &[
                "previous_stage.name",
                "previousStage.name",
                "previous_stage",
                "previousStage",
                "previous_stage_name",
                "previousStageName",
                "customData.previous_stage",
            ],
        ),
        opportunity_name: find_string(root, &name_paths),
    })
}

pub fn parse_status_change(root: &Value) -> Result<StatusChangeEvent, PayloadError> {
    let contact = parse_contact(root)?;
    let status = find_string(
        root,
        &[
            "status",
            "contact.status",
            "contact_status",
            "contactStatus",
            "customData.status",
            "new_status",
            "newStatus",
        ],
    )
    .ok_or_else(|| PayloadError::missing_fields("no status", &["status", "customData.status"]))?;
    Ok(StatusChangeEvent {
        meta: parse_meta(root),
        contact,
        status,
        previous_status: find_string(
            root,
            &[
                "previous_status",
                "previousStatus",
                "old_status",
                "oldStatus",
                "customData.previous_status",
            ],
        ),
        reason: find_string(
            root,
            &[
                "status_reason",
                "statusReason",
                "reason",
                "customData.reason",
                "customData.status_reason",
            ],
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_contact_format() {
        let v = json!({"contact":{"id":"ghl_123456","name":"Mario Rossi","firstName":"Mario","lastName":"Rossi",
            "email":"mario@example.com","phone":"+393501234567","tags":["lead","priority"]}});
        let c = parse_new_contact(&v).unwrap().contact;
        assert_eq!(c.id, "ghl_123456");
        assert_eq!(c.name.as_deref(), Some("Mario Rossi"));
        assert_eq!(c.phones, vec!["+393501234567"]);
        assert_eq!(c.emails, vec!["mario@example.com"]);
        assert_eq!(c.tags, vec!["lead", "priority"]);
    }

    /// A workflow "Webhook" body: the contact's fields flat, and a nested `contact` that holds
    /// only attribution data.
    pub(super) const ATTRIBUTION_ONLY_NESTED: &str = r#"{"contact_id":"Xy12","first_name":"Giulia","last_name":"Bianchi","full_name":"Giulia Bianchi","email":"giulia@example.com","phone":"+39 347 123 4567","tags":"lead,webinar","country":"IT","date_created":"2026-11-28T09:12:44.000Z","contact_type":"lead","contact":{"attributionSource":{"sessionSource":"Direct traffic","medium":"direct","url":"https://example.com/offer"},"lastAttributionSource":{"sessionSource":"CRM Workflows","medium":"workflow"}},"location":{"id":"loc_abc123","name":"Agency"},"workflow":{"id":"wf1","name":"Sync"},"triggerData":{},"customData":{"tag":"VIP"}}"#;

    #[test]
    fn a_nested_contact_does_not_hide_the_flat_fields() {
        let v: Value = serde_json::from_str(ATTRIBUTION_ONLY_NESTED).unwrap();
        let c = parse_contact(&v).unwrap();
        assert_eq!(c.id, "Xy12");
        assert_eq!(c.emails, vec!["giulia@example.com"]);
        assert_eq!(c.phones, vec!["+39 347 123 4567"]);
        assert_eq!(c.tags, vec!["lead", "webinar"]);
        assert_eq!(c.name.as_deref(), Some("Giulia Bianchi"));
        assert_eq!(parse_new_tag(&v).unwrap().tags, vec!["VIP"]);
        // A nested field wins over the flat one; lists gather both.
        let both = json!({"contact": {"id": "n1", "email": "nested@example.com", "tags": ["a"]},
            "email": "flat@example.com", "tags": "b"});
        let c = parse_contact(&both).unwrap();
        assert_eq!(c.emails, vec!["nested@example.com", "flat@example.com"]);
        assert_eq!(c.tags, vec!["a", "b"]);
    }

    #[test]
    fn workflow_webhook_format() {
        let v = json!({"contact_id":"abc","first_name":"Mario","last_name":"Rossi","full_name":"Mario Rossi",
            "email":"mario@example.com","phone":"+39 350 123 4567","tags":"lead, priority",
            "company_name":"Rossi Srl","location":{"id":"loc1","name":"Agency"},
            "workflow":{"id":"w1","name":"Sync"},"customData":{"tag":"VIP Cliente"}});
        let c = parse_contact(&v).unwrap();
        assert_eq!(c.id, "abc");
        assert_eq!(c.location_id.as_deref(), Some("loc1"));
        assert_eq!(c.tags, vec!["lead", "priority"]);
        assert_eq!(c.company.as_deref(), Some("Rossi Srl"));
        assert_eq!(parse_new_tag(&v).unwrap().tags, vec!["VIP Cliente"]);
    }

    #[test]
    fn marketplace_format() {
        let v = json!({"type":"ContactCreate","webhookId":"wh-1","timestamp":"2026-11-01T10:00:00Z",
            "locationId":"loc1","id":"c1","firstName":"Anna","phone":"+14155552671","tags":["a"]});
        let e = parse_new_contact(&v).unwrap();
        assert_eq!(e.contact.id, "c1");
        assert_eq!(e.meta.webhook_id.as_deref(), Some("wh-1"));
        assert_eq!(e.meta.event_type.as_deref(), Some("ContactCreate"));

        // NoteCreate: `id` is the note's, the contact is `contactId`.
        let n = json!({"type":"NoteCreate","locationId":"loc1","id":"note-9","contactId":"c1","body":"Call back"});
        let e = parse_new_note(&n).unwrap();
        assert_eq!(e.contact.id, "c1");
        assert_eq!(e.body, "Call back");

        // Opportunity events: `name` is the opportunity's, not the contact's.
        let o = json!({"type":"OpportunityStageUpdate","id":"opp1","contactId":"c1","name":"Big deal",
            "pipelineId":"p1","pipelineStageId":"s2"});
        let e = parse_pipeline_change(&o).unwrap();
        assert_eq!(e.contact.name, None);
        assert_eq!(e.opportunity_name.as_deref(), Some("Big deal"));
        assert_eq!(e.stage_id.as_deref(), Some("s2"));
    }

    #[test]
    fn numeric_ids_and_missing_fields() {
        let e = parse_new_contact(&json!({"contact":{"id":123}})).unwrap();
        assert_eq!(e.contact.id, "123");
        let err = parse_new_contact(&json!({"contact":{"name":"x"}})).unwrap_err();
        assert!(matches!(err, PayloadError::Missing { .. }));
        assert!(err.to_string().contains("contact_id"));
        assert!(matches!(
            parse_new_tag(&json!({"contact":{"id":"1"}})),
            Err(PayloadError::Missing { .. })
        ));
        assert!(matches!(
            parse_new_note(&json!({"contact":{"id":"1"},"note":{}})),
            Err(PayloadError::Missing { .. })
        ));
        assert!(matches!(
            parse_pipeline_change(&json!({"contact":{"id":"1"}})),
            Err(PayloadError::Missing { .. })
        ));
        assert!(matches!(
            parse_status_change(&json!({"contact":{"id":"1"}})),
            Err(PayloadError::Missing { .. })
        ));
    }

    #[test]
    fn original_design_payloads() {
        let tag = json!({"contact":{"id":"ghl_123456","name":"Mario Rossi"},"tag":{"name":"VIP Cliente"}});
        assert_eq!(parse_new_tag(&tag).unwrap().tags, vec!["VIP Cliente"]);
        let note = json!({"contact":{"id":"ghl_123456"},"note":{"body":"Cliente interessato al prodotto premium","userId":"agent_789"}});
        let n = parse_new_note(&note).unwrap();
        assert_eq!(n.user_id.as_deref(), Some("agent_789"));
        let p = json!({"contact":{"id":"ghl_123456"},"pipeline":{"name":"Sales Pipeline"},"stage":{"name":"Qualified Lead"},"previous_stage":{"name":"Cold Lead"}});
        let p = parse_pipeline_change(&p).unwrap();
        assert_eq!(
            (
                p.pipeline.as_deref(),
                p.stage.as_deref(),
                p.previous_stage.as_deref()
            ),
            (
                Some("Sales Pipeline"),
                Some("Qualified Lead"),
                Some("Cold Lead")
            )
        );
        let s = json!({"contact":{"id":"ghl_123456"},"status":"customer","previous_status":"lead","status_reason":"Purchase completed"});
        let s = parse_status_change(&s).unwrap();
        assert_eq!(
            (
                s.status.as_str(),
                s.previous_status.as_deref(),
                s.reason.as_deref()
            ),
            ("customer", Some("lead"), Some("Purchase completed"))
        );
    }
}
