//! Inbound webhook payloads, normalised into one internal event per endpoint.
//!
//! Senders vary the shape of the same event, so parsing reads loosely typed JSON
//! ([`fields`]) rather than one rigid struct per sender.

pub mod cloudtalk;
pub mod error;
pub mod fields;
pub mod ghl;
pub mod sms;

use serde_json::Value;

pub use error::PayloadError;

/// Bodies larger than this are refused with 413 before they are parsed.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Decodes a webhook body: it must be UTF-8 JSON whose top level is an object.
pub fn parse_body(bytes: &[u8]) -> Result<Value, PayloadError> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(PayloadError::TooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(PayloadError::Malformed("the request body is empty".into()));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| PayloadError::Malformed("the request body is not valid UTF-8".into()))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| PayloadError::Malformed(format!("the request body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(PayloadError::Malformed(
            "the request body must be a JSON object".into(),
        ));
    }
    Ok(value)
}

/// The contact ids an event names, as far as its body says (ids are not personal data): the
/// `webhook` and `retry` lines carry them whatever the outcome, so that one contact's history
/// can be read back from the logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamedContacts {
    pub ghl: Option<String>,
    pub cloudtalk: Option<String>,
}

/// Ids longer than this are not logged (the parsers refuse them too).
const MAX_LOGGED_ID_CHARS: usize = 128;

/// The contacts endpoint `id`'s event `body` names.
pub fn named_contacts(id: crate::registry::EndpointId, body: &Value) -> NamedContacts {
    use crate::registry::{EndpointId, Sender};
    let short = |v: Option<String>| v.filter(|id| id.len() <= MAX_LOGGED_ID_CHARS);
    match (id, id.entry().sender) {
        (EndpointId::GhlAppInstall, _) => NamedContacts::default(),
        (_, Sender::GoHighLevel) => NamedContacts {
            ghl: short(ghl::parse_contact(body).ok().map(|c| c.id)),
            cloudtalk: None,
        },
        (EndpointId::CloudtalkContactCreated, _) => NamedContacts {
            ghl: None,
            cloudtalk: short(
                cloudtalk::parse_contact_created(body)
                    .ok()
                    .map(|e| e.cloudtalk_id),
            ),
        },
        (_, Sender::CloudTalk) => NamedContacts {
            ghl: None,
            cloudtalk: short(
                cloudtalk::parse_contact_ref(cloudtalk::unwrap_envelope(body)).cloudtalk_id,
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::EndpointId;
    use serde_json::json;

    #[test]
    fn the_contacts_an_event_names_are_its_ids_only() {
        let named = |id, body: Value| {
            let n = named_contacts(id, &body);
            (n.ghl, n.cloudtalk)
        };
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            named(
                EndpointId::GhlNewTag,
                json!({"contact": {"id": "g1", "phone": "+393501234567"}, "tag": "x"})
            ),
            (some("g1"), None)
        );
        assert_eq!(
            named(EndpointId::GhlNewTag, json!({"tag": "x"})),
            (None, None)
        );
        assert_eq!(
            named(
                EndpointId::CloudtalkCallEnded,
                json!({"call_id": 9, "contact_id": 42, "external_number": "+393501234567"})
            ),
            (None, some("42"))
        );
        assert_eq!(
            named(
                EndpointId::CloudtalkContactCreated,
                json!({"id": 7, "name": "Mario"})
            ),
            (None, some("7"))
        );
        assert_eq!(
            named(
                EndpointId::GhlAppInstall,
                json!({"type": "INSTALL", "contactId": "g1"})
            ),
            (None, None)
        );
        let long = "9".repeat(MAX_LOGGED_ID_CHARS + 1);
        assert_eq!(
            named(EndpointId::CloudtalkCallEnded, json!({"contact_id": long})),
            (None, None)
        );
    }

    #[test]
    fn bodies_that_are_refused() {
        let malformed = |b: &[u8]| matches!(parse_body(b), Err(PayloadError::Malformed(_)));
        assert!(malformed(b""));
        assert!(malformed(b"  \n"));
        assert!(malformed(b"{not json"));
        assert!(malformed(b"[1,2]"));
        assert!(malformed(b"\"text\""));
        assert!(malformed(&[0xff, 0xfe, b'{', b'}']));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(malformed(format!("{{\"a\":{deep}}}").as_bytes()));
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        assert!(matches!(
            parse_body(big.as_bytes()),
            Err(PayloadError::TooLarge { .. })
        ));
        assert!(parse_body(br#"{"contact":{"id":"1"}}"#).is_ok());
    }
}
