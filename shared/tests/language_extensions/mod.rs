//! The `AWS::LanguageExtensions` transform's `Fn::ForEach`, expanded as CloudFormation expands
//! it before the SAM transform runs, so that the tests read the resources a stack really gets.
//!
//! `Fn::ForEach::<Loop>: [Identifier, [Value, …], {OutputKey: OutputValue, …}]`, in any mapping,
//! becomes one copy of the fragment per value, in which:
//! - `${Identifier}`, and `&{Identifier}` (the value without its non-alphanumerics), are replaced
//!   in the keys and in the `Fn::Sub` texts (`!Sub text`, or the text of `!Sub [text, {…}]`);
//! - `Ref: Identifier` is the value itself;
//! - a logical id given as a `Fn::Sub` (`!Ref {Fn::Sub: "${Identifier}Function"}`, or the first
//!   element of `!GetAtt`) is the name the text comes to.
//!
//! Nothing else changes: a `${Identifier}` in a plain string stays as written, as it does in
//! CloudFormation. What the transform would refuse panics: no `AWS::LanguageExtensions` before
//! `AWS::Serverless-2016-10-31`, a collection that is not a list of names, an output key that
//! is not alphanumeric or that two copies share.

use serde_yaml_ng::value::TaggedValue;
use serde_yaml_ng::{Mapping, Value};

const FOR_EACH: &str = "Fn::ForEach::";

/// (identifier, value) of each loop the walk is inside, innermost last.
type Bindings = [(String, String)];

/// `template` with every `Fn::ForEach` expanded.
pub fn expand(template: Value) -> Value {
    if has_for_each(&template) {
        let transforms: Vec<&str> = match template.get("Transform") {
            Some(Value::Sequence(list)) => list.iter().filter_map(Value::as_str).collect(),
            Some(other) => other.as_str().into_iter().collect(),
            None => vec![],
        };
        let at = |name: &str| transforms.iter().position(|t| *t == name);
        let extensions = at("AWS::LanguageExtensions");
        let serverless = at("AWS::Serverless-2016-10-31");
        assert!(
            extensions.is_some() && (serverless.is_none() || extensions < serverless),
            "Fn::ForEach needs the AWS::LanguageExtensions transform, listed before \
             AWS::Serverless-2016-10-31: Transform is {transforms:?}"
        );
    }
    walk(&template, &[])
}

fn has_for_each(v: &Value) -> bool {
    match v {
        Value::Mapping(m) => m
            .iter()
            .any(|(k, v)| k.as_str().is_some_and(|k| k.starts_with(FOR_EACH)) || has_for_each(v)),
        Value::Sequence(s) => s.iter().any(has_for_each),
        Value::Tagged(t) => has_for_each(&t.value),
        _ => false,
    }
}

fn walk(v: &Value, bindings: &Bindings) -> Value {
    match v {
        Value::Mapping(m) => {
            if m.len() == 1 {
                let (k, arg) = m.iter().next().unwrap();
                if let Some(name @ ("Ref" | "Fn::Sub" | "Fn::GetAtt")) = k.as_str() {
                    return intrinsic(name, arg, bindings, |arg| {
                        Value::Mapping(Mapping::from_iter([(k.clone(), arg)]))
                    });
                }
            }
            walk_mapping(m, bindings)
        }
        Value::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = match tag.trim_start_matches('!') {
                "Ref" => "Ref".to_string(),
                short => format!("Fn::{short}"),
            };
            intrinsic(&name, &t.value, bindings, |value| {
                Value::Tagged(Box::new(TaggedValue {
                    tag: t.tag.clone(),
                    value,
                }))
            })
        }
        Value::Sequence(s) => Value::Sequence(s.iter().map(|x| walk(x, bindings)).collect()),
        other => other.clone(),
    }
}

