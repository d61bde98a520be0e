//! The store a function was configured to read its origin secret from.

use super::{SecretSource, SecretString, SecretsManagerSource, SourceError, SsmSource};

/// SSM Parameter Store or Secrets Manager, chosen by configuration at init.
#[derive(Debug, Clone)]
pub enum AwsSource {
    /// `GetParameter`: the parameter's value.
    Ssm(SsmSource),
    /// `GetSecretValue`: the secret's current and pending values.
    SecretsManager(SecretsManagerSource),
}

impl SecretSource for AwsSource {
    async fn fetch(&self, name: &str) -> Result<SecretString, SourceError> {
        match self {
            Self::Ssm(source) => source.fetch(name).await,
            Self::SecretsManager(source) => source.fetch(name).await,
        }
    }
}
