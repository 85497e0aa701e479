//! `bridge status`, the real binary, against the local AWS-compatible server (`moto_server`,
//! `DYNAMODB_TEST_ENDPOINT`): a deployment with a parked event, queued ones, tenants of every
//! status, reconciliation checkpoints and alarms, shown as text and as JSON; the stack found
//! through moto's CloudFormation; the local run; and the pure render.
//!
//! moto's CloudFormation cannot create `AWS::CloudWatch::Alarm` resources (it lists them with
//! an empty type and physical id), so the first case describes its stack with a fake
//! CloudFormation (`AWS_ENDPOINT_URL_CLOUDFORMATION`) naming queues, tables and alarms made on
//! moto, where every other service goes (`AWS_ENDPOINT_URL_SQS`, `_DYNAMODB`, `_CLOUDWATCH`).
//! The second creates a real stack on moto's CloudFormation (queues and tables) and goes
//! through `AWS_ENDPOINT_URL`.

use std::collections::BTreeMap;
use std::sync::Arc;

use bridge::reconcile::calls::CallsCheckpoint;
use bridge::reconcile::contacts::ContactsCheckpoint;
use bridge::registry::EndpointId;
use bridge::retry_queue::{QueuedEvent, RetryQueue as _, SqsRetryQueue};
use bridge::state::{DynamoStateStore, StateStore};
use bridge::tenants::registry::private_token_tenant;
use bridge::tenants::{DynamoTenantStore, InstallVia, TenantSecrets, TenantStatus, Tenants};
use bridge_operator::redrive::Group;
use bridge_operator::status::*;
use bridge_testkit::aws::{aws_endpoint, dynamodb_client, fresh_table, sqs_client, unique_name};
use serde_json::Value;

const SEAL_KEY: &str = "status-test-seal-key";
const INVALID_PHONE: &str = "refused: CloudTalk answered 406: invalid phone number";

// ---------------------------------------------------------------------------------------------
// The binary.

/// Variables that would point the command elsewhere than the test says.
const CLEARED: [&str; 18] = [
    "BRIDGE_STACK",
    "BRIDGE_URL",
    "BRIDGE_SECRETS_ARN",
    "RETRY_QUEUE_URL",
    "DEAD_LETTER_QUEUE_URL",
    "STATE_TABLE",
    "TENANTS_TABLE",
    "CONTACT_MAP_TABLE",
    "GHL_LOCATION_ID",
    "LOCAL_STORE_PATH",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_CLOUDWATCH",
    "AWS_ENDPOINT_URL_CLOUDFORMATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "RUST_LOG",
];

/// `bridge <args>` with `env` (and the test credentials): exit code, stdout, stderr.
async fn bridge(args: Vec<String>, env: Vec<(String, String)>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bridge"));
        command.args(&args).stdin(std::process::Stdio::null());
        for name in CLEARED {
            command.env_remove(name);
        }
        let nowhere = std::env::temp_dir().join("status-test-no-aws-config");
        command
            .env("AWS_CONFIG_FILE", &nowhere)
            .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("TENANT_SEAL_KEY", SEAL_KEY)
            .envs(env);
        let out = command.output().unwrap();
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (
            out.status.code().unwrap_or(-1),
            text(out.stdout),
            text(out.stderr),
        )
    })
    .await
    .unwrap()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The JSON report of a run, after checking it exited `code`.
fn json_of((code, out, err): (i32, String, String), expected: i32) -> Value {
    assert_eq!(code, expected, "stdout: {out}\nstderr: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The pass of `tenant` in a JSON report.
fn pass<'a>(report: &'a Value, tenant: &str, name: &str) -> &'a Value {
    let passes = report["reconciliation"]["data"]["passes"]
        .as_array()
        .unwrap();
    passes
        .iter()
        .find(|p| p["tenant"] == tenant && p["pass"] == name)
        .unwrap_or_else(|| panic!("no {name} pass of {tenant}: {report}"))
}

fn lag(pass: &Value) -> i64 {
    pass["lag_seconds"]
        .as_i64()
        .unwrap_or_else(|| panic!("{pass}"))
}

// ---------------------------------------------------------------------------------------------
// The resources, on moto.

fn cloudwatch_client(endpoint: &str) -> aws_sdk_cloudwatch::Client {
    use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
    aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
            .build(),
    )
}

fn cloudformation_client(endpoint: &str) -> aws_sdk_cloudformation::Client {
    use aws_sdk_cloudformation::config::{BehaviorVersion, Credentials, Region};
    aws_sdk_cloudformation::Client::from_conf(
        aws_sdk_cloudformation::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
            .build(),
    )
}

async fn queue(sqs: &aws_sdk_sqs::Client, prefix: &str) -> String {
    let made = sqs.create_queue().queue_name(unique_name(prefix)).send();
    made.await.unwrap().queue_url().unwrap().to_string()
}

