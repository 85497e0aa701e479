//! Lambda `reconcile`: on its schedule, applies what the webhooks missed; see
//! [`bridge::reconcile`].

use bridge::startup::Needs;
use bridge::Deps;
use lambda_http::lambda_runtime::{run, service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::start(bridge::reconcile::FUNCTION, Needs::ALL).await?;
    let deps = &deps;
    run(service_fn(
        |event: LambdaEvent<bridge::reconcile::ScheduledEvent>| async move {
            let deadline = Some(event.context.deadline);
            bridge::reconcile::handle(deps, event.payload, deadline).await
        },
    ))
    .await
}
