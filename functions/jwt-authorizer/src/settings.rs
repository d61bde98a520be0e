//! `JWT_*` settings, parsed once at init with errors that name the variable.
//!
//! One issuer comes from `JWT_ISSUER`, `JWT_AUDIENCE`, `JWT_JWKS_URI`, `JWT_ALGORITHMS`,
//! `JWT_TOKEN_USE`, `JWT_TYP`, `JWT_REQUIRED_CLAIMS`; several issuers from `JWT_ISSUERS` (a JSON
//! array of objects with the same fields). The two forms are exclusive. Everything else applies to
//! all issuers. Defaults are listed in docs/jwt-authorizer.md and on each constant below.

use std::collections::BTreeSet;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use reqwest::Url;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::algorithms::{DEFAULT_ALGORITHMS, parse_allowlist};
use super::cache::CacheConfig;
use super::claims::{ClaimRules, RequiredClaim, TokenUse};
use super::fetch::{HttpLimits, JwksLocation, check_url, discovery_url};
use super::scopes::{RouteScopes, ScopeMode};
use super::verifier::IssuerConfig;

/// Default clock-skew leeway (`JWT_LEEWAY_SECONDS`).
pub const DEFAULT_LEEWAY_SECONDS: u64 = 5;
/// Largest accepted leeway.
pub const MAX_LEEWAY_SECONDS: u64 = 300;
/// Default token size cap (`JWT_MAX_TOKEN_BYTES`).
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Default token sources (`JWT_TOKEN_SOURCES`).
pub const DEFAULT_TOKEN_SOURCES: &str = "header:authorization";
/// Default context claims (`JWT_CONTEXT_CLAIMS`).
pub const DEFAULT_CONTEXT_CLAIMS: &str = "sub,iss,scope,scp,client_id,token_use";
/// Default JWKS max age (`JWT_JWKS_MAX_AGE_SECONDS`).
pub const DEFAULT_JWKS_MAX_AGE_SECONDS: u64 = 600;
/// Default unknown-kid/failure re-fetch interval (`JWT_JWKS_REFETCH_INTERVAL_SECONDS`).
pub const DEFAULT_JWKS_REFETCH_INTERVAL_SECONDS: u64 = 10;
/// Default keep-last-good bound (`JWT_JWKS_MAX_STALE_SECONDS`).
pub const DEFAULT_JWKS_MAX_STALE_SECONDS: u64 = 3600;
/// Default connect timeout (`JWT_JWKS_CONNECT_TIMEOUT_MS`).
pub const DEFAULT_JWKS_CONNECT_TIMEOUT_MS: u64 = 1000;
/// Default whole-request timeout (`JWT_JWKS_TIMEOUT_MS`).
pub const DEFAULT_JWKS_TIMEOUT_MS: u64 = 2000;
/// Default response size cap (`JWT_JWKS_MAX_BYTES`).
pub const DEFAULT_JWKS_MAX_BYTES: usize = 64 * 1024;
/// Default key count cap (`JWT_JWKS_MAX_KEYS`).
pub const DEFAULT_JWKS_MAX_KEYS: usize = 32;

/// A bad setting: which variable, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct SettingError {
    /// The environment variable.
    pub var: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

fn err(var: &'static str, reason: impl Into<String>) -> SettingError {
    SettingError {
        var,
        reason: reason.into(),
    }
}

/// Where a token may be found in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// A header holding `Bearer <token>` (REST TOKEN events: `authorizationToken`).
    Header(String),
    /// A cookie holding the bare token.
    Cookie(String),
    /// A query-string parameter holding the bare token.
    Query(String),
}

impl TokenSource {
    /// Parse `header:authorization,cookie:access_token,query:token`.
    pub fn parse_list(text: &str) -> Result<Vec<TokenSource>, String> {
        let mut out = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (kind, name) = item.split_once(':').ok_or_else(|| {
                format!("{item}: expected header:NAME, cookie:NAME or query:NAME")
            })?;
            let name = name.trim();
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(format!("{item}: empty or invalid name"));
            }
            let source = match kind.trim().to_ascii_lowercase().as_str() {
                "header" => TokenSource::Header(name.to_ascii_lowercase()),
                "cookie" => TokenSource::Cookie(name.to_owned()),
                "query" => TokenSource::Query(name.to_owned()),
                other => return Err(format!("{item}: unknown source {other}")),
            };
            if !out.contains(&source) {
                out.push(source);
            }
        }
        if out.is_empty() {
            return Err("no token source".into());
        }
        Ok(out)
    }
}

