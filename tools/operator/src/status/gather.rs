//! The gatherers: each reads one source and gives its section, saying why when it cannot.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{AlarmType, Dimension, Statistic};
use aws_sdk_sqs::types::QueueAttributeName;
use bridge::reconcile::calls::{self, CallsCheckpoint};
use bridge::reconcile::contacts::{self, ContactsCheckpoint};
use bridge::state::StateStore;
use bridge::tenants::TenantStatus;
use bridge::Deps;

use super::report::{
    Alarm, Dials, Health, OldestAge, Parked, PassLag, Reconciliation, ReinstallRefused, RetryQueue,
    Section, StackInfo, TenantCounts, TenantDials, DIAL_WINDOW_HOURS, STACK_UNREAD,
};
use crate::redrive::{group, DeadLetterQueue};
use crate::stack::{error_text, Stack};
use bridge::handlers::ghl::speed_to_lead::recent_outcomes;

/// The deployment the flags name.
#[derive(Debug, Clone)]
pub enum Deployment {
    /// A stack, described through CloudFormation or read from a saved copy of its outputs.
    Stack(Stack),
    /// A stack was named but could not be read: why.
    Failed(String),
    /// No stack: the local run.
    Local,
}

impl Deployment {
    pub fn stack(&self) -> Option<&Stack> {
        match self {
            Deployment::Stack(stack) => Some(stack),
            _ => None,
        }
    }
}

/// A source: the flag, then the stack's `output`, then the environment's value. A stack named
/// but not read gives no source (the environment may name another deployment).
pub fn resolve(
    flag: Option<&str>,
    deployment: &Deployment,
    output: &str,
    env: Option<String>,
) -> Result<Option<String>, String> {
    let set = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    if let Some(flag) = set(flag.map(str::to_string)) {
        return Ok(Some(flag));
    }
    match deployment {
        Deployment::Failed(_) => Err(STACK_UNREAD.into()),
        Deployment::Stack(stack) => Ok(stack.output(output).map(str::to_string).or(set(env))),
        Deployment::Local => Ok(set(env)),
    }
}

/// A resolved source as a section: its data from `read`, or why there is none.
pub async fn from_source<T, F>(
    source: Result<Option<String>, String>,
    none: &str,
    read: impl FnOnce(String) -> F,
) -> Section<T>
where
    F: std::future::Future<Output = Result<T, String>>,
{
    match source {
        Err(why) => Section::unavailable(why),
        Ok(None) => Section::not_configured(none),
        Ok(Some(value)) => match read(value).await {
            Ok(data) => Section::ok(data),
            Err(why) => Section::unavailable(why),
        },
    }
}

pub fn stack(deployment: &Deployment) -> Section<StackInfo> {
    match deployment {
        Deployment::Local => {
            Section::not_configured("no stack (--stack or BRIDGE_STACK): the local run")
        }
        Deployment::Failed(why) => Section::unavailable(why.clone()),
        Deployment::Stack(s) => Section::ok(StackInfo {
            name: s.name.clone(),
            status: s.status.clone(),
            source: match s.name {
                Some(_) => "cloudformation".into(),
                None => "outputs_file".into(),
            },
        }),
    }
}

/// An RFC 3339 time (UTC, seconds) of epoch milliseconds.
pub fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

/// An error and its causes, on one line.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// `GET <api>/health`.
pub async fn health(api_url: String) -> Result<Health, String> {
    health_with_body(&api_url).await.map(|(health, _)| health)
}

/// `GET <api>/health`, with the answer's body (`Null` when it was not JSON): what `bridge
/// status` reports and `bridge doctor` checks.
pub(crate) async fn health_with_body(api_url: &str) -> Result<(Health, serde_json::Value), String> {
    let url = format!("{}/health", api_url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| chain(&e))?;
    let answer = client.get(&url).send().await.map_err(|e| chain(&e))?;
    let http_status = answer.status().as_u16();
    let body: serde_json::Value = answer.json().await.unwrap_or(serde_json::Value::Null);
    let status = body
        .get("status")
        .and_then(|s| s.as_str())
        .map(str::to_string);
    let health = Health {
        url,
        http_status,
        status,
    };
    Ok((health, body))
}

