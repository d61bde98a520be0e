//! Settings, from the environment, checked at init.

use portcullis::config::{ConfigError, Env};
use portcullis::door::DoorSettings;
use portcullis::origin::SecretProofConfig;
use portcullis::secrets::SsmTimeouts;

/// Every setting of the header-secret authorizer (see its docs page's settings table).
#[derive(Debug, Clone)]
pub struct Config {
    /// `SECRET_PARAMETER_NAME` (required), `SECRET_HEADER_NAME` (`x-origin-verify`),
    /// `SECRET_CACHE_TTL_SECONDS`, `SECRET_MAX_STALE_SECONDS`,
    /// `SECRET_RETRY_AFTER_ERROR_SECONDS`.
    pub proof: SecretProofConfig,
    /// `HTTP_API_RESPONSE_MODE`, `METRICS_NAMESPACE`.
    pub door: DoorSettings,
    /// `SSM_TIMEOUT_MS`: deadline of one SSM call, retries included.
    pub ssm_timeouts: SsmTimeouts,
}

impl Config {
    /// Reads and checks every setting; the error names the variable.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let door = DoorSettings::from_env(env, "SECRET_")?;
        let proof = door
            .origin
            .clone()
            .ok_or_else(|| ConfigError::new("SECRET_PARAMETER_NAME", "is required but not set"))?;
        Ok(Self {
            proof,
            door,
            ssm_timeouts: SsmTimeouts::from_env(env)?,
        })
    }
}
