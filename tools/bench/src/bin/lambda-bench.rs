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

use bridge_bench::lambda::{run, table, Setup, Subject};

const SECRET: &str = "bench-webhook-secret";

/// A binary to measure: `NAME=PATH`.
fn subject(arg: &str) -> Result<Subject, String> {
    match arg.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => Ok(Subject {
            name: name.to_string(),
            path: PathBuf::from(path),
        }),
        _ => Err(format!("expected NAME=PATH, not {arg:?}")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Config {
    /// The local store file, as `cargo lambda watch` runs a function.
    Local,
    /// DynamoDB tables and SQS queues on --aws-endpoint.
    Aws,
    /// The same, with the webhook secret read from a Secrets Manager secret there.
    AwsSecret,
}

/// Starts each function binary under a local Lambda Runtime API, side by side with base
/// binaries, and prints one Markdown table per configuration (see BENCHMARKS.md).
#[derive(Debug, clap::Parser)]
#[command(name = "lambda-bench", version)]
struct Args {
    /// Starts per binary.
    #[arg(long, default_value_t = 15)]
    runs: usize,
    /// Warm invocations per start (after the cold one).
    #[arg(long, default_value_t = 200)]
    warm: usize,
    /// The event sent.
    #[arg(long, default_value = "events/ghl-new-contact/unauthorized.json")]
    event: PathBuf,
    /// A local AWS-compatible server (moto) for the aws configurations.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    aws_endpoint: Option<String>,
    /// Configurations to run (default: local, and aws, aws-secret with an endpoint).
    #[arg(long, value_enum)]
    config: Vec<Config>,
    /// Base binaries, NAME=PATH (default: the hellos and the floor crate of tools/bench-fns).
    #[arg(long, value_parser = subject)]
    base: Vec<Subject>,
    /// The function binaries, NAME=PATH.
    #[arg(value_parser = subject)]
    functions: Vec<Subject>,
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

fn fail(code: i32, message: String) -> ! {
    eprintln!("lambda-bench: {message}");
    std::process::exit(code)
}

/// The binaries to measure, bases first; each must be built.
fn subjects(args: &Args) -> Vec<Subject> {
    let mut bases = args.base.clone();
    if bases.is_empty() {
        let dir = "tools/bench-fns/target/release";
        for name in ["hello-http", "hello-runtime", "floor"] {
            bases.push(Subject {
                name: name.to_string(),
                path: PathBuf::from(format!("{dir}/{name}")),
            });
        }
    }
    let subjects: Vec<Subject> = bases.into_iter().chain(args.functions.clone()).collect();
    for s in &subjects {
        if !s.path.is_file() {
            let path = s.path.display();
            fail(
                2,
                format!("{} is not built ({path}); see BENCHMARKS.md", s.name),
            );
        }
    }
    subjects
}

fn read_event(path: &std::path::Path) -> serde_json::Value {
    std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        .unwrap_or_else(|e| fail(2, format!("{}: {e}", path.display())))
}

/// The setup of one configuration; the AWS resources are made once, on first need.
async fn setup(
    config: Config,
    args: &Args,
    store: &std::path::Path,
    aws: &mut Option<(Vec<(String, String)>, String)>,
) -> Setup {
    let mut env = pairs(&[
        ("GHL_LOCATION_ID", "loc_bench"),
        ("CLOUDTALK_API_BASE", "http://127.0.0.1:9/api"),
        ("GHL_API_BASE", "http://127.0.0.1:9"),
        ("CLOUDTALK_API_KEY_ID", "bench-key"),
        ("CLOUDTALK_API_KEY_SECRET", "bench-key-secret"),
        ("RUST_LOG", "info"),
    ]);
    if config == Config::Local {
        let store = store.display().to_string();
        env.extend(pairs(&[
            ("GHL_WEBHOOK_SECRET", SECRET),
            ("LOCAL_STORE_PATH", &store),
        ]));
        let name = "local store".into();
        return Setup {
            name,
            lambda: false,
            env,
        };
    }
    let Some(endpoint) = &args.aws_endpoint else {
        fail(2, format!("--config {config:?} needs --aws-endpoint"));
    };
    if aws.is_none() {
        let made = aws_resources(endpoint).await;
        *aws = Some(made.unwrap_or_else(|e| fail(1, format!("cannot prepare {endpoint}: {e}"))));
    }
    let (resources, arn) = aws.clone().unwrap_or_default();
    env.extend(resources);
    let name = match config {
        Config::Aws => {
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

#[tokio::main]
async fn main() {
    let args = <Args as clap::Parser>::parse();
    let subjects = subjects(&args);
    let event = read_event(&args.event);
    let configs = match (args.config.is_empty(), &args.aws_endpoint) {
        (false, _) => args.config.clone(),
        (true, Some(_)) => vec![Config::Local, Config::Aws, Config::AwsSecret],
        (true, None) => vec![Config::Local],
    };
    let store = std::env::temp_dir().join(format!("lambda-bench-{}.json", std::process::id()));
    let mut aws = None;
    println!(
        "lambda-bench: {} starts per binary, 1 cold + {} warm invocations each, event {}",
        args.runs,
        args.warm,
        args.event.display()
    );
    for config in configs {
        let setup = setup(config, &args, &store, &mut aws).await;
        match run(&subjects, &setup, &event, args.runs, args.warm).await {
            Ok(summaries) => print!("{}", table(&setup.name, &summaries)),
            Err(e) => fail(1, format!("{}: {e}", setup.name)),
        }
    }
    let _ = std::fs::remove_file(&store);
}
