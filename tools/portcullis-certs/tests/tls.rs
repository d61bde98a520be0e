//! A real mutual-TLS handshake, no mocks: an HTTPS server on 127.0.0.1 that requires a client
//! certificate verified against the truststore `portcullis-certs truststore` wrote (rustls'
//! `WebPkiClientVerifier`, as API Gateway does against its S3 truststore) accepts the
//! certificate `portcullis-certs client` issued, as CloudFront presents it (certificate and
//! chain), and refuses everything else. Over TLS 1.2 and TLS 1.3.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, RootCertStore, SupportedProtocolVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use common::{ok, sha256_hex};

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

const VERSIONS: [&SupportedProtocolVersion; 2] = [&rustls::version::TLS12, &rustls::version::TLS13];

fn provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

/// What the server made of one connection: the pin of the certificate it accepted, or why
/// the handshake failed.
type Outcome = Result<String, rustls::Error>;

/// An HTTPS server requiring client certificates that chain to `truststore`.
struct Origin {
    addr: std::net::SocketAddr,
    server_cert: CertificateDer<'static>,
    outcomes: mpsc::UnboundedReceiver<Outcome>,
}

impl Origin {
    async fn start(truststore: &Path, version: &'static SupportedProtocolVersion) -> Self {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(truststore).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .unwrap();
        // The server's own identity is scaffolding, not under test.
        let key = rcgen::KeyPair::generate().unwrap();
        let server_cert = rcgen::CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap()
            .der()
            .clone();
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[version])
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![server_cert.clone()],
                PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
            )
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, outcomes) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(serve(acceptor, tcp).await);
                });
            }
        });
        Self {
            addr,
            server_cert,
            outcomes,
        }
    }

    /// The server's verdict on the last connection.
    async fn outcome(&mut self) -> Outcome {
        tokio::time::timeout(TIMEOUT, self.outcomes.recv())
            .await
            .expect("the server reports in time")
            .expect("the server reports")
    }
}

/// One connection: handshake, then answer one HTTP request with the pin of the client's
/// certificate.
async fn serve(acceptor: TlsAcceptor, tcp: TcpStream) -> Outcome {
    let mut tls = match acceptor.accept(tcp).await {
        Ok(tls) => tls,
        Err(e) => {
            return Err(e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .cloned()
                .unwrap_or_else(|| rustls::Error::General(e.to_string())));
        }
    };
    let pin = {
        let (_, conn) = tls.get_ref();
        let chain = conn
            .peer_certificates()
            .expect("a verified client certificate");
        sha256_hex(&chain[0])
    };
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut buf).await.unwrap();
        assert_ne!(n, 0, "request cut short");
        request.extend_from_slice(&buf[..n]);
    }
    assert!(request.starts_with(b"GET /orders HTTP/1.1\r\n"));
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{pin}",
        pin.len()
    );
    tls.write_all(response.as_bytes()).await.unwrap();
    tls.shutdown().await.unwrap();
    Ok(pin)
}

/// A client presenting `identity` (a `portcullis-certs client` directory: certificate then
/// chain, as CloudFront presents an ACM certificate), or no certificate. The response, or
/// the error that ended the exchange.
async fn get(
    origin: &Origin,
    identity: Option<&Path>,
    version: &'static SupportedProtocolVersion,
) -> Result<String, std::io::Error> {
    tokio::time::timeout(TIMEOUT, exchange(origin, identity, version))
        .await
        .expect("the exchange ends in time")
}

