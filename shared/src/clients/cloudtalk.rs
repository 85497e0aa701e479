//! CloudTalk REST API client (`https://my.cloudtalk.io/api`).
//!
//! Basic auth with the API key id and secret; every answer is wrapped in a `responseData`
//! envelope; ids come back as strings or numbers; `PUT` creates and `POST` edits. A bulk request
//! answers HTTP 200 even when some of its commands failed, so every command result is checked.

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};

use super::rest::{upstream_message, Auth, Dialect, RateLimitHeaders, RestClient};
use super::{Service, UpstreamError};
use crate::payload::fields::{id_string, scalar_string};

/// A contact as CloudTalk's add/edit endpoints take it. Sending a collection replaces it, so
/// empty collections are never sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContactInput {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(rename = "ContactNumber", skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<ContactNumber>,
    #[serde(rename = "ContactEmail", skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<ContactEmail>,
    #[serde(rename = "ContactsTag", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<ContactTag>,
    #[serde(rename = "ExternalUrl", skip_serializing_if = "Vec::is_empty")]
    pub external_urls: Vec<ExternalUrl>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactNumber {
    pub public_number: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactEmail {
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactTag {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExternalUrl {
    pub name: String,
    pub url: String,
}

/// An activity on a contact's timeline (`PUT /activity/add/{contactId}.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityInput {
    #[serde(rename = "type")]
    pub activity_type: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
}

/// A CloudTalk contact as read back from search or show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CloudTalkContact {
    pub id: String,
    pub name: Option<String>,
    pub numbers: Vec<String>,
    pub emails: Vec<String>,
    pub tags: Vec<String>,
}

/// One command of `POST /bulk/contacts.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BulkCommand {
    pub action: &'static str,
    pub command_id: String,
    pub data: Value,
}

/// The per-command outcome of a bulk request.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkResult {
    pub command_id: String,
    pub status: u16,
    pub id: Option<String>,
    pub message: Option<String>,
}

impl BulkResult {
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// What the bridge needs from CloudTalk.
#[async_trait]
pub trait CloudTalkApi: Send + Sync {
    /// `GET /contacts/index.json?keyword=…`: candidates; callers compare numbers and emails.
    async fn search_contacts(&self, keyword: &str) -> Result<Vec<CloudTalkContact>, UpstreamError>;
    async fn show_contact(&self, id: &str) -> Result<CloudTalkContact, UpstreamError>;
    async fn add_contact(&self, contact: &ContactInput) -> Result<String, UpstreamError>;
    async fn edit_contact(&self, id: &str, contact: &ContactInput) -> Result<(), UpstreamError>;
    /// Appends tags; the contact's other tags are kept.
    async fn add_tags(&self, id: &str, tags: &[String]) -> Result<(), UpstreamError>;
    async fn add_note(&self, contact_id: &str, note: &str) -> Result<String, UpstreamError>;
    async fn add_activity(
        &self,
        contact_id: &str,
        activity: &ActivityInput,
    ) -> Result<String, UpstreamError>;
    /// Runs up to 10 commands; a command failure is reported in its result, not as an error.
    async fn bulk(&self, commands: &[BulkCommand]) -> Result<Vec<BulkResult>, UpstreamError>;
    /// The id of the tag with this name (`GET /tags/index.json`, compared case-insensitively).
    async fn find_tag(&self, name: &str) -> Result<Option<String>, UpstreamError>;
    /// One page of the contacts carrying a tag, and the number of pages.
    async fn contacts_with_tag(
        &self,
        tag_id: &str,
        page: u32,
    ) -> Result<(Vec<CloudTalkContact>, u32), UpstreamError>;
}

/// CloudTalk's REST dialect: Basic auth with the API key, the reset-time header, and the
/// `responseData` envelope whose `status` can say an HTTP 200 failed.
#[derive(Debug, Clone, Copy, Default)]
pub struct CloudTalkDialect;

impl Dialect for CloudTalkDialect {
    const SERVICE: Service = Service::CloudTalk;
    const REQUIRES_JSON_ANSWER: bool = true;
    const AUTH: Auth = Auth::CloudTalkApiKey;
    const RATE_LIMIT: RateLimitHeaders = RateLimitHeaders::ResetTime;

    fn failed_status(status: StatusCode, body: &Value) -> Option<u16> {
        if !status.is_success() {
            return Some(status.as_u16());
        }
        body.pointer("/responseData/status")
            .and_then(number)
            .map(|s| s as u16)
            .filter(|s| *s >= 400)
    }

