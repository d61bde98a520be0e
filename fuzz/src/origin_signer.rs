//! Origin signer: CloudFront origin-request events built from fuzzer-chosen method, path,
//! query, headers (signer-owned, read-only, configuration and arbitrary names), body, origin
//! and credentials, plus raw bytes through the JSON entry point `handle_json`.
//!
//! Asserts: no panic; the outcome is either exactly the generated 502 with a log line, or a
//! request where: method, uri, querystring and body are unchanged; no header name appears
//! twice in any letter case; `Host` is the origin domain; `Authorization`, `X-Amz-Date` (the
//! signing time) and the session token appear exactly once; no `x-portcullis-*` header is left;
//! every other header is forwarded unchanged except the documented moves (viewer
//! `Authorization` → the forward header, which a viewer cannot pre-set; viewer `x-amz-*`
//! signing headers dropped); and the `Authorization` signature is re-computed here with
//! aws-sigv4 from the output request (host, method, origin path + uri, query, signed headers,
//! body) and matches.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arbitrary::{Arbitrary, Unstructured};
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;
use base64::Engine;
use origin_signer::config::Config;
use origin_signer::edge::bad_gateway;
use origin_signer::event::{CfRequest, HeaderEntry, Headers, OriginRequestEvent};
use origin_signer::{Credentials, handle, handle_json, query};
use serde_json::{Value, json};

const ACCESS_KEY: &str = "AKIDFUZZEXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEFUZZ//////////session";

#[derive(Debug, Arbitrary)]
enum Name {
    Pool(u8),
    Any(String),
}

const NAMES: &[&str] = &[
    "authorization",
    "Authorization",
    "host",
    "Host",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "X-Amz-Date",
    "content-length",
    "transfer-encoding",
    "content-type",
    "x-forwarded-authorization",
    "x-portcullis-region",
    "X-Portcullis-Region",
    "user-agent",
    "x-forwarded-for",
];

const CONFIG_NAMES: &[&str] = &[
    "x-portcullis-region",
    "x-portcullis-forward-authorization",
    "x-portcullis-content-sha256",
    "X-Portcullis-Region",
    "x-portcullis-unknown",
    "x-other-custom",
];

