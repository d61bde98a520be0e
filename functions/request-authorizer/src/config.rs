//! Settings of the REQUEST authorizer, read once at init with errors that name the variable.

use std::path::PathBuf;
use std::time::Duration;

use crate::rules::KeyLocation;
use portcullis::config::{ConfigError, Env, seconds_or};
use portcullis::door::DoorSettings;
use portcullis::secrets::{CacheConfig, SsmTimeouts};

/// Where the rules document lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesLocation {
    /// An SSM parameter (String or SecureString; `/aws/reference/secretsmanager/…` works too),
    /// cached and refreshed.
    Parameter(String),
    /// A file bundled with the function, read once at init.
    File(PathBuf),
}

/// Every setting, with its default.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `RULES_PARAMETER_NAME` xor `RULES_FILE`.
    pub rules: RulesLocation,
    /// `RULES_CACHE_TTL_SECONDS` (300), `RULES_MAX_STALE_SECONDS` (300) and
    /// `RULES_RETRY_AFTER_ERROR_SECONDS` (5).
    pub cache: CacheConfig,
    /// `SSM_TIMEOUT_MS` (3000): deadline of one SSM call, retries included.
    pub ssm_timeouts: SsmTimeouts,
    /// `API_KEY_HEADER` (`x-api-key`; `none` disables) and `API_KEY_QUERY` (unset).
    pub keys: KeyLocation,
    /// The front door's: `HTTP_API_RESPONSE_MODE`, `METRICS_NAMESPACE`, the origin proof
    /// (`ORIGIN_SECRET_*`) and `TRUST_CLOUDFRONT_VIEWER_HEADERS`.
    pub door: DoorSettings,
}

impl Config {
    /// Reads and checks every variable.
    pub fn from_env(env: &impl Env) -> Result<Config, ConfigError> {
        let rules = match (env.var("RULES_PARAMETER_NAME"), env.var("RULES_FILE")) {
            (Some(name), None) => RulesLocation::Parameter(name),
            (None, Some(path)) => RulesLocation::File(PathBuf::from(path)),
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    "RULES_PARAMETER_NAME",
                    "set either RULES_PARAMETER_NAME or RULES_FILE, not both",
                ));
            }
            (None, None) => {
                return Err(ConfigError::new(
                    "RULES_PARAMETER_NAME",
                    "is required (or RULES_FILE for a bundled rules document)",
                ));
            }
        };
        let cache = CacheConfig {
            ttl: seconds_or(env, "RULES_CACHE_TTL_SECONDS", 300, 1..=86_400)?,
            max_stale: seconds_or(env, "RULES_MAX_STALE_SECONDS", 300, 0..=86_400)?,
            retry_after_error: seconds_or(env, "RULES_RETRY_AFTER_ERROR_SECONDS", 5, 0..=300)?,
            ..CacheConfig::default()
        };
        let header = match env.var("API_KEY_HEADER") {
            None => Some("x-api-key".to_owned()),
            Some(v) if v.eq_ignore_ascii_case("none") => None,
            Some(v) => Some(checked_name(&v, "API_KEY_HEADER")?.to_ascii_lowercase()),
        };
        let query = env
            .var("API_KEY_QUERY")
            .map(|v| checked_name(&v, "API_KEY_QUERY").map(str::to_owned))
            .transpose()?;
        if header.is_none() && query.is_none() {
            return Err(ConfigError::new(
                "API_KEY_HEADER",
                "is none and API_KEY_QUERY is unset: no place to read the API key from",
            ));
        }
        Ok(Config {
            rules,
            cache,
            ssm_timeouts: SsmTimeouts::from_env(env)?,
            keys: KeyLocation { header, query },
            door: DoorSettings::from_env(env, "ORIGIN_SECRET_")?,
        })
    }

    /// Rules cache TTL.
    pub fn ttl(&self) -> Duration {
        self.cache.ttl
    }
}

