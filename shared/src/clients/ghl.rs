//! GoHighLevel API v2 client (`https://services.leadconnectorhq.com`).
//!
//! Bearer token (a Private Integration Token or a location OAuth token), the `Version` header
//! each endpoint's spec enumerates (`2021-07-28` for contacts, opportunities and locations), and
//! error bodies whose `message` is a string or an array of strings.

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};

use super::rest::{Auth, Dialect, RateLimitHeaders, RestClient};
use super::{FoundId, Service, UpstreamError};
use crate::payload::fields::{id_string, scalar_string};

/// `Version` header for contacts, opportunities, locations and custom fields.
pub const VERSION_2021_07_28: &str = "2021-07-28";
/// `Version` header of the conversations endpoints.
pub const VERSION_2021_04_15: &str = "2021-04-15";

/// An external call as a message of the contact's conversation, sent through the Marketplace
/// app's Call conversation provider (`POST /conversations/messages/inbound` or `/outbound`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallMessage {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub conversation_id: String,
    pub contact_id: String,
    pub conversation_provider_id: String,
    /// `inbound` or `outbound`.
    pub direction: &'static str,
    /// Outcome, duration and agent: GHL has no duration field for external calls.
    pub message: Option<String>,
    /// The CloudTalk call id, so the message can be found again.
    pub alt_id: String,
    pub date: Option<String>,
    pub call: CallDetails,
    pub attachments: Vec<String>,
}

/// The outcome of a text the bridge delivers as GHL's SMS provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageStatus {
    /// `delivered` or `failed` (GHL's `pending` and `read` are not the bridge's to say).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<MessageError>,
}

/// Why a text failed, as GHL shows it on the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageError {
    pub code: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub message: String,
}

impl MessageStatus {
    pub fn delivered() -> Self {
        Self {
            status: "delivered",
            error: None,
        }
    }

    /// Failed with `code` (the bridge's rule or CloudTalk's status) and the reason.
    pub fn failed(code: &str, message: &str) -> Self {
        Self {
            status: "failed",
            error: Some(MessageError {
                code: code.to_string(),
                kind: "saas",
                message: message.to_string(),
            }),
        }
    }
}

/// A text received in CloudTalk, for a contact's GHL conversation.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundSms {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub conversation_id: String,
    pub contact_id: String,
    pub conversation_provider_id: String,
    pub message: String,
    pub direction: &'static str,
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
}

/// A text of a conversation, as the messages list gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationText {
    pub id: String,
    pub body: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    pub date_added: Option<String>,
}

fn conversation_text(m: &Value) -> Option<ConversationText> {
    Some(ConversationText {
        id: m.get("id").and_then(id_string)?,
        body: m.get("body").and_then(scalar_string).unwrap_or_default(),
        direction: m
            .get("direction")
            .and_then(scalar_string)
            .unwrap_or_default(),
        date_added: m.get("dateAdded").and_then(scalar_string),
    })
}

/// `call` of a [`CallMessage`].
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallDetails {
    pub to: Option<String>,
    pub from: Option<String>,
    /// `completed`, `answered`, `busy`, `no-answer`, `failed`, `canceled`, `voicemail`…
    pub status: &'static str,
}

/// Body of `POST /contacts/upsert`. `tags` replace the contact's tags on upsert, so they are
/// added separately with [`GhlApi::add_tags`].
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GhlContactInput {
    pub location_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_name: Option<String>,
    pub source: Option<String>,
    /// The contact's owner (a user id), for a contact the bridge creates.
    pub assigned_to: Option<String>,
}

/// A contact as GoHighLevel returns it.
pub type GhlContactRecord = super::ContactRecord;

/// A user of the location.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GhlUser {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// A task on a contact (`POST /contacts/{id}/tasks`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskInput {
    pub title: String,
    pub body: Option<String>,
    /// RFC 3339.
    pub due_date: String,
    pub completed: bool,
    pub assigned_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Opportunity {
    pub id: String,
    pub pipeline_id: Option<String>,
    pub pipeline_stage_id: Option<String>,
    pub status: Option<String>,
    pub name: Option<String>,
    /// `monetaryValue`, in the location's currency.
    pub monetary_value: Option<f64>,
}

