use std::net::IpAddr;
use std::sync::Mutex;

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::config::MapEnv;
use crate::policy::Context;
use crate::secrets::{MemorySource, SourceError};

const SECRET: &str = "pc-door-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4";
const PREVIOUS: &str = "pc-door-previous-8e6d4c2a0b9f7e5d3c1a2b4d6f8e0a1c";
const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/GET/orders/7";

/// The worst caller check: it lets everyone in, and records the source IP it was shown.
#[derive(Default)]
struct AllowEveryone {
    seen: Mutex<Vec<Option<IpAddr>>>,
}

impl CallerCheck for AllowEveryone {
    async fn check(
        &self,
        request: &AuthorizerRequest,
        _clock: Clock,
    ) -> Result<Verdict, Unavailable> {
        self.seen.lock().unwrap().push(request.source_ip);
        Ok(Verdict::Decision {
            decision: Decision::allow_all("caller", &request.method_arn, Context::new()),
            reason: "ok",
        })
    }
}

/// A caller check whose dependency is down.
struct DependencyDown;

impl CallerCheck for DependencyDown {
    async fn check(&self, _: &AuthorizerRequest, _: Clock) -> Result<Verdict, Unavailable> {
        Err(Unavailable {
            reason: "keys_unavailable",
        })
    }
}

fn settings(pairs: &[(&str, &str)]) -> DoorSettings {
    let mut all = vec![("ORIGIN_SECRET_PARAMETER_NAME", "/portcullis/origin")];
    all.extend_from_slice(pairs);
    DoorSettings::from_env(&MapEnv::from_pairs(all), "ORIGIN_SECRET_").unwrap()
}

fn door<C: CallerCheck>(
    source: &MemorySource,
    pairs: &[(&str, &str)],
    caller: C,
) -> FrontDoor<MemorySource, C> {
    let settings = settings(pairs);
    let proof = SecretProof::new(source.clone(), settings.origin.as_ref().unwrap(), false);
    FrontDoor::new("test", &settings, Some(proof), caller)
}

fn secrets() -> MemorySource {
    MemorySource::new(&format!("{SECRET}\n{PREVIOUS}\n"))
}

fn rest(headers: Value) -> Value {
    json!({"type": "REQUEST", "methodArn": ARN, "headers": headers,
        "requestContext": {"identity": {"sourceIp": "130.176.0.7"}}})
}

async fn serve<C: CallerCheck>(
    door: &FrontDoor<MemorySource, C>,
    event: &Value,
) -> Result<Value, Refusal> {
    door.serve(event, Clock::system(), Duration::MAX).await
}

fn whole_api(effect: &str, principal: &str) -> Value {
    json!({"principalId": principal, "policyDocument": {"Version": "2012-10-17", "Statement": [{
        "Action": "execute-api:Invoke", "Effect": effect,
        "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/*/*"]}]}})
}

#[tokio::test]
async fn the_origin_proof_comes_before_the_caller_check() {
    let door = door(&secrets(), &[], AllowEveryone::default());
    for headers in [
        json!({}),
        json!({"x-origin-verify": "wrong-secret-of-enough-length"}),
        json!({"authorization": SECRET, "x-api-key": SECRET}),
    ] {
        assert_eq!(
            serve(&door, &rest(headers.clone())).await,
            Ok(whole_api("Deny", "anonymous")),
            "{headers}"
        );
    }
    let repeated = json!({"type": "REQUEST", "methodArn": ARN, "requestContext": {},
        "multiValueHeaders": {"x-origin-verify": [SECRET, "other-value-of-enough-length"]}});
    assert_eq!(
        serve(&door, &repeated).await,
        Ok(whole_api("Deny", "anonymous"))
    );
    assert!(door.caller().seen.lock().unwrap().is_empty());
    for secret in [SECRET, PREVIOUS] {
        assert_eq!(
            serve(&door, &rest(json!({"X-Origin-Verify": secret}))).await,
            Ok(whole_api("Allow", "caller"))
        );
    }
    // A caller authorizer's TOKEN event carries no header: no proof, whatever the token.
    let token = json!({"type": "TOKEN", "authorizationToken": SECRET, "methodArn": ARN});
    assert_eq!(
        serve(&door, &token).await,
        Ok(whole_api("Deny", "anonymous"))
    );
}

