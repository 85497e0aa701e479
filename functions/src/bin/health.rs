//! Lambda `health`: serves `GET /health`, `/api/ghl-webhooks/test` and
//! `/api/cloudtalk-webhooks/test`; see [`bridge::pipeline::health`].

use bridge::pipeline::health;
use bridge::startup::Needs;
use bridge::Deps;
use lambda_http::{run, service_fn, Request};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::start(bridge::registry::HEALTH_FUNCTION, Needs::ALL).await?;
    run(service_fn(|req: Request| async {
        Ok::<_, std::convert::Infallible>(health::handle(&deps, req).await)
    }))
    .await
}
