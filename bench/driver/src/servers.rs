//! Loopback servers the bench puts around the functions: a counting proxy in front of moto
//! (SSM `GetParameter` calls), a JWKS server that counts its hits, a TLS front for both (so the
//! functions reach them over HTTPS, as on Lambda), and an echo runtime that measures the
//! emulator's own round trip.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// A request counter shared with a server task.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Requests counted so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    client: reqwest::Client,
    get_parameter: Counter,
}

/// Starts a reverse proxy to `upstream` (moto) on loopback; returns its URL and the counter of
/// SSM `GetParameter`/`GetParameters` calls that went through it.
pub async fn ssm_proxy(upstream: String) -> (String, Counter) {
    let counter = Counter::default();
    let state = Proxy {
        upstream,
        client: reqwest::Client::new(),
        get_parameter: counter.clone(),
    };
    let app = Router::new().fallback(forward).with_state(state);
    (serve(app).await, counter)
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if target.starts_with("AmazonSSM.GetParameter") {
        proxy.get_parameter.hit();
    }
    let Ok(body) = axum::body::to_bytes(body, 16 << 20).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut upstream = proxy
        .client
        .request(parts.method, format!("{}{path}", proxy.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            upstream = upstream.header(name, value);
        }
    }
    match upstream.send().await {
        Ok(answer) => {
            let status = answer.status();
            let headers: Vec<(HeaderName, HeaderValue)> = answer
                .headers()
                .iter()
                .filter(|(n, _)| *n != header::CONTENT_LENGTH && *n != header::TRANSFER_ENCODING)
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect();
            let bytes = answer.bytes().await.unwrap_or_default();
            let mut response = (status, bytes).into_response();
            response.headers_mut().extend(headers);
            response
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

/// Starts a JWKS server serving `jwks` at `/jwks.json`; returns its URL and hit counter.
pub async fn jwks_server(jwks: String) -> (String, Counter) {
    let counter = Counter::default();
    let state = (Arc::new(jwks), counter.clone());
    let app = Router::new()
        .route(
            "/jwks.json",
            get(
                |State((jwks, hits)): State<(Arc<String>, Counter)>| async move {
                    hits.hit();
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        (*jwks).clone(),
                    )
                },
            ),
        )
        .with_state(state);
    let base = serve(app).await;
    (format!("{base}/jwks.json"), counter)
}

/// Where the system's CA bundle may be: the trust store a function loads on Lambda.
const SYSTEM_BUNDLES: [&str; 2] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// A test CA, a server certificate for `127.0.0.1` it signed, and the trust files naming it.
pub struct Tls {
    acceptor: tokio_rustls::TlsAcceptor,
    /// The system bundle plus the test CA (`SSL_CERT_FILE`, `AWS_CA_BUNDLE`).
    pub bundle: PathBuf,
    /// The test CA alone (`NODE_EXTRA_CA_CERTS`: Node adds it to its own roots).
    pub ca: PathBuf,
}

impl Tls {
    /// Issues the CA and certificate and writes `ca.pem` and `bundle.pem` into `dir`.
    pub fn new(dir: &Path) -> Self {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        };
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        ca.distinguished_name
            .push(DnType::CommonName, "portcullis bench CA");
        let ca_pem = ca.self_signed(&ca_key).expect("CA certificate").pem();
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().expect("server key");
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("server params");
        server
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let cert = server.signed_by(&key, &issuer).expect("server certificate");

        std::fs::create_dir_all(dir).expect("TLS folder");
        let system = SYSTEM_BUNDLES
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_else(|| panic!("no system CA bundle at {SYSTEM_BUNDLES:?}"));
        let (ca_path, bundle) = (dir.join("ca.pem"), dir.join("bundle.pem"));
        std::fs::write(&ca_path, &ca_pem).expect("write ca.pem");
        std::fs::write(&bundle, format!("{system}\n{ca_pem}")).expect("write bundle.pem");

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .expect("server certificate and key");
        Self {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            bundle,
            ca: ca_path,
        }
    }

    /// Terminates TLS on a new loopback port and forwards each connection to the server of
    /// `upstream` (`http://127.0.0.1:<port>[/path]`, a server of this module); returns the same
    /// URL on the front, `https://127.0.0.1:<front port>[/path]`.
    pub async fn front(&self, upstream: &str) -> String {
        let rest = upstream
            .strip_prefix("http://")
            .expect("an http:// upstream");
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (upstream, path) = (authority.to_owned(), path.to_owned());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("loopback port");
        let addr = listener.local_addr().expect("bound address");
        let acceptor = self.acceptor.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
                tokio::spawn(async move {
                    // No Nagle on either leg: a small write held for the peer's delayed ACK
                    // costs 40 ms, which the front must not add to anyone's figures.
                    let _ = client.set_nodelay(true);
                    let Ok(mut client) = acceptor.accept(client).await else {
                        return;
                    };
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = server.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        format!("https://{addr}{path}")
    }

    /// The variables that make every runtime trust the test CA: Rust (rustls' platform
    /// verifier) and Python's `ssl` read `SSL_CERT_FILE`, botocore `AWS_CA_BUNDLE`, Node
    /// `NODE_EXTRA_CA_CERTS`.
    pub fn trust_env(&self) -> Vec<(String, String)> {
        let bundle = self.bundle.display().to_string();
        vec![
            ("SSL_CERT_FILE".into(), bundle.clone()),
            ("AWS_CA_BUNDLE".into(), bundle),
            ("NODE_EXTRA_CA_CERTS".into(), self.ca.display().to_string()),
        ]
    }
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback port");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// The smallest Runtime API client: answers every event with `{}`. Run as a separate process
/// (`portcullis-bench --echo-runtime`), it measures what the emulator and the HTTP round trip
/// cost per invoke, so the other figures can be read net of it.
pub async fn echo_runtime() {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").expect("AWS_LAMBDA_RUNTIME_API is set");
    let base = format!("http://{api}/2018-06-01/runtime");
    let client = reqwest::Client::new();
    loop {
        let Ok(next) = client.get(format!("{base}/invocation/next")).send().await else {
            return;
        };
        let id = next
            .headers()
            .get("lambda-runtime-aws-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let _: Bytes = next.bytes().await.unwrap_or_default();
        if client
            .post(format!("{base}/invocation/{id}/response"))
            .body("{}")
            .send()
            .await
            .is_err()
        {
            return;
        }
    }
}
