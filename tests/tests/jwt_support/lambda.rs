//! Stand-in for the harness's Runtime API emulator until `portcullis_harness::Lambda` lands
//! on main; same shape (`Lambda::spawn`, `invoke`, `binary`). Loopback only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// An error result of an invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct InvokeError {
    /// `errorType`.
    pub error_type: String,
    /// `errorMessage`.
    pub error_message: String,
}

type Reply = oneshot::Sender<Result<Value, InvokeError>>;

struct Emu {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Value)>>,
    pending: Mutex<HashMap<String, Reply>>,
    ready: Mutex<Option<oneshot::Sender<()>>>,
}

/// A function binary running against the emulator.
pub struct Lambda {
    child: Child,
    tx: mpsc::UnboundedSender<(String, Value)>,
    emu: Arc<Emu>,
    task: tokio::task::JoinHandle<()>,
    ids: AtomicU64,
}

/// Path of a built function binary (`target/debug/<name>` or `$PORTCULLIS_BIN_DIR/<name>`).
pub fn binary(name: &str) -> PathBuf {
    let dir = std::env::var_os("PORTCULLIS_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug"));
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} missing: cargo build -p {name}",
        path.display()
    );
    path
}

impl Lambda {
    /// Start `binary` with `env` and wait until it polls for its first invocation.
    pub async fn spawn(binary: &Path, env: &[(&str, &str)]) -> Lambda {
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let emu = Arc::new(Emu {
            queue: tokio::sync::Mutex::new(rx),
            pending: Mutex::new(HashMap::new()),
            ready: Mutex::new(Some(ready_tx)),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&emu));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        let child = Command::new(binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "test-function")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test-function")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_REGION", "eu-west-1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::timeout(Duration::from_secs(15), ready_rx)
            .await
            .expect("function did not start polling within 15 s")
            .unwrap();
        Lambda {
            child,
            tx,
            emu,
            task,
            ids: AtomicU64::new(0),
        }
    }

    /// Invoke once; `Err` carries the function's `errorType`/`errorMessage`.
    pub async fn invoke(&self, event: Value) -> Result<Value, InvokeError> {
        let id = format!("req-{}", self.ids.fetch_add(1, Ordering::SeqCst));
        let (reply_tx, reply_rx) = oneshot::channel();
        self.emu
            .pending
            .lock()
            .unwrap()
            .insert(id.clone(), reply_tx);
        self.tx.send((id, event)).unwrap();
        tokio::time::timeout(Duration::from_secs(30), reply_rx)
            .await
            .expect("no reply within 30 s")
            .unwrap()
    }
}

impl Drop for Lambda {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.task.abort();
    }
}

async fn next(State(emu): State<Arc<Emu>>) -> impl IntoResponse {
    if let Some(ready) = emu.ready.lock().unwrap().take() {
        let _ = ready.send(());
    }
    let (id, event) = emu
        .queue
        .lock()
        .await
        .recv()
        .await
        .expect("emulator closed");
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 3000;
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
    headers.insert(
        "lambda-runtime-deadline-ms",
        deadline.to_string().parse().unwrap(),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:123456789012:function:test-function"
            .parse()
            .unwrap(),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".parse().unwrap(),
    );
    (headers, axum::Json(event))
}

async fn response(
    State(emu): State<Arc<Emu>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> &'static str {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(reply) = emu.pending.lock().unwrap().remove(&id) {
        let _ = reply.send(Ok(value));
    }
    "{}"
}

async fn error(
    State(emu): State<Arc<Emu>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> &'static str {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let err = InvokeError {
        error_type: v["errorType"].as_str().unwrap_or_default().to_owned(),
        error_message: v["errorMessage"].as_str().unwrap_or_default().to_owned(),
    };
    if let Some(reply) = emu.pending.lock().unwrap().remove(&id) {
        let _ = reply.send(Err(err));
    }
    "{}"
}

async fn init_error(body: Bytes) -> &'static str {
    panic!("init error: {}", String::from_utf8_lossy(&body));
}
