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
use super::{FoundId, Service, UpstreamError};
use crate::payload::fields::{id_string, scalar_string};

/// A contact as CloudTalk's add/edit endpoints take it. Sending a collection replaces it, so
/// empty collections are never sent.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContactInput {
    pub name: String,
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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityInput {
    #[serde(rename = "type")]
    pub activity_type: String,
    pub name: String,
    pub description: Option<String>,
    pub activity_date: Option<String>,
    pub external_url: Option<String>,
    /// The bridge's marker, so that a write whose outcome is unknown can be found again: an
    /// integer, as CloudTalk's spec types `external_id` (a string is refused with 406).
    pub external_id: Option<u32>,
}

/// A CloudTalk contact as read back from search or show.
pub type CloudTalkContact = super::ContactRecord;

/// A call from the call history (`GET /calls/index.json`), as CloudTalk gives it: times in the
/// company's time zone (`YYYY-MM-DD HH:MM:SS`), counts in seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallRecord {
    /// `Cdr.id`: the call id the webhooks carry as `call_id`.
    pub call_id: String,
    pub contact_id: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    /// The customer's number (`public_external`).
    pub external_number: Option<String>,
    /// The company's number (`public_internal`).
    pub internal_number: Option<String>,
    /// `incoming`, `outgoing` or `internal`.
    pub direction: Option<String>,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    pub started_at: Option<String>,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
    pub billsec: Option<u64>,
    pub talking_time: Option<u64>,
    pub waiting_time: Option<u64>,
    pub is_voicemail: bool,
    pub recording_link: Option<String>,
    /// The call's own tags (`Tags[{id, name}]`), rating (`Ratings`) and the agent's notes
    /// (`Notes[{id, note}]`): what its Call Modified trigger reports.
    pub tags: Vec<String>,
    pub rating: Option<u8>,
    pub notes: Vec<String>,
}

/// A CloudTalk agent, as the agents list gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentRecord {
    pub id: String,
    /// `firstname lastname`, else `name`.
    pub name: Option<String>,
    pub email: Option<String>,
    /// `online`, `offline`, `paused` or `calling`.
    pub availability: Option<String>,
    /// The agent's default outbound number (E.164), the sender of the texts its GHL user sends.
    pub default_number: Option<String>,
}

fn agent_record(row: &Value) -> Option<AgentRecord> {
    let agent = row.get("Agent").unwrap_or(row);
    let text = |key: &str| agent.get(key).and_then(scalar_string);
    let parts: Vec<String> = ["firstname", "lastname"]
        .iter()
        .filter_map(|k| text(k))
        .collect();
    let name = match parts.is_empty() {
        true => text("name"),
        false => Some(parts.join(" ")),
    };
    Some(AgentRecord {
        id: agent.get("id").and_then(id_string)?,
        name,
        email: text("email").filter(|e| e.contains('@')),
        availability: text("availability_status"),
        default_number: text("default_number").filter(|n| n.trim().starts_with('+')),
    })
}

/// One page of a list, and how many pages there are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub page_count: u32,
}