/// One intrinsic function, `rebuild` giving it back its form (short or long) around an argument.
fn intrinsic(
    name: &str,
    arg: &Value,
    bindings: &Bindings,
    rebuild: impl Fn(Value) -> Value,
) -> Value {
    match name {
        "Fn::Sub" => rebuild(match arg {
            Value::String(text) => Value::String(substitute(text, bindings)),
            Value::Sequence(parts) => Value::Sequence(
                parts
                    .iter()
                    .enumerate()
                    .map(|(i, part)| match (i, part) {
                        (0, Value::String(text)) => Value::String(substitute(text, bindings)),
                        _ => walk(part, bindings),
                    })
                    .collect(),
            ),
            other => walk(other, bindings),
        }),
        "Ref" => {
            let target = logical_id(arg, bindings);
            match bindings.iter().rev().find(|(id, _)| *id == target) {
                Some((_, value)) => Value::String(value.clone()),
                None => rebuild(Value::String(target)),
            }
        }
        "Fn::GetAtt" => rebuild(match arg {
            Value::Sequence(parts) => Value::Sequence(
                parts
                    .iter()
                    .enumerate()
                    .map(|(i, part)| match i {
                        0 => Value::String(logical_id(part, bindings)),
                        _ => walk(part, bindings),
                    })
                    .collect(),
            ),
            other => walk(other, bindings),
        }),
        _ => rebuild(walk(arg, bindings)),
    }
}

/// The name a `Ref` or `GetAtt` names: written out, or the text of a `Fn::Sub` once substituted.
fn logical_id(v: &Value, bindings: &Bindings) -> String {
    if let Some(name) = v.as_str() {
        return name.to_string();
    }
    let sub = match walk(v, bindings) {
        Value::Tagged(t) if t.tag == "Sub" => t.value,
        Value::Mapping(m) if m.len() == 1 && m.contains_key("Fn::Sub") => m["Fn::Sub"].clone(),
        other => panic!("a logical id is neither a name nor a Fn::Sub: {other:?}"),
    };
    let name = sub
        .as_str()
        .unwrap_or_else(|| panic!("a logical id's Fn::Sub is not a text: {sub:?}"));
    assert!(
        !name.contains("${") && !name.contains("&{"),
        "the logical id {name} keeps a placeholder that no enclosing loop defines"
    );
    name.to_string()
}

fn walk_mapping(m: &Mapping, bindings: &Bindings) -> Value {
    let mut out = Mapping::new();
    let mut put = |key: Value, value: Value| {
        if out.contains_key(&key) {
            panic!("{key:?} is defined twice (by hand and by a Fn::ForEach, or by two loops)");
        }
        out.insert(key, value);
    };
    for (k, v) in m {
        match k.as_str() {
            Some(name) if name.starts_with(FOR_EACH) => {
                for (key, value) in for_each(name, v, bindings) {
                    put(key, value);
                }
            }
            Some(key) => put(Value::String(substitute(key, bindings)), walk(v, bindings)),
            None => put(k.clone(), walk(v, bindings)),
        }
    }
    Value::Mapping(out)
}

/// The copies of one loop's fragment, one per value of its collection.
fn for_each(name: &str, v: &Value, bindings: &Bindings) -> Mapping {
    let parts = v
        .as_sequence()
        .filter(|p| p.len() == 3)
        .unwrap_or_else(|| panic!("{name} is not [Identifier, Collection, Fragment]"));
    let identifier = parts[0]
        .as_str()
        .unwrap_or_else(|| panic!("{name}'s identifier is not a name"));
    let collection: Vec<&str> = parts[1]
        .as_sequence()
        .unwrap_or_else(|| panic!("{name}'s collection is not a list written out"))
        .iter()
        .map(|item| {
            item.as_str()
                .unwrap_or_else(|| panic!("{name}'s collection holds {item:?}, not a name"))
        })
        .collect();
    let fragment = parts[2]
        .as_mapping()
        .unwrap_or_else(|| panic!("{name}'s fragment is not a mapping"));
    let mut out = Mapping::new();
    for value in collection {
        let mut inner = bindings.to_vec();
        inner.push((identifier.to_string(), value.to_string()));
        let Value::Mapping(copy) = walk_mapping(fragment, &inner) else {
            unreachable!()
        };
        for (key, output) in copy {
            let key_text = key.as_str().unwrap_or_default();
            assert!(
                !key_text.is_empty() && key_text.chars().all(|c| c.is_ascii_alphanumeric()),
                "{name} makes the key {key:?}, which is not alphanumeric"
            );
            if out.contains_key(&key) {
                panic!("{name} makes {key_text} twice");
            }
            out.insert(key, output);
        }
    }
    out
}

/// `text` with `${Identifier}` and `&{Identifier}` of every loop it is inside replaced.
fn substitute(text: &str, bindings: &Bindings) -> String {
    bindings
        .iter()
        .rev()
        .fold(text.to_string(), |text, (id, value)| {
            let alphanumeric: String = value.chars().filter(char::is_ascii_alphanumeric).collect();
            text.replace(&format!("${{{id}}}"), value)
                .replace(&format!("&{{{id}}}"), &alphanumeric)
        })
}
