//! The `lambda_runtime` hello: answers every event with `{"hello": true}`.

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn hello(_: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({ "hello": true }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(hello)).await
}
