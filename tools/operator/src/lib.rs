//! The operator's command, `bridge`: [`tenants`] (agency mode's registry), [`backfill`] (links
//! the contacts a customer already has on both sides), [`redrive`] (parked events back to the
//! retry queue), [`sender`] (posts event files to a bridge), [`status`] and [`doctor`] (read-only
//! checks, and each sender's setup from [`sender_setup`]), for a deployment found by its
//! CloudFormation stack ([`stack`]) or the local run's store and queues.

pub mod backfill;
pub mod cli;
pub mod doctor;
pub mod redrive;
pub mod sample_key;
pub mod sender;
pub mod sender_setup;
pub mod stack;
pub mod status;
pub mod tenants;
