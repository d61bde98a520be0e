//! What the AWS adapters share: call deadlines, the SDK configuration built from them, and
//! how a failed call is classified (never quoting a value).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

use super::SourceError;

/// Deadlines of one SSM or Secrets Manager call; keep their sum well inside the Lambda timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsmTimeouts {
    /// TCP/TLS connect deadline.
    pub connect: Duration,
    /// Deadline of one attempt.
    pub attempt: Duration,
    /// Deadline of the whole call, retries included.
    pub total: Duration,
    /// Attempts, the first included.
    pub max_attempts: u32,
}

impl Default for SsmTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_millis(1000),
            attempt: Duration::from_millis(1500),
            total: Duration::from_millis(3000),
            max_attempts: 2,
        }
    }
}

impl SsmTimeouts {
    /// Deadlines for a whole call lasting at most `total`: two attempts of half of it each,
    /// connect within the default (or `total` if shorter).
    pub fn within(total: Duration) -> Self {
        Self {
            connect: total.min(Self::default().connect),
            attempt: total / 2,
            total,
            max_attempts: 2,
        }
    }

    /// `SSM_TIMEOUT_MS`: the deadline of one SSM (or Secrets Manager) call, retries included
    /// (3000, 100..=30000).
    pub fn from_env(env: &impl crate::config::Env) -> Result<Self, crate::config::ConfigError> {
        let total_ms: u64 = crate::config::parse_or(env, "SSM_TIMEOUT_MS", 3000)?;
        if !(100..=30_000).contains(&total_ms) {
            return Err(crate::config::ConfigError::new(
                "SSM_TIMEOUT_MS",
                "must be within 100..=30000",
            ));
        }
        Ok(Self::within(Duration::from_millis(total_ms)))
    }
}

/// The SDK configuration from the standard AWS environment (region, credentials,
/// `AWS_ENDPOINT_URL[_<SERVICE>]`) with these deadlines, a standard retry and the
/// [`sdk_http_client`](super::sdk_http_client).
pub async fn sdk_config(timeouts: SsmTimeouts) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(super::sdk_http_client())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeouts.connect)
                .operation_attempt_timeout(timeouts.attempt)
                .operation_timeout(timeouts.total)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(timeouts.max_attempts.max(1)))
        .load()
        .await
}

/// "connection failed", with the innermost cause of the connector's error chain
/// ("Connection refused (os error 111)"); it never holds a value.
pub fn connection_failed<E: std::error::Error + 'static>(error: Option<&E>) -> String {
    match error {
        Some(e) => {
            let mut e: &(dyn std::error::Error + 'static) = e;
            while let Some(source) = e.source() {
                e = source;
            }
            format!("connection failed: {e}")
        }
        None => "connection failed".into(),
    }
}

/// [`connection_failed`] as a [`SourceError`].
pub fn connector_failure<E: std::error::Error + 'static>(error: Option<&E>) -> SourceError {
    SourceError::Unavailable(connection_failed(error))
}

impl SourceError {
    /// The failure an AWS error code names (not-found codes are matched by each adapter).
    pub fn from_code(code: Option<&str>) -> Self {
        match code {
            Some("ThrottlingException") => Self::Throttled,
            Some("AccessDeniedException") | Some("AccessDenied") => Self::AccessDenied,
            Some(code) => Self::Unavailable(code.to_owned()),
            None => Self::Unavailable("service error".into()),
        }
    }
}
