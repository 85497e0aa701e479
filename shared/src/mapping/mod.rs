//! Pure functions from normalised events to the upstream writes they need. No I/O here.

pub mod cloudtalk_to_ghl;
pub mod ghl_to_cloudtalk;

/// The time to print in notes: the event's own timestamp, or now.
pub fn timestamp_or_now(timestamp: Option<&str>) -> String {
    timestamp
        .map(str::to_string)
        .unwrap_or_else(|| chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}
