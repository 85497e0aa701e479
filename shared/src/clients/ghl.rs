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
use super::{Service, UpstreamError};
use crate::payload::fields::{id_string, scalar_string};

/// `Version` header for contacts, opportunities, locations and custom fields.
pub const VERSION_2021_07_28: &str = "2021-07-28";

/// Body of `POST /contacts/upsert`. `tags` replace the contact's tags on upsert, so they are
/// added separately with [`GhlApi::add_tags`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GhlContactInput {
    pub location_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A contact as GoHighLevel returns it (the fields the bridge reads).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GhlContactRecord {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Opportunity {
    pub id: String,
    pub pipeline_id: Option<String>,
    pub pipeline_stage_id: Option<String>,
    pub status: Option<String>,
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
    async fn add_note(&self, contact_id: &str, body: &str) -> Result<String, UpstreamError>;
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
    async fn list_custom_values(
        &self,
        location_id: &str,
    ) -> Result<Vec<CustomValue>, UpstreamError>;
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

    fn error_message(body: &Value, status: StatusCode) -> String {
        error_message(body, status.canonical_reason().unwrap_or("error"))
    }
}

/// The reqwest implementation of [`GhlApi`]: the REST core speaking GoHighLevel.
pub type GhlClient = RestClient<GhlDialect>;

/// `message` is a string or an array of strings; `error` is the fallback.
pub(crate) fn error_message(value: &Value, fallback: &str) -> String {
    let text = match value.get("message") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(scalar_string)
            .collect::<Vec<_>>()
            .join("; "),
        Some(other) => scalar_string(other).unwrap_or_default(),
        None => String::new(),
    };
    if text.is_empty() {
        value
            .get("error")
            .and_then(scalar_string)
            .unwrap_or_else(|| fallback.to_string())
    } else {
        text
    }
}

