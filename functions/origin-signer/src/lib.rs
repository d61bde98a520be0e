//! Lambda@Edge origin-request signer: signs every request CloudFront sends to an API Gateway
//! origin with SigV4 (service `execute-api`) using the edge function's role, so API routes can
//! require `AWS_IAM` authorization.
//!
//! The core is pure: event JSON, credentials and the time go in, the request to forward (or a
//! generated 502) comes out. The `wasm` module (wasm32 only) exposes it to the Node.js handler in `edge/index.mjs`.

pub mod config;
pub mod edge;
pub mod error;
pub mod event;
pub mod query;
pub mod sign;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use edge::{Outcome, handle, handle_json};
pub use error::SignError;
pub use event::OriginRequestEvent;
pub use sign::Credentials;
