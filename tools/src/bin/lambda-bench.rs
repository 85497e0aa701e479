//! `lambda-bench [--runs N] [--warm N] [--event FILE] [--aws-endpoint URL] [--config NAME]...
//!               [--base NAME=PATH]... [NAME=PATH]...`
//!
//! Starts each function binary (`bootstrap`) under a local Lambda Runtime API, side by side
//! with the base binaries (by default the `lambda_http` and `lambda_runtime` hellos and the
//! floor crate of `tools/bench-fns`, built with the same release profile), interleaved, and
//! prints one Markdown table per configuration with ratios to the first base binary:
//! - `local`: the local store file (the Runtime API under `/.rt`, as `cargo lambda watch` serves
//!   it, so the function runs as a local one);
//! - `aws`: DynamoDB tables and SQS queues on `--aws-endpoint` (a moto server);
//! - `aws-secret`: the same, with the webhook secret read from a Secrets Manager secret there.
//!
//! Without `--aws-endpoint` (or `AWS_ENDPOINT_URL`) only `local` runs. The event (default: a
//! GHL new-contact webhook with a wrong secret, refused with 401 before any store or upstream
//! call) is sent once cold and `--warm` times warm per start. See BENCHMARKS.md.

use std::path::PathBuf;

use bridge_tools::bench::{run, table, Setup, Subject};

const SECRET: &str = "bench-webhook-secret";

fn usage() -> ! {
    eprintln!(
        "usage: lambda-bench [--runs N] [--warm N] [--event FILE] [--aws-endpoint URL] \
         [--config local|aws|aws-secret]... [--base NAME=PATH]... [NAME=PATH]..."
    );
    std::process::exit(2)
}

fn subject(arg: &str) -> Subject {
    match arg.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => Subject {
            name: name.to_string(),
            path: PathBuf::from(path),
        },
        _ => usage(),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Two tables, two queues and the secret on the local AWS-compatible server.
async fn aws_resources(endpoint: &str) -> Result<(Vec<(String, String)>, String), String> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let config = bridge::aws::sdk_config(|k| match k {
        "AWS_ENDPOINT_URL" => Some(endpoint.to_string()),
        "AWS_REGION" => Some("us-east-1".into()),
        "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("test".into()),
        _ => None,
    });
    let suffix = std::process::id();
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    let mut env = Vec::new();
    for (var, name) in [("CONTACT_MAP_TABLE", "contacts"), ("STATE_TABLE", "state")] {
        let table = format!("bench-{name}-{suffix}");
        let attribute = AttributeDefinition::builder()
            .attribute_name("pk")
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| e.to_string())?;
        let key = KeySchemaElement::builder()
            .attribute_name("pk")
            .key_type(KeyType::Hash)
            .build()
            .map_err(|e| e.to_string())?;
        dynamo
            .create_table()
            .table_name(&table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute)
            .key_schema(key)
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string())?;
        env.push((var.to_string(), table));
    }
    let sqs = aws_sdk_sqs::Client::new(&config);
    for (var, name) in [
        ("RETRY_QUEUE_URL", "retry"),
        ("DEAD_LETTER_QUEUE_URL", "dlq"),
    ] {
        let queue = sqs
            .create_queue()
            .queue_name(format!("bench-{name}-{suffix}"))
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())?;
        env.push((
            var.to_string(),
            queue.queue_url().unwrap_or_default().into(),
        ));
    }
    let secret = aws_sdk_secretsmanager::Client::new(&config)
        .create_secret()
        .name(format!("bench-secrets-{suffix}"))
        .secret_string(serde_json::json!({ "GHL_WEBHOOK_SECRET": SECRET }).to_string())
        .send()
        .await
        .map_err(|e| aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string())?;
    let arn = secret.arn().unwrap_or_default().to_string();
    env.extend(pairs(&[
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]));
    Ok((env, arn))
}

