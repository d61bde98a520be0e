//! The origin-request rules: which request is signed, which headers are set, moved or removed,
//! and the generated 502 when anything is wrong (the request is then never forwarded).

use crate::config::{self, CONFIG_PREFIX, Config};
use crate::error::SignError;
use crate::event::{CfRequest, HeaderEntry, Headers, OriginRequestEvent};
use crate::sign::{Credentials, SigningOptions, SigningRequest, sign_request, time_from_millis};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::SystemTime;

/// What the handler returns to CloudFront, and the log line to print (errors only).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The signed request to forward, or a generated 502 response.
    pub result: Value,
    /// One line for the function's log; `None` when the request was signed.
    pub log: Option<String>,
}

/// Signs the request of an origin-request event; any error yields a generated 502.
pub fn handle(
    event: OriginRequestEvent,
    credentials: Option<Credentials>,
    now: SystemTime,
) -> Outcome {
    match sign_origin_request(event, credentials, now)
        .and_then(|r| serde_json::to_value(r).map_err(|e| SignError::InvalidEvent(e.to_string())))
    {
        Ok(result) => Outcome { result, log: None },
        Err(err) => fail_closed(&err),
    }
}

/// The generated response for `err`, and its log line.
pub fn fail_closed(err: &SignError) -> Outcome {
    Outcome {
        result: bad_gateway(),
        log: Some(format!("origin-signer: request not forwarded (502): {err}")),
    }
}

/// The 502 response CloudFront returns to the viewer instead of forwarding the request.
pub fn bad_gateway() -> Value {
    json!({
        "status": "502",
        "statusDescription": "Bad Gateway",
        "headers": {
            "cache-control": [{"key": "Cache-Control", "value": "no-store"}],
            "content-type": [{"key": "Content-Type", "value": "text/plain; charset=utf-8"}],
        },
        "body": "Bad Gateway: the request could not be signed for the origin.\n",
    })
}

/// Input of the Node.js handler: `{"event": …, "credentials": {…}, "nowMs": …}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HandlerInput {
    event: OriginRequestEvent,
    #[serde(default)]
    credentials: Option<Value>,
    now_ms: u64,
}

/// JSON in, JSON out: `{"result": <request or response>, "log": <line or null>}`.
/// This is what the WebAssembly export runs.
pub fn handle_json(input: &[u8]) -> Vec<u8> {
    let outcome = match serde_json::from_slice::<HandlerInput>(input) {
        Ok(input) => {
            // A malformed credentials object is reported as missing, never echoed.
            let credentials = input
                .credentials
                .and_then(|c| serde_json::from_value::<Credentials>(c).ok());
            handle(input.event, credentials, time_from_millis(input.now_ms))
        }
        Err(err) => fail_closed(&SignError::InvalidEvent(describe_json_error(&err))),
    };
    let out = json!({ "result": outcome.result, "log": outcome.log });
    serde_json::to_vec(&out).unwrap_or_else(|_| b"{}".to_vec())
}

/// Position and kind of a JSON error, without the offending value (it may be request data).
fn describe_json_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let what = if text.starts_with("missing field") {
        text.split(" at line")
            .next()
            .unwrap_or("missing field")
            .to_owned()
    } else {
        format!("{:?} error", err.classify()).to_lowercase()
    };
    format!("{what} at line {} column {}", err.line(), err.column())
}

