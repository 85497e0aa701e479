//! `GET /oauth/callback?code=…`: where GHL sends the installer of the Marketplace app back.
//! The code is exchanged (`POST /oauth/token`) and the tokens stored, sealed:
//!
//! - a location install becomes (or renews) that location's tenant, served at once;
//! - an agency install keeps the agency's tokens, and each location it approved becomes a
//!   tenant whose location tokens are minted from them on demand (`POST /oauth/locationToken`).
//!
//! The page answered says what was installed and what is left to set (the tenant's CloudTalk
//! key and webhook secrets, with the `tenants` tool). Tokens never appear in it or in the log.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};

use crate::deps::Deps;
use crate::oauth::{company_record, Grant, OAuthClient, OAuthError};
use crate::tenants::registry::{private_token_tenant, TenantError};
use crate::tenants::{GhlAuth, Tenant, TenantSecrets, TenantStatus, Tenants};

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
        Ok(Installed { kind, locations }) => {
            tracing::info!(
                outcome = "installed",
                user_type = kind,
                locations = locations.len(),
                "oauth_callback"
            );
            let text = format!(
                "The app is installed for {} location(s): {}. Set each location's CloudTalk key and webhook secrets with the tenants tool (`tenants set-cloudtalk`).",
                locations.len(),
                locations.join(", ")
            );
            page(StatusCode::OK, "Installed", &text)
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
            keep_location_grant(tenants, location, &grant, now).await?;
            Ok(Installed {
                kind: "location",
                locations: vec![location.clone()],
            })
        }
        (true, _, Some(company_id)) => {
            let record = company_record(company_id, &grant, now);
            let refresh = grant.refresh_token.clone().unwrap_or_default();
            let tokens = (grant.access_token.as_str(), refresh.as_str());
            let expected = tenants.company(company_id).await?.map(|(_, v, _, _)| v);
            tenants.save_company(&record, tokens, expected).await?;
            for location in &grant.approved_locations {
                agency_tenant(tenants, location, company_id).await?;
            }
            Ok(Installed {
                kind: "company",
                locations: grant.approved_locations.clone(),
            })
        }
        _ => Err(Failure::Unnamed),
    }
}

/// The location's tenant as registered (and its version), else a new one with no CloudTalk
/// settings yet.
async fn tenant_to_install(
    tenants: &Tenants,
    location: &str,
) -> Result<(Tenant, Option<i64>), TenantError> {
    let existing = tenants.get(location).await?;
    let expected = existing.as_ref().map(|t| t.version);
    let mut tenant =
        existing.unwrap_or_else(|| private_token_tenant(location, "", TenantSecrets::default()));
    if tenant.record.cloudtalk_key_id.as_deref() == Some("") {
        tenant.record.cloudtalk_key_id = None;
    }
    tenant.record.status = TenantStatus::Active;
    Ok((tenant, expected))
}

/// The location's tenant, created or renewed with the install's tokens (its CloudTalk
/// settings, if any, are kept).
async fn keep_location_grant(
    tenants: &Tenants,
    location: &str,
    grant: &Grant,
    now: i64,
) -> Result<(), TenantError> {
    let (mut tenant, expected) = tenant_to_install(tenants, location).await?;
    tenant.record.ghl_auth = GhlAuth::LocationInstall;
    tenant.record.company_id = grant.company_id.clone();
    tenant.record.token_expires_at_ms = Some(now + grant.expires_in_secs * 1000);
    tenant.record.refresh_started_at_ms = None;
    tenant.record.refresh_unknown_since_ms = None;
    tenant.secrets.ghl_access_token = Some(grant.access_token.clone());
    tenant.secrets.ghl_refresh_token = grant.refresh_token.clone();
    tenants.save(&tenant, expected).await.map(drop)
}

/// A location approved by an agency install: served with tokens minted from the agency's.
async fn agency_tenant(
    tenants: &Tenants,
    location: &str,
    company_id: &str,
) -> Result<(), TenantError> {
    let (mut tenant, expected) = tenant_to_install(tenants, location).await?;
    tenant.record.ghl_auth = GhlAuth::AgencyInstall;
    tenant.record.company_id = Some(company_id.to_string());
    tenant.record.token_expires_at_ms = None;
    tenant.secrets.ghl_access_token = None;
    tenant.secrets.ghl_refresh_token = None;
    tenants.save(&tenant, expected).await.map(drop)
}
