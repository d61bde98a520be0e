//! Settings, from the environment, checked at init.

use portcullis::config::{ConfigError, Env};
use portcullis::door::DoorSettings;
use portcullis::origin::SecretProofConfig;
use portcullis::secrets::SsmTimeouts;

/// Every setting of the header-secret authorizer (see its docs page's settings table).
#[derive(Debug, Clone)]
pub struct Config {
    /// `SECRET_PARAMETER_NAME` or `SECRET_SECRETS_MANAGER_ID`, `SECRET_HEADER_NAME` (`x-origin-verify`),
    /// `SECRET_CACHE_TTL_SECONDS`, `SECRET_MAX_STALE_SECONDS`,
    /// `SECRET_RETRY_AFTER_ERROR_SECONDS`: the secret proof, when configured.
    pub proof: Option<SecretProofConfig>,
    /// `ORIGIN_CERT_SHA256` (the certificate proof), `HTTP_API_RESPONSE_MODE`,
    /// `METRICS_NAMESPACE`.
    pub door: DoorSettings,
    /// `SSM_TIMEOUT_MS`: deadline of one SSM or Secrets Manager call, retries included.
    pub ssm_timeouts: SsmTimeouts,
}

impl Config {
    /// Reads and checks every setting; the error names the variable. At least one proof, the
    /// secret or the certificate, is required.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let door = DoorSettings::from_env(env, "SECRET_")?;
        if door.origin.is_none() && door.cert_pins.is_none() {
            return Err(ConfigError::new(
                "SECRET_PARAMETER_NAME",
                "is required but not set (or SECRET_SECRETS_MANAGER_ID; or ORIGIN_CERT_SHA256, for the certificate lock-down)",
            ));
        }
        let proof = door.origin.clone();
        Ok(Self {
            proof,
            door,
            ssm_timeouts: SsmTimeouts::from_env(env)?,
        })
    }
}