fn event(endpoint: EndpointId, key: &str) -> QueuedEvent {
    QueuedEvent {
        endpoint,
        body: format!(r#"{{"contact": {{"id": "{key}"}}, "tag": {{"name": "VIP"}}}}"#),
        body_ref: None,
        key: key.to_string(),
        attempt: 2,
        first_received_at: "2026-11-30T10:00:00Z".into(),
        last_error: Some("upstream_error: 500".into()),
        parked_at: None,
        not_before_ms: None,
        tenant: None,
        credential: None,
    }
}

/// One event waiting on the retry queue, one delayed, one parked on the dead-letter queue,
/// the bridge's own way.
async fn queue_events(sqs: &aws_sdk_sqs::Client, retry: &str, dlq: &str) {
    let bridge = SqsRetryQueue::new(sqs.clone(), retry.to_string(), Some(dlq.to_string()));
    let waiting = event(EndpointId::GhlNewContact, "waiting");
    bridge.enqueue(&waiting, 0).await.unwrap();
    let delayed = event(EndpointId::GhlNewNote, "delayed");
    bridge.enqueue(&delayed, 300).await.unwrap();
    let parked = event(EndpointId::GhlNewTag, "parked");
    bridge.park(&parked, INVALID_PHONE).await.unwrap();
}

/// A tenant of each status in the registry, saved with the bridge's own registry; the
/// disabled one (a record of before `disabled_by`: the operator's) was installed again since.
async fn tenants_of_every_status(dynamo: &aws_sdk_dynamodb::Client, table: &str) {
    let store = Arc::new(DynamoTenantStore::new(dynamo.clone(), table));
    let registry = Tenants::new(store, SEAL_KEY);
    for (location, status) in [
        ("loc_active", TenantStatus::Active),
        ("loc_off", TenantStatus::Disabled),
        ("loc_waiting", TenantStatus::AwaitingAuthorization),
        ("loc_reinstall", TenantStatus::ReauthorizationRequired),
    ] {
        let secrets = TenantSecrets {
            cloudtalk_key_secret: Some(format!("secret-{location}")),
            ..TenantSecrets::default()
        };
        let mut tenant = private_token_tenant(location, "KEY", secrets);
        tenant.record.status = status;
        if status == TenantStatus::Disabled {
            let (at, via) = ("2026-05-01T10:00:00Z".into(), InstallVia::OauthCallback);
            tenant
                .record
                .refuse_reinstall(at, via, Some("comp_9".into()));
        }
        registry.save(&tenant, None).await.unwrap();
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Checkpoints as reconciliation saves them: (name, calls pass?, caught up this long ago).
async fn checkpoints(state: &DynamoStateStore, which: &[(&str, bool, i64)]) {
    for (name, calls, ago_ms) in which {
        let at = Some(now_ms() - ago_ms);
        let text = match calls {
            true => serde_json::to_string(&CallsCheckpoint {
                applied_until_ms: at,
                caught_up_at_ms: at,
                ..CallsCheckpoint::default()
            }),
            false => serde_json::to_string(&ContactsCheckpoint {
                updated_until_ms: at,
                caught_up_at_ms: at,
            }),
        };
        state.put_value(name, &text.unwrap()).await.unwrap();
    }
}

/// A metric alarm (PutMetricAlarm) set to `state` (SetAlarmState).
/// Speed to lead's counts, as the dial jobs keep them: for the stack's location this hour and
/// two hours ago, and 30 hours ago (outside the section's 24 hours).
async fn dial_outcomes(state: &DynamoStateStore) {
    use bridge::handlers::ghl::speed_to_lead::stats_name;
    let hour = 3_600_000;
    let counts = [
        (0, "dialled", 3),
        (0, "refused_dnd_call", 1),
        (2 * hour, "dialled", 2),
        (2 * hour, "refused_cap_per_hour", 2),
        (2 * hour, "task_no_agent_task", 1),
        (30 * hour, "dialled", 7),
    ];
    for (ago, field, times) in counts {
        let name = stats_name("loc_own", now_ms() - ago);
        for _ in 0..times {
            let until = now_ms() / 1000 + 86_400;
            state.count(&name, field, u64::MAX, until).await.unwrap();
        }
    }
}

async fn alarm(cloudwatch: &aws_sdk_cloudwatch::Client, name: &str, state: &str, why: &str) {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
    cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/SQS")
        .metric_name("ApproximateNumberOfMessagesVisible")
        .statistic(Statistic::Maximum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .unwrap();
    let set = cloudwatch.set_alarm_state().alarm_name(name);
    let set = set.state_value(StateValue::from(state)).state_reason(why);
    set.send().await.unwrap();
}

/// The datapoint SQS would publish for a queue's oldest message.
async fn oldest_message_age(cloudwatch: &aws_sdk_cloudwatch::Client, queue_url: &str, secs: f64) {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    let dimension = Dimension::builder()
        .name("QueueName")
        .value(queue_name(queue_url))
        .build();
    let datum = MetricDatum::builder()
        .metric_name("ApproximateAgeOfOldestMessage")
        .dimensions(dimension)
        .value(secs)
        .build();
    let put = cloudwatch
        .put_metric_data()
        .namespace("AWS/SQS")
        .metric_data(datum);
    put.send().await.unwrap();
}

/// The bridge's health route on a local port (in-memory stores, both APIs configured).
async fn health_route() -> String {
    let settings = bridge_testkit::e2e::settings("http://127.0.0.1:9");
    let deps = bridge::Deps::build(settings, bridge::Backends::in_memory()).unwrap();
    bridge_testkit::e2e::serve_bridge(Arc::new(deps)).await
}

// ---------------------------------------------------------------------------------------------
// A fake CloudFormation (the first case).

fn xml_members(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("<member>{i}</member>"))
        .collect()
}

/// DescribeStacks' answer: the stack, its outputs and its GhlLocationId parameter.
fn describe_stacks_xml(name: &str, outputs: &[(&str, String)], location: &str) -> String {
    let outputs: Vec<String> = outputs
        .iter()
        .map(|(k, v)| format!("<OutputKey>{k}</OutputKey><OutputValue>{v}</OutputValue>"))
        .collect();
    let parameter = format!(
        "<ParameterKey>GhlLocationId</ParameterKey><ParameterValue>{location}</ParameterValue>"
    );
    format!(
        r#"<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/1</StackId><StackName>{name}</StackName><Parameters>{}</Parameters><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>{}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>"#,
        xml_members(&[parameter]),
        xml_members(&outputs)
    )
}

/// ListStackResources' answer: (logical id, type, physical id).
fn list_resources_xml(resources: &[(&str, &str, String)]) -> String {
    let members: Vec<String> = resources
        .iter()
        .map(|(logical, kind, physical)| {
            format!("<LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{physical}</PhysicalResourceId><ResourceType>{kind}</ResourceType><LastUpdatedTimestamp>2026-01-01T00:00:00Z</LastUpdatedTimestamp><ResourceStatus>CREATE_COMPLETE</ResourceStatus>")
        })
        .collect();
    format!(
        r#"<ListStackResourcesResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><ListStackResourcesResult><StackResourceSummaries>{}</StackResourceSummaries></ListStackResourcesResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></ListStackResourcesResponse>"#,
        xml_members(&members)
    )
}

/// Serves the two CloudFormation answers; returns its URL.
async fn fake_cloudformation(describe: String, resources: String) -> wiremock::MockServer {
    use wiremock::matchers::{body_string_contains, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    for (action, body) in [
        ("DescribeStacks", describe),
        ("ListStackResources", resources),
    ] {
        Mock::given(method("POST"))
            .and(body_string_contains(format!("Action={action}")))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/xml"))
            .mount(&server)
            .await;
    }
    server
}

// ---------------------------------------------------------------------------------------------
// 1. A deployment's figures, in text and in JSON.

/// What the first case made.
struct Made {
    stack: String,
    retry: String,
    dlq: String,
    firing: String,
    quiet: String,
    outside: String,
    cloudformation: wiremock::MockServer,
}

async fn made(endpoint: &str) -> Made {
    let (sqs, dynamo, cloudwatch) = (
        sqs_client(endpoint),
        dynamodb_client(endpoint),
        cloudwatch_client(endpoint),
    );
    let (retry, dlq) = (
        queue(&sqs, "status-retry").await,
        queue(&sqs, "status-dlq").await,
    );
    queue_events(&sqs, &retry, &dlq).await;
    oldest_message_age(&cloudwatch, &retry, 2400.0).await;
    let state = fresh_table(&dynamo, "status-state").await;
    let tenants = fresh_table(&dynamo, "status-tenants").await;
    let contacts = fresh_table(&dynamo, "status-contacts").await;
    tenants_of_every_status(&dynamo, &tenants).await;
    let store = DynamoStateStore::new(dynamo.clone(), state.clone());
    let checkpoints_made = [
        ("reconcile#calls", true, 5 * 60_000),
        ("reconcile#contacts#loc_own", false, 2 * 3_600_000),
        ("reconcile#calls#loc_active", true, 60_000),
    ];
    checkpoints(&store, &checkpoints_made).await;
    dial_outcomes(&store).await;
    let (firing, quiet, outside) = (
        unique_name("status-dlq-alarm"),
        unique_name("status-age-alarm"),
        unique_name("status-other-stack-alarm"),
    );
    alarm(
        &cloudwatch,
        &firing,
        "ALARM",
        "1 message on the dead-letter queue",
    )
    .await;
    alarm(&cloudwatch, &quiet, "OK", "fine").await;
    alarm(&cloudwatch, &outside, "ALARM", "not this stack's").await;
    let stack = unique_name("status-stack");
    let outputs = [
        ("ApiUrl", health_route().await),
        ("RetryQueueUrl", retry.clone()),
        ("DeadLetterQueueUrl", dlq.clone()),
        ("StateTableName", state),
        ("TenantsTableName", tenants),
        ("ContactMapTableName", contacts),
    ];
    let resources = [
        ("RetryQueue", "AWS::SQS::Queue", retry.clone()),
        ("DeadLetterQueue", "AWS::SQS::Queue", dlq.clone()),
        (
            "DeadLetterQueueAlarm",
            "AWS::CloudWatch::Alarm",
            firing.clone(),
        ),
        (
            "RetryQueueAgeAlarm",
            "AWS::CloudWatch::Alarm",
            quiet.clone(),
        ),
    ];
    let cloudformation = fake_cloudformation(
        describe_stacks_xml(&stack, &outputs, "loc_own"),
        list_resources_xml(&resources),
    )
    .await;
    Made {
        stack,
        retry,
        dlq,
        firing,
        quiet,
        outside,
        cloudformation,
    }
}

impl Made {
    /// `bridge --stack <it> status <args>`: CloudFormation from the fake, the rest from moto.
    async fn status(&self, endpoint: &str, args: &[&str]) -> (i32, String, String) {
        let mut line = strings(&["--stack", &self.stack, "status"]);
        line.extend(strings(args));
        let env = pairs(&[
            (
                "AWS_ENDPOINT_URL_CLOUDFORMATION",
                &self.cloudformation.uri(),
            ),
            ("AWS_ENDPOINT_URL_SQS", endpoint),
            ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
            ("AWS_ENDPOINT_URL_CLOUDWATCH", endpoint),
        ]);
        bridge(line, env).await
    }
}

fn check_json_figures(d: &Made, r: &Value) {
    assert_eq!(r["stack"]["state"], "ok", "{r}");
    assert_eq!(r["stack"]["data"]["name"], d.stack.as_str());
    assert_eq!(r["stack"]["data"]["status"], "UPDATE_COMPLETE");
    assert_eq!(r["health"]["data"]["http_status"], 200, "{r}");
    assert_eq!(r["health"]["data"]["status"], "ok");
    let retry = &r["retry_queue"]["data"];
    assert_eq!(retry["url"], d.retry.as_str());
    assert_eq!(
        (retry["visible"].as_u64(), retry["in_flight"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(retry["delayed"], 1, "{retry}");
    assert_eq!(retry["oldest_age"]["source"], "cloudwatch", "{retry}");
    assert_eq!(retry["oldest_age"]["seconds"], 2400);
    let parked = &r["parked"]["data"];
    assert_eq!(
        (parked["url"].as_str(), parked["total"].as_u64()),
        (Some(d.dlq.as_str()), Some(1))
    );
    assert_eq!(parked["groups"][0]["reason"], INVALID_PHONE);
    assert_eq!(parked["groups"][0]["endpoints"]["ghl-new-tag"], 1);
    let calls = pass(r, "default", "calls");
    assert!((300..330).contains(&lag(calls)), "{calls}");
    let contacts = pass(r, "default", "contacts");
    assert_eq!(
        contacts["checkpoint"], "reconcile#contacts#loc_own",
        "the stack's GhlLocationId"
    );
    assert!((7200..7230).contains(&lag(contacts)), "{contacts}");
    assert!((60..90).contains(&lag(pass(r, "loc_active", "calls"))));
    assert_eq!(
        pass(r, "loc_active", "contacts")["note"],
        "no checkpoint yet"
    );
    let served = r["reconciliation"]["data"]["passes"].as_array().unwrap();
    assert_eq!(
        served.len(),
        4,
        "only active tenants with a key are reconciled: {r}"
    );
    let tenants = &r["tenants"]["data"];
    assert_eq!(tenants["total"], 4);
    for status in [
        "active",
        "disabled",
        "awaiting_authorization",
        "reauthorization_required",
    ] {
        assert_eq!(tenants["by_status"][status], 1, "{status}: {tenants}");
    }
    assert_eq!(tenants["disabled_by"], serde_json::json!({"operator": 1}));
    assert_eq!(
        tenants["reinstalls_refused"],
        serde_json::json!([{"tenant": "loc_off", "at": "2026-05-01T10:00:00Z",
            "via": "oauth_callback", "company_id": "comp_9", "count": 1}])
    );
    let dials = &r["dials"]["data"];
    assert_eq!(dials["hours"], 24);
    assert_eq!(
        dials["tenants"],
        serde_json::json!([{"tenant": "loc_own", "dialled": 5,
            "refused": {"cap_per_hour": 2, "dnd_call": 1}, "tasks": {"no_agent_task": 1}}]),
        "the last 24 hours only: {dials}"
    );
}

fn check_json_alarms_and_attention(d: &Made, r: &Value) {
    let alarms = r["alarms"]["data"].as_array().unwrap();
    let states: BTreeMap<&str, (&str, &str)> = alarms
        .iter()
        .map(|a| {
            let a = (
                a["logical_id"].as_str(),
                a["state"].as_str(),
                a["name"].as_str(),
            );
            (a.0.unwrap(), (a.1.unwrap(), a.2.unwrap()))
        })
        .collect();
    assert_eq!(states.len(), 2, "only the stack's alarms: {alarms:?}");
    assert_eq!(states["DeadLetterQueueAlarm"], ("ALARM", d.firing.as_str()));
    assert_eq!(states["RetryQueueAgeAlarm"], ("OK", d.quiet.as_str()));
    assert!(!r.to_string().contains(&d.outside));
    assert_eq!(alarms[0]["reason"], "1 message on the dead-letter queue");
    let attention: Vec<&str> = r["attention"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        attention,
        [
            "1 parked event(s) on the dead-letter queue",
            "the retry queue's oldest message is 40m 0s old",
            "reconciliation (contacts of default) is 2h 0m behind",
            "1 tenant(s) need the app installed again",
            "tenant loc_off was installed again (oauth_callback at 2026-05-01T10:00:00Z) while disabled by an operator: not applied; `bridge tenants enable loc_off` serves it, `bridge tenants disable loc_off --yes` keeps it off",
            "2 speed-to-lead dial(s) refused by a cap in the last 24 h",
            "alarm DeadLetterQueueAlarm is ALARM",
        ]
    );
}

fn check_text(d: &Made, text: &str) {
    let has = |line: &str| assert!(text.contains(line), "no {line:?} in:\n{text}");
    has(&format!("Stack           {}  UPDATE_COMPLETE\n", d.stack));
    has("Health          ok (HTTP 200)  http://127.0.0.1:");
    has("Retry queue     1 waiting, 0 in flight, 1 delayed; oldest 40m 0s (CloudWatch, ");
    has(&format!("                {}\n", d.retry));
    has("Parked          1 parked event(s), 1 reason(s)\n");
    has(&format!(
        "                    1  {INVALID_PHONE} (oldest parked "
    ));
    has("\n                            1 ghl-new-tag\n");
    has("Reconciliation  calls     default              caught up 5m ");
    has("                contacts  default              caught up 2h 0m ago (");
    has("                contacts  loc_active           no checkpoint yet\n");
    has("Tenants         4 tenant(s): 1 active, 1 awaiting_authorization, 1 disabled (1 by operator), 1 reauthorization_required\n");
    has("                loc_off              re-install refused at 2026-05-01T10:00:00Z (oauth_callback, company comp_9): disabled by an operator\n");
    has("Dials           last 24 h\n                loc_own              5 dialled; refused: 2 cap_per_hour, 1 dnd_call; tasks: 1 no_agent_task\n");
    has("Alarms          1 of 2 in ALARM\n");
    has(&format!("                ALARM             DeadLetterQueueAlarm ({}): 1 message on the dead-letter queue\n", d.firing));
    has(&format!(
        "                OK                RetryQueueAgeAlarm ({}): fine\n",
        d.quiet
    ));
    has("\nNeeds attention (7):\n  - 1 parked event(s) on the dead-letter queue\n");
    assert!(!text.contains(&d.outside));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_s_figures_in_text_and_json() {
    let Some(endpoint) = aws_endpoint() else {
        return;
    };
    let d = made(&endpoint).await;
    let (code, text, err) = d.status(&endpoint, &[]).await;
    assert_eq!(code, 0, "printed, so 0 without --check: {text}\n{err}");
    check_text(&d, &text);
    let report = json_of(d.status(&endpoint, &["--json"]).await, 0);
    check_json_figures(&d, &report);
    check_json_alarms_and_attention(&d, &report);
    let (code, _, _) = d.status(&endpoint, &["--check"]).await;
    assert_eq!(code, 1, "--check: attention needed");
    // Listing the dead-letter queue moved nothing: the event is still parked, and visible.
    let sqs = sqs_client(&endpoint);
    let again = bridge_operator::redrive::DeadLetterQueue::new(sqs, d.dlq.clone());
    assert_eq!(again.list(|_| {}).await.unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 2. The stack found through moto's CloudFormation.

/// Queues and tables, named by the outputs; an ApiUrl nothing answers on.
fn moto_template() -> String {
    let table = serde_json::json!({"Type": "AWS::DynamoDB::Table", "Properties": {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}});
    let queue = serde_json::json!({"Type": "AWS::SQS::Queue"});
    let by_ref = |r: &str| serde_json::json!({"Value": {"Ref": r}});
    serde_json::json!({
        "Parameters": {"GhlLocationId": {"Type": "String"}},
        "Resources": {"RetryQueue": queue, "DeadLetterQueue": queue, "StateTable": table,
            "TenantsTable": table, "ContactMapTable": table},
        "Outputs": {"ApiUrl": {"Value": "http://127.0.0.1:9"},
            "RetryQueueUrl": by_ref("RetryQueue"), "DeadLetterQueueUrl": by_ref("DeadLetterQueue"),
            "StateTableName": by_ref("StateTable"), "TenantsTableName": by_ref("TenantsTable"),
            "ContactMapTableName": by_ref("ContactMapTable")}
    })
    .to_string()
}

async fn moto_stack(endpoint: &str) -> bridge_operator::stack::Stack {
    use aws_sdk_cloudformation::types::Parameter;
    let cfn = cloudformation_client(endpoint);
    let name = unique_name("status-moto-stack");
    let location = Parameter::builder()
        .parameter_key("GhlLocationId")
        .parameter_value("loc_param")
        .build();
    let create = cfn
        .create_stack()
        .stack_name(&name)
        .template_body(moto_template());
    create.parameters(location).send().await.unwrap();
    bridge_operator::stack::Stack::describe(&cfn, &name)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stack_is_found_through_cloudformation() {
    let Some(endpoint) = aws_endpoint() else {
        return;
    };
    let stack = moto_stack(&endpoint).await;
    let output = |k: &str| stack.output(k).unwrap().to_string();
    let (sqs, dynamo) = (sqs_client(&endpoint), dynamodb_client(&endpoint));
    queue_events(
        &sqs,
        &output("RetryQueueUrl"),
        &output("DeadLetterQueueUrl"),
    )
    .await;
    let state = DynamoStateStore::new(dynamo.clone(), output("StateTableName"));
    checkpoints(
        &state,
        &[("reconcile#contacts#loc_param", false, 10 * 60_000)],
    )
    .await;
    tenants_of_every_status(&dynamo, &output("TenantsTableName")).await;
    let name = stack.name.clone().unwrap();
    let run = |extra: &'static str| {
        let line = strings(&["--stack", &name, "status", "--json", extra]);
        bridge(line, pairs(&[("AWS_ENDPOINT_URL", &endpoint)]))
    };
    let r = json_of(run("--region=us-east-1").await, 0);
    assert_eq!(r["stack"]["data"]["name"], name.as_str(), "{r}");
    assert_eq!(r["stack"]["data"]["status"], "CREATE_COMPLETE");
    assert_eq!(
        r["retry_queue"]["data"]["url"],
        output("RetryQueueUrl").as_str(),
        "{r}"
    );
    assert_eq!(r["retry_queue"]["data"]["visible"], 1);
    // moto publishes no SQS metrics: the age is said to be unknown, not made up.
    let age = &r["retry_queue"]["data"]["oldest_age"];
    assert_eq!(age["source"], "unknown", "{age}");
    assert_eq!(
        r["parked"]["data"]["url"],
        output("DeadLetterQueueUrl").as_str()
    );
    assert_eq!(r["parked"]["data"]["total"], 1);
    let contacts = pass(&r, "default", "contacts");
    assert_eq!(contacts["checkpoint"], "reconcile#contacts#loc_param");
    assert!((600..630).contains(&lag(contacts)), "{contacts}");
    assert_eq!(pass(&r, "default", "calls")["note"], "no checkpoint yet");
    assert_eq!(r["tenants"]["data"]["total"], 4, "{r}");
    assert_eq!(r["alarms"], serde_json::json!({"state": "ok", "data": []}));
    // Nothing answers on its ApiUrl: that section says why, the rest is there.
    assert_eq!(r["health"]["state"], "unavailable", "{r}");
    let attention = r["attention"].to_string();
    assert!(
        attention.contains("the health route could not be read"),
        "{attention}"
    );
    let (code, _, _) = run("--check").await;
    assert_eq!(code, 1);
}

// ---------------------------------------------------------------------------------------------
// The local run: the environment's queues, the store file, no stack.

#[tokio::test(flavor = "multi_thread")]
async fn the_local_run_shows_what_it_has_and_says_what_it_has_not() {
    let Some(endpoint) = aws_endpoint() else {
        return;
    };
    let sqs = sqs_client(&endpoint);
    let retry = queue(&sqs, "status-local-retry").await;
    let missing = format!(
        "{endpoint}/123456789012/{}",
        unique_name("status-no-such-queue")
    );
    let dir = std::env::temp_dir().join(unique_name("status-local"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("store.json");
    let store = bridge::local_store::LocalStore::new(&file);
    let at = now_ms() - 90_000;
    let calls = CallsCheckpoint {
        caught_up_at_ms: Some(at),
        ..CallsCheckpoint::default()
    };
    store
        .put_value("reconcile#calls", &serde_json::to_string(&calls).unwrap())
        .await
        .unwrap();
    let env = pairs(&[
        ("AWS_ENDPOINT_URL", &endpoint),
        ("RETRY_QUEUE_URL", &retry),
        ("DEAD_LETTER_QUEUE_URL", &missing),
    ]);
    let store_flag = file.to_string_lossy().to_string();
    let line = |json: bool| {
        let mut line = strings(&["--local-store", &store_flag, "status"]);
        line.extend(json.then(|| "--json".to_string()));
        line
    };
    let r = json_of(bridge(line(true), env.clone()).await, 0);
    for (section, state) in [
        ("stack", "not_configured"),
        ("alarms", "not_configured"),
        ("retry_queue", "ok"),
        ("parked", "unavailable"),
        ("reconciliation", "ok"),
        ("tenants", "ok"),
    ] {
        assert_eq!(r[section]["state"], state, "{section}: {r}");
    }
    // Without a stack or BRIDGE_URL, the health of the local run (`cargo lambda watch`), up
    // (ok) or not (unavailable): never "not configured".
    assert_ne!(r["health"]["state"], "not_configured", "{r}");
    assert!(
        r["health"]
            .to_string()
            .contains("http://127.0.0.1:9000/health"),
        "{r}"
    );
    assert_eq!(r["retry_queue"]["data"]["oldest_age"]["source"], "empty");
    assert!(
        (90..120).contains(&lag(pass(&r, "default", "calls"))),
        "{r}"
    );
    assert_eq!(r["tenants"]["data"]["total"], 0);
    let (code, text, _) = bridge(line(false), env).await;
    assert_eq!(code, 0);
    assert!(
        text.contains("Stack           not configured: no stack"),
        "{text}"
    );
    assert!(
        text.contains("Parked          unavailable: ReceiveMessage on "),
        "{text}"
    );
    assert!(text.contains("Retry queue     0 waiting, 0 in flight, 0 delayed; no oldest message"));
}

// ---------------------------------------------------------------------------------------------
// 3. The render, pure.

fn pass_lag(tenant: &str, pass: &str, lag: Option<i64>, note: Option<&str>) -> PassLag {
    PassLag {
        tenant: tenant.into(),
        pass: pass.into(),
        checkpoint: Some(format!("reconcile#{pass}")),
        caught_up_at: lag.map(|_| "2026-05-01T09:55:00Z".to_string()),
        lag_seconds: lag,
        note: note.map(str::to_string),
    }
}

fn alarm_row(logical_id: &str, state: &str, reason: Option<&str>) -> Alarm {
    Alarm {
        logical_id: logical_id.into(),
        name: format!("bridge-{logical_id}-X1"),
        state: state.into(),
        reason: reason.map(str::to_string),
        since: Some("2026-05-01T09:00:00Z".into()),
    }
}

/// A report with every section read and nothing wrong.
fn healthy() -> StatusReport {
    let by_status = [
        ("active", 2),
        ("awaiting_authorization", 0),
        ("disabled", 1),
        ("reauthorization_required", 0),
    ];
    let mut report = StatusReport {
        generated_at: "2026-05-01T10:00:00Z".into(),
        stack: Section::ok(StackInfo {
            name: Some("ghl-cloudtalk-bridge".into()),
            status: Some("UPDATE_COMPLETE".into()),
            source: "cloudformation".into(),
        }),
        health: Section::ok(Health {
            url: "https://abc.execute-api.eu-west-1.amazonaws.com/health".into(),
            http_status: 200,
            status: Some("ok".into()),
        }),
        retry_queue: Section::ok(RetryQueue {
            url: "https://sqs/retry".into(),
            visible: 3,
            in_flight: 1,
            delayed: 2,
            oldest_age: OldestAge::Cloudwatch {
                seconds: 125,
                at: "2026-05-01T09:59:00Z".into(),
            },
        }),
        parked: Section::ok(Parked {
            url: "https://sqs/dlq".into(),
            total: 0,
            groups: vec![],
        }),
        reconciliation: Section::ok(Reconciliation {
            passes: vec![
                pass_lag("default", "calls", Some(300), None),
                pass_lag("default", "contacts", None, Some("no checkpoint yet")),
            ],
            tenants_unlisted: None,
        }),
        tenants: Section::ok(TenantCounts {
            total: 3,
            by_status: by_status.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
            disabled_by: [("uninstall".to_string(), 1)].into(),
            reinstalls_refused: vec![],
        }),
        dials: Section::ok(Dials {
            hours: 24,
            tenants: vec![TenantDials {
                tenant: "default".into(),
                dialled: 12,
                refused: [("not_in_ghl".to_string(), 3)].into(),
                tasks: BTreeMap::new(),
            }],
        }),
        alarms: Section::ok(vec![alarm_row("DeadLetterQueueAlarm", "OK", None)]),
        attention: vec![],
    };
    report.attention = attention(&report);
    report
}

#[test]
fn a_healthy_report_reads_line_by_line() {
    let report = healthy();
    assert!(report.attention.is_empty(), "{:?}", report.attention);
    let expected = "\
bridge status at 2026-05-01T10:00:00Z
Stack           ghl-cloudtalk-bridge  UPDATE_COMPLETE
Health          ok (HTTP 200)  https://abc.execute-api.eu-west-1.amazonaws.com/health
Retry queue     3 waiting, 1 in flight, 2 delayed; oldest 2m 5s (CloudWatch, 2026-05-01T09:59:00Z)
                https://sqs/retry
Parked          none
                https://sqs/dlq
Reconciliation  calls     default              caught up 5m 0s ago (2026-05-01T09:55:00Z)
                contacts  default              no checkpoint yet
Tenants         3 tenant(s): 2 active, 0 awaiting_authorization, 1 disabled (1 by uninstall), 0 reauthorization_required
Dials           last 24 h
                default              12 dialled; refused: 3 not_in_ghl; tasks: none
Alarms          0 of 1 in ALARM
                OK                DeadLetterQueueAlarm (bridge-DeadLetterQueueAlarm-X1)

Nothing needs attention.
";
    assert_eq!(render(&report), expected);
}

#[test]
fn what_needs_attention_is_flagged_and_listed() {
    let mut report = healthy();
    report.health = Section::ok(Health {
        url: "https://x/health".into(),
        http_status: 503,
        status: Some("degraded".into()),
    });
    let group = Group {
        reason: INVALID_PHONE.into(),
        endpoints: [("ghl-new-contact".to_string(), 2)].into(),
        count: 2,
        oldest: Some("2026-04-30T08:00:00Z".into()),
    };
    report.parked = Section::ok(Parked {
        url: "https://sqs/dlq".into(),
        total: 2,
        groups: vec![group],
    });
    report.retry_queue = Section::unavailable("GetQueueAttributes: access denied");
    report.alarms = Section::ok(vec![
        alarm_row("DeadLetterQueueAlarm", "ALARM", Some("Threshold Crossed")),
        alarm_row("ReconcileLagAlarm", "INSUFFICIENT_DATA", None),
    ]);
    report.reconciliation = Section::ok(Reconciliation {
        passes: vec![pass_lag(
            "loc_1",
            "calls",
            Some(2 * 86_400 + 3 * 3600),
            None,
        )],
        tenants_unlisted: Some("the registry is unreadable".into()),
    });
    report.attention = attention(&report);
    assert_eq!(
        report.attention,
        [
            "the retry queue could not be read: GetQueueAttributes: access denied",
            "health is degraded (HTTP 503)",
            "2 parked event(s) on the dead-letter queue",
            "reconciliation (calls of loc_1) is 2d 3h behind",
            "alarm DeadLetterQueueAlarm is ALARM",
        ]
    );
    let text = render(&report);
    let has = |line: &str| assert!(text.contains(line), "no {line:?} in:\n{text}");
    has("Health          degraded (HTTP 503)  https://x/health\n");
    has("Retry queue     unavailable: GetQueueAttributes: access denied\n");
    has("Parked          2 parked event(s), 1 reason(s)\n                    2  refused: CloudTalk answered 406: invalid phone number (oldest parked 2026-04-30T08:00:00Z)\n                            2 ghl-new-contact\n                https://sqs/dlq\n");
    has("Reconciliation  calls     loc_1                caught up 2d 3h ago");
    has("                tenants' passes not shown: the registry is unreadable\n");
    has("Alarms          1 of 2 in ALARM\n                ALARM             DeadLetterQueueAlarm (bridge-DeadLetterQueueAlarm-X1): Threshold Crossed\n                INSUFFICIENT_DATA ReconcileLagAlarm");
    has("\nNeeds attention (5):\n  - the retry queue could not be read: GetQueueAttributes: access denied\n  - health is degraded (HTTP 503)\n");
    assert!(!text.contains("Nothing needs attention"));
}

#[test]
fn sections_without_a_source_say_so_and_are_not_flagged() {
    let mut report = healthy();
    report.stack = Section::not_configured("no stack (--stack or BRIDGE_STACK): the local run");
    report.health = Section::not_configured("no ApiUrl output, --api-url or BRIDGE_URL");
    report.alarms = Section::not_configured("no stack: alarms are the stack's (--stack)");
    report.retry_queue = Section::ok(RetryQueue {
        url: "http://localhost/retry".into(),
        visible: 1,
        in_flight: 0,
        delayed: 0,
        oldest_age: OldestAge::Unknown {
            why: "no CloudWatch datapoint".into(),
        },
    });
    assert!(attention(&report).is_empty(), "{:?}", attention(&report));
    let text = render(&report);
    assert!(
        text.contains(
            "Stack           not configured: no stack (--stack or BRIDGE_STACK): the local run\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("Health          not configured: no ApiUrl output"),
        "{text}"
    );
    assert!(
        text.contains("Alarms          not configured: no stack"),
        "{text}"
    );
    assert!(
        text.contains(
            "1 waiting, 0 in flight, 0 delayed; oldest unknown: no CloudWatch datapoint\n"
        ),
        "{text}"
    );
}

#[test]
fn the_json_fields_are_stable() {
    let report = serde_json::to_value(healthy()).unwrap();
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "alarms",
            "attention",
            "dials",
            "generated_at",
            "health",
            "parked",
            "reconciliation",
            "retry_queue",
            "stack",
            "tenants"
        ]
    );
    assert_eq!(report["retry_queue"]["state"], "ok");
    assert_eq!(
        report["retry_queue"]["data"]["oldest_age"],
        serde_json::json!({"source": "cloudwatch", "seconds": 125, "at": "2026-05-01T09:59:00Z"})
    );
    assert_eq!(
        report["reconciliation"]["data"]["passes"][0]["lag_seconds"],
        300
    );
    assert_eq!(report["tenants"]["data"]["by_status"]["active"], 2);
    let unavailable = serde_json::to_value(Section::<Health>::unavailable("timed out")).unwrap();
    assert_eq!(
        unavailable,
        serde_json::json!({"state": "unavailable", "reason": "timed out"})
    );
    let empty = serde_json::to_value(OldestAge::Empty).unwrap();
    assert_eq!(empty, serde_json::json!({"source": "empty"}));
}

#[test]
fn durations_read_as_people_say_them() {
    assert_eq!(duration(0), "0s");
    assert_eq!(duration(59), "59s");
    assert_eq!(duration(125), "2m 5s");
    assert_eq!(duration(3600), "1h 0m");
    assert_eq!(duration(2 * 86_400 + 3 * 3600 + 59), "2d 3h");
    assert_eq!(duration(-5), "0s");
}

#[test]
fn sources_come_from_the_flag_then_the_stack_then_the_environment() {
    let stack = bridge_operator::stack::Stack {
        outputs: [("RetryQueueUrl".to_string(), "stack-q".to_string())].into(),
        ..Default::default()
    };
    let on_stack = bridge_operator::status::Deployment::Stack(stack);
    let env = || Some("env-q".to_string());
    assert_eq!(
        resolve(Some("flag-q"), &on_stack, "RetryQueueUrl", env()),
        Ok(Some("flag-q".into()))
    );
    assert_eq!(
        resolve(None, &on_stack, "RetryQueueUrl", env()),
        Ok(Some("stack-q".into()))
    );
    assert_eq!(
        resolve(None, &on_stack, "DeadLetterQueueUrl", env()),
        Ok(Some("env-q".into()))
    );
    let local = bridge_operator::status::Deployment::Local;
    assert_eq!(resolve(Some(" "), &local, "RetryQueueUrl", None), Ok(None));
    let failed = bridge_operator::status::Deployment::Failed("denied".into());
    assert!(
        resolve(None, &failed, "RetryQueueUrl", env()).is_err(),
        "no fall-back to the env"
    );
    assert_eq!(
        queue_name("https://sqs.us-east-1.amazonaws.com/1234/bridge-Retry-X"),
        "bridge-Retry-X"
    );
    let names = passes(Some("loc_own"), &["loc_t".to_string()]);
    let keys: Vec<Option<&str>> = names.iter().map(|(_, _, k)| k.as_deref()).collect();
    assert_eq!(
        keys,
        [
            Some("reconcile#calls"),
            Some("reconcile#contacts#loc_own"),
            Some("reconcile#calls#loc_t"),
            Some("reconcile#contacts#loc_t")
        ]
    );
    assert_eq!(
        passes(None, &[])[1].2,
        None,
        "no location, no contacts checkpoint"
    );
}

#[test]
fn a_stack_that_cannot_be_read_is_flagged_once() {
    let mut report = healthy();
    report.stack = Section::unavailable("no stack typo (or no permission to describe it)");
    report.health = Section::unavailable(STACK_UNREAD);
    report.retry_queue = Section::unavailable(STACK_UNREAD);
    report.alarms = Section::unavailable(STACK_UNREAD);
    assert_eq!(
        attention(&report),
        ["the stack could not be read: no stack typo (or no permission to describe it)"]
    );
    let text = render(&report);
    assert!(
        text.contains("Health          unavailable: the stack could not be read\n"),
        "{text}"
    );
}
