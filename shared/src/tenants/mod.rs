//! Agency mode: one deployment serving many GHL locations (tenants), each with its own
//! CloudTalk account, webhook secrets, options and GHL credentials.
//!
//! - A tenant is a GHL location: its id is the location id, events are routed to it by the
//!   body's `locationId` (GHL) or by the URL (`/api/cloudtalk-webhooks/<locationId>/<event>`).
//! - The deployment's own configuration (environment and secret, `GHL_LOCATION_ID`) is the
//!   **default tenant**: a single-location deployment works as before, with no registry.
//! - Records live in the tenants table (`TENANTS_TABLE`; locally the store file), one
//!   versioned JSON document per tenant (`tenant#<locationId>`) and per agency install
//!   (`company#<companyId>`). Every secret in them is sealed ([`seal`]): never plain in the table.
//! - Contact map keys carry the location, idempotency keys the tenant, the GHL budget is per
//!   location and CloudTalk's per account: tenants never share state.

pub mod dynamodb;
pub mod lifecycle;
pub mod memory;
pub mod registry;
pub mod rotation;
pub mod seal;

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use dynamodb::DynamoTenantStore;
pub use lifecycle::{DisabledBy, InstallVia, RefusedReinstall};
pub use memory::MemoryTenantStore;
pub use registry::{Tenant, TenantSecrets, Tenants};
pub use rotation::{RetiringSecret, SealedRetiring, WebhookSecretKind};

pub use crate::config::CallLogging;
use crate::store::StoreError;

/// A stored document and its version (1 for the first write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    pub doc: String,
    pub version: i64,
}

/// Versioned documents: every write names the version it replaces, so concurrent writers
/// (two containers refreshing one token) cannot both win.
#[async_trait]
pub trait TenantStore: Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError>;
    /// Writes `doc` over version `expected` (`None`: the key must be new) and returns the new
    /// version; [`StoreError::Contended`] when another writer got there first.
    async fn put(&self, key: &str, doc: &str, expected: Option<i64>) -> Result<i64, StoreError>;
    /// Every document whose key starts with `prefix`.
    async fn list(&self, prefix: &str) -> Result<Vec<(String, Versioned)>, StoreError>;
    fn kind(&self) -> &'static str;
}

/// Where a tenant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    /// Switched off by an operator, or the app was uninstalled (which one:
    /// [`TenantRecord::disabled_by`]): events are refused.
    Disabled,
    /// Installed, but no GHL token yet (an agency install that has not minted one).
    AwaitingAuthorization,
    /// GHL refused the refresh token (`invalid_grant`): someone must install the app again.
    ReauthorizationRequired,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Disabled => "disabled",
            TenantStatus::AwaitingAuthorization => "awaiting_authorization",
            TenantStatus::ReauthorizationRequired => "reauthorization_required",
        }
    }
}

/// A tenant's options; each one unset falls back to the deployment's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed_call_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_call_date_field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_call_outcome_field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_call_duration_field: Option<String>,
    /// The `CAMPAIGN_STAGE_MAP` JSON of this tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_stage_map: Option<Value>,
    #[serde(default)]
    pub call_logging: CallLogging,
    /// CloudTalk agent id → GHL user id, winning over the match by email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_map: Option<BTreeMap<String, String>>,
    /// Whether contacts the bridge creates for a call get the agent's user as owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign_owner: Option<bool>,
    /// Whether a missed inbound call creates a callback task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed_call_tasks: Option<bool>,
    /// Whether a later answered call closes the callback tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_callback_tasks: Option<bool>,
    /// Minutes after the missed call a callback task is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_sla_minutes: Option<u32>,
    /// Whether a call's AI summary becomes a GHL note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_summaries: Option<bool>,
    /// Whether a call's transcript becomes GHL notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_transcripts: Option<bool>,
    /// The prefix of the GHL tags a call's tags become.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_tag_prefix: Option<String>,
    /// GHL custom field id for a call's rating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_rating_field: Option<String>,
    /// GHL custom field id for the last call's disposition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_disposition_field: Option<String>,
    /// What a call's cue card shows, as `CUE_CARD_FIELDS` (`all`, `none`, or fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cue_card_fields: Option<String>,
    /// Speed to lead, as the `SPEED_TO_LEAD_*` settings (name → value); the deployment's are
    /// not inherited (agents and hours are the tenant's own).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub speed_to_lead: BTreeMap<String, String>,
    /// Texts, as the `SMS_*` settings and `GHL_SMS_PROVIDER_ID` (name → value); the deployment's
    /// are not inherited (the sender number is the tenant's CloudTalk account's own).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sms: BTreeMap<String, String>,
}

/// How the bridge authenticates to GHL for a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GhlAuth {
    /// A private integration token.
    PrivateToken,
    /// The Marketplace app installed in the location: its access and refresh tokens.
    LocationInstall,
    /// The app installed by the agency: location tokens minted from the company's token.
    AgencyInstall,
}

/// The secrets a record may hold, each sealed.
pub mod secret {
    pub const CLOUDTALK_KEY_SECRET: &str = "cloudtalk_key_secret";
    pub const GHL_WEBHOOK_SECRET: &str = "ghl_webhook_secret";
    pub const CLOUDTALK_WEBHOOK_SECRET: &str = "cloudtalk_webhook_secret";
    pub const GHL_ACCESS_TOKEN: &str = "ghl_access_token";
    pub const GHL_REFRESH_TOKEN: &str = "ghl_refresh_token";
}

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantRecord {
    pub location_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: TenantStatus,
    #[serde(default)]
    pub options: TenantOptions,
    /// CloudTalk's key id (not a secret); its secret is sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudtalk_key_id: Option<String>,
    pub ghl_auth: GhlAuth,
    /// When the GHL access token expires (epoch ms), for installs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expires_at_ms: Option<i64>,
    /// A container holds the refresh since then (epoch ms): the others wait for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_started_at_ms: Option<i64>,
    /// A refresh was sent and its answer lost: the refresh token may be spent (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_unknown_since_ms: Option<i64>,
    /// Field name (see [`secret`]) → sealed value.
    #[serde(default)]
    pub sealed: BTreeMap<String, String>,
    /// Who disabled a [`TenantStatus::Disabled`] tenant. A record written before the field
    /// existed has none, and counts as an operator's (see [`lifecycle`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_by: Option<DisabledBy>,
    /// Re-installs refused while an operator had the tenant disabled, the latest last (at most
    /// [`lifecycle::REFUSALS_KEPT`]); `bridge tenants enable` clears them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reinstalls_refused: Vec<RefusedReinstall>,
    /// Webhook secrets a rotation replaced, sealed, each accepted until it retires (see
    /// [`rotation`]); dropped by the first write after that.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retiring_secrets: Vec<SealedRetiring>,
    pub updated_at: String,
}

/// An agency install: the company's tokens, from which location tokens are minted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyRecord {
    pub company_id: String,
    pub status: TenantStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expires_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_started_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_unknown_since_ms: Option<i64>,
    #[serde(default)]
    pub sealed: BTreeMap<String, String>,
    pub updated_at: String,
}

pub fn tenant_key(location_id: &str) -> String {
    format!("tenant#{location_id}")
}

pub fn company_key(company_id: &str) -> String {
    format!("company#{company_id}")
}

/// Now, as records write it.
pub fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
