//! The Secrets Manager hello, as AWS's docs write it: the SDK's default configuration, one
//! `GetSecretValue` of `BRIDGE_SECRETS_ARN` at init (when set), then 200 "hello" to every
//! request.

use lambda_http::{run, service_fn, Body, Error, Request, Response};

async fn hello(_: Request) -> Result<Response<Body>, Error> {
    Ok(Response::new(Body::from("hello")))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    if let Ok(arn) = std::env::var("BRIDGE_SECRETS_ARN") {
        let config = aws_config::load_from_env().await;
        let client = aws_sdk_secretsmanager::Client::new(&config);
        let secret = client.get_secret_value().secret_id(arn).send().await?;
        let _ = secret.secret_string();
    }
    run(service_fn(hello)).await
}