impl Name {
    fn render(&self, pool: &[&str]) -> String {
        match self {
            Name::Pool(i) => pool[usize::from(*i) % pool.len()].to_owned(),
            Name::Any(s) => s.clone(),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Domain {
    ExecuteApi(u8),
    Custom(String),
}

#[derive(Debug, Arbitrary)]
enum Creds {
    Role,
    NoToken,
    Missing,
    EmptySecret,
}

#[derive(Debug, Arbitrary)]
struct Spec {
    method: Name,
    uri: String,
    querystring: String,
    headers: Vec<(Name, Vec<String>)>,
    body: Option<(bool, u8, String)>,
    custom_origin: bool,
    domain: Domain,
    origin_path: String,
    config: Vec<(Name, Vec<String>)>,
    creds: Creds,
    now_secs: u32,
}

#[derive(Debug, Arbitrary)]
enum Input {
    Structured(Spec),
    Raw(Vec<u8>),
}

fn entries(values: &[String], display: &str) -> Vec<HeaderEntry> {
    values
        .iter()
        .map(|v| HeaderEntry::new(display, v.clone()))
        .collect()
}

impl Spec {
    fn event(&self) -> Value {
        let mut headers = serde_json::Map::new();
        for (name, values) in &self.headers {
            let name = name.render(NAMES);
            headers.insert(name.clone(), json!(entries(values, &name)));
        }
        let mut custom_headers = serde_json::Map::new();
        for (name, values) in &self.config {
            let name = name.render(CONFIG_NAMES);
            custom_headers.insert(name.clone(), json!(entries(values, &name)));
        }
        let regions = ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1"];
        let domain = match &self.domain {
            Domain::ExecuteApi(i) => format!(
                "a1b2c3d4e5.execute-api.{}.amazonaws.com",
                regions[usize::from(*i) % regions.len()]
            ),
            Domain::Custom(s) => s.clone(),
        };
        let origin = if self.custom_origin {
            json!({"custom": {"domainName": domain, "path": self.origin_path, "port": 443,
                "protocol": "https", "customHeaders": custom_headers}})
        } else {
            json!({"s3": {"domainName": "bucket.s3.amazonaws.com", "path": ""}})
        };
        let mut request = json!({
            "clientIp": "203.0.113.178",
            "method": self.method.render(&["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]),
            "uri": self.uri,
            "querystring": self.querystring,
            "headers": headers,
            "origin": origin,
        });
        if let Some((truncated, encoding, data)) = &self.body {
            let encoding = ["base64", "text", "", "hex"][usize::from(*encoding) % 4];
            let data = if encoding == "base64" && !data.starts_with('!') {
                base64::engine::general_purpose::STANDARD.encode(data)
            } else {
                data.clone()
            };
            request["body"] = json!({"inputTruncated": truncated, "action": "read-only",
                "encoding": encoding, "data": data});
        }
        json!({"Records": [{"cf": {"config": {"eventType": "origin-request"}, "request": request}}]})
    }

    fn credentials(&self) -> Option<Credentials> {
        let mut c = Credentials {
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: SECRET_KEY.into(),
            session_token: Some(SESSION_TOKEN.into()),
        };
        match self.creds {
            Creds::Role => Some(c),
            Creds::NoToken => {
                c.session_token = None;
                Some(c)
            }
            Creds::Missing => None,
            Creds::EmptySecret => {
                c.secret_access_key = String::new();
                Some(c)
            }
        }
    }
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(input) = Input::arbitrary(&mut u) else {
        return;
    };
    match input {
        Input::Structured(spec) => {
            let event = spec.event();
            let now = UNIX_EPOCH + Duration::from_secs(1_600_000_000 + u64::from(spec.now_secs));
            check(&event, spec.credentials(), now);
        }
        Input::Raw(bytes) => {
            let out: Value = serde_json::from_slice(&handle_json(&bytes)).expect("output is JSON");
            let obj = out.as_object().expect("output is an object");
            assert_eq!(obj.len(), 2, "output has result and log only");
            if obj["log"].is_string() {
                assert_eq!(obj["result"], bad_gateway());
            } else {
                assert!(obj["log"].is_null());
                // A signed request from raw bytes: judge it like a structured one.
                let input: Value = serde_json::from_slice(&bytes).expect("input was JSON");
                let creds = input
                    .get("credentials")
                    .cloned()
                    .and_then(|c| serde_json::from_value::<Credentials>(c).ok());
                let now = input["nowMs"].as_u64().expect("nowMs");
                check(
                    &input["event"],
                    creds,
                    UNIX_EPOCH + Duration::from_millis(now),
                );
            }
        }
    }
}

/// The invariants for one event, credentials and time.
pub fn check(event: &Value, creds: Option<Credentials>, now: SystemTime) {
    let Ok(parsed) = serde_json::from_value::<OriginRequestEvent>(event.clone()) else {
        return;
    };
    let outcome = handle(parsed.clone(), creds.clone(), now);
    if let Some(log) = &outcome.log {
        assert!(!log.contains(SECRET_KEY) && !log.contains(SESSION_TOKEN));
        assert_eq!(outcome.result, bad_gateway());
        return;
    }
    let input = parsed.into_request().expect("signed without a record");
    let output: CfRequest = serde_json::from_value(outcome.result.clone()).expect("request");
    let creds = creds.expect("signed without credentials");
    let origin_in = input.origin.custom.as_ref().expect("custom origin");
    let origin_out = output.origin.custom.as_ref().expect("custom origin kept");
    assert_eq!(output.method, input.method);
    assert_eq!(output.uri, input.uri);
    assert_eq!(output.querystring, input.querystring);
    assert_eq!(
        serde_json::to_value(&output.body).ok(),
        serde_json::to_value(&input.body).ok()
    );
    assert_eq!(origin_out.domain_name, origin_in.domain_name);
    assert_eq!(origin_out.path, origin_in.path);

    let is_config = |n: &str| n.to_ascii_lowercase().starts_with("x-portcullis-");
    for headers in [&output.headers, &origin_out.custom_headers] {
        assert!(!headers.keys().any(|n| is_config(n)), "config header left");
        let mut lower: Vec<String> = headers.keys().map(|n| n.to_ascii_lowercase()).collect();
        lower.sort();
        let before = lower.len();
        lower.dedup();
        assert_eq!(
            lower.len(),
            before,
            "a header name appears twice: {:?}",
            headers.keys()
        );
    }
    let one = |name: &str| -> &str {
        match output.headers.get(name).map(Vec::as_slice) {
            Some([entry]) => &entry.value,
            other => panic!("{name}: expected exactly one entry, got {other:?}"),
        }
    };
    assert_eq!(one("host"), origin_in.domain_name);
    assert_eq!(one("x-amz-date"), amz_date(now));
    match &creds.session_token {
        Some(t) if !t.is_empty() => assert_eq!(one("x-amz-security-token"), t),
        _ => assert!(!output.headers.contains_key("x-amz-security-token")),
    }

    // Documented moves; everything else forwarded as received (names folded to lowercase,
    // as CloudFront keys them).
    let in_headers = lowercase_keys(&input.headers);
    let in_custom = lowercase_keys(&origin_in.custom_headers);
    let config = Config::from_custom_headers(&in_custom).expect("config was valid");
    let mut kept_custom = in_custom.clone();
    kept_custom.retain(|n, _| !is_config(n));
    assert_eq!(
        origin_out.custom_headers, kept_custom,
        "origin custom headers changed"
    );
    let target = config.forward_authorization.as_str();
    let owned = [
        "host",
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    ];
    for (name, values) in &in_headers {
        let lower = name.to_ascii_lowercase();
        if is_config(name) || owned.contains(&lower.as_str()) || lower == target {
            continue;
        }
        assert_eq!(
            output.headers.get(name),
            Some(values),
            "header {name} changed"
        );
    }
    match in_headers.get("authorization") {
        Some(viewer) => {
            let moved: Vec<&str> = output.headers[target]
                .iter()
                .map(|e| e.value.as_str())
                .collect();
            let sent: Vec<&str> = viewer.iter().map(|e| e.value.as_str()).collect();
            assert_eq!(moved, sent, "viewer Authorization not moved to {target}");
        }
        None => assert!(!output.headers.contains_key(target), "viewer set {target}"),
    }
    for name in output.headers.keys() {
        let lower = name.to_ascii_lowercase();
        assert!(
            in_headers.contains_key(name) || owned.contains(&lower.as_str()) || lower == target,
            "header {name} appeared from nowhere"
        );
    }

    verify_signature(&output, origin_out, &creds, now, config.content_sha256);
    crate::count_allow();
}

fn verify_signature(
    output: &CfRequest,
    origin: &origin_signer::event::CustomOrigin,
    creds: &Credentials,
    now: SystemTime,
    content_sha256: bool,
) {
    let auth = single(&output.headers, "authorization");
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
        .expect("SigV4 authorization");
    let (credential, rest) = rest.split_once(", SignedHeaders=").expect("SignedHeaders");
    let (signed_headers, signature) = rest.split_once(", Signature=").expect("Signature");
    let scope: Vec<&str> = credential.split('/').collect();
    assert_eq!(scope.len(), 5, "credential scope {credential}");
    assert_eq!(scope[0], creds.access_key_id);
    assert_eq!(scope[1], &amz_date(now)[..8]);
    assert_eq!(scope[3], "execute-api");
    assert_eq!(scope[4], "aws4_request");
    assert_eq!(signature.len(), 64);
    let region = scope[2];

    let host = single(&output.headers, "host");
    let mut uri = format!("https://{host}{}{}", origin.path, output.uri);
    let q = query::encode_for_signing(&output.querystring).expect("query was signable");
    if !q.is_empty() {
        uri.push('?');
        uri.push_str(&q);
    }
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for name in signed_headers.split(';') {
        if ["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"].contains(&name) {
            continue;
        }
        headers.push((name, single(&output.headers, name)));
    }
    assert_eq!(
        signed_headers.contains("x-amz-content-sha256"),
        content_sha256,
        "x-amz-content-sha256 signed iff configured"
    );
    let body = match &output.body {
        None => Vec::new(),
        Some(b) if b.encoding == "text" => b.data.as_bytes().to_vec(),
        Some(b) => base64::engine::general_purpose::STANDARD
            .decode(&b.data)
            .expect("body was decodable"),
    };
    let identity = aws_credential_types::Credentials::new(
        creds.access_key_id.clone(),
        creds.secret_access_key.clone(),
        creds.session_token.clone().filter(|t| !t.is_empty()),
        None,
        "fuzz",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Enabled;
    if content_sha256 {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("execute-api")
        .time(now)
        .settings(settings)
        .build()
        .expect("params")
        .into();
    let signable = SignableRequest::new(
        &output.method,
        uri.clone(),
        headers.into_iter(),
        SignableBody::Bytes(&body),
    )
    .expect("output request is signable");
    let (_, expected) = sign(signable, &params).expect("re-sign").into_parts();
    assert_eq!(signature, expected, "signature does not verify for {uri}");
}

fn lowercase_keys(headers: &Headers) -> Headers {
    let mut out = Headers::new();
    for (name, entries) in headers {
        out.entry(name.to_ascii_lowercase())
            .or_default()
            .extend(entries.iter().cloned());
    }
    out
}

fn single<'a>(headers: &'a Headers, name: &str) -> &'a str {
    match headers.get(name).map(Vec::as_slice) {
        Some([entry]) => &entry.value,
        other => panic!("{name}: expected exactly one entry, got {other:?}"),
    }
}

/// `YYYYMMDDTHHMMSSZ` for `time` (civil-from-days, proleptic Gregorian).
fn amz_date(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .expect("after epoch")
        .as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
