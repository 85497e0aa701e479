//! Log output captured in memory, to check what a request logged.

use std::sync::Arc;

use serde_json::Value;

/// Log output captured in memory: `let (_guard, logs) = capture_logs();` then `logs.lines()`.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    /// Every JSON log line written so far.
    pub fn lines(&self) -> Vec<Value> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Everything written so far, as one text (to check what must never be logged).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }

    /// The `webhook` lines (one per request).
    pub fn webhook_lines(&self) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["fields"]["message"] == "webhook")
            .collect()
    }
}

/// Captures this thread's log output as JSON until the guard is dropped.
pub fn capture_logs() -> (tracing::subscriber::DefaultGuard, Captured) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(captured.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    // Callsites first seen by another thread's (or no) subscriber keep a cached interest.
    tracing::callsite::rebuild_interest_cache();
    (guard, captured)
}

/// Captures this thread's log output as the functions write it in Lambda (fields at the top
/// level, embedded metrics as a `_aws` object), until the guard is dropped.
pub fn capture_lambda_logs() -> (tracing::subscriber::DefaultGuard, Captured) {
    let captured = Captured::default();
    let subscriber = bridge::telemetry::lambda_subscriber(
        "info".parse().expect("a level is a filter"),
        captured.clone(),
    );
    let guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    (guard, captured)
}
