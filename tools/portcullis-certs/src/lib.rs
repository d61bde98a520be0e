//! `portcullis-certs`: the certificates of the origin mTLS lock-down (issue 15). CloudFront
//! presents a client certificate (imported into ACM in us-east-1) to an API Gateway custom
//! domain that requires mutual TLS against a truststore in S3; authorizers may also pin the
//! certificate's SHA-256 (`ORIGIN_CERT_SHA256`).
//!
//! - [`issue`]: a private CA, and the client certificate it signs;
//! - [`truststore`]: the CA bundle API Gateway verifies against;
//! - [`fingerprint`]: the pin;
//! - [`files`]: PEM in, 0600 keys and no silent overwrite out;
//! - [`cli`]: the command line.

#[cfg(not(unix))]
compile_error!("portcullis-certs creates private keys with mode 0600 and needs a Unix platform");

pub mod cli;
pub mod error;
pub mod files;
pub mod fingerprint;
pub mod issue;
pub mod truststore;

pub use error::{Error, Result};