#[tokio::test]
async fn dependency_failures_and_the_deadline_are_uncacheable_errors() {
    let source = secrets();
    source.fail(SourceError::Throttled);
    let valid = rest(json!({"x-origin-verify": SECRET}));
    let down = door(&source, &[], AllowEveryone::default());
    assert_eq!(
        serve(&down, &valid).await,
        Err(Refusal::DependencyUnavailable)
    );
    let caller_down = door(&secrets(), &[], DependencyDown);
    assert_eq!(
        serve(&caller_down, &valid).await,
        Err(Refusal::DependencyUnavailable)
    );
    // A wrong secret is still the caller's fault, even with the caller's dependency down.
    assert_eq!(
        serve(
            &caller_down,
            &rest(json!({"x-origin-verify": "nope-nope-nope-nope"}))
        )
        .await,
        Ok(whole_api("Deny", "anonymous"))
    );
    let slow = secrets();
    slow.delay(Duration::from_secs(30));
    let slow_door = door(&slow, &[], AllowEveryone::default());
    let answer = slow_door
        .serve(&valid, Clock::system(), Duration::from_millis(50))
        .await;
    assert_eq!(answer, Err(Refusal::DependencyUnavailable));
    let diagnostic = lambda_runtime::Diagnostic::from(Refusal::DependencyUnavailable);
    assert_eq!(
        (
            diagnostic.error_type.as_str(),
            diagnostic.error_message.as_str()
        ),
        ("DependencyUnavailable", "dependency unavailable")
    );
}

#[tokio::test]
async fn malformed_events_are_uncacheable_errors() {
    let door = door(&secrets(), &[], AllowEveryone::default());
    for event in [
        json!({}),
        json!("x"),
        json!({"type": "REQUEST", "methodArn": "arn:x"}),
    ] {
        assert_eq!(
            serve(&door, &event).await,
            Err(Refusal::MalformedEvent),
            "{event}"
        );
    }
}

#[tokio::test]
async fn viewer_facts_are_trusted_only_after_the_proof() {
    let forged = json!({"CloudFront-Viewer-Address": "203.0.113.9:443"});
    let with_secret =
        json!({"CloudFront-Viewer-Address": "203.0.113.9:443", "x-origin-verify": SECRET});
    let trusting = door(
        &secrets(),
        &[("TRUST_CLOUDFRONT_VIEWER_HEADERS", "true")],
        AllowEveryone::default(),
    );
    assert_eq!(
        serve(&trusting, &rest(forged.clone())).await,
        Ok(whole_api("Deny", "anonymous"))
    );
    assert_eq!(
        serve(&trusting, &rest(with_secret.clone())).await,
        Ok(whole_api("Allow", "caller"))
    );
    assert_eq!(
        *trusting.caller().seen.lock().unwrap(),
        vec![Some("203.0.113.9".parse().unwrap())]
    );
    let not_trusting = door(&secrets(), &[], AllowEveryone::default());
    serve(&not_trusting, &rest(with_secret)).await.unwrap();
    assert_eq!(
        *not_trusting.caller().seen.lock().unwrap(),
        vec![Some("130.176.0.7".parse().unwrap())]
    );
}

