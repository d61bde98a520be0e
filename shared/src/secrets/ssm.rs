//! The SSM Parameter Store adapter (aws-sdk-ssm), decrypting SecureStrings and resolving
//! Secrets Manager references (`/aws/reference/secretsmanager/<name>`).

use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::operation::get_parameter::GetParameterError;

use super::aws::{SsmTimeouts, connector_failure, sdk_config};
use super::{SecretSource, SecretString, SourceError};

/// Reads parameters with `GetParameter(WithDecryption=true)`.
#[derive(Debug, Clone)]
pub struct SsmSource {
    client: Client,
}

impl SsmSource {
    /// A client from the standard AWS environment (region, credentials, `AWS_ENDPOINT_URL` /
    /// `AWS_ENDPOINT_URL_SSM`), with the given deadlines.
    pub async fn from_env(timeouts: SsmTimeouts) -> Self {
        Self::new(Client::new(&sdk_config(timeouts).await))
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

fn classify(error: SdkError<GetParameterError>) -> SourceError {
    match &error {
        SdkError::TimeoutError(_) => SourceError::Timeout,
        SdkError::DispatchFailure(e) if e.is_timeout() => SourceError::Timeout,
        // The connector's error chain (refused, reset, DNS, TLS…) says why; it never holds the value.
        SdkError::DispatchFailure(e) => connector_failure(e.as_connector_error()),
        SdkError::ServiceError(service) => match service.err() {
            GetParameterError::ParameterNotFound(_) => SourceError::NotFound,
            other => SourceError::from_code(other.code()),
        },
        SdkError::ResponseError(_) => SourceError::Unavailable("unreadable response".into()),
        _ => SourceError::Unavailable(error.to_string()),
    }
}
