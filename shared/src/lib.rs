//! The GoHighLevel ↔ CloudTalk bridge library: everything the Lambda binaries in `functions/`
//! run. Each binary's `main` is one call: [`pipeline::run`] for a webhook endpoint, or the health
//! route or the retry worker.
//!
//! The modules form layers (checked by `tests/layers.rs`: no module uses one that uses it back),
//! from the bottom up:
//! - identities, settings and the domain: [`clock`], [`environment`], [`registry`] (the one
//!   list of endpoints), [`payload`] (inbound shapes → one event per endpoint, with its own
//!   [`payload::PayloadError`]), [`signature`], [`telemetry`], [`phone`], [`company_time`] (CloudTalk's local times), [`secrets`], [`digest`], [`aws`] (the AWS SDK
//!   configuration from Lambda's variables);
//! - ports and adapters: [`store`] (the one storage error), [`contact_map`], [`state`],
//!   [`retry_queue`], [`clients`] (the CloudTalk and GoHighLevel REST clients), [`config`],
//!   [`error`] (the typed errors), [`mapping`] (pure functions from events to upstream
//!   writes), [`startup`] (what a function checks before serving), [`idempotency`],
//!   [`local_store`] (the embedded store file), [`deps`] (the wiring);
//! - the application: [`endpoint`] (what a handler is), [`resolve`] (finding or creating the
//!   contact on the other side), [`handlers`] (one per endpoint, bound to the registry),
//!   [`admission`] (who an event is for and whether it may act: one decision for every way in),
//!   [`people`] (CloudTalk agents as GHL users), [`speed_to_lead`] (what dials a new lead, and
//!   in which order the agents are tried), [`cue_card`] (what a call's cue card shows);
//! - delivery: [`pipeline`] (auth, parse once, apply once, queue or park, the one HTTP answer
//!   and log line; health) and [`worker`] (the retry queue's consumer).

pub mod admission;
pub mod arrivals;
pub mod aws;
pub mod clients;
pub mod clock;
pub mod company_time;
pub mod config;
pub mod contact_map;
pub mod cue_card;
pub mod deadline;
pub mod deps;
pub mod digest;
pub mod dynamo;
pub mod endpoint;
pub mod environment;
pub mod error;
pub mod handlers;
pub mod idempotency;
pub mod identity;
pub mod import;
pub mod local_store;
pub mod mapping;
pub mod number_index;
pub mod oauth;
pub mod payload;
pub mod people;
pub mod phone;
pub mod pipeline;
pub mod rate_limit;
pub mod reconcile;
pub mod reference;
pub mod registry;
pub mod resolve;
pub mod retry_queue;
pub mod secrets;
pub mod signature;
pub mod sms;
pub mod speed_to_lead;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tenants;
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
