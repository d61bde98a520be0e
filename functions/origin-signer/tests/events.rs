//! The sample events in `events/origin-signer/` through the origin-request rules.
//!
//! Expected canonical requests below are written by hand from API Gateway's rules (not taken
//! from the code); each is hashed, signed with the test key, and compared with the signature the
//! signer put in `Authorization`. botocore cross-checks the same events through the packaged
//! Node handler (`tests/crosscheck.py`).

use aws_sigv4::sign::v4;
use origin_signer::edge::sign_origin_request;
use origin_signer::sign::time_from_millis;
use origin_signer::{Credentials, OriginRequestEvent, SignError, handle, handle_json};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLETOKEN//////////wEaCXVzLWVhc3QtMSJHMEUCIQD";
/// 2026-01-02T03:04:05.678Z
const NOW_MS: u64 = 1_767_323_045_678;
const AMZ_DATE: &str = "20260102T030405Z";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/origin-signer")
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(events_dir().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn event(value: &Value) -> OriginRequestEvent {
    serde_json::from_value(value.clone()).unwrap()
}

fn credentials() -> Option<Credentials> {
    Some(Credentials {
        access_key_id: KEY_ID.into(),
        secret_access_key: SECRET.into(),
        session_token: Some(TOKEN.into()),
    })
}

fn sign(value: &Value) -> Result<Value, SignError> {
    sign_origin_request(event(value), credentials(), time_from_millis(NOW_MS))
        .map(|r| serde_json::to_value(r).unwrap())
}

fn header<'a>(request: &'a Value, name: &str) -> Option<&'a str> {
    request["headers"][name][0]["value"].as_str()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Signs a hand-written canonical request with the test key.
fn expected_signature(canonical: &str, region: &str) -> String {
    let sts = format!(
        "AWS4-HMAC-SHA256\n{AMZ_DATE}\n{}/{region}/execute-api/aws4_request\n{}",
        &AMZ_DATE[..8],
        sha256_hex(canonical.as_bytes())
    );
    let key = v4::generate_signing_key(SECRET, time_from_millis(NOW_MS), region, "execute-api");
    v4::calculate_signature(key, sts.as_bytes())
}

fn expected_authorization(canonical: &str, region: &str, signed_headers: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={KEY_ID}/{}/{region}/execute-api/aws4_request, SignedHeaders={signed_headers}, Signature={}",
        &AMZ_DATE[..8],
        expected_signature(canonical, region)
    )
}

fn event_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

#[test]
fn every_event_round_trips_unchanged() {
    let names = event_names();
    assert!(names.len() >= 7, "{names:?}");
    for name in names {
        let original = load(&name);
        let parsed = event(&original);
        assert_eq!(serde_json::to_value(&parsed).unwrap(), original, "{name}");
    }
}

