//! GoHighLevel Conversations, under `/ghl/conversations`: a contact's conversation, the Call
//! messages a Call conversation provider adds to it, and the texts of an SMS provider.
//!
//! - `GET /conversations/search?locationId&contactId`, `POST /conversations/`;
//! - `POST /conversations/messages/inbound` | `/outbound` with `type: Call`: needs
//!   `conversationProviderId` and `call`; `altId` is kept, so the message can be found again;
//! - `POST /conversations/messages/inbound` with `type: SMS` (a text the contact sent): needs
//!   `contactId` (a contact the sandbox holds: else 422 `Contact not found`), `conversationId`
//!   (that contact's: else 422), `conversationProviderId`, and `message` or `attachments`;
//!   `direction` is `inbound` unless the body says `outbound`; `date` is kept as the
//!   message's `dateAdded`; answers `{success, conversationId, messageId, message, contactId,
//!   dateAdded}` (`ProcessMessageResponseDto`);
//! - `PUT /conversations/messages/{id}/status` (`UpdateMessageStatusDto`: `status` one of
//!   `delivered`, `failed`, `pending`, `read`, optionally the provider's `error` `{code, type,
//!   message}`): the message's status, every one kept in its `statusHistory` (state only);
//!   answers `{conversationId, messageId, status}` (`SendMessageResponseDto`), 404 for an
//!   unknown message;
//! - `PUT /conversations/messages/{id}/attachments`: **replaces** the message's attachments;
//! - `GET /conversations/messages/{id}` (`type` 1 and `TYPE_CALL` for a call, 2 and `TYPE_SMS`
//!   for a text, with its `status` once it has one).
//!
//! A text a user sends from GHL (`POST /sandbox/ghl/send-sms`, `sms_control.rs`) is an
//! outbound SMS message with status `pending` ([`add_outbound_sms`]), in the contact's
//! conversation (created when it has none).

use serde_json::{json, Value};

use super::api::{text, texts, Call, Outcome, Reply};
use super::ghl_common::{require_fields, unprocessable};
use super::sms::StatusChange;
use super::state::{now, now_millis, Conversation, GhlContact, Message, State};

/// The statuses a provider may set (`UpdateMessageStatusDto.status`).
const STATUSES: &[&str] = &["delivered", "failed", "pending", "read"];

fn not_found(what: &str) -> (u16, Value) {
    (
        404,
        json!({"statusCode": 404, "message": format!("{what} not found"), "error": "Not Found"}),
    )
}

pub(crate) fn search(call: &mut Call) -> Outcome {
    let location = call.req.query("locationId").unwrap_or_default().to_string();
    if location.is_empty() {
        return Err(unprocessable(&["locationId should not be empty"]));
    }
    let contact = call.req.query("contactId").map(str::to_string);
    let found: Vec<Value> = call
        .state
        .conversations
        .iter()
        .filter(|c| c.location_id == location)
        .filter(|c| contact.as_ref().is_none_or(|id| &c.contact_id == id))
        .map(|c| row(call.state, c))
        .collect();
    Ok((200, json!({"conversations": found, "total": found.len()})))
}

