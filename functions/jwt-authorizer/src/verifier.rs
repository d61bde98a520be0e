//! The verifier: size cap → structure → header (`alg`, `crit`, `typ`, `kid`) → issuer chosen by
//! `iss` → key from that issuer's JWKS cache → key/alg agreement → signature (jsonwebtoken,
//! aws-lc-rs) → claim rules at the time passed in.
//!
//! Header values `jku`, `x5u`, `jwk`, `x5c` are never used: keys only ever come from the
//! configured issuer's key set.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use super::algorithms;
use super::cache::{CacheConfig, JwksCache};
use super::claims::ClaimRules;
use super::error::{FetchError, JwtError};
use super::fetch::{JwksFetcher, JwksLocation};
use super::scopes::token_scopes;

/// The current time, both as Unix seconds (claims) and as a monotonic instant (cache ages).
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// Seconds since the Unix epoch.
    pub unix: u64,
    /// Monotonic instant.
    pub instant: Instant,
}

impl Now {
    /// The system clock.
    pub fn system() -> Now {
        Now {
            unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            instant: Instant::now(),
        }
    }
}

/// Everything configured for one issuer.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuerConfig {
    /// Claim rules (issuer, audiences, Cognito mode, leeway, …).
    pub rules: ClaimRules,
    /// Accepted algorithms.
    pub algorithms: Vec<Algorithm>,
    /// Accepted `typ` header values (compared case-insensitively, `application/` optional);
    /// `None` = not checked.
    pub typ: Option<Vec<String>>,
    /// Where its keys are.
    pub jwks: JwksLocation,
}

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    /// The issuer that vouched for it.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// Header `alg`.
    pub alg: Algorithm,
    /// Header `kid`.
    pub kid: String,
    /// All claims.
    pub claims: Map<String, Value>,
    /// Scopes from `scope` or `scp`.
    pub scopes: BTreeSet<String>,
}

struct Issuer<F> {
    config: IssuerConfig,
    cache: Arc<JwksCache<F>>,
    validations: HashMap<Algorithm, Validation>,
}

/// Verifies tokens of one or more issuers.
pub struct Verifier<F> {
    issuers: HashMap<String, Issuer<F>>,
    max_token_bytes: usize,
}

fn validation(alg: Algorithm, issuer: &str) -> Validation {
    let mut v = Validation::new(alg);
    v.algorithms = vec![alg];
    v.required_spec_claims = ["exp", "iss", "sub"].map(String::from).into();
    v.iss = Some([issuer.to_owned()].into());
    v.sub = None;
    v.leeway = 0;
    v.reject_tokens_expiring_in_less_than = 0;
    // Times are checked by ClaimRules against the injected clock (exp required there too).
    v.validate_exp = false;
    v.validate_nbf = false;
    // Audience (or Cognito client_id) is checked by ClaimRules.
    v.validate_aud = false;
    v.aud = None;
    v
}

fn decode_segment(segment: &str, what: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment.as_bytes())
        .map_err(|_| JwtError::Malformed(what))?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed(what))
}

fn typ_matches(typ: &str, accepted: &[String]) -> bool {
    let bare = |s: &str| {
        let s = s.trim();
        s.get(..12)
            .filter(|p| p.eq_ignore_ascii_case("application/"))
            .map_or(s, |_| &s[12..])
            .to_ascii_lowercase()
    };
    let typ = bare(typ);
    accepted.iter().any(|a| bare(a) == typ)
}

