//! `bridge doctor`: read-only checks of a deployment, one line each, `ok`, `warn` or `fail`
//! with what to do.
//!
//! The deployment is found as `bridge status` finds it (`--stack` / `BRIDGE_STACK` through
//! CloudFormation, `--stack-outputs`, else the local run), with the settings its functions run
//! with (a stack's parameters, else the environment) and its secrets read as they read them
//! (the stack's secret, else the environment): see [`deployment`]. Whom it checks: the
//! deployment's own location (`default`) and every tenant it serves, or `--tenant <location>`.
//!
//! Checks ([`check::id`], in this order; each location's lines together):
//! - `stack`: the stack named was read (and is not failed or rolled back);
//! - `health`: `GET <ApiUrl>/health` answers `ok` (`--api-url`, the stack's `ApiUrl`,
//!   `BRIDGE_URL`, else the local run's `http://127.0.0.1:9000`);
//! - `secrets`: the deployment's secrets are present (the CloudTalk key id and secret, the GHL
//!   token, both webhook secrets; the app's client secret and the seal key in agency mode),
//!   each missing one a `fail` naming it and how to set it; a tenant's sealed ones likewise;
//!   never a value;
//! - `tenant`: a tenant that is registered but not served (disabled: `ok`; waiting for an
//!   authorization: `warn`), or `--tenant` naming none;
//! - `cloudtalk_key`: CloudTalk accepts the key (its agents, `GET /agents/index.json`): 401/403
//!   is a `fail`;
//! - `ghl_access`: the GHL token reaches the location (its users): 401/403 a `fail`, 404 a
//!   `warn`; an install whose access token has expired is not checked (renewing it is a write);
//! - `custom_fields`: each field a setting names (`GHL_FIELD_LAST_CALL_*`,
//!   `CALL_RATING_FIELD`, `CALL_DISPOSITION_FIELD`, or the tenant's options) is a contact field
//!   of the location (`GET /locations/{id}/customFields`), one line each;
//! - `stage_map`: `CAMPAIGN_STAGE_MAP`'s pipelines and stages exist (`GET
//!   /opportunities/pipelines`);
//! - `agents`: with the people features on, each CloudTalk agent has a GHL user (the agent map
//!   wins over the email): a `warn` per agent without one;
//! - `call_provider`: calls logged in Conversations name a provider GHL's API cannot read back:
//!   a `warn` saying so;
//! - `speed_to_lead`: with it on, the listed agents are CloudTalk agents, and `owner` mode has
//!   agents with users; invalid settings (which turn it off) a `fail`;
//! - `texts`: with texts set up (`SMS_SENDER_NUMBER` or `GHL_SMS_PROVIDER_ID`, or a tenant's
//!   options), the provider's id is set (received texts need it) and the sender is one of the
//!   CloudTalk account's numbers (`GET /numbers/index.json`); invalid settings a `fail`;
//! - `webhooks`: per endpoint, when its webhook last arrived (`bridge::arrivals`), or a `warn`
//!   that none ever did, with where its setup is; the Marketplace app's install webhook once,
//!   for a deployment with the app.
//!
//! Only GETs go upstream, through the bridge's own clients and shared budget.
//!
//! `--json` prints the list: `[{"check", "tenant", "state", "message", "fix"}]` (`tenant`:
//! `default`, a location id, or null for the deployment as a whole; `state`: `ok`, `warn`,
//! `fail`; `fix`: null when there is nothing to do).
//!
//! `--print-setup` prints, instead of the checks, each sender's setup ([`print_setup`]).
//!
//! Exit code: 0 when no check failed, 1 when one did (or the stack could not be read), 2 for a
//! usage error.

pub mod arrivals;
pub mod check;
pub mod deployment;
pub mod health;
pub mod people;
pub mod print_setup;
pub mod secrets;
pub mod texts;
pub mod upstream;

use std::sync::Arc;

use clap::Args;
use futures_util::StreamExt;

use crate::stack::Target;
use crate::status::{resolve as source, Deployment};
use check::{exit_code, id, render, Check};
use deployment::{Context, Resolved, Subject, Subjects};

const AFTER: &str = "\
Checks, each line ok, warn or fail with what to do: the stack, its health route, the secrets
(present, never shown), CloudTalk's key, the GHL token's reach, the custom fields, pipelines and
stages the settings name, agents without a GHL user, the Conversations provider, speed to
lead's agents, the texts' provider and sender number, and which webhooks have ever arrived (and when last). For the deployment's own
location and every tenant it serves, or --tenant. Only reads: nothing is written upstream.

