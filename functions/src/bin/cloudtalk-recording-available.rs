//! Lambda `cloudtalk-recording-available`: see [`bridge::handlers::cloudtalk::RecordingAvailable`].

use bridge::handlers::cloudtalk::RecordingAvailable;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bridge::webhook::run(&RecordingAvailable).await
}