/// A conversation as search lists it (`ConversationSchema`): with its contact's name, email
/// and phone (empty when the contact has none) and its last message.
fn row(state: &State, conversation: &Conversation) -> Value {
    let contact = state.ghl_contacts.get(&conversation.contact_id);
    let text = |f: fn(&GhlContact) -> Option<String>| contact.and_then(f).unwrap_or_default();
    let name = text(|c| {
        c.name.clone().or_else(|| {
            let parts: Vec<&str> = [c.first_name.as_deref(), c.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
    });
    let last = state
        .messages
        .iter()
        .rev()
        .find(|m| m.conversation_id == conversation.id);
    let mut row = json!(conversation);
    row["lastMessageBody"] = json!(last.and_then(|m| m.body.clone()).unwrap_or_default());
    row["lastMessageType"] = json!(last.map_or("TYPE_ACTIVITY_CONTACT", |m| message_type(m)));
    row["type"] = json!("TYPE_PHONE");
    row["unreadCount"] = json!(0);
    row["fullName"] = json!(name);
    row["contactName"] = json!(name);
    row["email"] = json!(text(|c| c.email.clone()));
    row["phone"] = json!(text(|c| c.phone.clone()));
    row
}

/// GHL's message type name for a message the sandbox keeps.
fn message_type(message: &Message) -> &'static str {
    match message.kind.as_str() {
        "Call" => "TYPE_CALL",
        "IVR_Call" => "TYPE_IVR_CALL",
        "SMS" => "TYPE_SMS",
        _ => "TYPE_CUSTOM_CALL",
    }
}

/// GHL's numeric message type: 2 for a text, 1 for a call.
fn message_type_number(message: &Message) -> u8 {
    match message.kind.as_str() {
        "SMS" => 2,
        _ => 1,
    }
}

/// A new conversation of the contact in `location`, held.
fn new_conversation(state: &mut State, location: &str, contact: &str) -> Conversation {
    let created = now_millis();
    let conversation = Conversation {
        id: state.ghl_id("conv"),
        location_id: location.to_string(),
        contact_id: contact.to_string(),
        date_added: created.clone(),
        date_updated: created.clone(),
        last_message_date: created,
        deleted: false,
    };
    state.conversations.push(conversation.clone());
    conversation
}

pub(crate) fn create(call: &mut Call) -> Outcome {
    require_fields(call, &["locationId", "contactId"])?;
    let contact = call.field("contactId").unwrap_or_default();
    if !call.state.ghl_contacts.contains_key(&contact) {
        return Err(unprocessable(&["Contact not found"]));
    }
    let location = call.field("locationId").unwrap_or_default();
    if let Some(existing) = call
        .state
        .conversations
        .iter()
        .find(|c| c.contact_id == contact && c.location_id == location)
    {
        let message = "Conversation already exists";
        return Err((
            400,
            json!({"statusCode": 400, "message": message, "conversationId": existing.id}),
        ));
    }
    let conversation = new_conversation(call.state, &location, &contact);
    Ok((201, json!({"success": true, "conversation": conversation})))
}

pub(crate) fn add_message(call: &mut Call) -> Outcome {
    let direction = call.param("direction");
    if direction != "inbound" && direction != "outbound" {
        return Err(not_found("Route"));
    }
    let kind = call.field("type").unwrap_or_default();
    require_fields(call, &["type", "conversationProviderId"])?;
    if kind == "Call" && !call.data.get("call").is_some_and(Value::is_object) {
        return Err(unprocessable(&["call must be an object for type Call"]));
    }
    let sms = kind == "SMS";
    if sms {
        check_sms(call)?;
    }
    let conversation = message_conversation(call)?;
    let direction = match call.field("direction").as_deref() {
        Some(d @ ("inbound" | "outbound")) if sms => d.to_string(),
        _ => direction,
    };
    let date = text(call.data.get("date")).filter(|_| sms).and_then(|d| {
        let parsed = chrono::DateTime::parse_from_rfc3339(&d).ok()?;
        Some(super::state::millis_iso(parsed.timestamp_millis()))
    });
    let message = Message {
        id: call.state.ghl_id("msg"),
        conversation_id: conversation.id.clone(),
        contact_id: conversation.contact_id.clone(),
        kind,
        direction: direction.clone(),
        conversation_provider_id: call.field("conversationProviderId"),
        alt_id: call.field("altId"),
        body: call.field("message"),
        call: call.data.get("call").cloned().unwrap_or(Value::Null),
        attachments: texts(call.data.get("attachments")),
        date_added: date.unwrap_or_else(now),
        status: None,
        status_history: Vec::new(),
        user_id: None,
    };
    call.say(format!(
        "GHL ← {} {} message on {} (altId {})",
        direction,
        message.kind,
        message.contact_id,
        message.alt_id.as_deref().unwrap_or("-")
    ));
    call.state.messages.push(message.clone());
    Ok((
        200,
        json!({"success": true, "conversationId": message.conversation_id,
            "messageId": message.id, "message": "Message queued successfully.",
            "contactId": message.contact_id, "dateAdded": message.date_added}),
    ))
}

/// A text needs a contact the sandbox holds, its conversation, and a message or attachments.
fn check_sms(call: &Call) -> Result<(), Reply> {
    require_fields(call, &["contactId", "conversationId"])?;
    let contact = call.field("contactId").unwrap_or_default();
    if !call.state.ghl_contacts.contains_key(&contact) {
        return Err(unprocessable(&["Contact not found"]));
    }
    let conversation = call.field("conversationId").unwrap_or_default();
    let held = call
        .state
        .conversations
        .iter()
        .find(|c| c.id == conversation);
    if held.is_some_and(|c| c.contact_id != contact) {
        return Err(unprocessable(&[
            "conversationId is not the contact's conversation",
        ]));
    }
    let attachments = texts(call.data.get("attachments"));
    if call.field("message").is_none() && attachments.is_empty() {
        return Err(unprocessable(&[
            "message or attachments should not be empty",
        ]));
    }
    Ok(())
}

/// The conversation a message goes to (the body's, else the contact's), its last message
/// date moved to now.
fn message_conversation(call: &mut Call) -> Result<Conversation, Reply> {
    let conversation_id = match call.field("conversationId") {
        Some(id) => id,
        None => {
            let contact = call.field("contactId").unwrap_or_default();
            call.state
                .conversations
                .iter()
                .find(|c| c.contact_id == contact)
                .map(|c| c.id.clone())
                .ok_or_else(|| unprocessable(&["conversationId should not be empty"]))?
        }
    };
    let Some(conversation) = call
        .state
        .conversations
        .iter_mut()
        .find(|c| c.id == conversation_id)
    else {
        return Err(not_found("Conversation"));
    };
    let added = now_millis();
    conversation.date_updated = added.clone();
    conversation.last_message_date = added;
    Ok(conversation.clone())
}

/// A text a user sends from GHL to `contact` (in `location`), to be delivered by the SMS
/// provider: an outbound SMS message, status `pending`, in the contact's conversation (created
/// when it has none).
pub(crate) fn add_outbound_sms(
    state: &mut State,
    location: &str,
    contact: &str,
    body: Option<String>,
    attachments: Vec<String>,
    user_id: Option<String>,
) -> Message {
    let held = state
        .conversations
        .iter()
        .position(|c| c.contact_id == contact && c.location_id == location);
    let index = match held {
        Some(index) => index,
        None => {
            new_conversation(state, location, contact);
            state.conversations.len() - 1
        }
    };
    let added = now_millis();
    let conversation = &mut state.conversations[index];
    conversation.date_updated = added.clone();
    conversation.last_message_date = added.clone();
    let conversation_id = conversation.id.clone();
    let message = Message {
        id: state.ghl_id("msg"),
        conversation_id,
        contact_id: contact.to_string(),
        kind: "SMS".into(),
        direction: "outbound".into(),
        conversation_provider_id: None,
        alt_id: None,
        body,
        call: Value::Null,
        attachments,
        date_added: added.clone(),
        status: Some("pending".into()),
        status_history: vec![StatusChange {
            status: "pending".into(),
            error: None,
            date: added,
        }],
        user_id,
    };
    state.messages.push(message.clone());
    message
}

/// `PUT /conversations/messages/{id}/status`: see the module's documentation.
pub(crate) fn set_status(call: &mut Call) -> Outcome {
    let id = call.param("id");
    let status = call.field("status").unwrap_or_default();
    if !STATUSES.contains(&status.as_str()) {
        let problem = format!(
            "status must be one of the following values: {}",
            STATUSES.join(", ")
        );
        return Err(unprocessable(&[problem]));
    }
    let error = call.data.get("error").filter(|e| e.is_object()).cloned();
    let message = call.state.messages.iter_mut().find(|m| m.id == id);
    let message = message.ok_or_else(|| not_found("Message"))?;
    message.status = Some(status.clone());
    message.status_history.push(StatusChange {
        status: status.clone(),
        error,
        date: now_millis(),
    });
    let conversation = message.conversation_id.clone();
    call.say(format!("GHL ← message {id} is {status}"));
    Ok((
        200,
        json!({"conversationId": conversation, "messageId": id, "status": status}),
    ))
}

pub(crate) fn get_message(call: &mut Call) -> Outcome {
    let id = call.param("id");
    let message = call.state.messages.iter().find(|m| m.id == id);
    let message = message.ok_or_else(|| not_found("Message"))?;
    let location = call
        .state
        .conversations
        .iter()
        .find(|c| c.id == message.conversation_id)
        .map(|c| c.location_id.clone())
        .unwrap_or_default();
    // The message itself, as GHL answers it (`GetMessageResponseDto`): `type` is GHL's
    // numeric message type (1 for a call, 2 for a text), `messageType` its name.
    let mut answer = json!(message);
    answer["type"] = json!(message_type_number(message));
    answer["messageType"] = json!(message_type(message));
    answer["locationId"] = json!(location);
    answer["contentType"] = json!("text/plain");
    if let Some(object) = answer.as_object_mut() {
        object.retain(|_, v| !v.is_null());
        object.remove("statusHistory");
    }
    Ok((200, answer))
}

pub(crate) fn set_attachments(call: &mut Call) -> Outcome {
    let id = call.param("id");
    let Some(urls) = call.data.get("attachments").and_then(Value::as_array) else {
        return Err(unprocessable(&["attachments must be an array"]));
    };
    let urls: Vec<String> = urls
        .iter()
        .filter_map(|u| u.as_str().map(str::to_string))
        .collect();
    let message = call.state.messages.iter_mut().find(|m| m.id == id);
    let message = message.ok_or_else(|| not_found("Message"))?;
    message.attachments = urls;
    let count = message.attachments.len();
    call.say(format!("GHL ← {count} attachment(s) on message {id}"));
    Ok((200, json!({"success": true})))
}
