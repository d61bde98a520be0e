//! The JWT authorizer: a verifier core with no Lambda types, and the [`handler`] that answers
//! API Gateway.
//!
//! - [`algorithms`]: the asymmetric-only allowlist (`none`/`HS*` never pass).
//! - [`crypto`]: jsonwebtoken's aws-lc verification with each key parsed once.
//! - [`keys`]: a parsed JWKS; key type/curve/`alg`/`use` must fit the token.
//! - [`fetch`]: the [`JwksFetcher`] trait, its reqwest adapter (OIDC discovery, timeouts, size
//!   cap) and an in-memory adapter.
//! - [`cache`]: per-issuer JWKS cache (max age, background refresh, unknown-kid re-fetch at most
//!   once per interval, single-flight, keep-last-good within a bound).
//! - [`claims`]: `exp`/`nbf`/`iat`/max age with leeway, `iss`, `aud`, Cognito `token_use`,
//!   required claims.
//! - [`scopes`]: `scope`/`scp` and the route → scopes map.
//! - [`verifier`]: ties them together; time is passed in.
//! - [`settings`]: the `JWT_*` environment settings.
//! - [`authorize`]: token sources, route policy and context for a request (uses
//!   [`portcullis::request`] and [`portcullis::policy`]).
//! - [`error`]: one typed reason per failure, with a short `code()` for logs.

pub mod algorithms;
pub mod authorize;
pub mod cache;
pub mod claims;
pub mod crypto;
pub mod error;
pub mod fetch;
pub mod handler;
pub mod keys;
pub mod scopes;
pub mod settings;
pub mod verifier;

pub use authorize::{RoutePolicy, authorize, extract_token};
pub use cache::{CacheConfig, JwksCache};
pub use claims::{ClaimRules, RequiredClaim, TokenUse};
pub use error::{FetchError, JwtError};
pub use fetch::{HttpFetcher, HttpLimits, JwksFetcher, JwksLocation, MemoryFetcher};
pub use scopes::{RouteScopes, ScopeMode};
pub use settings::{JwtSettings, TokenSource};
pub use verifier::{IssuerConfig, Now, VerifiedToken, Verifier};

#[cfg(test)]
mod tests;
