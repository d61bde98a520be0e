//! The header-secret authorizer reading its secret from Secrets Manager
//! (`SECRET_SECRETS_MANAGER_ID`) on moto: `AWSCURRENT` and `AWSPENDING` accepted, nothing else
//! (not `AWSPREVIOUS`); a missing secret or a throttled call is an uncacheable error.

use std::time::Duration;

use portcullis_tests::{Fault, FaultProxy, Lambda, Moto, binary, decision_of, sample_event};
use serde_json::{Value, json};

const SECRET: &str = "portcullis/origin";
const FIRST: &str = "pc-sm-first-4b7e1d9a2c6f8e3a5d0b7c9e1f2a4b6c";
const SECOND: &str = "pc-sm-second-9d2f6a1c8e4b7d3f0a5c2e9b6d1f8a3c";
const STRANGER: &str = "pc-sm-stranger-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d";

fn request(value: &str) -> Value {
    let mut event = sample_event("header-secret-authorizer", "http-v2-valid.json");
    event["headers"]["x-origin-verify"] = json!(value);
    event["identitySource"] = json!([value]);
    event
}

async fn start(endpoint: &str) -> Lambda {
    let mut env = Moto::aws_env_via(endpoint);
    env.extend(
        [
            ("SECRET_SECRETS_MANAGER_ID", SECRET),
            ("SECRET_CACHE_TTL_SECONDS", "1"),
            ("SECRET_RETRY_AFTER_ERROR_SECONDS", "0"),
            ("HTTP_API_RESPONSE_MODE", "simple"),
            // Room for the SDK's retry of a throttled call: its backoff is a random share of
            // 1 s, which inside a 1 s deadline sometimes ended as "timed out" under load.
            ("SSM_TIMEOUT_MS", "3000"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let mut lambda = Lambda::spawn(&binary("header-secret-authorizer"), &env)
        .await
        .expect("spawn");
    lambda.wait_ready().await.expect("ready");
    lambda
}

async fn decisions(lambda: &mut Lambda) -> Vec<String> {
    let mut out = Vec::new();
    for value in [FIRST, SECOND, STRANGER] {
        out.push(decision_of(&lambda.invoke(&request(value)).await));
    }
    out
}

#[tokio::test]
async fn current_and_pending_are_accepted_previous_is_not() {
    let moto = Moto::start().await;
    let sm = moto.secretsmanager_client();
    sm.create_secret()
        .name(SECRET)
        .secret_string(FIRST)
        .send()
        .await
        .unwrap();
    let mut lambda = start(&moto.endpoint()).await;
    assert_eq!(decisions(&mut lambda).await, ["Allow", "Deny", "Deny"]);

    let second = sm
        .put_secret_value()
        .secret_id(SECRET)
        .secret_string(SECOND)
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(decisions(&mut lambda).await, ["Allow", "Allow", "Deny"]);

    let first = sm
        .describe_secret()
        .secret_id(SECRET)
        .send()
        .await
        .unwrap()
        .version_ids_to_stages
        .unwrap()
        .into_iter()
        .find(|(_, stages)| stages.iter().any(|s| s == "AWSCURRENT"))
        .unwrap()
        .0;
    sm.update_secret_version_stage()
        .secret_id(SECRET)
        .version_stage("AWSCURRENT")
        .move_to_version_id(&second)
        .remove_from_version_id(&first)
        .send()
        .await
        .unwrap();
    sm.update_secret_version_stage()
        .secret_id(SECRET)
        .version_stage("AWSPENDING")
        .remove_from_version_id(&second)
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        decisions(&mut lambda).await,
        ["Deny", "Allow", "Deny"],
        "AWSPREVIOUS is not accepted"
    );
}

#[tokio::test]
async fn a_missing_or_throttled_secret_is_an_uncacheable_error() {
    let moto = Moto::start().await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let mut lambda = start(&proxy.endpoint()).await;
    assert_eq!(
        decision_of(&lambda.invoke(&request(FIRST)).await),
        "Error(DependencyUnavailable)"
    );
    moto.secretsmanager_client()
        .create_secret()
        .name(SECRET)
        .secret_string(FIRST)
        .send()
        .await
        .unwrap();
    proxy.set(Fault::Throttle);
    assert_eq!(
        decision_of(&lambda.invoke(&request(FIRST)).await),
        "Error(DependencyUnavailable)"
    );
    proxy.set(Fault::Pass);
    assert_eq!(decision_of(&lambda.invoke(&request(FIRST)).await), "Allow");
    let logs = lambda.logs().join("\n");
    assert!(logs.contains("secret or parameter not found"), "{logs}");
    assert!(logs.contains("throttled"), "{logs}");
    assert!(!logs.contains(FIRST), "a secret in the logs");
}
