//! What the upstreams say, read with the bridge's own clients (GETs only, on the deployment's
//! shared budget): CloudTalk accepts the key, the GHL token reaches its location, and every
//! custom field, pipeline and stage a setting names exists there.

use bridge::clients::cloudtalk::AgentRecord;
use bridge::clients::ghl::{CustomField, GhlUser, Pipeline};
use bridge::clients::UpstreamError;
use bridge::config::CampaignStageMap;
use bridge::payload::fields::id_string;
use serde_json::Value;

use super::check::{id, Check};
use super::deployment::{Context, Subject, Whose};

/// The most pages of agents read (1000 a page), as the bridge reads them.
const MAX_AGENT_PAGES: u32 = 10;

/// An upstream error as the checks tell it: refused (401/403), not found (404), or else.
enum Answer {
    Refused(u16),
    /// Refused for a scope the token lacks (GHL: "not authorized for this scope").
    Scope(u16),
    NotFound,
    Other(String),
}

fn answer(e: &UpstreamError) -> Answer {
    if let UpstreamError::Status {
        status: status @ (401 | 403),
        message,
        ..
    } = e
    {
        if message.to_ascii_lowercase().contains("scope") {
            return Answer::Scope(*status);
        }
    }
    match e.status() {
        Some(status @ (401 | 403)) => Answer::Refused(status),
        Some(404) => Answer::NotFound,
        _ => Answer::Other(e.to_string()),
    }
}

/// How to correct the subject's location id.
fn location_fix(subject: &Subject, cx: &Context) -> String {
    match subject.is_own() {
        true => format!(
            "check the location id ({})",
            cx.place.set_setting("GHL_LOCATION_ID", "")
        ),
        false => "is the tenant registered under its location's id? (`bridge tenants list`)".into(),
    }
}

/// Every agent of the CloudTalk account (`GET /agents/index.json`, page by page).
async fn all_agents(subject: &Subject) -> Result<Vec<AgentRecord>, UpstreamError> {
    let mut agents = Vec::new();
    for page in 1..=MAX_AGENT_PAGES {
        let listed = subject.deps.cloudtalk.list_agents(page).await?;
        let more = listed.has_more();
        agents.extend(listed.items);
        if !more {
            break;
        }
    }
    Ok(agents)
}

/// How to give the subject a CloudTalk key that works.
fn cloudtalk_key_fix(subject: &Subject, cx: &Context) -> String {
    match &subject.whose {
        Whose::Own => {
            let place = cx.place.set_secret("them");
            format!("set CLOUDTALK_API_KEY_ID/SECRET to a key of CloudTalk's Settings → API keys ({place})")
        }
        Whose::Tenant(_) => format!(
            "give the tenant a valid key: TENANT_CLOUDTALK_KEY_SECRET=… `bridge tenants set-cloudtalk {} --cloudtalk-key-id <key id>`",
            subject.name
        ),
    }
}

/// CloudTalk accepts the key: one cheap read, its agents (kept for the people checks).
pub async fn cloudtalk_key(subject: &Subject, cx: &Context) -> (Check, Option<Vec<AgentRecord>>) {
    let tenant = subject.tenant();
    if !subject.deps.cloudtalk_configured() {
        let line = Check::warn(
            id::CLOUDTALK_KEY,
            tenant,
            "not checked: no CloudTalk key (see secrets)",
        );
        return (line, None);
    }
    let base = subject.deps.config.cloudtalk_api_base.clone();
    match all_agents(subject).await {
        Ok(agents) => {
            let message = format!("CloudTalk accepted the key ({} agent(s))", agents.len());
            (Check::ok(id::CLOUDTALK_KEY, tenant, message), Some(agents))
        }
        Err(e) => {
            let line = match answer(&e) {
                Answer::Refused(status) | Answer::Scope(status) => Check::fail(
                    id::CLOUDTALK_KEY,
                    tenant,
                    format!("CloudTalk refused the key ({status})"),
                )
                .fix(cloudtalk_key_fix(subject, cx)),
                _ => Check::warn(
                    id::CLOUDTALK_KEY,
                    tenant,
                    format!("CloudTalk could not be asked: {e}"),
                )
                .fix(format!(
                    "run `bridge doctor` again later (CloudTalk's API: {base})"
                )),
            };
            (line, None)
        }
    }
}

