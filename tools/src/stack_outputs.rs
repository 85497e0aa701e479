//! A CloudFormation stack's outputs, as the operator tools read them: the JSON of `aws
//! cloudformation describe-stacks --query 'Stacks[0].Outputs'` (a list of `{OutputKey,
//! OutputValue}`), or the whole `describe-stacks` answer.

use std::collections::BTreeMap;

use serde_json::Value;

/// Every output, by key.
pub fn read(text: &str) -> Result<BTreeMap<String, String>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let outputs = value
        .pointer("/Stacks/0/Outputs")
        .unwrap_or(&value)
        .as_array()
        .ok_or("expected a list of outputs (describe-stacks --query 'Stacks[0].Outputs')")?;
    Ok(outputs
        .iter()
        .filter_map(|o| {
            let key = o.get("OutputKey").and_then(Value::as_str)?;
            let value = o.get("OutputValue").and_then(Value::as_str)?;
            Some((key.to_string(), value.to_string()))
        })
        .collect())
}
