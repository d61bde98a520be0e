//! Configuration, read from the origin's custom headers (Lambda@Edge has no environment
//! variables). Every header starting with [`CONFIG_PREFIX`] is configuration: it is read here
//! and never forwarded to the origin.

use crate::error::SignError;
use crate::event::Headers;

/// Prefix of every configuration header.
pub const CONFIG_PREFIX: &str = "x-portcullis-";
/// Region of the API, required when the origin is a custom domain.
pub const REGION_HEADER: &str = "x-portcullis-region";
/// Name of the header that carries the viewer's `Authorization` to the origin.
pub const FORWARD_AUTHORIZATION_HEADER: &str = "x-portcullis-forward-authorization";
/// `true` to also send and sign `x-amz-content-sha256`.
pub const CONTENT_SHA256_HEADER: &str = "x-portcullis-content-sha256";
/// Default name for the forwarded viewer `Authorization` header.
pub const DEFAULT_FORWARD_AUTHORIZATION: &str = "x-forwarded-authorization";

/// Headers Lambda@Edge does not let a function add (CloudFront answers 502 otherwise).
pub const DISALLOWED_HEADERS: &[&str] = &[
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "trailer",
    "upgrade",
    "x-accel-buffering",
    "x-accel-charset",
    "x-accel-limit-rate",
    "x-accel-redirect",
    "x-amzn-auth",
    "x-amzn-cf-billing",
    "x-amzn-cf-id",
    "x-amzn-cf-xff",
    "x-amzn-errortype",
    "x-amzn-fle-profile",
    "x-amzn-header-count",
    "x-amzn-header-order",
    "x-amzn-lambda-integration-tag",
    "x-amzn-requestid",
    "x-cache",
    "x-forwarded-proto",
    "x-real-ip",
];
/// Prefixes of disallowed headers.
pub const DISALLOWED_PREFIXES: &[&str] = &["x-amz-cf-", "x-edge-"];
/// Headers an origin-request function may read but not add, change or delete.
pub const READ_ONLY_HEADERS: &[&str] = &[
    "accept-encoding",
    "content-length",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "transfer-encoding",
    "via",
];
/// Headers the signer itself sets.
pub const SIGNER_HEADERS: &[&str] = &[
    "host",
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// Signer settings for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Explicit region; overrides the one derived from the origin domain.
    pub region: Option<String>,
    /// Header that receives the viewer's `Authorization` value.
    pub forward_authorization: String,
    /// Send and sign `x-amz-content-sha256`.
    pub content_sha256: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            region: None,
            forward_authorization: DEFAULT_FORWARD_AUTHORIZATION.to_owned(),
            content_sha256: false,
        }
    }
}

impl Config {
    /// Reads the configuration from origin custom headers. Unknown `x-portcullis-*` headers
    /// are errors, so a misspelt setting cannot be silently ignored.
    pub fn from_custom_headers(headers: &Headers) -> Result<Self, SignError> {
        let mut config = Config::default();
        for (name, entries) in headers {
            let name = name.to_ascii_lowercase();
            if !name.starts_with(CONFIG_PREFIX) {
                continue;
            }
            let value = single_value(&name, entries)?;
            match name.as_str() {
                REGION_HEADER => {
                    if !is_region(value) {
                        return Err(invalid(&name, "not an AWS region name"));
                    }
                    config.region = Some(value.to_owned());
                }
                FORWARD_AUTHORIZATION_HEADER => {
                    let value = value.to_ascii_lowercase();
                    check_forward_header(&value).map_err(|reason| invalid(&name, reason))?;
                    config.forward_authorization = value;
                }
                CONTENT_SHA256_HEADER => {
                    config.content_sha256 = match value.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(invalid(&name, "expected true or false")),
                    };
                }
                _ => return Err(invalid(&name, "unknown setting")),
            }
        }
        Ok(config)
    }
}

fn single_value<'a>(
    name: &str,
    entries: &'a [crate::event::HeaderEntry],
) -> Result<&'a str, SignError> {
    match entries {
        [one] => Ok(one.value.trim()),
        _ => Err(invalid(name, "expected exactly one value")),
    }
}

fn invalid(header: &str, reason: &str) -> SignError {
    SignError::InvalidConfig {
        header: header.to_owned(),
        reason: reason.to_owned(),
    }
}

