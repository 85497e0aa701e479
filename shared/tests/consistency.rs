//! Every endpoint has its Lambda binary, template function and route, watch route, sample events
//! and row in the manual's endpoint table, and nothing exists that has no endpoint.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

mod language_extensions;

/// One route as this test sees it.
struct Endpoint {
    function: &'static str,
    method: &'static str,
    route: &'static str,
}

/// The endpoints under test: the only place that reads the bridge's list.
fn endpoints() -> Vec<Endpoint> {
    bridge::registry::routes()
        .into_iter()
        .map(|e| Endpoint {
            function: e.function,
            method: e.method,
            route: e.route,
        })
        .collect()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
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

/// The manual: README.md, then every chapter under docs/.
fn manual() -> String {
    let mut files = Vec::new();
    markdown_under(&repo().join("docs"), &mut files);
    files.sort();
    let mut text = read("README.md");
    for file in files {
        text.push('\n');
        text.push_str(&std::fs::read_to_string(&file).expect("a chapter of the manual"));
    }
    text
}

/// Every Lambda: one per endpoint, plus the retry worker and reconciliation.
fn functions() -> BTreeSet<&'static str> {
    let mut all: BTreeSet<&'static str> = endpoints().iter().map(|e| e.function).collect();
    all.insert(bridge::worker::FUNCTION);
    all.insert(bridge::reconcile::FUNCTION);
    all
}

#[test]
fn every_function_is_a_binary() {
    let cargo = read("functions/Cargo.toml");
    for f in functions() {
        assert!(
            cargo.contains(&format!("name = \"{f}\"")),
            "functions/Cargo.toml has no [[bin]] {f}"
        );
        assert!(
            repo().join(format!("functions/src/bin/{f}.rs")).is_file(),
            "functions/src/bin/{f}.rs is missing"
        );
        // One thread: a function has a fraction of a vCPU (256 MB) and handles one request
        // at a time; worker threads would only add to every cold start.
        assert!(
            read(&format!("functions/src/bin/{f}.rs"))
                .contains("#[tokio::main(flavor = \"current_thread\")]"),
            "functions/src/bin/{f}.rs: a function runs on tokio's current-thread runtime"
        );
    }
    let bins = std::fs::read_dir(repo().join("functions/src/bin"))
        .unwrap()
        .count();
    assert_eq!(
        bins,
        functions().len(),
        "functions/src/bin holds a binary that is not an endpoint"
    );
}

// ---------------------------------------------------------------------------------------------
// template.yaml, parsed. CloudFormation's short forms (`!Ref X`, `!GetAtt X.Arn`, `!Sub "…"`)
// arrive as tagged values, the long forms (`Ref: X`, `Fn::GetAtt: [X, Arn]`) as one-key maps.
// Its `Fn::ForEach` loops are expanded first (language_extensions), as the stack gets them.
// ---------------------------------------------------------------------------------------------

struct Template {
    doc: Value,
    /// Makefile target `build-<LogicalId>` → the binary it copies.
    make_targets: BTreeMap<String, String>,
}

impl Template {
    fn load() -> Self {
        let doc = language_extensions::expand(
            serde_yaml_ng::from_str(&read("template.yaml"))
                .unwrap_or_else(|e| panic!("template.yaml does not parse: {e}")),
        );
        Template {
            doc,
            make_targets: make_targets(
                &std::fs::read_to_string(repo().join("Makefile")).unwrap_or_default(),
            ),
        }
    }

    fn resources(&self) -> &Mapping {
        self.doc
            .get("Resources")
            .and_then(Value::as_mapping)
            .expect("template.yaml has no Resources")
    }

    fn resource(&self, id: &str) -> Option<&Value> {
        self.resources().get(id)
    }

    fn type_of(&self, id: &str) -> Option<&str> {
        self.resource(id)?.get("Type")?.as_str()
    }

    fn is_resource_or_parameter(&self, id: &str) -> bool {
        id.starts_with("AWS::")
            || self.resource(id).is_some()
            || self.doc.get("Parameters").and_then(|p| p.get(id)).is_some()
    }

