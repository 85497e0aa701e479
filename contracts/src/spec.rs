//! The specs, loaded once: each operation (method, path template, parameters, request body,
//! responses) and JSON Schema validators built from the spec's own schemas.
//!
//! OpenAPI 3.0 schemas are read as JSON Schema draft 4 after three changes, made once when the
//! specs load: `nullable: true` becomes a `null` type; every `$ref` is made absolute (so the
//! schemas of GHL's files, which point into `../common/common-schemas.json`, resolve); and, in
//! the copy used for GoHighLevel's request bodies, every object schema that lists its
//! properties and says nothing of others gets `additionalProperties: false` (NestJS's
//! whitelist). Formats are not checked (neither API documents that it checks them).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use jsonschema::{Draft, Registry, Validator};
use serde_json::{Map, Value};

use super::overrides;
use super::{Kind, Request, Vendor};

/// The spec files, as the repo keeps them: (vendor, path under `specs/`, contents).
const FILES: &[(Vendor, &str, &str)] = &[
    (
        Vendor::CloudTalk,
        "cloudtalk/openapi.json",
        include_str!("../specs/cloudtalk/openapi.json"),
    ),
    (
        Vendor::GoHighLevel,
        "ghl/apps/contacts.json",
        include_str!("../specs/ghl/apps/contacts.json"),
    ),
    (
        Vendor::GoHighLevel,
        "ghl/apps/conversations.json",
        include_str!("../specs/ghl/apps/conversations.json"),
    ),
    (
        Vendor::GoHighLevel,
        "ghl/apps/opportunities.json",
        include_str!("../specs/ghl/apps/opportunities.json"),
    ),
    (
        Vendor::GoHighLevel,
        "ghl/apps/oauth.json",
        include_str!("../specs/ghl/apps/oauth.json"),
    ),
    (
        Vendor::GoHighLevel,
        "ghl/apps/locations.json",
        include_str!("../specs/ghl/apps/locations.json"),
    ),
    (
        Vendor::GoHighLevel,
        "ghl/apps/users.json",
        include_str!("../specs/ghl/apps/users.json"),
    ),
    (
        Vendor::GoHighLevel,
        "ghl/apps/custom-fields.json",
        include_str!("../specs/ghl/apps/custom-fields.json"),
    ),
    (
        Vendor::GoHighLevel,
        "ghl/common/common-schemas.json",
        include_str!("../specs/ghl/common/common-schemas.json"),
    ),
];

const BASE: &str = "https://contracts.bridge.local";

/// Which copy of the schemas a validator reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Copy {
    /// As published (answers, and CloudTalk's requests).
    Published,
    /// With undeclared properties refused (GoHighLevel's requests).
    Whitelisted,
}

impl Copy {
    fn prefix(self) -> &'static str {
        match self {
            Copy::Published => "published",
            Copy::Whitelisted => "whitelisted",
        }
    }
    fn of(vendor: Vendor) -> Self {
        match vendor {
            Vendor::GoHighLevel => Copy::Whitelisted,
            Vendor::CloudTalk => Copy::Published,
        }
    }
}

fn uri(copy: Copy, file: &str) -> String {
    format!("{BASE}/{}/{file}", copy.prefix())
}

/// A parameter of an operation.
#[derive(Debug, Clone)]
struct Param {
    name: String,
    location: String,
    required: bool,
    /// The schema's pointer in its file.
    pointer: String,
    kind: Option<String>,
}

/// One operation of a spec.
#[derive(Debug, Clone)]
struct Operation {
    vendor: Vendor,
    file: String,
    method: String,
    template: String,
    segments: Vec<Segment>,
    params: Vec<Param>,
    /// The request body: required, and the pointer of each media type's schema.
    body: Option<(bool, Vec<(String, String)>)>,
    /// Status (`200`, `2XX`, `default`) → the pointer of its JSON schema.
    responses: Vec<(String, String)>,
}

/// One `/`-separated part of a path template: a literal, or `{name}` between a literal prefix
/// and suffix (CloudTalk's `{contactId}.json`).
#[derive(Debug, Clone)]
struct Segment {
    prefix: String,
    param: Option<String>,
    suffix: String,
}

