//! Origin proofs: evidence that a request came through CloudFront, checked before any caller
//! credential is looked at.
//!
//! The secret proof: CloudFront adds a secret header to every origin request, and the request
//! passes when that header holds one of the secrets of an SSM parameter (one per line, so a
//! rotation is: add the new line, switch CloudFront, remove the old line). A wrong or missing
//! secret is the caller's fault (an explicit Deny); a parameter that cannot be read is a
//! dependency failure (never a cacheable answer).

mod secret_set;

use std::time::Instant;

use constant_time_eq::constant_time_eq;

use crate::config::{self, ConfigError, Env};
use crate::request::AuthorizerRequest;
use crate::secrets::{CacheConfig, CacheError, SecretCache, SecretSource};

pub use secret_set::{MAX_SECRETS, MIN_SECRET_LEN, SecretSet};

/// Default header CloudFront adds.
pub const DEFAULT_HEADER: &str = "x-origin-verify";

/// Settings of the secret proof: which parameter, which header, how long to cache.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretProofConfig {
    /// `<prefix>PARAMETER_NAME`: SSM parameter (or `/aws/reference/secretsmanager/<name>`).
    pub parameter_name: String,
    /// `<prefix>HEADER_NAME`: header CloudFront adds (default `x-origin-verify`), lower case.
    pub header_name: String,
    /// `<prefix>CACHE_TTL_SECONDS` (300), `<prefix>MAX_STALE_SECONDS` (300),
    /// `<prefix>RETRY_AFTER_ERROR_SECONDS` (5).
    pub cache: CacheConfig,
}

impl SecretProofConfig {
    /// Reads the proof's settings under `prefix` (`SECRET_` for the header-secret authorizer,
    /// `ORIGIN_SECRET_` for a caller authorizer); `None` when `<prefix>PARAMETER_NAME` is unset.
    pub fn from_env(env: &impl Env, prefix: &str) -> Result<Option<Self>, ConfigError> {
        let var = |suffix: &str| format!("{prefix}{suffix}");
        let Some(parameter_name) = env.var(&var("PARAMETER_NAME")) else {
            return Ok(None);
        };
        if !parameter_name.starts_with('/') && parameter_name.contains('/') {
            return Err(ConfigError::new(
                &var("PARAMETER_NAME"),
                "a hierarchical parameter name must start with /",
            ));
        }
        let header_name = env
            .var(&var("HEADER_NAME"))
            .unwrap_or_else(|| DEFAULT_HEADER.into())
            .to_ascii_lowercase();
        if !header_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ConfigError::new(
                &var("HEADER_NAME"),
                "must be letters, digits and '-'",
            ));
        }
        Ok(Some(Self {
            parameter_name,
            header_name,
            cache: CacheConfig {
                ttl: config::seconds_or(env, &var("CACHE_TTL_SECONDS"), 300, 1..=3600)?,
                max_stale: config::seconds_or(env, &var("MAX_STALE_SECONDS"), 300, 0..=86_400)?,
                retry_after_error: config::seconds_or(
                    env,
                    &var("RETRY_AFTER_ERROR_SECONDS"),
                    5,
                    0..=300,
                )?,
                jitter: 0.1,
            },
        }))
    }
}

/// Why the secret proof failed (the caller's fault: an explicit Deny).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofFailure {
    /// No secret header (or, for a caller authorizer, a TOKEN event, which carries none).
    MissingHeader,
    /// The header appeared with different values.
    AmbiguousHeader,
    /// The header matched no secret.
    WrongSecret,
}

impl ProofFailure {
    /// Short code for logs and metrics.
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingHeader => "origin_missing_header",
            Self::AmbiguousHeader => "origin_ambiguous_header",
            Self::WrongSecret => "origin_wrong_secret",
        }
    }
}

/// The secret proof: a cached [`SecretSet`] and the header to compare with it.
pub struct SecretProof<S> {
    cache: SecretCache<S, SecretSet>,
    header_name: String,
    token_is_secret: bool,
}