/// A note on a GHL contact, as `GET /contacts/{id}/notes` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GhlNote {
    pub id: String,
    pub body: String,
    /// `dateAdded` as GHL gives it (ISO 8601).
    pub date_added: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PipelineStage {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub id: String,
    pub name: String,
    pub stages: Vec<PipelineStage>,
}

/// A location custom value (`{{custom_values.<key>}}` in GHL workflows and templates).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomValue {
    pub id: String,
    pub name: String,
    pub value: Option<String>,
}

/// A custom field of a location (`GET /locations/{locationId}/customFields`): what a setting
/// naming a field id (`GHL_FIELD_LAST_CALL_*`, `CALL_RATING_FIELD`, …) must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomField {
    pub id: String,
    pub name: String,
    /// `contact.<key>`, as merge fields name it.
    pub field_key: Option<String>,
    /// `contact` or `opportunity`.
    pub model: Option<String>,
}

/// A contact found by `POST /contacts/search`, with when it last changed and the cursor that
/// continues the search after it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchedContact {
    pub record: GhlContactRecord,
    /// `dateUpdated` as GHL gives it (ISO 8601).
    pub date_updated: Option<String>,
    /// The contact's own `searchAfter`: pass it to read the next page.
    pub search_after: Option<Value>,
}

/// A contact search: a location's contacts sorted by `dateUpdated`, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactQuery<'a> {
    pub location_id: &'a str,
    /// Only contacts updated at or after this (`range` `gte`; epoch ms or an ISO string, as
    /// `GHL_SEARCH_DATE_FORMAT` says).
    pub updated_since: Option<Value>,
    /// The cursor of the last contact of the previous page.
    pub search_after: Option<Value>,
    /// Contacts a page (GHL allows up to 500; 100 is its default).
    pub limit: u32,
}

impl ContactQuery<'_> {
    /// The request body.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "locationId": self.location_id,
            "pageLimit": self.limit.clamp(1, 500),
            "sort": [{"field": "dateUpdated", "direction": "asc"}],
        });
        if let Some(since) = &self.updated_since {
            body["filters"] =
                json!([{"field": "dateUpdated", "operator": "range", "value": {"gte": since}}]);
        }
        if let Some(cursor) = &self.search_after {
            body["searchAfter"] = cursor.clone();
        }
        body
    }
}

