//! The real `jwt-authorizer` and `request-authorizer` binaries composed with the origin proof
//! (the CloudFront secret in moto SSM) and, for the request authorizer, trusted CloudFront viewer
//! headers, over every sample of `events/composed/`. Build first:
//! `cargo build --bin jwt-authorizer --bin request-authorizer`.
//!
//! Each decision is judged the way API Gateway would (an IAM policy evaluated on the event's own
//! ARN by a matcher written here) and each reason code read from the function's decision log
//! line, so a Deny for the wrong reason (the IP rule instead of the certificate) fails too.

mod jwt_support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use jwt_support::demo_jwks;
use portcullis_tests::{
    InvokeError, Lambda, Moto, binary, decision_for, decision_reason, read_env_file, workspace_root,
};
use serde_json::{Value, json};

/// The two lines of `events/composed/origin-secret.txt` and the value nobody configured.
const CURRENT: &str = "pc-demo-composed-current-6b1e9d3f7a5c2e8b4d0f6a2c";
const PREVIOUS: &str = "pc-demo-composed-previous-1f3d5b7a9c2e4f6a8b0d2c4e";
const WRONG: &str = "pc-demo-composed-guessed-000000000000000000000000";
/// The demo API keys of `events/composed/generate.py`.
const API_KEYS: [&str; 3] = [
    "pc-demo-edge-acme-4c8e2a6f0b3d7e1a5c9f3b7d1e5a",
    "pc-demo-edge-globex-8a2f6c0e4b8d2f6a0c4e8b2d6f",
    "pc-demo-edge-umbrella-3e7b1f5d9a3c7e1b5f9d3a7c",
];

fn dir(function: &str) -> PathBuf {
    workspace_root().join("events/composed").join(function)
}

fn read(function: &str, file: &str) -> Value {
    let path = dir(function).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn expected(function: &str) -> BTreeMap<String, String> {
    serde_json::from_value(read(function, "expected.json")).unwrap()
}

/// `demo.env` of `function`, with `replace` applied and `remove` left out.
fn demo_env(function: &str, replace: &[(&str, &str)], remove: &[&str]) -> Vec<(String, String)> {
    let mut env = read_env_file(&dir(function).join("demo.env"));
    assert!(!env.is_empty(), "{function}/demo.env has settings");
    env.retain(|(k, _)| !remove.contains(&k.as_str()));
    for (k, v) in &mut env {
        if let Some((_, new)) = replace.iter().find(|(name, _)| name == k) {
            *v = (*new).to_owned();
        }
    }
    env
}

fn setting(env: &[(String, String)], name: &str) -> String {
    env.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("{name} is not set"))
}

/// moto with the demo origin secret (and the rules document, when `env` names one).
async fn seeded_moto(env: &[(String, String)]) -> Moto {
    let moto = Moto::start().await;
    let secret =
        std::fs::read_to_string(workspace_root().join("events/composed/origin-secret.txt"))
            .unwrap();
    assert_eq!(secret, format!("{CURRENT}\n{PREVIOUS}\n"));
    moto.put_secure(&setting(env, "ORIGIN_SECRET_PARAMETER_NAME"), &secret)
        .await;
    if let Some((_, name)) = env.iter().find(|(k, _)| k == "RULES_PARAMETER_NAME") {
        let rules = std::fs::read_to_string(dir("request-authorizer").join("rules.json")).unwrap();
        moto.put_secure(name, &rules).await;
    }
    moto
}

async fn start(env: Vec<(String, String)>, function: &str) -> Lambda {
    let mut lambda = Lambda::spawn(&binary(function), &env).await.expect("spawn");
    lambda.wait_ready().await.expect("function ready");
    lambda
}

/// The case of a sample file: its name without the payload format and `.json`.
fn case_of(file: &str) -> &str {
    let stem = file.strip_suffix(".json").unwrap();
    [
        "rest-request-",
        "rest-token-",
        "http-v1-",
        "http-v2-",
        "websocket-",
    ]
    .iter()
    .find_map(|prefix| stem.strip_prefix(prefix))
    .unwrap_or_else(|| panic!("{file}: unknown payload format"))
}

