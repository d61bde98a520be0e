//! Shared core of the portcullis authorizers.
//!
//! Data flows one way: event JSON → [`request`] view → rule check → [`policy`] decision
//! rendered for the payload format that arrived. I/O (SSM, HTTP, the clock) enters only
//! through traits so every rule is testable without a network.

pub mod config;
pub mod deadline;
pub mod door;
pub mod origin;
pub mod policy;
pub mod redact;
pub mod request;
pub mod response;
pub mod secrets;
pub mod telemetry;
pub mod viewer;