fn checked_name<'a>(value: &'a str, var: &str) -> Result<&'a str, ConfigError> {
    let value = value.trim();
    if value.is_empty()
        || !value
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"(),/:;<=>?@[\\]{}".contains(&b))
    {
        return Err(ConfigError::new(
            var,
            format!("{value:?} is not a valid header/parameter name"),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use portcullis::config::MapEnv;
    use portcullis::response::HttpApiResponseMode;

    use super::*;

    #[test]
    fn defaults() {
        let config = Config::from_env(&MapEnv::from_pairs([(
            "RULES_PARAMETER_NAME",
            "/portcullis/rules",
        )]))
        .unwrap();
        assert_eq!(
            config,
            Config {
                rules: RulesLocation::Parameter("/portcullis/rules".into()),
                cache: CacheConfig {
                    ttl: Duration::from_secs(300),
                    max_stale: Duration::from_secs(300),
                    ..CacheConfig::default()
                },
                ssm_timeouts: SsmTimeouts::default(),
                keys: KeyLocation {
                    header: Some("x-api-key".into()),
                    query: None
                },
                door: DoorSettings {
                    http_mode: HttpApiResponseMode::Simple,
                    metrics_namespace: None,
                    origin: None,
                    cert_pins: None,
                    trust_viewer: false,
                },
            }
        );
    }

    #[test]
    fn everything_set() {
        let config = Config::from_env(&MapEnv::from_pairs([
            ("RULES_FILE", "/var/task/rules.toml"),
            ("RULES_CACHE_TTL_SECONDS", "60"),
            ("RULES_MAX_STALE_SECONDS", "0"),
            ("RULES_RETRY_AFTER_ERROR_SECONDS", "2"),
            ("SSM_TIMEOUT_MS", "800"),
            ("API_KEY_HEADER", "none"),
            ("API_KEY_QUERY", "api_key"),
            ("HTTP_API_RESPONSE_MODE", "iam"),
            ("METRICS_NAMESPACE", "portcullis"),
        ]))
        .unwrap();
        assert_eq!(
            config.rules,
            RulesLocation::File("/var/task/rules.toml".into())
        );
        assert_eq!(config.ttl(), Duration::from_secs(60));
        assert_eq!(config.cache.max_stale, Duration::ZERO);
        assert_eq!(config.cache.retry_after_error, Duration::from_secs(2));
        assert_eq!(
            config.ssm_timeouts,
            SsmTimeouts {
                connect: Duration::from_millis(800),
                attempt: Duration::from_millis(400),
                total: Duration::from_millis(800),
                max_attempts: 2,
            }
        );
        assert_eq!(
            config.keys,
            KeyLocation {
                header: None,
                query: Some("api_key".into())
            }
        );
        assert_eq!(config.door.http_mode, HttpApiResponseMode::Iam);
        assert_eq!(config.door.metrics_namespace.as_deref(), Some("portcullis"));
    }

    #[test]
    fn errors_name_the_variable() {
        let err = |pairs: &[(&str, &str)]| {
            Config::from_env(&MapEnv::from_pairs(pairs.iter().copied()))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(&[]),
            "configuration error in RULES_PARAMETER_NAME: is required (or RULES_FILE for a bundled rules document)"
        );
        assert_eq!(
            err(&[("RULES_PARAMETER_NAME", "/p"), ("RULES_FILE", "f")]),
            "configuration error in RULES_PARAMETER_NAME: set either RULES_PARAMETER_NAME or RULES_FILE, not both"
        );
        assert_eq!(
            err(&[("RULES_FILE", "f"), ("SSM_TIMEOUT_MS", "50")]),
            "configuration error in SSM_TIMEOUT_MS: must be within 100..=30000"
        );
        assert_eq!(
            err(&[("RULES_FILE", "f"), ("API_KEY_HEADER", "x api key")]),
            "configuration error in API_KEY_HEADER: \"x api key\" is not a valid header/parameter name"
        );
        assert_eq!(
            err(&[("RULES_FILE", "f"), ("API_KEY_HEADER", "NONE")]),
            "configuration error in API_KEY_HEADER: is none and API_KEY_QUERY is unset: no place to read the API key from"
        );
        assert!(
            err(&[("RULES_FILE", "f"), ("HTTP_API_RESPONSE_MODE", "both")])
                .starts_with("configuration error in HTTP_API_RESPONSE_MODE")
        );
        assert!(
            err(&[("RULES_FILE", "f"), ("RULES_CACHE_TTL_SECONDS", "0")])
                .starts_with("configuration error in RULES_CACHE_TTL_SECONDS")
        );
    }
}
