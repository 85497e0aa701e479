//! The GoHighLevel ↔ CloudTalk bridge library: everything the Lambda binaries in `functions/`
//! run. Each binary's `main` builds [`Deps`] and serves one endpoint from [`handlers`].
//!
//! - [`payload`]: inbound webhook shapes, normalised into one event per endpoint;
//! - [`mapping`]: pure functions from events to upstream writes;
//! - [`clients`]: the CloudTalk and GoHighLevel API clients;
//! - [`contact_map`]: the GHL ↔ CloudTalk id map (DynamoDB, in-memory);
//! - [`resolve`]: finding or creating the contact on the other side;
//! - [`webhook`]: the shared request pipeline (auth, body, answer, log line);
//! - [`config`], [`error`], [`telemetry`], [`phone`].

pub mod clients;
pub mod clock;
pub mod config;
pub mod contact_map;
pub mod deps;
pub mod endpoint;
pub mod environment;
pub mod error;
pub mod handlers;
pub mod idempotency;
pub mod local_store;
pub mod mapping;
pub mod payload;
pub mod phone;
pub mod pipeline;
pub mod registry;
pub mod resolve;
pub mod retry_queue;
pub mod secrets;
pub mod signature;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod worker;

pub use deps::{Backends, Deps};
pub use error::BridgeError;
pub use pipeline::route;
pub use registry::EndpointId;

/// The status a sample event in `events/` expects, from its file name: `unauthorized*` → 401,
/// `bad-*` → 400, `missing-*` and `invalid-*` → 422, anything else → 200.
pub fn expected_sample_status(file_stem: &str) -> u16 {
    if file_stem.starts_with("unauthorized") {
        401
    } else if file_stem.starts_with("bad-") {
        400
    } else if file_stem.starts_with("missing-") || file_stem.starts_with("invalid-") {
        422
    } else {
        200
    }
}