/// What the bridge needs from GoHighLevel.
#[async_trait]
pub trait GhlApi: Send + Sync {
    /// `GET /contacts/search/duplicate`: the contact matching the phone (E.164) or email.
    async fn find_duplicate(
        &self,
        location_id: &str,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> Result<Option<GhlContactRecord>, UpstreamError>;
    /// `POST /contacts/upsert`: returns the contact id and whether it was new.
    async fn upsert_contact(
        &self,
        contact: &GhlContactInput,
    ) -> Result<(String, bool), UpstreamError>;
    async fn get_contact(&self, contact_id: &str) -> Result<GhlContactRecord, UpstreamError>;
    /// `PUT /contacts/{id}` with the given fields (never `locationId`).
    async fn update_contact(&self, contact_id: &str, fields: &Value) -> Result<(), UpstreamError>;
    /// `POST /contacts/{id}/notes`, attributed to `user_id` when given.
    async fn add_note(
        &self,
        contact_id: &str,
        body: &str,
        user_id: Option<&str>,
    ) -> Result<String, UpstreamError>;
    /// The location's users (`GET /users/?locationId=`).
    async fn location_users(&self, location_id: &str) -> Result<Vec<GhlUser>, UpstreamError>;
    /// `POST /contacts/{id}/tasks`: the new task's id.
    async fn create_task(
        &self,
        contact_id: &str,
        task: &TaskInput,
    ) -> Result<String, UpstreamError>;
    /// The id of the contact's task whose body holds `marker` (`GET /contacts/{id}/tasks`).
    async fn find_task(&self, contact_id: &str, marker: &str) -> FoundId;
    /// `PUT /contacts/{id}/tasks/{taskId}/completed` with `{"completed": true}`.
    async fn complete_task(&self, contact_id: &str, task_id: &str) -> Result<(), UpstreamError>;
    /// The id of the contact's note whose body holds `marker` (`GET /contacts/{id}/notes`).
    async fn find_note(&self, contact_id: &str, marker: &str) -> FoundId;
    /// The contact's notes (`GET /contacts/{id}/notes`), as GHL lists them.
    async fn list_notes(&self, contact_id: &str) -> Result<Vec<GhlNote>, UpstreamError>;
    /// `POST /contacts/{id}/tags`: appends, the contact's other tags are kept.
    async fn add_tags(&self, contact_id: &str, tags: &[String]) -> Result<(), UpstreamError>;
    async fn search_opportunities(
        &self,
        location_id: &str,
        contact_id: &str,
        pipeline_id: Option<&str>,
    ) -> Result<Vec<Opportunity>, UpstreamError>;
    async fn update_opportunity_stage(
        &self,
        opportunity_id: &str,
        pipeline_id: &str,
        stage_id: &str,
    ) -> Result<(), UpstreamError>;
    async fn create_opportunity(
        &self,
        location_id: &str,
        contact_id: &str,
        pipeline_id: &str,
        stage_id: &str,
        name: &str,
    ) -> Result<String, UpstreamError>;
    async fn list_pipelines(&self, location_id: &str) -> Result<Vec<Pipeline>, UpstreamError>;
    /// The contact's conversation: found by `GET /conversations/search`, else created.
    async fn conversation_of(
        &self,
        location_id: &str,
        contact_id: &str,
    ) -> Result<String, UpstreamError>;
    /// Adds an external call to a conversation; the message id.
    async fn add_call_message(&self, message: &CallMessage) -> Result<String, UpstreamError>;
    /// Replaces a message's attachments (`PUT /conversations/messages/{id}/attachments`).
    async fn set_attachments(&self, message_id: &str, urls: &[String])
        -> Result<(), UpstreamError>;
    /// Reports what became of a message the bridge delivers as the app's provider (`PUT
    /// /conversations/messages/{id}/status`: `delivered`, `failed` with the reason, …).
    async fn set_message_status(
        &self,
        message_id: &str,
        status: &MessageStatus,
    ) -> Result<(), UpstreamError>;
    /// A message's status (`GET /conversations/messages/{id}`): `pending`, `delivered`, …;
    /// `None` when GHL has no such message.
    async fn message_status(&self, message_id: &str) -> Result<Option<String>, UpstreamError>;
    /// Adds a received text to a conversation (`POST /conversations/messages/inbound`, `type:
    /// SMS`); the message id.
    async fn add_inbound_sms(&self, message: &InboundSms) -> Result<String, UpstreamError>;
    /// The latest texts of a conversation (`GET /conversations/{id}/messages?type=TYPE_SMS`,
    /// one page of 20), newest first.
    async fn recent_texts(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<ConversationText>, UpstreamError>;
    /// One page of `POST /contacts/search` (see [`ContactQuery`]).
    async fn search_contacts(
        &self,
        query: &ContactQuery<'_>,
    ) -> Result<Vec<SearchedContact>, UpstreamError>;
    async fn list_custom_values(
        &self,
        location_id: &str,
    ) -> Result<Vec<CustomValue>, UpstreamError>;
    /// The location's custom fields, of contacts and opportunities (`GET
    /// /locations/{locationId}/customFields?model=all`; a read, with the token's
    /// `locations/customFields.readonly` scope). `bridge doctor` checks the settings naming one.
    async fn list_custom_fields(
        &self,
        location_id: &str,
    ) -> Result<Vec<CustomField>, UpstreamError>;
    async fn create_custom_value(
        &self,
        location_id: &str,
        name: &str,
        value: &str,
    ) -> Result<String, UpstreamError>;
    async fn update_custom_value(
        &self,
        location_id: &str,
        id: &str,
        name: &str,
        value: &str,
    ) -> Result<(), UpstreamError>;
}

/// GoHighLevel's REST dialect: Bearer token with the `Version` header, the `X-RateLimit-*`
/// interval headers, and error bodies whose `message` is a string or a list.
#[derive(Debug, Clone, Copy, Default)]
pub struct GhlDialect;

impl Dialect for GhlDialect {
    const SERVICE: Service = Service::GoHighLevel;
    const AUTH: Auth = Auth::GhlToken {
        version: VERSION_2021_07_28,
    };
    const RATE_LIMIT: RateLimitHeaders = RateLimitHeaders::Interval;

    /// `message` is a string or an array of strings; `error` is the fallback, then the reason.
    fn error_message(body: &Value, status: StatusCode) -> String {
        let text = match body.get("message") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(scalar_string)
                .collect::<Vec<_>>()
                .join("; "),
            Some(other) => scalar_string(other).unwrap_or_default(),
            None => String::new(),
        };
        if !text.is_empty() {
            return text;
        }
        body.get("error")
            .and_then(scalar_string)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string())
    }
}

