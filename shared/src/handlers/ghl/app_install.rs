//! `POST /api/ghl-webhooks/app-install`: the Marketplace app was installed in, or uninstalled
//! from, a location or an agency (GHL's `INSTALL` / `UNINSTALL` webhooks, sent to the app's
//! webhook URL) → the tenant is created, enabled or retired.
//!
//! - `INSTALL` for a location: a new tenant; with its agency's install on record it is served
//!   at once (its location tokens are minted from the agency's), otherwise it waits for the
//!   install's authorization, which the OAuth callback brings. A tenant an uninstall retired
//!   is enabled again; one an operator disabled stays disabled: the re-install is recorded
//!   on it and logged (`reinstall_refused`), not applied (see [`crate::tenants::lifecycle`]).
//! - `UNINSTALL` for a location: the tenant is disabled and its GHL tokens dropped; for an
//!   agency (no location), its install and every tenant served through it.
//!
//! Only signed events naming this deployment's app (`GHL_APP_ID`) are accepted (see
//! [`crate::pipeline::auth::check_install_origin`]).

use async_trait::async_trait;
use serde_json::Value;

use crate::deps::Deps;
use crate::endpoint::{Handler, Outcome};
use crate::error::BridgeError;
use crate::idempotency::Steps;
use crate::payload::ghl::install_event;
use crate::payload::PayloadError;
use crate::tenants::registry::{private_token_tenant, TenantError};
use crate::tenants::{DisabledBy, GhlAuth, InstallVia, TenantSecrets, TenantStatus, Tenants};

pub struct AppInstall;

pub use crate::payload::ghl::InstallEvent;

/// The install or uninstall a body is: the same reading admission makes of it
/// ([`crate::payload::ghl::install_event`]), with the ids an install must name.
pub fn parse_install(body: &Value) -> Result<InstallEvent, PayloadError> {
    let event = install_event(body)
        .ok_or_else(|| PayloadError::missing_fields("not an install event", &["type"]))?;
    if event.location_id.is_none() && event.company_id.is_none() {
        return Err(PayloadError::missing_fields(
            "an install names its location or its agency",
            &["locationId", "companyId"],
        ));
    }
    Ok(event)
}

fn store_error(e: TenantError) -> BridgeError {
    match e {
        TenantError::Store(s) => BridgeError::Store(s),
        other => BridgeError::Config(other.to_string()),
    }
}

#[async_trait]
impl Handler for AppInstall {
    type Event = InstallEvent;

    fn parse(&self, body: &Value) -> Result<InstallEvent, PayloadError> {
        parse_install(body)
    }

    async fn apply(
        &self,
        deps: &Deps,
        event: &InstallEvent,
        _steps: &mut Steps,
    ) -> Result<Outcome, BridgeError> {
        let tenants = deps
            .tenants
            .as_deref()
            .ok_or_else(|| BridgeError::Config("TENANTS_TABLE is not configured".into()))?;
        let result = match (event.installed, &event.location_id) {
            (true, Some(location)) => {
                install(tenants, location, event.company_id.as_deref()).await?
            }
            (true, None) => "agency_noted",
            (false, Some(location)) => retire(tenants, location).await?,
            (false, None) => retire_agency(tenants, event.company_id.as_deref()).await?,
        };
        let mut outcome = Outcome::with_result(result);
        if let Some(location) = &event.location_id {
            outcome = outcome.detail("tenant", location);
        }
        Ok(outcome)
    }
}

async fn install(
    tenants: &Tenants,
    location: &str,
    company: Option<&str>,
) -> Result<&'static str, BridgeError> {
    let agency = match company {
        Some(c) => tenants.company(c).await.map_err(store_error)?.is_some(),
        None => false,
    };
    match tenants.get(location).await.map_err(store_error)? {
        Some(tenant) if tenant.record.disabled_by_operator() => {
            tenants
                .refuse_reinstall(tenant, InstallVia::InstallWebhook, company)
                .await
                .map_err(store_error)?;
            Ok("reinstall_refused")
        }
        Some(mut tenant) => {
            let has_token = tenant.secrets.ghl_access_token.is_some() || agency;
            tenant.record.reinstate(match has_token {
                true => TenantStatus::Active,
                false => TenantStatus::AwaitingAuthorization,
            });
            if agency {
                tenant.record.ghl_auth = GhlAuth::AgencyInstall;
                tenant.record.company_id = company.map(str::to_string);
            }
            tenants
                .save(&tenant, Some(tenant.version))
                .await
                .map_err(store_error)?;
            Ok("reinstalled")
        }
        None => {
            let mut tenant = private_token_tenant(location, "", TenantSecrets::default());
            tenant.record.cloudtalk_key_id = None;
            tenant.record.company_id = company.map(str::to_string);
            (tenant.record.ghl_auth, tenant.record.status) = match agency {
                true => (GhlAuth::AgencyInstall, TenantStatus::Active),
                false => (
                    GhlAuth::LocationInstall,
                    TenantStatus::AwaitingAuthorization,
                ),
            };
            match tenants.save(&tenant, None).await {
                Ok(_) => Ok("installed"),
                // The OAuth callback created it meanwhile: it is in place.
                Err(TenantError::Store(crate::store::StoreError::Contended(_))) => Ok("installed"),
                Err(e) => Err(store_error(e)),
            }
        }
    }
}

async fn retire(tenants: &Tenants, location: &str) -> Result<&'static str, BridgeError> {
    let Some(mut tenant) = tenants.get(location).await.map_err(store_error)? else {
        return Ok("not_installed");
    };
    tenant.record.disable(DisabledBy::Uninstall);
    tenant.record.token_expires_at_ms = None;
    tenant.secrets.ghl_access_token = None;
    tenant.secrets.ghl_refresh_token = None;
    tenants
        .save(&tenant, Some(tenant.version))
        .await
        .map_err(store_error)?;
    Ok("uninstalled")
}

async fn retire_agency(
    tenants: &Tenants,
    company: Option<&str>,
) -> Result<&'static str, BridgeError> {
    let Some(company) = company else {
        return Ok("not_installed");
    };
    if let Some((mut record, version, _, _)) =
        tenants.company(company).await.map_err(store_error)?
    {
        record.status = TenantStatus::Disabled;
        record.token_expires_at_ms = None;
        tenants
            .save_company(&record, ("", ""), Some(version))
            .await
            .map_err(store_error)?;
    }
    for (record, _) in tenants.list().await.map_err(store_error)? {
        if record.company_id.as_deref() == Some(company)
            && record.ghl_auth == GhlAuth::AgencyInstall
        {
            retire(tenants, &record.location_id).await?;
        }
    }
    Ok("uninstalled")
}