impl<T> Page<T> {
    /// Another page follows this one.
    pub fn has_more(&self) -> bool {
        self.page < self.page_count
    }
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
    /// One page (from 1) of the company's agents (`GET /agents/index.json`).
    async fn list_agents(&self, page: u32) -> Result<Page<AgentRecord>, UpstreamError>;
    async fn show_contact(&self, id: &str) -> Result<CloudTalkContact, UpstreamError>;
    async fn add_contact(&self, contact: &ContactInput) -> Result<String, UpstreamError>;
    async fn edit_contact(&self, id: &str, contact: &ContactInput) -> Result<(), UpstreamError>;
    /// Appends tags; the contact's other tags are kept.
    async fn add_tags(&self, id: &str, tags: &[String]) -> Result<(), UpstreamError>;
    async fn add_note(&self, contact_id: &str, note: &str) -> Result<String, UpstreamError>;
    /// The id of the contact's note whose text holds `marker` (`GET /notes/index.json`).
    async fn find_note(&self, contact_id: &str, marker: &str) -> FoundId;
    /// The id of the contact's activity with this `external_id` (`GET /activity/index.json`).
    async fn find_activity(&self, contact_id: &str, external_id: u32) -> FoundId;
    async fn add_activity(
        &self,
        contact_id: &str,
        activity: &ActivityInput,
    ) -> Result<String, UpstreamError>;
    /// Runs up to 10 commands; a command failure is reported in its result, not as an error.
    /// It takes what a bulk request costs of the shared budget ([`CloudTalkApi::bulk_cost`]),
    /// and measures that cost from `X-CloudTalkAPI-Remaining` across the request.
    async fn bulk(&self, commands: &[BulkCommand]) -> Result<Vec<BulkResult>, UpstreamError>;
    /// What one bulk request costs of the company's per-minute limit, as measured (CloudTalk
    /// does not document whether it is 1 or 10); `None` until measured.
    fn bulk_cost(&self) -> Option<u32>;
    /// A cost measured elsewhere (another container, kept in the state table).
    fn know_bulk_cost(&self, cost: u32);
    /// The id of the tag with this name (`GET /tags/index.json`, compared case-insensitively).
    async fn find_tag(&self, name: &str) -> FoundId;
    /// One page of the contacts carrying a tag, and the number of pages.
    async fn contacts_with_tag(
        &self,
        tag_id: &str,
        page: u32,
    ) -> Result<(Vec<CloudTalkContact>, u32), UpstreamError>;
    /// One page (from 1) of every contact, `limit` (at most 1000) a page.
    async fn list_contacts(
        &self,
        page: u32,
        limit: u32,
    ) -> Result<Page<CloudTalkContact>, UpstreamError>;
    /// One page (from 1) of the calls started between `date_from` and `date_to` (the company's
    /// time, `YYYY-MM-DD HH:MM:SS`), `limit` (at most 1000) a page.
    async fn list_calls(
        &self,
        date_from: &str,
        date_to: &str,
        page: u32,
        limit: u32,
    ) -> Result<Page<CallRecord>, UpstreamError>;
    /// `POST /calls/create.json`: rings agent `agent_id` (up to ~20 s), then dials `callee`
    /// (E.164). CloudTalk answers no call id; 403 when the agent is not online, 409 when they
    /// are already calling. Sent once, never repeated by the client.
    async fn create_call(&self, agent_id: &str, callee: &str) -> Result<(), UpstreamError>;
    /// The calls between `number` (E.164) and agent `agent_id` started between `date_from` and
    /// `date_to` (the company's time), newest first: `public_external` and `user_id` filters,
    /// checked again on the rows.
    async fn calls_with(
        &self,
        number: &str,
        agent_id: &str,
        date_from: &str,
        date_to: &str,
    ) -> Result<Vec<CallRecord>, UpstreamError>;
    /// The company's blacklist entries for `number` (E.164): `GET /blacklist/index.json`
    /// filtered by `public_number`, the rows checked again against the number.
    async fn blacklist_of(&self, number: &str) -> Result<Vec<BlacklistEntry>, UpstreamError>;
    /// `PUT /blacklist/add.json`: `number` (E.164) may no longer be called out to
    /// (`type: outgoing`); the new entry's id.
    async fn blacklist_outgoing(&self, number: &str) -> Result<String, UpstreamError>;
    /// `DELETE /blacklist/delete/{id}.json`; an entry already gone is not an error.
    async fn remove_blacklist_entry(&self, id: &str) -> Result<(), UpstreamError>;
    /// `POST /sms/send.json`: one text from one of the account's numbers. CloudTalk answers
    /// 200 with `success: false` and the provider's reason when it could not send it.
    async fn send_sms(&self, sms: &SmsInput) -> Result<SmsAnswer, UpstreamError>;
    /// One page of the company's numbers (`GET /numbers/index.json`), each in E.164.
    async fn list_numbers(&self, page: u32) -> Result<Page<String>, UpstreamError>;
}

/// A number of `GET /numbers/index.json` in E.164 (`CallNumber.caller_id_e164`, a number or
/// a string, with or without its `+`).
fn call_number(row: &Value) -> Option<String> {
    let number = row.get("CallNumber").unwrap_or(row);
    let digits: String = number
        .get("caller_id_e164")
        .and_then(scalar_string)?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then(|| format!("+{digits}"))
}

