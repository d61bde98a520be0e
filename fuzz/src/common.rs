//! Pieces every target uses: a runtime, the response-format checks, and the event builder for
//! authorizer payloads (sample events of each format with fuzzer-chosen headers, token and ARN).

use std::future::Future;

use arbitrary::{Arbitrary, Unstructured};
use portcullis::policy::MAX_RESOURCE_LEN;
use serde_json::{Map, Value, json};

/// Runs `future` on this thread's current-thread runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
    }
    RUNTIME.with(|rt| rt.block_on(future))
}

/// Whether the event is an HTTP API payload 2.0 event (`version` is the string `2.0`).
pub fn is_v2(event: &Value) -> bool {
    event.get("version").and_then(Value::as_str) == Some("2.0")
}

fn check_context(context: &Value) {
    let map = context.as_object().expect("context is an object");
    assert!(!map.is_empty(), "empty context is left out, not sent");
    for (key, value) in map {
        assert!(!key.is_empty(), "empty context key");
        assert!(
            value.is_string() || value.is_number() || value.is_boolean(),
            "context value {key:?} is not a scalar: {value}"
        );
    }
}

fn only_keys(map: &Map<String, Value>, allowed: &[&str], what: &str) {
    for key in map.keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "{what} has unexpected key {key:?}"
        );
    }
}

/// Asserts that `response` is a valid authorizer response for an event whose format is
/// HTTP API 2.0 with simple responses (`simple`) or an IAM-policy format (every other case),
/// and returns whether it lets the request in anywhere (`isAuthorized: true`, or any Allow
/// statement).
pub fn check_response(response: &Value, simple: bool) -> bool {
    let map = response.as_object().expect("response is a JSON object");
    if simple {
        only_keys(map, &["isAuthorized", "context"], "simple response");
        let ok = map
            .get("isAuthorized")
            .and_then(Value::as_bool)
            .expect("isAuthorized is a boolean");
        if let Some(context) = map.get("context") {
            check_context(context);
        }
        return ok;
    }
    only_keys(
        map,
        &[
            "principalId",
            "policyDocument",
            "context",
            "usageIdentifierKey",
        ],
        "IAM response",
    );
    let principal = map
        .get("principalId")
        .and_then(Value::as_str)
        .expect("principalId is a string");
    assert!(!principal.is_empty(), "empty principalId");
    if let Some(context) = map.get("context") {
        check_context(context);
    }
    if let Some(key) = map.get("usageIdentifierKey") {
        assert!(key.is_string(), "usageIdentifierKey is not a string");
    }
    let doc = map
        .get("policyDocument")
        .and_then(Value::as_object)
        .expect("policyDocument is an object");
    only_keys(doc, &["Version", "Statement"], "policyDocument");
    assert_eq!(doc.get("Version"), Some(&json!("2012-10-17")));
    let statements = doc
        .get("Statement")
        .and_then(Value::as_array)
        .expect("Statement is an array");
    assert!(!statements.is_empty(), "policy without statement");
    let mut allows = false;
    for statement in statements {
        let s = statement.as_object().expect("statement is an object");
        only_keys(
            s,
            &["Action", "Effect", "Resource", "Condition"],
            "statement",
        );
        assert_eq!(s.get("Action"), Some(&json!("execute-api:Invoke")));
        match s.get("Effect").and_then(Value::as_str) {
            Some("Allow") => allows = true,
            Some("Deny") => {}
            other => panic!("bad Effect {other:?}"),
        }
        let resources = s
            .get("Resource")
            .and_then(Value::as_array)
            .expect("Resource is an array");
        assert!(!resources.is_empty(), "statement without resource");
        for r in resources {
            let r = r.as_str().expect("resource is a string");
            assert!(r.len() <= MAX_RESOURCE_LEN, "resource of {} chars", r.len());
            assert!(
                r == "*" || r.starts_with("arn:"),
                "resource is neither * nor an ARN: {r:?}"
            );
        }
        if let Some(c) = s.get("Condition") {
            assert!(c.is_object(), "Condition is not an object");
        }
    }
    allows
}

/// Every distinct value the event gives for header `name` (any case), from `headers` and — for
/// every format but 2.0 — `multiValueHeaders`. Written from the payload formats, not from the
/// crate's request view, so the targets judge the authorizers independently.
pub fn header_values(event: &Value, name: &str) -> Vec<String> {
    let maps: &[&str] = if is_v2(event) {
        &["headers"]
    } else {
        &["headers", "multiValueHeaders"]
    };
    let mut out: Vec<String> = Vec::new();
    let mut add = |v: &Value| {
        if let Some(s) = v.as_str()
            && !out.iter().any(|o| o == s)
        {
            out.push(s.to_owned());
        }
    };
    for map in maps {
        let Some(Value::Object(m)) = event.get(*map) else {
            continue;
        };
        for (k, v) in m {
            if !k.eq_ignore_ascii_case(name) {
                continue;
            }
            match v {
                Value::Array(items) => items.iter().for_each(&mut add),
                other => add(other),
            }
        }
    }
    out
}