#[test]
fn get_with_query_edge_cases() {
    let original = load("get-query.json");
    let signed = sign(&original).unwrap();
    let host = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
    let canonical = format!(
        "GET\n/prod/pets\n\
         %C3%BC=%C3%BC&a=0&a=1&b=&c=%20x&d=y%20z&e=%2A&f=~&g=caf%C3%A9&h=%E2%82%AC&i=~foo&j=%2520&k=\n\
         host:{host}\nx-amz-date:{AMZ_DATE}\nx-amz-security-token:{TOKEN}\n\n\
         host;x-amz-date;x-amz-security-token\n{EMPTY_SHA256}"
    );
    assert_eq!(
        header(&signed, "authorization"),
        Some(
            expected_authorization(
                &canonical,
                "eu-west-1",
                "host;x-amz-date;x-amz-security-token"
            )
            .as_str()
        )
    );
    assert_eq!(header(&signed, "host"), Some(host));
    assert_eq!(header(&signed, "x-amz-date"), Some(AMZ_DATE));
    assert_eq!(header(&signed, "x-amz-security-token"), Some(TOKEN));
    // the viewer's Authorization is moved, a viewer-supplied copy of the target is dropped
    assert_eq!(
        signed["headers"]["x-forwarded-authorization"],
        json!([{"key": "x-forwarded-authorization", "value": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl"}])
    );
    assert!(signed["headers"].get("x-amz-content-sha256").is_none());
    // query and uri are forwarded exactly as received; CloudFront-owned headers untouched
    let request = &original["Records"][0]["cf"]["request"];
    for field in ["querystring", "uri", "method", "clientIp", "origin"] {
        assert_eq!(signed[field], request[field], "{field}");
    }
    for name in ["via", "x-forwarded-for", "user-agent", "accept"] {
        assert_eq!(signed["headers"][name], request["headers"][name], "{name}");
    }
}

#[test]
fn websocket_connections_path_is_double_encoded() {
    let signed = sign(&load("websocket-connections.json")).unwrap();
    let host = "w9x8y7z6v5.execute-api.us-east-1.amazonaws.com";
    let canonical = format!(
        "POST\n/production/%40connections/JBDvjfGEIAMCERw%253D\n\n\
         host:{host}\nx-amz-date:{AMZ_DATE}\nx-amz-security-token:{TOKEN}\n\n\
         host;x-amz-date;x-amz-security-token\n{}",
        sha256_hex(b"{\"msg\":\"hello\"}\n")
    );
    assert_eq!(
        header(&signed, "authorization"),
        Some(
            expected_authorization(
                &canonical,
                "us-east-1",
                "host;x-amz-date;x-amz-security-token"
            )
            .as_str()
        )
    );
    assert_eq!(signed["uri"], "/@connections/JBDvjfGEIAMCERw%3D");
}

#[test]
fn path_edge_cases() {
    let signed = sign(&load("path-edge-cases.json")).unwrap();
    let host = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
    let canonical = format!(
        "GET\n/prod/files/it%27s%281%29%21%2A/a%252Fb/~tilde/%25E2%2582%25AC\n\
         q=%2F&r=%21%27%28%29%2A\n\
         host:{host}\nx-amz-date:{AMZ_DATE}\nx-amz-security-token:{TOKEN}\n\n\
         host;x-amz-date;x-amz-security-token\n{EMPTY_SHA256}"
    );
    assert_eq!(
        header(&signed, "authorization"),
        Some(
            expected_authorization(
                &canonical,
                "eu-west-1",
                "host;x-amz-date;x-amz-security-token"
            )
            .as_str()
        )
    );
}

#[test]
fn binary_body_hashes_decoded_bytes() {
    let original = load("put-binary.json");
    let signed = sign(&original).unwrap();
    let bytes: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0xFF, 0xFE, 0x00, 0x80, 0xC3, 0x28,
    ];
    let host = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
    let canonical = format!(
        "PUT\n/prod/uploads/image.png\n\n\
         host:{host}\nx-amz-date:{AMZ_DATE}\nx-amz-security-token:{TOKEN}\n\n\
         host;x-amz-date;x-amz-security-token\n{}",
        sha256_hex(bytes)
    );
    assert_eq!(
        header(&signed, "authorization"),
        Some(
            expected_authorization(
                &canonical,
                "eu-west-1",
                "host;x-amz-date;x-amz-security-token"
            )
            .as_str()
        )
    );
    // the body goes back untouched (read-only), content-length (read-only) too
    let request = &original["Records"][0]["cf"]["request"];
    assert_eq!(signed["body"], request["body"]);
    assert_eq!(
        signed["headers"]["content-length"],
        request["headers"]["content-length"]
    );
}

#[test]
fn custom_domain_with_configuration_headers() {
    let original = load("custom-domain.json");
    let signed = sign(&original).unwrap();
    let body_hash = sha256_hex(b"hello world");
    let canonical = format!(
        "POST\n/v1/messages\nlang=en\n\
         host:api.example.com\nx-amz-content-sha256:{body_hash}\nx-amz-date:{AMZ_DATE}\n\
         x-amz-security-token:{TOKEN}\n\n\
         host;x-amz-content-sha256;x-amz-date;x-amz-security-token\n{body_hash}"
    );
    assert_eq!(
        header(&signed, "authorization"),
        Some(
            expected_authorization(
                &canonical,
                "eu-central-1",
                "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
            )
            .as_str()
        )
    );
    assert_eq!(
        header(&signed, "x-amz-content-sha256"),
        Some(body_hash.as_str())
    );
    assert_eq!(
        header(&signed, "x-viewer-authorization"),
        Some("Basic dXNlcjpwYXNz")
    );
    assert!(signed["headers"].get("x-forwarded-authorization").is_none());
    // configuration headers are not forwarded, other origin custom headers are
    assert_eq!(
        signed["origin"]["custom"]["customHeaders"],
        json!({"x-origin-verify": [{"key": "X-Origin-Verify", "value": "kept-for-origin"}]})
    );
}

#[test]
fn post_json_body() {
    let signed = sign(&load("post-json.json")).unwrap();
    let host = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
    let canonical = format!(
        "POST\n/prod/orders\n\n\
         host:{host}\nx-amz-date:{AMZ_DATE}\nx-amz-security-token:{TOKEN}\n\n\
         host;x-amz-date;x-amz-security-token\n{}",
        sha256_hex(br#"{"item":"book","qty":2,"gift":true}"#)
    );
    assert_eq!(
        header(&signed, "authorization"),
        Some(
            expected_authorization(
                &canonical,
                "eu-west-1",
                "host;x-amz-date;x-amz-security-token"
            )
            .as_str()
        )
    );
}

fn assert_502(outcome: &origin_signer::Outcome, log_contains: &str) {
    assert_eq!(outcome.result["status"], "502", "{:?}", outcome.result);
    assert!(outcome.result.get("uri").is_none(), "never the request");
    let log = outcome.log.as_deref().expect("a log line");
    assert!(
        log.starts_with("origin-signer: request not forwarded (502): "),
        "{log}"
    );
    assert!(log.contains(log_contains), "{log}");
    assert!(!log.contains(SECRET) && !log.contains(TOKEN), "{log}");
}

#[test]
fn truncated_body_fails_closed() {
    let outcome = handle(
        event(&load("post-truncated.json")),
        credentials(),
        time_from_millis(NOW_MS),
    );
    assert_502(&outcome, "inputTruncated");
}

#[test]
fn missing_credentials_fail_closed() {
    let get = event(&load("get-query.json"));
    assert_502(
        &handle(get.clone(), None, time_from_millis(NOW_MS)),
        "credentials missing",
    );
    let empty = Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: String::new(),
        session_token: Some(TOKEN.into()),
    };
    assert_502(
        &handle(get, Some(empty), time_from_millis(NOW_MS)),
        "credentials missing",
    );
}

fn request_mut(value: &mut Value) -> &mut Value {
    &mut value["Records"][0]["cf"]["request"]
}

#[test]
fn other_refusals() {
    // S3 origin
    let mut s3 = load("get-query.json");
    request_mut(&mut s3)["origin"] =
        json!({"s3": {"domainName": "b.s3.amazonaws.com", "path": ""}});
    assert_eq!(sign(&s3).unwrap_err(), SignError::NotCustomOrigin);

    // custom domain without region; a viewer header cannot supply it
    let mut custom = load("custom-domain.json");
    request_mut(&mut custom)["origin"]["custom"]["customHeaders"] = json!({});
    request_mut(&mut custom)["headers"]["x-portcullis-region"] =
        json!([{"key": "X-Portcullis-Region", "value": "us-east-1"}]);
    assert!(matches!(
        sign(&custom),
        Err(SignError::UnknownRegion { .. })
    ));

    // body declared but not included
    let mut no_body = load("post-json.json");
    request_mut(&mut no_body)
        .as_object_mut()
        .unwrap()
        .remove("body");
    assert_eq!(sign(&no_body).unwrap_err(), SignError::BodyNotIncluded);

    // invalid base64
    let mut bad = load("post-json.json");
    request_mut(&mut bad)["body"]["data"] = json!("not base64!");
    assert_eq!(sign(&bad).unwrap_err(), SignError::InvalidBody("base64"));

    // non-UTF-8 query escapes
    let mut query = load("get-query.json");
    request_mut(&mut query)["querystring"] = json!("a=%FF");
    assert!(matches!(sign(&query), Err(SignError::Unsignable(_))));

    // misspelt configuration
    let mut typo = load("custom-domain.json");
    request_mut(&mut typo)["origin"]["custom"]["customHeaders"]["x-portcullis-regoin"] =
        json!([{"key": "X-Portcullis-Regoin", "value": "eu-central-1"}]);
    assert!(matches!(sign(&typo), Err(SignError::InvalidConfig { .. })));
}

#[test]
fn viewer_config_headers_are_stripped() {
    let mut get = load("get-query.json");
    request_mut(&mut get)["headers"]["x-portcullis-content-sha256"] =
        json!([{"key": "X-Portcullis-Content-Sha256", "value": "true"}]);
    let signed = sign(&get).unwrap();
    assert!(
        signed["headers"]
            .get("x-portcullis-content-sha256")
            .is_none()
    );
    assert!(signed["headers"].get("x-amz-content-sha256").is_none());
}

#[test]
fn header_keys_in_any_case_are_folded_before_the_moves() {
    // Found by fuzzing: a map key `Authorization` escaped the move and reached the origin
    // beside the signer's `authorization`.
    let mut get = load("get-query.json");
    let headers = request_mut(&mut get)["headers"].as_object_mut().unwrap();
    headers.remove("authorization");
    headers.insert(
        "Authorization".into(),
        json!([{"key": "Authorization", "value": "Bearer viewer"}]),
    );
    headers.insert(
        "X-Amz-Date".into(),
        json!([{"key": "X-Amz-Date", "value": "19990101T000000Z"}]),
    );
    let signed = sign(&get).unwrap();
    let names: Vec<&String> = signed["headers"].as_object().unwrap().keys().collect();
    assert!(
        names.iter().all(|n| **n == n.to_ascii_lowercase()),
        "{names:?}"
    );
    assert_eq!(
        signed["headers"]["x-forwarded-authorization"],
        json!([{"key": "x-forwarded-authorization", "value": "Bearer viewer"}])
    );
    assert!(
        header(&signed, "authorization")
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256 ")
    );
    assert_eq!(header(&signed, "x-amz-date"), Some(AMZ_DATE));
    assert_eq!(
        signed["headers"]["authorization"].as_array().unwrap().len(),
        1
    );
    assert_eq!(signed["headers"]["x-amz-date"].as_array().unwrap().len(), 1);
}

#[test]
fn json_entry_point() {
    let input = json!({
        "event": load("get-query.json"),
        "credentials": {"accessKeyId": KEY_ID, "secretAccessKey": SECRET, "sessionToken": TOKEN},
        "nowMs": NOW_MS,
    });
    let out: Value = serde_json::from_slice(&handle_json(input.to_string().as_bytes())).unwrap();
    assert_eq!(out["log"], Value::Null);
    assert_eq!(out["result"], sign(&load("get-query.json")).unwrap());

    // malformed input: 502, and the log never echoes input values
    let bad = br#"{"event": {"Records": [{"cf": {"request": {"method": 5, "uri": "/secret-path"}}}]}, "nowMs": 1}"#;
    let out: Value = serde_json::from_slice(&handle_json(bad)).unwrap();
    assert_eq!(out["result"]["status"], "502");
    let log = out["log"].as_str().unwrap();
    assert!(log.contains("invalid origin-request event"), "{log}");
    assert!(!log.contains("secret-path"), "{log}");

    // credentials of the wrong shape count as missing and are not echoed
    let input = json!({
        "event": load("get-query.json"),
        "credentials": {"accessKeyId": 12, "secretAccessKey": ["hunter2"]},
        "nowMs": NOW_MS,
    });
    let out: Value = serde_json::from_slice(&handle_json(input.to_string().as_bytes())).unwrap();
    let log = out["log"].as_str().unwrap();
    assert!(
        log.contains("credentials missing") && !log.contains("hunter2"),
        "{log}"
    );
}

#[test]
fn text_body_and_empty_bodies() {
    let host = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
    let canonical = |hash: &str| {
        format!(
            "POST\n/prod/orders\n\n\
             host:{host}\nx-amz-date:{AMZ_DATE}\nx-amz-security-token:{TOKEN}\n\n\
             host;x-amz-date;x-amz-security-token\n{hash}"
        )
    };
    let signed_headers = "host;x-amz-date;x-amz-security-token";

    // "text" encoding: the UTF-8 bytes are hashed
    let mut text = load("post-json.json");
    request_mut(&mut text)["body"] = json!({"inputTruncated": false, "action": "read-only", "encoding": "text", "data": "héllo"});
    let signed = sign(&text).unwrap();
    let expected = expected_authorization(
        &canonical(&sha256_hex("héllo".as_bytes())),
        "eu-west-1",
        signed_headers,
    );
    assert_eq!(header(&signed, "authorization"), Some(expected.as_str()));

    // no body object and content-length 0: the empty-payload hash
    let mut empty = load("post-json.json");
    request_mut(&mut empty)
        .as_object_mut()
        .unwrap()
        .remove("body");
    request_mut(&mut empty)["headers"]["content-length"] =
        json!([{"key": "Content-Length", "value": "0"}]);
    let signed = sign(&empty).unwrap();
    let expected = expected_authorization(&canonical(EMPTY_SHA256), "eu-west-1", signed_headers);
    assert_eq!(header(&signed, "authorization"), Some(expected.as_str()));

    // chunked without an included body is refused
    let mut chunked = empty.clone();
    request_mut(&mut chunked)["headers"]["transfer-encoding"] =
        json!([{"key": "Transfer-Encoding", "value": "chunked"}]);
    assert_eq!(sign(&chunked).unwrap_err(), SignError::BodyNotIncluded);
}

#[test]
fn event_without_record_fails_closed() {
    let outcome = handle(
        serde_json::from_value(json!({"Records": []})).unwrap(),
        credentials(),
        time_from_millis(NOW_MS),
    );
    assert_502(&outcome, "no record");
}
