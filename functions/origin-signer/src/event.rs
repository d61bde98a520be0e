//! CloudFront origin-request event types (Lambda@Edge). `aws_lambda_events` has none.
//!
//! Every struct keeps the fields it does not model in `extra`, so the request returned to
//! CloudFront carries everything it received (client IP, origin timeouts, body, …) unchanged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The event Lambda@Edge passes to an origin-request function.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OriginRequestEvent {
    /// Always exactly one record.
    #[serde(rename = "Records")]
    pub records: Vec<Record>,
}

/// One CloudFront record.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Record {
    /// The CloudFront part of the record.
    pub cf: Cf,
}

/// `config` (distribution, event type) and the request.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Cf {
    /// Distribution id, domain, event type, request id.
    #[serde(default)]
    pub config: Value,
    /// The request CloudFront is about to send to the origin.
    pub request: CfRequest,
}

/// CloudFront's header map: lowercase name → list of `{key, value}`.
pub type Headers = BTreeMap<String, Vec<HeaderEntry>>;

/// One header value; `key` holds the name as the viewer spelled it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct HeaderEntry {
    /// Header name in its original case (optional in CloudFront's model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Header value.
    pub value: String,
}

impl HeaderEntry {
    /// A header entry with the given display name and value.
    pub fn new(key: &str, value: impl Into<String>) -> Self {
        Self {
            key: Some(key.to_owned()),
            value: value.into(),
        }
    }
}

/// The request inside an origin-request event.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CfRequest {
    /// HTTP method.
    pub method: String,
    /// Path as the viewer sent it (percent-encoded), without the origin path.
    pub uri: String,
    /// Raw query string without `?` (may be empty).
    #[serde(default)]
    pub querystring: String,
    /// Headers CloudFront forwards to the origin.
    #[serde(default)]
    pub headers: Headers,
    /// Present only when the association has "include body" set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    /// The origin this request is about to be sent to.
    #[serde(default)]
    pub origin: Origin,
    /// Everything else (clientIp, …), passed back untouched.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The request body exposed with "include body".
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Body {
    /// True when the body exceeded what CloudFront exposes to the function.
    #[serde(default)]
    pub input_truncated: bool,
    /// `read-only` or `replace`.
    #[serde(default)]
    pub action: String,
    /// `base64` or `text`.
    #[serde(default)]
    pub encoding: String,
    /// The body, encoded as `encoding` says.
    #[serde(default)]
    pub data: String,
}

/// The origin: custom (API Gateway) or S3.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Origin {
    /// A custom origin such as an API Gateway endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomOrigin>,
    /// Other origin kinds (s3), passed back untouched.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A custom origin.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomOrigin {
    /// The origin's DNS name, e.g. `abc123.execute-api.eu-west-1.amazonaws.com`.
    pub domain_name: String,
    /// Origin path prepended by CloudFront, e.g. `/prod` (may be empty).
    #[serde(default)]
    pub path: String,
    /// Origin custom headers configured on the distribution.
    #[serde(default)]
    pub custom_headers: Headers,
    /// port, protocol, timeouts, sslProtocols, … passed back untouched.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OriginRequestEvent {
    /// The single request of the event, or `None` when the event has no record.
    pub fn into_request(self) -> Option<CfRequest> {
        self.records.into_iter().next().map(|r| r.cf.request)
    }
}
