//! Speed to lead's settings and choices, free of I/O: which leads are dialled and when
//! ([`options`], [`hours`]), and in which order the agents are tried ([`choose`]). The dial job
//! itself is [`crate::handlers::ghl::speed_to_lead`].

pub mod choose;
pub mod hours;
pub mod options;
pub mod rules;
pub mod zone;

pub use options::SpeedToLeadOptions;
