//! Texts as they arrive: GHL's provider delivery (a text a GHL user or workflow sends) and
//! CloudTalk's workflow "SMS received" (a text a contact sent to one of the account's numbers).

use serde_json::Value;

use super::cloudtalk::{unwrap_envelope, MAX_ID_CHARS};
use super::fields::{find, find_id, find_string, scalar_string};
use super::PayloadError;

/// A text GHL asks its SMS provider to deliver (the "Conversation Provider - Outbound Message"
/// webhook): `{contactId, locationId, messageId, type: "SMS", phone, message, attachments,
/// userId}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsDelivery {
    pub message_id: String,
    pub contact_id: String,
    pub location_id: Option<String>,
    /// The number GHL shows for the contact (a claim: the bridge texts a number GHL holds).
    pub phone: Option<String>,
    pub message: String,
    pub attachments: Vec<String>,
    /// The GHL user who sent it (none for a workflow or a bulk action).
    pub user_id: Option<String>,
}

fn long_id(name: &str, id: &str) -> Result<(), PayloadError> {
    match id.len() > MAX_ID_CHARS {
        true => Err(PayloadError::Malformed(format!(
            "{name} is longer than {MAX_ID_CHARS} characters"
        ))),
        false => Ok(()),
    }
}

fn attachments(root: &Value) -> Vec<String> {
    find(root, &["attachments"])
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(scalar_string).collect())
        .unwrap_or_default()
}

pub fn parse_sms_delivery(body: &Value) -> Result<SmsDelivery, PayloadError> {
    let kind = find_string(body, &["type"]).unwrap_or_default();
    if !kind.eq_ignore_ascii_case("sms") {
        return Err(PayloadError::Invalid(format!(
            "the SMS provider delivers texts only (type SMS), not {:?}",
            super::fields::clip(&kind, 32)
        )));
    }
    let message_id = find_id(body, &["messageId"])
        .ok_or_else(|| PayloadError::missing_fields("the message", &["messageId"]))?;
    let contact_id = find_id(body, &["contactId"])
        .ok_or_else(|| PayloadError::missing_fields("the contact", &["contactId"]))?;
    long_id("messageId", &message_id)?;
    long_id("contactId", &contact_id)?;
    let message = find_string(body, &["message"]).unwrap_or_default();
    let attachments = attachments(body);
    if message.trim().is_empty() && attachments.is_empty() {
        return Err(PayloadError::missing_fields(
            "the text",
            &["message", "attachments"],
        ));
    }
    Ok(SmsDelivery {
        message_id,
        contact_id,
        location_id: find_id(body, &["locationId"]),
        phone: find_string(body, &["phone"]),
        message,
        attachments,
        user_id: find_id(body, &["userId"]),
    })
}

/// A text a contact sent to one of the account's numbers (CloudTalk's workflow "SMS
/// received", or the signed envelope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedSms {
    pub sms_id: Option<String>,
    /// The contact's number, as sent.
    pub from: String,
    /// The account's number it was sent to.
    pub to: Option<String>,
    pub text: String,
    /// When it was received (RFC 3339), when the workflow says.
    pub date: Option<String>,
    pub cloudtalk_contact_id: Option<String>,
}

pub fn parse_sms_received(body: &Value) -> Result<ReceivedSms, PayloadError> {
    let root = unwrap_envelope(body);
    let from = find_string(
        root,
        &[
            "external_number",
            "from",
            "sender",
            "contact.phone",
            "phone_number",
        ],
    )
    .ok_or_else(|| {
        PayloadError::missing_fields("the sender's number", &["external_number", "from"])
    })?;
    let text = find_string(root, &["text", "message", "body", "sms_text"]).unwrap_or_default();
    let sms_id = find_id(root, &["sms_id", "smsId", "message_id", "id"]);
    if let Some(id) = &sms_id {
        long_id("sms_id", id)?;
    }
    Ok(ReceivedSms {
        sms_id,
        from,
        to: find_string(root, &["internal_number", "to", "recipient"]),
        text,
        date: find_string(root, &["date", "created_at", "received_at"]),
        cloudtalk_contact_id: find_id(root, &["contact_id", "contact.id"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_provider_delivery_is_read() {
        let body = json!({"contactId": "c1", "locationId": "loc", "messageId": "m1",
            "type": "SMS", "phone": "+393331234567", "message": "Ciao", "attachments": [],
            "userId": "u1"});
        let d = parse_sms_delivery(&body).unwrap();
        assert_eq!((d.message_id.as_str(), d.contact_id.as_str()), ("m1", "c1"));
        assert_eq!(d.user_id.as_deref(), Some("u1"));
        let email = json!({"contactId": "c1", "messageId": "m1", "type": "Email", "message": "x"});
        assert!(parse_sms_delivery(&email).is_err());
        let empty = json!({"contactId": "c1", "messageId": "m1", "type": "SMS", "message": " "});
        assert!(matches!(
            parse_sms_delivery(&empty),
            Err(PayloadError::Missing { .. })
        ));
    }

    #[test]
    fn a_received_text_is_read_from_the_workflow_and_the_envelope() {
        let workflow = json!({"sms_id": "s1", "external_number": 393331234567i64,
            "internal_number": "+442039960000", "text": "STOP"});
        let r = parse_sms_received(&workflow).unwrap();
        assert_eq!(r.from, "393331234567");
        assert_eq!(r.sms_id.as_deref(), Some("s1"));
        let envelope = json!({"event_id": "e1", "type": "sms.received",
            "data": {"from": "+393331234567", "message": "Ciao"}});
        assert_eq!(parse_sms_received(&envelope).unwrap().text, "Ciao");
        assert!(parse_sms_received(&json!({"text": "x"})).is_err());
    }
}
