//! GoHighLevel Conversations, under `/ghl/conversations`: a contact's conversation and the
//! Call messages a Call conversation provider adds to it.
//!
//! - `GET /conversations/search?locationId&contactId`, `POST /conversations/`;
//! - `POST /conversations/messages/inbound` | `/outbound` with `type: Call`: needs
//!   `conversationProviderId` and `call`; `altId` is kept, so the message can be found again;
//! - `PUT /conversations/messages/{id}/attachments`: **replaces** the message's attachments;
//! - `GET /conversations/messages/{id}`.

use serde_json::{json, Value};

use super::api::{texts, Call, Outcome};
use super::ghl_common::{require_fields, unprocessable};
use super::state::{now, now_millis, Conversation, GhlContact, Message, State};

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
        _ => "TYPE_CUSTOM_CALL",
    }
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
    let created = now_millis();
    let conversation = Conversation {
        id: call.state.ghl_id("conv"),
        location_id: location,
        contact_id: contact,
        date_added: created.clone(),
        date_updated: created.clone(),
        last_message_date: created,
        deleted: false,
    };
    call.state.conversations.push(conversation.clone());
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
    let conversation = conversation.clone();
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
        date_added: now(),
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
            "messageId": message.id, "message": "Message queued successfully."}),
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
    // numeric message type (1 for a call), `messageType` its name.
    let mut answer = json!(message);
    answer["type"] = json!(1);
    answer["messageType"] = json!(message_type(message));
    answer["locationId"] = json!(location);
    answer["contentType"] = json!("text/plain");
    if let Some(object) = answer.as_object_mut() {
        object.retain(|_, v| !v.is_null());
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
