use serde_json::{Value, json};

use super::*;
use crate::policy::ArnRoute;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../events/header-secret-authorizer/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn view(event: &Value) -> AuthorizerRequest {
    AuthorizerRequest::from_value(event).unwrap()
}

#[test]
fn every_fixture_parses_into_its_kind() {
    let dir = format!(
        "{}/../events/header-secret-authorizer",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name == "expected.json" || !name.ends_with(".json") {
            continue;
        }
        let kind = view(&fixture(&name)).kind;
        let expected = match name
            .split('-')
            .take(2)
            .collect::<Vec<_>>()
            .join("-")
            .as_str()
        {
            "rest-request" => PayloadKind::RestRequest,
            "http-v1" => PayloadKind::HttpV1,
            "http-v2" => PayloadKind::HttpV2,
            _ if name.starts_with("websocket") => PayloadKind::WebSocket,
            other => panic!("unexpected fixture prefix {other}"),
        };
        assert_eq!(kind, expected, "{name}");
        seen += 1;
    }
    assert_eq!(seen, 20);
}

#[test]
fn rest_request_view() {
    let r = view(&fixture("rest-request-valid.json"));
    assert_eq!(r.method_arn.api_id, "a1b2c3d4e5");
    assert_eq!(
        r.method_arn.route,
        ArnRoute::Http {
            verb: "GET".into(),
            path: "orders/42".into()
        }
    );
    assert_eq!(
        r.headers.get("X-ORIGIN-VERIFY").unwrap(),
        Some("pc-demo-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4")
    );
    assert_eq!(r.query.get("expand").unwrap(), Some("items"));
    assert_eq!(
        r.stage_variables.get("stage").map(String::as_str),
        Some("prod")
    );
    assert_eq!(r.source_ip, Some("130.176.0.1".parse().unwrap()));
    assert_eq!(r.http_method.as_deref(), Some("GET"));
    assert_eq!(r.path.as_deref(), Some("/orders/42"));
    assert_eq!(r.request_time_epoch_ms, Some(1767225600000));
}

#[test]
fn http_v2_view() {
    let r = view(&fixture("http-v2-valid.json"));
    assert_eq!(r.method_arn.stage, "$default");
    assert_eq!(r.route_key.as_deref(), Some("GET /orders/{id}"));
    assert_eq!(r.cookies.get("theme").unwrap(), Some("dark"));
    assert_eq!(r.query.get("expand").unwrap(), Some("items"));
    assert_eq!(r.source_ip, Some("130.176.0.1".parse().unwrap()));
    assert_eq!(r.request_time_epoch_ms, Some(1767225600000));
}

#[test]
fn websocket_view() {
    let r = view(&fixture("websocket-valid.json"));
    assert_eq!(r.method_arn.route, ArnRoute::Named("$connect".into()));
    assert_eq!(r.route_key.as_deref(), Some("$connect"));
    assert_eq!(r.query.get("room").unwrap(), Some("lobby"));
}

#[test]
fn duplicated_values_are_ambiguous_not_picked() {
    let r = view(&fixture("rest-request-duplicated-header.json"));
    let err = r.headers.get("x-origin-verify").unwrap_err();
    assert_eq!(err.count, 2);
    assert_eq!(r.headers.all("x-origin-verify").len(), 2);

    // Two differently-cased copies in `headers` alone must both be seen.
    let mut event = fixture("rest-request-valid.json");
    event["headers"]["X-Origin-Verify"] = json!("attacker-value");
    event["multiValueHeaders"] = json!(null);
    let r = view(&event);
    assert!(r.headers.get("x-origin-verify").is_err());

    // The same value repeated is one value.
    let mut event = fixture("rest-request-valid.json");
    event["headers"]["X-ORIGIN-VERIFY"] = event["headers"]["x-origin-verify"].clone();
    assert!(
        view(&event)
            .headers
            .get("x-origin-verify")
            .unwrap()
            .is_some()
    );
}

#[test]
fn secret_in_multi_value_headers_only_is_seen() {
    let mut event = fixture("rest-request-valid.json");
    let secret = event["headers"]["x-origin-verify"].take();
    event["headers"]
        .as_object_mut()
        .unwrap()
        .remove("x-origin-verify");
    assert_eq!(
        event["multiValueHeaders"]["x-origin-verify"],
        json!([secret])
    );
    let r = view(&event);
    assert_eq!(r.headers.get("x-origin-verify").unwrap(), secret.as_str());
}

