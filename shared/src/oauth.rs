//! GoHighLevel Marketplace app OAuth: exchanging an install's code, refreshing access tokens
//! before they expire, and minting location tokens from an agency install.
//!
//! GHL's refresh tokens are single-use and rotate: two containers refreshing one install at
//! once would burn it. So a refresh is **single-flight**: a container first claims it with a
//! conditional write on the record's version (a 30-second lease); the others wait for the new
//! token. The new refresh token is written before the access token is used. A refresh whose
//! answer is lost (the request may have reached GHL) leaves the refresh token possibly spent:
//! it is never sent again blindly; the install is recovered with `POST /oauth/reconnect` (the
//! app's client credentials) instead. Only `invalid_grant` is terminal: the tenant becomes
//! `reauthorization_required`, which the stack alarms on.
//!
//! Tokens are never logged nor returned in answers.

use std::time::Duration;

use serde_json::Value;

use crate::deps::Deps;
use crate::error::BridgeError;
use crate::store::StoreError;
use crate::tenants::registry::TenantError;
use crate::tenants::{now_text, CompanyRecord, GhlAuth, Tenant, TenantStatus, Tenants};

/// An access token with less than this left is refreshed first.
pub const REFRESH_BEFORE_MS: i64 = 5 * 60 * 1000;
/// How long one container may hold a refresh.
pub const REFRESH_LEASE_MS: i64 = 30_000;
/// How long a container waits for another's refresh (one takes well under a second); then the
/// event waits on the retry queue instead, so a lease held by a container that died costs no
/// request its answer.
const WAIT_FOR_REFRESH: Duration = Duration::from_secs(3);

/// What GHL's token endpoint granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in_secs: i64,
    /// `Location` or `Company`.
    pub user_type: Option<String>,
    pub location_id: Option<String>,
    pub company_id: Option<String>,
    /// The locations of a bulk (agency) install.
    pub approved_locations: Vec<String>,
}

/// Why an OAuth call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// GHL refused the grant for good (a spent, revoked or unknown refresh token or code).
    #[error("GoHighLevel refused the grant (invalid_grant)")]
    InvalidGrant,
    /// The request may have reached GHL but its answer was lost.
    #[error("the OAuth answer was lost: {0}")]
    OutcomeUnknown(String),
    /// GHL answered with an error that may pass (429, 5xx), having applied nothing.
    #[error("GoHighLevel OAuth is unavailable: {0}")]
    Unavailable(String),
    /// Anything else GHL refused.
    #[error("GoHighLevel OAuth refused the request ({0}): {1}")]
    Refused(u16, String),
    #[error("the app's OAuth client is not configured (GHL_APP_CLIENT_ID, GHL_APP_CLIENT_SECRET)")]
    NotConfigured,
    /// The install was retired (uninstalled, or disabled by an operator): no token is renewed.
    #[error("the install was retired")]
    Retired,
}

/// The app's OAuth client.
pub struct OAuthClient<'a> {
    http: &'a reqwest::Client,
    base: &'a str,
    client_id: String,
    client_secret: String,
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", urlencoding::encode(k), urlencoding::encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn text(value: &Value, key: &str) -> Option<String> {
    crate::payload::fields::find_string(value, &[key])
}

impl<'a> OAuthClient<'a> {
    pub fn of(deps: &'a Deps) -> Result<Self, OAuthError> {
        let secrets = deps.secrets();
        let client_id = deps.config.ghl_app_client_id.clone();
        let client_secret = secrets.ghl_app_client_secret.clone();
        match (client_id, client_secret) {
            (Some(client_id), Some(client_secret)) => Ok(Self {
                http: deps.http(),
                base: deps.config.ghl_api_base.trim_end_matches('/'),
                client_id,
                client_secret,
            }),
            _ => Err(OAuthError::NotConfigured),
        }
    }

