use std::time::{Duration, Instant, SystemTime};

use portcullis::config::MapEnv;
use portcullis::door::Refusal;
use portcullis::origin::{ProofFailure, SecretSet};
use portcullis::secrets::{MemorySource, SecretString, SourceError};
use serde_json::{Value, json};

use super::*;

/// The front door's `serve` at a given instant, with no deadline or within `budget`.
trait Handle {
    async fn handle(&self, event: &Value, at: Instant) -> Result<Value, Refusal>;
    async fn handle_within(
        &self,
        event: &Value,
        at: Instant,
        budget: Duration,
    ) -> Result<Value, Refusal>;
}

impl Handle for Authorizer<MemorySource> {
    async fn handle(&self, event: &Value, at: Instant) -> Result<Value, Refusal> {
        self.handle_within(event, at, Duration::MAX).await
    }

    async fn handle_within(
        &self,
        event: &Value,
        at: Instant,
        budget: Duration,
    ) -> Result<Value, Refusal> {
        let clock = Clock {
            instant: at,
            wall: SystemTime::now(),
        };
        self.serve(event, clock, budget).await
    }
}

const CURRENT: &str = "pc-demo-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4";
const PREVIOUS: &str = "pc-demo-previous-8e6d4c2a0b9f7e5d3c1a2b4d6f8e0a1c";

fn events_dir() -> String {
    format!(
        "{}/../../events/header-secret-authorizer",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn event(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/{name}", events_dir())).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn authorizer(source: &MemorySource) -> Authorizer<MemorySource> {
    let env = MapEnv::from_pairs([("SECRET_PARAMETER_NAME", "/portcullis/origin-secret")]);
    super::authorizer(source.clone(), &Config::from_env(&env).unwrap())
}

fn two_lines() -> MemorySource {
    MemorySource::new(&format!("{CURRENT}\n{PREVIOUS}\n"))
}

fn effect(response: &Value) -> &str {
    if let Some(ok) = response.get("isAuthorized") {
        return if ok == &json!(true) { "Allow" } else { "Deny" };
    }
    response["policyDocument"]["Statement"][0]["Effect"]
        .as_str()
        .unwrap()
}

#[tokio::test]
async fn every_sample_event_gets_its_expected_decision() {
    let expected: std::collections::BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(format!("{}/expected.json", events_dir())).unwrap(),
    )
    .unwrap();
    assert_eq!(expected.len(), 20);
    let a = authorizer(&two_lines());
    for (name, decision) in &expected {
        let response = a.handle(&event(name), Instant::now()).await.unwrap();
        assert_eq!(effect(&response), decision, "{name}: {response}");
    }
}

#[tokio::test]
async fn rest_allow_is_the_exact_whole_api_policy() {
    let response = authorizer(&two_lines())
        .handle(&event("rest-request-valid.json"), Instant::now())
        .await
        .unwrap();
    assert_eq!(
        response,
        json!({
            "principalId": "cloudfront",
            "policyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": "execute-api:Invoke", "Effect": "Allow",
                "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/*/*"]}]},
            "context": {"lockdown": "header-secret"}
        })
    );
}

#[tokio::test]
async fn deny_is_explicit_for_the_whole_api() {
    for name in [
        "rest-request-wrong-secret.json",
        "http-v1-missing-header.json",
    ] {
        let response = authorizer(&two_lines())
            .handle(&event(name), Instant::now())
            .await
            .unwrap();
        let arn = event(name)["methodArn"].as_str().unwrap().to_owned();
        let stage_prefix: String = arn.split('/').take(2).collect::<Vec<_>>().join("/");
        assert_eq!(
            response,
            json!({
                "principalId": "anonymous",
                "policyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Action": "execute-api:Invoke", "Effect": "Deny",
                    "Resource": [format!("{stage_prefix}/*/*")]}]}
            }),
            "{name}"
        );
    }
}

#[tokio::test]
async fn http_v2_and_websocket_formats() {
    let a = authorizer(&two_lines());
    assert_eq!(
        a.handle(&event("http-v2-valid.json"), Instant::now())
            .await
            .unwrap(),
        json!({"isAuthorized": true, "context": {"lockdown": "header-secret"}})
    );
    assert_eq!(
        a.handle(&event("http-v2-duplicated-header.json"), Instant::now())
            .await
            .unwrap(),
        json!({"isAuthorized": false})
    );
    let ws = a
        .handle(&event("websocket-valid.json"), Instant::now())
        .await
        .unwrap();
    assert_eq!(
        ws["policyDocument"]["Statement"][0]["Resource"],
        json!(["arn:aws:execute-api:eu-west-1:123456789012:w1s2o3c4k5/live/*"])
    );
}