    /// Logical id → properties of every `AWS::Serverless::Function`.
    /// The retry worker's logical id and properties.
    fn retry_worker(&self) -> (&str, &Value) {
        self.functions()
            .into_iter()
            .find(|(id, _)| self.binary(id) == bridge::worker::FUNCTION)
            .expect("template.yaml has no retry worker")
    }

    fn functions(&self) -> BTreeMap<&str, &Value> {
        self.resources()
            .iter()
            .filter(|(_, r)| {
                r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::Function")
            })
            .map(|(id, r)| {
                let id = id.as_str().expect("logical ids are strings");
                let props = r
                    .get("Properties")
                    .unwrap_or_else(|| panic!("{id} has no Properties"));
                (id, props)
            })
            .collect()
    }

    /// The binary a function's build puts in its `bootstrap`: its Makefile target's for
    /// `BuildMethod: makefile`, `BuildProperties.Binary` for `rust-cargolambda`.
    fn binary(&self, id: &str) -> String {
        let metadata = self.resource(id).and_then(|r| r.get("Metadata"));
        let method = metadata
            .and_then(|m| m.get("BuildMethod"))
            .and_then(Value::as_str);
        match method {
            Some("makefile") => self
                .make_targets
                .get(id)
                .unwrap_or_else(|| panic!("the Makefile has no target build-{id}"))
                .clone(),
            Some("rust-cargolambda") => metadata
                .and_then(|m| m.get("BuildProperties"))
                .and_then(|p| p.get("Binary"))
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{id} has no BuildProperties.Binary"))
                .to_string(),
            other => panic!("{id} has BuildMethod {other:?}; sam build cannot tell its binary"),
        }
    }

    /// A function's environment: the Globals' variables, then its own.
    fn environment(&self, props: &Value) -> BTreeMap<String, Value> {
        let global = self
            .doc
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Environment"));
        [global, props.get("Environment")]
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("Variables").and_then(Value::as_mapping))
            .flatten()
            .map(|(k, v)| (k.as_str().expect("variable names").to_string(), v.clone()))
            .collect()
    }

    /// The logical ids a function's policies name, with each managed policy's own document
    /// followed into.
    fn policy_references(&self, props: &Value) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for policy in props
            .get("Policies")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            references(policy, &mut names);
        }
        let managed: Vec<String> = names
            .iter()
            .filter(|n| self.type_of(n) == Some("AWS::IAM::ManagedPolicy"))
            .cloned()
            .collect();
        for policy in managed {
            references(&self.resource(&policy).unwrap()["Properties"], &mut names);
        }
        names
    }
}

/// `build-<LogicalId>: BIN := <binary>` lines of the Makefile.
fn make_targets(makefile: &str) -> BTreeMap<String, String> {
    makefile
        .lines()
        .filter_map(|line| {
            let (target, rest) = line.strip_prefix("build-")?.split_once(':')?;
            let binary = rest.trim().strip_prefix("BIN")?.trim().strip_prefix(":=")?;
            Some((target.trim().to_string(), binary.trim().to_string()))
        })
        .collect()
}

/// An intrinsic function, short or long form: (`Ref`, `GetAtt`, `Sub`…, its argument).
fn intrinsic(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_string(),
            &t.value,
        )),
        Value::Mapping(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next()?;
            let k = k.as_str()?;
            let name = if k == "Ref" {
                k
            } else {
                k.strip_prefix("Fn::")?
            };
            Some((name.to_string(), arg))
        }
        _ => None,
    }
}

/// `!Ref X` → X.
fn ref_target(v: &Value) -> Option<&str> {
    match intrinsic(v)? {
        (name, arg) if name == "Ref" => arg.as_str(),
        _ => None,
    }
}

/// `!Sub "…"` → its text.
fn sub_text(v: &Value) -> Option<&str> {
    match intrinsic(v)? {
        (name, arg) if name == "Sub" => arg.as_str(),
        _ => None,
    }
}