/// Whether every header name is an HTTP token and every value free of control characters: API
/// Gateway never sends anything else, and the typed event parsers refuse such events (a
/// malformed event, answered with an error — never an Allow).
pub fn http_headers_valid(event: &Value) -> bool {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    let value_ok = |v: &Value| {
        v.as_str()
            .is_none_or(|s| s.bytes().all(|b| (b >= 0x20 && b != 0x7f) || b == b'\t'))
    };
    ["headers", "multiValueHeaders"].iter().all(|map| {
        let Some(Value::Object(m)) = event.get(*map) else {
            return true;
        };
        m.iter().all(|(k, v)| {
            name_ok(k)
                && match v {
                    Value::Array(items) => items.iter().all(value_ok),
                    other => value_ok(other),
                }
        })
    })
}

/// The payload formats an authorizer receives.
#[derive(Debug, Clone, Copy, Arbitrary, PartialEq, Eq)]
pub enum Format {
    /// REST TOKEN.
    RestToken,
    /// REST REQUEST.
    RestRequest,
    /// HTTP API payload 1.0.
    HttpV1,
    /// HTTP API payload 2.0.
    HttpV2,
    /// WebSocket `$connect`.
    WebSocket,
}

/// How the fuzzer spells the header name.
#[derive(Debug, Arbitrary)]
pub enum NameChoice {
    /// Lowercase, as configured.
    Exact,
    /// All upper case.
    Upper,
    /// First letter of each word upper case.
    Title,
    /// Anything.
    Other(String),
}

