//! Local tools: [`sandbox`], a stateful simulator of the CloudTalk and GoHighLevel APIs the
//! bridge uses; [`sender`], which posts the sample events to a running bridge;
//! [`runtime_api`], a local Lambda Runtime API that runs a function's real binary; [`bench`],
//! which measures the binaries under it (`lambda-bench`); [`backfill`], which links the
//! contacts a customer already has on both sides; [`tenants`], the operator's view of agency
//! mode's tenant registry; and [`redrive`], which moves parked events back to the retry queue.

pub mod backfill;
pub mod bench;
pub mod redrive;
pub mod runtime_api;
pub mod sample_key;
pub mod sandbox;
pub mod sender;
pub mod simulation;
pub mod stack_outputs;
pub mod tenants;
