//! Rotation of the CloudFront origin secret, on the Secrets Manager rotation contract, in an
//! order that fails no request:
//!
//! 1. `createSecret`: a new value becomes `AWSPENDING`. Authorizers that read the secret from
//!    Secrets Manager (`SECRET_SECRETS_MANAGER_ID`) accept `AWSCURRENT` and `AWSPENDING`, so
//!    each picks the new value up at its next cache refresh.
//! 2. `setSecret`: once `PROPAGATION_WAIT_SECONDS` have passed since the new value was created
//!    (every warm authorizer has refreshed), CloudFront's origin custom header is switched to it.
//! 3. `testSecret`: waits until CloudFront has deployed the change; a canary URL through
//!    CloudFront must not answer 401/403 (if it does, CloudFront is switched back).
//! 4. `finishSecret`: after `OLD_SECRET_GRACE_SECONDS` more, the new value becomes `AWSCURRENT`
//!    and `AWSPENDING` is cleared: authorizers stop accepting the old value at their next refresh.
//!
//! Each step is idempotent and measures its waits from durable facts (the version's creation
//! date, the distribution's status), so Secrets Manager can retry any of them. I/O enters
//! through [`Store`](store::Store), [`Cdn`](cdn::Cdn), [`Canary`](canary::Canary) and
//! [`Clock`](clock::Clock).

pub mod canary;
pub mod cdn;
pub mod clock;
pub mod config;
pub mod event;
pub mod rotation;
pub mod store;
#[cfg(test)]
mod testing;

pub use config::Settings;
pub use event::{RotationEvent, Step};
pub use rotation::{RotationError, Rotator};

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use portcullis::secrets::connection_failed;

/// A failed AWS call: the operation and the error code (or the connection failure). Never a
/// request or response body, so never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {cause}")]
pub struct AwsError {
    /// The API operation.
    pub operation: &'static str,
    /// The error code or the innermost cause.
    pub cause: String,
}

impl AwsError {
    /// An error with this cause.
    pub fn new(operation: &'static str, cause: impl Into<String>) -> Self {
        Self {
            operation,
            cause: cause.into(),
        }
    }

    /// Classifies an SDK error (any service: the SDKs share this type).
    pub fn of<E: ProvideErrorMetadata + std::error::Error + 'static, R>(
        operation: &'static str,
        error: &SdkError<E, R>,
    ) -> Self {
        let cause = match error {
            SdkError::TimeoutError(_) => "timed out".to_owned(),
            SdkError::DispatchFailure(e) if e.is_timeout() => "timed out".to_owned(),
            SdkError::DispatchFailure(e) => connection_failed(e.as_connector_error()),
            SdkError::ServiceError(e) => e.err().code().unwrap_or("service error").to_owned(),
            SdkError::ResponseError(_) => "unreadable response".to_owned(),
            _ => "request not sent".to_owned(),
        };
        Self::new(operation, cause)
    }
}