/// Every sample of `function`: the exact decision, and the reason it was taken.
async fn replay(
    lambda: &mut Lambda,
    function: &str,
    count: usize,
    reasons: &[(&str, &str)],
) -> u64 {
    let expected = expected(function);
    assert_eq!(
        expected.len(),
        count,
        "{function}: samples in expected.json"
    );
    let mut n = 0;
    for (file, want) in &expected {
        let event = read(function, file);
        let got = lambda.invoke(&event).await;
        n += 1;
        assert_eq!(&decision_for(&event, &got), want, "{file}: {got:?}");
        let case = case_of(file);
        let (_, why) = reasons
            .iter()
            .find(|(c, _)| *c == case)
            .unwrap_or_else(|| panic!("{file}: no expected reason for case {case}"));
        assert_eq!(decision_reason(lambda, n).await, *why, "{file}");
    }
    n
}

/// No origin secret, API key or token in any log line.
fn assert_no_credentials_in_logs(lambda: &Lambda, tokens: &[String]) {
    let logs = lambda.logs().join("\n");
    for secret in [CURRENT, PREVIOUS, WRONG]
        .into_iter()
        .chain(API_KEYS)
        .chain(tokens.iter().map(String::as_str))
    {
        assert!(!logs.contains(secret), "a credential leaked into the logs");
    }
}

/// The JWT signatures of every sample of `function` (a leak check needs no more).
fn token_signatures(function: &str) -> Vec<String> {
    let mut out = Vec::new();
    for file in expected(function).keys() {
        let text = std::fs::read_to_string(dir(function).join(file)).unwrap();
        out.extend(
            text.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
                .filter(|t| t.starts_with("eyJ") && t.matches('.').count() == 2)
                .map(|t| t.rsplit('.').next().unwrap().to_owned()),
        );
    }
    assert!(!out.is_empty(), "{function}: samples carry tokens");
    out
}

const REST: &str = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/rest/";
const HTTP: &str = "arn:aws:execute-api:eu-west-1:123456789012:h1t2p3a4p5/$default/";
const WS: &str = "arn:aws:execute-api:eu-west-1:123456789012:w1s2o3c4k5/live/";