#[tokio::main]
async fn main() {
    let mut runs = 15usize;
    let mut warm = 200usize;
    let mut event_path = PathBuf::from("events/ghl-new-contact/unauthorized.json");
    let mut endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.is_empty());
    let mut configs: Vec<String> = Vec::new();
    let mut bases: Vec<Subject> = Vec::new();
    let mut functions: Vec<Subject> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--runs" => runs = value().parse().unwrap_or_else(|_| usage()),
            "--warm" => warm = value().parse().unwrap_or_else(|_| usage()),
            "--event" => event_path = PathBuf::from(value()),
            "--aws-endpoint" => endpoint = Some(value()),
            "--config" => configs.push(value()),
            "--base" => bases.push(subject(&value())),
            "-h" | "--help" => usage(),
            other if other.starts_with('-') => usage(),
            other => functions.push(subject(other)),
        }
    }
    if bases.is_empty() {
        let dir = "tools/bench-fns/target/release";
        for name in ["hello-http", "hello-runtime", "floor"] {
            bases.push(Subject {
                name: name.to_string(),
                path: PathBuf::from(format!("{dir}/{name}")),
            });
        }
    }
    let subjects: Vec<Subject> = bases.into_iter().chain(functions).collect();
    for s in &subjects {
        if !s.path.is_file() {
            eprintln!(
                "lambda-bench: {} is not built ({}); see BENCHMARKS.md",
                s.name,
                s.path.display()
            );
            std::process::exit(2);
        }
    }
    let event: serde_json::Value = match std::fs::read_to_string(&event_path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("lambda-bench: {}: {e}", event_path.display());
            std::process::exit(2);
        }
    };
    if configs.is_empty() {
        configs = match endpoint {
            Some(_) => vec!["local".into(), "aws".into(), "aws-secret".into()],
            None => vec!["local".into()],
        };
    }
    let common = pairs(&[
        ("GHL_LOCATION_ID", "loc_bench"),
        ("CLOUDTALK_API_BASE", "http://127.0.0.1:9/api"),
        ("GHL_API_BASE", "http://127.0.0.1:9"),
        ("CLOUDTALK_API_KEY_ID", "bench-key"),
        ("CLOUDTALK_API_KEY_SECRET", "bench-key-secret"),
        ("RUST_LOG", "info"),
    ]);
    let store = std::env::temp_dir().join(format!("lambda-bench-{}.json", std::process::id()));
    let mut aws: Option<(Vec<(String, String)>, String)> = None;
    println!(
        "lambda-bench: {runs} starts per binary, 1 cold + {warm} warm invocations each, event {}",
        event_path.display()
    );
    for config in &configs {
        let setup = match config.as_str() {
            "local" => {
                let mut env = common.clone();
                env.extend(pairs(&[
                    ("GHL_WEBHOOK_SECRET", SECRET),
                    ("LOCAL_STORE_PATH", &store.display().to_string()),
                ]));
                Setup {
                    name: "local store".into(),
                    lambda: false,
                    env,
                }
            }
            "aws" | "aws-secret" => {
                let Some(endpoint) = &endpoint else {
                    eprintln!("lambda-bench: --config {config} needs --aws-endpoint");
                    std::process::exit(2);
                };
                if aws.is_none() {
                    match aws_resources(endpoint).await {
                        Ok(made) => aws = Some(made),
                        Err(e) => {
                            eprintln!("lambda-bench: cannot prepare {endpoint}: {e}");
                            std::process::exit(1);
                        }
                    }
                }
                let (resources, arn) = aws.clone().unwrap_or_default();
                let mut env = common.clone();
                env.extend(resources);
                let name = match config.as_str() {
                    "aws" => {
                        env.push(("GHL_WEBHOOK_SECRET".into(), SECRET.into()));
                        "DynamoDB + SQS"
                    }
                    _ => {
                        env.push(("BRIDGE_SECRETS_ARN".into(), arn));
                        "DynamoDB + SQS + Secrets Manager secret"
                    }
                };
                Setup {
                    name: name.into(),
                    lambda: true,
                    env,
                }
            }
            _ => usage(),
        };
        match run(&subjects, &setup, &event, runs, warm).await {
            Ok(summaries) => print!("{}", table(&setup.name, &summaries)),
            Err(e) => {
                eprintln!("lambda-bench: {}: {e}", setup.name);
                std::process::exit(1);
            }
        }
    }
    let _ = std::fs::remove_file(&store);
}
