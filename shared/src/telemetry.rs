//! Logging setup and the helpers that keep personal data out of logs.
//!
//! In Lambda (`AWS_LAMBDA_LOG_FORMAT=JSON`, set by the template's `LoggingConfig`) every line is
//! JSON; locally it is compact text. Each webhook produces exactly one `webhook` line with the
//! endpoint, ids, outcome, upstream call count and duration. Phone numbers are masked to their
//! last three digits, emails to their first letter and domain; note bodies, tokens and secrets
//! are never logged.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are ignored (tests call it freely).
pub fn init() {
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL"))
        .unwrap_or_else(|_| {
            EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn,hyper=warn")
        });
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT")
        .map(|v| v.eq_ignore_ascii_case("json"))
        .unwrap_or(false);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .without_time()
            .with_current_span(false)
            .try_init()
    } else {
        builder.compact().try_init()
    };
}

/// `+393501234567` → `…567`.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(3)..].iter().collect();
    format!("…{tail}")
}

/// `mario.rossi@example.com` → `m…@example.com`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => "…".to_string(),
    }
}

/// Masks what looks like personal data inside free text (upstream error messages): runs of six
/// or more digits keep their last three, email addresses keep their first letter and domain.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_inclusive(|c: char| c.is_whitespace()) {
        let trimmed = word.trim_end();
        let trailing = &word[trimmed.len()..];
        let core = trimmed.trim_matches(|c: char| {
            matches!(
                c,
                '"' | '\'' | '(' | ')' | '[' | ']' | '{' | '}' | ',' | '.' | ';' | ':'
            )
        });
        let digits = core.chars().filter(char::is_ascii_digit).count();
        let replaced = if core.contains('@') && core.contains('.') {
            trimmed.replace(core, &mask_email(core))
        } else if digits >= 6
            && core
                .chars()
                .all(|c| c.is_ascii_digit() || "+-() ".contains(c))
        {
            trimmed.replace(core, &mask_phone(core))
        } else {
            trimmed.to_string()
        };
        out.push_str(&replaced);
        out.push_str(trailing);
    }
    out
}

/// Counts one occurrence of `name` as a CloudWatch metric, in the embedded metric format: a
/// JSON line that CloudWatch Logs turns into the metric in `METRICS_NAMESPACE` (the stack sets
/// it; the alarms watch these metrics). Nothing is written when the namespace is not set.
pub fn count_metric(name: &str) {
    let Some(namespace) = std::env::var("METRICS_NAMESPACE")
        .ok()
        .filter(|n| !n.trim().is_empty())
    else {
        return;
    };
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": chrono::Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[]],
                "Metrics": [{"Name": name, "Unit": "Count"}],
            }],
        },
    });
    line[name] = serde_json::json!(1);
    println!("{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_numbers_and_emails_in_text() {
        assert_eq!(
            redact_text("Number 393807939119 is not valid."),
            "Number …119 is not valid."
        );
        assert_eq!(
            redact_text("email: [\"mario@example.com is taken\"] id 42"),
            "email: [\"m…@example.com is taken\"] id 42"
        );
    }

    #[test]
    fn masks_keep_only_what_identifies_nobody() {
        assert_eq!(mask_phone("+393501234567"), "…567");
        assert_eq!(mask_phone("12"), "…12");
        assert_eq!(mask_email("mario.rossi@example.com"), "m…@example.com");
        assert_eq!(mask_email("nonsense"), "…");
    }
}
