//! The tenant registry: records read and written with their secrets sealed, and a tenant's
//! configuration and secrets as the handlers use them.

use std::sync::Arc;

use super::lifecycle::InstallVia;
use super::rotation::{self, RetiringSecret, SealedRetiring, WebhookSecretKind};
use super::seal::{Sealer, Unsealable};
use super::{
    company_key, now_text, secret, tenant_key, CompanyRecord, GhlAuth, TenantRecord, TenantStatus,
    TenantStore,
};
use crate::clock::{Clock, SystemClock};
use crate::config::{CampaignStageMap, Config};
use crate::error::BridgeError;
use crate::secrets::Secrets;
use crate::speed_to_lead::SpeedToLeadOptions;
use crate::store::StoreError;

/// A tenant record opened: its plain secrets, in memory only.
#[derive(Clone, PartialEq)]
pub struct Tenant {
    pub record: TenantRecord,
    pub version: i64,
    pub secrets: TenantSecrets,
}

/// A tenant's secrets.
#[derive(Clone, Default, PartialEq)]
pub struct TenantSecrets {
    pub cloudtalk_key_secret: Option<String>,
    pub ghl_webhook_secrets: Vec<String>,
    pub cloudtalk_webhook_secrets: Vec<String>,
    pub ghl_access_token: Option<String>,
    pub ghl_refresh_token: Option<String>,
    /// Webhook secrets a rotation replaced, each accepted until it retires (see
    /// [`rotation`]).
    pub retiring: Vec<RetiringSecret>,
}

impl TenantSecrets {
    /// The current webhook secrets of `kind`.
    pub fn current(&self, kind: WebhookSecretKind) -> &[String] {
        match kind {
            WebhookSecretKind::Ghl => &self.ghl_webhook_secrets,
            WebhookSecretKind::Cloudtalk => &self.cloudtalk_webhook_secrets,
        }
    }

    /// The webhook secrets of `kind` that authenticate a request at `now_ms`: the current ones
    /// and those replaced by a rotation that have not retired yet.
    pub fn accepted(&self, kind: WebhookSecretKind, now_ms: i64) -> Vec<String> {
        rotation::accepted(self.current(kind), &self.retiring, kind, now_ms)
    }

    /// Makes `new` the webhook secret of `kind`, the ones it replaces accepted `overlap_ms`
    /// after `now_ms` (none with 0); when they retire, `None` when none stays accepted.
    pub fn rotate(
        &mut self,
        kind: WebhookSecretKind,
        new: &str,
        now_ms: i64,
        overlap_ms: i64,
    ) -> Option<i64> {
        let current = match kind {
            WebhookSecretKind::Ghl => &mut self.ghl_webhook_secrets,
            WebhookSecretKind::Cloudtalk => &mut self.cloudtalk_webhook_secrets,
        };
        rotation::rotate(current, &mut self.retiring, kind, new, (now_ms, overlap_ms))
    }
}

