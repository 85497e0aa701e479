//! Lambda `cloudtalk-contact-created`: see [`bridge::handlers::cloudtalk::ContactCreated`].

use bridge::handlers::cloudtalk::ContactCreated;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::webhook::run(&ContactCreated).await
}
