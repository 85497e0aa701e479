//! The test kit shared by the workspace's test suites: fakes of both APIs, settings, request
//! builders, log capture, the local AWS-compatible server, and the bridge served over HTTP.
//! The root re-exports what the handler tests use; [`e2e`] is for end-to-end runs.

pub mod aws;
pub mod contract;
pub mod dialing;
pub mod e2e;
pub mod fakes;
pub mod logs;

pub use aws::*;
pub use dialing::*;
pub use fakes::*;
pub use logs::*;