/// The retry queue's depth, and its oldest message's age from CloudWatch.
pub async fn retry_queue(
    sqs: &aws_sdk_sqs::Client,
    cloudwatch: &aws_sdk_cloudwatch::Client,
    url: String,
) -> Result<RetryQueue, String> {
    let names = [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        QueueAttributeName::ApproximateNumberOfMessagesDelayed,
    ];
    let answer = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .set_attribute_names(Some(names.to_vec()))
        .send()
        .await
        .map_err(|e| format!("GetQueueAttributes: {}", error_text(&e)))?;
    let count = |name: &QueueAttributeName| {
        answer
            .attributes()
            .and_then(|a| a.get(name))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (visible, in_flight, delayed) = (count(&names[0]), count(&names[1]), count(&names[2]));
    let oldest_age = match visible + in_flight + delayed {
        0 => OldestAge::Empty,
        _ => oldest_age(cloudwatch, queue_name(&url)).await,
    };
    Ok(RetryQueue {
        url,
        visible,
        in_flight,
        delayed,
        oldest_age,
    })
}

/// A queue's name: the last part of its URL.
pub fn queue_name(url: &str) -> &str {
    url.trim_end_matches('/').rsplit('/').next().unwrap_or(url)
}

/// How far back the age metric is looked for.
const AGE_WINDOW_SECS: i64 = 30 * 60;

/// The latest `ApproximateAgeOfOldestMessage` datapoint of the last half hour.
async fn oldest_age(cloudwatch: &aws_sdk_cloudwatch::Client, queue: &str) -> OldestAge {
    let now = chrono::Utc::now().timestamp();
    let dimension = Dimension::builder().name("QueueName").value(queue).build();
    let answer = cloudwatch
        .get_metric_statistics()
        .namespace("AWS/SQS")
        .metric_name("ApproximateAgeOfOldestMessage")
        .dimensions(dimension)
        .start_time(DateTime::from_secs(now - AGE_WINDOW_SECS))
        .end_time(DateTime::from_secs(now + 60))
        .period(60)
        .statistics(Statistic::Maximum)
        .send()
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => {
            let why = format!("CloudWatch GetMetricStatistics: {}", error_text(&e));
            return OldestAge::Unknown { why };
        }
    };
    let latest = answer
        .datapoints()
        .iter()
        .filter_map(|d| Some((d.timestamp()?.to_millis().ok()?, d.maximum()?)))
        .max_by_key(|(at, _)| *at);
    match latest {
        Some((at, seconds)) => OldestAge::Cloudwatch {
            seconds: seconds.round() as i64,
            at: rfc3339_ms(at),
        },
        None => OldestAge::Unknown {
            why: "no CloudWatch datapoint of ApproximateAgeOfOldestMessage in the last 30 minutes"
                .into(),
        },
    }
}

/// The dead-letter queue's events by reason (each is received, then made visible again).
pub async fn parked(sqs: &aws_sdk_sqs::Client, url: String) -> Result<Parked, String> {
    let mut dlq = DeadLetterQueue::new(sqs.clone(), url.clone());
    dlq.hold_secs = 30;
    let all = dlq.list(|_| {}).await.map_err(|e| e.to_string())?;
    Ok(Parked {
        url,
        total: all.len(),
        groups: group(&all),
    })
}

/// The reconciliation passes there are: the deployment's own (`own_location` names its
/// contacts checkpoint), then each served tenant's. Each is (tenant, pass, checkpoint name).
pub fn passes(
    own_location: Option<&str>,
    tenants: &[String],
) -> Vec<(String, String, Option<String>)> {
    let mut out = vec![
        (
            "default".into(),
            "calls".into(),
            Some(calls::checkpoint_of(None)),
        ),
        (
            "default".into(),
            "contacts".into(),
            own_location.map(contacts::checkpoint_name),
        ),
    ];
    for t in tenants {
        out.push((
            t.clone(),
            "calls".into(),
            Some(calls::checkpoint_of(Some(t))),
        ));
        out.push((
            t.clone(),
            "contacts".into(),
            Some(contacts::checkpoint_name(t)),
        ));
    }
    out
}

