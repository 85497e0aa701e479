//! `bridge status`: one screen of a deployment's health.
//!
//! Sections, each read on its own (a source that cannot be read says `unavailable: <why>`, one
//! that nothing names says `not configured: <why>`, and the rest is still shown):
//! - **stack**: its name and CloudFormation status;
//! - **health**: `GET <ApiUrl>/health`, its HTTP status and `status` field (`--api-url`, the
//!   stack's `ApiUrl`, else `BRIDGE_URL`; without a stack, the local run's
//!   `http://127.0.0.1:9000`);
//! - **retry queue**: its approximate depth (waiting, in flight, delayed) and its oldest
//!   message's age. SQS has no oldest-age attribute: the age is CloudWatch's
//!   `AWS/SQS ApproximateAgeOfOldestMessage`, its latest datapoint of the last half hour, and
//!   `unknown` (with why) when there is none;
//! - **parked**: the dead-letter queue's events by reason, as `bridge redrive` lists them;
//! - **reconciliation**: each pass's lag (now − `caught_up_at_ms` of its checkpoint in the
//!   state table), the deployment's own and each served tenant's;
//! - **tenants**: the registry's tenants counted by status (the disabled ones by who disabled
//!   them), and each tenant an operator disabled that was installed again since (refused);
//! - **dials**: speed to lead over the last 24 hours, per tenant: leads dialled, dials refused
//!   by rule and leads handed over as tasks by why (the counters in the state table);
//! - **alarms**: the state of each of the stack's `AWS::CloudWatch::Alarm` resources.
//!
//! The queues come from the flags, then the stack's outputs (`RetryQueueUrl`,
//! `DeadLetterQueueUrl`), then `RETRY_QUEUE_URL` / `DEAD_LETTER_QUEUE_URL`; the state table and
//! the registry as for the other commands (the stack's `StateTableName` / `TenantsTableName`,
//! else `STATE_TABLE` / `TENANTS_TABLE`, else the local store file). Nothing secret is read:
//! counting tenants needs no seal key, and the Secrets Manager secret is not opened.
//!
//! Exit code: 1 when the stack named cannot be read; else 0 when the report was printed,
//! whatever it says. With `--check`, 1 when anything
//! needs attention (the report's `attention` list: a section that could not be read, a failed
//! or rolled-back stack, health not `ok`, any parked event, a retry queue's oldest message
//! older than 30 minutes, a reconciliation pass more than an hour behind, a tenant needing a
//! new install, a re-install refused because an operator disabled the tenant, a dial refused by
//! a cap, an alarm in `ALARM` or missing), so a script or a cron job can alert on it.
//!
//! `--json` prints one object with these fields (stable):
//! - `generated_at`: RFC 3339;
//! - `stack`, `health`, `retry_queue`, `parked`, `reconciliation`, `tenants`, `dials`, `alarms`:
//!   each
//!   `{"state": "ok", "data": …}`, `{"state": "unavailable", "reason": …}` or
//!   `{"state": "not_configured", "reason": …}`, where `data` is
//!   - stack: `{name, status, source}` (`source`: `cloudformation` or `outputs_file`);
//!   - health: `{url, http_status, status}`;
//!   - retry_queue: `{url, visible, in_flight, delayed, oldest_age}`, `oldest_age` one of
//!     `{"source": "cloudwatch", "seconds", "at"}`, `{"source": "empty"}`,
//!     `{"source": "unknown", "why"}`;
//!   - parked: `{url, total, groups: [{reason, endpoints: {function: count}, count, oldest}]}`;
//!   - reconciliation: `{passes: [{tenant, pass, checkpoint, caught_up_at, lag_seconds,
//!     note}], tenants_unlisted}` (`tenant` is `default` for the deployment's own location);
//!   - tenants: `{total, by_status: {active, disabled, awaiting_authorization,
//!     reauthorization_required}, disabled_by: {operator, uninstall} (those with any),
//!     reinstalls_refused: [{tenant, at, via, company_id, count}]}` (`via`: `install_webhook`
//!     or `oauth_callback`; the latest refusal of each tenant an operator disabled);
//!   - dials: `{hours, tenants: [{tenant, dialled, refused: {rule: count}, tasks: {why:
//!     count}}]}`;
//!   - alarms: `[{logical_id, name, state, reason, since}]` (`state`: `OK`, `ALARM`,
//!     `INSUFFICIENT_DATA` or `NOT_FOUND`);
//! - `attention`: a list of sentences, empty when nothing needs attention.

pub(crate) mod gather;
mod render;
mod report;

use std::sync::Arc;

