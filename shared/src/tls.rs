//! The process's one TLS client configuration: rustls on aws-lc-rs with the platform verifier
//! (the system trust store; `SSL_CERT_FILE` honoured). Every client of a function — the AWS SDK
//! clients and the JWKS and canary fetchers — takes a copy, and the copies share one verifier,
//! so the trust store (about 150 certificates, some 2 ms of CPU to load) is read once per
//! process instead of once per client at every cold start.

use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;
use rustls_platform_verifier::BuilderVerifierExt;

static CONFIG: OnceLock<Result<ClientConfig, Arc<str>>> = OnceLock::new();

/// A copy of the process's TLS client configuration (built, and the trust store loaded, at the
/// first call), or why it cannot be built: every client that needs it then fails closed.
pub fn client_config() -> Result<ClientConfig, Arc<str>> {
    CONFIG.get_or_init(build).clone()
}

fn build() -> Result<ClientConfig, Arc<str>> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map(|builder| builder.with_no_client_auth())
        .map_err(|e| format!("TLS configuration failed: {e}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Copies come from one build: a second build would have its own provider (and verifier,
    /// and trust store load).
    #[test]
    fn every_copy_comes_from_one_build() {
        let first = client_config().expect("the platform trust store loads");
        let second = client_config().expect("the platform trust store loads");
        assert!(Arc::ptr_eq(
            first.crypto_provider(),
            second.crypto_provider()
        ));
        assert!(!Arc::ptr_eq(
            first.crypto_provider(),
            build().unwrap().crypto_provider()
        ));
    }
}
