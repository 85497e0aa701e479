//! What the stack watches: the dashboard, the alarms and the saved queries in `template.yaml`
//! cover every function and endpoint and every alarm has its runbook entry in the manual; the metrics
//! they read are the ones the functions' log lines really embed, in the shape Lambda writes them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bridge::contact_map::ContactMap;
use bridge::EndpointId;
use bridge_testkit::*;
use serde_json::{json, Value as Json};
use serde_yaml_ng::{Mapping, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

mod language_extensions;

const NAMESPACE: &str = "test-stack/Bridge";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(file: &str) -> String {
    std::fs::read_to_string(repo().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// template.yaml with its `Fn::ForEach` loops expanded, as the stack gets it.
fn template() -> Value {
    language_extensions::expand(
        serde_yaml_ng::from_str(&read("template.yaml")).expect("template.yaml parses"),
    )
}

fn resources(doc: &Value) -> &Mapping {
    doc.get("Resources")
        .and_then(Value::as_mapping)
        .expect("Resources")
}

/// Logical id → resource, for every resource of `kind`.
fn of_type<'a>(doc: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    resources(doc)
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
        .map(|(id, r)| (id.as_str().expect("logical ids are strings"), r))
        .collect()
}

/// (logical id without its `Function` suffix, function name without the stack prefix) of every
/// function.
fn functions(doc: &Value) -> Vec<(String, String)> {
    of_type(doc, "AWS::Serverless::Function")
        .into_iter()
        .map(|(id, r)| {
            let name = tagged(&r["Properties"]["FunctionName"], "Sub")
                .and_then(Value::as_str)
                .and_then(|n| n.strip_prefix("${AWS::StackName}-"))
                .unwrap_or_else(|| panic!("{id} has no FunctionName !Sub ${{AWS::StackName}}-…"));
            let base = id
                .strip_suffix("Function")
                .unwrap_or_else(|| panic!("{id} does not end in Function"));
            (base.to_string(), name.to_string())
        })
        .collect()
}

/// The argument of `!Tag arg` (the short forms the template uses).
fn tagged<'a>(v: &'a Value, tag: &str) -> Option<&'a Value> {
    match v {
        Value::Tagged(t) if t.tag == tag => Some(&t.value),
        _ => None,
    }
}

fn is_ref_to(v: &Value, target: &str) -> bool {
    tagged(v, "Ref").and_then(Value::as_str) == Some(target)
}