--print-setup prints instead, per webhook, the URL, header and body to paste into its sender;
headers name the webhook secret (<CLOUDTALK_WEBHOOK_SECRET>) unless --reveal-secrets, which
reads the secrets and prints them.

Exit codes: 0 no check failed (warnings allowed), 1 a check failed (or the stack could not be
read), 2 usage error. --json prints [{check, tenant, state, message, fix}].

Examples:
  bridge --stack ghl-cloudtalk-bridge doctor
  bridge --stack ghl-cloudtalk-bridge doctor --tenant loc_123 --json
  bridge --stack ghl-cloudtalk-bridge doctor --print-setup --tenant loc_123
  bridge doctor                                  # the local run (scripts/local.sh)";

#[derive(Debug, Clone, Default, Args)]
#[command(after_help = AFTER)]
pub struct DoctorArgs {
    /// Only this location: a tenant's id, or the deployment's own (its id, or `default`).
    #[arg(long, value_name = "LOCATION")]
    pub tenant: Option<String>,
    /// The bridge's base URL (else the stack's ApiUrl, else BRIDGE_URL; without a stack, the
    /// local run's http://127.0.0.1:9000).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Print each sender's setup (URL, header, body) instead of checking.
    #[arg(long)]
    pub print_setup: bool,
    /// With --print-setup: print the webhook secrets in the headers, not their names.
    #[arg(long, requires = "print_setup")]
    pub reveal_secrets: bool,
}

pub async fn run(target: &Target, args: DoctorArgs, json: bool) -> i32 {
    if args.print_setup {
        return run_print_setup(target, &args, json).await;
    }
    let (heading, checks) = collect(target, &args).await;
    if json {
        match serde_json::to_string_pretty(&checks) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("bridge doctor: {e}");
                return 1;
            }
        }
    } else {
        print!("{}", render(&heading, &checks));
    }
    exit_code(&checks)
}

