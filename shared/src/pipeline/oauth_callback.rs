//! `GET /oauth/callback?code=…`: where GHL sends the installer of the Marketplace app back.
//! The code is exchanged (`POST /oauth/token`) and the tokens stored, sealed:
//!
//! - a location install becomes (or renews) that location's tenant, served at once;
//! - an agency install keeps the agency's tokens, and each location it approved becomes a
//!   tenant whose location tokens are minted from them on demand (`POST /oauth/locationToken`);
//! - a location an operator disabled stays disabled and keeps what it had: the install is
//!   recorded on it and logged (`reinstall_refused`), not applied, and the page says so (see
//!   [`crate::tenants::lifecycle`]).
//!
//! The page answered says what was installed and what is left to set (the tenant's CloudTalk
//! key and webhook secrets, with the `tenants` tool). Tokens never appear in it or in the log.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};

use crate::deps::Deps;
use crate::oauth::{company_record, Grant, OAuthClient, OAuthError};
use crate::tenants::registry::{private_token_tenant, TenantError};
use crate::tenants::{GhlAuth, InstallVia, Tenant, TenantSecrets, TenantStatus, Tenants};

pub use crate::registry::{OAUTH_CALLBACK_FUNCTION as FUNCTION, OAUTH_CALLBACK_ROUTE as ROUTE};

fn page(status: StatusCode, title: &str, text: &str) -> Response<Body> {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1><p>{x}</p></body></html>",
        t = escape(title),
        x = escape(text)
    );
    let mut response = Response::new(Body::Text(html));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// Answers one callback, and writes its one `oauth_callback` log line.
pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    deps.secrets.refresh_if_due().await;
    let code = req
        .query_string_parameters_ref()
        .and_then(|q| q.first("code").map(str::to_string))
        .or_else(|| {
            let query = req.uri().query().unwrap_or_default();
            url_parameter(query, "code")
        });
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        tracing::warn!(
            outcome = "refused",
            error = "missing_code",
            "oauth_callback"
        );
        return page(
            StatusCode::BAD_REQUEST,
            "Installation failed",
            "GoHighLevel sent no authorization code.",
        );
    };
    let Some(tenants) = deps.tenants.as_deref() else {
        tracing::error!(
            outcome = "failed",
            error = "not_configured",
            "oauth_callback"
        );
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Installation failed",
            "This deployment has no tenant registry (TENANTS_TABLE).",
        );
    };
    match install(deps, tenants, &code).await {
        Ok(installed) => {
            tracing::info!(
                outcome = "installed",
                user_type = installed.kind,
                locations = installed.locations.len(),
                refused = installed.refused.len(),
                "oauth_callback"
            );
            let (title, text) = installed.page();
            page(StatusCode::OK, title, &text)
        }
        Err(Failure::Grant(OAuthError::InvalidGrant)) => {
            tracing::warn!(
                outcome = "refused",
                error = "invalid_grant",
                "oauth_callback"
            );
            page(StatusCode::BAD_REQUEST, "Installation failed", "The authorization code is invalid or was already used: start the installation again.")
        }
        Err(Failure::Grant(OAuthError::NotConfigured)) => {
            tracing::error!(
                outcome = "failed",
                error = "not_configured",
                "oauth_callback"
            );
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Installation failed",
                "This deployment has no Marketplace app client (GHL_APP_CLIENT_ID, GHL_APP_CLIENT_SECRET).",
            )
        }
        Err(e) => {
            tracing::error!(outcome = "failed", detail = %e, "oauth_callback");
            page(
                StatusCode::BAD_GATEWAY,
                "Installation failed",
                "GoHighLevel could not be reached or refused the installation; try again.",
            )
        }
    }
}

fn url_parameter(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| urlencoding::decode(v).map(|v| v.into_owned()).ok())?
    })
}

struct Installed {
    kind: &'static str,
    locations: Vec<String>,
    /// Locations an operator of this deployment disabled: recorded, not installed.
    refused: Vec<String>,
}

impl Installed {
    /// The locations of an install and whether each is served.
    fn of(kind: &'static str, outcomes: impl IntoIterator<Item = (String, bool)>) -> Self {
        let (served, refused): (Vec<_>, Vec<_>) =
            outcomes.into_iter().partition(|(_, served)| *served);
        Installed {
            kind,
            locations: served.into_iter().map(|(l, _)| l).collect(),
            refused: refused.into_iter().map(|(l, _)| l).collect(),
        }
    }

