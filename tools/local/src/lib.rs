//! The developer's local world: [`sandbox`], a stateful simulator of the CloudTalk and
//! GoHighLevel APIs the bridge uses, with its console; and [`runtime_api`], a local Lambda
//! Runtime API that runs a function's real binary.

pub mod runtime_api;
pub mod sandbox;
