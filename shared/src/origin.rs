//! Origin proofs: evidence that a request came through CloudFront, checked before any caller
//! credential is looked at.
//!
//! The secret proof: CloudFront adds a secret header to every origin request, and the request
//! passes when that header holds one of the secrets of an SSM parameter (one per line, so a
//! rotation is: add the new line, switch CloudFront, remove the old line). A wrong or missing
//! secret is the caller's fault (an explicit Deny); a parameter that cannot be read is a
//! dependency failure (never a cacheable answer).
//!
//! The certificate proof: CloudFront presents a client certificate to an API Gateway custom
//! domain that requires mutual TLS, and API Gateway passes it to the authorizer; the request
//! passes when the SHA-256 of that certificate (computed here from its PEM) is pinned and the
//! certificate is within its validity. No shared secret, nothing to read at run time.

mod secret_set;

use std::time::{Instant, SystemTime};

use constant_time_eq::constant_time_eq;

use crate::config::{self, ConfigError, Env};
use crate::request::{AuthorizerRequest, normalize_fingerprint};
use crate::secrets::{CacheConfig, CacheError, SecretCache, SecretSource, Served};

pub use secret_set::{MAX_SECRETS, MIN_SECRET_LEN, SecretSet};

/// Default header CloudFront adds.
pub const DEFAULT_HEADER: &str = "x-origin-verify";

/// Where the origin secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretLocation {
    /// `<prefix>PARAMETER_NAME`: an SSM parameter (or `/aws/reference/secretsmanager/<name>`),
    /// one secret per line.
    Parameter(String),
    /// `<prefix>SECRETS_MANAGER_ID`: a Secrets Manager secret (name or ARN) whose `AWSCURRENT`
    /// and `AWSPENDING` values are accepted — what `secret-rotator` needs.
    SecretsManager(String),
}

impl SecretLocation {
    /// The parameter name or secret id.
    pub fn name(&self) -> &str {
        match self {
            Self::Parameter(name) | Self::SecretsManager(name) => name,
        }
    }

    /// The source to read it with: `ssm` for a parameter, a Secrets Manager client (with
    /// `timeouts`) for a secret.
    #[cfg(all(feature = "ssm", feature = "secretsmanager"))]
    pub async fn source(
        &self,
        ssm: crate::secrets::SsmSource,
        timeouts: crate::secrets::SsmTimeouts,
    ) -> crate::secrets::AwsSource {
        use crate::secrets::{AwsSource, SecretsManagerSource};
        match self {
            Self::Parameter(_) => AwsSource::Ssm(ssm),
            Self::SecretsManager(_) => {
                AwsSource::SecretsManager(SecretsManagerSource::from_env(timeouts).await)
            }
        }
    }
}

/// Settings of the secret proof: where the secrets are, which header, how long to cache.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretProofConfig {
    /// Where the accepted secrets are read.
    pub location: SecretLocation,
    /// `<prefix>HEADER_NAME`: header CloudFront adds (default `x-origin-verify`), lower case.
    pub header_name: String,
    /// `<prefix>CACHE_TTL_SECONDS` (300), `<prefix>MAX_STALE_SECONDS` (300),
    /// `<prefix>RETRY_AFTER_ERROR_SECONDS` (5).
    pub cache: CacheConfig,
}