/// The bridge's base URL: the flag, the stack's `ApiUrl`, `BRIDGE_URL`, or the local run's.
fn api_url(args: &DoctorArgs, d: &Deployment) -> Option<String> {
    let local = matches!(d, Deployment::Local).then(|| health::LOCAL_BRIDGE_URL.to_string());
    let env = std::env::var("BRIDGE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    source(args.api_url.as_deref(), d, "ApiUrl", env.or(local)).unwrap_or_default()
}

/// The `stack` line: read, and not failed or rolled back.
fn stack_line(d: &Deployment, heading: &str) -> Option<Check> {
    let status = match d {
        Deployment::Local => return None,
        Deployment::Failed(why) => {
            return Some(
                Check::fail(
                    id::STACK,
                    None,
                    format!("the stack could not be read: {why}"),
                )
                .fix("check the name (--stack, BRIDGE_STACK), --region and the AWS credentials"),
            )
        }
        Deployment::Stack(s) => s.status.clone().unwrap_or_default(),
    };
    let message = match status.as_str() {
        "" => {
            format!("{heading}: its settings from the environment (a saved copy has no parameters)")
        }
        _ => format!("{heading} ({status})"),
    };
    Some(
        match status.contains("FAILED") || status.contains("ROLLBACK") {
            true => Check::warn(id::STACK, None, message)
                .fix("see the stack's events in CloudFormation; deploy again"),
            false => Check::ok(id::STACK, None, message),
        },
    )
}

/// Every check of one location, in order.
async fn subject_checks(subject: &Subject, cx: &Context) -> Vec<Check> {
    let mut out = secrets::of_tenant(subject);
    let (line, agents) = upstream::cloudtalk_key(subject, cx).await;
    out.push(line);
    let (line, users) = upstream::ghl_access(subject, cx).await;
    out.push(line);
    out.extend(upstream::custom_fields(subject, cx).await);
    out.extend(upstream::stage_map(subject, cx).await);
    out.extend(people::agents(
        subject,
        cx,
        agents.as_deref(),
        users.as_deref(),
    ));
    out.push(people::call_provider(subject));
    out.extend(people::speed_to_lead(
        subject,
        cx,
        agents.as_deref(),
        users.as_deref(),
    ));
    out.push(texts::check(subject, cx).await);
    out.extend(arrivals::webhooks(subject, cx).await);
    out
}

/// The checks of every location, a few at a time, in order.
async fn locations(found: &Subjects, cx: &Context) -> Vec<Check> {
    let each = futures_util::stream::iter(found.list.iter())
        .map(|s| subject_checks(s, cx))
        .buffered(4)
        .collect::<Vec<_>>()
        .await;
    each.into_iter().flatten().collect()
}

/// The deployment's lines after its own: the Marketplace app's install webhook.
async fn app_line(deps: &bridge::Deps, found: &Subjects, cx: &Context) -> Option<Check> {
    let c = &deps.config;
    if c.ghl_app_client_id.is_none() && c.ghl_app_id.is_none() {
        return None;
    }
    let tenants: Vec<String> = match deps.tenants.as_deref() {
        Some(registry) => registry
            .list()
            .await
            .map(|records| records.into_iter().map(|(r, _)| r.location_id).collect())
            .unwrap_or_default(),
        None => found
            .list
            .iter()
            .filter(|s| !s.is_own())
            .map(|s| s.name.clone())
            .collect(),
    };
    Some(arrivals::app_install(deps.state.as_ref(), &tenants, cx).await)
}

/// Every check, and the heading naming the deployment.
pub async fn collect(target: &Target, args: &DoctorArgs) -> (String, Vec<Check>) {
    let Resolved {
        deployment,
        context: cx,
        deps,
    } = deployment::resolve(target, true).await;
    let heading = cx.place.heading();
    let mut checks: Vec<Check> = stack_line(&deployment, &heading).into_iter().collect();
    if matches!(deployment, Deployment::Failed(_)) {
        return (heading, checks);
    }
    checks.push(health::check(api_url(args, &deployment), cx.place.on_stack).await);
    let deps = match deps {
        Ok(deps) => deps,
        Err(why) => {
            let line = Check::fail(id::SECRETS, Some(deployment::DEFAULT), format!("the bridge's stores and secrets could not be set up: {why}"))
                .fix("check the stack's outputs (ContactMapTableName, BridgeSecretsArn) and the permission to read its secret");
            checks.push(line);
            return (heading, checks);
        }
    };
    let found = deployment::subjects(&deps, args.tenant.as_deref(), cx.now_ms).await;
    let own = found.list.iter().any(Subject::is_own);
    if own || args.tenant.is_none() {
        checks.extend(secrets::of_deployment(&deps, &cx, own, found.registered));
    }
    checks.extend(locations(&found, &cx).await);
    checks.extend(found.lines.iter().cloned());
    if args.tenant.is_none() {
        checks.extend(app_line(&deps, &found, &cx).await);
    }
    (heading, checks)
}

/// `--print-setup`: each sender's URL, header and body, as text or JSON.
async fn run_print_setup(target: &Target, args: &DoctorArgs, json: bool) -> i32 {
    let Resolved {
        deployment,
        context: cx,
        deps,
    } = deployment::resolve(target, args.reveal_secrets).await;
    let deps: Arc<bridge::Deps> = match deps {
        Ok(deps) => deps,
        Err(why) => {
            eprintln!("bridge doctor: {why}");
            return 1;
        }
    };
    let api = api_url(args, &deployment).unwrap_or_else(|| "<ApiUrl>".into());
    let whoms = match print_setup::whoms(&deps, args.tenant.as_deref(), args.reveal_secrets).await {
        Ok(whoms) => whoms,
        Err(why) => {
            eprintln!("bridge doctor: {why}");
            return 1;
        }
    };
    let mut entries: Vec<print_setup::SetupEntry> = whoms
        .iter()
        .flat_map(|w| print_setup::entries(&api, w))
        .collect();
    let c = &deps.config;
    if c.ghl_app_client_id.is_some()
        || c.ghl_app_id.is_some()
        || whoms.iter().any(|w| {
            w.auth
                .is_some_and(|a| a != bridge::tenants::GhlAuth::PrivateToken)
        })
    {
        entries.push(print_setup::app_entry(&api));
    }
    if args.reveal_secrets {
        eprintln!("bridge doctor: the output holds webhook secrets (--reveal-secrets)");
    }
    if json {
        match serde_json::to_string_pretty(&entries) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("bridge doctor: {e}");
                return 1;
            }
        }
    } else {
        let heading = format!("{}: {api}", cx.place.heading());
        print!("{}", print_setup::render(&heading, &whoms, &entries));
    }
    0
}
