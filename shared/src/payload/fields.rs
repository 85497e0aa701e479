//! Tolerant reading of webhook JSON whose keys and value types vary by sender.
//!
//! Keys are matched after normalisation (lower case, without `_`, `-` and spaces), so
//! `call_id`, `Call_id` and `callId` are the same key. Ids and numbers are accepted as strings
//! or JSON numbers. Placeholders that senders emit for unresolved variables (`[object Object]`,
//! `{{contact.phone}}`, `null`, `undefined`) count as absent.

use serde_json::{Map, Value};

/// Normalises a key for matching: `Call_id`, `call-id`, `callId` → `callid`.
pub fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_placeholder(s: &str) -> bool {
    let t = s.trim();
    t.is_empty()
        || t.eq_ignore_ascii_case("null")
        || t.eq_ignore_ascii_case("undefined")
        || t.starts_with("[object ")
        || (t.starts_with("{{") && t.ends_with("}}"))
}

/// A string, number or boolean as text; `None` for null, objects, arrays and placeholders.
pub fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !is_placeholder(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An identifier given as a string or a number (`"1451646073"` or `1451646073`).
pub fn id_string(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .map(|v| v.to_string())
            .or_else(|| n.as_i64().map(|v| v.to_string()))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0)
                    .map(|f| format!("{f:.0}"))
            }),
        other => scalar_string(other),
    }
}

/// Tags given as a list of names, a list of `{name}` objects, or one comma-separated string.
pub fn tag_list(value: &Value) -> Vec<String> {
    let mut tags: Vec<String> = match value {
        Value::Array(items) => items
            .iter()
            .filter_map(|item| match item {
                Value::Object(_) => find(item, &["name", "tag"]).and_then(scalar_string),
                other => scalar_string(other),
            })
            .collect(),
        Value::String(s) if !is_placeholder(s) => s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        Value::Object(_) => find(value, &["name", "tag"])
            .and_then(scalar_string)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    tags.retain(|t| seen.insert(t.to_lowercase()));
    tags
}

fn get_normalized<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if let Some(v) = object.get(key) {
        return Some(v);
    }
    let wanted = normalize_key(key);
    object
        .iter()
        .find(|(k, _)| normalize_key(k) == wanted)
        .map(|(_, v)| v)
}

/// The value at a dotted path (`contact.id`, `customData.tag`), keys matched loosely.
pub fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = root;
    for segment in path.split('.') {
        current = get_normalized(current.as_object()?, segment)?;
    }
    Some(current)
}

/// The first path that holds a usable value (not null, not a placeholder, not empty).
pub fn find<'a>(root: &'a Value, paths: &[&str]) -> Option<&'a Value> {
    paths.iter().find_map(|p| {
        lookup(root, p).filter(|v| match v {
            Value::Null => false,
            Value::String(s) => !is_placeholder(s),
            Value::Array(a) => !a.is_empty(),
            _ => true,
        })
    })
}

/// The first path that holds a scalar, as text.
pub fn find_string(root: &Value, paths: &[&str]) -> Option<String> {
    paths
        .iter()
        .find_map(|p| lookup(root, p).and_then(scalar_string))
}

/// The first path that holds an id, as text.
/// At most `max` characters of `text`, for echoing a sender's value back in a message.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

pub fn find_id(root: &Value, paths: &[&str]) -> Option<String> {
    paths
        .iter()
        .find_map(|p| lookup(root, p).and_then(id_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_match_across_spellings() {
        let v = json!({"Call_id": 1, "agentName": "Roberto", "contact": {"First_Name": "Mario"}});
        assert_eq!(find_id(&v, &["call_id"]), Some("1".to_string()));
        assert_eq!(
            find_string(&v, &["agent_name"]),
            Some("Roberto".to_string())
        );
        assert_eq!(
            find_string(&v, &["contact.firstName"]),
            Some("Mario".to_string())
        );
        assert_eq!(find_string(&v, &["missing"]), None);
    }

    #[test]
    fn ids_accept_strings_and_numbers() {
        assert_eq!(
            id_string(&json!(393513416607u64)),
            Some("393513416607".into())
        );
        assert_eq!(id_string(&json!(" 42 ")), Some("42".into()));
        assert_eq!(id_string(&json!(4.2e1)), Some("42".into()));
        assert_eq!(id_string(&json!(null)), None);
        assert_eq!(id_string(&json!({"a": 1})), None);
    }

    #[test]
    fn placeholders_are_absent() {
        let v = json!({"a": "[object Object]", "b": "{{contact.phone}}", "c": "null", "d": " ", "e": "ok"});
        assert_eq!(
            find_string(&v, &["a", "b", "c", "d", "e"]),
            Some("ok".into())
        );
    }

    #[test]
    fn tags_from_every_shape() {
        assert_eq!(
            tag_list(&json!(["lead", "priority"])),
            vec!["lead", "priority"]
        );
        assert_eq!(
            tag_list(&json!("lead, priority,,")),
            vec!["lead", "priority"]
        );
        assert_eq!(
            tag_list(&json!([{"name": "VIP"}, "x", "X"])),
            vec!["VIP", "x"]
        );
        assert_eq!(
            tag_list(&json!({"name": "VIP Cliente"})),
            vec!["VIP Cliente"]
        );
        assert!(tag_list(&json!(null)).is_empty());
        assert!(tag_list(&json!(12)).is_empty());
    }
}
