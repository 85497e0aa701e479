//! Local tools: [`sandbox`], a stateful simulator of the CloudTalk and GoHighLevel APIs the
//! bridge uses, and [`sender`], which posts the sample events to a running bridge.

pub mod sandbox;
pub mod sender;