#[tokio::test]
async fn reasons_are_precise() {
    let source = two_lines();
    let a = authorizer(&source);
    let now = Instant::now();
    let check = |name: &str| {
        let request = portcullis::request::AuthorizerRequest::from_value(&event(name)).unwrap();
        let a = &a;
        async move { a.origin().unwrap().check(&request, now).await.unwrap() }
    };
    assert_eq!(check("rest-request-valid.json").await, Ok(0));
    assert_eq!(check("rest-request-rotated-secret.json").await, Ok(1));
    assert_eq!(
        check("rest-request-missing-header.json").await,
        Err(ProofFailure::MissingHeader)
    );
    assert_eq!(
        check("rest-request-duplicated-header.json").await,
        Err(ProofFailure::AmbiguousHeader)
    );
    assert_eq!(
        check("websocket-duplicated-header.json").await,
        Err(ProofFailure::AmbiguousHeader)
    );
    assert_eq!(
        check("http-v2-duplicated-header.json").await,
        Err(ProofFailure::WrongSecret)
    );
    assert_eq!(
        check("http-v1-wrong-secret.json").await,
        Err(ProofFailure::WrongSecret)
    );
}

#[tokio::test]
async fn secret_in_query_string_or_other_header_is_not_accepted() {
    let a = authorizer(&two_lines());
    let mut e = event("rest-request-missing-header.json");
    e["queryStringParameters"]["x-origin-verify"] = json!(CURRENT);
    e["headers"]["x-origin-verify-2"] = json!(CURRENT);
    e["headers"]["authorization"] = json!(CURRENT);
    assert_eq!(effect(&a.handle(&e, Instant::now()).await.unwrap()), "Deny");
    for padded in [
        format!(" {CURRENT}"),
        format!("{CURRENT},"),
        CURRENT.to_uppercase(),
        CURRENT[..20].to_owned(),
    ] {
        let mut e = event("rest-request-valid.json");
        e["headers"]["x-origin-verify"] = json!(padded);
        e["multiValueHeaders"]["x-origin-verify"] = json!([padded]);
        assert_eq!(
            effect(&a.handle(&e, Instant::now()).await.unwrap()),
            "Deny",
            "{padded:?}"
        );
    }
}

#[tokio::test]
async fn token_event_compares_the_token() {
    let a = authorizer(&two_lines());
    let arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/x";
    let ok = json!({"type": "TOKEN", "authorizationToken": PREVIOUS, "methodArn": arn});
    assert_eq!(
        effect(&a.handle(&ok, Instant::now()).await.unwrap()),
        "Allow"
    );
    let bad = json!({"type": "TOKEN", "authorizationToken": "nope", "methodArn": arn});
    assert_eq!(
        effect(&a.handle(&bad, Instant::now()).await.unwrap()),
        "Deny"
    );
}

#[tokio::test]
async fn source_outage_is_an_uncacheable_error_after_the_stale_bound() {
    let source = two_lines();
    let a = authorizer(&source);
    let t0 = Instant::now();
    a.prefetch(t0).await;
    // While fresh, a wrong secret is the caller's fault: an explicit Deny.
    let wrong = event("rest-request-wrong-secret.json");
    assert_eq!(effect(&a.handle(&wrong, t0).await.unwrap()), "Deny");
    source.fail(SourceError::Timeout);
    let valid = event("rest-request-valid.json");
    // TTL 300 s (less up to 10% jitter) + stale 300 s by default.
    assert_eq!(
        effect(
            &a.handle(&valid, t0 + Duration::from_secs(569))
                .await
                .unwrap()
        ),
        "Allow"
    );
    // A secret not in the stale copy may be a rotation's new one that SSM cannot deliver: not
    // a Deny (cached for every CloudFront request) but an uncacheable error.
    let other = event("rest-request-wrong-secret.json");
    assert_eq!(
        a.handle(&other, t0 + Duration::from_secs(570)).await,
        Err(Refusal::DependencyUnavailable)
    );
    // Past the bound: a function error (500), which API Gateway never caches — not a Deny,
    // which it would reuse for every CloudFront request for the cache TTL.
    assert_eq!(
        a.handle(&valid, t0 + Duration::from_secs(600)).await,
        Err(Refusal::DependencyUnavailable)
    );
}