/// A text to send (`POST /sms/send.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsInput {
    /// E.164.
    pub recipient: String,
    /// E.164, one of the account's numbers.
    pub sender: String,
    pub message: String,
    /// Pictures sent as MMS, downloaded by CloudTalk (at most 5).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images_by_url: Vec<String>,
}

/// What CloudTalk said of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsAnswer {
    Sent,
    /// `success: false`, with the provider's reason ("Unknown number", "Limit exceeded", …).
    Refused(String),
}

fn sms_answer(value: &Value) -> Option<SmsAnswer> {
    let answer = value.get("responseData").unwrap_or(value);
    let success = match answer.get("success")? {
        Value::Bool(b) => *b,
        Value::String(s) => s.trim().eq_ignore_ascii_case("true"),
        _ => return None,
    };
    if success {
        return Some(SmsAnswer::Sent);
    }
    let reason = match answer.get("data") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(data @ Value::Object(_)) => data
            .get("message")
            .or_else(|| data.get("error"))
            .and_then(scalar_string)
            .unwrap_or_else(|| "SMS send failed".to_string()),
        _ => "SMS send failed".to_string(),
    };
    Some(SmsAnswer::Refused(reason))
}

/// One number on the company's blacklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlacklistEntry {
    pub id: String,
    /// `all`, `incoming` or `outgoing`.
    pub kind: String,
    pub number: String,
}

impl BlacklistEntry {
    /// Whether the entry stops calls out to its number (`outgoing` or `all`).
    pub fn blocks_outgoing(&self) -> bool {
        let kind = self.kind.trim();
        kind.eq_ignore_ascii_case("outgoing") || kind.eq_ignore_ascii_case("all")
    }
}

fn blacklist_entry(row: &Value) -> Option<BlacklistEntry> {
    let entry = row.get("Blacklist").unwrap_or(row);
    Some(BlacklistEntry {
        id: entry.get("id").and_then(id_string)?,
        kind: entry
            .get("type")
            .and_then(scalar_string)
            .unwrap_or_else(|| "all".to_string()),
        number: entry.get("public_number").and_then(scalar_string)?,
    })
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
        let id = value.pointer("/responseData/data/id").and_then(id_string);
        Self::expect(operation, id, "responseData.data.id")
    }
}

/// `{prefix}/{id}.json`, the shape of CloudTalk's paths that name a record.
fn record_path(prefix: &str, id: &str) -> String {
    format!("{prefix}/{}.json", urlencoding::encode(id))
}

/// The rows of a list answer (`responseData.data`).
/// The id of the first list row (unwrapped from one of `wrappers`) that `matches`.
fn find_row(value: &Value, wrappers: &[&str], matches: impl Fn(&Value) -> bool) -> Option<String> {
    rows(value)?.iter().find_map(|row| {
        let inner = wrappers.iter().find_map(|w| row.get(*w)).unwrap_or(row);
        matches(inner)
            .then(|| inner.get("id").and_then(id_string))
            .flatten()
    })
}

fn rows(value: &Value) -> Option<&Vec<Value>> {
    value
        .pointer("/responseData/data")
        .and_then(Value::as_array)
}

fn contacts(value: &Value) -> Vec<CloudTalkContact> {
    rows(value)
        .map(|rows| rows.iter().filter_map(parse_contact).collect())
        .unwrap_or_default()
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
        phones: many("ContactNumber", "public_number"),
        emails: many("ContactEmail", "email"),
        tags,
        company: contact.get("company").and_then(scalar_string),
        ..CloudTalkContact::default()
    })
}

#[async_trait]
impl CloudTalkApi for CloudTalkClient {
    async fn search_contacts(&self, keyword: &str) -> Result<Vec<CloudTalkContact>, UpstreamError> {
        let query = [("keyword", keyword), ("limit", "50")];
        let value = self
            .get("search contacts", "/contacts/index.json", &query)
            .await?;
        Ok(contacts(&value))
    }