impl<S: SecretSource> SecretProof<S> {
    /// A proof reading `config.parameter_name` from `source`. With `token_is_secret` (the
    /// header-secret authorizer), a REST TOKEN event's token is the secret (the authorizer's
    /// token source is the secret header); otherwise TOKEN events carry no proof.
    pub fn new(source: S, config: &SecretProofConfig, token_is_secret: bool) -> Self {
        Self {
            cache: SecretCache::new(
                source,
                config.parameter_name.clone(),
                config.cache,
                SecretSet::parse,
            ),
            header_name: config.header_name.clone(),
            token_is_secret,
        }
    }

    /// The secret cache (its source is reachable for tests).
    pub fn cache(&self) -> &SecretCache<S, SecretSet> {
        &self.cache
    }

    /// Loads the secrets at init so the first request is answered from memory; a failure is
    /// logged once and the next request tries again.
    pub async fn prefetch(&self, now: Instant) {
        if let Err(error) = self.cache.prefetch(now).await {
            tracing::error!(%error, "origin secret prefetch failed; requests fail until a fetch succeeds");
        }
    }

    /// Checks the request: `Ok(Ok(slot))` when the header matched secret line `slot`,
    /// `Ok(Err(_))` when the caller failed the proof, `Err(_)` when the secrets are unavailable.
    pub async fn check(
        &self,
        request: &AuthorizerRequest,
        now: Instant,
    ) -> Result<Result<usize, ProofFailure>, CacheError> {
        let candidate = match request.authorization_token.as_deref() {
            Some(token) if self.token_is_secret => Some(token),
            Some(_) => None,
            None => match request.headers.get(&self.header_name) {
                Ok(value) => value,
                Err(_) => return Ok(Err(ProofFailure::AmbiguousHeader)),
            },
        };
        let Some(candidate) = candidate else {
            return Ok(Err(ProofFailure::MissingHeader));
        };
        let secrets = self.cache.get(now).await?;
        Ok(matching_slot(&secrets, candidate).ok_or(ProofFailure::WrongSecret))
    }
}

/// The line of `secrets` equal to `candidate`, compared in constant time per line and without
/// stopping at a match.
fn matching_slot(secrets: &SecretSet, candidate: &str) -> Option<usize> {
    let mut matched = None;
    for (slot, secret) in secrets.iter().enumerate() {
        if constant_time_eq(candidate.as_bytes(), secret.as_bytes()) && matched.is_none() {
            matched = Some(slot);
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MapEnv;
    use std::time::Duration;

    #[test]
    fn settings_are_read_under_the_prefix() {
        let env = MapEnv::from_pairs([
            ("ORIGIN_SECRET_PARAMETER_NAME", "/portcullis/origin"),
            ("ORIGIN_SECRET_HEADER_NAME", "X-Edge-Secret"),
            ("ORIGIN_SECRET_CACHE_TTL_SECONDS", "60"),
        ]);
        let config = SecretProofConfig::from_env(&env, "ORIGIN_SECRET_")
            .unwrap()
            .unwrap();
        assert_eq!(config.parameter_name, "/portcullis/origin");
        assert_eq!(config.header_name, "x-edge-secret");
        assert_eq!(config.cache.ttl, Duration::from_secs(60));
        assert_eq!(config.cache.max_stale, Duration::from_secs(300));
        assert_eq!(config.cache.retry_after_error, Duration::from_secs(5));
        assert_eq!(SecretProofConfig::from_env(&env, "SECRET_"), Ok(None));
    }

    #[test]
    fn bad_settings_name_the_prefixed_variable() {
        let env = MapEnv::from_pairs([
            ("ORIGIN_SECRET_PARAMETER_NAME", "a/b"),
            ("SECRET_PARAMETER_NAME", "/p"),
            ("SECRET_HEADER_NAME", "x origin"),
        ]);
        assert_eq!(
            SecretProofConfig::from_env(&env, "ORIGIN_SECRET_")
                .unwrap_err()
                .to_string(),
            "configuration error in ORIGIN_SECRET_PARAMETER_NAME: a hierarchical parameter name must start with /"
        );
        assert_eq!(
            SecretProofConfig::from_env(&env, "SECRET_")
                .unwrap_err()
                .to_string(),
            "configuration error in SECRET_HEADER_NAME: must be letters, digits and '-'"
        );
    }
}