/// The reqwest implementation of [`GhlApi`]: the REST core speaking GoHighLevel.
pub type GhlClient = RestClient<GhlDialect>;

pub(crate) fn parse_contact(value: &Value) -> Option<GhlContactRecord> {
    let id = value.get("id").and_then(id_string)?;
    let name = value.get("name").and_then(scalar_string).or_else(|| {
        let parts: Vec<String> = ["firstName", "lastName"]
            .iter()
            .filter_map(|k| value.get(*k).and_then(scalar_string))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    let many = |main: &str, more: &str| -> Vec<String> {
        let mut all: Vec<String> = value
            .get(main)
            .and_then(scalar_string)
            .into_iter()
            .collect();
        let extra = value
            .get(more)
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        all.extend(extra.filter_map(scalar_string));
        all
    };
    Some(GhlContactRecord {
        id,
        name,
        emails: many("email", "additionalEmails"),
        phones: many("phone", "additionalPhones"),
        tags: value
            .get("tags")
            .map(crate::payload::fields::tag_list)
            .unwrap_or_default(),
        company: value.get("companyName").and_then(scalar_string),
        owner: value.get("assignedTo").and_then(scalar_string),
        source: value.get("source").and_then(scalar_string),
        location_id: value.get("locationId").and_then(id_string),
        consent: consent(value),
    })
}

/// A contact's `dnd` and `dndSettings.Call` (a `dnd` sent as the text `"true"` counts too).
pub(crate) fn consent(value: &Value) -> crate::clients::Consent {
    let dnd_all = match value.get("dnd") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    };
    let call_status = value
        .pointer("/dndSettings/Call/status")
        .and_then(scalar_string);
    let sms_status = value
        .pointer("/dndSettings/SMS/status")
        .and_then(scalar_string);
    let blocked = |status: &Value| {
        let status = status.get("status").and_then(scalar_string);
        status.is_some_and(|s| {
            s.eq_ignore_ascii_case("active") || s.eq_ignore_ascii_case("permanent")
        })
    };
    let blocked_channels = value
        .get("dndSettings")
        .and_then(Value::as_object)
        .map(|channels| {
            let mut names: Vec<String> = channels
                .iter()
                .filter(|(_, setting)| blocked(setting))
                .map(|(channel, _)| channel.clone())
                .collect();
            names.sort();
            names
        })
        .unwrap_or_default();
    crate::clients::Consent {
        dnd_all,
        call_status,
        sms_status,
        blocked_channels,
    }
}

/// `/{segment}/…`, each segment (an id included) percent-encoded.
fn path(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|segment| format!("/{}", urlencoding::encode(segment)))
        .collect()
}

/// The items of the list under `key` that `item` can read.
fn list<T>(value: &Value, key: &str, item: impl Fn(&Value) -> Option<T>) -> Vec<T> {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(|rows| rows.iter().filter_map(item).collect())
        .unwrap_or_default()
}

fn opportunity(o: &Value) -> Option<Opportunity> {
    Some(Opportunity {
        id: o.get("id").and_then(id_string)?,
        pipeline_id: o.get("pipelineId").and_then(id_string),
        pipeline_stage_id: o.get("pipelineStageId").and_then(id_string),
        status: o.get("status").and_then(scalar_string),
        name: o.get("name").and_then(scalar_string),
        monetary_value: o.get("monetaryValue").and_then(|v| match v {
            Value::String(s) => s.trim().parse().ok(),
            other => other.as_f64(),
        }),
    })
}

