//! The header-secret authorizer: the front door's origin proof alone. CloudFront adds a secret
//! header to every origin request; a request that carries one of the secrets of an SSM
//! parameter (one per line) is let into the whole API, any other is denied. With
//! `ORIGIN_CERT_SHA256` the proof is (also) CloudFront's pinned client certificate, presented
//! to a custom domain that requires mutual TLS: the lock-down without a shared secret.
//!
//! The decision does not depend on the route, so an Allow covers the whole API stage and
//! API Gateway's authorizer cache can never reuse a narrower policy for another route.

mod config;

use portcullis::door::{CallerCheck, Clock, FrontDoor, Unavailable, Verdict};
use portcullis::origin::SecretProof;
use portcullis::policy::{Context, Decision};
use portcullis::request::AuthorizerRequest;
use portcullis::secrets::SecretSource;

pub use config::Config;

/// Principal of an allowed request: the CloudFront distribution that knows the secret.
pub const PRINCIPAL_ALLOWED: &str = "cloudfront";
/// The function's name in metrics.
pub const FUNCTION: &str = "header-secret-authorizer";

/// The caller check of a request that passed the origin proof: nothing more to check. The
/// Allow's context names the lock-down (`header-secret`, `origin-mtls`, or both).
#[derive(Debug, Clone, Copy)]
pub struct OriginOnly {
    lockdown: &'static str,
}

impl OriginOnly {
    /// The check for `config`'s proofs.
    pub fn new(config: &Config) -> Self {
        let lockdown = match (config.proof.is_some(), config.door.cert_pins.is_some()) {
            (true, true) => "header-secret,origin-mtls",
            (false, true) => "origin-mtls",
            _ => "header-secret",
        };
        Self { lockdown }
    }
}

impl CallerCheck for OriginOnly {
    async fn check(
        &self,
        request: &AuthorizerRequest,
        _clock: Clock,
    ) -> Result<Verdict, Unavailable> {
        let mut context = Context::new();
        context
            .insert("lockdown", self.lockdown)
            .expect("static key is not empty");
        Ok(Verdict::Decision {
            decision: Decision::allow_all(PRINCIPAL_ALLOWED, &request.method_arn, context),
            reason: "match",
        })
    }
}

/// The authorizer: the front door with the secret proof and nothing else.
pub type Authorizer<S> = FrontDoor<S, OriginOnly>;

/// The authorizer of `config`, reading the secrets (when the secret proof is configured) from
/// `source`.
pub fn authorizer<S: SecretSource>(source: S, config: &Config) -> Authorizer<S> {
    let proof = config
        .proof
        .as_ref()
        .map(|proof| SecretProof::new(source, proof, true));
    FrontDoor::new(FUNCTION, &config.door, proof, OriginOnly::new(config))
}

#[cfg(test)]
mod tests;
