//! The SSM Parameter Store adapter (aws-sdk-ssm), decrypting SecureStrings and resolving
//! Secrets Manager references (`/aws/reference/secretsmanager/<name>`).

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::operation::get_parameter::GetParameterError;

use super::{SecretSource, SecretString, SourceError};

/// Deadlines for SSM calls; keep their sum well inside the Lambda timeout.
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

    /// `SSM_TIMEOUT_MS`: the deadline of one SSM call, retries included (3000, 100..=30000).
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

/// Reads parameters with `GetParameter(WithDecryption=true)`.
#[derive(Debug, Clone)]
pub struct SsmSource {
    client: Client,
}

impl SsmSource {
    /// A client from the standard AWS environment (region, credentials, `AWS_ENDPOINT_URL` /
    /// `AWS_ENDPOINT_URL_SSM`), with the given deadlines.
    pub async fn from_env(timeouts: SsmTimeouts) -> Self {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(timeouts.connect)
                    .operation_attempt_timeout(timeouts.attempt)
                    .operation_timeout(timeouts.total)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(timeouts.max_attempts.max(1)))
            .load()
            .await;
        Self::new(Client::new(&config))
    }

    /// Wraps an existing client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl SecretSource for SsmSource {
    async fn fetch(&self, name: &str) -> Result<SecretString, SourceError> {
        let output = self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(classify)?;
        output
            .parameter
            .and_then(|p| p.value)
            .map(SecretString::new)
            .ok_or_else(|| SourceError::Unavailable("GetParameter returned no value".into()))
    }
}

/// The innermost cause of an error chain ("Connection refused (os error 111)").
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut e = error;
    while let Some(source) = e.source() {
        e = source;
    }
    e.to_string()
}

fn classify(error: SdkError<GetParameterError>) -> SourceError {
    match &error {
        SdkError::TimeoutError(_) => SourceError::Timeout,
        SdkError::DispatchFailure(e) if e.is_timeout() => SourceError::Timeout,
        // The connector's error chain (refused, reset, DNS, TLS…) says why; it never holds the value.
        SdkError::DispatchFailure(e) => SourceError::Unavailable(match e.as_connector_error() {
            Some(c) => format!("connection failed: {}", innermost(c)),
            None => "connection failed".into(),
        }),
        SdkError::ServiceError(service) => match service.err() {
            GetParameterError::ParameterNotFound(_) => SourceError::NotFound,
            other => match other.code() {
                Some("ThrottlingException") => SourceError::Throttled,
                Some("AccessDeniedException") | Some("AccessDenied") => SourceError::AccessDenied,
                Some(code) => SourceError::Unavailable(code.to_owned()),
                None => SourceError::Unavailable("service error".into()),
            },
        },
        SdkError::ResponseError(_) => SourceError::Unavailable("unreadable response".into()),
        _ => SourceError::Unavailable(error.to_string()),
    }
}
