//! Every reason the signer refuses to forward a request. Each one ends in a generated 502.
//!
//! Messages name the cause and the setting to fix; they never contain credentials, header
//! values or request data.

/// Why a request was not signed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignError {
    /// The handler input or the event is not valid JSON of the expected shape.
    #[error("invalid origin-request event: {0}")]
    InvalidEvent(String),
    /// The origin is not a custom origin (e.g. S3), so there is no API to sign for.
    #[error("origin is not a custom origin; the signer only signs for API Gateway custom origins")]
    NotCustomOrigin,
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` missing or empty.
    #[error("AWS credentials missing: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set")]
    MissingCredentials,
    /// CloudFront truncated the body (over the include-body limit): its hash cannot be computed.
    #[error("request body truncated by CloudFront (inputTruncated); cannot sign a partial body")]
    BodyTruncated,
    /// The request has a body but the event carries none.
    #[error(
        "request has a body (content-length/transfer-encoding) but the event carries none; enable \"include body\" on the origin-request association"
    )]
    BodyNotIncluded,
    /// The body is not valid for its declared encoding.
    #[error("request body is not valid {0}")]
    InvalidBody(&'static str),
    /// The region can be derived neither from the origin domain nor from configuration.
    #[error(
        "cannot derive the region from origin domain {domain:?}: set the origin custom header x-portcullis-region"
    )]
    UnknownRegion {
        /// The origin domain name.
        domain: String,
    },
    /// A configuration header (origin custom header `x-portcullis-*`) is invalid.
    #[error("invalid configuration header {header}: {reason}")]
    InvalidConfig {
        /// The offending header name.
        header: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request cannot be expressed as a signable request (bad path or query).
    #[error("request cannot be signed: {0}")]
    Unsignable(&'static str),
    /// aws-sigv4 refused to sign.
    #[error("signing failed: {0}")]
    Signing(String),
}