/// Why the GHL checks of a subject cannot be made, as a line of `check`: a `fail` when the
/// deployment names no location, else a `warn`.
pub fn ghl_not_checked(subject: &Subject, cx: &Context, check: &'static str) -> Option<Check> {
    let why = subject.no_ghl.as_deref()?;
    let tenant = subject.tenant();
    if subject.is_own() && subject.location.is_none() {
        return Some(
            Check::fail(check, tenant, format!("not checked: {why}"))
                .fix(cx.place.set_setting("GHL_LOCATION_ID", "")),
        );
    }
    Some(Check::warn(check, tenant, format!("not checked: {why}")))
}

/// How to give the subject a GHL credential that reaches `location`.
fn ghl_token_fix(subject: &Subject, cx: &Context, location: &str) -> String {
    let install = subject
        .record()
        .is_some_and(|r| r.ghl_auth != bridge::tenants::GhlAuth::PrivateToken);
    match (&subject.whose, install) {
        (Whose::Own, _) => format!(
            "set GHL_API_TOKEN to a Private Integration Token of location {location} ({})",
            cx.place.set_secret("it")
        ),
        (Whose::Tenant(_), true) => "install the Marketplace app again in the location".into(),
        (Whose::Tenant(_), false) => format!(
            "register the tenant again with a token of the location in TENANT_GHL_TOKEN (`bridge tenants add {} …`)",
            subject.name
        ),
    }
}

/// The GHL token reaches its location: its users (kept for the people checks).
pub async fn ghl_access(subject: &Subject, cx: &Context) -> (Check, Option<Vec<GhlUser>>) {
    if let Some(line) = ghl_not_checked(subject, cx, id::GHL_ACCESS) {
        return (line, None);
    }
    let tenant = subject.tenant();
    let location = subject.location.clone().unwrap_or_default();
    match subject.deps.ghl.location_users(&location).await {
        Ok(users) if users.is_empty() => {
            let line = Check::warn(
                id::GHL_ACCESS,
                tenant,
                format!("the GHL token reaches location {location}, which lists no users"),
            )
            .fix(location_fix(subject, cx));
            (line, Some(users))
        }
        Ok(users) => {
            let message = format!(
                "the GHL token reaches location {location} ({} user(s))",
                users.len()
            );
            (Check::ok(id::GHL_ACCESS, tenant, message), Some(users))
        }
        Err(e) => {
            let line = match answer(&e) {
                Answer::Refused(status) => Check::fail(
                    id::GHL_ACCESS,
                    tenant,
                    format!("GHL refused the token for location {location} ({status})"),
                )
                .fix(ghl_token_fix(subject, cx, &location)),
                Answer::Scope(status) => Check::warn(
                    id::GHL_ACCESS,
                    tenant,
                    format!("the GHL token may not list location {location}'s users ({status}: a scope it lacks), so its reach is not checked"),
                )
                .fix("give the token the scope users.readonly (the people features read the users too)"),
                Answer::NotFound => Check::warn(
                    id::GHL_ACCESS,
                    tenant,
                    format!("GHL does not know location {location} (404)"),
                )
                .fix(location_fix(subject, cx)),
                Answer::Other(text) => Check::warn(
                    id::GHL_ACCESS,
                    tenant,
                    format!("GHL could not be asked: {text}"),
                )
                .fix("run `bridge doctor` again later"),
            };
            (line, None)
        }
    }
}