impl std::fmt::Debug for TenantSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantSecrets")
            .field("cloudtalk_key_secret", &self.cloudtalk_key_secret.is_some())
            .field("ghl_webhook_secrets", &self.ghl_webhook_secrets.len())
            .field(
                "cloudtalk_webhook_secrets",
                &self.cloudtalk_webhook_secrets.len(),
            )
            .field("ghl_access_token", &self.ghl_access_token.is_some())
            .field("ghl_refresh_token", &self.ghl_refresh_token.is_some())
            .field("retiring", &self.retiring)
            .finish()
    }
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("location_id", &self.record.location_id)
            .field("status", &self.record.status)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Tenant {
    pub fn location_id(&self) -> &str {
        &self.record.location_id
    }

    /// Whether the tenant may act now: the one status rule of every way in (see
    /// [`crate::admission`]). Refuses a disabled tenant (an operator or an uninstall: 403
    /// `tenant_disabled`) and one waiting for someone to authorize it (503 with its status).
    pub fn may_act(&self) -> Result<(), BridgeError> {
        match self.record.status {
            TenantStatus::Active => Ok(()),
            TenantStatus::Disabled => Err(disabled(self.location_id())),
            status => Err(BridgeError::TenantUnavailable {
                code: status.as_str(),
                message: match (status, self.record.ghl_auth) {
                    (TenantStatus::ReauthorizationRequired, _) => format!(
                        "GoHighLevel refused tenant {}'s authorization: install the app again",
                        self.location_id()
                    ),
                    (_, GhlAuth::AgencyInstall) => format!(
                        "tenant {} waits for its agency's authorization",
                        self.location_id()
                    ),
                    _ => format!("tenant {} is not authorized yet", self.location_id()),
                },
            }),
        }
    }

    /// The deployment's configuration with this tenant's location and options.
    pub fn config(&self, base: &Config) -> Config {
        let o = &self.record.options;
        let mut config = base.clone();
        config.ghl_location_id = Some(self.record.location_id.clone());
        config.tenant_id = Some(self.record.location_id.clone());
        config.default_phone_region = o.phone_region.clone().or(base.default_phone_region.clone());
        if let Some(tag) = &o.missed_call_tag {
            config.missed_call_tag = tag.clone();
        }
        // Custom field ids and pipeline stages are a location's own: another location's would
        // be refused by GHL (or, worse, name a field or stage of the same id there).
        config.last_call_fields.date = o.last_call_date_field.clone();
        config.last_call_fields.outcome = o.last_call_outcome_field.clone();
        config.last_call_fields.duration = o.last_call_duration_field.clone();
        config.campaign_stage_map = match &o.campaign_stage_map {
            Some(map) => CampaignStageMap::parse(&map.to_string()),
            None => Ok(CampaignStageMap::default()),
        };
        config.call_logging = o.call_logging.clone();
        let people = &mut config.people;
        // Agent ids are a CloudTalk account's own: the deployment's map is not the tenant's.
        people.agent_map = o.agent_map.clone().unwrap_or_default();
        people.assign_owner = o.assign_owner.unwrap_or(people.assign_owner);
        people.missed_call_tasks = o.missed_call_tasks.unwrap_or(people.missed_call_tasks);
        people.close_callback_tasks = o
            .close_callback_tasks
            .unwrap_or(people.close_callback_tasks);
        people.callback_sla_minutes = o
            .callback_sla_minutes
            .unwrap_or(people.callback_sla_minutes);
        let insights = &mut config.insights;
        insights.summaries = o.call_summaries.unwrap_or(insights.summaries);
        insights.transcripts = o.call_transcripts.unwrap_or(insights.transcripts);
        if let Some(prefix) = &o.call_tag_prefix {
            insights.tag_prefix = crate::config::tag_prefix(prefix);
        }
        insights.rating_field = o.call_rating_field.clone();
        insights.disposition_field = o.call_disposition_field.clone();
        if let Some(fields) = &o.cue_card_fields {
            config.cue_cards = crate::cue_card::CueCardOptions::read(Some(fields));
        }
        config.speed_to_lead = SpeedToLeadOptions::from_settings(&o.speed_to_lead)
            .unwrap_or_else(|e| {
                let location = &self.record.location_id;
                tracing::error!(location = %location, detail = %e, "speed to lead is off for the tenant: its settings are invalid");
                SpeedToLeadOptions::default()
            });
        config.sms = crate::sms::SmsOptions::from_settings(&o.sms).unwrap_or_else(|e| {
            let location = &self.record.location_id;
            tracing::error!(location = %location, detail = %e, "texts are not sent for the tenant: its settings are invalid");
            crate::sms::SmsOptions::default()
        });
        config
    }

    /// The secrets the tenant's clients and webhook checks use, with `ghl_token` as the GHL
    /// token (for an install, the access token in use).
    pub fn client_secrets(&self, ghl_token: Option<String>) -> Secrets {
        Secrets {
            cloudtalk_api_key_id: self.record.cloudtalk_key_id.clone(),
            cloudtalk_api_key_secret: self.secrets.cloudtalk_key_secret.clone(),
            ghl_api_token: ghl_token,
            ghl_webhook_secrets: self.secrets.ghl_webhook_secrets.clone(),
            cloudtalk_webhook_secrets: self.secrets.cloudtalk_webhook_secrets.clone(),
            ghl_app_client_secret: None,
            tenant_seal_key: None,
        }
    }
}

/// The refusal of a disabled tenant's work.
pub fn disabled(location: &str) -> BridgeError {
    BridgeError::Forbidden {
        code: "tenant_disabled",
        message: format!("tenant {location} is disabled"),
    }
}

/// Why a tenant cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("tenants: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unsealable(#[from] Unsealable),
    #[error("tenant record {0} is not valid: {1}")]
    Invalid(String, String),
}

/// The registry: the store, the sealer and the clock retired secrets are judged by.
pub struct Tenants {
    pub store: Arc<dyn TenantStore>,
    sealer: Sealer,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Tenants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tenants(..)")
    }
}

