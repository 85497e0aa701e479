//! The performance rigs: [`lambda`] measures the functions' real binaries under a local Lambda
//! Runtime API (`lambda-bench`), [`simulation`] runs a day of traffic against the sandbox on a
//! paused clock (`load-sim`), and [`backfill`] times a backfill against a seeded sandbox
//! (`backfill-bench`).

pub mod backfill;
pub mod lambda;
pub mod simulation;