/// When a checkpoint (the bridge's own types) says its pass last caught up.
fn caught_up_at(pass: &str, text: &str) -> Result<Option<i64>, String> {
    let read = match pass {
        "calls" => serde_json::from_str::<CallsCheckpoint>(text).map(|c| c.caught_up_at_ms),
        _ => serde_json::from_str::<ContactsCheckpoint>(text).map(|c| c.caught_up_at_ms),
    };
    read.map_err(|e| e.to_string())
}

/// One pass's lag; an error only when the state store cannot be read.
async fn pass_lag(
    state: &dyn StateStore,
    (tenant, pass, checkpoint): (String, String, Option<String>),
    now_ms: i64,
) -> Result<PassLag, String> {
    let mut lag = PassLag {
        tenant,
        pass,
        checkpoint: checkpoint.clone(),
        caught_up_at: None,
        lag_seconds: None,
        note: None,
    };
    let Some(name) = checkpoint else {
        lag.note = Some(
            "location unknown: --location, the stack's GhlLocationId or GHL_LOCATION_ID".into(),
        );
        return Ok(lag);
    };
    let text = state
        .get_value(&name)
        .await
        .map_err(|e| format!("reading {name}: {e}"))?;
    match text.map(|t| caught_up_at(&lag.pass, &t)) {
        None => lag.note = Some("no checkpoint yet".into()),
        Some(Err(e)) => lag.note = Some(format!("unreadable checkpoint: {e}")),
        Some(Ok(None)) => lag.note = Some("has not caught up yet".into()),
        Some(Ok(Some(at))) => {
            lag.caught_up_at = Some(rfc3339_ms(at));
            lag.lag_seconds = Some((now_ms - at).max(0) / 1000);
        }
    }
    Ok(lag)
}