fn list(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Tenants {
    pub fn new(store: Arc<dyn TenantStore>, seal_key: &str) -> Self {
        Self {
            store,
            sealer: Sealer::new(seal_key),
            clock: Arc::new(SystemClock),
        }
    }

    /// The registry judging retired secrets and dating refused re-installs by `clock` (the
    /// deployment's).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Now, by the registry's clock (epoch ms).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    fn open(&self, record: &TenantRecord, name: &str) -> Result<Option<String>, Unsealable> {
        record
            .sealed
            .get(name)
            .map(|sealed| self.sealer.open(sealed))
            .transpose()
    }

    /// The tenant of a GHL location, if registered.
    pub async fn get(&self, location_id: &str) -> Result<Option<Tenant>, TenantError> {
        let key = tenant_key(location_id);
        let Some(stored) = self.store.get(&key).await? else {
            return Ok(None);
        };
        let record: TenantRecord = serde_json::from_str(&stored.doc)
            .map_err(|e| TenantError::Invalid(key.clone(), e.to_string()))?;
        let secrets = TenantSecrets {
            cloudtalk_key_secret: self.open(&record, secret::CLOUDTALK_KEY_SECRET)?,
            ghl_webhook_secrets: list(self.open(&record, secret::GHL_WEBHOOK_SECRET)?),
            cloudtalk_webhook_secrets: list(self.open(&record, secret::CLOUDTALK_WEBHOOK_SECRET)?),
            ghl_access_token: self.open(&record, secret::GHL_ACCESS_TOKEN)?,
            ghl_refresh_token: self.open(&record, secret::GHL_REFRESH_TOKEN)?,
            retiring: self.open_retiring(&record.retiring_secrets)?,
        };
        Ok(Some(Tenant {
            record,
            version: stored.version,
            secrets,
        }))
    }

    fn open_retiring(&self, sealed: &[SealedRetiring]) -> Result<Vec<RetiringSecret>, Unsealable> {
        sealed
            .iter()
            .map(|r| {
                Ok(RetiringSecret {
                    kind: r.kind,
                    value: self.sealer.open(&r.sealed)?,
                    retires_at_ms: r.retires_at_ms,
                })
            })
            .collect()
    }

    /// Every registered tenant's record (secrets still sealed).
    pub async fn list(&self) -> Result<Vec<(TenantRecord, i64)>, TenantError> {
        let mut out = Vec::new();
        for (key, stored) in self.store.list("tenant#").await? {
            let record: TenantRecord = serde_json::from_str(&stored.doc)
                .map_err(|e| TenantError::Invalid(key, e.to_string()))?;
            out.push((record, stored.version));
        }
        Ok(out)
    }

    /// Writes `tenant` over version `expected` (`None`: a new tenant), sealing its secrets
    /// (webhook secrets retired by now are dropped); the new version.
    pub async fn save(&self, tenant: &Tenant, expected: Option<i64>) -> Result<i64, TenantError> {
        let mut record = tenant.record.clone();
        record.updated_at = now_text();
        let s = &tenant.secrets;
        let joined = |v: &Vec<String>| (!v.is_empty()).then(|| v.join(","));
        let fields = [
            (secret::CLOUDTALK_KEY_SECRET, s.cloudtalk_key_secret.clone()),
            (secret::GHL_WEBHOOK_SECRET, joined(&s.ghl_webhook_secrets)),
            (
                secret::CLOUDTALK_WEBHOOK_SECRET,
                joined(&s.cloudtalk_webhook_secrets),
            ),
            (secret::GHL_ACCESS_TOKEN, s.ghl_access_token.clone()),
            (secret::GHL_REFRESH_TOKEN, s.ghl_refresh_token.clone()),
        ];
        record.sealed.clear();
        for (name, value) in fields {
            if let Some(value) = value {
                record
                    .sealed
                    .insert(name.to_string(), self.sealer.seal(&value));
            }
        }
        let mut retiring = s.retiring.clone();
        rotation::drop_retired(&mut retiring, self.now_ms());
        record.retiring_secrets = retiring
            .iter()
            .map(|r| SealedRetiring {
                kind: r.kind,
                sealed: self.sealer.seal(&r.value),
                retires_at_ms: r.retires_at_ms,
            })
            .collect();
        let doc = serde_json::to_string(&record)
            .map_err(|e| TenantError::Invalid(record.location_id.clone(), e.to_string()))?;
        let key = tenant_key(&record.location_id);
        Ok(self.store.put(&key, &doc, expected).await?)
    }

    /// An agency install's record and its plain tokens (access, refresh).
    pub async fn company(
        &self,
        company_id: &str,
    ) -> Result<Option<(CompanyRecord, i64, Option<String>, Option<String>)>, TenantError> {
        let key = company_key(company_id);
        let Some(stored) = self.store.get(&key).await? else {
            return Ok(None);
        };
        let record: CompanyRecord = serde_json::from_str(&stored.doc)
            .map_err(|e| TenantError::Invalid(key, e.to_string()))?;
        let open = |name: &str| {
            record
                .sealed
                .get(name)
                .map(|v| self.sealer.open(v))
                .transpose()
        };
        let access = open(secret::GHL_ACCESS_TOKEN)?;
        let refresh = open(secret::GHL_REFRESH_TOKEN)?;
        Ok(Some((record, stored.version, access, refresh)))
    }

    /// Writes an agency install with its tokens sealed.
    pub async fn save_company(
        &self,
        record: &CompanyRecord,
        tokens: (&str, &str),
        expected: Option<i64>,
    ) -> Result<i64, TenantError> {
        let mut record = record.clone();
        record.updated_at = now_text();
        record.sealed.clear();
        record
            .sealed
            .insert(secret::GHL_ACCESS_TOKEN.into(), self.sealer.seal(tokens.0));
        record
            .sealed
            .insert(secret::GHL_REFRESH_TOKEN.into(), self.sealer.seal(tokens.1));
        let doc = serde_json::to_string(&record)
            .map_err(|e| TenantError::Invalid(record.company_id.clone(), e.to_string()))?;
        Ok(self
            .store
            .put(&company_key(&record.company_id), &doc, expected)
            .await?)
    }
}

