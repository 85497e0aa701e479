//! Lambda `retry-worker`: drains the retry queue (SQS); see [`bridge::worker`].

use bridge::startup::Needs;
use bridge::worker::{handle_batch, SqsEvent};
use bridge::Deps;
use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::start(bridge::worker::FUNCTION, Needs::ALL).await?;
    run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<_, std::convert::Infallible>(handle_batch(&deps, event.payload).await)
    }))
    .await
}