    fn error_message(body: &Value, status: StatusCode) -> String {
        error_text(body, status)
    }
}

/// The reqwest implementation of [`CloudTalkApi`]: the REST core speaking CloudTalk.
pub type CloudTalkClient = RestClient<CloudTalkDialect>;

impl CloudTalkClient {
    fn created_id(operation: &'static str, value: &Value) -> Result<String, UpstreamError> {
        value
            .pointer("/responseData/data/id")
            .and_then(id_string)
            .ok_or_else(|| Self::invalid(operation, "no responseData.data.id in the answer"))
    }
}

/// A count CloudTalk sends as a number or a string of digits.
fn number(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| value.as_str()?.parse().ok())
}

/// The human message of a CloudTalk error: `responseData.message` plus the per-field details of
/// a 406, or the top-level `message` of the non-envelope errors.
fn error_text(value: &Value, status: StatusCode) -> String {
    let message = value
        .pointer("/responseData/message")
        .or_else(|| value.get("message"))
        .and_then(scalar_string);
    let details = value
        .pointer("/responseData/data")
        .and_then(Value::as_object)
        .map(|fields| {
            fields
                .iter()
                .map(|(field, errors)| {
                    let errors = match errors {
                        Value::Array(items) => items
                            .iter()
                            .filter_map(scalar_string)
                            .collect::<Vec<_>>()
                            .join(" "),
                        other => scalar_string(other).unwrap_or_default(),
                    };
                    format!("{field}: {errors}")
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .filter(|d| !d.is_empty());
    match (message, details) {
        (Some(m), Some(d)) => format!("{m} ({d})"),
        (Some(m), None) => m,
        (None, Some(d)) => d,
        (None, None) => status
            .canonical_reason()
            .unwrap_or("unknown error")
            .to_string(),
    }
}

/// Reads a contact from a list row or a show answer. List rows hold single objects where show
/// holds arrays; the tag list is `ContactsTag` in the spec and `Tag` in real answers.
pub(crate) fn parse_contact(row: &Value) -> Option<CloudTalkContact> {
    let contact = row.get("Contact").unwrap_or(row);
    let id = contact.get("id").and_then(id_string)?;
    let many = |key: &str, field: &str| -> Vec<String> {
        match row.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| i.get(field).and_then(scalar_string))
                .collect(),
            Some(obj @ Value::Object(_)) => {
                obj.get(field).and_then(scalar_string).into_iter().collect()
            }
            _ => Vec::new(),
        }
    };
    let mut tags = many("ContactsTag", "name");
    tags.extend(many("Tag", "name"));
    Some(CloudTalkContact {
        id,
        name: contact.get("name").and_then(scalar_string),
        numbers: many("ContactNumber", "public_number"),
        emails: many("ContactEmail", "email"),
        tags,
    })
}

#[async_trait]
impl CloudTalkApi for CloudTalkClient {
    async fn search_contacts(&self, keyword: &str) -> Result<Vec<CloudTalkContact>, UpstreamError> {
        let value = self
            .call(
                "search contacts",
                Method::GET,
                "/contacts/index.json",
                &[("keyword", keyword), ("limit", "50")],
                None,
            )
            .await?;
        Ok(value
            .pointer("/responseData/data")
            .and_then(Value::as_array)
            .map(|rows| rows.iter().filter_map(parse_contact).collect())
            .unwrap_or_default())
    }

    async fn show_contact(&self, id: &str) -> Result<CloudTalkContact, UpstreamError> {
        let path = format!("/contacts/show/{}.json", urlencoding::encode(id));
        let value = self
            .call("show contact", Method::GET, &path, &[], None)
            .await?;
        value
            .get("responseData")
            .and_then(parse_contact)
            .ok_or_else(|| Self::invalid("show contact", "no contact in the answer"))
    }

    async fn add_contact(&self, contact: &ContactInput) -> Result<String, UpstreamError> {
        let body = serde_json::to_value(contact).unwrap_or_default();
        let value = self
            .call(
                "add contact",
                Method::PUT,
                "/contacts/add.json",
                &[],
                Some(&body),
            )
            .await?;
        Self::created_id("add contact", &value)
    }

    async fn edit_contact(&self, id: &str, contact: &ContactInput) -> Result<(), UpstreamError> {
        let body = serde_json::to_value(contact).unwrap_or_default();
        let path = format!("/contacts/edit/{}.json", urlencoding::encode(id));
        self.call("edit contact", Method::POST, &path, &[], Some(&body))
            .await?;
        Ok(())
    }

    async fn add_tags(&self, id: &str, tags: &[String]) -> Result<(), UpstreamError> {
        let path = format!("/contacts/addTags/{}.json", urlencoding::encode(id));
        self.call(
            "add tags",
            Method::PUT,
            &path,
            &[],
            Some(&json!({ "tags": tags })),
        )
        .await?;
        Ok(())
    }

    async fn add_note(&self, contact_id: &str, note: &str) -> Result<String, UpstreamError> {
        let path = format!("/notes/add/{}.json", urlencoding::encode(contact_id));
        let value = self
            .call(
                "add note",
                Method::PUT,
                &path,
                &[],
                Some(&json!({ "note": note })),
            )
            .await?;
        Self::created_id("add note", &value)
    }

    async fn add_activity(
        &self,
        contact_id: &str,
        activity: &ActivityInput,
    ) -> Result<String, UpstreamError> {
        let path = format!("/activity/add/{}.json", urlencoding::encode(contact_id));
        let body = serde_json::to_value(activity).unwrap_or_default();
        let value = self
            .call("add activity", Method::PUT, &path, &[], Some(&body))
            .await?;
        Self::created_id("add activity", &value)
    }

    async fn bulk(&self, commands: &[BulkCommand]) -> Result<Vec<BulkResult>, UpstreamError> {
        let body = serde_json::to_value(commands).unwrap_or_default();
        let value = self
            .call(
                "bulk",
                Method::POST,
                "/bulk/contacts.json",
                &[],
                Some(&body),
            )
            .await?;
        let rows = value
            .pointer("/responseData/data")
            .and_then(Value::as_array)
            .ok_or_else(|| Self::invalid("bulk", "no per-command results in the answer"))?;
        let results: Vec<BulkResult> = rows
            .iter()
            .map(|row| {
                let status = row
                    .get("status")
                    .and_then(number)
                    .unwrap_or(0) as u16;
                let failed = !(200..300).contains(&status);
                BulkResult {
                    command_id: row
                        .get("command_id")
                        .and_then(id_string)
                        .unwrap_or_default(),
                    status,
                    id: if failed {
                        None
                    } else {
                        row.pointer("/data/id").and_then(id_string)
                    },
                    message: if failed {
                        Some(upstream_message(&error_text(
                            &json!({ "responseData": { "message": row.get("message"), "data": row.get("data") } }),
                            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                        )))
                    } else {
                        None
                    },
                }
            })
            .collect();
        Ok(results)
    }

    async fn find_tag(&self, name: &str) -> Result<Option<String>, UpstreamError> {
        let mut page = 1u32;
        loop {
            let page_text = page.to_string();
            let value = self
                .call(
                    "list tags",
                    Method::GET,
                    "/tags/index.json",
                    &[("limit", "1000"), ("page", &page_text)],
                    None,
                )
                .await?;
            let found = value
                .pointer("/responseData/data")
                .and_then(Value::as_array)
                .and_then(|rows| {
                    rows.iter().find_map(|row| {
                        let tag = row.get("Tag").unwrap_or(row);
                        let tag_name = tag.get("name").and_then(scalar_string)?;
                        tag_name
                            .eq_ignore_ascii_case(name.trim())
                            .then(|| tag.get("id").and_then(id_string))
                            .flatten()
                    })
                });
            if found.is_some() || page >= page_count(&value) || page >= 20 {
                return Ok(found);
            }
            page += 1;
        }
    }

    async fn contacts_with_tag(
        &self,
        tag_id: &str,
        page: u32,
    ) -> Result<(Vec<CloudTalkContact>, u32), UpstreamError> {
        let page_text = page.to_string();
        let value = self
            .call(
                "contacts with tag",
                Method::GET,
                "/contacts/index.json",
                &[("tag_id", tag_id), ("limit", "100"), ("page", &page_text)],
                None,
            )
            .await?;
        let contacts = value
            .pointer("/responseData/data")
            .and_then(Value::as_array)
            .map(|rows| rows.iter().filter_map(parse_contact).collect())
            .unwrap_or_default();
        Ok((contacts, page_count(&value)))
    }
}

fn page_count(value: &Value) -> u32 {
    value
        .pointer("/responseData/pageCount")
        .and_then(number)
        .unwrap_or(1) as u32
}

/// Finds one command's result, by `command_id` and not by position.
pub fn bulk_result<'a>(results: &'a [BulkResult], command_id: &str) -> Option<&'a BulkResult> {
    results.iter().find(|r| r.command_id == command_id)
}
