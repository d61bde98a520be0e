//! One view over every authorizer event API Gateway sends: REST TOKEN and REQUEST, HTTP API
//! payload 1.0 and 2.0, and WebSocket `$connect`.
//!
//! The typed parts (request context, identity, client certificate, stage variables) come from
//! `aws_lambda_events`. Headers and query parameters are read from the raw JSON instead:
//! `aws_lambda_events` keeps one value per header name, so two differently-cased copies of a
//! header (`X-Origin-Verify` and `x-origin-verify`) would silently collapse into one, and an
//! authorizer must see every copy to refuse an ambiguous request rather than pick a value.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert,
    ApiGatewayV2CustomAuthorizerV2Request, ApiGatewayV2httpRequestContextAuthenticationClientCert,
};
use serde::Deserialize;
use serde_json::Value;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::policy::{ArnError, MethodArn};
use crate::redact;

/// Which event format arrived; decides the response format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    /// REST API TOKEN authorizer.
    RestToken,
    /// REST API REQUEST authorizer.
    RestRequest,
    /// HTTP API, payload format 1.0 (answers with an IAM policy).
    HttpV1,
    /// HTTP API, payload format 2.0 (simple or IAM response).
    HttpV2,
    /// WebSocket API `$connect` REQUEST authorizer.
    WebSocket,
}

impl PayloadKind {
    /// Short name for logs and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RestToken => "rest-token",
            Self::RestRequest => "rest-request",
            Self::HttpV1 => "http-v1",
            Self::HttpV2 => "http-v2",
            Self::WebSocket => "websocket",
        }
    }
}

/// Why an event is not a usable authorizer event.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Neither `type` TOKEN/REQUEST nor `version` 2.0.
    #[error("unrecognised authorizer event (no TOKEN/REQUEST type or 2.0 version)")]
    UnknownKind,
    /// The event has the right kind but a wrong shape.
    #[error("malformed {kind} event: {reason}")]
    Shape {
        /// Which format it claimed to be.
        kind: &'static str,
        /// What serde said, through [`redact::serde_message`]: never the offending value (a
        /// header that failed to parse may be the secret).
        reason: String,
    },
    /// The method/route ARN is missing.
    #[error("event has no methodArn/routeArn")]
    MissingArn,
    /// The method/route ARN is malformed.
    #[error("bad methodArn/routeArn: {0}")]
    Arn(#[from] ArnError),
    /// A header or query map holds something other than strings.
    #[error("{0} must map names to strings or arrays of strings")]
    BadMap(&'static str),
}

/// A name that appears with two or more different values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {name:?} has {count} different values")]
pub struct Ambiguous {
    /// `header`, `query parameter` or `cookie`.
    pub what: &'static str,
    /// The name asked for.
    pub name: String,
    /// How many distinct values were seen.
    pub count: usize,
}

/// Name → values pairs, every copy kept. Lookups may be case-insensitive (headers) or exact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    what: &'static str,
    case_insensitive: bool,
    entries: Vec<(String, String)>,
}

impl Params {
    fn new(what: &'static str, case_insensitive: bool) -> Self {
        Self {
            what,
            case_insensitive,
            entries: Vec::new(),
        }
    }

    fn push(&mut self, name: &str, value: &str) {
        self.entries.push((name.to_owned(), value.to_owned()));
    }

    fn name_eq(&self, a: &str, b: &str) -> bool {
        if self.case_insensitive {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    }

    /// Every distinct value given for `name`, in first-seen order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (n, v) in &self.entries {
            if self.name_eq(n, name) && !out.contains(&v.as_str()) {
                out.push(v);
            }
        }
        out
    }

    /// The one value of `name`; two or more different values are [`Ambiguous`], never a pick.
    pub fn get(&self, name: &str) -> Result<Option<&str>, Ambiguous> {
        let all = self.all(name);
        match all.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            many => Err(Ambiguous {
                what: self.what,
                name: name.to_owned(),
                count: many.len(),
            }),
        }
    }

    /// Every distinct name, in first-seen order (as given, not case-folded).
    pub fn names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (n, _) in &self.entries {
            if !out.iter().any(|seen| self.name_eq(seen, n)) {
                out.push(n);
            }
        }
        out
    }

    /// Whether no entry is present.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Headers from `(name, value)` pairs, every copy kept (for tests).
    #[cfg(test)]
    pub(crate) fn test_headers(pairs: &[(&str, &str)]) -> Self {
        let mut out = Self::new("header", true);
        for (name, value) in pairs {
            out.push(name, value);
        }
        out
    }
}

