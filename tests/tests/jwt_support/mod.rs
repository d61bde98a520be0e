//! Support for the JWT authorizer's integration tests: a real loopback HTTP JWKS/OIDC server
//! with fault injection and request counters, token minting through PyJWT
//! (functions/jwt-authorizer/mint-tokens.py), and API Gateway event builders.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// What the JWKS endpoint does on the next requests.
#[derive(Debug, Clone, Default)]
pub enum Fault {
    /// Serve the current key set.
    #[default]
    None,
    /// Answer with this status.
    Status(u16),
    /// Answer 200 with an HTML page.
    Garbage,
    /// Wait this long, then serve the key set.
    Slow(Duration),
    /// Answer 200 with a valid key set padded to 1 MiB.
    Huge,
    /// Answer 200 with a valid key set padded to this many bytes.
    Padded(usize),
    /// Answer 200 with JSON cut off mid-document.
    InvalidJson,
    /// Answer 302 to the JWKS URL itself, forever.
    RedirectLoop,
    /// Serve the key set with every key's `kty` replaced by this value.
    WrongKty(&'static str),
}

#[derive(Default)]
struct ServerState {
    base: String,
    jwks: Mutex<Value>,
    fault: Mutex<Fault>,
    discovery_issuer: Mutex<Option<String>>,
    jwks_hits: AtomicUsize,
    discovery_hits: AtomicUsize,
}

/// A JWKS + OIDC discovery server on 127.0.0.1.
pub struct JwksServer {
    state: Arc<ServerState>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    /// Start on a free loopback port, serving `{"keys": []}` until [`Self::set_keys`].
    pub async fn start() -> JwksServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(ServerState {
            base,
            jwks: Mutex::new(json!({"keys": []})),
            ..ServerState::default()
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks.json", get(jwks))
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        JwksServer { state, task }
    }

    /// `http://127.0.0.1:<port>` — also the issuer its discovery document names.
    pub fn base(&self) -> &str {
        &self.state.base
    }

    /// The JWKS URL.
    pub fn jwks_uri(&self) -> String {
        format!("{}/jwks.json", self.state.base)
    }

    /// Publish these JWKs.
    pub fn set_keys(&self, keys: &[&Value]) {
        *self.state.jwks.lock().unwrap() = json!({ "keys": keys });
    }

    /// Inject a fault (or [`Fault::None`]).
    pub fn set_fault(&self, fault: Fault) {
        *self.state.fault.lock().unwrap() = fault;
    }

    /// Make the discovery document name another issuer.
    pub fn set_discovery_issuer(&self, issuer: &str) {
        *self.state.discovery_issuer.lock().unwrap() = Some(issuer.to_owned());
    }

    /// Requests to the JWKS endpoint so far.
    pub fn jwks_hits(&self) -> usize {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }

    /// Requests to the discovery endpoint so far.
    pub fn discovery_hits(&self) -> usize {
        self.state.discovery_hits.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn discovery(State(s): State<Arc<ServerState>>) -> Response {
    s.discovery_hits.fetch_add(1, Ordering::SeqCst);
    let issuer = s
        .discovery_issuer
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_else(|| s.base.clone());
    axum::Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{}/jwks.json", s.base),
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response()
}

async fn jwks(State(s): State<Arc<ServerState>>) -> Response {
    s.jwks_hits.fetch_add(1, Ordering::SeqCst);
    let fault = s.fault.lock().unwrap().clone();
    let body = s.jwks.lock().unwrap().clone();
    match fault {
        Fault::None => axum::Json(body).into_response(),
        Fault::Status(code) => {
            (StatusCode::from_u16(code).unwrap(), "upstream error").into_response()
        }
        Fault::Garbage => (
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Service Unavailable</body></html>",
        )
            .into_response(),
        Fault::Slow(delay) => {
            tokio::time::sleep(delay).await;
            axum::Json(body).into_response()
        }
        Fault::Huge => {
            let mut padded = body;
            padded["padding"] = Value::String("A".repeat(1 << 20));
            axum::Json(padded).into_response()
        }
        Fault::Padded(bytes) => {
            // Built as text: serialising a 10 MB JSON string is slow in a debug build.
            let padded = format!(
                r#"{{"keys":{},"padding":"{}"}}"#,
                body["keys"],
                "A".repeat(bytes)
            );
            ([(header::CONTENT_TYPE, "application/json")], padded).into_response()
        }
        Fault::InvalidJson => {
            let text = body.to_string();
            (
                [(header::CONTENT_TYPE, "application/json")],
                text[..text.len() / 2].to_owned(),
            )
                .into_response()
        }
        Fault::RedirectLoop => (
            StatusCode::FOUND,
            [(header::LOCATION, format!("{}/jwks.json", s.base))],
        )
            .into_response(),
        Fault::WrongKty(kty) => {
            let mut body = body;
            for key in body["keys"].as_array_mut().into_iter().flatten() {
                key["kty"] = Value::String(kty.to_owned());
            }
            axum::Json(body).into_response()
        }
    }
}

/// The JWT demo key set (`events/jwt-authorizer/jwks.json`) on a loopback server.
pub async fn demo_jwks() -> JwksServer {
    let server = JwksServer::start().await;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events/jwt-authorizer/jwks.json");
    let jwks: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    server.set_keys(&jwks["keys"].as_array().unwrap().iter().collect::<Vec<_>>());
    server
}

/// A loopback URL where nothing listens.
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/jwks.json")
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Run mint-tokens.py (PyJWT) on `spec`; returns `{"jwks": {...}, "tokens": {...}}`.
pub fn mint(spec: &Value) -> Value {
    let root = workspace_root();
    let venv = root.join(".venv/bin/python");
    let python = std::env::var_os("PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            if venv.exists() {
                venv
            } else {
                PathBuf::from("python3")
            }
        });
    let mut child = Command::new(&python)
        .arg(root.join("functions/jwt-authorizer/mint-tokens.py"))
        .arg("spec")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (run `make setup`)", python.display()));
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(spec.to_string().as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "mint-tokens.py failed (PyJWT installed? run `make setup`)"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One token request for [`mint`].
pub fn token(name: &str, key: &str, alg: &str, kid: &str, claims: Value) -> Value {
    json!({"name": name, "key": key, "alg": alg, "headers": {"kid": kid}, "claims": claims})
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub const ACCOUNT: &str = "123456789012";
pub const REST_API: &str = "a1b2c3d4e5";

/// The REST method ARN of `VERB /path` on stage `prod`.
pub fn rest_arn(verb: &str, path: &str) -> String {
    format!("arn:aws:execute-api:eu-west-1:{ACCOUNT}:{REST_API}/prod/{verb}/{path}")
}

/// A REST `Resource` ARN pattern on stage `prod`.
pub fn rest_resource(rest: &str) -> String {
    format!("arn:aws:execute-api:eu-west-1:{ACCOUNT}:{REST_API}/prod/{rest}")
}

/// REST TOKEN event for `GET /orders/42` (or `arn`).
pub fn rest_token(token: &str, arn: &str) -> Value {
    json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": arn})
}

/// REST REQUEST event with these headers and query parameters.
pub fn rest_request(headers: Value, query: Value) -> Value {
    json!({
        "type": "REQUEST", "methodArn": rest_arn("GET", "orders/42"), "resource": "/orders/{id}",
        "path": "/orders/42", "httpMethod": "GET", "headers": headers,
        "queryStringParameters": query, "pathParameters": {"id": "42"}, "stageVariables": {},
        "requestContext": {"accountId": ACCOUNT, "apiId": REST_API, "stage": "prod",
            "resourcePath": "/orders/{id}", "httpMethod": "GET", "path": "/prod/orders/42",
            "requestId": "r-1", "identity": {"sourceIp": "203.0.113.10"}}
    })
}

/// HTTP API payload 2.0 event for `verb /path` with a Bearer header.
pub fn http_v2(token: &str, verb: &str, path: &str) -> Value {
    json!({
        "version": "2.0", "type": "REQUEST",
        "routeArn": format!("arn:aws:execute-api:eu-west-1:{ACCOUNT}:h1t2p3a4p5/$default/{verb}/{path}"),
        "identitySource": [format!("Bearer {token}"), format!("{verb} /{path}")], "routeKey": format!("{verb} /{path}"),
        "rawPath": format!("/{path}"), "rawQueryString": "",
        "headers": {"authorization": format!("Bearer {token}"), "host": "api.example.com"},
        "requestContext": {"accountId": ACCOUNT, "apiId": "h1t2p3a4p5", "stage": "$default",
            "requestId": "r-2", "routeKey": format!("{verb} /{path}"),
            "http": {"method": verb, "path": format!("/{path}"), "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10", "userAgent": "test"},
            "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 1767225600000u64}
    })
}

/// WebSocket `$connect` event with the token in the `access_token` query parameter.
pub fn websocket(token: &str) -> Value {
    json!({
        "type": "REQUEST",
        "methodArn": format!("arn:aws:execute-api:eu-west-1:{ACCOUNT}:w1s2o3c4k5/live/$connect"),
        "headers": {"Host": "ws.example.com"}, "queryStringParameters": {"access_token": token},
        "stageVariables": {},
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "stage": "live",
            "connectionId": "abc=", "apiId": "w1s2o3c4k5", "requestId": "r-3",
            "identity": {"sourceIp": "203.0.113.10"}}
    })
}

/// `{"Version": …, "Statement": [one statement]}`.
pub fn policy(effect: &str, resources: &[String]) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resources}]})
}

/// A REST policy allowing route patterns: the Deny of paths with a dot or empty segment, then
/// the Allow of `resources`.
pub fn grants_policy(resources: &[String]) -> Value {
    let deny: Vec<String> = ["*/./*", "*/.", "*/../*", "*/..", "*//*"]
        .iter()
        .map(|p| rest_resource(p))
        .collect();
    json!({"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": deny},
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resources}]})
}