#[test]
fn query_and_cookies_keep_every_copy() {
    let mut event = fixture("http-v2-valid.json");
    event["rawQueryString"] = json!("a=1&a=0&b=&c=%20x+y");
    event["cookies"] = json!(["sid=one", "sid=two", "x=1"]);
    let r = view(&event);
    assert_eq!(r.query.all("a"), vec!["1", "0"]);
    assert_eq!(r.query.get("b").unwrap(), Some(""));
    assert_eq!(r.query.get("c").unwrap(), Some(" x y"));
    assert!(r.cookies.get("sid").is_err());

    let mut event = fixture("rest-request-valid.json");
    event["headers"]["Cookie"] = json!("a=1; token=abc; b=2");
    assert_eq!(view(&event).cookies.get("token").unwrap(), Some("abc"));
}

#[test]
fn token_event_view() {
    let event = json!({
        "type": "TOKEN",
        "authorizationToken": "Bearer abc",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets"
    });
    let r = view(&event);
    assert_eq!(r.kind, PayloadKind::RestToken);
    assert_eq!(r.authorization_token.as_deref(), Some("Bearer abc"));
    assert!(r.headers.is_empty());
}

#[test]
fn client_certificate_is_exposed() {
    let mut event = fixture("rest-request-valid.json");
    event["requestContext"]["identity"]["clientCert"] = json!({
        "clientCertPem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "subjectDN": "CN=tenant-a,O=Example",
        "issuerDN": "CN=Example CA",
        "serialNumber": "a1:b2:c3",
        "validity": {"notBefore": "May 28 12:30:02 2025 GMT", "notAfter": "Aug  5 09:36:04 2027 GMT"}
    });
    let cert = view(&event).client_cert.unwrap();
    assert_eq!(cert.subject_dn.as_deref(), Some("CN=tenant-a,O=Example"));
    assert_eq!(cert.serial_number.as_deref(), Some("a1:b2:c3"));
    // 2027-08-05T09:36:04Z
    assert_eq!(
        cert.not_after,
        Some(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_817_458_564))
    );
}

#[test]
fn malformed_events_are_clean_errors() {
    let arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets";
    let cases = [
        json!({}),
        json!([]),
        json!({"type": "TOKEN"}),
        json!({"type": "TOKEN", "methodArn": "nope"}),
        json!({"type": "REQUEST", "methodArn": arn}),
        json!({"type": "REQUEST", "methodArn": arn, "requestContext": {}, "headers": {"a": 1}}),
        json!({"type": "REQUEST", "methodArn": arn, "requestContext": {}, "headers": ["a"]}),
        json!({"version": "2.0", "type": "REQUEST"}),
    ];
    for event in cases {
        assert!(AuthorizerRequest::from_value(&event).is_err(), "{event}");
    }
}

#[test]
fn pem_fingerprints_are_the_sha256_of_the_der() {
    // "MIIB" decodes to the bytes 30 82 01; their SHA-256 (computed with `printf '\x30\x82\x01'
    // | sha256sum`).
    assert_eq!(
        pem_sha256("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").as_deref(),
        Some("ccf72380a62a235fbf5474c2a85f6f68d0a1398f2dada1b19df37e10d4aea723")
    );
    for bad in [
        "",
        "MIIB",
        "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----",
        "-----BEGIN CERTIFICATE----------END CERTIFICATE-----",
    ] {
        assert_eq!(pem_sha256(bad), None, "{bad:?}");
    }
}

#[test]
fn a_malformed_event_error_never_quotes_the_value() {
    let arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets";
    let rest = |extra: Value| {
        let mut event = json!({"type": "REQUEST", "methodArn": arn, "requestContext": {}});
        for (k, v) in extra.as_object().unwrap() {
            event[k] = v.clone();
        }
        event
    };
    let cases = [
        (
            rest(json!({"headers": {"x-origin-verify": "secret-A\n\"quoted-rest"}})),
            "malformed rest-request event: invalid value: string, expected lots of things can go wrong with HeaderMap",
        ),
        (
            rest(json!({"httpMethod": "secret-B\"quoted-rest"})),
            "malformed rest-request event: invalid value: string, expected valid method name",
        ),
        (
            json!({"type": "TOKEN", "methodArn": arn, "authorizationToken": 4_711_000_815u64}),
            "malformed TOKEN event: invalid type: integer, expected a string",
        ),
        (
            json!({"version": "2.0", "type": "REQUEST", "routeArn": arn, "cookies": "id=secret-C", "requestContext": {}}),
            "malformed http-v2 event: invalid type: string, expected a sequence",
        ),
        (
            rest(json!({"requestContext": {"identity": {"clientCert": "-----BEGIN secret-D"}}})),
            "malformed rest-request event: invalid type: string, expected struct ApiGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert",
        ),
    ];
    for (event, want) in cases {
        let err = AuthorizerRequest::from_value(&event).unwrap_err();
        assert_eq!(err.to_string(), want);
        let debug = format!("{err:?}");
        for secret in ["secret-", "quoted-rest", "4711000815"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }
}