    /// The page's title and text.
    fn page(&self) -> (&'static str, String) {
        let mut parts = Vec::new();
        if !self.locations.is_empty() || self.refused.is_empty() {
            parts.push(format!(
                "The app is installed for {} location(s): {}. Set each location's CloudTalk key and webhook secrets with the tenants tool (`tenants set-cloudtalk`).",
                self.locations.len(),
                self.locations.join(", ")
            ));
        }
        if !self.refused.is_empty() {
            parts.push(format!(
                "Not served: {}: this deployment's operator has switched it off; the installation was recorded, and only the operator can switch it on again.",
                self.refused.join(", ")
            ));
        }
        let title = match self.locations.is_empty() && !self.refused.is_empty() {
            true => "Not installed",
            false => "Installed",
        };
        (title, parts.join(" "))
    }
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Grant(#[from] OAuthError),
    #[error(transparent)]
    Store(#[from] TenantError),
    #[error("GoHighLevel's grant names no location or company")]
    Unnamed,
}

async fn install(deps: &Deps, tenants: &Tenants, code: &str) -> Result<Installed, Failure> {
    let client = OAuthClient::of(deps)?;
    let redirect = deps.config.ghl_oauth_redirect_uri.as_deref();
    let grant = client.exchange_code(code, redirect).await?;
    let now = deps.clock.now_ms();
    let company = grant.user_type.as_deref() == Some("Company");
    match (company, &grant.location_id, &grant.company_id) {
        (false, Some(location), _) => {
            let served = keep_location_grant(tenants, location, &grant, now).await?;
            Ok(Installed::of("location", [(location.clone(), served)]))
        }
        (true, _, Some(company_id)) => {
            let record = company_record(company_id, &grant, now);
            let refresh = grant.refresh_token.clone().unwrap_or_default();
            let tokens = (grant.access_token.as_str(), refresh.as_str());
            let expected = tenants.company(company_id).await?.map(|(_, v, _, _)| v);
            tenants.save_company(&record, tokens, expected).await?;
            let mut outcomes = Vec::new();
            for location in &grant.approved_locations {
                let served = agency_tenant(tenants, location, company_id).await?;
                outcomes.push((location.clone(), served));
            }
            Ok(Installed::of("company", outcomes))
        }
        _ => Err(Failure::Unnamed),
    }
}

/// The location's tenant as registered (and its version), else a new one with no CloudTalk
/// settings yet; `None` when an operator disabled it: the install (from `company`) is then
/// recorded on it, not applied.
async fn tenant_to_install(
    tenants: &Tenants,
    location: &str,
    company: Option<&str>,
) -> Result<Option<(Tenant, Option<i64>)>, TenantError> {
    let existing = tenants.get(location).await?;
    if let Some(disabled) = existing.clone().filter(|t| t.record.disabled_by_operator()) {
        tenants
            .refuse_reinstall(disabled, InstallVia::OauthCallback, company)
            .await?;
        return Ok(None);
    }
    let expected = existing.as_ref().map(|t| t.version);
    let mut tenant =
        existing.unwrap_or_else(|| private_token_tenant(location, "", TenantSecrets::default()));
    if tenant.record.cloudtalk_key_id.as_deref() == Some("") {
        tenant.record.cloudtalk_key_id = None;
    }
    tenant.record.reinstate(TenantStatus::Active);
    Ok(Some((tenant, expected)))
}

/// The location's tenant, created or renewed with the install's tokens (its CloudTalk
/// settings, if any, are kept); whether it is served (not when an operator disabled it).
async fn keep_location_grant(
    tenants: &Tenants,
    location: &str,
    grant: &Grant,
    now: i64,
) -> Result<bool, TenantError> {
    let company = grant.company_id.as_deref();
    let Some((mut tenant, expected)) = tenant_to_install(tenants, location, company).await? else {
        return Ok(false);
    };
    tenant.record.ghl_auth = GhlAuth::LocationInstall;
    tenant.record.company_id = grant.company_id.clone();
    tenant.record.token_expires_at_ms = Some(now + grant.expires_in_secs * 1000);
    tenant.record.refresh_started_at_ms = None;
    tenant.record.refresh_unknown_since_ms = None;
    tenant.secrets.ghl_access_token = Some(grant.access_token.clone());
    tenant.secrets.ghl_refresh_token = grant.refresh_token.clone();
    tenants.save(&tenant, expected).await.map(|_| true)
}

/// A location approved by an agency install: served with tokens minted from the agency's;
/// whether it is served (not when an operator disabled it).
async fn agency_tenant(
    tenants: &Tenants,
    location: &str,
    company_id: &str,
) -> Result<bool, TenantError> {
    let Some((mut tenant, expected)) =
        tenant_to_install(tenants, location, Some(company_id)).await?
    else {
        return Ok(false);
    };
    tenant.record.ghl_auth = GhlAuth::AgencyInstall;
    tenant.record.company_id = Some(company_id.to_string());
    tenant.record.token_expires_at_ms = None;
    tenant.secrets.ghl_access_token = None;
    tenant.secrets.ghl_refresh_token = None;
    tenants.save(&tenant, expected).await.map(|_| true)
}