#[test]
fn trusting_viewer_headers_needs_the_origin_proof() {
    let err = DoorSettings::from_env(
        &MapEnv::from_pairs([("TRUST_CLOUDFRONT_VIEWER_HEADERS", "true")]),
        "ORIGIN_SECRET_",
    )
    .unwrap_err();
    assert_eq!(err.var, "TRUST_CLOUDFRONT_VIEWER_HEADERS");
    assert!(err.reason.contains("ORIGIN_SECRET_PARAMETER_NAME"), "{err}");
    let bad = DoorSettings::from_env(
        &MapEnv::from_pairs([("TRUST_CLOUDFRONT_VIEWER_HEADERS", "yes")]),
        "ORIGIN_SECRET_",
    );
    assert_eq!(bad.unwrap_err().var, "TRUST_CLOUDFRONT_VIEWER_HEADERS");
    let defaults = DoorSettings::from_env(&MapEnv::default(), "ORIGIN_SECRET_").unwrap();
    assert_eq!(
        defaults,
        DoorSettings {
            http_mode: HttpApiResponseMode::Simple,
            metrics_namespace: None,
            origin: None,
            cert_pins: None,
            trust_viewer: false,
        }
    );
    let renamed = DoorSettings::from_env(
        &MapEnv::from_pairs([("JWT_HTTP_API_RESPONSE", "iam")]),
        "ORIGIN_SECRET_",
    )
    .unwrap();
    assert_eq!(renamed.http_mode, HttpApiResponseMode::Iam);
}

/// Header names an attacker might use: the secret header in several cases, credentials,
/// and every CloudFront viewer header.
const NAMES: [&str; 10] = [
    "x-origin-verify",
    "X-Origin-Verify",
    "X-ORIGIN-VERIFY",
    "x-origin-verify2",
    "authorization",
    "x-api-key",
    "cloudfront-viewer-address",
    "CloudFront-Viewer-Country",
    "CloudFront-Viewer-Cert-Present",
    "CloudFront-Viewer-Cert-Sha256",
];

/// Values: the secrets, near misses, and viewer facts.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(SECRET.to_owned()),
        Just(PREVIOUS.to_owned()),
        Just(format!("{SECRET},{PREVIOUS}")),
        Just(format!(" {SECRET}")),
        Just(SECRET[..40].to_owned()),
        Just(SECRET.to_uppercase()),
        Just("203.0.113.9:443".to_owned()),
        Just("1".to_owned()),
        "[ -~]{0,60}",
    ]
}

fn format_event(format: u8, headers: &[(usize, String)], multi: bool) -> Value {
    let mut single = serde_json::Map::new();
    let mut many: serde_json::Map<String, Value> = serde_json::Map::new();
    for (name, value) in headers {
        let name = NAMES[*name].to_owned();
        if multi {
            many.entry(name)
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .unwrap()
                .push(json!(value));
        } else {
            single.insert(name, json!(value));
        }
    }
    match format {
        0 => json!({"type": "REQUEST", "methodArn": ARN, "headers": single,
            "multiValueHeaders": many, "requestContext": {"identity": {"sourceIp": "130.176.0.7"}}}),
        1 => json!({"version": "1.0", "type": "REQUEST", "methodArn": ARN, "headers": single,
            "multiValueHeaders": many, "requestContext": {"identity": {"sourceIp": "130.176.0.7"}}}),
        _ => json!({"version": "2.0", "type": "REQUEST",
            "routeArn": ARN.replace("/prod/", "/$default/"), "routeKey": "$default",
            "identitySource": ["x"], "headers": single, "requestContext": {"http": {
                "method": "GET", "path": "/orders/7", "protocol": "HTTP/1.1",
                "sourceIp": "130.176.0.7", "userAgent": "t"}, "timeEpoch": 1}}),
    }
}

