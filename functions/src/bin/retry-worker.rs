//! Lambda `retry-worker`: drains the retry queue (SQS); see [`bridge::worker`].

use bridge::deadline::invocation_deadline;
use bridge::startup::Needs;
use bridge::worker::{handle_batch, SqsEvent};
use bridge::Deps;
use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::start(bridge::worker::FUNCTION, Needs::ALL).await?;
    let deps = &deps;
    run(service_fn(|event: LambdaEvent<SqsEvent>| async move {
        let until = invocation_deadline(event.context.deadline);
        Ok::<_, std::convert::Infallible>(handle_batch(deps, event.payload, until).await)
    }))
    .await
}