async fn exchange(
    origin: &Origin,
    identity: Option<&Path>,
    version: &'static SupportedProtocolVersion,
) -> Result<String, std::io::Error> {
    let mut roots = RootCertStore::empty();
    roots.add(origin.server_cert.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some(dir) => {
            let mut chain: Vec<CertificateDer<'static>> = Vec::new();
            for file in ["certificate.pem", "certificate-chain.pem"] {
                for cert in CertificateDer::pem_file_iter(dir.join(file)).unwrap() {
                    chain.push(cert.unwrap());
                }
            }
            let key = PrivateKeyDer::from_pem_file(dir.join("private-key.pem")).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    let tcp = TcpStream::connect(origin.addr).await?;
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await?;
    tls.write_all(b"GET /orders HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await?;
    let mut response = String::new();
    tls.read_to_string(&mut response).await?;
    Ok(response)
}

/// Certificates made by the real binary in a scratch directory.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// CA `ca` with client `cloudfront` and truststore `truststore.pem`; CA `other-ca` with
    /// client `rogue`; `expired`, from `ca`, valid in January 2020 only.
    fn new() -> (Self, String) {
        let pki = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        let d = pki.dir.path();
        ok(d, &["ca", "--out-dir", "ca"]);
        let pin = ok(d, &["client", "--ca", "ca", "--out-dir", "cloudfront"]);
        ok(
            d,
            &[
                "truststore",
                "--out",
                "truststore.pem",
                "ca/ca-certificate.pem",
            ],
        );
        ok(d, &["ca", "--out-dir", "other-ca", "--cn", "another CA"]);
        ok(d, &["client", "--ca", "other-ca", "--out-dir", "rogue"]);
        ok(
            d,
            &[
                "client",
                "--ca",
                "ca",
                "--out-dir",
                "expired",
                "--not-before",
                "2020-01-01",
                "--days",
                "30",
                "--allow-expired",
            ],
        );
        (pki, pin)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// `get` refused: no response at all, never a 200.
fn assert_refused(result: &Result<String, std::io::Error>, what: &str) {
    if let Ok(response) = result {
        assert!(
            response.is_empty(),
            "{what}: the origin answered {response:?}"
        );
    }
}

#[tokio::test]
async fn the_cloudfront_certificate_is_accepted_and_its_pin_is_what_the_origin_sees() {
    let (pki, pin) = Pki::new();
    for version in VERSIONS {
        let mut origin = Origin::start(&pki.path("truststore.pem"), version).await;
        let response = get(&origin, Some(&pki.path("cloudfront")), version)
            .await
            .unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.ends_with(&format!("\r\n\r\n{pin}")), "{response}");
        assert_eq!(origin.outcome().await.unwrap(), pin, "{version:?}");
    }
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let (pki, _) = Pki::new();
    for version in VERSIONS {
        let mut origin = Origin::start(&pki.path("truststore.pem"), version).await;
        let result = get(&origin, Some(&pki.path("rogue")), version).await;
        assert_refused(&result, "another CA");
        assert_eq!(
            origin.outcome().await.unwrap_err(),
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
            "{version:?}"
        );
    }
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let (pki, _) = Pki::new();
    for version in VERSIONS {
        let mut origin = Origin::start(&pki.path("truststore.pem"), version).await;
        let result = get(&origin, Some(&pki.path("expired")), version).await;
        assert_refused(&result, "expired");
        let err = origin.outcome().await.unwrap_err();
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(
                    CertificateError::Expired | CertificateError::ExpiredContext { .. }
                )
            ),
            "{version:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_connection_without_a_certificate_is_refused() {
    let (pki, _) = Pki::new();
    for version in VERSIONS {
        let mut origin = Origin::start(&pki.path("truststore.pem"), version).await;
        let result = get(&origin, None, version).await;
        assert_refused(&result, "no certificate");
        assert_eq!(
            origin.outcome().await.unwrap_err(),
            rustls::Error::NoCertificatesPresented,
            "{version:?}"
        );
    }
}

/// Why the client certificate carries extended key usage clientAuth: the same CA's
/// server-only certificate is refused.
#[tokio::test]
async fn a_server_only_certificate_from_the_trusted_ca_is_refused() {
    let (pki, _) = Pki::new();
    let ca_key = rcgen::KeyPair::from_pem(
        &std::fs::read_to_string(pki.path("ca/ca-private-key.pem")).unwrap(),
    )
    .unwrap();
    let ca = rcgen::Issuer::from_ca_cert_pem(
        &std::fs::read_to_string(pki.path("ca/ca-certificate.pem")).unwrap(),
        ca_key,
    )
    .unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["cloudfront-origin".into()]).unwrap();
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    let dir = pki.path("server-only");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("certificate.pem"), cert.pem()).unwrap();
    std::fs::copy(
        pki.path("ca/ca-certificate.pem"),
        dir.join("certificate-chain.pem"),
    )
    .unwrap();
    std::fs::write(dir.join("private-key.pem"), key.serialize_pem()).unwrap();

    for version in VERSIONS {
        let mut origin = Origin::start(&pki.path("truststore.pem"), version).await;
        let result = get(&origin, Some(&dir), version).await;
        assert_refused(&result, "server-only");
        let err = origin.outcome().await.unwrap_err();
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(
                    CertificateError::InvalidPurpose
                        | CertificateError::InvalidPurposeContext { .. }
                )
            ),
            "{version:?}: {err:?}"
        );
    }
}

/// CA rotation: while the truststore holds the old and the new CA, certificates of both are
/// accepted; once it holds only the new one, the old CA's certificate is refused.
#[tokio::test]
async fn a_truststore_with_old_and_new_ca_accepts_both() {
    let (pki, old_pin) = Pki::new();
    let d = pki.dir.path();
    let new_pin = ok(d, &["client", "--ca", "other-ca", "--out-dir", "new"]);
    ok(
        d,
        &[
            "truststore",
            "--out",
            "both.pem",
            "ca/ca-certificate.pem",
            "other-ca/ca-certificate.pem",
        ],
    );
    ok(
        d,
        &[
            "truststore",
            "--out",
            "new-only.pem",
            "other-ca/ca-certificate.pem",
        ],
    );
    let version = &rustls::version::TLS13;

    let mut origin = Origin::start(&pki.path("both.pem"), version).await;
    for (client, pin) in [("cloudfront", &old_pin), ("new", &new_pin)] {
        let response = get(&origin, Some(&pki.path(client)), version)
            .await
            .unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{client}");
        assert_eq!(&origin.outcome().await.unwrap(), pin, "{client}");
    }

    let mut origin = Origin::start(&pki.path("new-only.pem"), version).await;
    let result = get(&origin, Some(&pki.path("cloudfront")), version).await;
    assert_refused(&result, "old CA after rotation");
    assert_eq!(
        origin.outcome().await.unwrap_err(),
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
    get(&origin, Some(&pki.path("new")), version).await.unwrap();
    assert_eq!(origin.outcome().await.unwrap(), new_pin);
}