use clap::Args;

use crate::backfill::setup::{self, Sources};
use crate::stack::Target;

pub use gather::{passes, queue_name, resolve, rfc3339_ms, Deployment};
pub use render::render;
pub use report::*;

const AFTER: &str = "\
Exit code 1 when the stack named cannot be read; else 0 when the report is printed, whatever it
says; with --check, 1 when anything needs
attention (a section that could not be read, health not ok, any parked event, an alarm in
ALARM, a retry queue older than 30 minutes, reconciliation more than an hour behind, a tenant
to install again, a tenant an operator disabled that was installed again). --json prints the
same report as one object.

Examples:
  bridge --stack ghl-cloudtalk-bridge status
  bridge --stack ghl-cloudtalk-bridge status --json
  bridge --stack ghl-cloudtalk-bridge status --check || notify-the-on-call";

#[derive(Debug, Clone, Default, Args)]
#[command(after_help = AFTER)]
pub struct StatusArgs {
    /// Exit 1 when anything needs attention (see below).
    #[arg(long)]
    pub check: bool,
    /// The bridge's base URL for the health check (else the stack's ApiUrl, else BRIDGE_URL;
    /// without a stack, the local run's http://127.0.0.1:9000).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// The retry queue's URL (else the stack's, else RETRY_QUEUE_URL).
    #[arg(long, value_name = "URL")]
    pub retry_queue_url: Option<String>,
    /// The dead-letter queue's URL (else the stack's, else DEAD_LETTER_QUEUE_URL).
    #[arg(long, value_name = "URL")]
    pub dead_letter_queue_url: Option<String>,
    /// The deployment's GHL location, naming its contacts checkpoint (else the stack's
    /// GhlLocationId parameter, else GHL_LOCATION_ID).
    #[arg(long, value_name = "ID")]
    pub location: Option<String>,
}

/// Where the local run serves the bridge (`cargo lambda watch`).
const LOCAL_BRIDGE_URL: &str = "http://127.0.0.1:9000";

pub async fn run(target: &Target, args: StatusArgs, json: bool) -> i32 {
    let report = collect(target, &args).await;
    // A deployment that could not be found is a failure, whatever else was printed.
    let unfound = matches!(report.stack, Section::Unavailable { .. });
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("bridge status: {e}");
                return 1;
            }
        }
    } else {
        print!("{}", render(&report));
    }
    i32::from(unfound || (args.check && !report.attention.is_empty()))
}

/// The deployment the flags name.
async fn deployment(target: &Target) -> Deployment {
    match target.stack().await {
        Ok(Some(stack)) => Deployment::Stack(stack),
        Ok(None) => Deployment::Local,
        Err(e) => Deployment::Failed(e.to_string()),
    }
}

/// The bridge's stores, as the other commands build them (no secret read: see the module).
async fn bridge_deps(
    target: &Target,
    deployment: &Deployment,
    location: Option<String>,
) -> Result<bridge::Deps, String> {
    let stack = match deployment {
        Deployment::Failed(_) => return Err(STACK_UNREAD.into()),
        Deployment::Stack(stack) => Some(stack.clone()),
        Deployment::Local => None,
    };
    let mut flags = vec![("BRIDGE_SECRETS_ARN", String::new())];
    flags.extend(location.map(|l| ("GHL_LOCATION_ID", l)));
    let sources = Sources {
        flags,
        stack,
        local_store: target.local_store.clone(),
    };
    let env: bridge::secrets::Lookup = Arc::new(|k: &str| std::env::var(k).ok());
    setup::deps(&sources, env).await.map_err(|e| e.to_string())
}

/// The deployment's GHL location: the flag, the stack's parameter (else the environment,
/// which the stores' setup reads).
async fn location(
    args: &StatusArgs,
    d: &Deployment,
    cfn: &aws_sdk_cloudformation::Client,
) -> Option<String> {
    if let Some(location) = args.location.clone().filter(|l| !l.trim().is_empty()) {
        return Some(location);
    }
    let name = d.stack().and_then(|s| s.name.as_deref())?;
    gather::stack_location(cfn, name).await
}

/// The sections read from the bridge's stores.
struct StoreSections {
    reconciliation: Section<Reconciliation>,
    tenants: Section<TenantCounts>,
    dials: Section<Dials>,
}

