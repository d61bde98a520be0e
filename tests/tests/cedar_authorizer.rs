//! The real `cedar-authorizer` binary on the Runtime API emulator: every sample of
//! `events/cedar-authorizer/` against its `expected.json`, with the policies read from the sample
//! files and then from a local Verified Permissions endpoint holding the same policies; and the
//! failures that must answer 500 (never a cached Deny). Build first:
//! `cargo build --bin cedar-authorizer`.

mod jwt_support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use jwt_support::demo_jwks;
use portcullis_tests::{
    Lambda, StoredPolicy, VerifiedPermissions, binary, decision_for, read_env_file, workspace_root,
};
use serde_json::Value;

const STORE: &str = "PSEXAMPLEabcdefg111111";

fn dir() -> PathBuf {
    workspace_root().join("events/cedar-authorizer")
}

fn read(file: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir().join(file)).unwrap()).unwrap()
}

/// `demo.env` (its file paths made absolute: they are relative to the repository root) with
/// the JWKS of this test's server, `remove` left out and `add` appended.
fn settings(jwks_uri: &str, remove: &[&str], add: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = read_env_file(&dir().join("demo.env"));
    assert!(!env.is_empty(), "demo.env has settings");
    env.retain(|(k, _)| !remove.contains(&k.as_str()));
    for (k, v) in &mut env {
        match k.as_str() {
            "JWT_JWKS_URI" => *v = jwks_uri.to_owned(),
            "CEDAR_POLICY_FILE" | "CEDAR_SCHEMA_FILE" => {
                *v = workspace_root().join(&*v).display().to_string();
            }
            _ => {}
        }
    }
    env.extend(add.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    env
}

/// `demo.env` with the policies read from `store` instead of the sample files.
fn store_settings(jwks_uri: &str, store: &VerifiedPermissions) -> Vec<(String, String)> {
    settings(
        jwks_uri,
        &["CEDAR_POLICY_FILE", "CEDAR_SCHEMA_FILE"],
        &[
            ("CEDAR_POLICY_STORE_ID", STORE),
            ("AWS_ENDPOINT_URL_VERIFIEDPERMISSIONS", &store.url()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ],
    )
}

async fn spawn(env: &[(String, String)]) -> Lambda {
    let mut lambda = Lambda::spawn(&binary("cedar-authorizer"), env)
        .await
        .expect("cedar-authorizer binary (cargo build --bin cedar-authorizer)");
    lambda.wait_ready().await.expect("init");
    lambda
}

async fn decisions(lambda: &mut Lambda) -> BTreeMap<String, String> {
    let expected: BTreeMap<String, String> = serde_json::from_value(read("expected.json")).unwrap();
    let mut got = BTreeMap::new();
    for file in expected.keys() {
        let event = read(file);
        let result = lambda.invoke(&event).await;
        got.insert(file.clone(), decision_for(&event, &result));
    }
    got
}

fn expected() -> BTreeMap<String, String> {
    let expected: BTreeMap<String, String> = serde_json::from_value(read("expected.json")).unwrap();
    assert_eq!(expected.len(), 13);
    expected
}

/// The sample policies as a Verified Permissions store would hold them: one per statement.
fn store_policies() -> Vec<(String, StoredPolicy)> {
    let text = std::fs::read_to_string(dir().join("policies.cedar")).unwrap();
    let statements: Vec<String> = text
        .split_inclusive(");")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| s.contains("permit") || s.contains("forbid"))
        .collect();
    assert_eq!(statements.len(), 4, "policies.cedar holds four policies");
    statements
        .into_iter()
        .enumerate()
        .map(|(n, s)| (format!("SPp{n}"), StoredPolicy::Static(s.trim().to_owned())))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_events_match_expected_with_file_policies() {
    let jwks = demo_jwks().await;
    let mut lambda = spawn(&settings(&jwks.jwks_uri(), &[], &[])).await;
    assert_eq!(decisions(&mut lambda).await, expected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_events_match_expected_with_a_verified_permissions_store() {
    let jwks = demo_jwks().await;
    let store = VerifiedPermissions::start(STORE, 2).await;
    store.set_schema(&std::fs::read_to_string(dir().join("schema.json")).unwrap());
    store.set_policies(store_policies());
    let env = store_settings(&jwks.jwks_uri(), &store);
    let mut lambda = spawn(&env).await;
    assert_eq!(decisions(&mut lambda).await, expected());
    // Read once at init (two pages of two, one batch, the schema), never per request.
    let mut calls = store.calls();
    calls.sort();
    assert_eq!(
        calls,
        [
            "BatchGetPolicy",
            "GetSchema",
            "ListPolicies",
            "ListPolicies"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_that_never_loaded_answer_500_not_a_cached_deny() {
    let jwks = demo_jwks().await;
    let store = VerifiedPermissions::start(STORE, 50).await;
    // No schema: GetSchema answers ResourceNotFoundException.
    store.set_policies(store_policies());
    let env = store_settings(&jwks.jwks_uri(), &store);
    let mut lambda = spawn(&env).await;
    let event = read("rest-token-reader-get-pet.json");
    let result = lambda.invoke(&event).await;
    assert_eq!(
        decision_for(&event, &result),
        "Error(DependencyUnavailable)"
    );
    // A refused token is still a 401: the token is judged before the policies are needed.
    let event = read("rest-token-expired.json");
    let result = lambda.invoke(&event).await;
    assert_eq!(decision_for(&event, &result), "Unauthorized");
}