/// A client certificate: the one API Gateway passes for mutual TLS, or the viewer's from
/// CloudFront's trusted viewer headers ([`crate::viewer`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCert {
    /// `subjectDN`.
    pub subject_dn: Option<String>,
    /// `issuerDN`.
    pub issuer_dn: Option<String>,
    /// `serialNumber`.
    pub serial_number: Option<String>,
    /// `validity.notBefore`; `None` when absent or unreadable.
    pub not_before: Option<SystemTime>,
    /// `validity.notAfter`; `None` when absent or unreadable.
    pub not_after: Option<SystemTime>,
    /// `clientCertPem`.
    pub pem: Option<String>,
    /// Lower-case hex SHA-256 of the certificate, where the sender states it (CloudFront).
    pub sha256: Option<String>,
}

/// API Gateway's two client-certificate types (REST, HTTP 1.0 and WebSocket; HTTP 2.0) carry
/// the same fields: the fingerprint is computed from the PEM, validity parsed from its text.
macro_rules! client_cert_from {
    ($($source:ty),*) => {$(
        impl From<$source> for ClientCert {
            fn from(c: $source) -> Self {
                Self {
                    subject_dn: c.subject_dn,
                    issuer_dn: c.issuer_dn,
                    serial_number: c.serial_number,
                    not_before: c.validity.not_before.as_deref().and_then(parse_cert_time),
                    not_after: c.validity.not_after.as_deref().and_then(parse_cert_time),
                    sha256: c.client_cert_pem.as_deref().and_then(pem_sha256),
                    pem: c.client_cert_pem,
                }
            }
        }
    )*};
}

client_cert_from!(
    ApiGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert,
    ApiGatewayV2httpRequestContextAuthenticationClientCert
);

/// The lower-case hex SHA-256 of the DER certificate in `pem` (the first `CERTIFICATE` block);
/// `None` when there is no such block or its base64 is invalid.
pub fn pem_sha256(pem: &str) -> Option<String> {
    use base64::Engine;
    use sha2::Digest;
    let body = pem
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)?
        .split("-----END CERTIFICATE-----")
        .next()?;
    let b64: String = body.split_whitespace().collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    if der.is_empty() {
        return None;
    }
    Some(hex::encode(sha2::Sha256::digest(&der)))
}

/// A SHA-256 fingerprint as 64 lower-case hex digits (`:` separators and case ignored);
/// `None` if it is not one.
pub fn normalize_fingerprint(text: &str) -> Option<String> {
    let hex: String = text
        .trim()
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

/// Parses a certificate validity time as API Gateway sends it (OpenSSL's print format,
/// `May 28 12:30:02 2019 GMT`, day possibly space-padded). `None` if unreadable.
pub fn parse_cert_time(text: &str) -> Option<SystemTime> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [month, day, clock, year, "GMT"] = words.as_slice() else {
        return None;
    };
    let normalized = format!("{month} {day} {clock} {year}");
    let format = format_description!(
        "[month repr:short case_sensitive:false] [day padding:none] [hour]:[minute]:[second] [year]"
    );
    let at = PrimitiveDateTime::parse(&normalized, &format)
        .ok()?
        .assume_utc();
    epoch_time(at)
}

/// Parses an ISO 8601 UTC time as CloudFront sends it (`2023-09-21T01:50:17Z`).
pub fn parse_iso_time(text: &str) -> Option<SystemTime> {
    let at =
        OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    epoch_time(at)
}