/// Every logical id or parameter that `v` names through `Ref`, `GetAtt` or `Sub`.
fn references(v: &Value, names: &mut BTreeSet<String>) {
    if let Some((name, arg)) = intrinsic(v) {
        match name.as_str() {
            "Ref" => {
                names.extend(arg.as_str().map(str::to_string));
                return;
            }
            "GetAtt" => {
                let target = match arg {
                    Value::Sequence(s) => s.first().and_then(Value::as_str),
                    _ => arg.as_str().and_then(|s| s.split('.').next()),
                };
                names.extend(target.map(str::to_string));
                return;
            }
            "Sub" => {
                // `!Sub [text, {local: …}]` defines its own variables besides the template's.
                let (text, locals) = match arg {
                    Value::Sequence(s) => (s.first(), s.get(1).and_then(Value::as_mapping)),
                    _ => (Some(arg), None),
                };
                let text = text.and_then(Value::as_str).unwrap_or_default();
                for part in text.split("${").skip(1) {
                    let var = part.split('}').next().unwrap_or_default();
                    let name = var.split('.').next().unwrap_or_default();
                    if !var.starts_with('!') && !locals.is_some_and(|l| l.contains_key(name)) {
                        names.insert(name.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    match v {
        Value::Tagged(t) => references(&t.value, names),
        Value::Sequence(s) => s.iter().for_each(|x| references(x, names)),
        Value::Mapping(m) => m.values().for_each(|x| references(x, names)),
        _ => {}
    }
}

/// (event name, event) of one function.
fn events(props: &Value) -> Vec<(&str, &Value)> {
    props
        .get("Events")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str().expect("event names are strings"), v))
        .collect()
}

#[test]
fn every_function_is_in_the_template() {
    let t = Template::load();
    let mut built = BTreeMap::new();
    for (id, props) in t.functions() {
        let binary = t.binary(id);
        assert!(
            functions().contains(binary.as_str()),
            "template.yaml builds {id} from {binary}, which is not an endpoint"
        );
        assert_eq!(
            sub_text(&props["FunctionName"]),
            Some(format!("${{AWS::StackName}}-{binary}").as_str()),
            "{id} is not named after its binary"
        );
        if let Some(other) = built.insert(binary.clone(), id) {
            panic!("{other} and {id} both run {binary}");
        }
    }
    for f in functions() {
        assert!(
            built.contains_key(f),
            "template.yaml builds no function for {f}"
        );
    }
    for target in t.make_targets.keys() {
        assert!(
            t.type_of(target) == Some("AWS::Serverless::Function"),
            "the Makefile builds {target}, which template.yaml does not define"
        );
    }
}

#[test]
fn every_function_has_its_log_group() {
    let t = Template::load();
    for id in t.functions().into_keys() {
        let binary = t.binary(id);
        let name = format!("/aws/lambda/${{AWS::StackName}}-{binary}");
        let group = t
            .resources()
            .iter()
            .find(|(_, r)| {
                r.get("Type").and_then(Value::as_str) == Some("AWS::Logs::LogGroup")
                    && r.get("Properties")
                        .and_then(|p| p.get("LogGroupName"))
                        .and_then(sub_text)
                        == Some(name.as_str())
            })
            .map(|(gid, g)| (gid.as_str().unwrap(), g))
            .unwrap_or_else(|| panic!("{id} has no log group {name}"));
        assert!(
            group.1["Properties"].get("RetentionInDays").is_some(),
            "{} keeps {id}'s logs forever",
            group.0
        );
        let depends = t.resource(id).unwrap().get("DependsOn");
        let depends: Vec<&str> = match depends {
            Some(Value::Sequence(s)) => s.iter().filter_map(Value::as_str).collect(),
            Some(v) => v.as_str().into_iter().collect(),
            None => vec![],
        };
        assert!(
            depends.contains(&group.0),
            "{id} does not depend on {}: Lambda could create the group first, without retention",
            group.0
        );
    }
}

#[test]
fn every_route_is_in_the_template() {
    let t = Template::load();
    let mut routes: Vec<(String, String, String)> = Vec::new();
    for (id, props) in t.functions() {
        for (name, event) in events(props) {
            if event.get("Type").and_then(Value::as_str) != Some("HttpApi") {
                continue;
            }
            let p = &event["Properties"];
            let api = p.get("ApiId").and_then(ref_target);
            assert!(
                api.is_some_and(|a| t.type_of(a) == Some("AWS::Serverless::HttpApi")),
                "{id}.{name} is not on the stack's HTTP API"
            );
            let method = p.get("Method").and_then(Value::as_str).unwrap_or_default();
            let path = p.get("Path").and_then(Value::as_str).unwrap_or_default();
            routes.push((t.binary(id), method.to_uppercase(), path.to_string()));
        }
    }
    for e in endpoints() {
        let served: Vec<&(String, String, String)> = routes
            .iter()
            .filter(|(_, _, path)| path == e.route)
            .collect();
        assert_eq!(
            served.len(),
            1,
            "template.yaml routes {} {} times",
            e.route,
            served.len()
        );
        let (binary, method, _) = served[0];
        assert_eq!(binary, e.function, "{} reaches the wrong function", e.route);
        assert_eq!(method, e.method, "route {} has the wrong method", e.route);
    }
    for (binary, method, path) in &routes {
        assert!(
            endpoints().iter().any(|e| e.route == path),
            "template.yaml routes {method} {path} to {binary}, which is not an endpoint"
        );
    }
}

#[test]
fn the_retry_worker_drains_the_retry_queue() {
    let t = Template::load();
    let (id, props) = t.retry_worker();
    let env = t.environment(props);
    let queue = env
        .get("RETRY_QUEUE_URL")
        .and_then(ref_target)
        .expect("RETRY_QUEUE_URL is a !Ref to the retry queue")
        .to_string();
    assert_eq!(t.type_of(&queue), Some("AWS::SQS::Queue"));
    let sqs: Vec<&Value> = events(props)
        .into_iter()
        .filter(|(_, e)| e.get("Type").and_then(Value::as_str) == Some("SQS"))
        .map(|(_, e)| e)
        .collect();
    assert_eq!(sqs.len(), 1, "{id} needs exactly one SQS event");
    let mut names = BTreeSet::new();
    references(&sqs[0]["Properties"]["Queue"], &mut names);
    assert_eq!(
        names,
        BTreeSet::from([queue.clone()]),
        "{id} does not consume {queue}"
    );
}

#[test]
fn every_policy_names_existing_resources() {
    let t = Template::load();
    for (id, props) in t.functions() {
        let names = t.policy_references(props);
        assert!(!names.is_empty(), "{id} has no policies");
        for name in &names {
            assert!(
                name.starts_with("AWS::") || t.resource(name).is_some(),
                "a policy of {id} names {name}, which the template does not create"
            );
        }
        // A table reaches a function by !Ref (so tools can create it and pass its name), and
        // only together with a policy on it.
        let env = t.environment(props);
        for (variable, table) in [
            ("CONTACT_MAP_TABLE", "ContactMapTable"),
            ("STATE_TABLE", "StateTable"),
        ] {
            let Some(value) = env.get(variable) else {
                continue;
            };
            assert_eq!(ref_target(value), Some(table), "{id}: {variable}");
            assert!(
                names.contains(table),
                "{id} has {variable} but no policy on {table}"
            );
        }
    }
    // Every name the template refers to anywhere exists.
    let mut all = BTreeSet::new();
    references(&t.doc, &mut all);
    for name in all {
        assert!(
            t.is_resource_or_parameter(&name),
            "template.yaml refers to {name}, which it does not define"
        );
    }
}

/// The DynamoDB actions a function's managed policies allow.
fn dynamodb_actions(t: &Template, props: &Value) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for name in t.policy_references(props) {
        if t.type_of(&name) != Some("AWS::IAM::ManagedPolicy") {
            continue;
        }
        let document = &t.resource(&name).unwrap()["Properties"]["PolicyDocument"];
        for statement in document["Statement"].as_sequence().into_iter().flatten() {
            let action = &statement["Action"];
            let listed = match action {
                Value::Sequence(list) => list.iter().filter_map(Value::as_str).collect(),
                other => other.as_str().into_iter().collect::<Vec<_>>(),
            };
            actions.extend(listed.into_iter().map(str::to_string));
        }
    }
    actions
}

#[test]
fn only_the_functions_that_heal_links_may_delete_them() {
    let t = Template::load();
    let healers: BTreeSet<&str> = bridge::registry::REGISTRY
        .iter()
        .filter(|e| e.heals_links)
        .map(|e| e.name)
        .chain([bridge::worker::FUNCTION, bridge::reconcile::FUNCTION])
        .collect();
    assert!(healers.contains("ghl-new-note") && !healers.contains("cloudtalk-contact-created"));
    for (id, props) in t.functions() {
        let binary = t.binary(id);
        let deletes = dynamodb_actions(&t, props).contains("dynamodb:DeleteItem");
        assert_eq!(
            deletes,
            healers.contains(binary.as_str()),
            "{id} ({binary}): dynamodb:DeleteItem must be granted exactly where links are healed"
        );
    }
}

#[test]
fn every_route_is_served_by_cargo_lambda_watch() {
    let cargo = read("Cargo.toml");
    for e in endpoints() {
        let entry = format!(
            "\"{}\" = [{{ method = \"{}\", function = \"{}\" }}]",
            e.route, e.method, e.function
        );
        assert!(
            cargo.contains(&entry),
            "Cargo.toml watch router lacks {entry}"
        );
    }
    let env_tables = cargo
        .lines()
        .filter(|l| {
            l.trim_start().starts_with('[') && l.contains("metadata.lambda") && l.contains("env")
        })
        .count();
    assert_eq!(
        env_tables, 0,
        "settings must come from the shell, not Cargo metadata"
    );
}

#[test]
fn every_endpoint_has_events_and_a_readme_row() {
    let readme = manual();
    for f in functions() {
        assert!(
            repo().join("events").join(f).is_dir(),
            "events/{f} is missing"
        );
        assert!(
            readme.contains(&format!("`{f}`")),
            "the manual never names {f}"
        );
    }
    // The per-tenant CloudTalk routes are one pattern in the manual, not a row each.
    assert!(readme.contains("/api/cloudtalk-webhooks/{tenant}/<event>"));
    for e in endpoints().iter().filter(|e| !e.route.contains("{tenant}")) {
        assert!(
            readme
                .lines()
                .any(|l| l.starts_with('|') && l.contains(e.route) && l.contains(e.function)),
            "the manual has no table row with {} and {}",
            e.route,
            e.function
        );
    }
}

/// The `key = value` lines of a TOML table, comments and blank lines left out.
fn toml_table(text: &str, table: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| l.trim() != format!("[{table}]"))
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .map(|l| l.split('#').next().unwrap_or_default().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn the_bench_base_lines_are_built_with_the_functions_profile() {
    let root = toml_table(&read("Cargo.toml"), "profile.release");
    let bench = toml_table(&read("tools/bench-fns/Cargo.toml"), "profile.release");
    assert!(root.iter().any(|l| l.starts_with("lto")), "{root:?}");
    assert_eq!(
        root, bench,
        "tools/bench-fns/Cargo.toml's [profile.release] must be the root one"
    );
}

/// The managed policies of a function that grant `action` on `table`.
fn grants_on(t: &Template, props: &Value, action: &str, table: &str) -> bool {
    t.policy_references(props).into_iter().any(|name| {
        if t.type_of(&name) != Some("AWS::IAM::ManagedPolicy") {
            return false;
        }
        let document = &t.resource(&name).unwrap()["Properties"]["PolicyDocument"];
        document["Statement"]
            .as_sequence()
            .into_iter()
            .flatten()
            .any(|statement| {
                let listed = match &statement["Action"] {
                    Value::Sequence(list) => list.iter().any(|a| a.as_str() == Some(action)),
                    other => other.as_str() == Some(action),
                };
                let mut resources = BTreeSet::new();
                references(&statement["Resource"], &mut resources);
                listed && resources.contains(table)
            })
    })
}

/// An agency's uninstall retires every tenant it served, which needs a listing of the tenants
/// table: every function that can apply an install event holds it. A Marketplace app has one
/// webhook URL, which may be any GHL route (each applies every Marketplace type, installs
/// included), and an install queued for another attempt is applied by the retry worker.
#[test]
fn every_function_that_can_apply_an_install_may_list_the_tenants() {
    let t = Template::load();
    let appliers: BTreeSet<&str> = bridge::registry::REGISTRY
        .iter()
        .filter(|e| e.sender == bridge::registry::Sender::GoHighLevel)
        .map(|e| e.name)
        .chain([bridge::worker::FUNCTION])
        .collect();
    assert!(appliers.contains("ghl-app-install") && appliers.contains("retry-worker"));
    for (id, props) in t.functions() {
        let binary = t.binary(id);
        if appliers.contains(binary.as_str()) {
            assert!(
                grants_on(&t, props, "dynamodb:Scan", "TenantsTable"),
                "{id} ({binary}) can apply an agency's uninstall but may not list the tenants"
            );
        }
    }
}

/// The retry worker leases its batch (`ChangeMessageVisibilityBatch`, which IAM authorises as
/// `sqs:ChangeMessageVisibility`): its policies allow it on the retry queue, and the lease is
/// shorter than the queue's visibility timeout and renewed well within itself.
#[test]
fn the_retry_worker_may_lease_its_batch() {
    let t = Template::load();
    let (id, props) = t.retry_worker();
    assert!(
        grants_on(&t, props, "sqs:ChangeMessageVisibility", "RetryQueue"),
        "{id} may not change its messages' visibility"
    );
    let visibility = t.resource("RetryQueue").unwrap()["Properties"]["VisibilityTimeout"]
        .as_u64()
        .expect("the retry queue sets VisibilityTimeout");
    let lease = u64::from(bridge::worker::LEASE_SECS);
    assert!(
        lease < visibility,
        "a lease of {lease} s against {visibility} s"
    );
    assert!(bridge::worker::RENEW_EVERY.as_secs() * 2 < lease);
}

/// Every queue states its message size: what the bridge sends must fit whatever the account's
/// default is.
#[test]
fn the_queues_state_a_message_size_the_bridge_fits_in() {
    let t = Template::load();
    let queues: Vec<(&str, &Value)> = t
        .resources()
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::SQS::Queue"))
        .map(|(id, r)| (id.as_str().unwrap(), r))
        .collect();
    assert!(queues.len() >= 2);
    for (id, queue) in queues {
        let size = queue["Properties"]["MaximumMessageSize"]
            .as_u64()
            .unwrap_or_else(|| panic!("{id} does not set MaximumMessageSize"));
        assert!(
            size as usize >= bridge::retry_queue::MAX_MESSAGE_BYTES + 4096,
            "{id}: {size} bytes leave no room for the bridge's messages and their attributes"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The `Fn::ForEach` expansion every template test above reads through.
// ---------------------------------------------------------------------------------------------

const LOOP: &str = r#"
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Resources:
  Fn::ForEach::Alarms:
    - Fn
    - [First, Second]
    - ${Fn}ErrorRateAlarm:
        Type: AWS::CloudWatch::Alarm
        Properties:
          AlarmDescription: !Sub ["${Fn}: ${Name} of ${AWS::StackName}, not ${!Fn}", {Name: !Ref {Fn::Sub: "${Fn}Function"}}]
          Dimension: {Ref: {"Fn::Sub": "${Fn}Function"}}
          Arn: !GetAtt [{Fn::Sub: "${Fn}Function"}, Arn]
          Label: !Ref Fn
          Plain: ${Fn} outside a Fn::Sub
          Key&{Fn}: kept
  Other: {Type: AWS::SNS::Topic}
"#;

fn expand_loop(text: &str) -> Value {
    language_extensions::expand(serde_yaml_ng::from_str(text).unwrap())
}

#[test]
fn for_each_expands_as_the_language_extensions_transform_does() {
    let doc = expand_loop(LOOP);
    let resources = doc["Resources"].as_mapping().unwrap();
    let ids: Vec<&str> = resources.keys().filter_map(Value::as_str).collect();
    assert_eq!(
        ids,
        ["FirstErrorRateAlarm", "SecondErrorRateAlarm", "Other"]
    );
    let p = &resources["SecondErrorRateAlarm"]["Properties"];
    let (name, arg) = intrinsic(&p["AlarmDescription"]).unwrap();
    assert_eq!(name, "Sub");
    assert_eq!(
        arg[0].as_str(),
        Some("Second: ${Name} of ${AWS::StackName}, not ${!Fn}")
    );
    assert_eq!(ref_target(&arg[1]["Name"]), Some("SecondFunction"));
    assert_eq!(ref_target(&p["Dimension"]), Some("SecondFunction"));
    let mut names = BTreeSet::new();
    references(&p["Arn"], &mut names);
    assert_eq!(names, BTreeSet::from(["SecondFunction".to_string()]));
    assert_eq!(p["Label"].as_str(), Some("Second"));
    assert_eq!(p["Plain"].as_str(), Some("${Fn} outside a Fn::Sub"));
    assert_eq!(p["KeySecond"].as_str(), Some("kept"));
}

#[test]
#[should_panic(expected = "AWS::LanguageExtensions transform, listed before")]
fn for_each_needs_the_language_extensions_transform_first() {
    expand_loop(&LOOP.replace(
        "[AWS::LanguageExtensions, AWS::Serverless-2016-10-31]",
        "[AWS::Serverless-2016-10-31, AWS::LanguageExtensions]",
    ));
}

#[test]
#[should_panic(expected = "makes FirstErrorRateAlarm twice")]
fn for_each_copies_may_not_collide() {
    expand_loop(&LOOP.replace("[First, Second]", "[First, First]"));
}

/// A stack deployed with the template's defaults: each function's environment as Lambda gives
/// it (the template's `Globals` variables, each parameter at its default).
fn deployed_environment(t: &Template) -> BTreeMap<String, String> {
    let params = t.doc.get("Parameters").and_then(Value::as_mapping);
    let default_of = |name: &str| -> Option<String> {
        let p = params?.get(name)?.get("Default")?;
        match p {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    let vars = t
        .doc
        .get("Globals")
        .and_then(|g| g.get("Function"))
        .and_then(|f| f.get("Environment"))
        .and_then(|e| e.get("Variables"))
        .and_then(Value::as_mapping)
        .expect("Globals.Function.Environment.Variables");
    vars.iter()
        .filter_map(|(k, v)| {
            let name = ref_target(v)?;
            Some((k.as_str()?.to_string(), default_of(name)?))
        })
        .collect()
}

#[test]
fn a_stack_with_the_templates_defaults_writes_what_the_readme_promises() {
    let env = deployed_environment(&Template::load());
    let config = bridge::config::Config::from_lookup(|k| env.get(k).cloned());
    assert_eq!(
        format!("{}Interested", config.insights.tag_prefix),
        "call: Interested",
        "CALL_TAG_PREFIX = {:?}",
        env.get("CALL_TAG_PREFIX")
    );
    assert!(manual().contains("`call: Interested`"));
    let dials = &config.speed_to_lead;
    assert_eq!(
        (
            dials.max_per_hour,
            dials.max_per_number_per_day,
            dials.max_attempts
        ),
        (60, 2, 3),
        "the bounds the manual's What it will never dial states"
    );
}
