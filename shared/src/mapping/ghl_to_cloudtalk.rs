//! GoHighLevel events → CloudTalk writes.

use crate::clients::cloudtalk::{
    ActivityInput, ContactEmail, ContactInput, ContactNumber, ContactTag, ExternalUrl,
};
use crate::payload::ghl::{GhlContact, NewNoteEvent, PipelineChangeEvent, StatusChangeEvent};
use crate::phone::{to_e164, InvalidPhone};
use crate::telemetry::mask_email;

use super::timestamp_or_now;

/// Company written on contacts the bridge creates when GHL has none.
pub const DEFAULT_COMPANY: &str = "GoHighLevel";
/// CloudTalk limits (contacts/add): name 150, company 100, link name 30 characters.
const NAME_MAX: usize = 150;
const COMPANY_MAX: usize = 100;

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// What a contact is reached and matched by: its phones in E.164 and its plausible emails, in
/// order and without duplicates, and those that could not be read (masked, for the answer).
/// One bad extra phone or email is skipped; it never fails the contact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reachable {
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub skipped: Vec<String>,
}

impl Reachable {
    /// Neither a phone nor an email to match or call by.
    pub fn is_empty(&self) -> bool {
        self.phones.is_empty() && self.emails.is_empty()
    }
}

/// The contact's phones and emails, normalised; see [`Reachable`].
pub fn reachable(contact: &GhlContact, region: Option<&str>) -> Reachable {
    let mut out = Reachable::default();
    for raw in &contact.phones {
        match to_e164(raw, region) {
            Ok(e164) if !out.phones.contains(&e164) => out.phones.push(e164),
            Ok(_) => {}
            Err(InvalidPhone { masked }) => out.skipped.push(format!("phone {masked}")),
        }
    }
    for email in &contact.emails {
        let e = email.trim().to_lowercase();
        let plausible = e.len() <= 254
            && e.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !e.contains(char::is_whitespace)
            });
        match plausible {
            true if !out.emails.contains(&e) => out.emails.push(e),
            true => {}
            false => out.skipped.push(format!("email {}", mask_email(&e))),
        }
    }
    out
}

/// CloudTalk requires a name: the full name, else first + last, else the email or a label.
pub fn display_name(contact: &GhlContact) -> String {
    let joined = [contact.first_name.as_deref(), contact.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let name = contact
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| (!joined.is_empty()).then_some(joined))
        .or_else(|| contact.emails.first().cloned())
        .unwrap_or_else(|| format!("GHL contact {}", contact.id));
    clip(name.trim(), NAME_MAX)
}

/// The link back to the contact in the GoHighLevel app.
pub fn ghl_contact_url(app_base: &str, location_id: &str, contact_id: &str) -> String {
    format!(
        "{}/v2/location/{}/contacts/detail/{}",
        app_base.trim_end_matches('/'),
        urlencoding::encode(location_id),
        urlencoding::encode(contact_id)
    )
}

/// The CloudTalk contact to create for a GHL contact: name, phones, emails, tags, company and a
/// link back to GoHighLevel, with the phones and emails [`reachable`] read.
pub fn cloudtalk_contact(
    contact: &GhlContact,
    reach: &Reachable,
    tags: &[String],
    ghl_link: Option<String>,
) -> ContactInput {
    ContactInput {
        name: display_name(contact),
        company: Some(clip(
            contact.company.as_deref().unwrap_or(DEFAULT_COMPANY),
            COMPANY_MAX,
        )),
        numbers: reach
            .phones
            .iter()
            .map(|p| ContactNumber {
                public_number: p.clone(),
            })
            .collect(),
        emails: reach
            .emails
            .iter()
            .map(|email| ContactEmail {
                email: email.clone(),
            })
            .collect(),
        tags: tags
            .iter()
            .map(|name| ContactTag { name: name.clone() })
            .collect(),
        external_urls: ghl_link
            .map(|url| {
                vec![ExternalUrl {
                    name: "GoHighLevel".to_string(),
                    url,
                }]
            })
            .unwrap_or_default(),
    }
}

/// `[GHL Note] <body> - Added by User ID: <userId> - <timestamp>`
pub fn note_text(event: &NewNoteEvent) -> String {
    format!(
        "[GHL Note] {} - Added by User ID: {} - {}",
        event.body.trim(),
        event.user_id.as_deref().unwrap_or("unknown"),
        timestamp_or_now(
            event
                .timestamp
                .as_deref()
                .or(event.meta.timestamp.as_deref())
        )
    )
}

/// Activity `other` titled "Pipeline Stage Change":
/// `[GHL Pipeline Change] Contact moved to "<stage>" stage in "<pipeline>" pipeline (from "<previous>") - <timestamp>`
pub fn pipeline_activity(event: &PipelineChangeEvent) -> ActivityInput {
    let stage = event
        .stage
        .as_deref()
        .or(event.stage_id.as_deref())
        .unwrap_or("unknown");
    let pipeline = event
        .pipeline
        .as_deref()
        .or(event.pipeline_id.as_deref())
        .unwrap_or("unknown");
    let from = event
        .previous_stage
        .as_deref()
        .map(|p| format!(" (from \"{p}\")"))
        .unwrap_or_default();
    let when = timestamp_or_now(event.meta.timestamp.as_deref());
    ActivityInput {
        activity_type: "other".to_string(),
        name: "Pipeline Stage Change".to_string(),
        description: Some(format!(
            "[GHL Pipeline Change] Contact moved to \"{stage}\" stage in \"{pipeline}\" pipeline{from} - {when}"
        )),
        activity_date: None,
        external_url: None,
        external_id: None,
    }
}