#[tokio::test]
async fn malformed_events_are_errors_not_decisions() {
    let a = authorizer(&two_lines());
    for bad in [
        json!({}),
        json!({"type": "REQUEST"}),
        json!("x"),
        json!({"type": "TOKEN", "methodArn": "x"}),
    ] {
        assert_eq!(
            a.handle(&bad, Instant::now()).await,
            Err(Refusal::MalformedEvent),
            "{bad}"
        );
    }
}

#[test]
fn secret_set_validation_names_the_line_not_the_value() {
    let parse = |s: &str| SecretSet::parse(&SecretString::new(s));
    assert_eq!(
        parse(&format!("\n{CURRENT}\r\n  {PREVIOUS}  \n\n"))
            .unwrap()
            .iter()
            .count(),
        2
    );
    assert_eq!(parse("").unwrap_err(), "parameter holds no secret");
    assert_eq!(
        parse(&format!("{CURRENT}\nshort-secret")).unwrap_err(),
        "line 2: secret shorter than 16 characters"
    );
    assert_eq!(
        parse("has,a,comma,inside-it-long").unwrap_err(),
        "line 1: secret must be visible ASCII without commas"
    );
    assert_eq!(
        parse("has a space inside it long").unwrap_err(),
        "line 1: secret must be visible ASCII without commas"
    );
    let set = parse(CURRENT).unwrap();
    assert_eq!(format!("{set:?}"), "SecretSet(<1 secrets redacted>)");
}

#[test]
fn config_defaults_and_errors() {
    let c = Config::from_env(&MapEnv::from_pairs([("SECRET_PARAMETER_NAME", "/p")])).unwrap();
    let proof = c.proof.unwrap();
    assert_eq!(proof.header_name, "x-origin-verify");
    assert_eq!(proof.cache.ttl, Duration::from_secs(300));
    assert_eq!(proof.cache.max_stale, Duration::from_secs(300));
    assert_eq!(c.ssm_timeouts.total, Duration::from_millis(3000));
    let err = |pairs: &[(&str, &str)]| {
        Config::from_env(&MapEnv::from_pairs(pairs.iter().copied()))
            .unwrap_err()
            .var
    };
    assert_eq!(err(&[]), "SECRET_PARAMETER_NAME");
    assert_eq!(
        err(&[
            ("SECRET_PARAMETER_NAME", "/p"),
            ("SECRET_CACHE_TTL_SECONDS", "0")
        ]),
        "SECRET_CACHE_TTL_SECONDS"
    );
    assert_eq!(
        err(&[
            ("SECRET_PARAMETER_NAME", "/p"),
            ("SECRET_HEADER_NAME", "x y")
        ]),
        "SECRET_HEADER_NAME"
    );
    assert_eq!(
        err(&[
            ("SECRET_PARAMETER_NAME", "/p"),
            ("HTTP_API_RESPONSE_MODE", "both")
        ]),
        "HTTP_API_RESPONSE_MODE"
    );
    assert_eq!(
        err(&[("SECRET_PARAMETER_NAME", "a/b")]),
        "SECRET_PARAMETER_NAME"
    );
    assert_eq!(
        err(&[("SECRET_PARAMETER_NAME", "/p"), ("SSM_TIMEOUT_MS", "5")]),
        "SSM_TIMEOUT_MS"
    );
}

#[tokio::test]
async fn a_fetch_slower_than_the_budget_is_an_error_at_the_budget() {
    let source = two_lines();
    source.delay(Duration::from_secs(30));
    let a = authorizer(&source);
    let budget = Duration::from_millis(100);
    let started = Instant::now();
    let response = a
        .handle_within(&event("rest-request-valid.json"), Instant::now(), budget)
        .await;
    assert_eq!(response, Err(Refusal::DependencyUnavailable));
    let took = started.elapsed();
    assert!(took >= budget && took < Duration::from_secs(5), "{took:?}");
    // The fetch was cancelled with the request; the next one (fast again) is allowed.
    source.delay(Duration::ZERO);
    let response = a
        .handle_within(&event("rest-request-valid.json"), Instant::now(), budget)
        .await
        .unwrap();
    assert_eq!(effect(&response), "Allow");
}
