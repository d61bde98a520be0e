//! Loopback servers the bench puts around the functions: a counting proxy in front of moto
//! (SSM `GetParameter` calls), a JWKS server that counts its hits, and an echo runtime that
//! measures the emulator's own round trip.

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
