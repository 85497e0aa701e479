//! Logging setup and the helpers that keep personal data out of logs.
//!
//! In Lambda (`AWS_LAMBDA_LOG_FORMAT=JSON`, set by the template's `LoggingConfig`) every line is
//! JSON; locally it is compact text. Each webhook produces exactly one `webhook` line with the
//! endpoint, ids, outcome, upstream call count and duration. Phone numbers are masked to their
//! last three digits, emails to their first letter and domain; note bodies, tokens and secrets
//! are never logged.

use std::borrow::Cow;
use std::fmt;

use serde_json::{json, Value};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// The filter when neither variable gives one.
const DEFAULT_FILTER: &str = "info,aws_config=warn,aws_smithy_runtime=warn,hyper=warn";

/// The log filter: `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL` (the template's `LoggingConfig`),
/// else [`DEFAULT_FILTER`]. A filter is a level (`debug`) and `target=level` directives,
/// separated by commas (`info,bridge=debug`). `Targets` rather than `EnvFilter`: the same
/// directives without span and field filters, and without a regular-expression engine in
/// every function.
pub fn filter() -> Targets {
    let var = |name| std::env::var(name).ok();
    filter_from([var("RUST_LOG"), var("AWS_LAMBDA_LOG_LEVEL")])
}

/// `RUST_LOG`'s directives, else the Lambda level (one of Lambda's `TRACE` … `FATAL`, only a
/// level: a word that is not one is no target), else [`DEFAULT_FILTER`].
fn filter_from([rust_log, lambda_level]: [Option<String>; 2]) -> Targets {
    let lambda_level = lambda_level.and_then(|level| {
        let level = level.trim().to_ascii_lowercase();
        let level = if level == "fatal" { "error" } else { &level };
        let level = level.parse::<tracing::level_filters::LevelFilter>().ok()?;
        Some(Targets::new().with_default(level))
    });
    rust_log
        .and_then(|text| text.parse::<Targets>().ok())
        .or(lambda_level)
        .or_else(|| DEFAULT_FILTER.parse().ok())
        .unwrap_or_default()
}

/// Installs the global subscriber once; later calls are ignored (tests call it freely).
pub fn init() {
    let filter = filter();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT")
        .map(|v| v.eq_ignore_ascii_case("json"))
        .unwrap_or(false);
    let _ = if json {
        lambda_subscriber(filter, std::io::stdout)
            .try_init()
            .map_err(|e| e.to_string())
    } else {
        tracing_subscriber::fmt()
            .with_target(false)
            .with_ansi(false)
            .compact()
            .finish()
            .with(filter)
            .try_init()
            .map_err(|e| e.to_string())
    };
}

/// The subscriber of a function in Lambda: one JSON object per line, the event's fields at the
/// top level (`message`, `endpoint`, `outcome`…, which the template's metric filters and saved
/// queries read), and the metrics a line embeds as a real `_aws` object (see [`METRICS_FIELD`]).
pub fn lambda_subscriber<W>(filter: Targets, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let format = tracing_subscriber::fmt::format()
        .json()
        .flatten_event(true)
        .without_time()
        .with_current_span(false)
        .with_target(false);
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(writer)
        .fmt_fields(JsonFields::new())
        .event_format(EmbeddedMetrics(format))
        .finish()
        .with(filter)
}

/// The field in which a log line carries its CloudWatch embedded-metric-format metadata. A
/// `tracing` field can only hold a string, so the line's formatter turns it back into the object
/// CloudWatch expects: the metrics ride on the line they describe, one line per event.
pub const METRICS_FIELD: &str = "_aws";

/// Wraps the JSON formatter so that a `_aws` field holding JSON text becomes that JSON.
struct EmbeddedMetrics<F>(F);

impl<S, N, F> FormatEvent<S, N> for EmbeddedMetrics<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        writer.write_str(&lift_metrics(&line))
    }
}

/// `{"_aws":"{\"Timestamp\":…}",…}` → `{"_aws":{"Timestamp":…},…}`; any other line as it is.
pub fn lift_metrics(line: &str) -> Cow<'_, str> {
    if !line.contains("\"_aws\":\"") {
        return Cow::Borrowed(line);
    }
    let Ok(mut value) = serde_json::from_str::<Value>(line.trim_end()) else {
        return Cow::Borrowed(line);
    };
    let Some(metadata) = value
        .get(METRICS_FIELD)
        .and_then(Value::as_str)
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
    else {
        return Cow::Borrowed(line);
    };
    value[METRICS_FIELD] = metadata;
    let newline = if line.ends_with('\n') { "\n" } else { "" };
    Cow::Owned(format!("{value}{newline}"))
}