impl Segment {
    fn parse(text: &str) -> Self {
        match (text.find('{'), text.find('}')) {
            (Some(open), Some(close)) if open < close => Segment {
                prefix: text[..open].to_string(),
                param: Some(text[open + 1..close].to_string()),
                suffix: text[close + 1..].to_string(),
            },
            _ => Segment {
                prefix: text.to_string(),
                param: None,
                suffix: String::new(),
            },
        }
    }

    /// The value the segment captures from `part`, or `None` when it does not match.
    fn capture<'p>(&self, part: &'p str) -> Option<Option<&'p str>> {
        match &self.param {
            None => (part == self.prefix).then_some(None),
            Some(_) => {
                let value = part
                    .strip_prefix(self.prefix.as_str())?
                    .strip_suffix(self.suffix.as_str())?;
                (!value.is_empty()).then_some(Some(value))
            }
        }
    }

    fn literal_len(&self) -> usize {
        self.prefix.len() + self.suffix.len() + usize::from(self.param.is_none())
    }
}

struct Specs {
    operations: Vec<Operation>,
    registry: Registry<'static>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

static SPECS: LazyLock<Specs> = LazyLock::new(load);

fn load() -> Specs {
    let mut resources = Vec::new();
    let mut operations = Vec::new();
    for (vendor, file, text) in FILES {
        let mut doc: Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("contracts/specs/{file} is not JSON: {e}"));
        overrides::patch(*vendor, file, &mut doc);
        for copy in [Copy::Published, Copy::Whitelisted] {
            let mut prepared = doc.clone();
            prepare(&mut prepared, &uri(copy, file), copy == Copy::Whitelisted);
            resources.push((uri(copy, file), prepared));
        }
        operations.extend(read_operations(*vendor, file, &doc));
    }
    for (vendor, file, doc) in overrides::extra_operations() {
        for copy in [Copy::Published, Copy::Whitelisted] {
            let mut prepared = doc.clone();
            prepare(&mut prepared, &uri(copy, file), copy == Copy::Whitelisted);
            resources.push((uri(copy, file), prepared));
        }
        operations.extend(read_operations(vendor, file, &doc));
    }
    let registry = Registry::new()
        .draft(Draft::Draft4)
        .extend(resources)
        .and_then(|r| r.prepare())
        .unwrap_or_else(|e| panic!("the specs do not form a schema registry: {e}"));
    Specs {
        operations,
        registry,
        validators: Mutex::new(HashMap::new()),
    }
}

/// Makes an OpenAPI 3.0 document read as JSON Schema draft 4 (see the module's notes).
fn prepare(node: &mut Value, base: &str, whitelist: bool) {
    match node {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get_mut("$ref") {
                *reference = absolute(base, reference);
            }
            if object.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(Value::String(kind)) = object.get("type").cloned() {
                    object.insert("type".into(), serde_json::json!([kind, "null"]));
                }
            }
            let composed = ["allOf", "anyOf", "oneOf"]
                .iter()
                .any(|k| object.contains_key(*k));
            if whitelist
                && object.get("properties").is_some_and(Value::is_object)
                && !object.contains_key("additionalProperties")
                && !composed
            {
                object.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (_, child) in object.iter_mut() {
                prepare(child, base, whitelist);
            }
        }
        Value::Array(items) => {
            for item in items {
                prepare(item, base, whitelist);
            }
        }
        _ => {}
    }
}

/// A `$ref` made absolute against the document's URI.
fn absolute(base: &str, reference: &str) -> String {
    if reference.starts_with("http") {
        return reference.to_string();
    }
    let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
    let document = match file {
        "" => base.to_string(),
        relative => {
            let mut parts: Vec<&str> = base.split('/').collect();
            parts.pop();
            for part in relative.split('/') {
                match part {
                    ".." => {
                        parts.pop();
                    }
                    "." => {}
                    other => parts.push(other),
                }
            }
            parts.join("/")
        }
    };
    format!("{document}#{}", encode_fragment(fragment))
}

