//! Local tools: [`sandbox`], a stateful simulator of the CloudTalk and GoHighLevel APIs the
//! bridge uses; [`sender`], which posts the sample events to a running bridge; and
//! [`runtime_api`], a local Lambda Runtime API that runs a function's real binary.

pub mod runtime_api;
pub mod sandbox;
pub mod sender;
pub mod simulation;
