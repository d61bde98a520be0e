//! The real `header-secret-authorizer` binary on the Runtime API emulator against moto SSM.

use std::time::Duration;

use portcullis_tests::{InvokeError, Lambda, Moto, binary, decision_of, sample_event};
use serde_json::{Value, json};

const FUNCTION: &str = "header-secret-authorizer";
const PARAM: &str = "/portcullis/test/origin-secret";
const CURRENT: &str = "pc-demo-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4";
const PREVIOUS: &str = "pc-demo-previous-8e6d4c2a0b9f7e5d3c1a2b4d6f8e0a1c";

async fn start(moto: &Moto, extra: &[(&str, &str)]) -> Lambda {
    let mut env = moto.aws_env();
    env.push(("SECRET_PARAMETER_NAME".into(), PARAM.into()));
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let mut lambda = Lambda::spawn(&binary(FUNCTION), &env).await.expect("spawn");
    lambda.wait_ready().await.expect("function ready");
    lambda
}

fn event(name: &str) -> Value {
    sample_event(FUNCTION, name)
}

fn assert_no_secret_in_logs(lambda: &Lambda) {
    for line in lambda.logs() {
        assert!(
            !line.contains(CURRENT) && !line.contains(PREVIOUS),
            "a secret leaked into the logs: {line}"
        );
    }
}

#[tokio::test]
async fn every_sample_event_against_moto() {
    let moto = Moto::start().await;
    moto.put_secure(PARAM, &format!("{CURRENT}\n{PREVIOUS}"))
        .await;
    let mut lambda = start(&moto, &[]).await;
    let expected: std::collections::BTreeMap<String, String> =
        serde_json::from_value(event("expected.json")).unwrap();
    assert_eq!(expected.len(), 20);
    for (name, want) in &expected {
        let got = decision_of(&lambda.invoke(&event(name)).await);
        assert_eq!(&got, want, "{name}");
    }
    let response = lambda
        .invoke(&event("rest-request-valid.json"))
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
    assert_eq!(
        lambda.invoke(&event("http-v2-valid.json")).await.unwrap(),
        json!({"isAuthorized": true, "context": {"lockdown": "header-secret"}})
    );
    assert_no_secret_in_logs(&lambda);
}

#[tokio::test]
async fn rotation_accepts_both_lines_and_drops_a_removed_one_after_the_ttl() {
    let moto = Moto::start().await;
    moto.put_secure(PARAM, &format!("{CURRENT}\n{PREVIOUS}"))
        .await;
    let mut lambda = start(&moto, &[("SECRET_CACHE_TTL_SECONDS", "1")]).await;
    let valid = event("rest-request-valid.json");
    let rotated = event("rest-request-rotated-secret.json");
    assert_eq!(decision_of(&lambda.invoke(&valid).await), "Allow");
    assert_eq!(decision_of(&lambda.invoke(&rotated).await), "Allow");

    moto.put_secure(PARAM, CURRENT).await;
    // Within the TTL the cached two-line value still applies.
    assert_eq!(decision_of(&lambda.invoke(&rotated).await), "Allow");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(decision_of(&lambda.invoke(&rotated).await), "Deny");
    assert_eq!(decision_of(&lambda.invoke(&valid).await), "Allow");
    assert_no_secret_in_logs(&lambda);
}

#[tokio::test]
async fn ssm_outage_is_served_from_cache_within_the_stale_bound_then_an_uncacheable_error() {
    let mut moto = Moto::start().await;
    moto.put_secure(PARAM, CURRENT).await;
    let mut lambda = start(
        &moto,
        &[
            ("SECRET_CACHE_TTL_SECONDS", "1"),
            ("SECRET_MAX_STALE_SECONDS", "3"),
            ("SECRET_RETRY_AFTER_ERROR_SECONDS", "0"),
            ("SSM_TIMEOUT_MS", "500"),
        ],
    )
    .await;
    let valid = event("http-v2-valid.json");
    assert_eq!(decision_of(&lambda.invoke(&valid).await), "Allow");
    moto.stop().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Expired (TTL ≤ 1 s) but within 3 s of stale: served from cache.
    assert_eq!(decision_of(&lambda.invoke(&valid).await), "Allow");
    tokio::time::sleep(Duration::from_millis(3000)).await;
    // Past TTL + stale bound: fail closed with an error API Gateway does not cache (a cached
    // Deny under CloudFront's one secret would take the whole site down for the TTL).
    assert_eq!(
        decision_of(&lambda.invoke(&valid).await),
        "Error(DependencyUnavailable)"
    );
    let logs = lambda.logs().join("\n");
    assert!(logs.contains("secret refresh failed"), "{logs}");
    assert!(logs.contains("secret_unavailable"), "{logs}");

    // SSM back: allowed again without a restart.
    moto.restart().await;
    moto.put_secure(PARAM, CURRENT).await;
    assert_eq!(decision_of(&lambda.invoke(&valid).await), "Allow");
}