    /// Posts a form. `spends` says the request uses up a single-use credential (a refresh
    /// token, an authorization code): then anything after the request may have been sent (a
    /// 5xx, a timeout, a dropped connection) is **outcome unknown**, since GHL may have rotated
    /// the token before failing to answer. Only a refusal before sending (no connection) or
    /// GHL's own refusal (4xx, 429) means nothing happened.
    async fn post(
        &self,
        path: &str,
        body: String,
        bearer: Option<&str>,
        spends: bool,
    ) -> Result<Value, OAuthError> {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("version", crate::clients::ghl::VERSION_2021_07_28)
            .body(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| {
            // Connecting failed: nothing reached GHL. Anything later may have.
            match e.is_connect() {
                true => OAuthError::Unavailable(e.without_url().to_string()),
                false => OAuthError::OutcomeUnknown(e.without_url().to_string()),
            }
        })?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| OAuthError::OutcomeUnknown(e.without_url().to_string()))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        match status {
            200..=299 => Ok(value),
            400 | 401 if text.contains("invalid_grant") => Err(OAuthError::InvalidGrant),
            500..=599 if spends => Err(OAuthError::OutcomeUnknown(format!("HTTP {status}"))),
            429 | 500..=599 => Err(OAuthError::Unavailable(format!("HTTP {status}"))),
            _ => {
                let message = value
                    .get("error_description")
                    .or_else(|| value.get("message"))
                    .map(|m| m.to_string())
                    .unwrap_or_default();
                Err(OAuthError::Refused(
                    status,
                    crate::telemetry::redact_text(&message),
                ))
            }
        }
    }

    fn grant(value: &Value) -> Result<Grant, OAuthError> {
        let access_token = text(value, "access_token")
            .ok_or_else(|| OAuthError::Refused(200, "no access_token in the answer".into()))?;
        let approved_locations = value
            .get("approvedLocations")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(crate::payload::fields::id_string)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Grant {
            access_token,
            refresh_token: text(value, "refresh_token"),
            expires_in_secs: value
                .get("expires_in")
                .and_then(Value::as_i64)
                .unwrap_or(86_399),
            user_type: text(value, "userType"),
            location_id: value
                .get("locationId")
                .and_then(crate::payload::fields::id_string),
            company_id: value
                .get("companyId")
                .and_then(crate::payload::fields::id_string),
            approved_locations,
        })
    }

    /// `POST /oauth/token`, `grant_type=authorization_code`.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<Grant, OAuthError> {
        let mut fields = vec![
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
            ("grant_type", "authorization_code"),
            ("code", code),
        ];
        fields.extend(redirect_uri.map(|uri| ("redirect_uri", uri)));
        let value = self.post("/oauth/token", form(&fields), None, true).await?;
        Self::grant(&value)
    }

    /// `POST /oauth/token`, `grant_type=refresh_token`.
    pub async fn refresh(&self, refresh_token: &str, user_type: &str) -> Result<Grant, OAuthError> {
        let fields = [
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("user_type", user_type),
        ];
        let value = self.post("/oauth/token", form(&fields), None, true).await?;
        Self::grant(&value)
    }

    /// `POST /oauth/locationToken`: a location's token from the agency's.
    pub async fn location_token(
        &self,
        company_token: &str,
        company_id: &str,
        location_id: &str,
    ) -> Result<Grant, OAuthError> {
        let fields = [("companyId", company_id), ("locationId", location_id)];
        let value = self
            .post(
                "/oauth/locationToken",
                form(&fields),
                Some(company_token),
                false,
            )
            .await?;
        Self::grant(&value)
    }

    /// `POST /oauth/reconnect`: a new authorization code for an install whose refresh token
    /// may be spent, without asking the user again.
    pub async fn reconnect(
        &self,
        location_id: Option<&str>,
        company_id: Option<&str>,
    ) -> Result<Grant, OAuthError> {
        let mut fields = vec![
            ("clientKey", self.client_id.as_str()),
            ("clientSecret", self.client_secret.as_str()),
        ];
        fields.extend(location_id.map(|l| ("locationId", l)));
        fields.extend(company_id.map(|c| ("companyId", c)));
        let value = self
            .post("/oauth/reconnect", form(&fields), None, false)
            .await?;
        let code = text(&value, "authorizationCode")
            .ok_or_else(|| OAuthError::Refused(200, "no authorizationCode in the answer".into()))?;
        self.exchange_code(&code, None).await
    }
}