/// The explicit Deny of the whole API stage `stage` (`…/rest/`) for `principal`: every verb and
/// path, or on a WebSocket API (`{stage}/{routeKey}` ARNs) every route key.
fn deny_all(principal: &str, stage: &str) -> Value {
    let every = if stage == WS { "*" } else { "*/*" };
    json!({"principalId": principal, "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [format!("{stage}{every}")]}]}})
}

/// A policy that denies paths with a dot or empty segment, then allows `routes` of `stage`.
fn grants(stage: &str, routes: &[&str]) -> Value {
    let deny: Vec<String> = ["*/./*", "*/.", "*/../*", "*/..", "*//*"]
        .iter()
        .map(|p| format!("{stage}{p}"))
        .collect();
    let allow: Vec<String> = routes.iter().map(|r| format!("{stage}{r}")).collect();
    json!({"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": deny},
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": allow}]})
}

#[tokio::test]
async fn jwt_authorizer_with_the_origin_proof_on_every_composed_sample() {
    let jwks = demo_jwks().await;
    let mut env = demo_env("jwt-authorizer", &[("JWT_JWKS_URI", &jwks.jwks_uri())], &[]);
    let moto = seeded_moto(&env).await;
    env.extend(moto.aws_env());
    let mut lambda = start(env, "jwt-authorizer").await;
    let reasons = [
        ("origin-valid-token-valid", "ok"),
        ("origin-previous-token-valid", "ok"),
        ("origin-missing-token-valid", "origin_missing_header"),
        ("origin-wrong-token-valid", "origin_wrong_secret"),
        ("origin-wrong-token-garbage", "origin_wrong_secret"),
        ("origin-valid-token-expired", "expired"),
        ("origin-valid-token-garbage", "malformed"),
        ("origin-valid-scope-missing", "scope_missing"),
        ("token-valid", "origin_missing_header"),
    ];
    replay(&mut lambda, "jwt-authorizer", 26, &reasons).await;

    // Every route of the stage the token's scopes permit (verb + path routes on REST and HTTP
    // APIs, route keys on WebSocket); its claims as context.
    let context =
        json!({"sub": "demo-user", "iss": "http://127.0.0.1:8765", "scope": "orders:read"});
    let ws_connect = json!({"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke",
        "Effect": "Allow", "Resource": [format!("{WS}$connect")]}]});
    for (file, policy) in [
        (
            "rest-request-origin-valid-token-valid.json",
            grants(REST, &["GET/orders/?*"]),
        ),
        (
            "http-v1-origin-valid-token-valid.json",
            grants(HTTP, &["GET/orders/?*"]),
        ),
        (
            "http-v2-origin-valid-token-valid.json",
            grants(HTTP, &["GET/orders/?*"]),
        ),
        ("websocket-origin-valid-token-valid.json", ws_connect),
    ] {
        let got = lambda.invoke(&read("jwt-authorizer", file)).await;
        assert_eq!(
            got,
            Ok(json!({"principalId": "demo-user", "policyDocument": policy, "context": context})),
            "{file}"
        );
    }
    // Refused at the origin: the whole stage denied, before the token is looked at.
    for (file, stage) in [
        ("rest-request-origin-missing-token-valid.json", REST),
        ("http-v2-origin-wrong-token-garbage.json", HTTP),
        ("websocket-origin-wrong-token-valid.json", WS),
        ("rest-token-token-valid.json", REST),
    ] {
        let got = lambda.invoke(&read("jwt-authorizer", file)).await;
        assert_eq!(got, Ok(deny_all("anonymous", stage)), "{file}");
    }
    assert_no_credentials_in_logs(&lambda, &token_signatures("jwt-authorizer"));
}

#[tokio::test]
async fn request_authorizer_with_the_origin_proof_and_viewer_facts_on_every_composed_sample() {
    let mut env = demo_env("request-authorizer", &[], &[]);
    assert_eq!(setting(&env, "TRUST_CLOUDFRONT_VIEWER_HEADERS"), "true");
    let moto = seeded_moto(&env).await;
    env.extend(moto.aws_env());
    let mut lambda = start(env, "request-authorizer").await;
    let reasons = [
        ("origin-missing-forged-viewer", "origin_missing_header"),
        ("origin-wrong-forged-viewer", "origin_wrong_secret"),
        ("origin-missing-key-missing", "origin_missing_header"),
        ("viewer-ipv4-inside", "granted"),
        ("viewer-ipv4-outside", "source_ip_not_allowed"),
        ("viewer-ipv6-inside", "granted"),
        ("viewer-ipv6-outside", "source_ip_not_allowed"),
        ("viewer-address-missing", "no_source_ip"),
        ("viewer-cert-pinned", "granted"),
        ("viewer-cert-not-pinned", "client_cert"),
        ("viewer-cert-absent", "client_cert"),
        ("viewer-country-met", "granted"),
        ("viewer-country-not-met", "condition"),
        ("api-key", "origin_missing_header"),
    ];
    replay(&mut lambda, "request-authorizer", 44, &reasons).await;

    let routes = ["GET/orders", "GET/orders/?*", "$connect"];
    assert_eq!(
        lambda
            .invoke(&read(
                "request-authorizer",
                "rest-request-viewer-ipv6-inside.json"
            ))
            .await,
        Ok(
            json!({"principalId": "acme", "policyDocument": grants(REST, &routes),
            "context": {"tenantId": "acme"},
            "usageIdentifierKey": "pcDemoEdgeAcmeUsagePlanKey00000000001"})
        )
    );
    assert_eq!(
        lambda
            .invoke(&read(
                "request-authorizer",
                "http-v2-viewer-cert-pinned.json"
            ))
            .await,
        Ok(
            json!({"principalId": "globex", "policyDocument": grants(HTTP, &routes),
            "context": {"tenantId": "globex"}})
        )
    );
    assert_eq!(
        lambda
            .invoke(&read(
                "request-authorizer",
                "websocket-viewer-country-met.json"
            ))
            .await,
        Ok(
            json!({"principalId": "umbrella", "policyDocument": grants(WS, &routes),
            "context": {"tenantId": "umbrella"}})
        )
    );
    // A known tenant refused by a viewer fact: the whole stage denied under its id.
    assert_eq!(
        lambda
            .invoke(&read(
                "request-authorizer",
                "http-v1-viewer-ipv4-outside.json"
            ))
            .await,
        Ok(deny_all("acme", HTTP))
    );
    assert_eq!(
        lambda
            .invoke(&read(
                "request-authorizer",
                "http-v2-viewer-cert-not-pinned.json"
            ))
            .await,
        Ok(deny_all("globex", HTTP))
    );
    // Forged viewer facts without the secret: denied as anonymous, no tenant looked up.
    assert_eq!(
        lambda
            .invoke(&read(
                "request-authorizer",
                "websocket-origin-missing-forged-viewer.json"
            ))
            .await,
        Ok(deny_all("anonymous", WS))
    );
    assert_no_credentials_in_logs(&lambda, &[]);
}

#[tokio::test]
async fn origin_secret_unavailable_is_a_dependency_failure() {
    let unavailable = || {
        Err(InvokeError::Function {
            error_type: "DependencyUnavailable".into(),
            message: "dependency unavailable".into(),
        })
    };

    // jwt-authorizer pointed at a parameter that does not exist: init goes on (logged), every
    // request that needs the secrets is an uncacheable error, whatever its token.
    let jwks = demo_jwks().await;
    let mut env = demo_env(
        "jwt-authorizer",
        &[
            ("JWT_JWKS_URI", &jwks.jwks_uri()),
            (
                "ORIGIN_SECRET_PARAMETER_NAME",
                "/portcullis/test/no-such-origin-secret",
            ),
        ],
        &[],
    );
    let moto = seeded_moto(&demo_env("request-authorizer", &[], &[])).await;
    env.extend(moto.aws_env());
    let mut jwt = start(env, "jwt-authorizer").await;
    for file in [
        "rest-request-origin-valid-token-valid.json",
        "http-v2-origin-valid-token-expired.json",
        "websocket-origin-wrong-token-valid.json",
    ] {
        let got = jwt.invoke(&read("jwt-authorizer", file)).await;
        assert_eq!(got, unavailable(), "{file}");
    }
    assert_eq!(decision_reason(&jwt, 1).await, "secret_unavailable");
    // Without the header there is nothing to compare: still the caller's Deny.
    let event = read("jwt-authorizer", "http-v1-origin-missing-token-valid.json");
    let got = jwt.invoke(&event).await;
    assert_eq!(decision_for(&event, &got), "Deny");

    // request-authorizer whose parameter is deleted after it worked: an error once the cached
    // copy is too old, never a cached Deny, and Allow again once the parameter is back.
    let mut env = demo_env("request-authorizer", &[], &[]);
    env.extend(moto.aws_env());
    for (k, v) in [
        ("ORIGIN_SECRET_CACHE_TTL_SECONDS", "1"),
        ("ORIGIN_SECRET_MAX_STALE_SECONDS", "0"),
        ("ORIGIN_SECRET_RETRY_AFTER_ERROR_SECONDS", "0"),
    ] {
        env.push((k.into(), v.into()));
    }
    let parameter = setting(&env, "ORIGIN_SECRET_PARAMETER_NAME");
    let mut request = start(env, "request-authorizer").await;
    let event = read("request-authorizer", "rest-request-viewer-ipv4-inside.json");
    assert_eq!(decision_for(&event, &request.invoke(&event).await), "Allow");
    moto.ssm_client()
        .delete_parameter()
        .name(&parameter)
        .send()
        .await
        .expect("delete the origin secret");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(request.invoke(&event).await, unavailable());
    assert_eq!(decision_reason(&request, 2).await, "secret_unavailable");
    let secret =
        std::fs::read_to_string(workspace_root().join("events/composed/origin-secret.txt"))
            .unwrap();
    moto.put_secure(&parameter, &secret).await;
    assert_eq!(decision_for(&event, &request.invoke(&event).await), "Allow");
    assert_no_credentials_in_logs(&jwt, &token_signatures("jwt-authorizer"));
    assert_no_credentials_in_logs(&request, &[]);
}

#[tokio::test]
async fn trusting_viewer_headers_without_the_origin_proof_fails_init() {
    let rules = dir("request-authorizer").join("rules.json");
    let rules = rules.to_string_lossy();
    let origin = ["ORIGIN_SECRET_PARAMETER_NAME", "ORIGIN_SECRET_HEADER_NAME"];
    let mut request = demo_env(
        "request-authorizer",
        &[],
        &[&origin[..], &["RULES_PARAMETER_NAME"][..]].concat(),
    );
    request.push(("RULES_FILE".into(), rules.into_owned()));
    let mut jwt = demo_env("jwt-authorizer", &[], &origin);
    jwt.push(("TRUST_CLOUDFRONT_VIEWER_HEADERS".into(), "true".into()));
    for (function, env) in [("request-authorizer", request), ("jwt-authorizer", jwt)] {
        assert_eq!(setting(&env, "TRUST_CLOUDFRONT_VIEWER_HEADERS"), "true");
        let mut lambda = Lambda::spawn(&binary(function), &env).await.expect("spawn");
        let ready = lambda.wait_ready().await;
        assert!(
            matches!(ready, Err(InvokeError::Exited(_))),
            "{function} started: {ready:?}"
        );
        let status = lambda.wait_exit(Duration::from_secs(10)).await;
        assert!(
            status.is_some_and(|s| !s.success()),
            "{function}: {status:?}"
        );
        let logs = lambda.logs().join("\n");
        assert!(
            logs.contains(
                "configuration error in TRUST_CLOUDFRONT_VIEWER_HEADERS: CloudFront viewer headers can be forged by any direct caller: set an origin proof too (ORIGIN_SECRET_PARAMETER_NAME or ORIGIN_CERT_SHA256)"
            ),
            "{function}: init error does not name the variables:\n{logs}"
        );
    }
}

/// Why the composed samples use IAM answers on the HTTP API: a simple answer to a
/// route-dependent decision needs the route key among the identity sources.
#[tokio::test]
async fn simple_http_answers_need_the_route_in_the_cache_key() {
    let jwks = demo_jwks().await;
    let mut env = demo_env(
        "jwt-authorizer",
        &[
            ("JWT_JWKS_URI", &jwks.jwks_uri()),
            ("HTTP_API_RESPONSE_MODE", "simple"),
        ],
        &[],
    );
    let moto = seeded_moto(&env).await;
    env.extend(moto.aws_env());
    let mut lambda = start(env, "jwt-authorizer").await;
    let mut event = read("jwt-authorizer", "http-v2-origin-valid-token-valid.json");
    let got = lambda.invoke(&event).await;
    assert_eq!(decision_for(&event, &got), "Error(RouteNotInCacheKey)");
    event["identitySource"]
        .as_array_mut()
        .unwrap()
        .push(json!("GET /orders/{id}"));
    assert_eq!(
        lambda.invoke(&event).await,
        Ok(json!({"isAuthorized": true, "context":
            {"sub": "demo-user", "iss": "http://127.0.0.1:8765", "scope": "orders:read"}}))
    );
    // The origin Deny holds for every route: a simple answer needs no route key.
    let event = read("jwt-authorizer", "http-v2-origin-missing-token-valid.json");
    assert_eq!(
        lambda.invoke(&event).await,
        Ok(json!({"isAuthorized": false}))
    );
}