#[tokio::test]
async fn missing_parameter_is_an_uncacheable_error_for_everything() {
    let moto = Moto::start().await;
    let mut lambda = start(&moto, &[]).await;
    for name in [
        "rest-request-valid.json",
        "websocket-valid.json",
        "http-v2-valid.json",
    ] {
        assert_eq!(
            decision_of(&lambda.invoke(&event(name)).await),
            "Error(DependencyUnavailable)",
            "{name}"
        );
    }
    let logs = lambda.logs().join("\n");
    assert!(logs.contains("secret or parameter not found"), "{logs}");
}

#[tokio::test]
async fn invalid_parameter_value_is_an_uncacheable_error_and_says_which_line() {
    let moto = Moto::start().await;
    moto.put_secure(PARAM, &format!("{CURRENT}\nshort")).await;
    let mut lambda = start(&moto, &[]).await;
    assert_eq!(
        decision_of(&lambda.invoke(&event("rest-request-valid.json")).await),
        "Error(DependencyUnavailable)"
    );
    let logs = lambda.logs().join("\n");
    assert!(
        logs.contains("line 2: secret shorter than 16 characters"),
        "{logs}"
    );
    assert_no_secret_in_logs(&lambda);
}

#[tokio::test]
async fn secrets_manager_reference_is_resolved() {
    let moto = Moto::start().await;
    let created = reqwest::Client::new()
        .post(moto.endpoint())
        .header("x-amz-target", "secretsmanager.CreateSecret")
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(json!({"Name": "portcullis/origin", "SecretString": PREVIOUS}).to_string())
        .send()
        .await
        .expect("moto reachable");
    assert!(
        created.status().is_success(),
        "{}",
        created.text().await.unwrap_or_default()
    );
    let mut env = moto.aws_env();
    env.push((
        "SECRET_PARAMETER_NAME".into(),
        "/aws/reference/secretsmanager/portcullis/origin".into(),
    ));
    let mut lambda = Lambda::spawn(&binary(FUNCTION), &env).await.unwrap();
    assert_eq!(
        decision_of(
            &lambda
                .invoke(&event("rest-request-rotated-secret.json"))
                .await
        ),
        "Allow"
    );
    assert_eq!(
        decision_of(&lambda.invoke(&event("rest-request-valid.json")).await),
        "Deny"
    );
}

#[tokio::test]
async fn malformed_event_is_a_clean_error() {
    let moto = Moto::start().await;
    moto.put_secure(PARAM, CURRENT).await;
    let mut lambda = start(&moto, &[]).await;
    let err = lambda.invoke(&json!({"hello": "world"})).await.unwrap_err();
    assert_eq!(
        err,
        InvokeError::Function {
            error_type: "MalformedEvent".into(),
            message: "malformed authorizer event".into()
        }
    );
    // The function keeps serving afterwards.
    assert_eq!(
        decision_of(&lambda.invoke(&event("rest-request-valid.json")).await),
        "Allow"
    );
}

#[tokio::test]
async fn missing_configuration_fails_init_naming_the_variable() {
    let mut lambda = Lambda::spawn(&binary(FUNCTION), &[]).await.unwrap();
    let status = lambda
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("process exits");
    assert!(!status.success());
    let logs = lambda.logs().join("\n");
    assert!(logs.contains("SECRET_PARAMETER_NAME"), "{logs}");
}