impl From<OAuthError> for BridgeError {
    fn from(e: OAuthError) -> Self {
        match e {
            OAuthError::InvalidGrant => BridgeError::TenantUnavailable {
                code: TenantStatus::ReauthorizationRequired.as_str(),
                message: "GoHighLevel refused the install's authorization: install the app again"
                    .into(),
            },
            OAuthError::NotConfigured => BridgeError::Config(e.to_string()),
            OAuthError::Retired => BridgeError::Forbidden {
                code: "tenant_disabled",
                message: "the install was retired".into(),
            },
            OAuthError::Refused(..) => BridgeError::TenantUnavailable {
                code: "oauth_refused",
                message: e.to_string(),
            },
            OAuthError::OutcomeUnknown(_) | OAuthError::Unavailable(_) => {
                BridgeError::TokenUnavailable(e.to_string())
            }
        }
    }
}

fn store_error(e: TenantError) -> BridgeError {
    match e {
        TenantError::Store(s) => BridgeError::Store(s),
        other => BridgeError::Config(other.to_string()),
    }
}

fn registry(deps: &Deps) -> Result<&Tenants, BridgeError> {
    deps.tenants
        .as_deref()
        .ok_or_else(|| BridgeError::Config("TENANTS_TABLE is not configured".into()))
}

/// The GHL token to use for `tenant` now: its private integration token, or its install's
/// access token, refreshed (or minted) first when it is about to expire.
pub async fn ghl_token(deps: &Deps, tenant: &Tenant) -> Result<Option<String>, BridgeError> {
    match tenant.record.ghl_auth {
        GhlAuth::PrivateToken => Ok(tenant.secrets.ghl_access_token.clone()),
        GhlAuth::LocationInstall | GhlAuth::AgencyInstall => {
            if fresh(tenant, deps.clock.now_ms()) {
                return Ok(tenant.secrets.ghl_access_token.clone());
            }
            renew(deps, tenant).await.map(Some)
        }
    }
}

fn fresh(tenant: &Tenant, now_ms: i64) -> bool {
    tenant.secrets.ghl_access_token.is_some()
        && tenant
            .record
            .token_expires_at_ms
            .is_some_and(|at| at - now_ms > REFRESH_BEFORE_MS)
}