/// The custom field settings of a subject: (variable, tenant flag, the field id it names).
fn field_settings(subject: &Subject) -> Vec<(&'static str, &'static str, String)> {
    let c = &subject.deps.config;
    let named = [
        (
            "GHL_FIELD_LAST_CALL_DATE",
            "--last-call-date-field",
            &c.last_call_fields.date,
        ),
        (
            "GHL_FIELD_LAST_CALL_OUTCOME",
            "--last-call-outcome-field",
            &c.last_call_fields.outcome,
        ),
        (
            "GHL_FIELD_LAST_CALL_DURATION",
            "--last-call-duration-field",
            &c.last_call_fields.duration,
        ),
        (
            "CALL_RATING_FIELD",
            "--call-rating-field",
            &c.insights.rating_field,
        ),
        (
            "CALL_DISPOSITION_FIELD",
            "--call-disposition-field",
            &c.insights.disposition_field,
        ),
    ];
    named
        .into_iter()
        .filter_map(|(v, f, id)| Some((v, f, id.clone()?)))
        .collect()
}

/// One custom field setting against the location's fields.
fn field_line(
    subject: &Subject,
    cx: &Context,
    (variable, flag, named): (&str, &str, String),
    fields: &[CustomField],
) -> Check {
    let tenant = subject.tenant();
    let location = subject.location.as_deref().unwrap_or_default();
    let by_id = fields.iter().find(|f| f.id == named);
    let by_key = fields
        .iter()
        .find(|f| f.field_key.as_deref() == Some(named.as_str()));
    let fix = |what: &str| subject.set_setting(&cx.place, variable, flag, what);
    match (by_id, by_key) {
        (Some(f), _) if f.model.as_deref().is_some_and(|m| m != "contact") => {
            Check::fail(id::CUSTOM_FIELDS, tenant, format!("{variable} names \"{}\" ({named}), an {} field, not a contact field", f.name, f.model.as_deref().unwrap_or_default()))
                .fix(format!("{} (a contact field's id)", fix("<field id>")))
        }
        (Some(f), _) => Check::ok(id::CUSTOM_FIELDS, tenant, format!("{variable} names the contact field \"{}\" ({named})", f.name)),
        (None, Some(f)) => Check::fail(id::CUSTOM_FIELDS, tenant, format!("{variable} names the field \"{}\" by its key {named}; the bridge writes fields by id", f.name))
            .fix(fix(&f.id)),
        (None, None) => Check::fail(id::CUSTOM_FIELDS, tenant, format!("{variable} names custom field {named}, which location {location} does not have"))
            .fix(format!("{}: one of the location's contact fields (GHL: Settings → Custom Fields), or unset it", fix("<field id>"))),
    }
}

/// Every custom field a setting names exists in the location (one line each).
pub async fn custom_fields(subject: &Subject, cx: &Context) -> Vec<Check> {
    let tenant = subject.tenant();
    let settings = field_settings(subject);
    if settings.is_empty() {
        let message = "no custom field is named (GHL_FIELD_LAST_CALL_*, CALL_RATING_FIELD, CALL_DISPOSITION_FIELD)";
        return vec![Check::ok(id::CUSTOM_FIELDS, tenant, message)];
    }
    if let Some(line) = ghl_not_checked(subject, cx, id::CUSTOM_FIELDS) {
        return vec![line];
    }
    let location = subject.location.clone().unwrap_or_default();
    let names: Vec<&str> = settings.iter().map(|(v, _, _)| *v).collect();
    match subject.deps.ghl.list_custom_fields(&location).await {
        Ok(fields) => settings
            .into_iter()
            .map(|s| field_line(subject, cx, s, &fields))
            .collect(),
        Err(e) => {
            let not = names.join(", ");
            let line = match answer(&e) {
                Answer::Refused(status) | Answer::Scope(status) => Check::warn(id::CUSTOM_FIELDS, tenant, format!("the GHL token may not list location {location}'s custom fields ({status}): {not} not checked"))
                    .fix("give the token the scope locations/customFields.readonly, or compare the ids with GHL's Settings → Custom Fields"),
                _ => Check::warn(id::CUSTOM_FIELDS, tenant, format!("GHL could not be asked for the custom fields: {e}; {not} not checked"))
                    .fix("run `bridge doctor` again later"),
            };
            vec![line]
        }
    }
}

