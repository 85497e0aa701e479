//! Lambda `oauth-callback`: serves `GET /oauth/callback`; see
//! [`bridge::pipeline::oauth_callback`].

use bridge::pipeline::oauth_callback;
use bridge::startup::Needs;
use bridge::Deps;
use lambda_http::{run, service_fn, Request};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::start(oauth_callback::FUNCTION, Needs::NONE).await?;
    run(service_fn(|req: Request| async {
        Ok::<_, std::convert::Infallible>(oauth_callback::handle(&deps, req).await)
    }))
    .await
}