/// `GHL-<STATUS>`: upper case, spaces and punctuation as `-`.
pub fn status_tag(status: &str) -> String {
    let cleaned: String = status
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '-'
            }
        })
        .collect();
    let collapsed = cleaned
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("GHL-{collapsed}")
}

/// The note recording a status change, with the old and new status and the reason.
pub fn status_note(event: &StatusChangeEvent) -> String {
    let mut text = format!(
        "[GHL Status Change] Status changed from \"{}\" to \"{}\"",
        event.previous_status.as_deref().unwrap_or("unknown"),
        event.status
    );
    if let Some(reason) = &event.reason {
        text.push_str(&format!(" - Reason: {reason}"));
    }
    text.push_str(&format!(
        " - {}",
        timestamp_or_now(event.meta.timestamp.as_deref())
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::ghl::{
        parse_new_contact, parse_new_note, parse_pipeline_change, parse_status_change,
    };
    use serde_json::json;

    fn mario() -> GhlContact {
        parse_new_contact(&json!({"contact":{"id":"ghl_123456","name":"Mario Rossi","firstName":"Mario",
            "lastName":"Rossi","email":"Mario@Example.com","phone":"+39 350 123 4567","tags":["lead","priority"]}}))
        .unwrap()
        .contact
    }

    #[test]
    fn contact_maps_every_field() {
        let c = mario();
        let reach = reachable(&c, Some("IT"));
        let link = ghl_contact_url("https://app.gohighlevel.com", "loc1", &c.id);
        let input = cloudtalk_contact(&c, &reach, &c.tags, Some(link));
        let body = serde_json::to_value(&input).unwrap();
        assert_eq!(
            body,
            json!({"name":"Mario Rossi","company":"GoHighLevel",
                "ContactNumber":[{"public_number":"+393501234567"}],
                "ContactEmail":[{"email":"mario@example.com"}],
                "ContactsTag":[{"name":"lead"},{"name":"priority"}],
                "ExternalUrl":[{"name":"GoHighLevel","url":"https://app.gohighlevel.com/v2/location/loc1/contacts/detail/ghl_123456"}]})
        );
    }

    #[test]
    fn empty_collections_are_not_sent() {
        let c = GhlContact {
            id: "x".into(),
            ..Default::default()
        };
        let body =
            serde_json::to_value(cloudtalk_contact(&c, &Reachable::default(), &[], None)).unwrap();
        assert_eq!(
            body,
            json!({"name":"GHL contact x","company":"GoHighLevel"})
        );
    }

    #[test]
    fn names_fall_back() {
        let mut c = GhlContact {
            id: "x".into(),
            first_name: Some("Anna".into()),
            last_name: Some("Bianchi".into()),
            ..Default::default()
        };
        assert_eq!(display_name(&c), "Anna Bianchi");
        c.first_name = None;
        c.last_name = None;
        c.emails = vec!["a@b.it".into()];
        assert_eq!(display_name(&c), "a@b.it");
        c.name = Some("n".repeat(300));
        assert_eq!(display_name(&c).len(), 150);
    }

    #[test]
    fn an_invalid_phone_or_email_is_skipped_not_fatal() {
        let mut c = mario();
        c.phones = vec![
            "call me maybe".into(),
            "+39 350 123 4567".into(),
            "12".into(),
        ];
        c.emails = vec!["mario@example.com".into(), "mario at home".into()];
        let reach = reachable(&c, Some("IT"));
        assert_eq!(reach.phones, vec!["+393501234567"]);
        assert_eq!(reach.emails, vec!["mario@example.com"]);
        assert_eq!(reach.skipped.len(), 3, "{:?}", reach.skipped);
        assert_eq!(
            reach
                .skipped
                .iter()
                .filter(|s| s.starts_with("phone "))
                .count(),
            2
        );
        assert!(
            reach
                .skipped
                .iter()
                .all(|s| !s.contains("4567") && !s.contains("home")),
            "skipped values are masked: {:?}",
            reach.skipped
        );
    }

    #[test]
    fn note_text_follows_the_design() {
        let e = parse_new_note(
            &json!({"contact":{"id":"1"},"note":{"body":"Cliente interessato","userId":"agent_789"},
            "timestamp":"2026-11-28T10:00:00Z"}),
        )
        .unwrap();
        assert_eq!(
            note_text(&e),
            "[GHL Note] Cliente interessato - Added by User ID: agent_789 - 2026-11-28T10:00:00Z"
        );
    }

    #[test]
    fn pipeline_activity_follows_the_design() {
        let e = parse_pipeline_change(&json!({"contact":{"id":"1"},"pipeline":{"name":"Sales Pipeline"},
            "stage":{"name":"Qualified Lead"},"previous_stage":{"name":"Cold Lead"},"timestamp":"T"})).unwrap();
        let a = pipeline_activity(&e);
        assert_eq!(a.activity_type, "other");
        assert_eq!(a.name, "Pipeline Stage Change");
        assert_eq!(a.description.unwrap(),
            "[GHL Pipeline Change] Contact moved to \"Qualified Lead\" stage in \"Sales Pipeline\" pipeline (from \"Cold Lead\") - T");
    }

    #[test]
    fn status_tag_and_note() {
        assert_eq!(status_tag("customer"), "GHL-CUSTOMER");
        assert_eq!(status_tag(" hot lead!"), "GHL-HOT-LEAD");
        let e = parse_status_change(
            &json!({"contact":{"id":"1"},"status":"customer","previous_status":"lead",
            "status_reason":"Purchase completed","timestamp":"T"}),
        )
        .unwrap();
        assert_eq!(status_note(&e), "[GHL Status Change] Status changed from \"lead\" to \"customer\" - Reason: Purchase completed - T");
    }
}