/// The rules of a `CAMPAIGN_STAGE_MAP` (read as the bridge reads it): each (rule, pipeline id,
/// stage id).
pub fn stage_targets(text: &str) -> Vec<(String, String, String)> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let target = |v: &Value| {
        let get = |keys: &[&str]| keys.iter().find_map(|k| v.get(*k).and_then(id_string));
        Some((
            get(&["pipelineId", "pipeline_id"])?,
            get(&["stageId", "stage_id", "pipelineStageId"])?,
        ))
    };
    let mut out = Vec::new();
    for (key, v) in &map {
        if let Some((p, s)) = target(v) {
            out.push((key.clone(), p, s));
        } else if let Some(inner) = v.as_object() {
            for (status, v) in inner {
                if let Some((p, s)) = target(v) {
                    out.push((format!("{key} / {status}"), p, s));
                }
            }
        }
    }
    out
}

/// The subject's `CAMPAIGN_STAGE_MAP`, as written.
fn stage_map_text(subject: &Subject, cx: &Context) -> Option<String> {
    let text = match &subject.whose {
        Whose::Own => (cx.lookup)("CAMPAIGN_STAGE_MAP"),
        Whose::Tenant(t) => t
            .record
            .options
            .campaign_stage_map
            .as_ref()
            .map(Value::to_string),
    };
    text.filter(|t| !t.trim().is_empty())
}

/// One rule's pipeline and stage against the location's pipelines; `None` when both exist.
fn stage_line(
    subject: &Subject,
    cx: &Context,
    (rule, p, s): &(String, String, String),
    pipelines: &[Pipeline],
) -> Option<Check> {
    let location = subject.location.as_deref().unwrap_or_default();
    let message = match pipelines.iter().find(|x| x.id == *p) {
        None => format!("CAMPAIGN_STAGE_MAP's rule \"{rule}\" names pipeline {p}, which location {location} does not have"),
        Some(pipeline) if !pipeline.stages.iter().any(|x| x.id == *s) => format!(
            "CAMPAIGN_STAGE_MAP's rule \"{rule}\" names stage {s}, which pipeline \"{}\" ({p}) does not have",
            pipeline.name
        ),
        Some(_) => return None,
    };
    let fix = subject.set_setting(
        &cx.place,
        "CAMPAIGN_STAGE_MAP",
        "--campaign-stage-map",
        "'<JSON>'",
    );
    Some(
        Check::fail(id::STAGE_MAP, subject.tenant(), message)
            .fix(format!("{fix} with the location's pipeline and stage ids")),
    )
}

/// `CAMPAIGN_STAGE_MAP`'s pipelines and stages exist in the location.
pub async fn stage_map(subject: &Subject, cx: &Context) -> Vec<Check> {
    let tenant = subject.tenant();
    let Some(text) = stage_map_text(subject, cx) else {
        return vec![Check::ok(
            id::STAGE_MAP,
            tenant,
            "no CAMPAIGN_STAGE_MAP: campaigns move no opportunity",
        )];
    };
    if let Err(e) = CampaignStageMap::parse(&text) {
        let fix = subject.set_setting(
            &cx.place,
            "CAMPAIGN_STAGE_MAP",
            "--campaign-stage-map",
            "'<JSON>'",
        );
        return vec![Check::fail(id::STAGE_MAP, tenant, e).fix(fix)];
    }
    if let Some(line) = ghl_not_checked(subject, cx, id::STAGE_MAP) {
        return vec![line];
    }
    let location = subject.location.clone().unwrap_or_default();
    let targets = stage_targets(&text);
    match subject.deps.ghl.list_pipelines(&location).await {
        Ok(pipelines) => {
            let wrong: Vec<Check> = targets
                .iter()
                .filter_map(|t| stage_line(subject, cx, t, &pipelines))
                .collect();
            match wrong.is_empty() {
                true => vec![Check::ok(id::STAGE_MAP, tenant, format!("CAMPAIGN_STAGE_MAP: {} rule(s), each pipeline and stage in location {location}", targets.len()))],
                false => wrong,
            }
        }
        Err(e) => vec![Check::warn(
            id::STAGE_MAP,
            tenant,
            format!(
                "GHL could not be asked for the pipelines: {e}; CAMPAIGN_STAGE_MAP not checked"
            ),
        )
        .fix("run `bridge doctor` again later")],
    }
}