impl<F: JwksFetcher> Verifier<F> {
    /// One issuer entry per config; `fetcher` builds each issuer's fetcher. Installs the
    /// parsed-key provider ([`crate::crypto::install`]) unless jsonwebtoken already chose one.
    pub fn new(
        issuers: Vec<IssuerConfig>,
        cache: CacheConfig,
        max_token_bytes: usize,
        mut fetcher: impl FnMut(&IssuerConfig) -> F,
    ) -> Self {
        crate::crypto::install();
        let issuers = issuers
            .into_iter()
            .map(|config| {
                let validations = config
                    .algorithms
                    .iter()
                    .map(|alg| (*alg, validation(*alg, &config.rules.issuer)))
                    .collect();
                let entry = Issuer {
                    cache: Arc::new(JwksCache::new(fetcher(&config), cache)),
                    config,
                    validations,
                };
                (entry.config.rules.issuer.clone(), entry)
            })
            .collect();
        Verifier {
            issuers,
            max_token_bytes,
        }
    }

    /// Fetch every issuer's keys (at init). Failures are returned, not fatal: requests fail
    /// closed until a later fetch succeeds.
    pub async fn prefetch(&self, now: Instant) -> Vec<(String, Result<usize, FetchError>)> {
        let mut out = Vec::with_capacity(self.issuers.len());
        for (name, issuer) in &self.issuers {
            out.push((name.clone(), issuer.cache.prefetch(now).await));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The JWKS cache of `issuer` (for tests and metrics).
    pub fn cache(&self, issuer: &str) -> Option<&Arc<JwksCache<F>>> {
        self.issuers.get(issuer).map(|i| &i.cache)
    }

    /// Verify `token` at `now`.
    pub async fn verify(&self, token: &str, now: Now) -> Result<VerifiedToken, JwtError> {
        if token.len() > self.max_token_bytes {
            return Err(JwtError::TokenTooLarge {
                max: self.max_token_bytes,
            });
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed("not three segments"));
        };
        if h.is_empty() || p.is_empty() {
            return Err(JwtError::Malformed("empty segment"));
        }
        let header = decode_segment(h, "header")?;
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(JwtError::Malformed("no alg"))?;
        let alg = algorithms::from_name(alg)?;
        if s.is_empty() {
            return Err(JwtError::Malformed("empty signature"));
        }
        if header.contains_key("crit") {
            return Err(JwtError::CritHeader);
        }
        let payload = decode_segment(p, "payload")?;
        let issuer = payload
            .get("iss")
            .and_then(Value::as_str)
            .and_then(|iss| self.issuers.get(iss))
            .ok_or(JwtError::UnknownIssuer)?;
        if !issuer.config.algorithms.contains(&alg) {
            return Err(JwtError::AlgNotAllowed);
        }
        if let Some(accepted) = &issuer.config.typ {
            let typ = header.get("typ").and_then(Value::as_str);
            if !typ.is_some_and(|t| typ_matches(t, accepted)) {
                return Err(JwtError::WrongTyp);
            }
        }
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or(JwtError::MissingKid)?;
        let key = issuer.cache.key(kid, now.instant).await?;
        key.check_fits(alg)?;
        let validation = issuer
            .validations
            .get(&alg)
            .ok_or(JwtError::AlgNotAllowed)?;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, validation)
            .map_err(|e| map_decode_error(e.kind()))?;
        let claims = data.claims;
        issuer.config.rules.check(&claims, now.unix)?;
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or(JwtError::MissingSub)?
            .to_owned();
        Ok(VerifiedToken {
            issuer: issuer.config.rules.issuer.clone(),
            subject,
            alg,
            kid: kid.to_owned(),
            scopes: token_scopes(&claims),
            claims,
        })
    }
}

fn map_decode_error(kind: &ErrorKind) -> JwtError {
    match kind {
        ErrorKind::InvalidSignature => JwtError::BadSignature,
        ErrorKind::MissingRequiredClaim(c) if c == "exp" => JwtError::MissingExp,
        ErrorKind::MissingRequiredClaim(c) if c == "sub" => JwtError::MissingSub,
        ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidIssuer => JwtError::UnknownIssuer,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => JwtError::AlgNotAllowed,
        ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => JwtError::KeyMismatch,
        ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_)
        | ErrorKind::InvalidToken => JwtError::Malformed("undecodable"),
        _ => JwtError::BadSignature,
    }
}