/// Metric names and units, each the name of a numeric field of the line it rides on.
const UPSTREAM_METRICS: [(&str, &str); 4] = [
    ("cloudtalk_calls", "Count"),
    ("ghl_calls", "Count"),
    ("cloudtalk_429s", "Count"),
    ("ghl_429s", "Count"),
];

/// One embedded-metric-format directive: these metrics, under these dimension sets.
fn directive(namespace: &str, dimensions: Value, metrics: &[(&str, &str)]) -> Value {
    let metrics: Vec<Value> = metrics
        .iter()
        .map(|(name, unit)| json!({ "Name": name, "Unit": unit }))
        .collect();
    json!({ "Namespace": namespace, "Dimensions": dimensions, "Metrics": metrics })
}

fn metadata(directives: Vec<Value>) -> String {
    json!({
        "Timestamp": chrono::Utc::now().timestamp_millis(),
        "CloudWatchMetrics": directives,
    })
    .to_string()
}

/// The metrics of a `webhook` line: `duration_ms` by `endpoint` and `outcome` (its sample count
/// is the number of requests), and the calls to each upstream and their 429s, per event.
pub fn webhook_metrics(namespace: Option<&str>) -> Option<String> {
    let namespace = namespace?;
    Some(metadata(vec![
        directive(
            namespace,
            json!([["endpoint", "outcome"]]),
            &[("duration_ms", "Milliseconds")],
        ),
        directive(namespace, json!([[]]), &UPSTREAM_METRICS),
    ]))
}

/// The metrics of the worker's `retry` line: `attempt` by `endpoint` and `outcome` (its sample
/// count is the number of attempts), and the upstream calls as on a `webhook` line.
pub fn retry_metrics(namespace: Option<&str>) -> Option<String> {
    let namespace = namespace?;
    Some(metadata(vec![
        directive(
            namespace,
            json!([["endpoint", "outcome"]]),
            &[("attempt", "Count")],
        ),
        directive(namespace, json!([[]]), &UPSTREAM_METRICS),
    ]))
}

/// The metrics of a `dial_refused` line: `dial_refused` by `rule`, and `dial_refused_by_cap`
/// (1 when a cap stopped the dial, else 0) without dimensions, which the cap alarm watches.
pub fn dial_refused_metrics(namespace: Option<&str>) -> Option<String> {
    let namespace = namespace?;
    Some(metadata(vec![
        directive(namespace, json!([["rule"]]), &[("dial_refused", "Count")]),
        directive(namespace, json!([[]]), &[("dial_refused_by_cap", "Count")]),
    ]))
}

/// The metric of a `cue_card` line: `cue_card_ms`, from the call-started webhook's handler to
/// the card's answer, by `cue_card` (what became of the card; its sample count is the number of
/// calls).
pub fn cue_card_metrics(namespace: Option<&str>) -> Option<String> {
    let namespace = namespace?;
    Some(metadata(vec![directive(
        namespace,
        json!([["cue_card"]]),
        &[("cue_card_ms", "Milliseconds")],
    )]))
}

/// The metric of an `init failed` line: `init_failed` by `error` (the reported `errorType`).
pub fn init_failed_metrics(namespace: Option<&str>) -> Option<String> {
    let namespace = namespace?;
    Some(metadata(vec![directive(
        namespace,
        json!([["error"]]),
        &[("init_failed", "Count")],
    )]))
}

/// `METRICS_NAMESPACE`, when set.
pub fn metrics_namespace() -> Option<String> {
    std::env::var("METRICS_NAMESPACE")
        .ok()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
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
    let Some(namespace) = metrics_namespace() else {
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
    fn the_log_filter_takes_rust_log_then_the_lambda_level_then_the_default() {
        use tracing::Level;
        let some = |s: &str| Some(s.to_string());
        let rust_log = filter_from([some("warn,bridge=debug"), some("ERROR")]);
        assert!(rust_log.would_enable("bridge::worker", &Level::DEBUG));
        assert!(!rust_log.would_enable("hyper", &Level::INFO));
        let lambda = filter_from([None, some("ERROR")]);
        assert!(lambda.would_enable("bridge", &Level::ERROR));
        assert!(!lambda.would_enable("bridge", &Level::WARN));
        let fatal = filter_from([None, some("FATAL")]);
        assert!(fatal.would_enable("bridge", &Level::ERROR));
        assert!(!fatal.would_enable("bridge", &Level::WARN));
        for default in [filter_from([None, some("LOUD")]), filter_from([None, None])] {
            assert!(default.would_enable("bridge", &Level::INFO));
            assert!(!default.would_enable("bridge", &Level::DEBUG));
            assert!(!default.would_enable("aws_smithy_runtime::client", &Level::INFO));
        }
    }

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