/// Applies the signing rules and returns the request to forward.
pub fn sign_origin_request(
    event: OriginRequestEvent,
    credentials: Option<Credentials>,
    now: SystemTime,
) -> Result<CfRequest, SignError> {
    let mut request = event
        .into_request()
        .ok_or_else(|| SignError::InvalidEvent("no record".into()))?;
    // CloudFront keys header maps by lowercase name; an event keyed otherwise (`Authorization`)
    // would slip past the moves and removals below and reach the origin twice, so every key is
    // folded to lowercase first (entries of names differing only in case are merged).
    request.headers = lowercase_keys(std::mem::take(&mut request.headers));
    let origin = request
        .origin
        .custom
        .as_mut()
        .ok_or(SignError::NotCustomOrigin)?;
    origin.custom_headers = lowercase_keys(std::mem::take(&mut origin.custom_headers));

    // Configuration lives in origin custom headers; none of it reaches the origin, and a
    // viewer cannot inject it.
    let config = Config::from_custom_headers(&origin.custom_headers)?;
    origin.custom_headers.retain(|name, _| !is_config(name));
    request.headers.retain(|name, _| !is_config(name));

    let credentials = credentials
        .ok_or(SignError::MissingCredentials)?
        .validated()?;

    let host = origin.domain_name.clone();
    let region = match &config.region {
        Some(region) => region.clone(),
        None => config::region_from_domain(&host)
            .ok_or_else(|| SignError::UnknownRegion {
                domain: host.clone(),
            })?
            .to_owned(),
    };
    let path = format!("{}{}", origin.path, request.uri);
    let payload = payload(&request)?;

    move_viewer_authorization(&mut request.headers, &config);
    for name in ["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"] {
        request.headers.remove(name);
    }

    let options = SigningOptions {
        content_sha256: config.content_sha256,
        ..SigningOptions::execute_api(&region)
    };
    let signing_request = SigningRequest {
        method: &request.method,
        host: &host,
        path: &path,
        query: &request.querystring,
        headers: &[],
        payload: &payload,
    };
    let signed = sign_request(&signing_request, &credentials, &options, now)?;

    set_header(&mut request.headers, "Host", host.clone());
    for (name, value) in signed.headers {
        set_header(&mut request.headers, display_name(name), value);
    }
    Ok(request)
}

/// The header map keyed by lowercase names, entries of one name kept in map order.
fn lowercase_keys(headers: Headers) -> Headers {
    let mut out = Headers::new();
    for (name, entries) in headers {
        out.entry(name.to_ascii_lowercase())
            .or_default()
            .extend(entries);
    }
    out
}

fn is_config(name: &str) -> bool {
    name.to_ascii_lowercase().starts_with(CONFIG_PREFIX)
}

/// The exact body bytes the origin will receive.
fn payload(request: &CfRequest) -> Result<Vec<u8>, SignError> {
    match &request.body {
        Some(body) if body.input_truncated => Err(SignError::BodyTruncated),
        Some(body) => match body.encoding.as_str() {
            "base64" | "" => base64::engine::general_purpose::STANDARD
                .decode(body.data.as_bytes())
                .map_err(|_| SignError::InvalidBody("base64")),
            "text" => Ok(body.data.as_bytes().to_vec()),
            _ => Err(SignError::InvalidBody("base64 or text (unknown encoding)")),
        },
        None if declares_body(&request.headers) => Err(SignError::BodyNotIncluded),
        None => Ok(Vec::new()),
    }
}

/// Whether the viewer request carries a body (non-zero `content-length` or chunked).
fn declares_body(headers: &Headers) -> bool {
    let content_length = headers
        .get("content-length")
        .into_iter()
        .flatten()
        .any(|h| h.value.trim() != "0");
    content_length || headers.contains_key("transfer-encoding")
}

/// The viewer's `Authorization` goes to the configured header; a viewer-supplied value of that
/// header is dropped first so it cannot be spoofed.
fn move_viewer_authorization(headers: &mut Headers, config: &Config) {
    let target = config.forward_authorization.as_str();
    headers.remove(target);
    if let Some(entries) = headers.remove("authorization") {
        let moved = entries
            .into_iter()
            .map(|e| HeaderEntry::new(target, e.value))
            .collect();
        headers.insert(target.to_owned(), moved);
    }
}

fn set_header(headers: &mut Headers, display: &str, value: String) {
    headers.insert(
        display.to_ascii_lowercase(),
        vec![HeaderEntry::new(display, value)],
    );
}

fn display_name(name: &'static str) -> &'static str {
    match name {
        "authorization" => "Authorization",
        "x-amz-date" => "X-Amz-Date",
        "x-amz-security-token" => "X-Amz-Security-Token",
        "x-amz-content-sha256" => "X-Amz-Content-Sha256",
        other => other,
    }
}