    async fn show_contact(&self, id: &str) -> Result<CloudTalkContact, UpstreamError> {
        let path = record_path("/contacts/show", id);
        let value = self.get("show contact", &path, &[]).await?;
        let contact = value.get("responseData").and_then(parse_contact);
        Self::expect("show contact", contact, "contact")
    }

    async fn add_contact(&self, contact: &ContactInput) -> Result<String, UpstreamError> {
        let operation = "add contact";
        let value = self
            .write(operation, Method::PUT, "/contacts/add.json", contact)
            .await?;
        Self::created_id(operation, &value)
    }

    async fn edit_contact(&self, id: &str, contact: &ContactInput) -> Result<(), UpstreamError> {
        let path = record_path("/contacts/edit", id);
        self.write("edit contact", Method::POST, &path, contact)
            .await?;
        Ok(())
    }

    async fn add_tags(&self, id: &str, tags: &[String]) -> Result<(), UpstreamError> {
        let body = json!({ "tags": tags });
        let path = record_path("/contacts/addTags", id);
        self.write("add tags", Method::PUT, &path, &body).await?;
        Ok(())
    }

    async fn add_note(&self, contact_id: &str, note: &str) -> Result<String, UpstreamError> {
        let path = record_path("/notes/add", contact_id);
        let body = json!({ "note": note });
        let answer = self.write("add note", Method::PUT, &path, &body).await?;
        Self::created_id("add note", &answer)
    }

    async fn find_note(&self, contact_id: &str, marker: &str) -> FoundId {
        let query = [
            ("contact_id", contact_id),
            ("keyword", marker),
            ("limit", "50"),
        ];
        let value = self.get("find note", "/notes/index.json", &query).await?;
        Ok(find_row(&value, &["Note"], |row| {
            ["note", "text", "content"]
                .iter()
                .filter_map(|k| row.get(*k).and_then(scalar_string))
                .any(|text| text.contains(marker))
        }))
    }

    async fn find_activity(&self, contact_id: &str, external_id: u32) -> FoundId {
        let query = [("contact_id", contact_id), ("limit", "100")];
        let value = self
            .get("find activity", "/activity/index.json", &query)
            .await?;
        let wanted = external_id.to_string();
        Ok(find_row(&value, &["ContactActivity", "Activity"], |row| {
            row.get("external_id").and_then(id_string).as_deref() == Some(wanted.as_str())
        }))
    }

    async fn add_activity(
        &self,
        contact_id: &str,
        activity: &ActivityInput,
    ) -> Result<String, UpstreamError> {
        let path = record_path("/activity/add", contact_id);
        let value = self
            .write("add activity", Method::PUT, &path, activity)
            .await?;
        Self::created_id("add activity", &value)
    }

    async fn bulk(&self, commands: &[BulkCommand]) -> Result<Vec<BulkResult>, UpstreamError> {
        let meter = self.meter();
        let cost = meter.bulk_cost().unwrap_or(1);
        let before = meter.last();
        let value = self
            .write_costing("bulk", "/bulk/contacts.json", commands, cost)
            .await?;
        // The drop of `Remaining` across the request, in one window, is what it cost.
        if let (Some((was, window)), Some((now, same))) = (before, meter.last()) {
            if window == same && was > now {
                meter.observe_bulk_cost(u32::try_from(was - now).unwrap_or(u32::MAX));
            }
        }
        let rows = Self::expect("bulk", rows(&value), "per-command results")?;
        Ok(rows.iter().map(bulk_row).collect())
    }

    fn bulk_cost(&self) -> Option<u32> {
        self.meter().bulk_cost()
    }

    fn know_bulk_cost(&self, cost: u32) {
        self.meter().observe_bulk_cost(cost);
    }