impl Tenants {
    /// A re-install of `tenant`, which an operator disabled: not applied, but logged (one
    /// `reinstall_refused` line, ids only) and recorded on the tenant (when, `via`, `company`)
    /// for `bridge status` and `bridge tenants show`. A concurrent write is met by reading the
    /// record again; one no longer disabled by an operator is left as it is.
    pub async fn refuse_reinstall(
        &self,
        tenant: Tenant,
        via: InstallVia,
        company: Option<&str>,
    ) -> Result<(), TenantError> {
        tracing::warn!(
            tenant = %tenant.location_id(),
            via = via.as_str(),
            company = company.unwrap_or("-"),
            "reinstall_refused"
        );
        let at = crate::clock::rfc3339(self.now_ms());
        let mut tenant = tenant;
        for _ in 0..3 {
            let mut changed = tenant.clone();
            changed
                .record
                .refuse_reinstall(at.clone(), via, company.map(str::to_string));
            match self.save(&changed, Some(tenant.version)).await {
                Err(TenantError::Store(StoreError::Contended(_))) => {}
                done => return done.map(drop),
            }
            match self.get(tenant.location_id()).await? {
                Some(again) if again.record.disabled_by_operator() => tenant = again,
                _ => return Ok(()),
            }
        }
        Ok(())
    }
}