impl SecretProofConfig {
    /// Reads the proof's settings under `prefix` (`SECRET_` for the header-secret authorizer,
    /// `ORIGIN_SECRET_` for a caller authorizer); `None` when neither `<prefix>PARAMETER_NAME`
    /// nor `<prefix>SECRETS_MANAGER_ID` is set, an error when both are.
    pub fn from_env(env: &impl Env, prefix: &str) -> Result<Option<Self>, ConfigError> {
        let var = |suffix: &str| format!("{prefix}{suffix}");
        let location = match (
            env.var(&var("PARAMETER_NAME")),
            env.var(&var("SECRETS_MANAGER_ID")),
        ) {
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    &var("SECRETS_MANAGER_ID"),
                    format!("set it or {}, not both", var("PARAMETER_NAME")),
                ));
            }
            (Some(name), None) => {
                if !name.starts_with('/') && name.contains('/') {
                    return Err(ConfigError::new(
                        &var("PARAMETER_NAME"),
                        "a hierarchical parameter name must start with /",
                    ));
                }
                SecretLocation::Parameter(name)
            }
            (None, Some(id)) if id.trim().is_empty() => {
                return Err(ConfigError::new(&var("SECRETS_MANAGER_ID"), "is empty"));
            }
            (None, Some(id)) => SecretLocation::SecretsManager(id),
        };
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
            location,
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
    /// A proof reading `config.location` from `source`. With `token_is_secret` (the
    /// header-secret authorizer), a REST TOKEN event's token is the secret (the authorizer's
    /// token source is the secret header); otherwise TOKEN events carry no proof.
    pub fn new(source: S, config: &SecretProofConfig, token_is_secret: bool) -> Self {
        Self {
            cache: SecretCache::new(
                source,
                config.location.name(),
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
    /// `Ok(Err(_))` when the caller failed the proof, `Err(_)` when the secrets are unavailable
    /// (or only a stale copy is at hand and the value is not in it).
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
        let (secrets, served) = self.cache.get_served(now).await?;
        match (matching_slot(&secrets, candidate), served) {
            (Some(slot), _) => Ok(Ok(slot)),
            (None, Served::Fresh) => Ok(Err(ProofFailure::WrongSecret)),
            // SSM is failing and the copy is stale: the value may be the new secret of a
            // rotation. A Deny here would be cached for every CloudFront request.
            (None, Served::Stale) => Err(CacheError::StaleMiss {
                name: self.cache.name().to_owned(),
            }),
        }
    }
}

/// `ORIGIN_CERT_SHA256`: the pinned SHA-256 fingerprints of CloudFront's client certificate
/// (comma-separated, so a rotation pins the old and the new one).
pub const CERT_PINS_VAR: &str = "ORIGIN_CERT_SHA256";

/// Why the certificate proof failed (an explicit Deny).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertFailure {
    /// No client certificate: the request did not come over the mutual-TLS custom domain.
    Missing,
    /// No PEM, a PEM without a base64 `CERTIFICATE` block, or a validity API Gateway did not
    /// state. (The DER is not parsed: API Gateway's mutual TLS verified the certificate against
    /// the truststore; the pin compares its bytes.)
    Malformed,
    /// Before `notBefore`.
    NotYetValid,
    /// After `notAfter`.
    Expired,
    /// A valid certificate whose fingerprint is not pinned.
    Unpinned,
}

impl CertFailure {
    /// Short code for logs and metrics.
    pub fn code(self) -> &'static str {
        match self {
            Self::Missing => "origin_cert_missing",
            Self::Malformed => "origin_cert_malformed",
            Self::NotYetValid => "origin_cert_not_yet_valid",
            Self::Expired => "origin_cert_expired",
            Self::Unpinned => "origin_cert_unpinned",
        }
    }
}

/// The certificate proof: the pinned fingerprints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPins(Vec<String>);

