//! Local tools: [`sandbox`], a stateful simulator of the CloudTalk and GoHighLevel APIs the
//! bridge uses; [`sender`], which posts the sample events to a running bridge;
//! [`runtime_api`], a local Lambda Runtime API that runs a function's real binary; [`bench`],
//! which measures the binaries under it (`lambda-bench`); and [`backfill`], which links the
//! contacts a customer already has on both sides.

pub mod backfill;
pub mod bench;
pub mod runtime_api;
pub mod sandbox;
pub mod sender;
pub mod simulation;
