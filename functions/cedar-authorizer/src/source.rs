//! Where policies come from: a Verified Permissions policy store, or files. Each delivers one
//! [`Snapshot`] as JSON through the shared [`SecretSource`] trait, so the policy set gets the
//! secret cache's TTL, single-flight refresh, keep-last-good and stale bound unchanged.

use aws_sdk_verifiedpermissions::Client;
use aws_sdk_verifiedpermissions::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_verifiedpermissions::types::{BatchGetPolicyInputItem, PolicyDefinitionDetail};
use portcullis::secrets::{
    SecretSource, SecretString, SourceError, SsmTimeouts, connector_failure, sdk_config,
};

use crate::bundle::{PolicyText, Snapshot};

/// `BatchGetPolicy` takes at most this many policies per call.
pub const BATCH: usize = 100;

/// Reads a policy store: `ListPolicies` (every page), `BatchGetPolicy` in batches of
/// [`BATCH`], `GetSchema`. The name passed to `fetch` is the policy store id.
#[derive(Debug, Clone)]
pub struct VerifiedPermissionsSource {
    client: Client,
}

impl VerifiedPermissionsSource {
    /// A client from the standard AWS environment (`AWS_ENDPOINT_URL` /
    /// `AWS_ENDPOINT_URL_VERIFIEDPERMISSIONS`), with the given deadlines per call.
    pub async fn from_env(timeouts: SsmTimeouts) -> Self {
        Self::new(Client::new(&sdk_config(timeouts).await))
    }

    /// Wraps an existing client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    async fn policy_ids(&self, store: &str) -> Result<Vec<String>, SourceError> {
        let mut ids = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .client
                .list_policies()
                .policy_store_id(store)
                .max_results(50)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(classify)?;
            ids.extend(page.policies().iter().map(|p| p.policy_id().to_owned()));
            match page.next_token() {
                Some(token) if !token.is_empty() => next = Some(token.to_owned()),
                _ => return Ok(ids),
            }
        }
    }

    async fn statements(
        &self,
        store: &str,
        ids: &[String],
    ) -> Result<Vec<PolicyText>, SourceError> {
        let mut out = Vec::with_capacity(ids.len());
        for batch in ids.chunks(BATCH) {
            let requests = batch
                .iter()
                .map(|id| {
                    BatchGetPolicyInputItem::builder()
                        .policy_store_id(store)
                        .policy_id(id)
                        .build()
                        .map_err(|e| SourceError::Unavailable(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .batch_get_policy()
                .set_requests(Some(requests))
                .send()
                .await
                .map_err(classify)?;
            // A policy listed a moment ago and now gone (or unreadable) makes the snapshot
            // incomplete: a missing forbid would open routes, so the whole refresh fails.
            if let Some(error) = output.errors().first() {
                return Err(SourceError::Unavailable(format!(
                    "BatchGetPolicy could not read policy {}: {}",
                    error.policy_id(),
                    error.code().as_str()
                )));
            }
            for item in output.results() {
                let statement = match item.definition() {
                    Some(PolicyDefinitionDetail::Static(s)) => s.statement().to_owned(),
                    _ => {
                        return Err(SourceError::Unavailable(format!(
                            "policy {} is template-linked; only static policies are supported",
                            item.policy_id()
                        )));
                    }
                };
                out.push(PolicyText {
                    id: item.policy_id().to_owned(),
                    statement,
                });
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }
}

impl SecretSource for VerifiedPermissionsSource {
    async fn fetch(&self, store: &str) -> Result<SecretString, SourceError> {
        let schema = async {
            let output = self
                .client
                .get_schema()
                .policy_store_id(store)
                .send()
                .await
                .map_err(classify)?;
            Ok::<_, SourceError>(output.schema().to_owned())
        };
        let policies = async {
            let ids = self.policy_ids(store).await?;
            self.statements(store, &ids).await
        };
        let (schema, policies) = tokio::try_join!(schema, policies)?;
        snapshot_json(Snapshot { schema, policies })
    }
}

/// Reads a policy file and a schema file (Cedar text or JSON). The name passed to `fetch` is
/// ignored; each refresh reads both files again.
#[derive(Debug, Clone)]
pub struct FileSource {
    policy_file: String,
    schema_file: String,
}

impl FileSource {
    /// Policies from `policy_file`, the schema from `schema_file`.
    pub fn new(policy_file: impl Into<String>, schema_file: impl Into<String>) -> Self {
        Self {
            policy_file: policy_file.into(),
            schema_file: schema_file.into(),
        }
    }
}

impl SecretSource for FileSource {
    async fn fetch(&self, _name: &str) -> Result<SecretString, SourceError> {
        let read = |path: &str| {
            std::fs::read_to_string(path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => SourceError::NotFound,
                _ => SourceError::Unavailable(format!("{path}: {e}")),
            })
        };
        let name = std::path::Path::new(&self.policy_file)
            .file_name()
            .map_or_else(|| self.policy_file.clone(), |n| n.to_string_lossy().into());
        snapshot_json(Snapshot {
            schema: read(&self.schema_file)?,
            policies: vec![PolicyText {
                id: name,
                statement: read(&self.policy_file)?,
            }],
        })
    }
}

fn snapshot_json(snapshot: Snapshot) -> Result<SecretString, SourceError> {
    serde_json::to_string(&snapshot)
        .map(SecretString::new)
        .map_err(|e| SourceError::Unavailable(e.to_string()))
}

/// Any Verified Permissions call's failure as a [`SourceError`].
fn classify<E, R>(error: SdkError<E, R>) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &error {
        SdkError::TimeoutError(_) => SourceError::Timeout,
        SdkError::DispatchFailure(e) if e.is_timeout() => SourceError::Timeout,
        SdkError::DispatchFailure(e) => connector_failure(e.as_connector_error()),
        SdkError::ServiceError(service) => match service.err().code() {
            Some("ResourceNotFoundException") => SourceError::NotFound,
            code => SourceError::from_code(code),
        },
        SdkError::ResponseError(_) => SourceError::Unavailable("unreadable response".into()),
        _ => SourceError::Unavailable(error.to_string()),
    }
}