/// A header name with the first letter of each `-`-separated word upper-cased
/// (`x-origin-verify` → `X-Origin-Verify`).
pub fn title_case(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

impl NameChoice {
    fn render(&self, name: &str) -> String {
        match self {
            Self::Exact => name.to_owned(),
            Self::Upper => name.to_ascii_uppercase(),
            Self::Title => title_case(name),
            Self::Other(s) => s.clone(),
        }
    }
}

/// A credential value: one of the valid ones, a near miss, or anything.
#[derive(Debug, Arbitrary)]
pub enum ValueChoice {
    /// Valid value number `n % len`.
    Valid(u8),
    /// Valid value with padding spaces.
    Padded(u8),
    /// Valid value cut to a prefix.
    Prefix(u8, u8),
    /// Valid value with one byte changed.
    Flip(u8, u8, u8),
    /// Two valid values joined by a comma (how HTTP APIs join repeated headers).
    Joined,
    /// Valid value in another letter case.
    Upper(u8),
    /// Anything.
    Any(String),
}

impl ValueChoice {
    fn render(&self, valid: &[&str]) -> String {
        let pick = |n: &u8| valid[usize::from(*n) % valid.len()];
        match self {
            Self::Valid(n) => pick(n).to_owned(),
            Self::Padded(n) => format!(" {} ", pick(n)),
            Self::Prefix(n, len) => {
                let v = pick(n);
                v[..usize::from(*len) % v.len()].to_owned()
            }
            Self::Flip(n, at, xor) => {
                let mut bytes = pick(n).as_bytes().to_vec();
                let at = usize::from(*at) % bytes.len();
                bytes[at] ^= xor | 1;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Self::Joined => valid.join(","),
            Self::Upper(n) => pick(n).to_ascii_uppercase(),
            Self::Any(s) => s.clone(),
        }
    }
}

/// The ARN of the event: a well-formed one, or anything.
#[derive(Debug, Arbitrary)]
pub enum ArnChoice {
    /// The template's ARN.
    Template,
    /// The template's API with another stage and route.
    Route(String, String),
    /// Anything.
    Any(String),
    /// None at all.
    Missing,
}

/// One fuzzer-chosen header.
#[derive(Debug, Arbitrary)]
pub struct HeaderChoice {
    /// Its name.
    pub name: NameChoice,
    /// Its value.
    pub value: ValueChoice,
    /// Put it in `multiValueHeaders` (where the format has it) instead of `headers`.
    pub multi: bool,
}

/// A structured authorizer event: a sample of the chosen format, its credential headers
/// replaced with the fuzzer's choice.
#[derive(Debug, Arbitrary)]
pub struct EventSpec {
    /// Payload format.
    pub format: Format,
    /// `authorizationToken` of a TOKEN event.
    pub token: Option<ValueChoice>,
    /// Headers carrying the credential (or not).
    pub headers: Vec<HeaderChoice>,
    /// Other headers, any name and value.
    pub noise: Vec<(String, String)>,
    /// The method/route ARN.
    pub arn: ArnChoice,
    /// Query string parameters.
    pub query: Vec<(String, String)>,
}

const REST: &str = include_str!("../../events/header-secret-authorizer/rest-request-valid.json");
const HTTP_V1: &str = include_str!("../../events/header-secret-authorizer/http-v1-valid.json");
const HTTP_V2: &str = include_str!("../../events/header-secret-authorizer/http-v2-valid.json");
const WEBSOCKET: &str = include_str!("../../events/header-secret-authorizer/websocket-valid.json");

/// A sample event of `format` (TOKEN events carry no token yet).
pub fn template(format: Format) -> Value {
    match format {
        Format::RestToken => json!({"type": "TOKEN",
                "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/orders/42"}),
        Format::RestRequest => serde_json::from_str(REST).expect("sample"),
        Format::HttpV1 => serde_json::from_str(HTTP_V1).expect("sample"),
        Format::HttpV2 => serde_json::from_str(HTTP_V2).expect("sample"),
        Format::WebSocket => serde_json::from_str(WEBSOCKET).expect("sample"),
    }
}

impl EventSpec {
    /// The event JSON, with the credential header `header` filled from `valid`.
    pub fn build(&self, header: &str, valid: &[&str]) -> Value {
        let mut event = template(self.format);
        let obj = event.as_object_mut().expect("object");
        let arn_key = if self.format == Format::HttpV2 {
            "routeArn"
        } else {
            "methodArn"
        };
        let template = obj[arn_key].as_str().expect("arn").to_owned();
        match &self.arn {
            ArnChoice::Template => {}
            ArnChoice::Route(stage, route) => {
                let prefix: Vec<&str> = template.splitn(2, '/').collect();
                obj.insert(
                    arn_key.into(),
                    json!(format!("{}/{stage}/{route}", prefix[0])),
                );
            }
            ArnChoice::Any(s) => {
                obj.insert(arn_key.into(), json!(s));
            }
            ArnChoice::Missing => {
                obj.remove(arn_key);
            }
        }
        if self.format == Format::RestToken {
            if let Some(token) = &self.token {
                obj.insert("authorizationToken".into(), json!(token.render(valid)));
            }
            return event;
        }
        let v2 = self.format == Format::HttpV2;
        for map in ["headers", "multiValueHeaders"] {
            if let Some(Value::Object(m)) = obj.get_mut(map) {
                m.retain(|k, _| !k.eq_ignore_ascii_case(header));
            }
        }
        obj.remove("identitySource");
        for (name, value) in &self.noise {
            if let Some(Value::Object(m)) = obj.get_mut("headers") {
                m.insert(name.clone(), json!(value));
            }
        }
        for h in &self.headers {
            let name = h.name.render(header);
            let value = h.value.render(valid);
            if h.multi && !v2 {
                let m = obj
                    .entry("multiValueHeaders")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .expect("object");
                match m.get_mut(&name) {
                    Some(Value::Array(items)) => items.push(json!(value)),
                    _ => {
                        m.insert(name, json!([value]));
                    }
                }
            } else {
                obj.get_mut("headers")
                    .and_then(Value::as_object_mut)
                    .expect("headers")
                    .insert(name, json!(value));
            }
        }
        if !self.query.is_empty() {
            let q: Map<String, Value> = self
                .query
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            obj.insert("queryStringParameters".into(), Value::Object(q));
            if v2 {
                obj.insert("rawQueryString".into(), json!(""));
            }
        }
        event
    }
}

/// A structured event or raw bytes read as JSON.
#[derive(Debug)]
pub enum EventInput {
    /// A generated event.
    Structured(EventSpec),
    /// Whatever JSON the bytes hold.
    Raw(Value),
}

impl EventInput {
    /// The first byte picks structured (even) or raw JSON (odd); `None` when raw bytes are no JSON.
    pub fn from_bytes(data: &[u8]) -> Option<Self> {
        let (first, rest) = data.split_first()?;
        if first % 2 == 0 {
            let mut u = Unstructured::new(rest);
            EventSpec::arbitrary(&mut u).ok().map(Self::Structured)
        } else {
            serde_json::from_slice(rest).ok().map(Self::Raw)
        }
    }
}
