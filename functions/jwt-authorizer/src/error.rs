//! Typed reasons a token (or the key set behind it) fails. Each has a short, stable `code()`
//! for logs and metrics; no variant ever carries the token or a claim value an attacker chose
//! beyond what is needed to diagnose configuration (never the raw token).

use thiserror::Error;

/// Why a token was not accepted. Every variant ends in `Unauthorized` (or Deny): fail closed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JwtError {
    /// No token was found in any configured source.
    #[error("no token in the request")]
    MissingToken,
    /// Two different tokens arrived in one request (e.g. header and cookie).
    #[error("more than one distinct token in the request")]
    AmbiguousToken,
    /// The `Authorization` header is not `Bearer <token>`.
    #[error("authorization header is not a Bearer token")]
    NotBearer,
    /// The token exceeds the configured size cap; it was not parsed.
    #[error("token larger than {max} bytes")]
    TokenTooLarge {
        /// Configured cap in bytes.
        max: usize,
    },
    /// Not three base64url segments of JSON objects.
    #[error("token is malformed: {0}")]
    Malformed(&'static str),
    /// `alg` is `none`.
    #[error("alg none is never accepted")]
    AlgNone,
    /// An HMAC algorithm (`HS*`) was presented; keys here are public keys.
    #[error("HMAC algorithms are never accepted")]
    AlgHmac,
    /// `alg` is not in the issuer's allowlist (or not a JWS algorithm at all).
    #[error("alg not in the allowlist")]
    AlgNotAllowed,
    /// The header lists `crit` extensions, which are not understood.
    #[error("critical header extensions are not supported")]
    CritHeader,
    /// `typ` header did not match the configured values.
    #[error("typ header not accepted")]
    WrongTyp,
    /// The header has no `kid`.
    #[error("token has no kid")]
    MissingKid,
    /// The token's `iss` is missing or not a configured issuer.
    #[error("issuer not configured")]
    UnknownIssuer,
    /// No key with this `kid` in the issuer's key set (after the permitted re-fetch).
    #[error("no key with this kid")]
    UnknownKid,
    /// The key's `kty`/`crv`/`alg`/`use`/`key_ops` disagree with the token's `alg`.
    #[error("key does not fit the token algorithm")]
    KeyMismatch,
    /// The key set could not be fetched or parsed and no usable last-good copy exists.
    #[error("key set unavailable: {0}")]
    JwksUnavailable(String),
    /// Signature verification failed.
    #[error("signature invalid")]
    BadSignature,
    /// `exp` missing or not a number.
    #[error("exp claim missing or not numeric")]
    MissingExp,
    /// `exp` is in the past (beyond leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future (beyond leeway) or not numeric.
    #[error("iat in the future or malformed")]
    IssuedInFuture,
    /// Token older than the configured max age (or `iat` missing when a max age is set).
    #[error("token older than the max token age")]
    TooOld,
    /// A time claim is present but not a number.
    #[error("claim {0} has an invalid format")]
    InvalidClaimFormat(&'static str),
    /// `aud` (or Cognito `client_id`) is not one of the configured audiences.
    #[error("audience not accepted")]
    WrongAudience,
    /// Cognito `token_use` is missing or not permitted.
    #[error("token_use not accepted")]
    WrongTokenUse,
    /// `sub` missing or empty.
    #[error("sub claim missing")]
    MissingSub,
    /// A configured required claim is missing or has another value.
    #[error("required claim {0} missing or mismatched")]
    ClaimMismatch(String),
    /// The request's deadline passed before the token could be verified.
    #[error("deadline exceeded while verifying")]
    Deadline,
    /// The policy for a valid token could not be built (configuration vs API Gateway limits).
    #[error("policy could not be built: {0}")]
    Policy(String),
}

impl JwtError {
    /// Short, stable reason code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::AmbiguousToken => "ambiguous_token",
            Self::NotBearer => "not_bearer",
            Self::TokenTooLarge { .. } => "token_too_large",
            Self::Malformed(_) => "malformed",
            Self::AlgNone => "alg_none",
            Self::AlgHmac => "alg_hmac",
            Self::AlgNotAllowed => "alg_not_allowed",
            Self::CritHeader => "crit_header",
            Self::WrongTyp => "wrong_typ",
            Self::MissingKid => "missing_kid",
            Self::UnknownIssuer => "unknown_issuer",
            Self::UnknownKid => "unknown_kid",
            Self::KeyMismatch => "key_mismatch",
            Self::JwksUnavailable(_) => "jwks_unavailable",
            Self::BadSignature => "bad_signature",
            Self::MissingExp => "missing_exp",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "iat_in_future",
            Self::TooOld => "too_old",
            Self::InvalidClaimFormat(_) => "invalid_claim_format",
            Self::WrongAudience => "wrong_audience",
            Self::WrongTokenUse => "wrong_token_use",
            Self::MissingSub => "missing_sub",
            Self::ClaimMismatch(_) => "claim_mismatch",
            Self::Deadline => "deadline",
            Self::Policy(_) => "policy_error",
        }
    }
}

/// Why a key set could not be fetched (the fetcher's error; never contains key material).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FetchError {
    /// Connect/read failure or timeout.
    #[error("transport: {0}")]
    Transport(String),
    /// Non-success HTTP status.
    #[error("http status {0}")]
    Status(u16),
    /// The response body exceeded the size cap.
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    /// The body is not a usable document (JWKS or OIDC discovery).
    #[error("invalid document: {0}")]
    Invalid(String),
    /// The OIDC discovery document names another issuer.
    #[error("discovery issuer mismatch")]
    IssuerMismatch,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_short_snake_case_and_distinct() {
        let all = [
            JwtError::MissingToken,
            JwtError::AmbiguousToken,
            JwtError::NotBearer,
            JwtError::TokenTooLarge { max: 1 },
            JwtError::Malformed("x"),
            JwtError::AlgNone,
            JwtError::AlgHmac,
            JwtError::AlgNotAllowed,
            JwtError::CritHeader,
            JwtError::WrongTyp,
            JwtError::MissingKid,
            JwtError::UnknownIssuer,
            JwtError::UnknownKid,
            JwtError::KeyMismatch,
            JwtError::JwksUnavailable("x".into()),
            JwtError::BadSignature,
            JwtError::MissingExp,
            JwtError::Expired,
            JwtError::NotYetValid,
            JwtError::IssuedInFuture,
            JwtError::TooOld,
            JwtError::InvalidClaimFormat("exp"),
            JwtError::WrongAudience,
            JwtError::WrongTokenUse,
            JwtError::MissingSub,
            JwtError::ClaimMismatch("x".into()),
            JwtError::Deadline,
            JwtError::Policy("x".into()),
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(JwtError::code).collect();
        assert_eq!(codes.len(), all.len());
        assert!(
            codes
                .iter()
                .all(|c| c.len() <= 24 && c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
        );
    }
}