/// Every JWT authorizer setting.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtSettings {
    /// The issuers, each with its own rules and key source.
    pub issuers: Vec<IssuerConfig>,
    /// JWKS cache rules (shared by all issuers, one cache each).
    pub cache: CacheConfig,
    /// HTTP limits of the JWKS/discovery client.
    pub http: HttpLimits,
    /// Token size cap in bytes.
    pub max_token_bytes: usize,
    /// Where tokens are looked for.
    pub sources: Vec<TokenSource>,
    /// Route → required scopes; `None` = every route for any valid token.
    pub routes: Option<RouteScopes>,
    /// Claims copied into the authorizer context.
    pub context_claims: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuerJson {
    issuer: String,
    audience: StringOrList,
    jwks_uri: Option<String>,
    algorithms: Option<StringOrList>,
    token_use: Option<StringOrList>,
    typ: Option<StringOrList>,
    required_claims: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    fn items(self) -> Vec<String> {
        let list = match self {
            StringOrList::One(s) => s.split(',').map(str::to_owned).collect(),
            StringOrList::Many(v) => v,
        };
        list.into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

struct IssuerInput {
    issuer: String,
    audience: Vec<String>,
    jwks_uri: Option<String>,
    algorithms: Option<Vec<String>>,
    token_use: Option<Vec<String>>,
    typ: Option<Vec<String>>,
    required_claims: Option<Map<String, Value>>,
}

fn csv(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_num<T: std::str::FromStr>(
    get: &dyn Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
) -> Result<T, SettingError> {
    match get(var) {
        None => Ok(default),
        Some(v) if v.trim().is_empty() => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| err(var, format!("{v:?} is not a non-negative integer"))),
    }
}

fn required_claims(map: Map<String, Value>) -> Result<Vec<RequiredClaim>, String> {
    map.into_iter()
        .map(|(name, v)| {
            let values = match v {
                Value::Array(items) => items,
                Value::Object(_) | Value::Null => {
                    return Err(format!(
                        "claim {name}: expected a value or a list of values"
                    ));
                }
                v => vec![v],
            };
            if values
                .iter()
                .any(|v| v.is_object() || v.is_array() || v.is_null())
            {
                return Err(format!(
                    "claim {name}: values must be strings, numbers or booleans"
                ));
            }
            Ok(RequiredClaim { name, values })
        })
        .collect()
}

fn issuer_config(
    input: IssuerInput,
    var: &'static str,
    leeway: u64,
    max_token_age: Option<u64>,
) -> Result<IssuerConfig, SettingError> {
    let issuer = input.issuer.trim().to_owned();
    if issuer.is_empty() {
        return Err(err(var, "the issuer is empty"));
    }
    if input.audience.is_empty() {
        return Err(err(
            if var == "JWT_ISSUER" {
                "JWT_AUDIENCE"
            } else {
                var
            },
            format!(
                "issuer {issuer}: at least one audience (or Cognito app client id) is required"
            ),
        ));
    }
    let jwks = match input.jwks_uri {
        Some(uri) => {
            let url = Url::parse(uri.trim()).map_err(|e| {
                err(
                    if var == "JWT_ISSUER" {
                        "JWT_JWKS_URI"
                    } else {
                        var
                    },
                    format!("{uri}: {e}"),
                )
            })?;
            check_url(&url).map_err(|e| {
                err(
                    if var == "JWT_ISSUER" {
                        "JWT_JWKS_URI"
                    } else {
                        var
                    },
                    e,
                )
            })?;
            JwksLocation::Direct(url)
        }
        None => {
            discovery_url(&issuer).map_err(|e| err(var, e))?;
            JwksLocation::Discovery {
                issuer: issuer.clone(),
            }
        }
    };
    let algorithms: Vec<Algorithm> = match input.algorithms {
        None => DEFAULT_ALGORITHMS.to_vec(),
        Some(list) => parse_allowlist(&list.join(",")).map_err(|e| {
            err(
                if var == "JWT_ISSUER" {
                    "JWT_ALGORITHMS"
                } else {
                    var
                },
                e,
            )
        })?,
    };
    let token_use = match input.token_use {
        None => None,
        Some(list) => {
            let set = list
                .iter()
                .map(|s| TokenUse::parse(s))
                .collect::<Result<BTreeSet<_>, _>>()
                .map_err(|e| {
                    err(
                        if var == "JWT_ISSUER" {
                            "JWT_TOKEN_USE"
                        } else {
                            var
                        },
                        e,
                    )
                })?;
            if set.is_empty() {
                return Err(err(
                    if var == "JWT_ISSUER" {
                        "JWT_TOKEN_USE"
                    } else {
                        var
                    },
                    "empty token_use list",
                ));
            }
            Some(set)
        }
    };
    let typ = input.typ.filter(|t| !t.is_empty());
    let required = required_claims(input.required_claims.unwrap_or_default()).map_err(|e| {
        err(
            if var == "JWT_ISSUER" {
                "JWT_REQUIRED_CLAIMS"
            } else {
                var
            },
            e,
        )
    })?;
    Ok(IssuerConfig {
        rules: ClaimRules {
            issuer,
            audiences: input.audience,
            token_use,
            leeway,
            max_token_age,
            required,
        },
        algorithms,
        typ,
        jwks,
    })
}

impl JwtSettings {
    /// Read every setting from `env` ([`portcullis::config::ProcessEnv`] in production).
    pub fn from_env(
        env: &impl portcullis::config::Env,
    ) -> Result<JwtSettings, portcullis::config::ConfigError> {
        Self::from_lookup(&|name| env.var(name))
            .map_err(|e| portcullis::config::ConfigError::new(e.var, e.reason))
    }

    /// Read every setting through `get`.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<JwtSettings, SettingError> {
        let get_nonempty = |var: &str| get(var).filter(|v| !v.trim().is_empty());
        let leeway = parse_num(get, "JWT_LEEWAY_SECONDS", DEFAULT_LEEWAY_SECONDS)?;
        if leeway > MAX_LEEWAY_SECONDS {
            return Err(err(
                "JWT_LEEWAY_SECONDS",
                format!("at most {MAX_LEEWAY_SECONDS} seconds"),
            ));
        }
        let max_token_age = match get_nonempty("JWT_MAX_TOKEN_AGE_SECONDS") {
            None => None,
            Some(_) => Some(parse_num(get, "JWT_MAX_TOKEN_AGE_SECONDS", 0u64)?),
        };

        let issuers = match get_nonempty("JWT_ISSUERS") {
            Some(json) => {
                for single in [
                    "JWT_ISSUER",
                    "JWT_AUDIENCE",
                    "JWT_JWKS_URI",
                    "JWT_ALGORITHMS",
                    "JWT_TOKEN_USE",
                    "JWT_TYP",
                    "JWT_REQUIRED_CLAIMS",
                ] {
                    if get_nonempty(single).is_some() {
                        return Err(err(
                            "JWT_ISSUERS",
                            format!("set either JWT_ISSUERS or {single}, not both"),
                        ));
                    }
                }
                let list: Vec<IssuerJson> = serde_json::from_str(&json)
                    .map_err(|e| err("JWT_ISSUERS", format!("not a JSON array of issuers: {e}")))?;
                if list.is_empty() {
                    return Err(err("JWT_ISSUERS", "no issuer"));
                }
                list.into_iter()
                    .map(|i| {
                        let input = IssuerInput {
                            issuer: i.issuer,
                            audience: i.audience.items(),
                            jwks_uri: i.jwks_uri,
                            algorithms: i.algorithms.map(StringOrList::items),
                            token_use: i.token_use.map(StringOrList::items),
                            typ: i.typ.map(StringOrList::items),
                            required_claims: i.required_claims,
                        };
                        issuer_config(input, "JWT_ISSUERS", leeway, max_token_age)
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
            None => {
                let issuer = get_nonempty("JWT_ISSUER")
                    .ok_or_else(|| err("JWT_ISSUER", "required (or set JWT_ISSUERS)"))?;
                let required_claims = match get_nonempty("JWT_REQUIRED_CLAIMS") {
                    None => None,
                    Some(text) => Some(serde_json::from_str(&text).map_err(|e| {
                        err("JWT_REQUIRED_CLAIMS", format!("not a JSON object: {e}"))
                    })?),
                };
                let input = IssuerInput {
                    issuer,
                    audience: csv(&get("JWT_AUDIENCE").unwrap_or_default()),
                    jwks_uri: get_nonempty("JWT_JWKS_URI"),
                    algorithms: get_nonempty("JWT_ALGORITHMS").map(|s| csv(&s)),
                    token_use: get_nonempty("JWT_TOKEN_USE").map(|s| csv(&s)),
                    typ: get_nonempty("JWT_TYP").map(|s| csv(&s)),
                    required_claims,
                };
                vec![issuer_config(input, "JWT_ISSUER", leeway, max_token_age)?]
            }
        };
        let mut seen = BTreeSet::new();
        for i in &issuers {
            if !seen.insert(i.rules.issuer.clone()) {
                return Err(err(
                    "JWT_ISSUERS",
                    format!("issuer {} listed twice", i.rules.issuer),
                ));
            }
        }

        let max_age = parse_num(
            get,
            "JWT_JWKS_MAX_AGE_SECONDS",
            DEFAULT_JWKS_MAX_AGE_SECONDS,
        )?;
        if max_age == 0 {
            return Err(err("JWT_JWKS_MAX_AGE_SECONDS", "must be at least 1"));
        }
        let max_age = Duration::from_secs(max_age);
        let cache = CacheConfig {
            max_age,
            refresh_ahead: (max_age / 4).min(Duration::from_secs(60)),
            min_refetch_interval: Duration::from_secs(parse_num(
                get,
                "JWT_JWKS_REFETCH_INTERVAL_SECONDS",
                DEFAULT_JWKS_REFETCH_INTERVAL_SECONDS,
            )?),
            max_stale: Duration::from_secs(parse_num(
                get,
                "JWT_JWKS_MAX_STALE_SECONDS",
                DEFAULT_JWKS_MAX_STALE_SECONDS,
            )?),
            max_keys: parse_num(get, "JWT_JWKS_MAX_KEYS", DEFAULT_JWKS_MAX_KEYS)?,
        };
        if cache.max_keys == 0 {
            return Err(err("JWT_JWKS_MAX_KEYS", "must be at least 1"));
        }
        let http = HttpLimits {
            connect_timeout: Duration::from_millis(parse_num(
                get,
                "JWT_JWKS_CONNECT_TIMEOUT_MS",
                DEFAULT_JWKS_CONNECT_TIMEOUT_MS,
            )?),
            timeout: Duration::from_millis(parse_num(
                get,
                "JWT_JWKS_TIMEOUT_MS",
                DEFAULT_JWKS_TIMEOUT_MS,
            )?),
            max_bytes: parse_num(get, "JWT_JWKS_MAX_BYTES", DEFAULT_JWKS_MAX_BYTES)?,
        };
        if http.max_bytes < 256 {
            return Err(err("JWT_JWKS_MAX_BYTES", "must be at least 256"));
        }
        if http.timeout.is_zero() || http.connect_timeout.is_zero() {
            return Err(err("JWT_JWKS_TIMEOUT_MS", "timeouts must be at least 1 ms"));
        }
        let max_token_bytes = parse_num(get, "JWT_MAX_TOKEN_BYTES", DEFAULT_MAX_TOKEN_BYTES)?;
        if max_token_bytes < 64 {
            return Err(err("JWT_MAX_TOKEN_BYTES", "must be at least 64"));
        }
        let sources = TokenSource::parse_list(
            &get_nonempty("JWT_TOKEN_SOURCES").unwrap_or_else(|| DEFAULT_TOKEN_SOURCES.into()),
        )
        .map_err(|e| err("JWT_TOKEN_SOURCES", e))?;
        let mode = match get_nonempty("JWT_SCOPE_MODE") {
            None => ScopeMode::Any,
            Some(m) => ScopeMode::parse(&m).map_err(|e| err("JWT_SCOPE_MODE", e))?,
        };
        let routes = match get_nonempty("JWT_ROUTE_SCOPES") {
            None => None,
            Some(text) => {
                Some(RouteScopes::parse_json(&text, mode).map_err(|e| err("JWT_ROUTE_SCOPES", e))?)
            }
        };
        let context_claims =
            csv(&get("JWT_CONTEXT_CLAIMS").unwrap_or_else(|| DEFAULT_CONTEXT_CLAIMS.into()));
        Ok(JwtSettings {
            issuers,
            cache,
            http,
            max_token_bytes,
            sources,
            routes,
            context_claims,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<JwtSettings, SettingError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        JwtSettings::from_lookup(&|k| map.get(k).cloned())
    }

    #[test]
    fn minimal_single_issuer_gets_the_documented_defaults() {
        let s = settings(&[
            ("JWT_ISSUER", "https://idp.example.com"),
            ("JWT_AUDIENCE", "api"),
        ])
        .unwrap();
        assert_eq!(s.issuers.len(), 1);
        let i = &s.issuers[0];
        assert_eq!(i.algorithms, vec![Algorithm::RS256]);
        assert_eq!(
            i.jwks,
            JwksLocation::Discovery {
                issuer: "https://idp.example.com".into()
            }
        );
        assert_eq!(i.rules.audiences, vec!["api".to_string()]);
        assert_eq!(i.rules.leeway, 5);
        assert_eq!(i.rules.token_use, None);
        assert_eq!(s.cache.max_age, Duration::from_secs(600));
        assert_eq!(s.cache.refresh_ahead, Duration::from_secs(60));
        assert_eq!(s.cache.min_refetch_interval, Duration::from_secs(10));
        assert_eq!(s.cache.max_stale, Duration::from_secs(3600));
        assert_eq!(s.cache.max_keys, 32);
        assert_eq!(s.http.connect_timeout, Duration::from_millis(1000));
        assert_eq!(s.http.timeout, Duration::from_millis(2000));
        assert_eq!(s.http.max_bytes, 65536);
        assert_eq!(s.max_token_bytes, 16384);
        assert_eq!(s.sources, vec![TokenSource::Header("authorization".into())]);
        assert_eq!(s.routes, None);
        assert_eq!(
            s.context_claims,
            ["sub", "iss", "scope", "scp", "client_id", "token_use"]
        );
    }

    #[test]
    fn cognito_single_issuer() {
        let s = settings(&[
            (
                "JWT_ISSUER",
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc",
            ),
            ("JWT_AUDIENCE", "client1, client2"),
            ("JWT_TOKEN_USE", "access"),
            ("JWT_ALGORITHMS", "RS256"),
            (
                "JWT_JWKS_URI",
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc/.well-known/jwks.json",
            ),
            (
                "JWT_REQUIRED_CLAIMS",
                r#"{"cognito:groups": ["admin", "ops"]}"#,
            ),
            (
                "JWT_TOKEN_SOURCES",
                "header:Authorization, cookie:access_token",
            ),
            ("JWT_ROUTE_SCOPES", r#"{"GET /orders/*": ["orders/read"]}"#),
        ])
        .unwrap();
        let i = &s.issuers[0];
        assert_eq!(i.rules.audiences, ["client1", "client2"]);
        assert_eq!(i.rules.token_use, Some([TokenUse::Access].into()));
        assert!(matches!(i.jwks, JwksLocation::Direct(_)));
        assert_eq!(i.rules.required[0].name, "cognito:groups");
        assert_eq!(
            s.sources,
            vec![
                TokenSource::Header("authorization".into()),
                TokenSource::Cookie("access_token".into())
            ]
        );
        assert_eq!(s.routes.unwrap().rules[0].scopes, ["orders/read"]);
    }

    #[test]
    fn multiple_issuers_from_json() {
        let s = settings(&[(
            "JWT_ISSUERS",
            r#"[{"issuer": "https://a.example.com", "audience": ["x"], "algorithms": ["ES256", "RS256"]},
                {"issuer": "http://127.0.0.1:9/realms/r", "audience": "y,z", "jwks_uri": "http://127.0.0.1:9/certs",
                 "token_use": ["id"], "typ": "at+jwt"}]"#,
        )])
        .unwrap();
        assert_eq!(s.issuers.len(), 2);
        assert_eq!(
            s.issuers[0].algorithms,
            [Algorithm::ES256, Algorithm::RS256]
        );
        assert_eq!(s.issuers[1].rules.audiences, ["y", "z"]);
        assert_eq!(s.issuers[1].typ, Some(vec!["at+jwt".to_string()]));
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "JWT_ISSUER"),
            (
                &[("JWT_ISSUER", "https://i"), ("JWT_AUDIENCE", " , ")],
                "JWT_AUDIENCE",
            ),
            (
                &[
                    ("JWT_ISSUER", "http://i.example.com"),
                    ("JWT_AUDIENCE", "a"),
                ],
                "JWT_ISSUER",
            ),
            (
                &[
                    ("JWT_ISSUER", "https://i"),
                    ("JWT_AUDIENCE", "a"),
                    ("JWT_JWKS_URI", "http://evil.example/jwks"),
                ],
                "JWT_JWKS_URI",
            ),
            (
                &[
                    ("JWT_ISSUER", "https://i"),
                    ("JWT_AUDIENCE", "a"),
                    ("JWT_ALGORITHMS", "HS256"),
                ],
                "JWT_ALGORITHMS",
            ),
            (
                &[
                    ("JWT_ISSUER", "https://i"),
                    ("JWT_AUDIENCE", "a"),
                    ("JWT_TOKEN_USE", "refresh"),
                ],
                "JWT_TOKEN_USE",
            ),
            (
                &[
                    ("JWT_ISSUER", "https://i"),
                    ("JWT_AUDIENCE", "a"),
                    ("JWT_LEEWAY_SECONDS", "301"),
                ],
                "JWT_LEEWAY_SECONDS",
            ),
            (
                &[
                    ("JWT_ISSUER", "https://i"),
                    ("JWT_AUDIENCE", "a"),
                    ("JWT_LEEWAY_SECONDS", "-1"),
                ],
                "JWT_LEEWAY_SECONDS",
            ),
            (
                &[
                    ("JWT_ISSUER", "https://i"),
                    ("JWT_AUDIENCE", "a"),
                    ("JWT_TOKEN_SOURCES", "body:x"),
                ],
                "JWT_TOKEN_SOURCES",
            ),
            (
                &[
                    ("JWT_ISSUER", "https://i"),
                    ("JWT_AUDIENCE", "a"),
                    ("JWT_ROUTE_SCOPES", "[1]"),
                ],
                "JWT_ROUTE_SCOPES",
            ),
            (
                &[
                    ("JWT_ISSUER", "https://i"),
                    ("JWT_AUDIENCE", "a"),
                    ("JWT_REQUIRED_CLAIMS", r#"{"a": {}}"#),
                ],
                "JWT_REQUIRED_CLAIMS",
            ),
            (
                &[
                    ("JWT_ISSUER", "https://i"),
                    ("JWT_AUDIENCE", "a"),
                    ("JWT_JWKS_MAX_AGE_SECONDS", "0"),
                ],
                "JWT_JWKS_MAX_AGE_SECONDS",
            ),
            (&[("JWT_ISSUERS", "[]")], "JWT_ISSUERS"),
            (
                &[
                    (
                        "JWT_ISSUERS",
                        r#"[{"issuer": "https://i", "audience": "a"}]"#,
                    ),
                    ("JWT_ISSUER", "https://i"),
                ],
                "JWT_ISSUERS",
            ),
            (
                &[(
                    "JWT_ISSUERS",
                    r#"[{"issuer": "https://i", "audience": "a"}, {"issuer": "https://i", "audience": "b"}]"#,
                )],
                "JWT_ISSUERS",
            ),
            (
                &[(
                    "JWT_ISSUERS",
                    r#"[{"issuer": "https://i", "audience": "a", "jku": "x"}]"#,
                )],
                "JWT_ISSUERS",
            ),
        ];
        for (vars, var) in cases {
            let e = settings(vars).unwrap_err();
            assert_eq!(e.var, *var, "{vars:?} → {e}");
        }
    }
}