/// The reconciliation, tenants and dials sections, read from the bridge's stores.
async fn store_sections(
    deps: Result<bridge::Deps, String>,
    on_stack: bool,
    now_ms: i64,
) -> StoreSections {
    let deps = match deps {
        Ok(deps) => deps,
        Err(why) => {
            return StoreSections {
                reconciliation: Section::unavailable(why.clone()),
                tenants: Section::unavailable(why.clone()),
                dials: Section::unavailable(why),
            }
        }
    };
    let no_state = on_stack && deps.config.state_table.is_none();
    let unstated = "the stack has no StateTableName output (nor STATE_TABLE)";
    let reconciliation = match no_state {
        true => Section::not_configured(unstated),
        false => match gather::reconciliation(&deps, now_ms).await {
            Ok(data) => Section::ok(data),
            Err(why) => Section::unavailable(why),
        },
    };
    let dials = match no_state {
        true => Section::not_configured(unstated),
        false => match gather::dials(&deps, now_ms).await {
            Ok(data) => Section::ok(data),
            Err(why) => Section::unavailable(why),
        },
    };
    let tenants = match (
        &deps.tenants,
        on_stack && deps.config.tenants_table.is_none(),
    ) {
        (_, true) => {
            Section::not_configured("the stack has no TenantsTableName output (nor TENANTS_TABLE)")
        }
        (None, _) => Section::not_configured("no tenant registry (TENANTS_TABLE)"),
        (Some(registry), _) => match gather::tenants(registry).await {
            Ok(data) => Section::ok(data),
            Err(why) => Section::unavailable(why),
        },
    };
    StoreSections {
        reconciliation,
        tenants,
        dials,
    }
}

/// The alarms section.
async fn alarms_section(
    d: &Deployment,
    cloudwatch: &aws_sdk_cloudwatch::Client,
) -> Section<Vec<Alarm>> {
    match d {
        Deployment::Local => Section::not_configured("no stack: alarms are the stack's (--stack)"),
        Deployment::Failed(_) => Section::unavailable(STACK_UNREAD),
        Deployment::Stack(s) if s.name.is_none() => Section::not_configured(
            "a saved copy of the outputs lists no alarms: name the stack (--stack)",
        ),
        Deployment::Stack(s) => match gather::alarms(cloudwatch, s).await {
            Ok(list) => Section::ok(list),
            Err(why) => Section::unavailable(why),
        },
    }
}

/// Reads every section (at once) and says what needs attention.
pub async fn collect(target: &Target, args: &StatusArgs) -> StatusReport {
    let now = chrono::Utc::now();
    let d = deployment(target).await;
    let config = crate::stack::aws_config(target.region.as_deref()).await;
    let (sqs, cloudwatch) = (
        aws_sdk_sqs::Client::new(&config),
        aws_sdk_cloudwatch::Client::new(&config),
    );
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    let env = |k: &str| std::env::var(k).ok();
    // The local run serves the bridge where `cargo lambda watch` does (scripts/local.sh).
    let local_bridge = matches!(d, Deployment::Local).then(|| LOCAL_BRIDGE_URL.to_string());
    let api_env = env("BRIDGE_URL").or(local_bridge);
    let api = resolve(args.api_url.as_deref(), &d, "ApiUrl", api_env);
    let retry = resolve(
        args.retry_queue_url.as_deref(),
        &d,
        "RetryQueueUrl",
        env("RETRY_QUEUE_URL"),
    );
    let dlq = resolve(
        args.dead_letter_queue_url.as_deref(),
        &d,
        "DeadLetterQueueUrl",
        env("DEAD_LETTER_QUEUE_URL"),
    );
    let stores = async {
        let location = location(args, &d, &cfn).await;
        let deps = bridge_deps(target, &d, location).await;
        store_sections(deps, d.stack().is_some(), now.timestamp_millis()).await
    };
    let (health, retry_queue, parked, stored, alarms) = tokio::join!(
        gather::from_source(
            api,
            "no ApiUrl output, --api-url or BRIDGE_URL",
            gather::health
        ),
        gather::from_source(
            retry,
            "no RetryQueueUrl output, --retry-queue-url or RETRY_QUEUE_URL",
            |url| gather::retry_queue(&sqs, &cloudwatch, url)
        ),
        gather::from_source(
            dlq,
            "no DeadLetterQueueUrl output, --dead-letter-queue-url or DEAD_LETTER_QUEUE_URL",
            |url| gather::parked(&sqs, url)
        ),
        stores,
        alarms_section(&d, &cloudwatch),
    );
    let mut report = StatusReport {
        generated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        stack: gather::stack(&d),
        health,
        retry_queue,
        parked,
        reconciliation: stored.reconciliation,
        tenants: stored.tenants,
        dials: stored.dials,
        alarms,
        attention: Vec::new(),
    };
    report.attention = attention(&report);
    report
}