/// The last reconciliation's lag, pass by pass, from the checkpoints in the state store.
pub async fn reconciliation(deps: &Deps, now_ms: i64) -> Result<Reconciliation, String> {
    let own = deps.config.ghl_location_id.as_deref();
    let (tenants, tenants_unlisted) = match bridge::reconcile::served_tenants(deps).await {
        Ok(served) => (served, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let reads = passes(own, &tenants)
        .into_iter()
        .map(|p| pass_lag(deps.state.as_ref(), p, now_ms));
    let passes = futures_util::future::join_all(reads)
        .await
        .into_iter()
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Reconciliation {
        passes,
        tenants_unlisted,
    })
}

/// Speed to lead's outcomes of the last [`DIAL_WINDOW_HOURS`] hours, for the deployment's own
/// location and each served tenant, from the counters in the state table.
pub async fn dials(deps: &Deps, now_ms: i64) -> Result<Dials, String> {
    let own = deps.location_for(None);
    let served = bridge::reconcile::served_tenants(deps)
        .await
        .unwrap_or_default();
    let mut tenants = Vec::new();
    for location in std::iter::once(own.clone()).chain(served) {
        let state = deps.state.as_ref();
        let sums = recent_outcomes(state, &location, now_ms, DIAL_WINDOW_HOURS)
            .await
            .map_err(|e| format!("reading the dial counts of {location}: {e}"))?;
        if sums.is_empty() {
            continue;
        }
        let pick = |prefix: &str| -> BTreeMap<String, u64> {
            sums.iter()
                .filter_map(|(k, n)| Some((k.strip_prefix(prefix)?.to_string(), *n)))
                .collect()
        };
        let tenant = match location == own && deps.config.ghl_location_id.is_none() {
            true => "default".to_string(),
            false => location.clone(),
        };
        tenants.push(TenantDials {
            tenant,
            dialled: sums.get("dialled").copied().unwrap_or(0),
            refused: pick("refused_"),
            tasks: pick("task_"),
        });
    }
    Ok(Dials {
        hours: DIAL_WINDOW_HOURS,
        tenants,
    })
}

/// The registry's tenants, counted by status (the disabled ones by who disabled them), and
/// the re-installs refused of those an operator disabled.
pub async fn tenants(registry: &bridge::tenants::Tenants) -> Result<TenantCounts, String> {
    let mut list = registry.list().await.map_err(|e| e.to_string())?;
    list.sort_by(|a, b| a.0.location_id.cmp(&b.0.location_id));
    let every = [
        TenantStatus::Active,
        TenantStatus::Disabled,
        TenantStatus::AwaitingAuthorization,
        TenantStatus::ReauthorizationRequired,
    ];
    let mut by_status: BTreeMap<String, usize> =
        every.iter().map(|s| (s.as_str().to_string(), 0)).collect();
    let mut disabled_by: BTreeMap<String, usize> = BTreeMap::new();
    let mut reinstalls_refused = Vec::new();
    for (record, _) in &list {
        *by_status
            .entry(record.status.as_str().to_string())
            .or_default() += 1;
        if record.status == TenantStatus::Disabled {
            let by = match record.disabled_by_operator() {
                true => "operator",
                false => "uninstall",
            };
            *disabled_by.entry(by.to_string()).or_default() += 1;
        }
        let last = record.reinstalls_refused.last();
        if let Some(last) = last.filter(|_| record.disabled_by_operator()) {
            reinstalls_refused.push(ReinstallRefused {
                tenant: record.location_id.clone(),
                at: last.at.clone(),
                via: last.via.as_str().to_string(),
                company_id: last.company_id.clone(),
                count: record.reinstalls_refused.len(),
            });
        }
    }
    Ok(TenantCounts {
        total: list.len(),
        by_status,
        disabled_by,
        reinstalls_refused,
    })
}

type AlarmRow = (String, Option<String>, Option<String>);

/// An alarm's state, reason and since when.
fn alarm_row(
    state: Option<&aws_sdk_cloudwatch::types::StateValue>,
    reason: Option<&str>,
    updated: Option<&DateTime>,
) -> AlarmRow {
    (
        state.map_or_else(String::new, |s| s.as_str().to_string()),
        reason.map(str::to_string),
        updated.and_then(|t| t.to_millis().ok()).map(rfc3339_ms),
    )
}

/// The state of each of the stack's `AWS::CloudWatch::Alarm` resources.
pub async fn alarms(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    stack: &Stack,
) -> Result<Vec<Alarm>, String> {
    let declared: Vec<(&str, &str)> = stack
        .resources_of("AWS::CloudWatch::Alarm")
        .filter(|r| !r.physical_id.is_empty())
        .map(|r| (r.logical_id.as_str(), r.physical_id.as_str()))
        .collect();
    let mut found: BTreeMap<String, AlarmRow> = BTreeMap::new();
    for chunk in declared.chunks(100) {
        let answer = cloudwatch
            .describe_alarms()
            .set_alarm_names(Some(chunk.iter().map(|(_, n)| n.to_string()).collect()))
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .send()
            .await
            .map_err(|e| format!("DescribeAlarms: {}", error_text(&e)))?;
        for a in answer.metric_alarms() {
            let row = alarm_row(
                a.state_value(),
                a.state_reason(),
                a.state_updated_timestamp(),
            );
            found.insert(a.alarm_name().unwrap_or_default().to_string(), row);
        }
        for a in answer.composite_alarms() {
            let row = alarm_row(
                a.state_value(),
                a.state_reason(),
                a.state_updated_timestamp(),
            );
            found.insert(a.alarm_name().unwrap_or_default().to_string(), row);
        }
    }
    Ok(declared
        .iter()
        .map(|(logical_id, name)| {
            let (state, reason, since) =
                found
                    .remove(*name)
                    .unwrap_or(("NOT_FOUND".into(), None, None));
            Alarm {
                logical_id: logical_id.to_string(),
                name: name.to_string(),
                state,
                reason,
                since,
            }
        })
        .collect())
}

/// The location the stack's `GhlLocationId` parameter names, if any.
pub async fn stack_location(cfn: &aws_sdk_cloudformation::Client, name: &str) -> Option<String> {
    let answer = cfn.describe_stacks().stack_name(name).send().await.ok()?;
    let stack = answer.stacks().first()?;
    stack
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some("GhlLocationId"))
        .and_then(|p| p.parameter_value())
        .filter(|v| !v.trim().is_empty())
        .map(str::to_string)
}