fn epoch_time(at: OffsetDateTime) -> Option<SystemTime> {
    let secs = u64::try_from(at.unix_timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// A uniform view of one authorizer call.
#[derive(Debug, Clone)]
pub struct AuthorizerRequest {
    /// Which format arrived.
    pub kind: PayloadKind,
    /// `methodArn` (REST, HTTP 1.0, WebSocket) or `routeArn` (HTTP 2.0).
    pub method_arn: MethodArn,
    /// Headers, case-insensitive, every copy kept.
    pub headers: Params,
    /// Query string parameters, every copy kept.
    pub query: Params,
    /// Cookies (`cookies` in 2.0, the `Cookie` header otherwise).
    pub cookies: Params,
    /// Stage variables.
    pub stage_variables: HashMap<String, String>,
    /// Caller's source IP as API Gateway saw it.
    pub source_ip: Option<IpAddr>,
    /// mTLS client certificate, when the API has mutual TLS.
    pub client_cert: Option<ClientCert>,
    /// The viewer's country (`CloudFront-Viewer-Country`), set only from trusted viewer facts.
    pub viewer_country: Option<String>,
    /// Route key (`GET /pets`, `$connect`, `$default`), where the format carries one.
    pub route_key: Option<String>,
    /// The values of the authorizer's identity sources (payload 2.0): API Gateway's cache key.
    pub identity_source: Vec<String>,
    /// HTTP method, where the format carries one.
    pub http_method: Option<String>,
    /// Request path, where the format carries one.
    pub path: Option<String>,
    /// `authorizationToken` of a REST TOKEN event.
    pub authorization_token: Option<String>,
    /// Request time in epoch milliseconds, where the format carries one.
    pub request_time_epoch_ms: Option<i64>,
}

impl AuthorizerRequest {
    /// Builds the view from raw event JSON.
    pub fn from_value(event: &Value) -> Result<Self, RequestError> {
        let str_field = |k: &str| event.get(k).and_then(Value::as_str);
        match (str_field("version"), str_field("type")) {
            (Some("2.0"), _) => Self::http_v2(event),
            (_, Some("TOKEN")) => Self::token(event),
            (Some("1.0"), Some("REQUEST")) => Self::request(event, PayloadKind::HttpV1),
            (_, Some("REQUEST")) => {
                let ctx = event.get("requestContext");
                let ws = ctx.is_some_and(|c| {
                    c.get("connectionId").is_some() || c.get("eventType").is_some()
                });
                let kind = if ws {
                    PayloadKind::WebSocket
                } else {
                    PayloadKind::RestRequest
                };
                Self::request(event, kind)
            }
            _ => Err(RequestError::UnknownKind),
        }
    }

    fn empty(kind: PayloadKind, method_arn: MethodArn) -> Self {
        Self {
            kind,
            method_arn,
            headers: Params::new("header", true),
            query: Params::new("query parameter", false),
            cookies: Params::new("cookie", false),
            stage_variables: HashMap::new(),
            source_ip: None,
            client_cert: None,
            viewer_country: None,
            route_key: None,
            identity_source: Vec::new(),
            http_method: None,
            path: None,
            authorization_token: None,
            request_time_epoch_ms: None,
        }
    }

    fn token(event: &Value) -> Result<Self, RequestError> {
        let typed = typed::<ApiGatewayCustomAuthorizerRequest>(event, "TOKEN")?;
        let arn = parse_arn(typed.method_arn.as_deref())?;
        let mut out = Self::empty(PayloadKind::RestToken, arn);
        out.authorization_token = typed.authorization_token;
        Ok(out)
    }

    fn request(event: &Value, kind: PayloadKind) -> Result<Self, RequestError> {
        let typed = typed::<ApiGatewayCustomAuthorizerRequestTypeRequest>(event, kind.as_str())?;
        let arn = parse_arn(typed.method_arn.as_deref())?;
        let mut out = Self::empty(kind, arn);
        read_map(&mut out.headers, event.get("headers"), "headers")?;
        read_map(
            &mut out.headers,
            event.get("multiValueHeaders"),
            "multiValueHeaders",
        )?;
        read_map(
            &mut out.query,
            event.get("queryStringParameters"),
            "queryStringParameters",
        )?;
        read_map(
            &mut out.query,
            event.get("multiValueQueryStringParameters"),
            "multiValueQueryStringParameters",
        )?;
        for header in out.headers.all("cookie") {
            for pair in header.split(';') {
                push_cookie(&mut out.cookies, pair);
            }
        }
        let ctx = typed.request_context;
        if let Some(identity) = ctx.identity {
            out.source_ip = identity.source_ip.as_deref().and_then(|ip| ip.parse().ok());
            out.client_cert = identity.client_cert.map(ClientCert::from);
        }
        out.route_key = ctx
            .other
            .get("routeKey")
            .and_then(Value::as_str)
            .map(str::to_owned);
        out.request_time_epoch_ms = ctx.other.get("requestTimeEpoch").and_then(Value::as_i64);
        out.http_method = typed.http_method.map(|m| m.to_string());
        out.path = typed.path;
        out.stage_variables = typed.stage_variables;
        Ok(out)
    }

    fn http_v2(event: &Value) -> Result<Self, RequestError> {
        let typed = typed::<ApiGatewayV2CustomAuthorizerV2Request>(event, "http-v2")?;
        let arn = parse_arn(typed.route_arn.as_deref())?;
        let mut out = Self::empty(PayloadKind::HttpV2, arn);
        read_map(&mut out.headers, event.get("headers"), "headers")?;
        match typed.raw_query_string.as_deref() {
            Some(raw) if !raw.is_empty() => {
                for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
                    out.query.push(&k, &v);
                }
            }
            _ => read_map(
                &mut out.query,
                event.get("queryStringParameters"),
                "queryStringParameters",
            )?,
        }
        for pair in &typed.cookies {
            push_cookie(&mut out.cookies, pair);
        }
        let ctx = typed.request_context;
        out.source_ip = ctx.http.source_ip.as_deref().and_then(|ip| ip.parse().ok());
        out.http_method = Some(ctx.http.method.to_string());
        out.client_cert = ctx
            .authentication
            .and_then(|a| a.client_cert)
            .map(ClientCert::from);
        out.request_time_epoch_ms = Some(ctx.time_epoch).filter(|t| *t > 0);
        out.route_key = typed.route_key;
        out.identity_source = typed.identity_source.unwrap_or_default();
        out.path = typed.raw_path;
        out.stage_variables = typed.stage_variables;
        Ok(out)
    }
}

fn typed<T: for<'de> Deserialize<'de>>(
    event: &Value,
    kind: &'static str,
) -> Result<T, RequestError> {
    T::deserialize(event).map_err(|error| RequestError::Shape {
        kind,
        reason: redact::serde_message(&error.to_string()),
    })
}

fn parse_arn(arn: Option<&str>) -> Result<MethodArn, RequestError> {
    Ok(MethodArn::parse(arn.ok_or(RequestError::MissingArn)?)?)
}

/// Reads `{"name": "v"}` or `{"name": ["v1", "v2"]}`; `null` is empty.
fn read_map(
    into: &mut Params,
    map: Option<&Value>,
    what: &'static str,
) -> Result<(), RequestError> {
    let Some(map) = map else { return Ok(()) };
    let map = match map {
        Value::Null => return Ok(()),
        Value::Object(m) => m,
        _ => return Err(RequestError::BadMap(what)),
    };
    for (name, value) in map {
        match value {
            Value::String(v) => into.push(name, v),
            Value::Array(vs) => {
                for v in vs {
                    into.push(name, v.as_str().ok_or(RequestError::BadMap(what))?);
                }
            }
            Value::Null => {}
            _ => return Err(RequestError::BadMap(what)),
        }
    }
    Ok(())
}

fn push_cookie(into: &mut Params, pair: &str) {
    if let Some((name, value)) = pair.split_once('=') {
        let name = name.trim();
        if !name.is_empty() {
            into.push(name, value.trim());
        }
    }
}

#[cfg(test)]
mod tests;