/// Every distinct value of the secret header the event carries, under any case of its name,
/// in `headers` and `multiValueHeaders` (read from the event JSON itself).
fn offered(event: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for map in ["headers", "multiValueHeaders"] {
        let Some(map) = event.get(map).and_then(Value::as_object) else {
            continue;
        };
        for (name, value) in map {
            if !name.eq_ignore_ascii_case("x-origin-verify") {
                continue;
            }
            let values = match value {
                Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                other => other.as_str().into_iter().collect::<Vec<_>>(),
            };
            for v in values {
                if !out.iter().any(|o| o == v) {
                    out.push(v.to_owned());
                }
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// With the origin proof configured and a caller check that lets everyone in, no input —
    /// any headers, credentials, forged viewer headers, in any payload format — is allowed
    /// unless it carries exactly one distinct value of the secret header and that value is
    /// one of the secret lines.
    #[test]
    fn nothing_is_allowed_without_the_valid_secret(
        format in 0u8..3,
        multi in any::<bool>(),
        trust in any::<bool>(),
        headers in prop::collection::vec((0usize..NAMES.len(), value()), 0..6),
    ) {
        let multi = multi && format < 2;
        let trust = if trust { "true" } else { "false" };
        let door = door(
            &secrets(),
            &[("TRUST_CLOUDFRONT_VIEWER_HEADERS", trust)],
            AllowEveryone::default(),
        );
        let event = format_event(format, &headers, multi);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let answer = runtime.block_on(serve(&door, &event)).unwrap();
        let allowed = match answer.get("isAuthorized") {
            Some(ok) => ok == &json!(true),
            None => answer["policyDocument"]["Statement"][0]["Effect"] == json!("Allow"),
        };
        let offered = offered(&event);
        let valid = matches!(offered.as_slice(), [one] if one == SECRET || one == PREVIOUS);
        prop_assert_eq!(allowed, valid, "event {}", event);
        prop_assert_eq!(door.caller().seen.lock().unwrap().len(), usize::from(valid));
    }
}

#[tokio::test]
async fn a_pinned_certificate_is_an_origin_proof_without_any_secret() {
    // SHA-256 of the DER bytes `30 82 01` (PEM body `MIIB`), by `printf '\x30\x82\x01' | sha256sum`.
    let pin = "ccf72380a62a235fbf5474c2a85f6f68d0a1398f2dada1b19df37e10d4aea723";
    let settings = DoorSettings::from_env(
        &MapEnv::from_pairs([
            ("ORIGIN_CERT_SHA256", pin),
            ("TRUST_CLOUDFRONT_VIEWER_HEADERS", "true"),
        ]),
        "ORIGIN_SECRET_",
    )
    .unwrap();
    let door: FrontDoor<MemorySource, _> =
        FrontDoor::new("test", &settings, None, AllowEveryone::default());
    let event = |pem: &str| {
        json!({"type": "REQUEST", "methodArn": ARN,
            "headers": {"CloudFront-Viewer-Address": "203.0.113.9:443"},
            "requestContext": {"identity": {"sourceIp": "130.176.0.7", "clientCert": {
                "clientCertPem": pem, "subjectDN": "CN=cloudfront", "issuerDN": "CN=ca",
                "serialNumber": "01", "validity": {"notBefore": "Jan  1 00:00:00 2020 GMT",
                    "notAfter": "Jan  1 00:00:00 2100 GMT"}}}}})
    };
    let pinned = event("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    assert_eq!(
        serve(&door, &pinned).await,
        Ok(whole_api("Allow", "caller"))
    );
    // The viewer facts were applied after the certificate proof.
    assert_eq!(
        *door.caller().seen.lock().unwrap(),
        vec![Some("203.0.113.9".parse().unwrap())]
    );
    let unpinned = event("-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n");
    assert_eq!(
        serve(&door, &unpinned).await,
        Ok(whole_api("Deny", "anonymous"))
    );
    let mut absent = pinned.clone();
    absent["requestContext"]["identity"]
        .as_object_mut()
        .unwrap()
        .remove("clientCert");
    assert_eq!(
        serve(&door, &absent).await,
        Ok(whole_api("Deny", "anonymous"))
    );
    assert_eq!(door.caller().seen.lock().unwrap().len(), 1);
}
