//! The performance rigs: [`lambda`] measures the functions' real binaries under a local Lambda
//! Runtime API (`lambda-bench`), [`simulation`] runs a day of traffic against the sandbox on a
//! paused clock (`load-sim`), [`backfill`] times a backfill against a seeded sandbox
//! (`backfill-bench`), and [`cue_cards`] times the cue card of a call that starts
//! (`card-bench`).

pub mod backfill;
pub mod cue_cards;
pub mod lambda;
pub mod simulation;
