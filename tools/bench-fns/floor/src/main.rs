//! The floor: a `lambda_http` function that reaches the entry points the bridge uses in each of
//! its dependencies (the SDK operations, reqwest, Ed25519/RSA verification, AES-GCM, SHA-256,
//! phone parsing, JSON, tracing), so that the linker keeps them, and no logic of its own. The
//! upstream calls run only for a request carrying `x-floor-call` (never sent by lambda-bench).

use std::sync::Arc;

use aws_lc_rs::signature::{ParsedPublicKey, ED25519, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine;
use lambda_http::{run, service_fn, Body, Error, Request, RequestExt, Response};
use rustls_pki_types::pem::PemObject as _;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

#[derive(Debug, thiserror::Error)]
#[error("floor")]
struct FloorError;

#[async_trait::async_trait]
trait Port: Send + Sync {
    async fn call(&self) -> Result<(), FloorError>;
}

#[serde_with::serde_as]
#[derive(Serialize, Deserialize, Default)]
struct Payload {
    #[serde(default)]
    phone: Option<String>,
    #[serde_as(as = "serde_with::DefaultOnNull")]
    #[serde(default)]
    tags: Vec<String>,
}

struct Clients {
    dynamo: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    secrets: aws_sdk_secretsmanager::Client,
    http: reqwest::Client,
}

#[async_trait::async_trait]
impl Port for Clients {
    async fn call(&self) -> Result<(), FloorError> {
        use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
        let key = AttributeValue::S("k".into());
        let d = &self.dynamo;
        let _ = d
            .get_item()
            .table_name("t")
            .key("pk", key.clone())
            .send()
            .await;
        let _ = d
            .put_item()
            .table_name("t")
            .item("pk", key.clone())
            .send()
            .await;
        let _ = d
            .update_item()
            .table_name("t")
            .key("pk", key.clone())
            .send()
            .await;
        let _ = d
            .delete_item()
            .table_name("t")
            .key("pk", key.clone())
            .send()
            .await;
        let _ = d.query().table_name("t").send().await;
        let _ = d.scan().table_name("t").send().await;
        let _ = d.describe_table().table_name("t").send().await;
        if let Ok(update) = Update::builder()
            .table_name("t")
            .key("pk", key)
            .update_expression("SET v = :v")
            .build()
        {
            let item = TransactWriteItem::builder().update(update).build();
            let _ = d.transact_write_items().transact_items(item).send().await;
        }
        let _ = self
            .sqs
            .send_message()
            .queue_url("q")
            .message_body("{}")
            .send()
            .await;
        let _ = self.secrets.get_secret_value().secret_id("s").send().await;
        let _ = self
            .http
            .post("https://example.invalid/")
            .query(&[("a", "b")])
            .json(&Payload::default())
            .send()
            .await
            .map(|r| r.status());
        Ok(())
    }
}

const ED25519_PEM: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=
-----END PUBLIC KEY-----";

fn verify(pem: &str, rsa: bool, body: &[u8], signature: &[u8]) -> bool {
    let Ok(der) = rustls_pki_types::SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes()) else {
        return false;
    };
    let algorithm: &'static dyn aws_lc_rs::signature::VerificationAlgorithm = match rsa {
        true => &RSA_PKCS1_2048_8192_SHA256,
        false => &ED25519,
    };
    ParsedPublicKey::new(algorithm, der.as_ref())
        .is_ok_and(|k| k.verify_sig(body, signature).is_ok())
}

fn seal(data: &[u8]) -> Vec<u8> {
    use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let Ok(key) = UnboundKey::new(&AES_256_GCM, digest.as_ref()) else {
        return Vec::new();
    };
    let mut nonce = [0u8; NONCE_LEN];
    let _ = SystemRandom::new().fill(&mut nonce);
    let mut out = data.to_vec();
    let _ = LessSafeKey::new(key).seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::empty(),
        &mut out,
    );
    out
}

async fn handle(port: &dyn Port, request: Request) -> Result<Response<Body>, Error> {
    let headers = request.headers();
    let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
    let signature = header("x-signature")
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .unwrap_or_default();
    let body = request.body().as_ref();
    let signed = !signature.is_empty()
        && (verify(ED25519_PEM, false, body, &signature)
            || verify(ED25519_PEM, true, body, &signature));
    let secret = header("authorization").unwrap_or_default().as_bytes();
    let authorized = signed || bool::from(secret.ct_eq(b"Bearer floor"));
    let payload: Payload = serde_json::from_slice(body).unwrap_or_default();
    let phone = payload.phone.as_deref().and_then(|p| {
        phonenumber::parse(Some(phonenumber::country::Id::IT), p)
            .ok()
            .map(|n| n.format().mode(phonenumber::Mode::E164).to_string())
    });
    if header("x-floor-call").is_some() {
        let _ = port.call().await;
        let _ = seal(body);
    }
    tracing::info!(
        authorized,
        phone = phone.is_some(),
        tags = payload.tags.len(),
        at = %chrono::Utc::now(),
        path = %urlencoding::decode(request.raw_http_path()).unwrap_or_default(),
        "floor"
    );
    let status = if authorized { 200 } else { 401 };
    Ok(Response::builder().status(status).body(Body::from(
        serde_json::json!({ "status": status }).to_string(),
    ))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let mut config = aws_types::SdkConfig::builder().http_client(
        aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build_https(),
    );
    if let Ok(region) = std::env::var("AWS_REGION") {
        config = config.region(aws_types::region::Region::new(region));
    }
    let config = config.build();
    let clients: Arc<dyn Port> = Arc::new(Clients {
        dynamo: aws_sdk_dynamodb::Client::new(&config),
        sqs: aws_sdk_sqs::Client::new(&config),
        secrets: aws_sdk_secretsmanager::Client::new(&config),
        http: reqwest::Client::new(),
    });
    // The retry worker's event type, so `aws_lambda_events`' SQS shapes are linked too.
    let _: Option<aws_lambda_events::event::sqs::SqsEvent> =
        serde_json::from_str(&std::env::var("FLOOR_SQS").unwrap_or_default()).ok();
    run(service_fn(|r| {
        let clients = clients.clone();
        async move { handle(clients.as_ref(), r).await }
    }))
    .await
}