/// A new private-integration tenant (the `tenants add` command, tests).
pub fn private_token_tenant(
    location_id: &str,
    cloudtalk_key_id: &str,
    secrets: TenantSecrets,
) -> Tenant {
    Tenant {
        record: TenantRecord {
            location_id: location_id.to_string(),
            company_id: None,
            name: None,
            status: TenantStatus::Active,
            options: Default::default(),
            cloudtalk_key_id: Some(cloudtalk_key_id.to_string()),
            ghl_auth: GhlAuth::PrivateToken,
            token_expires_at_ms: None,
            refresh_started_at_ms: None,
            refresh_unknown_since_ms: None,
            sealed: Default::default(),
            disabled_by: None,
            reinstalls_refused: Vec::new(),
            retiring_secrets: Vec::new(),
            updated_at: now_text(),
        },
        version: 0,
        secrets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenants::MemoryTenantStore;

    #[test]
    fn a_location_s_own_ids_are_never_another_tenant_s() {
        let mut base = Config::from_lookup(|k| match k {
            "GHL_FIELD_LAST_CALL_DATE" => Some("field_of_the_deployment".into()),
            "CALL_RATING_FIELD" => Some("rating_of_the_deployment".into()),
            "CAMPAIGN_STAGE_MAP" => {
                Some(r#"{"completed": {"pipelineId": "p", "stageId": "s"}}"#.into())
            }
            "AGENT_MAP" => Some(r#"{"493933": "user_of_the_deployment"}"#.into()),
            "DEFAULT_PHONE_REGION" => Some("IT".into()),
            _ => None,
        });
        base.ghl_location_id = Some("loc_default".into());
        let tenant = private_token_tenant("loc_b", "key", TenantSecrets::default());
        let config = tenant.config(&base);
        assert_eq!(config.last_call_fields.date, None);
        assert_eq!(config.insights.rating_field, None);
        assert_eq!(config.campaign_stage_map, Ok(CampaignStageMap::default()));
        assert!(config.people.agent_map.is_empty());
        // Settings that are not ids do fall back to the deployment's.
        assert_eq!(config.default_phone_region.as_deref(), Some("IT"));
        let mut own = tenant.clone();
        own.record.options.last_call_date_field = Some("field_of_b".into());
        let config = own.config(&base);
        assert_eq!(config.last_call_fields.date.as_deref(), Some("field_of_b"));
    }

    #[tokio::test]
    async fn secrets_are_sealed_in_the_store_and_open_on_read() {
        let store = Arc::new(MemoryTenantStore::new());
        let tenants = Tenants::new(store.clone(), "seal-key");
        let secrets = TenantSecrets {
            cloudtalk_key_secret: Some("ct-secret-value".into()),
            ghl_webhook_secrets: vec!["hook-1".into(), "hook-2".into()],
            ghl_access_token: Some("pit-token-value".into()),
            ..TenantSecrets::default()
        };
        let tenant = private_token_tenant("loc_a", "ct-key-a", secrets.clone());
        assert_eq!(tenants.save(&tenant, None).await.unwrap(), 1);
        let raw = store.get("tenant#loc_a").await.unwrap().unwrap().doc;
        for plain in ["ct-secret-value", "hook-1", "pit-token-value"] {
            assert!(!raw.contains(plain), "{plain} is stored plain");
        }
        let back = tenants.get("loc_a").await.unwrap().unwrap();
        assert_eq!(back.secrets, secrets);
        assert_eq!(back.version, 1);
        // A write over an old version loses.
        assert!(tenants.save(&tenant, None).await.is_err());
        assert_eq!(tenants.save(&back, Some(1)).await.unwrap(), 2);
        // Another key opens nothing.
        let wrong = Tenants::new(store, "another key");
        assert!(matches!(
            wrong.get("loc_a").await,
            Err(TenantError::Unsealable(_))
        ));
    }

    #[tokio::test]
    async fn a_replaced_secret_is_kept_sealed_until_it_retires_then_dropped_by_a_write() {
        use crate::clock::ManualClock;
        let store = Arc::new(MemoryTenantStore::new());
        let clock = Arc::new(ManualClock::at_ms(1_000_000));
        let tenants = Tenants::new(store.clone(), "seal-key").with_clock(clock.clone());
        let secrets = TenantSecrets {
            cloudtalk_webhook_secrets: vec!["ct-old".into()],
            ..TenantSecrets::default()
        };
        let mut tenant = private_token_tenant("loc_a", "key", secrets);
        let kind = WebhookSecretKind::Cloudtalk;
        let retires = tenant
            .secrets
            .rotate(kind, "ct-new", clock.now_ms(), 60_000);
        assert_eq!(retires, Some(1_060_000));
        tenants.save(&tenant, None).await.unwrap();
        let raw = store.get("tenant#loc_a").await.unwrap().unwrap().doc;
        assert!(
            !raw.contains("ct-old") && raw.contains("retiring_secrets"),
            "{raw}"
        );
        let back = tenants.get("loc_a").await.unwrap().unwrap();
        assert_eq!(
            back.secrets.accepted(kind, clock.now_ms()),
            ["ct-new", "ct-old"]
        );
        // Retired: no longer accepted, and the next write drops it.
        clock.advance_ms(60_000);
        assert_eq!(back.secrets.accepted(kind, clock.now_ms()), ["ct-new"]);
        tenants.save(&back, Some(back.version)).await.unwrap();
        let raw = store.get("tenant#loc_a").await.unwrap().unwrap().doc;
        assert!(!raw.contains("retiring_secrets"), "{raw}");
        let again = tenants.get("loc_a").await.unwrap().unwrap();
        assert!(again.secrets.retiring.is_empty());
    }
}
