//! The Secrets Manager adapter (aws-sdk-secretsmanager): a secret's accepted values are its
//! `AWSCURRENT` value and, while a rotation is under way, its `AWSPENDING` value.
//!
//! Reading the pending value is what lets a rotation switch CloudFront with no failed request:
//! the rotator creates the new value as `AWSPENDING`, waits until every authorizer's cache has
//! picked it up, and only then makes CloudFront send it (see `functions/secret-rotator`).

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::get_secret_value::{
    GetSecretValueError, GetSecretValueOutput,
};

use super::aws::{SsmTimeouts, connector_failure, sdk_config};
use super::{SecretSource, SecretString, SourceError};

/// The stage of the value in use.
pub const CURRENT: &str = "AWSCURRENT";
/// The stage of a rotation's new value.
pub const PENDING: &str = "AWSPENDING";

/// Reads a secret's `AWSCURRENT` and `AWSPENDING` values with `GetSecretValue` (two calls
/// per refresh, at once) and hands them on one per line, current first.
#[derive(Debug, Clone)]
pub struct SecretsManagerSource {
    client: Client,
}

impl SecretsManagerSource {
    /// A client from the standard AWS environment (`AWS_ENDPOINT_URL` /
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER`), with the given deadlines.
    pub async fn from_env(timeouts: SsmTimeouts) -> Self {
        Self::new(Client::new(&sdk_config(timeouts).await))
    }

    /// Wraps an existing client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    async fn stage(&self, id: &str, stage: &str) -> Result<Option<Version>, SourceError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(id)
            .version_stage(stage)
            .send()
            .await;
        match output {
            Ok(output) => Version::of(output).map(Some),
            // No version holds the stage: no rotation under way.
            Err(SdkError::ServiceError(e))
                if stage == PENDING
                    && matches!(e.err(), GetSecretValueError::ResourceNotFoundException(_)) =>
            {
                Ok(None)
            }
            Err(error) => Err(classify(error)),
        }
    }
}

struct Version {
    id: Option<String>,
    value: String,
}

impl Version {
    fn of(output: GetSecretValueOutput) -> Result<Self, SourceError> {
        let value = output.secret_string.ok_or_else(|| {
            SourceError::Unavailable("the secret holds no string (a binary secret?)".into())
        })?;
        Ok(Self {
            id: output.version_id,
            value,
        })
    }
}

impl SecretSource for SecretsManagerSource {
    async fn fetch(&self, id: &str) -> Result<SecretString, SourceError> {
        let (current, pending) = tokio::join!(self.stage(id, CURRENT), self.stage(id, PENDING));
        let current = current?.ok_or(SourceError::NotFound)?;
        let mut value = current.value;
        if let Some(pending) = pending?
            && pending.id != current.id
        {
            value.push('\n');
            value.push_str(&pending.value);
        }
        Ok(SecretString::new(value))
    }
}

fn classify(error: SdkError<GetSecretValueError>) -> SourceError {
    match &error {
        SdkError::TimeoutError(_) => SourceError::Timeout,
        SdkError::DispatchFailure(e) if e.is_timeout() => SourceError::Timeout,
        SdkError::DispatchFailure(e) => connector_failure(e.as_connector_error()),
        SdkError::ServiceError(service) => match service.err() {
            GetSecretValueError::ResourceNotFoundException(_) => SourceError::NotFound,
            other => SourceError::from_code(other.code()),
        },
        SdkError::ResponseError(_) => SourceError::Unavailable("unreadable response".into()),
        _ => SourceError::Unavailable(error.to_string()),
    }
}
