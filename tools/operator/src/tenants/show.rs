//! How `bridge tenants list` and `show` print a tenant: everything but secret values (only
//! whether each is held), who disabled it, the re-installs refused meanwhile, and the webhook
//! secrets a rotation replaced with when they retire.

use bridge::clock::rfc3339;
use bridge::config::CallLogging;
use bridge::tenants::{
    GhlAuth, RefusedReinstall, Tenant, TenantOptions, TenantRecord, WebhookSecretKind,
};

fn on_off(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "on",
        Some(false) => "off",
        None => "(deployment's)",
    }
}

fn auth_name(auth: GhlAuth) -> &'static str {
    match auth {
        GhlAuth::PrivateToken => "private integration",
        GhlAuth::LocationInstall => "app install (location)",
        GhlAuth::AgencyInstall => "app install (agency)",
    }
}

/// The status as shown: `active`, `disabled (operator)`, `disabled (uninstall)`, …
pub fn status_text(r: &TenantRecord) -> String {
    match r.disabled_by_text() {
        Some(by) => format!("{} ({by})", r.status.as_str()),
        None => r.status.as_str().to_string(),
    }
}

/// A refused re-install: `2026-05-01T10:00:00Z via oauth_callback (company comp_9)`.
pub fn refusal_text(r: &RefusedReinstall) -> String {
    let company = r
        .company_id
        .as_deref()
        .map(|c| format!(" (company {c})"))
        .unwrap_or_default();
    format!("{} via {}{company}", r.at, r.via.as_str())
}

/// One line: location, status, GHL auth, CloudTalk key id, name, and the latest refused
/// re-install.
pub fn summary_line(r: &TenantRecord) -> String {
    format!(
        "{}  {}  {}  cloudtalk key {}{}{}",
        r.location_id,
        status_text(r),
        auth_name(r.ghl_auth),
        r.cloudtalk_key_id
            .as_deref()
            .filter(|k| !k.is_empty())
            .unwrap_or("(none)"),
        r.name
            .as_deref()
            .map(|n| format!("  \"{n}\""))
            .unwrap_or_default(),
        r.reinstalls_refused
            .last()
            .map(|last| format!("  re-install refused {}", refusal_text(last)))
            .unwrap_or_default()
    )
}

/// One tenant in full: everything but secret values (only whether each is held).
pub fn describe(tenant: &Tenant) -> String {
    let mut lines = account_lines(tenant);
    lines.extend(lifecycle_lines(&tenant.record));
    lines.extend(option_lines(&tenant.record.options));
    lines.push(format!(
        "updated:               {}",
        tenant.record.updated_at
    ));
    lines.join("\n")
}

/// Who disabled the tenant and the re-installs refused since.
fn lifecycle_lines(r: &TenantRecord) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(by) = r.disabled_by_text() {
        lines.push(format!("disabled by:           {by}"));
    }
    for refused in &r.reinstalls_refused {
        lines.push(format!(
            "re-install refused:    {} (`bridge tenants enable {}` serves it)",
            refusal_text(refused),
            r.location_id
        ));
    }
    lines
}

/// How many webhook secrets of `kind` a tenant holds, and those being retired.
fn webhook_secrets_text(tenant: &Tenant, kind: WebhookSecretKind) -> String {
    let current = tenant.secrets.current(kind).len();
    let retiring: Vec<String> = tenant
        .secrets
        .retiring
        .iter()
        .filter(|r| r.kind == kind)
        .map(|r| rfc3339(r.retires_at_ms))
        .collect();
    match retiring.is_empty() {
        true => current.to_string(),
        false => format!(
            "{current} (+{} replaced, accepted until {})",
            retiring.len(),
            retiring.join(", ")
        ),
    }
}

/// Who the tenant is and which credentials it holds (never their values).
fn account_lines(tenant: &Tenant) -> Vec<String> {
    let (r, s) = (&tenant.record, &tenant.secrets);
    let held = |present: bool| if present { "set" } else { "not set" };
    let when = |ms: Option<i64>| ms.map(rfc3339).unwrap_or_else(|| "-".into());
    vec![
        format!("location:              {}", r.location_id),
        format!(
            "name:                  {}",
            r.name.as_deref().unwrap_or("-")
        ),
        format!("status:                {}", r.status.as_str()),
        format!("ghl auth:              {}", auth_name(r.ghl_auth)),
        format!(
            "agency (company):      {}",
            r.company_id.as_deref().unwrap_or("-")
        ),
        format!(
            "ghl token:             {}",
            held(s.ghl_access_token.is_some())
        ),
        format!(
            "ghl refresh token:     {}",
            held(s.ghl_refresh_token.is_some())
        ),
        format!("ghl token expires:     {}", when(r.token_expires_at_ms)),
        format!(
            "cloudtalk key:         {} (secret {})",
            r.cloudtalk_key_id.as_deref().unwrap_or("(none)"),
            held(s.cloudtalk_key_secret.is_some())
        ),
        format!(
            "ghl webhook secrets:   {}",
            webhook_secrets_text(tenant, WebhookSecretKind::Ghl)
        ),
        format!(
            "ct webhook secrets:    {}",
            webhook_secrets_text(tenant, WebhookSecretKind::Cloudtalk)
        ),
    ]
}

