//! The process's TLS configuration (`portcullis::tls`) over real TLS handshakes, through the
//! SDK's HTTP client (`portcullis::secrets::sdk_http_client`) and jwt-authorizer's JWKS fetcher:
//! moto serving HTTPS with a certificate from a test CA, trusted the way a function trusts CAs
//! on Lambda (the platform trust store, here `SSL_CERT_FILE` naming the test CA alone).
//!
//! One test in this binary: `SSL_CERT_FILE` is set before any TLS client exists.

use std::path::Path;
use std::time::Duration;

use jwt_authorizer::{FetchError, HttpFetcher, HttpLimits, JwksFetcher, JwksLocation};

use portcullis::secrets::{SecretSource, SourceError, SsmSource};
use portcullis_tests::Moto;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// Writes `ca.pem`, `cert.pem` (for `localhost` only) and `key.pem` into `dir`.
fn write_test_pki(dir: &Path) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    // Distinct names: rcgen's default is the same for both, which makes the server certificate
    // look self-signed to OpenSSL.
    ca.distinguished_name
        .push(DnType::CommonName, "portcullis test CA");
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = server.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_pem).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
}

fn ssm_at(moto: &Moto, endpoint: &str) -> SsmSource {
    let config = aws_sdk_ssm::config::Builder::from(&moto.sdk_config())
        .endpoint_url(endpoint)
        .build();
    SsmSource::new(aws_sdk_ssm::Client::from_conf(config))
}

#[tokio::test]
async fn sdk_and_jwks_calls_verify_the_server_over_tls_and_fail_closed_on_a_wrong_name() {
    let pki = tempfile::tempdir().unwrap();
    write_test_pki(pki.path());
    // SAFETY: the only test of this binary, before any thread reads the environment.
    unsafe { std::env::set_var("SSL_CERT_FILE", pki.path().join("ca.pem")) };

    let moto = Moto::start_tls(pki.path().join("cert.pem"), pki.path().join("key.pem")).await;
    let endpoint = moto.endpoint();
    assert!(endpoint.starts_with("https://localhost:"), "{endpoint}");
    moto.put_secure("/portcullis/tls-test", "over-tls").await;

    let value = ssm_at(&moto, &endpoint)
        .fetch("/portcullis/tls-test")
        .await
        .expect("the certificate verifies against the test CA");
    assert_eq!(value.expose(), "over-tls");

    // The same server by its address: the certificate names `localhost` only.
    let by_address = endpoint.replace("localhost", "127.0.0.1");
    match ssm_at(&moto, &by_address)
        .fetch("/portcullis/tls-test")
        .await
    {
        Err(SourceError::Unavailable(cause)) => assert!(
            cause.starts_with("connection failed: invalid peer certificate: ")
                && cause.contains(r#"not valid for name "127.0.0.1""#),
            "{cause}"
        ),
        other => panic!("expected a TLS failure, got {other:?}"),
    }

    // jwt-authorizer's fetcher (reqwest) on the same configuration: a JSON document by the
    // certificate's name, a refused connection by the address.
    let limits = HttpLimits {
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(10),
        max_bytes: 1 << 20,
    };
    let fetcher = |base: &str| {
        let url = reqwest::Url::parse(&format!("{base}/moto-api/data.json")).unwrap();
        let client = HttpFetcher::client(&limits).expect("a client on the process's TLS");
        HttpFetcher::with_client(client, JwksLocation::Direct(url), limits)
    };
    let body = fetcher(&endpoint)
        .fetch()
        .await
        .expect("the certificate verifies against the test CA");
    let document: serde_json::Value = serde_json::from_slice(&body).expect("moto's JSON");
    assert!(document.is_object(), "{document}");
    match fetcher(&by_address).fetch().await {
        Err(FetchError::Transport(reason)) => assert_eq!(reason, "connect failed"),
        other => panic!("expected a TLS failure, got {other:?}"),
    }
}