/// A `!Sub` text as CloudFormation renders it: pseudo parameters and resources by placeholder
/// (`${X}` → `X`, `${X.Attr}` → `X.Attr`), `${!…}` as the literal `${…}`. Every name must exist.
fn substitute(text: &str, doc: &Value) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('}').expect("unclosed ${") + at;
        let var = &rest[at + 2..end];
        if let Some(literal) = var.strip_prefix('!') {
            out.push_str(&format!("${{{literal}}}"));
        } else {
            let name = var.split('.').next().unwrap_or_default();
            let known = match name {
                "AWS::StackName" => Some("test-stack"),
                "AWS::Region" => Some("us-east-1"),
                _ => None,
            };
            match known {
                Some(value) => out.push_str(value),
                None => {
                    assert!(
                        resources(doc).contains_key(name),
                        "the dashboard names {name}, which the template does not define"
                    );
                    out.push_str(var);
                }
            }
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn dashboard(doc: &Value) -> Json {
    let dashboards = of_type(doc, "AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1, "one dashboard per stack");
    let props = &dashboards[0].1["Properties"];
    let name = tagged(&props["DashboardName"], "Sub").and_then(Value::as_str);
    assert!(
        name.is_some_and(|n| n.contains("${AWS::StackName}")),
        "the dashboard's name carries the stack's"
    );
    let body = tagged(&props["DashboardBody"], "Sub")
        .and_then(Value::as_str)
        .expect("DashboardBody is a !Sub text");
    let rendered = substitute(body, doc);
    serde_json::from_str(&rendered)
        .unwrap_or_else(|e| panic!("the dashboard body is not JSON once substituted: {e}"))
}

/// Every metric row of every widget (`[namespace, name, dim, value, …, {options}]` or
/// `[{expression…}]`).
fn metric_rows(dashboard: &Json) -> Vec<&Json> {
    dashboard["widgets"]
        .as_array()
        .expect("widgets")
        .iter()
        .flat_map(|w| w["properties"]["metrics"].as_array().into_iter().flatten())
        .collect()
}

fn row_has(row: &Json, namespace: &str, metric: &str, dimension_value: &str) -> bool {
    let parts = row.as_array().cloned().unwrap_or_default();
    parts.first() == Some(&json!(namespace))
        && parts.get(1) == Some(&json!(metric))
        && parts.iter().any(|p| p == &json!(dimension_value))
}

#[test]
fn the_dashboard_is_json_and_shows_every_function_and_endpoint() {
    let doc = template();
    let board = dashboard(&doc);
    let rows = metric_rows(&board);
    for (id, name) in functions(&doc) {
        let function = format!("{id}Function");
        for metric in ["Duration", "Errors", "Throttles"] {
            assert!(
                rows.iter()
                    .any(|r| row_has(r, "AWS/Lambda", metric, &function)),
                "the dashboard has no {metric} of {name} ({id})"
            );
        }
    }
    let expressions: Vec<&str> = rows
        .iter()
        .filter_map(|r| r[0]["expression"].as_str())
        .collect();
    for entry in bridge::registry::REGISTRY.iter() {
        let search = format!(
            "SEARCH('{{\"{NAMESPACE}\",endpoint,outcome}} MetricName=\"duration_ms\" endpoint=\"{}\"'",
            entry.name
        );
        assert!(
            expressions.iter().any(|e| e.starts_with(&search)),
            "the dashboard has no requests-by-outcome panel for {}",
            entry.name
        );
    }
    for (queue, metric) in [
        ("RetryQueue.QueueName", "ApproximateNumberOfMessagesVisible"),
        ("RetryQueue.QueueName", "ApproximateAgeOfOldestMessage"),
        (
            "DeadLetterQueue.QueueName",
            "ApproximateNumberOfMessagesVisible",
        ),
    ] {
        assert!(
            rows.iter().any(|r| row_has(r, "AWS/SQS", metric, queue)),
            "the dashboard has no {metric} of {queue}"
        );
    }
    for metric in [
        "cloudtalk_calls",
        "ghl_calls",
        "cloudtalk_429s",
        "ghl_429s",
        "ReconcileLagSeconds",
    ] {
        assert!(
            rows.iter().any(|r| r[0] == NAMESPACE && r[1] == metric),
            "the dashboard has no {metric}"
        );
    }
    assert!(
        rows.iter()
            .any(|r| row_has(r, "AWS/ApiGateway", "5xx", "BridgeApi")),
        "the dashboard has no API 5xx"
    );
}

fn markdown_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            markdown_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// The manual's Monitoring chapter (under docs/, the file whose title is `# Monitoring`).
fn monitoring_section() -> String {
    let mut files = Vec::new();
    markdown_under(&repo().join("docs"), &mut files);
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("a chapter of the manual"))
        .find(|text| text.lines().next() == Some("# Monitoring"))
        .expect("the manual has a Monitoring chapter")
}

#[test]
fn every_alarm_notifies_the_alarm_topic_and_has_a_runbook_entry() {
    let doc = template();
    let monitoring = monitoring_section();
    let alarms = of_type(&doc, "AWS::CloudWatch::Alarm");
    assert!(alarms.len() > 5, "the alarms are missing");
    for (id, alarm) in &alarms {
        let actions = alarm["Properties"]["AlarmActions"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{id} has no AlarmActions"));
        assert!(
            actions.iter().any(|a| is_ref_to(a, "AlarmTopic")),
            "{id} does not notify the AlarmTopic"
        );
        let row = monitoring
            .lines()
            .find(|l| l.starts_with('|') && l.contains(&format!("`{id}`")))
            .unwrap_or_else(|| panic!("the manual's Monitoring has no runbook row for {id}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert!(
            cells.len() >= 4 && cells[2].len() > 10 && cells[3].len() > 10,
            "the runbook row of {id} says neither when it fires nor what to do: {row}"
        );
    }
    // An error-rate alarm per function, on that function.
    for (id, name) in functions(&doc) {
        let alarm = resources(&doc)
            .get(format!("{id}ErrorRateAlarm").as_str())
            .unwrap_or_else(|| panic!("{name} has no {id}ErrorRateAlarm"));
        let metrics = alarm["Properties"]["Metrics"]
            .as_sequence()
            .expect("metric math");
        for metric in ["Errors", "Invocations"] {
            assert!(
                metrics.iter().any(|m| {
                    let stat = &m["MetricStat"]["Metric"];
                    stat["MetricName"].as_str() == Some(metric)
                        && is_ref_to(&stat["Dimensions"][0]["Value"], &format!("{id}Function"))
                }),
                "{id}ErrorRateAlarm does not read {metric} of {id}Function"
            );
        }
    }
}

/// Every function's log group, each checked to be a log group of the template.
fn function_log_groups(doc: &Value) -> BTreeSet<String> {
    let all_groups: BTreeSet<String> = functions(doc)
        .into_iter()
        .map(|(id, _)| format!("{id}LogGroup"))
        .collect();
    for group in &all_groups {
        assert_eq!(
            resources(doc)[group.as_str()]["Type"].as_str(),
            Some("AWS::Logs::LogGroup"),
            "{group} is not a log group"
        );
    }
    all_groups
}

/// The log groups the query `id` reads, by the logical ids it `!Ref`s.
fn query_log_groups(id: &str, props: &Value) -> BTreeSet<String> {
    props["LogGroupNames"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{id} has no LogGroupNames"))
        .iter()
        .map(|g| {
            let target = tagged(g, "Ref").and_then(Value::as_str);
            target.unwrap_or_else(|| panic!("{id}: {g:?}")).to_string()
        })
        .collect()
}

/// The history and duration queries read every function's log group; the others read at
/// least the groups of the functions that log events.
fn assert_query_reads_its_groups(
    doc: &Value,
    (id, name): (&str, &str),
    groups: &BTreeSet<String>,
    all_groups: &BTreeSet<String>,
) {
    match name {
        "contact-history" | "cold-and-warm-durations" => {
            assert_eq!(
                groups, all_groups,
                "{id} must read every function's log group"
            )
        }
        _ => {
            for (fid, fname) in functions(doc) {
                let logs_events = bridge::registry::REGISTRY.iter().any(|e| e.name == fname)
                    || fname == bridge::worker::FUNCTION;
                if logs_events {
                    assert!(
                        groups.contains(&format!("{fid}LogGroup")),
                        "{id} does not read {fname}'s events"
                    );
                }
            }
        }
    }
}

/// The query named `name` looks for what it is about in the lines.
fn assert_query_text(doc: &Value, name: &str, text: &str) {
    if name == "contact-history" {
        assert!(text.contains("ghl_contact_id") && text.contains("cloudtalk_contact_id"));
    }
    if name == "cold-and-warm-durations" {
        assert!(text.contains("@initDuration") && text.contains("REPORT"));
        assert!(text.contains("platform.report") && text.contains("initDurationMs"));
        // Below INFO, Lambda writes no report records for the query to read.
        let level = doc["Globals"]["Function"]["LoggingConfig"]["SystemLogLevel"].as_str();
        assert!(
            matches!(level, Some("INFO" | "DEBUG")),
            "system logs at {level:?} leave out the REPORT lines"
        );
    }
}

#[test]
fn the_saved_queries_exist_over_the_functions_log_groups() {
    let doc = template();
    let queries = of_type(&doc, "AWS::Logs::QueryDefinition");
    let monitoring = monitoring_section();
    let all_groups = function_log_groups(&doc);
    let mut found = BTreeSet::new();
    for (id, query) in &queries {
        let props = &query["Properties"];
        let name = tagged(&props["Name"], "Sub")
            .and_then(Value::as_str)
            .and_then(|n| n.strip_prefix("${AWS::StackName}/"))
            .unwrap_or_else(|| panic!("{id}'s name does not start with the stack's"));
        assert!(
            monitoring.contains(&format!("`{name}`")),
            "the manual's Monitoring does not describe the query {name}"
        );
        let groups = query_log_groups(id, props);
        assert!(
            groups.is_subset(&all_groups),
            "{id} reads a group that is no function's"
        );
        let text = props["QueryString"].as_str().expect("QueryString");
        found.insert(name.to_string());
        assert_query_reads_its_groups(&doc, (id, name), &groups, &all_groups);
        assert_query_text(&doc, name, text);
    }
    let expected: BTreeSet<String> = [
        "outcomes-by-endpoint",
        "failed-and-parked",
        "contact-history",
        "cold-and-warm-durations",
    ]
    .map(String::from)
    .into();
    assert_eq!(found, expected);
}

/// The embedded-metric-format directives of a line, checked: each metric is a number of the
/// line, each dimension a string of it. Returns (metric names, dimension sets) per directive.
fn directives(line: &Json) -> Vec<(Vec<String>, Json)> {
    let aws = &line["_aws"];
    assert!(aws.is_object(), "_aws is not an object: {line}");
    assert!(aws["Timestamp"].is_i64(), "{line}");
    aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics")
        .iter()
        .map(|d| {
            assert_eq!(d["Namespace"], NAMESPACE);
            for set in d["Dimensions"].as_array().expect("Dimensions") {
                for dim in set.as_array().expect("a dimension set") {
                    let key = dim.as_str().expect("dimension names are strings");
                    assert!(line[key].is_string(), "dimension {key} is not on {line}");
                }
            }
            let names = d["Metrics"]
                .as_array()
                .expect("Metrics")
                .iter()
                .map(|m| {
                    let name = m["Name"].as_str().expect("a metric name");
                    assert!(line[name].is_number(), "metric {name} is not on {line}");
                    name.to_string()
                })
                .collect();
            (names, d["Dimensions"].clone())
        })
        .collect()
}

/// The alarm `id`'s (namespace, metric, dimensions) as the template names them.
fn alarm_metric(doc: &Value, id: &str) -> (String, String, Vec<(String, String)>) {
    let props = &resources(doc)[id]["Properties"];
    let namespace = tagged(&props["Namespace"], "Sub")
        .and_then(Value::as_str)
        .map(|n| n.replace("${AWS::StackName}", "test-stack"))
        .unwrap_or_else(|| panic!("{id}'s namespace is not the stack's"));
    let dims = props["Dimensions"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|d| {
            let name = d["Name"].as_str().unwrap_or_default().to_string();
            let value = d["Value"].as_str().unwrap_or_default().to_string();
            (name, value)
        })
        .collect();
    let metric = props["MetricName"]
        .as_str()
        .expect("MetricName")
        .to_string();
    (namespace, metric, dims)
}

/// CloudTalk refuses to tag contact 555 with a 429 and a one-second reset.
async fn mount_cloudtalk_tagging_rate_limited(server: &wiremock::MockServer) {
    Mock::given(method("PUT"))
        .and(path("/api/contacts/addTags/555.json"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-CloudTalkAPI-ResetTime", "1")
                .set_body_json(
                    json!({"responseData":{"status":429,"message":"Too Many Requests"}}),
                ),
        )
        .mount(server)
        .await;
}

/// The one `webhook` line of a request, which alone carries the metrics, its fields at the
/// top level.
fn the_webhook_line(lines: &[Json]) -> &Json {
    let with_metrics: Vec<&Json> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    assert_eq!(
        with_metrics.len(),
        1,
        "one line carries the metrics: {lines:?}"
    );
    let line = with_metrics[0];
    assert_eq!(
        line["message"], "webhook",
        "fields at the top level: {line}"
    );
    assert_eq!(
        lines.iter().filter(|l| l["message"] == "webhook").count(),
        1
    );
    line
}

/// What the dashboard and the rate-limit alarms read is what the line embeds: `upstream` is
/// the metrics of its second directive, `dimensions` that directive's dimension sets.
fn assert_the_alarms_and_dashboard_read_embedded(upstream: &BTreeSet<String>, dimensions: &Json) {
    let doc = template();
    for id in ["CloudTalkRateLimitedAlarm", "GhlRateLimitedAlarm"] {
        let (namespace, metric, dims) = alarm_metric(&doc, id);
        assert_eq!(namespace, NAMESPACE);
        assert!(
            upstream.contains(&metric),
            "{id} reads {metric}, not embedded"
        );
        assert!(dims.is_empty() && *dimensions == json!([[]]));
    }
    let board = dashboard(&doc);
    for row in metric_rows(&board) {
        if row[0] == NAMESPACE
            && row[1] != "ReconcileLagSeconds"
            && row[1] != "ReauthorizationRequired"
        {
            let metric = row[1].as_str().unwrap();
            assert!(
                upstream.contains(metric),
                "the dashboard reads {metric}, not embedded"
            );
        }
    }
}

#[tokio::test]
async fn a_webhook_writes_one_line_with_its_metrics_and_upstream_429s() {
    let fakes = Fakes::start().await;
    mount_cloudtalk_tagging_rate_limited(&fakes.cloudtalk).await;
    let (mut deps, map, _queue) = fakes.deps_with_queue();
    deps.config.metrics_namespace = Some(NAMESPACE.into());
    map.link(&bridge::contact_map::ContactLink::new(
        LOCATION,
        "ghl_123456",
        "555",
        bridge::contact_map::LinkOrigin::GoHighLevel,
    ))
    .await
    .unwrap();

    let (guard, logs) = capture_lambda_logs();
    let body = r#"{"contact":{"id":"ghl_123456"},"tag":"x"}"#;
    let res = bridge::pipeline::handle_with(
        (EndpointId::GhlNewTag, bridge::handlers::bound::ghl_new_tag),
        &deps,
        post("/api/ghl-webhooks/new-tag", body, Some(GHL_SECRET)),
    )
    .await;
    drop(guard);
    assert_eq!(res.status(), 202);

    let lines = logs.lines();
    let line = the_webhook_line(&lines);
    assert_eq!(line["endpoint"], "ghl-new-tag");
    assert_eq!(line["outcome"], "queued");
    assert_eq!(
        line["ghl_contact_id"], "ghl_123456",
        "the contact, whatever the outcome"
    );
    assert!(line["cloudtalk_429s"].as_u64() >= Some(1), "{line}");
    assert_eq!(line["ghl_429s"], 0);
    assert_eq!(
        line["upstream_calls"].as_u64(),
        Some(line["cloudtalk_calls"].as_u64().unwrap() + line["ghl_calls"].as_u64().unwrap())
    );
    let directives = directives(line);
    assert_eq!(
        directives[0],
        (
            vec!["duration_ms".to_string()],
            json!([["endpoint", "outcome"]])
        )
    );
    let upstream: BTreeSet<String> = directives[1].0.iter().cloned().collect();
    assert_the_alarms_and_dashboard_read_embedded(&upstream, &directives[1].1);
}

#[tokio::test]
async fn without_a_namespace_lines_carry_no_metrics() {
    let fakes = Fakes::start().await;
    let deps = fakes.deps_with_memory_map().0;
    let (guard, logs) = capture_lambda_logs();
    let res = bridge::pipeline::handle_with(
        (EndpointId::GhlNewTag, bridge::handlers::bound::ghl_new_tag),
        &deps,
        post("/api/ghl-webhooks/new-tag", "{}", Some(GHL_SECRET)),
    )
    .await;
    drop(guard);
    assert_eq!(res.status(), 422);
    let lines = logs.lines();
    let line = lines.iter().find(|l| l["message"] == "webhook").unwrap();
    assert_eq!(line["outcome"], "refused");
    assert!(line.get("_aws").is_none(), "{line}");
    assert!(line.get("ghl_contact_id").is_none(), "{line}");
}

#[test]
fn an_unreadable_secret_at_cold_start_is_the_metric_its_alarm_watches() {
    let error = bridge::startup::InitError::SecretUnreadable(bridge::secrets::SecretUnreadable {
        source: "arn:aws:secretsmanager:us-east-1:1:secret:x".into(),
        reason: "AccessDeniedException".into(),
    });
    let (guard, logs) = capture_lambda_logs();
    bridge::startup::log_failure("ghl-new-contact", &error, Some(NAMESPACE));
    drop(guard);
    let lines = logs.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["message"], "init failed");
    let directives = directives(line);
    assert_eq!(
        directives,
        vec![(vec!["init_failed".to_string()], json!([["error"]]))]
    );
    let (namespace, metric, dims) = alarm_metric(&template(), "SecretsUnreadableAlarm");
    assert_eq!(namespace, NAMESPACE);
    assert_eq!(metric, "init_failed");
    assert_eq!(
        dims,
        vec![(
            "error".to_string(),
            line["error"].as_str().unwrap().to_string()
        )]
    );
    assert_eq!(line["error"], "Bridge.SecretUnreadable");
}

/// `{ $.a = "x" && $.b = "y" }` → [(a, x), (b, y)]: the JSON filter patterns the template uses.
fn equalities(pattern: &str) -> Vec<(String, String)> {
    let inner = pattern
        .trim()
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or_else(|| panic!("not a JSON filter pattern: {pattern}"));
    inner
        .split("&&")
        .map(|term| {
            let (left, right) = term.split_once('=').expect("an equality");
            let selector = left.trim().strip_prefix("$.").expect("a $. selector");
            let value = right.trim().trim_matches('"');
            (selector.to_string(), value.to_string())
        })
        .collect()
}

fn select<'a>(line: &'a Json, selector: &str) -> &'a Json {
    selector.split('.').fold(line, |v, key| &v[key])
}

#[tokio::test]
async fn every_metric_filter_matches_the_lines_its_function_writes() {
    let fakes = Fakes::start().await;
    mount_cloudtalk(&fakes.cloudtalk, json!([])).await;
    mount_ghl(&fakes.ghl, json!(null), json!([])).await;
    let deps = bridge::Deps::build(
        config(&fakes.cloudtalk, &fakes.ghl),
        bridge::Backends::in_memory(),
    )
    .unwrap();
    let (guard, logs) = capture_lambda_logs();
    let event = serde_json::from_str(&read("events/reconcile/scheduled.json")).unwrap();
    bridge::reconcile::handle(&deps, event, None).await.unwrap();
    drop(guard);
    let lines = logs.lines();

    let doc = template();
    let filters = of_type(&doc, "AWS::Logs::MetricFilter");
    assert!(!filters.is_empty());
    for (id, filter) in filters {
        let props = &filter["Properties"];
        let pattern = props["FilterPattern"].as_str().expect("FilterPattern");
        let terms = equalities(pattern);
        let matching: Vec<&Json> = lines
            .iter()
            .filter(|l| terms.iter().all(|(s, v)| select(l, s) == &json!(v)))
            .collect();
        assert!(
            !matching.is_empty(),
            "{id}'s pattern {pattern} matches none of the lines: {lines:?}"
        );
        for transform in props["MetricTransformations"].as_sequence().unwrap() {
            let value = transform["MetricValue"].as_str().unwrap();
            let selector = value.strip_prefix("$.").expect("a $. value");
            for line in &matching {
                assert!(
                    select(line, selector).is_number(),
                    "{id} reads {value}, which is not a number of {line}"
                );
            }
        }
    }
}