/// The tenant's options. Those it does not set are the deployment's, except the ids that are a
/// location's own (custom fields, pipeline stages, agents), which are then none.
fn option_lines(o: &TenantOptions) -> Vec<String> {
    let option = |v: &Option<String>| v.clone().unwrap_or_else(|| "(deployment's)".into());
    let own = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
    let logging = match &o.call_logging {
        CallLogging::Notes => "notes".to_string(),
        CallLogging::Conversations { provider_id } => {
            format!("conversations (provider {provider_id})")
        }
    };
    let agent_map = o.agent_map.as_ref().map_or("(by email only)".into(), |m| {
        serde_json::to_string(m).unwrap_or_default()
    });
    let sla = o
        .callback_sla_minutes
        .map_or("(deployment's)".into(), |m| m.to_string());
    let stage_map = o
        .campaign_stage_map
        .as_ref()
        .map_or("(none)".into(), |m| m.to_string());
    let dial: Vec<String> = o
        .speed_to_lead
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let texts: Vec<String> = o.sms.iter().map(|(k, v)| format!("{k}={v}")).collect();
    vec![
        format!("phone region:          {}", option(&o.phone_region)),
        format!("missed-call tag:       {}", option(&o.missed_call_tag)),
        format!("call logging:          {logging}"),
        format!("agent map:             {agent_map}"),
        format!(
            "owners, tasks:         assign owner {}, missed-call tasks {}, close tasks {}, due after {sla} min",
            on_off(o.assign_owner),
            on_off(o.missed_call_tasks),
            on_off(o.close_callback_tasks),
        ),
        format!("campaign stage map:    {stage_map}"),
        format!(
            "last-call fields:      date {}, outcome {}, duration {}",
            own(&o.last_call_date_field),
            own(&o.last_call_outcome_field),
            own(&o.last_call_duration_field)
        ),
        format!(
            "calls in GHL:          summaries {}, transcripts {}, tag prefix {:?}, rating field {}, disposition field {}",
            on_off(o.call_summaries),
            on_off(o.call_transcripts),
            o.call_tag_prefix.as_deref().unwrap_or("(deployment's)"),
            own(&o.call_rating_field),
            own(&o.call_disposition_field)
        ),
        format!(
            "cue cards:             {}",
            o.cue_card_fields.as_deref().unwrap_or("(deployment's)")
        ),
        format!(
            "texts:                 {}",
            match texts.is_empty() {
                true => "(deployment's defaults)".to_string(),
                false => texts.join(", "),
            }
        ),
        format!(
            "speed to lead:         {}",
            if dial.is_empty() { "off".to_string() } else { dial.join(" ") }
        ),
    ]
}

/// A tenant's record as JSON: everything but its sealed secrets, of which only the names of
/// those held are given, and of the replaced webhook secrets only their kind and retirement.
pub fn record_json(record: &TenantRecord) -> serde_json::Value {
    let mut value = serde_json::to_value(record).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        fields.remove("sealed");
        let held: Vec<&String> = record.sealed.keys().collect();
        fields.insert("secrets_held".into(), serde_json::json!(held));
        let retiring: Vec<serde_json::Value> = record
            .retiring_secrets
            .iter()
            .map(|r| serde_json::json!({"kind": r.kind, "retires_at": rfc3339(r.retires_at_ms)}))
            .collect();
        fields.insert("retiring_secrets".into(), serde_json::json!(retiring));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use bridge::tenants::registry::private_token_tenant;
    use bridge::tenants::{DisabledBy, InstallVia, SealedRetiring, TenantSecrets};

    #[test]
    fn who_disabled_it_and_refused_reinstalls_are_shown_and_no_sealed_value() {
        let mut tenant = private_token_tenant("loc_1", "K", TenantSecrets::default());
        tenant.record.disable(DisabledBy::Operator);
        let at = "2026-05-01T10:00:00Z".to_string();
        let company = Some("comp_9".to_string());
        tenant
            .record
            .refuse_reinstall(at, InstallVia::OauthCallback, company);
        tenant.record.retiring_secrets.push(SealedRetiring {
            kind: WebhookSecretKind::Cloudtalk,
            sealed: "v1.sealed-value".into(),
            retires_at_ms: 0,
        });
        let line = summary_line(&tenant.record);
        assert_eq!(
            line,
            "loc_1  disabled (operator)  private integration  cloudtalk key K  re-install refused 2026-05-01T10:00:00Z via oauth_callback (company comp_9)"
        );
        let shown = describe(&tenant);
        assert!(
            shown.contains("disabled by:           operator\n"),
            "{shown}"
        );
        assert!(shown.contains("re-install refused:    2026-05-01T10:00:00Z via oauth_callback (company comp_9) (`bridge tenants enable loc_1` serves it)"), "{shown}");
        let json = record_json(&tenant.record);
        assert_eq!(json["disabled_by"], "operator");
        assert_eq!(json["reinstalls_refused"][0]["company_id"], "comp_9");
        assert_eq!(
            json["retiring_secrets"],
            serde_json::json!([{"kind": "cloudtalk", "retires_at": "1970-01-01T00:00:00Z"}])
        );
        assert!(!json.to_string().contains("v1.sealed-value"), "{json}");
    }
}
