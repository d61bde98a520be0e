//! Settings, from the environment, checked at init.

use std::time::Duration;

use portcullis::config::{self, ConfigError, Env};
use portcullis::origin::DEFAULT_HEADER;

/// Every setting of the rotator (see `docs/secret-rotator.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `CLOUDFRONT_DISTRIBUTION_ID` (required): the distribution whose origins send the secret.
    pub distribution_id: String,
    /// `ORIGIN_SECRET_HEADER_NAME` (`x-origin-verify`): the origin custom header, lower case.
    pub header_name: String,
    /// `CLOUDFRONT_ORIGIN_IDS` (comma-separated; default: every origin that already sends the
    /// header).
    pub origin_ids: Vec<String>,
    /// `PROPAGATION_WAIT_SECONDS` (330): how long after the new value is created CloudFront
    /// is switched — at least the authorizers' secret cache TTL plus a margin.
    pub propagation_wait: Duration,
    /// `OLD_SECRET_GRACE_SECONDS` (60): how long after CloudFront has deployed the new value
    /// the old one is retired (requests already under way finish with it).
    pub grace: Duration,
    /// `DEPLOYMENT_POLL_SECONDS` (10): how often the distribution's status is read.
    pub poll: Duration,
    /// `CANARY_URL` (optional): a URL through CloudFront that must not answer 401 or 403 once
    /// CloudFront sends the new value.
    pub canary_url: Option<String>,
}

impl Settings {
    /// Reads and checks every setting; the error names the variable.
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let distribution_id = config::required(env, "CLOUDFRONT_DISTRIBUTION_ID")?;
        if distribution_id.is_empty() || !distribution_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(ConfigError::new(
                "CLOUDFRONT_DISTRIBUTION_ID",
                "must be a distribution id (letters and digits)",
            ));
        }
        let header_name = env
            .var("ORIGIN_SECRET_HEADER_NAME")
            .unwrap_or_else(|| DEFAULT_HEADER.into())
            .to_ascii_lowercase();
        if header_name.is_empty()
            || !header_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ConfigError::new(
                "ORIGIN_SECRET_HEADER_NAME",
                "must be letters, digits and '-'",
            ));
        }
        let canary_url = env.var("CANARY_URL").filter(|url| !url.trim().is_empty());
        if let Some(url) = &canary_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(ConfigError::new("CANARY_URL", "must be an http(s) URL"));
        }
        Ok(Self {
            distribution_id,
            header_name,
            origin_ids: config::list(env, "CLOUDFRONT_ORIGIN_IDS"),
            propagation_wait: config::seconds_or(env, "PROPAGATION_WAIT_SECONDS", 330, 0..=840)?,
            grace: config::seconds_or(env, "OLD_SECRET_GRACE_SECONDS", 60, 0..=600)?,
            poll: config::seconds_or(env, "DEPLOYMENT_POLL_SECONDS", 10, 1..=60)?,
            canary_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use portcullis::config::MapEnv;

    use super::*;

    #[test]
    fn defaults_and_names() {
        let env = MapEnv::from_pairs([("CLOUDFRONT_DISTRIBUTION_ID", "E2QWRUHAPOMQZL")]);
        assert_eq!(
            Settings::from_env(&env).unwrap(),
            Settings {
                distribution_id: "E2QWRUHAPOMQZL".into(),
                header_name: "x-origin-verify".into(),
                origin_ids: vec![],
                propagation_wait: Duration::from_secs(330),
                grace: Duration::from_secs(60),
                poll: Duration::from_secs(10),
                canary_url: None,
            }
        );
        let env = MapEnv::from_pairs([
            ("CLOUDFRONT_DISTRIBUTION_ID", "E2QWRUHAPOMQZL"),
            ("ORIGIN_SECRET_HEADER_NAME", "X-Edge-Secret"),
            ("CLOUDFRONT_ORIGIN_IDS", "api, rest"),
            ("PROPAGATION_WAIT_SECONDS", "2"),
            ("OLD_SECRET_GRACE_SECONDS", "1"),
            ("CANARY_URL", "https://d111111abcdef8.cloudfront.net/health"),
        ]);
        let settings = Settings::from_env(&env).unwrap();
        assert_eq!(settings.header_name, "x-edge-secret");
        assert_eq!(settings.origin_ids, ["api", "rest"]);
        assert_eq!(settings.propagation_wait, Duration::from_secs(2));
        assert_eq!(settings.grace, Duration::from_secs(1));
        assert_eq!(
            settings.canary_url.as_deref(),
            Some("https://d111111abcdef8.cloudfront.net/health")
        );
    }

    #[test]
    fn bad_settings_name_their_variable() {
        for (pairs, message) in [
            (
                vec![],
                "configuration error in CLOUDFRONT_DISTRIBUTION_ID: is required but not set",
            ),
            (
                vec![("CLOUDFRONT_DISTRIBUTION_ID", "E2/../x")],
                "configuration error in CLOUDFRONT_DISTRIBUTION_ID: must be a distribution id (letters and digits)",
            ),
            (
                vec![
                    ("CLOUDFRONT_DISTRIBUTION_ID", "E2"),
                    ("ORIGIN_SECRET_HEADER_NAME", "x origin"),
                ],
                "configuration error in ORIGIN_SECRET_HEADER_NAME: must be letters, digits and '-'",
            ),
            (
                vec![
                    ("CLOUDFRONT_DISTRIBUTION_ID", "E2"),
                    ("CANARY_URL", "ftp://example.com"),
                ],
                "configuration error in CANARY_URL: must be an http(s) URL",
            ),
        ] {
            let env = MapEnv::from_pairs(pairs);
            assert_eq!(Settings::from_env(&env).unwrap_err().to_string(), message);
        }
    }
}