impl CertPins {
    /// Reads [`CERT_PINS_VAR`]; `None` when unset. Each entry must be 64 hex digits (`:`
    /// separators and case ignored).
    pub fn from_env(env: &impl Env) -> Result<Option<Self>, ConfigError> {
        let entries = config::list(env, CERT_PINS_VAR);
        if entries.is_empty() {
            return Ok(None);
        }
        let mut pins = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let pin = normalize_fingerprint(entry).ok_or_else(|| {
                ConfigError::new(
                    CERT_PINS_VAR,
                    format!(
                        "entry {} is not a SHA-256 fingerprint (64 hex digits)",
                        i + 1
                    ),
                )
            })?;
            pins.push(pin);
        }
        Ok(Some(Self(pins)))
    }

    /// Checks the client certificate API Gateway passed (never one from a header) at `now`.
    pub fn check(&self, request: &AuthorizerRequest, now: SystemTime) -> Result<(), CertFailure> {
        let cert = request.client_cert.as_ref().ok_or(CertFailure::Missing)?;
        let fingerprint = cert.sha256.as_deref().ok_or(CertFailure::Malformed)?;
        let (Some(not_before), Some(not_after)) = (cert.not_before, cert.not_after) else {
            return Err(CertFailure::Malformed);
        };
        if now < not_before {
            return Err(CertFailure::NotYetValid);
        }
        if now > not_after {
            return Err(CertFailure::Expired);
        }
        let pinned = self.0.iter().fold(false, |hit, pin| {
            constant_time_eq(pin.as_bytes(), fingerprint.as_bytes()) | hit
        });
        if pinned {
            Ok(())
        } else {
            Err(CertFailure::Unpinned)
        }
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
    use serde_json::json;
    use std::time::Duration;

    /// SHA-256 of the DER bytes `30 82 01` (base64 `MIIB`), by `printf '\x30\x82\x01' | sha256sum`.
    const PIN: &str = "ccf72380a62a235fbf5474c2a85f6f68d0a1398f2dada1b19df37e10d4aea723";

    /// A REST event whose mutual-TLS certificate is `pem`, valid 2026-01-01 to 2027-01-01.
    fn with_cert(pem: Option<&str>) -> AuthorizerRequest {
        let mut event = json!({"type": "REQUEST",
            "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:a1/prod/GET/x",
            "requestContext": {"identity": {"sourceIp": "130.176.0.1"}}});
        if let Some(pem) = pem {
            event["requestContext"]["identity"]["clientCert"] = json!({
                "clientCertPem": pem, "subjectDN": "CN=cloudfront", "issuerDN": "CN=ca",
                "serialNumber": "01", "validity": {"notBefore": "Jan  1 00:00:00 2026 GMT",
                    "notAfter": "Jan  1 00:00:00 2027 GMT"}});
        }
        AuthorizerRequest::from_value(&event).unwrap()
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn pinned_certificates_pass_within_their_validity_only() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let other = "ab".repeat(32);
        let upper = PIN.to_uppercase();
        let env =
            MapEnv::from_pairs([("ORIGIN_CERT_SHA256", format!("{other}, {upper}").as_str())]);
        let pins = CertPins::from_env(&env).unwrap().unwrap();
        // 2026-06-01, inside the validity.
        let june = at(1_780_272_000);
        assert_eq!(pins.check(&with_cert(Some(pem)), june), Ok(()));
        assert_eq!(
            pins.check(&with_cert(Some(pem)), at(1_700_000_000)),
            Err(CertFailure::NotYetValid)
        );
        assert_eq!(
            pins.check(&with_cert(Some(pem)), at(1_900_000_000)),
            Err(CertFailure::Expired)
        );
        assert_eq!(
            pins.check(&with_cert(None), june),
            Err(CertFailure::Missing)
        );
        for garbage in [
            "",
            "not a pem",
            "-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----",
        ] {
            assert_eq!(
                pins.check(&with_cert(Some(garbage)), june),
                Err(CertFailure::Malformed),
                "{garbage:?}"
            );
        }
        let unpinned = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";
        assert_eq!(
            pins.check(&with_cert(Some(unpinned)), june),
            Err(CertFailure::Unpinned)
        );
    }

    #[test]
    fn pins_are_64_hex_digits() {
        assert_eq!(CertPins::from_env(&MapEnv::default()), Ok(None));
        let bad = MapEnv::from_pairs([("ORIGIN_CERT_SHA256", "abcd")]);
        assert_eq!(
            CertPins::from_env(&bad).unwrap_err().to_string(),
            "configuration error in ORIGIN_CERT_SHA256: entry 1 is not a SHA-256 fingerprint (64 hex digits)"
        );
    }

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
        assert_eq!(
            config.location,
            SecretLocation::Parameter("/portcullis/origin".into())
        );
        assert_eq!(config.header_name, "x-edge-secret");
        assert_eq!(config.cache.ttl, Duration::from_secs(60));
        assert_eq!(config.cache.max_stale, Duration::from_secs(300));
        assert_eq!(config.cache.retry_after_error, Duration::from_secs(5));
        assert_eq!(SecretProofConfig::from_env(&env, "SECRET_"), Ok(None));
    }

    #[test]
    fn a_secrets_manager_secret_or_a_parameter_never_both() {
        let secret = MapEnv::from_pairs([("SECRET_SECRETS_MANAGER_ID", "portcullis-origin")]);
        assert_eq!(
            SecretProofConfig::from_env(&secret, "SECRET_")
                .unwrap()
                .unwrap()
                .location,
            SecretLocation::SecretsManager("portcullis-origin".into())
        );
        let both = MapEnv::from_pairs([
            ("ORIGIN_SECRET_SECRETS_MANAGER_ID", "portcullis-origin"),
            ("ORIGIN_SECRET_PARAMETER_NAME", "/portcullis/origin"),
        ]);
        assert_eq!(
            SecretProofConfig::from_env(&both, "ORIGIN_SECRET_")
                .unwrap_err()
                .to_string(),
            "configuration error in ORIGIN_SECRET_SECRETS_MANAGER_ID: set it or ORIGIN_SECRET_PARAMETER_NAME, not both"
        );
        let empty = MapEnv::from_pairs([("SECRET_SECRETS_MANAGER_ID", " ")]);
        assert_eq!(
            SecretProofConfig::from_env(&empty, "SECRET_")
                .unwrap_err()
                .to_string(),
            "configuration error in SECRET_SECRETS_MANAGER_ID: is empty"
        );
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