fn pipeline(p: &Value) -> Option<Pipeline> {
    let stages = list(p, "stages", |s| {
        Some(PipelineStage {
            id: s.get("id").and_then(id_string)?,
            name: s.get("name").and_then(scalar_string)?,
        })
    });
    Some(Pipeline {
        id: p.get("id").and_then(id_string)?,
        name: p.get("name").and_then(scalar_string).unwrap_or_default(),
        stages,
    })
}

fn custom_value(v: &Value) -> Option<CustomValue> {
    Some(CustomValue {
        id: v.get("id").and_then(id_string)?,
        name: v.get("name").and_then(scalar_string)?,
        value: v.get("value").and_then(scalar_string),
    })
}

fn custom_field(f: &Value) -> Option<CustomField> {
    Some(CustomField {
        id: f.get("id").and_then(id_string)?,
        name: f.get("name").and_then(scalar_string).unwrap_or_default(),
        field_key: f.get("fieldKey").and_then(scalar_string),
        model: f.get("model").and_then(scalar_string),
    })
}

#[async_trait]
impl GhlApi for GhlClient {
    async fn find_duplicate(
        &self,
        location_id: &str,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> Result<Option<GhlContactRecord>, UpstreamError> {
        let mut query = vec![("locationId", location_id)];
        query.extend(phone.map(|phone| ("number", phone)));
        query.extend(email.map(|email| ("email", email)));
        let value = self
            .get("duplicate search", "/contacts/search/duplicate", &query)
            .await?;
        Ok(value.get("contact").and_then(parse_contact))
    }

    async fn upsert_contact(
        &self,
        contact: &GhlContactInput,
    ) -> Result<(String, bool), UpstreamError> {
        let operation = "upsert contact";
        let value = self
            .write(operation, Method::POST, "/contacts/upsert", contact)
            .await?;
        let id = value.pointer("/contact/id").and_then(id_string);
        let id = Self::expect(operation, id, "contact.id")?;
        let new = value.get("new").and_then(Value::as_bool).unwrap_or(false);
        Ok((id, new))
    }

    async fn get_contact(&self, contact_id: &str) -> Result<GhlContactRecord, UpstreamError> {
        let path = path(&["contacts", contact_id]);
        let answer = self.get("get contact", &path, &[]).await?;
        let contact = answer.get("contact").and_then(parse_contact);
        Self::expect("get contact", contact, "contact")
    }

    async fn update_contact(&self, contact_id: &str, fields: &Value) -> Result<(), UpstreamError> {
        let path = path(&["contacts", contact_id]);
        self.write("update contact", Method::PUT, &path, fields)
            .await?;
        Ok(())
    }

    async fn add_note(
        &self,
        contact_id: &str,
        body: &str,
        user_id: Option<&str>,
    ) -> Result<String, UpstreamError> {
        let path = path(&["contacts", contact_id, "notes"]);
        let mut note = json!({ "body": crate::clients::notes::fit(body) });
        if let Some(user) = user_id {
            note["userId"] = json!(user);
        }
        let answer = self.write("add note", Method::POST, &path, &note).await?;
        let id = answer.pointer("/note/id").and_then(id_string);
        Self::expect("add note", id, "note.id")
    }

    async fn location_users(&self, location_id: &str) -> Result<Vec<GhlUser>, UpstreamError> {
        let value = self
            .get("list users", "/users/", &[("locationId", location_id)])
            .await?;
        let users = value.get("users").and_then(Value::as_array);
        Ok(users
            .into_iter()
            .flatten()
            .filter_map(|u| {
                let text = |k: &str| u.get(k).and_then(scalar_string);
                Some(GhlUser {
                    id: u.get("id").and_then(id_string)?,
                    name: text("name").or_else(|| {
                        let parts: Vec<String> = ["firstName", "lastName"]
                            .iter()
                            .filter_map(|k| text(k))
                            .collect();
                        (!parts.is_empty()).then(|| parts.join(" "))
                    }),
                    email: text("email"),
                })
            })
            .collect())
    }

    async fn create_task(
        &self,
        contact_id: &str,
        task: &TaskInput,
    ) -> Result<String, UpstreamError> {
        let path = path(&["contacts", contact_id, "tasks"]);
        let answer = self.write("create task", Method::POST, &path, task).await?;
        let id = answer.pointer("/task/id").and_then(id_string);
        Self::expect("create task", id, "task.id")
    }

    async fn find_task(&self, contact_id: &str, marker: &str) -> FoundId {
        let path = path(&["contacts", contact_id, "tasks"]);
        let value = self.get("list tasks", &path, &[]).await?;
        let tasks = value.get("tasks").and_then(Value::as_array);
        Ok(tasks.into_iter().flatten().find_map(|task| {
            let body = task.get("body").and_then(scalar_string)?;
            body.contains(marker)
                .then(|| task.get("id").and_then(id_string))
                .flatten()
        }))
    }

    async fn complete_task(&self, contact_id: &str, task_id: &str) -> Result<(), UpstreamError> {
        let path = path(&["contacts", contact_id, "tasks", task_id, "completed"]);
        let body = json!({ "completed": true });
        self.write("complete task", Method::PUT, &path, &body)
            .await?;
        Ok(())
    }

    async fn find_note(&self, contact_id: &str, marker: &str) -> FoundId {
        let path = path(&["contacts", contact_id, "notes"]);
        let value = self.get("list notes", &path, &[]).await?;
        let notes = value.get("notes").and_then(Value::as_array);
        Ok(notes.into_iter().flatten().find_map(|note| {
            let body = note.get("body").and_then(scalar_string)?;
            body.contains(marker)
                .then(|| note.get("id").and_then(id_string))
                .flatten()
        }))
    }

    async fn list_notes(&self, contact_id: &str) -> Result<Vec<GhlNote>, UpstreamError> {
        let path = path(&["contacts", contact_id, "notes"]);
        let value = self.get("list notes", &path, &[]).await?;
        Ok(list(&value, "notes", |n| {
            Some(GhlNote {
                id: n.get("id").and_then(id_string)?,
                body: n.get("body").and_then(scalar_string).unwrap_or_default(),
                date_added: n.get("dateAdded").and_then(scalar_string),
            })
        }))
    }

    async fn add_tags(&self, contact_id: &str, tags: &[String]) -> Result<(), UpstreamError> {
        let path = path(&["contacts", contact_id, "tags"]);
        let body = json!({ "tags": tags });
        self.write("add tags", Method::POST, &path, &body).await?;
        Ok(())
    }

    async fn search_opportunities(
        &self,
        location_id: &str,
        contact_id: &str,
        pipeline_id: Option<&str>,
    ) -> Result<Vec<Opportunity>, UpstreamError> {
        let mut query = vec![("location_id", location_id), ("contact_id", contact_id)];
        query.extend(pipeline_id.map(|id| ("pipeline_id", id)));
        let value = self
            .get("search opportunities", "/opportunities/search", &query)
            .await?;
        Ok(list(&value, "opportunities", opportunity))
    }

    async fn update_opportunity_stage(
        &self,
        opportunity_id: &str,
        pipeline_id: &str,
        stage_id: &str,
    ) -> Result<(), UpstreamError> {
        let path = path(&["opportunities", opportunity_id]);
        let body = json!({ "pipelineId": pipeline_id, "pipelineStageId": stage_id });
        self.write("update opportunity", Method::PUT, &path, &body)
            .await?;
        Ok(())
    }

    async fn create_opportunity(
        &self,
        location_id: &str,
        contact_id: &str,
        pipeline_id: &str,
        stage_id: &str,
        name: &str,
    ) -> Result<String, UpstreamError> {
        let body = json!({
            "locationId": location_id,
            "contactId": contact_id,
            "pipelineId": pipeline_id,
            "pipelineStageId": stage_id,
            "name": name,
            "status": "open",
        });
        let operation = "create opportunity";
        let value = self
            .write(operation, Method::POST, "/opportunities/", &body)
            .await?;
        let id = value.pointer("/opportunity/id").and_then(id_string);
        Self::expect(operation, id, "opportunity.id")
    }

    async fn list_pipelines(&self, location_id: &str) -> Result<Vec<Pipeline>, UpstreamError> {
        let query = [("locationId", location_id)];
        let value = self
            .get("list pipelines", "/opportunities/pipelines", &query)
            .await?;
        Ok(list(&value, "pipelines", pipeline))
    }

    async fn conversation_of(
        &self,
        location_id: &str,
        contact_id: &str,
    ) -> Result<String, UpstreamError> {
        let query = [("locationId", location_id), ("contactId", contact_id)];
        let found = self
            .get_versioned(
                "search conversations",
                "/conversations/search",
                &query,
                VERSION_2021_04_15,
            )
            .await?;
        let first = found
            .get("conversations")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
            .and_then(|c| c.get("id"))
            .and_then(id_string);
        if let Some(id) = first {
            return Ok(id);
        }
        let operation = "create conversation";
        let body = json!({"locationId": location_id, "contactId": contact_id});
        let created = self
            .write_versioned(
                operation,
                Method::POST,
                "/conversations/",
                &body,
                VERSION_2021_04_15,
            )
            .await?;
        let id = created
            .pointer("/conversation/id")
            .or_else(|| created.get("id"))
            .and_then(id_string);
        Self::expect(operation, id, "conversation.id")
    }

    async fn add_call_message(&self, message: &CallMessage) -> Result<String, UpstreamError> {
        let operation = "add call message";
        let path = format!("/conversations/messages/{}", message.direction);
        let value = self
            .write_versioned(operation, Method::POST, &path, message, VERSION_2021_04_15)
            .await?;
        Self::expect(
            operation,
            value.get("messageId").and_then(id_string),
            "messageId",
        )
    }

    async fn set_attachments(
        &self,
        message_id: &str,
        urls: &[String],
    ) -> Result<(), UpstreamError> {
        let path = format!(
            "{}/attachments",
            path(&["conversations", "messages", message_id])
        );
        let body = json!({ "attachments": urls });
        self.write_versioned(
            "set attachments",
            Method::PUT,
            &path,
            &body,
            VERSION_2021_04_15,
        )
        .await?;
        Ok(())
    }

    async fn set_message_status(
        &self,
        message_id: &str,
        status: &MessageStatus,
    ) -> Result<(), UpstreamError> {
        let path = format!(
            "{}/status",
            path(&["conversations", "messages", message_id])
        );
        self.write_versioned(
            "set message status",
            Method::PUT,
            &path,
            status,
            VERSION_2021_04_15,
        )
        .await?;
        Ok(())
    }

    async fn message_status(&self, message_id: &str) -> Result<Option<String>, UpstreamError> {
        let path = path(&["conversations", "messages", message_id]);
        let found = self
            .get_versioned("get message", &path, &[], VERSION_2021_04_15)
            .await;
        let value = match found {
            Ok(value) => value,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let message = match value.get("message") {
            Some(nested @ Value::Object(_)) => nested,
            _ => &value,
        };
        let status = message.get("status").and_then(scalar_string);
        Ok(Some(status.unwrap_or_else(|| "pending".to_string())))
    }

    async fn add_inbound_sms(&self, message: &InboundSms) -> Result<String, UpstreamError> {
        let operation = "add inbound text";
        let value = self
            .write_versioned(
                operation,
                Method::POST,
                "/conversations/messages/inbound",
                message,
                VERSION_2021_04_15,
            )
            .await?;
        Self::expect(
            operation,
            value.get("messageId").and_then(id_string),
            "messageId",
        )
    }

    async fn recent_texts(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<ConversationText>, UpstreamError> {
        let path = format!("{}/messages", path(&["conversations", conversation_id]));
        let query = [("type", "TYPE_SMS"), ("limit", "20")];
        let value = self
            .get_versioned("list messages", &path, &query, VERSION_2021_04_15)
            .await?;
        // The spec puts the list at the top; GHL's answers nest it in `messages`.
        let page = match value.get("messages") {
            Some(nested @ Value::Object(_)) => nested.clone(),
            _ => value,
        };
        Ok(list(&page, "messages", conversation_text))
    }

    async fn search_contacts(
        &self,
        query: &ContactQuery<'_>,
    ) -> Result<Vec<SearchedContact>, UpstreamError> {
        let value = self
            .search("search contacts", "/contacts/search", &query.body())
            .await?;
        Ok(list(&value, "contacts", |c| {
            Some(SearchedContact {
                record: parse_contact(c)?,
                date_updated: c.get("dateUpdated").and_then(scalar_string),
                search_after: c.get("searchAfter").cloned(),
            })
        }))
    }

    async fn list_custom_values(
        &self,
        location_id: &str,
    ) -> Result<Vec<CustomValue>, UpstreamError> {
        let path = path(&["locations", location_id, "customValues"]);
        let value = self.get("list custom values", &path, &[]).await?;
        Ok(list(&value, "customValues", custom_value))
    }

    async fn list_custom_fields(
        &self,
        location_id: &str,
    ) -> Result<Vec<CustomField>, UpstreamError> {
        let path = path(&["locations", location_id, "customFields"]);
        let query = [("model", "all")];
        let value = self.get("list custom fields", &path, &query).await?;
        Ok(list(&value, "customFields", custom_field))
    }

    async fn create_custom_value(
        &self,
        location_id: &str,
        name: &str,
        value: &str,
    ) -> Result<String, UpstreamError> {
        let operation = "create custom value";
        let path = path(&["locations", location_id, "customValues"]);
        let body = json!({ "name": name, "value": value });
        let answer = self.write(operation, Method::POST, &path, &body).await?;
        let id = answer.pointer("/customValue/id").and_then(id_string);
        Self::expect(operation, id, "customValue.id")
    }

    async fn update_custom_value(
        &self,
        location_id: &str,
        id: &str,
        name: &str,
        value: &str,
    ) -> Result<(), UpstreamError> {
        let path = path(&["locations", location_id, "customValues", id]);
        let body = json!({ "name": name, "value": value });
        self.write("update custom value", Method::PUT, &path, &body)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::rest::RateLimit;

    #[test]
    fn do_not_disturb_names_each_blocked_channel() {
        let contact = json!({"dnd": false, "dndSettings": {
            "SMS": {"status": "active"}, "Call": {"status": "inactive"},
            "Email": {"status": "permanent"}, "WhatsApp": {}}});
        let found = consent(&contact);
        assert_eq!(found.blocked_channels, ["Email", "SMS"]);
        assert_eq!(found.refuses_calls(), None);
        assert!(consent(&json!({})).blocked_channels.is_empty());
    }

    #[test]
    fn an_opportunity_has_its_name_and_value() {
        let found = opportunity(
            &json!({"id": "o1", "name": "Website", "monetaryValue": 1200.5,
            "status": "open", "pipelineId": "p", "pipelineStageId": "s"}),
        )
        .unwrap();
        assert_eq!(found.name.as_deref(), Some("Website"));
        assert_eq!(found.monetary_value, Some(1200.5));
        let text = opportunity(&json!({"id": "o2", "monetaryValue": "300"})).unwrap();
        assert_eq!(text.monetary_value, Some(300.0));
    }

    #[test]
    fn the_message_is_a_string_a_list_the_error_or_the_reason() {
        let message =
            |body: Value| GhlDialect::error_message(&body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            message(json!({ "message": ["phone must be valid", "email must be an email"] })),
            "phone must be valid; email must be an email"
        );
        assert_eq!(
            message(json!({ "message": "Contact not found" })),
            "Contact not found"
        );
        assert_eq!(
            message(json!({ "message": [], "error": "Unauthorized" })),
            "Unauthorized"
        );
        assert_eq!(message(Value::Null), "Unprocessable Entity");
    }

    #[test]
    fn a_successful_answer_need_not_be_json_and_a_429_waits_one_interval() {
        let spent = RateLimit::Interval {
            interval_ms: Some(10_000),
            remaining: Some(0),
        };
        assert_eq!(
            GhlClient::interpret("update contact", StatusCode::OK, spent, "", 0).unwrap(),
            Value::Null
        );
        match GhlClient::interpret("add tags", StatusCode::TOO_MANY_REQUESTS, spent, "{}", 0) {
            Err(UpstreamError::Status {
                service: Service::GoHighLevel,
                status: 429,
                retry_after_secs,
                message,
                ..
            }) => assert_eq!(
                (retry_after_secs, message.as_str()),
                (Some(10), "Too Many Requests")
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn paths_encode_every_segment() {
        assert_eq!(
            path(&["contacts", "a/b c", "tags"]),
            "/contacts/a%2Fb%20c/tags"
        );
    }
}