    async fn find_tag(&self, name: &str) -> FoundId {
        let mut page = 1u32;
        loop {
            let page_text = page.to_string();
            let query = [("limit", "1000"), ("page", page_text.as_str())];
            let value = self.get("list tags", "/tags/index.json", &query).await?;
            let found = rows(&value).and_then(|rows| {
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
        let query = [("tag_id", tag_id), ("limit", "100"), ("page", &page_text)];
        let value = self
            .get("contacts with tag", "/contacts/index.json", &query)
            .await?;
        Ok((contacts(&value), page_count(&value)))
    }

    async fn list_agents(&self, page: u32) -> Result<Page<AgentRecord>, UpstreamError> {
        let page_text = page.to_string();
        let query = [("limit", "1000"), ("page", page_text.as_str())];
        let value = self
            .get("list agents", "/agents/index.json", &query)
            .await?;
        Ok(Page {
            items: rows(&value)
                .map(|rows| rows.iter().filter_map(agent_record).collect())
                .unwrap_or_default(),
            page,
            page_count: page_count(&value),
        })
    }

    async fn list_contacts(
        &self,
        page: u32,
        limit: u32,
    ) -> Result<Page<CloudTalkContact>, UpstreamError> {
        let (page_text, limit_text) = (page.to_string(), limit.clamp(1, 1000).to_string());
        let query = [("limit", limit_text.as_str()), ("page", page_text.as_str())];
        let value = self
            .get("list contacts", "/contacts/index.json", &query)
            .await?;
        Ok(Page {
            items: contacts(&value),
            page,
            page_count: page_count(&value),
        })
    }

    async fn list_calls(
        &self,
        date_from: &str,
        date_to: &str,
        page: u32,
        limit: u32,
    ) -> Result<Page<CallRecord>, UpstreamError> {
        let (page_text, limit_text) = (page.to_string(), limit.clamp(1, 1000).to_string());
        let query = [
            ("date_from", date_from),
            ("date_to", date_to),
            ("limit", limit_text.as_str()),
            ("page", page_text.as_str()),
        ];
        let value = self.get("list calls", "/calls/index.json", &query).await?;
        let items = rows(&value)
            .map(|rows| rows.iter().filter_map(call_record).collect())
            .unwrap_or_default();
        Ok(Page {
            items,
            page,
            page_count: page_count(&value),
        })
    }

    async fn create_call(&self, agent_id: &str, callee: &str) -> Result<(), UpstreamError> {
        let agent = agent_id
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(agent_id));
        let body = serde_json::json!({ "agent_id": agent, "callee_number": callee });
        self.write_once("click to call", "/calls/create.json", &body)
            .await?;
        Ok(())
    }

    async fn blacklist_of(&self, number: &str) -> Result<Vec<BlacklistEntry>, UpstreamError> {
        let query = [("public_number", number), ("limit", "100"), ("page", "1")];
        let value = self
            .get("blacklist", "/blacklist/index.json", &query)
            .await?;
        let digits = |n: &str| n.chars().filter(char::is_ascii_digit).collect::<String>();
        let wanted = digits(number);
        Ok(rows(&value)
            .map(|rows| rows.iter().filter_map(blacklist_entry).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|e| digits(&e.number) == wanted)
            .collect())
    }

    async fn blacklist_outgoing(&self, number: &str) -> Result<String, UpstreamError> {
        let operation = "add to blacklist";
        let body = json!({ "type": "outgoing", "public_number": number });
        let answer = self
            .write(operation, Method::PUT, "/blacklist/add.json", &body)
            .await?;
        Self::created_id(operation, &answer)
    }

    async fn send_sms(&self, sms: &SmsInput) -> Result<SmsAnswer, UpstreamError> {
        let operation = "send sms";
        let answer = self
            .write(operation, Method::POST, "/sms/send.json", sms)
            .await?;
        Self::expect(operation, sms_answer(&answer), "responseData.success")
    }

    async fn list_numbers(&self, page: u32) -> Result<Page<String>, UpstreamError> {
        let page_text = page.to_string();
        let query = [("limit", "1000"), ("page", page_text.as_str())];
        let value = self
            .get("list numbers", "/numbers/index.json", &query)
            .await?;
        Ok(Page {
            items: rows(&value)
                .map(|rows| rows.iter().filter_map(call_number).collect())
                .unwrap_or_default(),
            page,
            page_count: page_count(&value),
        })
    }

    async fn remove_blacklist_entry(&self, id: &str) -> Result<(), UpstreamError> {
        let path = record_path("/blacklist/delete", id);
        match self.delete("remove from blacklist", &path).await {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(404) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn calls_with(
        &self,
        number: &str,
        agent_id: &str,
        date_from: &str,
        date_to: &str,
    ) -> Result<Vec<CallRecord>, UpstreamError> {
        let digits: String = number.chars().filter(char::is_ascii_digit).collect();
        let query = [
            ("public_external", digits.as_str()),
            ("user_id", agent_id),
            ("date_from", date_from),
            ("date_to", date_to),
            ("limit", "100"),
            ("page", "1"),
        ];
        let value = self.get("calls with", "/calls/index.json", &query).await?;
        let same_number = |call: &CallRecord| {
            call.external_number.as_deref().is_some_and(|n| {
                n.chars().filter(char::is_ascii_digit).collect::<String>() == digits
            })
        };
        let mut calls: Vec<CallRecord> = rows(&value)
            .map(|rows| rows.iter().filter_map(call_record).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|c: &CallRecord| same_number(c) && c.agent_id.as_deref() == Some(agent_id))
            .collect();
        calls.sort_by(|a, b| b.started_at.cmp(&a.started_at));
        Ok(calls)
    }
}

/// A call history row: `Cdr`, `Contact`, `Agent` (CloudTalk sends counts as strings too).
fn call_record(row: &Value) -> Option<CallRecord> {
    let cdr = row.get("Cdr")?;
    let text = |v: &Value, key: &str| v.get(key).and_then(scalar_string);
    let count = |key: &str| cdr.get(key).and_then(number);
    let contact = row.get("Contact").unwrap_or(&Value::Null);
    let agent = row.get("Agent").unwrap_or(&Value::Null);
    let first = |key: &str, field: &str| {
        let list = contact.get(key)?;
        let item = list.as_array().and_then(|a| a.first()).unwrap_or(list);
        // Rows carry either `[{"email": ".."}]` or plain `[".."]`.
        item.get(field)
            .and_then(scalar_string)
            .or_else(|| scalar_string(item))
    };
    let agent_name = text(agent, "fullname").or_else(|| {
        let parts: Vec<String> = ["firstname", "lastname"]
            .iter()
            .filter_map(|k| text(agent, k))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    let flag = |key: &str| {
        cdr.get(key).is_some_and(|v| {
            v.as_bool().unwrap_or(false) || number(v).is_some_and(|n| n > 0) || v == "true"
        })
    };
    // A link is only worth following when the call says it was recorded (or does not say).
    let recorded = cdr
        .get("recorded")
        .is_none_or(|v| v.is_null() || flag("recorded"));
    Some(CallRecord {
        call_id: cdr.get("id").and_then(id_string)?,
        contact_id: contact.get("id").and_then(id_string),
        contact_name: text(contact, "name"),
        contact_email: first("contact_emails", "email").or_else(|| first("ContactEmail", "email")),
        external_number: text(cdr, "public_external"),
        internal_number: text(cdr, "public_internal"),
        direction: text(cdr, "type"),
        agent_id: agent
            .get("id")
            .and_then(id_string)
            .or_else(|| text(cdr, "user_id")),
        agent_name,
        started_at: text(cdr, "started_at"),
        answered_at: text(cdr, "answered_at"),
        ended_at: text(cdr, "ended_at"),
        billsec: count("billsec"),
        talking_time: count("talking_time"),
        waiting_time: count("waiting_time"),
        is_voicemail: flag("is_voicemail"),
        recording_link: text(cdr, "recording_link").filter(|_| recorded),
        tags: row
            .get("Tags")
            .map(crate::payload::fields::tag_list)
            .unwrap_or_default(),
        rating: row
            .get("Ratings")
            .and_then(Value::as_array)
            .and_then(|r| {
                r.iter()
                    .filter_map(|x| x.get("rating").and_then(number))
                    .next_back()
            })
            .and_then(|r| u8::try_from(r).ok())
            .filter(|r| (1..=5).contains(r)),
        notes: row
            .get("Notes")
            .and_then(Value::as_array)
            .map(|notes| {
                notes
                    .iter()
                    .filter_map(|n| n.get("note").and_then(scalar_string))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// One command's outcome in a bulk answer.
fn bulk_row(row: &Value) -> BulkResult {
    let status = row.get("status").and_then(number).unwrap_or(0) as u16;
    let command_id = row
        .get("command_id")
        .and_then(id_string)
        .unwrap_or_default();
    if (200..300).contains(&status) {
        return BulkResult {
            command_id,
            status,
            id: row.pointer("/data/id").and_then(id_string),
            message: None,
        };
    }
    let details =
        json!({ "responseData": { "message": row.get("message"), "data": row.get("data") } });
    let reason = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    BulkResult {
        command_id,
        status,
        id: None,
        message: Some(upstream_message(&error_text(&details, reason))),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::rest::RateLimit;

    #[test]
    fn a_call_row_gives_its_contact_email_as_an_object_or_as_text() {
        let row = |emails: Value| json!({"Cdr": {"id": "77"}, "Contact": {"id": 5, "contact_emails": emails}});
        let email = |emails: Value| call_record(&row(emails)).and_then(|r| r.contact_email);
        assert_eq!(
            email(json!([{"email": "a@example.com"}])).as_deref(),
            Some("a@example.com")
        );
        assert_eq!(
            email(json!(["b@example.com", "c@example.com"])).as_deref(),
            Some("b@example.com")
        );
        assert_eq!(email(json!([])), None);
    }

    #[test]
    fn the_envelope_status_can_fail_an_http_200() {
        let envelope = |status: Value| json!({ "responseData": { "status": status } });
        let failed = |http: u16, body: &Value| {
            CloudTalkDialect::failed_status(StatusCode::from_u16(http).unwrap(), body)
        };
        assert_eq!(failed(200, &envelope(json!(406))), Some(406));
        assert_eq!(failed(200, &envelope(json!("404"))), Some(404), "as text");
        assert_eq!(failed(200, &envelope(json!(201))), None);
        assert_eq!(failed(200, &Value::Null), None);
        assert_eq!(
            failed(500, &envelope(json!(200))),
            Some(500),
            "the HTTP status first"
        );
    }

    #[test]
    fn a_406_in_the_envelope_reads_with_its_field_details_and_the_reset_time() {
        let body = r#"{"responseData":{"status":406,"message":"Invalid input","data":{"email":["is not valid","is taken"],"name":"is required"}}}"#;
        let reset = RateLimit::ResetAt(Some(1_000_030));
        let error =
            CloudTalkClient::interpret("add contact", StatusCode::OK, reset, body, 1_000_000)
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "CloudTalk answered 406 on add contact: Invalid input (email: is not valid is taken; name: is required)"
        );
        assert!(matches!(
            error,
            UpstreamError::Status {
                retry_after_secs: Some(30),
                ..
            }
        ));
    }

    #[test]
    fn an_answer_that_is_not_json_is_invalid_even_when_successful() {
        let limit = RateLimit::ResetAt(None);
        let error = CloudTalkClient::interpret("bulk", StatusCode::OK, limit, "<html>", 0);
        assert!(matches!(
            error,
            Err(UpstreamError::InvalidResponse { message, .. }) if message == "body is not JSON"
        ));
        let unknown = CloudTalkClient::interpret("bulk", StatusCode::BAD_GATEWAY, limit, "", 0);
        assert_eq!(
            unknown.unwrap_err().to_string(),
            "CloudTalk answered 502 on bulk: Bad Gateway"
        );
    }

    #[test]
    fn a_failed_bulk_command_keeps_its_masked_message_and_no_id() {
        let row = json!({ "command_id": 7, "status": "409", "message": "+420777123456 exists", "data": { "id": 5 } });
        let result = bulk_row(&row);
        assert_eq!((result.command_id.as_str(), result.status), ("7", 409));
        assert_eq!(result.id, None);
        assert!(!result.succeeded());
        let message = result.message.unwrap_or_default();
        assert!(!message.contains("777123456"), "{message}");
        let done = bulk_row(&json!({ "command_id": "a", "status": 201, "data": { "id": "9" } }));
        assert_eq!((done.id.as_deref(), done.message), (Some("9"), None));
    }
}