fn encode_fragment(fragment: &str) -> String {
    fragment
        .chars()
        .map(|c| match c {
            '{' => "%7B".to_string(),
            '}' => "%7D".to_string(),
            ' ' => "%20".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// A JSON pointer's token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn read_operations(vendor: Vendor, file: &str, doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (template, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        let shared = item.get("parameters").cloned();
        for (method, op) in item {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let at = format!("/paths/{}/{method}", escape(template));
            out.push(Operation {
                vendor,
                file: file.to_string(),
                method: method.to_ascii_uppercase(),
                template: template.clone(),
                segments: split(template).into_iter().map(Segment::parse).collect(),
                params: params(
                    doc,
                    &at,
                    op,
                    shared.as_ref(),
                    &format!("/paths/{}", escape(template)),
                ),
                body: body(op, &at),
                responses: responses(op, &at),
            });
        }
    }
    out
}

fn params(doc: &Value, at: &str, op: &Value, shared: Option<&Value>, item_at: &str) -> Vec<Param> {
    let mut out: Vec<Param> = Vec::new();
    let lists = [
        (op.get("parameters"), at.to_string()),
        (shared, item_at.to_string()),
    ];
    for (list, base) in lists {
        for (i, param) in list
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let (param, pointer) = match param.get("$ref").and_then(Value::as_str) {
                Some(r) => match r.strip_prefix('#') {
                    Some(local) => (
                        doc.pointer(local).unwrap_or(&Value::Null),
                        local.to_string(),
                    ),
                    None => continue,
                },
                None => (param, format!("{base}/parameters/{i}")),
            };
            let name = param
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let location = param.get("in").and_then(Value::as_str).unwrap_or_default();
            if out.iter().any(|p| p.name == name && p.location == location) {
                continue;
            }
            out.push(Param {
                name: name.to_string(),
                location: location.to_string(),
                required: param.get("required") == Some(&Value::Bool(true)),
                pointer: format!("{pointer}/schema"),
                kind: param
                    .pointer("/schema/type")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
    }
    out
}

fn body(op: &Value, at: &str) -> Option<(bool, Vec<(String, String)>)> {
    let body = op.get("requestBody")?;
    let required = body.get("required") == Some(&Value::Bool(true));
    let types = body
        .get("content")
        .and_then(Value::as_object)
        .map(|content| {
            content
                .iter()
                .filter(|(_, media)| media.get("schema").is_some())
                .map(|(kind, _)| {
                    let pointer = format!("{at}/requestBody/content/{}/schema", escape(kind));
                    (kind.clone(), pointer)
                })
                .collect()
        })
        .unwrap_or_default();
    Some((required, types))
}

fn responses(op: &Value, at: &str) -> Vec<(String, String)> {
    op.get("responses")
        .and_then(Value::as_object)
        .map(|responses| {
            responses
                .iter()
                .filter(|(_, r)| r.pointer("/content/application~1json/schema").is_some())
                .map(|(status, _)| {
                    let pointer =
                        format!("{at}/responses/{status}/content/application~1json/schema");
                    (status.clone(), pointer)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn split(path: &str) -> Vec<&str> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

/// Percent-decoding of a path segment or query part.
pub(crate) fn decode(s: &str) -> String {
    String::from_utf8_lossy(&urlencoding::decode_binary(s.as_bytes())).into_owned()
}

/// The operation a request is for, and what its path captured.
fn find(
    vendor: Vendor,
    method: &str,
    path: &str,
) -> Option<(&'static Operation, Vec<(String, String)>)> {
    let parts: Vec<String> = split(path).into_iter().map(decode).collect();
    let method = method.to_ascii_uppercase();
    SPECS
        .operations
        .iter()
        .filter(|op| op.vendor == vendor && op.method == method)
        .filter(|op| op.segments.len() == parts.len())
        .filter_map(|op| {
            let mut captured = Vec::new();
            for (segment, part) in op.segments.iter().zip(&parts) {
                if let Some(value) = segment.capture(part)? {
                    let name = segment.param.clone().unwrap_or_default();
                    captured.push((name, value.to_string()));
                }
            }
            let score: usize = op.segments.iter().map(Segment::literal_len).sum();
            Some((score, op, captured))
        })
        .max_by_key(|(score, _, _)| *score)
        .map(|(_, op, captured)| (op, captured))
}

fn validator(copy: Copy, file: &str, pointer: &str) -> Result<Arc<Validator>, String> {
    let key = format!("{}#{}", uri(copy, file), encode_fragment(pointer));
    if let Some(found) = SPECS
        .validators
        .lock()
        .ok()
        .and_then(|v| v.get(&key).cloned())
    {
        return Ok(found);
    }
    let built = jsonschema::options()
        .with_draft(Draft::Draft4)
        .should_validate_formats(false)
        .with_registry(&SPECS.registry)
        .build(&serde_json::json!({ "$ref": key }))
        .map_err(|e| format!("the spec's schema at {key} does not compile: {e}"))?;
    let built = Arc::new(built);
    if let Ok(mut cache) = SPECS.validators.lock() {
        cache.insert(key, built.clone());
    }
    Ok(built)
}

/// Every problem `value` has against the schema at `pointer`, each with where it is.
fn problems(copy: Copy, op: &Operation, pointer: &str, value: &Value, at: &str) -> Vec<String> {
    match validator(copy, &op.file, pointer) {
        Ok(v) => v
            .iter_errors(value)
            .map(|e| {
                let path = e.instance_path().to_string();
                let text = describe(&e, value);
                match path.is_empty() {
                    true => format!("{at}: {text}"),
                    false => format!("{at}{path}: {text}"),
                }
            })
            .collect(),
        Err(e) => vec![e],
    }
}

/// A validator's message without the offending value (which may be personal data), in the
/// words NestJS uses for an undeclared property.
fn describe(error: &jsonschema::ValidationError, _value: &Value) -> String {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    let alternatives = |context: &Vec<Vec<jsonschema::ValidationError<'static>>>| {
        context
            .iter()
            .enumerate()
            .map(|(i, errors)| {
                let first: Vec<String> = errors
                    .iter()
                    .take(2)
                    .map(|e| format!("{} {}", e.instance_path(), describe(e, _value)))
                    .collect();
                format!("#{i}: {}", first.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    match error.kind() {
        K::AdditionalProperties { unexpected } | K::UnevaluatedProperties { unexpected } => {
            unexpected
                .iter()
                .map(|p| format!("property {p} should not exist"))
                .collect::<Vec<_>>()
                .join(", ")
        }
        K::Required { property } => format!("{property} is required"),
        K::Type { kind } => match kind {
            TypeKind::Single(t) => format!("must be of type {t}"),
            TypeKind::Multiple(set) => format!("must be of one of the types {set:?}"),
        },
        K::Enum { options } => format!("must be one of {options}"),
        K::Constant { expected_value } => format!("must be {expected_value}"),
        K::MaxItems { limit } => format!("must have at most {limit} items"),
        K::MinItems { limit } => format!("must have at least {limit} items"),
        K::MaxLength { limit } => format!("must be at most {limit} characters"),
        K::MinLength { limit } => format!("must be at least {limit} characters"),
        K::Maximum { limit } | K::ExclusiveMaximum { limit } => format!("must be at most {limit}"),
        K::Minimum { limit } | K::ExclusiveMinimum { limit } => format!("must be at least {limit}"),
        K::Pattern { pattern } => format!("must match {pattern}"),
        K::AnyOf { context } | K::OneOfNotValid { context } => {
            format!(
                "matches none of its alternatives ({})",
                alternatives(context)
            )
        }
        K::OneOfMultipleValid { .. } => "matches more than one of its alternatives (oneOf)".into(),
        K::UniqueItems => "must not repeat an item".into(),
        K::FalseSchema => "must not be present".into(),
        K::Referencing(e) => format!("the spec does not resolve: {e}"),
        _ => "does not match the schema".into(),
    }
}

/// A parameter's text as the JSON value its schema's type reads it as.
fn typed(kind: Option<&str>, text: &str) -> Value {
    match kind {
        Some("integer") => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(text.to_string())),
        Some("number") => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(text.to_string())),
        Some("boolean") => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::String(other.to_string()),
        },
        Some("array") => Value::Array(
            text.split(',')
                .map(|t| Value::String(t.to_string()))
                .collect(),
        ),
        _ => Value::String(text.to_string()),
    }
}

type Failure = (Option<String>, Kind, Vec<String>);

pub(crate) fn check_request(vendor: Vendor, request: &Request) -> Result<(), Failure> {
    let Some((op, captured)) = find(vendor, request.method, request.path) else {
        return Err((
            None,
            Kind::UnknownOperation,
            vec![format!(
                "{vendor}'s API has no {} {}",
                request.method, request.path
            )],
        ));
    };
    let fail = |kind: Kind, problems: Vec<String>| Err((Some(op.template.clone()), kind, problems));
    let problems = parameter_problems(vendor, op, &captured, request);
    if !problems.is_empty() {
        return fail(Kind::Parameters, problems);
    }
    match body_problems(vendor, op, request) {
        problems if problems.is_empty() => Ok(()),
        problems => fail(Kind::Body, problems),
    }
}

/// The path, query and header parameters' problems, and the query parameters the operation
/// does not declare.
fn parameter_problems(
    vendor: Vendor,
    op: &Operation,
    captured: &[(String, String)],
    request: &Request,
) -> Vec<String> {
    let copy = Copy::of(vendor);
    let mut problems = Vec::new();
    for param in &op.params {
        let values: Vec<&str> = match param.location.as_str() {
            "path" => captured
                .iter()
                .filter(|(n, _)| *n == param.name)
                .map(|(_, v)| v.as_str())
                .collect(),
            "query" => request
                .query
                .iter()
                .filter(|(n, _)| *n == param.name)
                .map(|(_, v)| v.as_str())
                .collect(),
            "header" => request.header(&param.name).into_iter().collect(),
            _ => continue,
        };
        if values.is_empty() && param.required {
            problems.push(format!("{} {} is required", param.location, param.name));
        }
        for value in values {
            let at = format!("{} {}", param.location, param.name);
            let value = typed(param.kind.as_deref(), value);
            problems.extend(problems_of(copy, op, &param.pointer, &value, &at));
        }
    }
    let declared = |name: &str| {
        op.params
            .iter()
            .any(|p| p.location == "query" && p.name == name)
            || overrides::undeclared_query_allowed(vendor, &op.method, &op.template, name)
    };
    for (name, _) in request.query {
        if !declared(name) {
            problems.push(format!("query {name} should not exist"));
        }
    }
    problems
}

/// The request body's problems: required and absent, a content type the operation does not
/// take, not JSON, or against its schema.
fn body_problems(vendor: Vendor, op: &Operation, request: &Request) -> Vec<String> {
    let Some((required, media)) = &op.body else {
        return Vec::new();
    };
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return match required {
            true => vec!["a request body is required".into()],
            false => Vec::new(),
        };
    }
    let content_type = request
        .header("content-type")
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let Some((_, pointer)) = media.iter().find(|(kind, _)| *kind == content_type) else {
        let accepted: Vec<&str> = media.iter().map(|(k, _)| k.as_str()).collect();
        return vec![format!(
            "content type {content_type} is not one of {accepted:?}"
        )];
    };
    let body = match content_type.as_str() {
        "application/x-www-form-urlencoded" => {
            let text = String::from_utf8_lossy(request.body);
            let mut object = Map::new();
            for (k, v) in super::query_pairs(&text) {
                object.insert(k, Value::String(v));
            }
            Value::Object(object)
        }
        _ => match serde_json::from_slice::<Value>(request.body) {
            Ok(v) => v,
            Err(_) => return vec!["the body is not JSON".into()],
        },
    };
    problems_of(Copy::of(vendor), op, pointer, &body, "body")
}

/// The problems, less those the overrides list accepts.
fn problems_of(copy: Copy, op: &Operation, pointer: &str, value: &Value, at: &str) -> Vec<String> {
    problems(copy, op, pointer, value, at)
        .into_iter()
        .filter(|p| !overrides::problem_accepted(op.vendor, &op.method, &op.template, p))
        .collect()
}

pub(crate) fn check_response(
    vendor: Vendor,
    method: &str,
    path: &str,
    status: u16,
    body: &Value,
) -> Result<(), (Option<String>, Vec<String>)> {
    let Some((op, _)) = find(vendor, method, path) else {
        return Ok(());
    };
    let status_text = status.to_string();
    let family = format!("{}XX", status / 100);
    let pointer = op
        .responses
        .iter()
        .find(|(s, _)| *s == status_text)
        .or_else(|| {
            op.responses
                .iter()
                .find(|(s, _)| s.eq_ignore_ascii_case(&family))
        })
        .map(|(_, p)| p.clone());
    let Some(pointer) = pointer else {
        return Ok(());
    };
    let found: Vec<String> = problems(Copy::Published, op, &pointer, body, "answer")
        .into_iter()
        .filter(|p| !overrides::answer_accepted(vendor, &op.method, &op.template, p))
        .collect();
    match found.is_empty() {
        true => Ok(()),
        false => Err((Some(op.template.clone()), found)),
    }
}

#[cfg(test)]
pub(crate) fn operations(vendor: Vendor) -> Vec<(String, String)> {
    SPECS
        .operations
        .iter()
        .filter(|o| o.vendor == vendor)
        .map(|o| (o.method.clone(), o.template.clone()))
        .collect()
}
