//! A fault-injecting HTTP/1.1 proxy on loopback, for putting in front of moto (point a
//! function's `AWS_ENDPOINT_URL` at [`FaultProxy::endpoint`]) and switching faults while the
//! function runs: connection refused or reset, a slow answer, throttling, a 5xx, or a
//! response body of the wrong shape. It counts the requests it received.
//!
//! It speaks just enough HTTP/1.1 for the AWS SDK: a request line, headers, a
//! `content-length` body, keep-alive. Upstream calls go through reqwest.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Rewrites a forwarded JSON response body.
pub type Rewrite = fn(Value) -> Value;

/// What the proxy does with the next requests.
#[derive(Debug, Clone, Default)]
pub enum Fault {
    /// Forward to the upstream unchanged.
    #[default]
    Pass,
    /// Stop listening: connections are refused.
    Refuse,
    /// Accept, read the request, then reset the connection without answering.
    Reset,
    /// Wait this long, then forward.
    Slow(Duration),
    /// Answer `400 {"__type":"ThrottlingException","message":"Rate exceeded"}`.
    Throttle,
    /// Answer this status with an AWS JSON error of this `__type`.
    Status(u16, &'static str),
    /// Answer 200 with this body (content type `application/x-amz-json-1.1`).
    Body(&'static str),
    /// Forward, then answer 200 with the upstream's JSON body passed through this function.
    Rewrite(Rewrite),
    /// Answer the next [`Injected::times`] requests whose method and path match with this
    /// status and body; forward every other request.
    Matching(Injected),
}

/// A fault for some requests only: [`Fault::Matching`].
#[derive(Debug, Clone)]
pub struct Injected {
    /// HTTP method to match.
    pub method: &'static str,
    /// Text the path must contain.
    pub path_contains: &'static str,
    /// Status to answer.
    pub status: u16,
    /// Body to answer (an AWS error in the service's protocol: JSON or XML).
    pub body: &'static str,
    /// Requests left to answer this way; shared, so a test reads how many were injected.
    pub times: Arc<AtomicUsize>,
}

impl Injected {
    /// A CloudFront (REST-XML) error `code` with `status`, for `times` matching requests.
    pub fn cloudfront(
        method: &'static str,
        path_contains: &'static str,
        status: u16,
        body: &'static str,
        times: usize,
    ) -> Self {
        Self {
            method,
            path_contains,
            status,
            body,
            times: Arc::new(AtomicUsize::new(times)),
        }
    }

    /// Requests still to be answered with the fault.
    pub fn left(&self) -> usize {
        self.times.load(Ordering::SeqCst)
    }

    fn take(&self, request: &Request) -> bool {
        request.method == self.method
            && request.path.contains(self.path_contains)
            && self
                .times
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
    }
}

struct State {
    upstream: String,
    fault: watch::Sender<Fault>,
    calls: AtomicUsize,
    client: reqwest::Client,
}

/// The proxy; stops on drop.
pub struct FaultProxy {
    state: Arc<State>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://host:port`) on a free loopback port, in
    /// [`Fault::Pass`].
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (fault, _) = watch::channel(Fault::Pass);
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_owned(),
            fault,
            calls: AtomicUsize::new(0),
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("reqwest client"),
        });
        let task = tokio::spawn(accept_loop(listener, addr, state.clone()));
        Self { state, addr, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switches the fault for the next requests (and connections, for [`Fault::Refuse`]).
    pub fn set(&self, fault: Fault) {
        self.state.fault.send_replace(fault);
    }

    /// Requests received so far (refused connections are not requests).
    pub fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(first: TcpListener, addr: SocketAddr, state: Arc<State>) {
    let mut rx = state.fault.subscribe();
    let mut listener = Some(first);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let refusing = matches!(*rx.borrow_and_update(), Fault::Refuse);
        if refusing {
            // Close the port (and every open connection) until the fault changes.
            listener = None;
            connections.abort_all();
            if rx.changed().await.is_err() {
                return;
            }
            continue;
        }
        if listener.is_none() {
            match TcpListener::bind(addr).await {
                Ok(l) => listener = Some(l),
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let l = listener.as_ref().expect("listening");
        tokio::select! {
            accepted = l.accept() => {
                if let Ok((stream, _)) = accepted {
                    connections.spawn(serve(stream, state.clone()));
                }
            }
            changed = rx.changed() => if changed.is_err() { return },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (name, value) = l.split_once(':')?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
        if name == "content-length" {
            length = value.parse().ok()?;
        }
        headers.push((name, value));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

async fn serve(stream: TcpStream, state: Arc<State>) {
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader).await {
        state.calls.fetch_add(1, Ordering::SeqCst);
        let fault = state.fault.borrow().clone();
        let answer = match fault {
            Fault::Pass => forward(&state, &request).await,
            Fault::Refuse | Fault::Reset => None,
            Fault::Slow(delay) => {
                tokio::time::sleep(delay).await;
                forward(&state, &request).await
            }
            Fault::Throttle => Some((
                400,
                br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_vec(),
                None,
            )),
            Fault::Status(code, kind) => Some((
                code,
                format!(r#"{{"__type":"{kind}","message":"injected fault"}}"#).into_bytes(),
                None,
            )),
            Fault::Body(body) => Some((200, body.as_bytes().to_vec(), None)),
            Fault::Matching(injected) if injected.take(&request) => {
                Some((injected.status, injected.body.as_bytes().to_vec(), None))
            }
            Fault::Matching(_) => forward(&state, &request).await,
            Fault::Rewrite(f) => forward(&state, &request).await.map(|(status, body, etag)| {
                let value: Value = serde_json::from_slice(&body).unwrap_or_default();
                (status, serde_json::to_vec(&f(value)).expect("JSON"), etag)
            }),
        };
        let Some((status, body, etag)) = answer else {
            // Reset: SO_LINGER 0 makes the close an RST instead of a FIN.
            let stream = reader.into_inner();
            let _ = stream.set_zero_linger();
            drop(stream);
            return;
        };
        // CloudFront speaks XML, the JSON services JSON: answer in the body's own type.
        let content_type = if body.starts_with(b"<") {
            "text/xml"
        } else {
            "application/x-amz-json-1.1"
        };
        let etag = etag.map(|e| format!("etag: {e}\r\n")).unwrap_or_default();
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\n{etag}\
             x-amzn-requestid: fault-proxy\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let stream = reader.get_mut();
        if stream.write_all(head.as_bytes()).await.is_err()
            || stream.write_all(&body).await.is_err()
        {
            return;
        }
    }
}

/// Status, body and the upstream's `ETag` (CloudFront's optimistic lock).
async fn forward(state: &State, request: &Request) -> Option<(u16, Vec<u8>, Option<String>)> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).ok()?;
    let mut builder = state
        .client
        .request(method, format!("{}{}", state.upstream, request.path));
    for (name, value) in &request.headers {
        if !matches!(
            name.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            builder = builder.header(name, value);
        }
    }
    let response = builder.body(request.body.clone()).send().await.ok()?;
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.bytes().await.ok()?.to_vec();
    Some((status, body, etag))
}