/// A region name: lowercase letters, digits and `-`, starting with a letter.
pub fn is_region(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 32
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Whether the signer may set `name` (lowercase) on the origin request.
fn check_forward_header(name: &str) -> Result<(), &'static str> {
    let token = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !token {
        return Err("not a header name (letters, digits and '-')");
    }
    if SIGNER_HEADERS.contains(&name) || name.starts_with(CONFIG_PREFIX) {
        return Err("reserved for the signer");
    }
    if READ_ONLY_HEADERS.contains(&name) {
        return Err("read-only for Lambda@Edge origin-request functions");
    }
    if DISALLOWED_HEADERS.contains(&name) || DISALLOWED_PREFIXES.iter().any(|p| name.starts_with(p))
    {
        return Err("disallowed by Lambda@Edge");
    }
    Ok(())
}

/// Region of an API Gateway default endpoint `<api>.execute-api.<region>.amazonaws.com`
/// (or `.amazonaws.com.cn`); `None` for any other domain.
pub fn region_from_domain(domain: &str) -> Option<&str> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let parts: Vec<&str> = domain.split('.').collect();
    let suffix_ok = match parts.len() {
        5 => parts[3..] == ["amazonaws", "com"],
        6 => parts[3..] == ["amazonaws", "com", "cn"],
        _ => false,
    };
    let region = parts.get(2).copied()?;
    (suffix_ok && !parts[0].is_empty() && parts[1] == "execute-api" && is_region(region))
        .then_some(region)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::HeaderEntry;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), vec![HeaderEntry::new(k, *v)]))
            .collect()
    }

    #[test]
    fn region_from_execute_api_domains() {
        assert_eq!(
            region_from_domain("abc123.execute-api.eu-west-1.amazonaws.com"),
            Some("eu-west-1")
        );
        assert_eq!(
            region_from_domain("abc123.execute-api.cn-north-1.amazonaws.com.cn"),
            Some("cn-north-1")
        );
        assert_eq!(
            region_from_domain("abc123.execute-api.us-east-2.amazonaws.com."),
            Some("us-east-2")
        );
        assert_eq!(region_from_domain("api.example.com"), None);
        assert_eq!(region_from_domain("abc.lambda-url.us-east-1.on.aws"), None);
        assert_eq!(region_from_domain("abc.execute-api.amazonaws.com"), None);
        assert_eq!(
            region_from_domain("x.execute-api.us-east-1.amazonaws.com.evil.io"),
            None
        );
        assert_eq!(
            region_from_domain(".execute-api.us-east-1.amazonaws.com"),
            None
        );
    }

    #[test]
    fn defaults_without_config_headers() {
        let config = Config::from_custom_headers(&headers(&[("x-other", "1")])).unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.forward_authorization, "x-forwarded-authorization");
        assert!(!config.content_sha256);
    }

    #[test]
    fn reads_every_setting() {
        let config = Config::from_custom_headers(&headers(&[
            ("x-portcullis-region", "ap-southeast-2"),
            (
                "x-portcullis-forward-authorization",
                "X-Viewer-Authorization",
            ),
            ("x-portcullis-content-sha256", "TRUE"),
        ]))
        .unwrap();
        assert_eq!(
            config,
            Config {
                region: Some("ap-southeast-2".into()),
                forward_authorization: "x-viewer-authorization".into(),
                content_sha256: true,
            }
        );
    }

    #[test]
    fn rejects_bad_settings() {
        let cases = [
            ("x-portcullis-region", "EU-WEST-1"),
            ("x-portcullis-region", ""),
            ("x-portcullis-content-sha256", "yes"),
            ("x-portcullis-forward-authorization", "authorization"),
            ("x-portcullis-forward-authorization", "via"),
            ("x-portcullis-forward-authorization", "x-amz-cf-auth"),
            ("x-portcullis-forward-authorization", "proxy-authorization"),
            ("x-portcullis-forward-authorization", "x-portcullis-auth"),
            ("x-portcullis-forward-authorization", "bad header"),
            ("x-portcullis-regoin", "us-east-1"),
        ];
        for (name, value) in cases {
            let err = Config::from_custom_headers(&headers(&[(name, value)])).unwrap_err();
            assert!(
                matches!(&err, SignError::InvalidConfig { header, .. } if header == name),
                "{name}={value}: {err:?}"
            );
        }
    }
}