pub(crate) fn parse_contact(value: &Value) -> Option<GhlContactRecord> {
    let id = value.get("id").and_then(id_string)?;
    let name = value.get("name").and_then(scalar_string).or_else(|| {
        let parts: Vec<String> = ["firstName", "lastName"]
            .iter()
            .filter_map(|k| value.get(*k).and_then(scalar_string))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    Some(GhlContactRecord {
        id,
        name,
        email: value.get("email").and_then(scalar_string),
        phone: value.get("phone").and_then(scalar_string),
        tags: value
            .get("tags")
            .map(crate::payload::fields::tag_list)
            .unwrap_or_default(),
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
        if let Some(phone) = phone {
            query.push(("number", phone));
        }
        if let Some(email) = email {
            query.push(("email", email));
        }
        let value = self
            .call(
                "duplicate search",
                Method::GET,
                "/contacts/search/duplicate",
                &query,
                None,
            )
            .await?;
        Ok(value.get("contact").and_then(parse_contact))
    }

    async fn upsert_contact(
        &self,
        contact: &GhlContactInput,
    ) -> Result<(String, bool), UpstreamError> {
        let body = serde_json::to_value(contact).unwrap_or_default();
        let value = self
            .call(
                "upsert contact",
                Method::POST,
                "/contacts/upsert",
                &[],
                Some(&body),
            )
            .await?;
        let id = value
            .pointer("/contact/id")
            .and_then(id_string)
            .ok_or_else(|| Self::invalid("upsert contact", "no contact.id in the answer"))?;
        let new = value.get("new").and_then(Value::as_bool).unwrap_or(false);
        Ok((id, new))
    }

    async fn get_contact(&self, contact_id: &str) -> Result<GhlContactRecord, UpstreamError> {
        let path = format!("/contacts/{}", urlencoding::encode(contact_id));
        let value = self
            .call("get contact", Method::GET, &path, &[], None)
            .await?;
        value
            .get("contact")
            .and_then(parse_contact)
            .ok_or_else(|| Self::invalid("get contact", "no contact in the answer"))
    }

    async fn update_contact(&self, contact_id: &str, fields: &Value) -> Result<(), UpstreamError> {
        let path = format!("/contacts/{}", urlencoding::encode(contact_id));
        self.call("update contact", Method::PUT, &path, &[], Some(fields))
            .await?;
        Ok(())
    }

    async fn add_note(&self, contact_id: &str, body: &str) -> Result<String, UpstreamError> {
        let path = format!("/contacts/{}/notes", urlencoding::encode(contact_id));
        let value = self
            .call(
                "add note",
                Method::POST,
                &path,
                &[],
                Some(&json!({ "body": body })),
            )
            .await?;
        value
            .pointer("/note/id")
            .and_then(id_string)
            .ok_or_else(|| Self::invalid("add note", "no note.id in the answer"))
    }

    async fn add_tags(&self, contact_id: &str, tags: &[String]) -> Result<(), UpstreamError> {
        let path = format!("/contacts/{}/tags", urlencoding::encode(contact_id));
        self.call(
            "add tags",
            Method::POST,
            &path,
            &[],
            Some(&json!({ "tags": tags })),
        )
        .await?;
        Ok(())
    }

    async fn search_opportunities(
        &self,
        location_id: &str,
        contact_id: &str,
        pipeline_id: Option<&str>,
    ) -> Result<Vec<Opportunity>, UpstreamError> {
        let mut query = vec![("location_id", location_id), ("contact_id", contact_id)];
        if let Some(pipeline_id) = pipeline_id {
            query.push(("pipeline_id", pipeline_id));
        }
        let value = self
            .call(
                "search opportunities",
                Method::GET,
                "/opportunities/search",
                &query,
                None,
            )
            .await?;
        Ok(value
            .get("opportunities")
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .filter_map(|o| {
                        Some(Opportunity {
                            id: o.get("id").and_then(id_string)?,
                            pipeline_id: o.get("pipelineId").and_then(id_string),
                            pipeline_stage_id: o.get("pipelineStageId").and_then(id_string),
                            status: o.get("status").and_then(scalar_string),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn update_opportunity_stage(
        &self,
        opportunity_id: &str,
        pipeline_id: &str,
        stage_id: &str,
    ) -> Result<(), UpstreamError> {
        let path = format!("/opportunities/{}", urlencoding::encode(opportunity_id));
        let body = json!({ "pipelineId": pipeline_id, "pipelineStageId": stage_id });
        self.call("update opportunity", Method::PUT, &path, &[], Some(&body))
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
        let value = self
            .call(
                "create opportunity",
                Method::POST,
                "/opportunities/",
                &[],
                Some(&body),
            )
            .await?;
        value
            .pointer("/opportunity/id")
            .and_then(id_string)
            .ok_or_else(|| Self::invalid("create opportunity", "no opportunity.id in the answer"))
    }

    async fn list_pipelines(&self, location_id: &str) -> Result<Vec<Pipeline>, UpstreamError> {
        let value = self
            .call(
                "list pipelines",
                Method::GET,
                "/opportunities/pipelines",
                &[("locationId", location_id)],
                None,
            )
            .await?;
        Ok(value
            .get("pipelines")
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .filter_map(|p| {
                        let stages = p
                            .get("stages")
                            .and_then(Value::as_array)
                            .map(|stages| {
                                stages
                                    .iter()
                                    .filter_map(|s| {
                                        Some(PipelineStage {
                                            id: s.get("id").and_then(id_string)?,
                                            name: s.get("name").and_then(scalar_string)?,
                                        })
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        Some(Pipeline {
                            id: p.get("id").and_then(id_string)?,
                            name: p.get("name").and_then(scalar_string).unwrap_or_default(),
                            stages,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn list_custom_values(
        &self,
        location_id: &str,
    ) -> Result<Vec<CustomValue>, UpstreamError> {
        let path = format!(
            "/locations/{}/customValues",
            urlencoding::encode(location_id)
        );
        let value = self
            .call("list custom values", Method::GET, &path, &[], None)
            .await?;
        Ok(value
            .get("customValues")
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .filter_map(|v| {
                        Some(CustomValue {
                            id: v.get("id").and_then(id_string)?,
                            name: v.get("name").and_then(scalar_string)?,
                            value: v.get("value").and_then(scalar_string),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn create_custom_value(
        &self,
        location_id: &str,
        name: &str,
        value: &str,
    ) -> Result<String, UpstreamError> {
        let path = format!(
            "/locations/{}/customValues",
            urlencoding::encode(location_id)
        );
        let answer = self
            .call(
                "create custom value",
                Method::POST,
                &path,
                &[],
                Some(&json!({ "name": name, "value": value })),
            )
            .await?;
        answer
            .pointer("/customValue/id")
            .and_then(id_string)
            .ok_or_else(|| Self::invalid("create custom value", "no customValue.id in the answer"))
    }

    async fn update_custom_value(
        &self,
        location_id: &str,
        id: &str,
        name: &str,
        value: &str,
    ) -> Result<(), UpstreamError> {
        let path = format!(
            "/locations/{}/customValues/{}",
            urlencoding::encode(location_id),
            urlencoding::encode(id)
        );
        self.call(
            "update custom value",
            Method::PUT,
            &path,
            &[],
            Some(&json!({ "name": name, "value": value })),
        )
        .await?;
        Ok(())
    }
}
