//! `set-cloudtalk` and `set-ghl-secret`: a tenant's webhook secret replaced without an outage.
//! The secret replaced stays accepted for the overlap the operator chose (`--overlap`, 24 h by
//! default; `0` retires it at once), then retires (see `bridge::tenants::rotation`); what is
//! printed names where the registry is and the tenant.

use bridge::clock::rfc3339;
use bridge::secrets::Lookup;
use bridge::tenants::{Tenants, WebhookSecretKind};

use super::overlap::Overlap;
use super::show::describe;
use super::{existing, given_or_new, secret, webhook_note, TenantsError};

/// A rotation asked for: which tenant, which secret, for how long the old one stays.
pub struct Rotation<'a> {
    pub location: &'a str,
    pub kind: WebhookSecretKind,
    pub overlap: Overlap,
    /// Where the registry is, as the answer names it (`stack …`, `local store …`).
    pub place: &'a str,
}

impl Rotation<'_> {
    /// The variable a new secret of the kind may be given in.
    fn variable(&self) -> &'static str {
        match self.kind {
            WebhookSecretKind::Ghl => "TENANT_GHL_WEBHOOK_SECRET",
            WebhookSecretKind::Cloudtalk => "TENANT_CLOUDTALK_WEBHOOK_SECRET",
        }
    }

    /// Where the kind's senders post, and what they are.
    fn senders(&self) -> (String, &'static str) {
        match self.kind {
            WebhookSecretKind::Ghl => (
                "/api/ghl-webhooks/<event>".to_string(),
                "GHL workflow webhooks",
            ),
            WebhookSecretKind::Cloudtalk => (
                format!("/api/cloudtalk-webhooks/{}/<event>", self.location),
                "CloudTalk workflows",
            ),
        }
    }

    /// What becomes of the secret replaced.
    fn retirement(&self, retires_at_ms: Option<i64>, replaced: bool) -> String {
        let (label, location) = (self.kind.label(), self.location);
        let (_, senders) = self.senders();
        match (retires_at_ms, replaced) {
            (Some(at), _) => format!(
                "The previous {label} webhook secret stays accepted until {} (--overlap {}), then retires: switch {location}'s {senders} to the new one before then.",
                rfc3339(at),
                self.overlap
            ),
            (None, true) => format!(
                "The previous {label} webhook secret is retired at once (--overlap 0): {location}'s {senders} still using it are refused from now on."
            ),
            (None, false) => format!("{location} had no other {label} webhook secret: none retires."),
        }
    }
}

/// `set-cloudtalk`: the tenant's CloudTalk key (TENANT_CLOUDTALK_KEY_SECRET) and a new
/// CloudTalk webhook secret.
pub async fn set_cloudtalk(
    tenants: &Tenants,
    rotation: &Rotation<'_>,
    cloudtalk_key_id: &str,
    env: &Lookup,
) -> Result<String, TenantsError> {
    let key_secret = secret(env, "TENANT_CLOUDTALK_KEY_SECRET")?;
    rotate(tenants, rotation, env, |tenant| {
        tenant.record.cloudtalk_key_id = Some(cloudtalk_key_id.to_string());
        tenant.secrets.cloudtalk_key_secret = Some(key_secret.clone());
    })
    .await
}

/// Replaces the tenant's webhook secret of `rotation.kind` (given in its variable, else
/// generated and printed once), with `change` made to the tenant in the same write.
pub async fn rotate(
    tenants: &Tenants,
    rotation: &Rotation<'_>,
    env: &Lookup,
    change: impl FnOnce(&mut bridge::tenants::Tenant),
) -> Result<String, TenantsError> {
    let mut tenant = existing(tenants, rotation.location).await?;
    let new = given_or_new(env, rotation.variable());
    change(&mut tenant);
    let replaced = tenant
        .secrets
        .current(rotation.kind)
        .iter()
        .any(|s| *s != new.0);
    let now = tenants.now_ms();
    let retires_at = tenant
        .secrets
        .rotate(rotation.kind, &new.0, now, rotation.overlap.ms());
    tenants.save(&tenant, Some(tenant.version)).await?;
    let saved = existing(tenants, rotation.location).await?;
    let (route, senders) = rotation.senders();
    Ok(format!(
        "updated tenant {} on {}\n{}\n{}\n{}",
        rotation.location,
        rotation.place,
        describe(&saved),
        webhook_note(senders, &route, &new),
        rotation.retirement(retires_at, replaced)
    ))
}
