//! Shared core of the portcullis functions: what every function uses, nothing one alone needs.
//!
//! Data flows one way, through the front door ([`door::FrontDoor`]):
//!
//! 1. event JSON → [`request::AuthorizerRequest`], one view of every payload format;
//! 2. the origin proofs ([`origin`]: a pinned client certificate, a CloudFront secret header);
//! 3. CloudFront's viewer facts ([`viewer`]), believed only after a proof passed;
//! 4. the function's own decision ([`door::CallerCheck`], in its crate's `lib.rs`);
//! 5. a [`policy::Decision`] rendered by [`response::render`] for the format that arrived, with
//!    one error policy ([`door::Refusal`]), one log line and one metric ([`telemetry`]).
//!
//! I/O (SSM through [`secrets`], HTTP, the clock) enters only through traits with a real and an
//! in-memory adapter, so every rule is testable without a network. Settings are read once, at
//! init, through [`config`], with errors naming the variable.

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
#[cfg(feature = "aws-sdk")]
pub mod tls;
pub mod viewer;
