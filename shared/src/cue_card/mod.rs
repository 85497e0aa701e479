//! Cue cards: the GHL record in front of the agent while the call rings. On a call that starts,
//! the call-started handler (`handlers/cloudtalk/cue_card.rs`) finds the caller's GHL contact,
//! reads what the agent should know, and posts one card for the call's `call_uuid` to
//! CloudTalk's platform API ([`crate::clients::cloudtalk_platform`]) before it writes the
//! call-started note.
//!
//! This module holds what does not need the wiring: which fields a card shows ([`options`]),
//! its HTML with every GHL text escaped ([`content`]), and what a container remembers between
//! calls ([`cache`]).

pub mod cache;
pub mod content;
pub mod options;

pub use cache::Cache;
pub use content::{Known, OpenOpportunity};
pub use options::{CueCardOptions, Field};
