//! Lambda `cloudtalk-recording-available`: see [`bridge::handlers::cloudtalk::RecordingAvailable`].

use bridge::handlers::cloudtalk::RecordingAvailable;
use bridge::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let deps = Deps::from_env().await?;
    bridge::webhook::serve(&deps, &RecordingAvailable).await
}
