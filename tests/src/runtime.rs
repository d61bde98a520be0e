//! A Lambda Runtime API emulator on loopback: starts a function binary with
//! `AWS_LAMBDA_RUNTIME_API` pointing at it, feeds it events and collects its answers.
//!
//! It implements the endpoints a runtime client uses (`invocation/next`, `/response`,
//! `/error`, `init/error`), records when the function first asked for work (cold init), and
//! captures the process's output lines so tests can assert on logs.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Notify, oneshot};

/// Why an invocation produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeError {
    /// The function reported an error (`/invocation/{id}/error`).
    Function {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
    /// No answer within the deadline.
    Timeout,
    /// The process exited (or reported an init error) before answering.
    Exited(String),
}

impl std::fmt::Display for InvokeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Function {
                error_type,
                message,
            } => write!(f, "{error_type}: {message}"),
            Self::Timeout => f.write_str("timed out"),
            Self::Exited(why) => write!(f, "exited: {why}"),
        }
    }
}

type Reply = oneshot::Sender<Result<Value, InvokeError>>;

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<(String, Bytes, u64)>>,
    queued: Notify,
    pending: Mutex<HashMap<String, Reply>>,
    first_next: Mutex<Option<Instant>>,
    init_error: Mutex<Option<String>>,
    logs: Mutex<Vec<String>>,
}

/// A function process running on the emulator; killed on drop.
pub struct Lambda {
    shared: Arc<Shared>,
    child: Child,
    started: Instant,
    counter: u64,
    server: tokio::task::JoinHandle<()>,
    /// Deadline given to each invocation.
    pub timeout: Duration,
}

impl Lambda {
    /// Starts `binary` with the standard Lambda variables plus `env`.
    pub async fn spawn(binary: &Path, env: &[(String, String)]) -> std::io::Result<Self> {
        Self::spawn_with_args(binary, &[], env).await
    }

    /// Starts `program args…` (an interpreter and its runtime client, say) with the standard
    /// Lambda variables plus `env`.
    pub async fn spawn_with_args(
        program: &Path,
        args: &[String],
        env: &[(String, String)],
    ) -> std::io::Result<Self> {
        let binary = program;
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let name = binary
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("function");
        let mut command = Command::new(binary);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command.spawn()?;
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let shared = shared.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if std::env::var_os("PORTCULLIS_ECHO_LOGS").is_some() {
                        eprintln!("  | {line}");
                    }
                    shared.logs.lock().unwrap().push(line);
                }
            });
        }
        Ok(Self {
            shared,
            child,
            started,
            counter: 0,
            server,
            timeout: Duration::from_secs(10),
        })
    }

    /// Waits until the function first asks for an event; returns the time since spawn.
    pub async fn wait_ready(&mut self) -> Result<Duration, InvokeError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(at) = *self.shared.first_next.lock().unwrap() {
                return Ok(at - self.started);
            }
            self.check_alive()?;
            if Instant::now() > deadline {
                return Err(InvokeError::Timeout);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Sends one event and waits for the answer.
    pub async fn invoke(&mut self, event: &Value) -> Result<Value, InvokeError> {
        self.invoke_raw(Bytes::from(
            serde_json::to_vec(event).expect("serialisable"),
        ))
        .await
    }

    /// Sends raw bytes as the event (to test malformed JSON).
    pub async fn invoke_raw(&mut self, body: Bytes) -> Result<Value, InvokeError> {
        self.counter += 1;
        let id = format!("req-{:08}", self.counter);
        let (tx, mut rx) = oneshot::channel();
        self.shared.pending.lock().unwrap().insert(id.clone(), tx);
        let deadline_ms = now_ms() + u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX);
        self.shared
            .queue
            .lock()
            .unwrap()
            .push_back((id.clone(), body, deadline_ms));
        self.shared.queued.notify_one();
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            tokio::select! {
                answer = &mut rx => return answer.unwrap_or(Err(InvokeError::Timeout)),
                () = tokio::time::sleep_until(deadline) => {
                    self.shared.pending.lock().unwrap().remove(&id);
                    return Err(InvokeError::Timeout);
                }
                () = tokio::time::sleep(Duration::from_millis(20)) => {
                    if let Err(e) = self.check_alive() {
                        self.shared.pending.lock().unwrap().remove(&id);
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Every output line so far (stdout and stderr).
    pub fn logs(&self) -> Vec<String> {
        self.shared.logs.lock().unwrap().clone()
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Peak resident set size in KiB (`VmHWM`), on Linux.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// CPU time the process's threads have used so far (the sum of
    /// `/proc/<pid>/task/*/schedstat`, nanosecond resolution; threads that have exited are not
    /// counted), on Linux. Read once the function waits for its first event, this is its init's
    /// own CPU, without the time it waited for its dependencies.
    pub fn cpu_time(&self) -> Option<Duration> {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.pid()?)).ok()?;
        let ns: u64 = tasks
            .filter_map(Result::ok)
            .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
            .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
            .sum();
        Some(Duration::from_nanos(ns))
    }

    /// Current resident set size in KiB (`VmRSS`), on Linux.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Waits for the process to exit (after an init failure) and returns its output.
    pub async fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .ok()?
            .ok();
        tokio::time::sleep(Duration::from_millis(50)).await; // let the log readers drain
        status
    }

    fn check_alive(&mut self) -> Result<(), InvokeError> {
        if let Some(why) = self.shared.init_error.lock().unwrap().clone() {
            return Err(InvokeError::Exited(format!("init error: {why}")));
        }
        match self.child.try_wait() {
            Ok(Some(status)) => Err(InvokeError::Exited(status.to_string())),
            _ => Ok(()),
        }
    }
}

impl Drop for Lambda {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        self.server.abort();
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

async fn next(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    shared
        .first_next
        .lock()
        .unwrap()
        .get_or_insert_with(Instant::now);
    loop {
        let notified = shared.queued.notified();
        if let Some((id, body, deadline)) = shared.queue.lock().unwrap().pop_front() {
            let mut headers = HeaderMap::new();
            let value = |s: String| HeaderValue::from_str(&s).expect("ascii header");
            headers.insert("lambda-runtime-aws-request-id", value(id));
            headers.insert("lambda-runtime-deadline-ms", value(deadline.to_string()));
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                value("arn:aws:lambda:us-east-1:123456789012:function:local".into()),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                value("Root=1-00000000-000000000000000000000000".into()),
            );
            headers.insert("content-type", value("application/json".into()));
            return (StatusCode::OK, headers, body);
        }
        notified.await;
    }
}

async fn response(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    let parsed = serde_json::from_slice(&body)
        .map_err(|e| InvokeError::Exited(format!("response is not JSON: {e}")));
    reply(&shared, &id, parsed)
}

async fn error(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let err = InvokeError::Function {
        error_type: v["errorType"].as_str().unwrap_or_default().to_owned(),
        message: v["errorMessage"].as_str().unwrap_or_default().to_owned(),
    };
    reply(&shared, &id, Err(err))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    *shared.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

fn reply(shared: &Shared, id: &str, result: Result<Value, InvokeError>) -> StatusCode {
    match shared.pending.lock().unwrap().remove(id) {
        Some(tx) => {
            let _ = tx.send(result);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}