/// Renews the tenant's access token, single-flight, and returns it.
async fn renew(deps: &Deps, tenant: &Tenant) -> Result<String, BridgeError> {
    let tenants = registry(deps)?;
    let location = tenant.location_id().to_string();
    let until = tokio::time::Instant::now() + crate::deadline::Deadline::bound(WAIT_FOR_REFRESH);
    loop {
        let now = deps.clock.now_ms();
        let current = tenants.get(&location).await.map_err(store_error)?;
        let Some(mut current) = current else {
            return Err(BridgeError::TenantUnavailable {
                code: "unknown_tenant",
                message: format!("tenant {location} was removed"),
            });
        };
        if fresh(&current, now) {
            return current
                .secrets
                .ghl_access_token
                .clone()
                .ok_or_else(|| BridgeError::Config("the tenant has no token".into()));
        }
        // The status is read again here, where the refresh is claimed: a tenant disabled or
        // uninstalled meanwhile renews nothing (and so never raises the reauthorization alarm).
        current.may_act()?;
        let leased = current
            .record
            .refresh_started_at_ms
            .is_some_and(|at| now - at < REFRESH_LEASE_MS);
        if !leased {
            // Claim the refresh: only one container wins this write.
            let unknown_before = current.record.refresh_started_at_ms.is_some()
                || current.record.refresh_unknown_since_ms.is_some();
            current.record.refresh_started_at_ms = Some(now);
            if current.record.refresh_unknown_since_ms.is_none() && unknown_before {
                // A container died holding the lease: its refresh may have gone through.
                current.record.refresh_unknown_since_ms = Some(now);
            }
            match tenants.save(&current, Some(current.version)).await {
                Ok(version) => {
                    current.version = version;
                    return refresh_claimed(deps, tenants, current).await;
                }
                Err(TenantError::Store(StoreError::Contended(_))) => {}
                Err(e) => return Err(store_error(e)),
            }
        }
        if tokio::time::Instant::now() + Duration::from_millis(200) >= until {
            return Err(BridgeError::TokenUnavailable(
                "another container is renewing it".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Refreshes (or mints, or recovers) the token while holding the lease, and writes the new
/// tokens before returning the access token.
async fn refresh_claimed(
    deps: &Deps,
    tenants: &Tenants,
    mut tenant: Tenant,
) -> Result<String, BridgeError> {
    let result = obtain(deps, tenants, &tenant).await;
    let now = deps.clock.now_ms();
    tenant.record.refresh_started_at_ms = None;
    match result {
        Ok(grant) => {
            tenant.secrets.ghl_access_token = Some(grant.access_token.clone());
            if let Some(refresh) = grant.refresh_token {
                tenant.secrets.ghl_refresh_token = Some(refresh);
            }
            tenant.record.token_expires_at_ms = Some(now + grant.expires_in_secs * 1000);
            tenant.record.refresh_unknown_since_ms = None;
            // The status is left as it is: only an install or `tenants enable` makes a tenant
            // active, and a renewal only ever takes that away (`invalid_grant`).
            // Written first: a refresh token that is not kept is a lost install.
            tenants
                .save(&tenant, Some(tenant.version))
                .await
                .map_err(store_error)?;
            tracing::info!(tenant = %tenant.location_id(), "ghl token renewed");
            Ok(grant.access_token)
        }
        Err(OAuthError::InvalidGrant) => {
            tenant.record.status = TenantStatus::ReauthorizationRequired;
            tenants
                .save(&tenant, Some(tenant.version))
                .await
                .map_err(store_error)?;
            tracing::error!(tenant = %tenant.location_id(), error = "reauthorization_required", "GoHighLevel refused the install's refresh token; the app must be installed again");
            crate::telemetry::count_metric("ReauthorizationRequired");
            Err(OAuthError::InvalidGrant.into())
        }
        Err(OAuthError::OutcomeUnknown(why)) => {
            tenant.record.refresh_unknown_since_ms = Some(now);
            tenants
                .save(&tenant, Some(tenant.version))
                .await
                .map_err(store_error)?;
            tracing::warn!(tenant = %tenant.location_id(), detail = %why, "the token refresh's answer was lost; the install will be reconnected");
            Err(OAuthError::OutcomeUnknown(why).into())
        }
        Err(other) => {
            tenants
                .save(&tenant, Some(tenant.version))
                .await
                .map_err(store_error)?;
            Err(other.into())
        }
    }
}

/// The new grant: minted from the agency's token, refreshed with the tenant's refresh token,
/// or, when that token may be spent, recovered through `reconnect`.
async fn obtain(deps: &Deps, tenants: &Tenants, tenant: &Tenant) -> Result<Grant, OAuthError> {
    let client = OAuthClient::of(deps)?;
    let record = &tenant.record;
    match record.ghl_auth {
        GhlAuth::AgencyInstall => {
            let company_id = record
                .company_id
                .as_deref()
                .ok_or(OAuthError::InvalidGrant)?;
            let company_token = company_token(deps, tenants, company_id).await?;
            client
                .location_token(&company_token, company_id, record.location_id.as_str())
                .await
        }
        _ if record.refresh_unknown_since_ms.is_some() => {
            client.reconnect(Some(&record.location_id), None).await
        }
        _ => {
            let refresh = tenant
                .secrets
                .ghl_refresh_token
                .as_deref()
                .ok_or(OAuthError::InvalidGrant)?;
            client.refresh(refresh, "Location").await
        }
    }
}

/// The agency's access token, refreshed when about to expire (one container at a time, by the
/// company record's version).
async fn company_token(
    deps: &Deps,
    tenants: &Tenants,
    company_id: &str,
) -> Result<String, OAuthError> {
    let client = OAuthClient::of(deps)?;
    let until = tokio::time::Instant::now() + crate::deadline::Deadline::bound(WAIT_FOR_REFRESH);
    loop {
        let now = deps.clock.now_ms();
        let found = tenants
            .company(company_id)
            .await
            .map_err(|e| OAuthError::Unavailable(e.to_string()))?;
        let Some((mut record, version, access, refresh)) = found else {
            return Err(OAuthError::InvalidGrant);
        };
        match record.status {
            TenantStatus::ReauthorizationRequired => return Err(OAuthError::InvalidGrant),
            TenantStatus::Disabled => return Err(OAuthError::Retired),
            _ => {}
        }
        if let Some(access) = access.clone().filter(|_| {
            record
                .token_expires_at_ms
                .is_some_and(|at| at - now > REFRESH_BEFORE_MS)
        }) {
            return Ok(access);
        }
        let leased = record
            .refresh_started_at_ms
            .is_some_and(|at| now - at < REFRESH_LEASE_MS);
        if !leased {
            let died = record.refresh_started_at_ms.is_some();
            record.refresh_started_at_ms = Some(now);
            if died {
                record.refresh_unknown_since_ms = Some(now);
            }
            let tokens = (
                access.as_deref().unwrap_or_default(),
                refresh.as_deref().unwrap_or_default(),
            );
            if let Ok(version) = tenants.save_company(&record, tokens, Some(version)).await {
                let held = (access, refresh);
                return refresh_company(&client, tenants, record, version, held, now).await;
            }
        }
        if tokio::time::Instant::now() + Duration::from_millis(200) >= until {
            return Err(OAuthError::Unavailable(
                "another container is refreshing the agency token".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn refresh_company(
    client: &OAuthClient<'_>,
    tenants: &Tenants,
    mut record: CompanyRecord,
    version: i64,
    (access, refresh): (Option<String>, Option<String>),
    now: i64,
) -> Result<String, OAuthError> {
    let result = match (&record.refresh_unknown_since_ms, refresh.as_deref()) {
        (Some(_), _) | (None, None) => client.reconnect(None, Some(&record.company_id)).await,
        (None, Some(token)) => client.refresh(token, "Company").await,
    };
    record.refresh_started_at_ms = None;
    let saved = |record: &CompanyRecord, access: &str, refresh: &str| {
        let record = record.clone();
        let (access, refresh) = (access.to_string(), refresh.to_string());
        async move {
            tenants
                .save_company(&record, (&access, &refresh), Some(version))
                .await
                .map_err(|e| OAuthError::Unavailable(e.to_string()))
        }
    };
    match result {
        Ok(grant) => {
            let new_refresh = grant.refresh_token.clone().or(refresh).unwrap_or_default();
            record.token_expires_at_ms = Some(now + grant.expires_in_secs * 1000);
            record.refresh_unknown_since_ms = None;
            saved(&record, &grant.access_token, &new_refresh).await?;
            Ok(grant.access_token)
        }
        Err(e) => {
            match &e {
                OAuthError::InvalidGrant => {
                    record.status = TenantStatus::ReauthorizationRequired;
                    tracing::error!(company = %record.company_id, error = "reauthorization_required", "GoHighLevel refused the agency install's refresh token");
                    crate::telemetry::count_metric("ReauthorizationRequired");
                }
                OAuthError::OutcomeUnknown(_) => record.refresh_unknown_since_ms = Some(now),
                _ => {}
            }
            let old = (access.unwrap_or_default(), refresh.unwrap_or_default());
            let _ = saved(&record, &old.0, &old.1).await;
            Err(e)
        }
    }
}

/// A company record for an agency install's grant.
pub fn company_record(company_id: &str, grant: &Grant, now_ms: i64) -> CompanyRecord {
    CompanyRecord {
        company_id: company_id.to_string(),
        status: TenantStatus::Active,
        token_expires_at_ms: Some(now_ms + grant.expires_in_secs * 1000),
        refresh_started_at_ms: None,
        refresh_unknown_since_ms: None,
        sealed: Default::default(),
        updated_at: now_text(),
    }
}
