//! The secret's versions in Secrets Manager: what the rotation reads and moves.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::SystemTime;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use portcullis::secrets::SecretString;

use crate::AwsError;

/// The stage of the value in use.
pub const CURRENT: &str = "AWSCURRENT";
/// The stage of a rotation's new value.
pub const PENDING: &str = "AWSPENDING";

/// Version id → its stages.
pub type Versions = BTreeMap<String, Vec<String>>;

/// A version's value and when it was created.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The value.
    pub value: SecretString,
    /// `CreatedDate`.
    pub created: SystemTime,
}

/// Secrets Manager, as the rotation uses it.
pub trait Store: Send + Sync {
    /// `DescribeSecret`: every version and its stages.
    fn versions(&self, id: &str) -> impl Future<Output = Result<Versions, AwsError>> + Send;
    /// `GetSecretValue(VersionId)`; `None` when the version holds no value.
    fn value(
        &self,
        id: &str,
        version: &str,
    ) -> impl Future<Output = Result<Option<Stored>, AwsError>> + Send;
    /// `GetRandomPassword`: a new value.
    fn generate(&self) -> impl Future<Output = Result<SecretString, AwsError>> + Send;
    /// `PutSecretValue(ClientRequestToken = version, stages [AWSPENDING])`.
    fn put_pending(
        &self,
        id: &str,
        version: &str,
        value: &SecretString,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// `UpdateSecretVersionStage`: moves `stage` to `to` (if any) from `from` (if any).
    fn move_stage(
        &self,
        id: &str,
        stage: &str,
        to: Option<&str>,
        from: Option<&str>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// Length of a generated value: 48 letters and digits (285 bits).
pub const VALUE_LENGTH: i64 = 48;

/// The real adapter (aws-sdk-secretsmanager).
#[derive(Debug, Clone)]
pub struct SecretsManagerStore(Client);

impl SecretsManagerStore {
    /// Wraps a client.
    pub fn new(client: Client) -> Self {
        Self(client)
    }
}

fn aws<E: ProvideErrorMetadata + std::error::Error + 'static, R>(
    operation: &'static str,
) -> impl FnOnce(SdkError<E, R>) -> AwsError {
    move |error| AwsError::of(operation, &error)
}

impl Store for SecretsManagerStore {
    async fn versions(&self, id: &str) -> Result<Versions, AwsError> {
        let output = self
            .0
            .describe_secret()
            .secret_id(id)
            .send()
            .await
            .map_err(aws("DescribeSecret"))?;
        Ok(output
            .version_ids_to_stages
            .unwrap_or_default()
            .into_iter()
            .collect())
    }

    async fn value(&self, id: &str, version: &str) -> Result<Option<Stored>, AwsError> {
        let result = self
            .0
            .get_secret_value()
            .secret_id(id)
            .version_id(version)
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(error) if error.code() == Some("ResourceNotFoundException") => return Ok(None),
            Err(error) => return Err(AwsError::of("GetSecretValue", &error)),
        };
        let value = output.secret_string.ok_or_else(|| {
            AwsError::new(
                "GetSecretValue",
                "the version holds no string (a binary secret?)",
            )
        })?;
        let created = output
            .created_date
            .and_then(|d| SystemTime::try_from(d).ok())
            .ok_or_else(|| AwsError::new("GetSecretValue", "no CreatedDate"))?;
        Ok(Some(Stored {
            value: SecretString::new(value),
            created,
        }))
    }

    async fn generate(&self) -> Result<SecretString, AwsError> {
        let output = self
            .0
            .get_random_password()
            .password_length(VALUE_LENGTH)
            .exclude_punctuation(true)
            .include_space(false)
            .require_each_included_type(true)
            .send()
            .await
            .map_err(aws("GetRandomPassword"))?;
        output
            .random_password
            .map(SecretString::new)
            .ok_or_else(|| AwsError::new("GetRandomPassword", "no password returned"))
    }

    async fn put_pending(
        &self,
        id: &str,
        version: &str,
        value: &SecretString,
    ) -> Result<(), AwsError> {
        self.0
            .put_secret_value()
            .secret_id(id)
            .client_request_token(version)
            .secret_string(value.expose())
            .version_stages(PENDING)
            .send()
            .await
            .map(drop)
            .map_err(aws("PutSecretValue"))
    }

    async fn move_stage(
        &self,
        id: &str,
        stage: &str,
        to: Option<&str>,
        from: Option<&str>,
    ) -> Result<(), AwsError> {
        self.0
            .update_secret_version_stage()
            .secret_id(id)
            .version_stage(stage)
            .set_move_to_version_id(to.map(str::to_owned))
            .set_remove_from_version_id(from.map(str::to_owned))
            .send()
            .await
            .map(drop)
            .map_err(aws("UpdateSecretVersionStage"))
    }
}
