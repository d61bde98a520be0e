//! Settings, from the environment, checked at init.

use portcullis::config::{self, ConfigError, Env};
use portcullis::response::HttpApiResponseMode;
use portcullis::secrets::{CacheConfig, SsmTimeouts};

/// Every setting of the header-secret authorizer (see README's configuration table).
#[derive(Debug, Clone)]
pub struct Config {
    /// `SECRET_PARAMETER_NAME`: SSM parameter (or `/aws/reference/secretsmanager/<name>`).
    pub parameter_name: String,
    /// `SECRET_HEADER_NAME`: header CloudFront adds (default `x-origin-verify`).
    pub header_name: String,
    /// `SECRET_CACHE_TTL_SECONDS`, `SECRET_MAX_STALE_SECONDS`, `SECRET_RETRY_AFTER_ERROR_SECONDS`.
    pub cache: CacheConfig,
    /// `HTTP_API_RESPONSE_MODE`: `simple` (default) or `iam` for payload 2.0.
    pub http_mode: HttpApiResponseMode,
    /// `SSM_TIMEOUT_MS`: deadline of one SSM call, retries included.
    pub ssm_timeouts: SsmTimeouts,
    /// `METRICS_NAMESPACE`: CloudWatch EMF namespace; unset disables metrics.
    pub metrics_namespace: Option<String>,
}

impl Config {
    /// Reads and checks every setting; the error names the variable.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let parameter_name = config::required(env, "SECRET_PARAMETER_NAME")?;
        if !parameter_name.starts_with('/') && parameter_name.contains('/') {
            return Err(ConfigError::new(
                "SECRET_PARAMETER_NAME",
                "a hierarchical parameter name must start with /",
            ));
        }
        let header_name = env
            .var("SECRET_HEADER_NAME")
            .unwrap_or_else(|| "x-origin-verify".into())
            .to_ascii_lowercase();
        if !header_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ConfigError::new(
                "SECRET_HEADER_NAME",
                "must be letters, digits and '-'",
            ));
        }
        let ttl = config::seconds_or(env, "SECRET_CACHE_TTL_SECONDS", 300, 1..=3600)?;
        let max_stale = config::seconds_or(env, "SECRET_MAX_STALE_SECONDS", 300, 0..=86_400)?;
        let retry_after_error =
            config::seconds_or(env, "SECRET_RETRY_AFTER_ERROR_SECONDS", 5, 0..=300)?;
        let http_mode =
            config::parse_or(env, "HTTP_API_RESPONSE_MODE", HttpApiResponseMode::Simple)?;
        let ssm_timeouts = SsmTimeouts::from_env(env)?;
        Ok(Self {
            parameter_name,
            header_name,
            cache: CacheConfig {
                ttl,
                max_stale,
                retry_after_error,
                jitter: 0.1,
            },
            http_mode,
            ssm_timeouts,
            metrics_namespace: env.var("METRICS_NAMESPACE"),
        })
    }
}
