//! The Verified Permissions adapter (the real SDK client) against a local endpoint that speaks
//! the service's JSON protocol (`portcullis_tests::VerifiedPermissions`; no emulator
//! implements the service): paging, batches, a policy that fails validation, throttling and the
//! failures that must never yield a partial policy set. Time is passed in; nothing sleeps.

use std::time::{Duration, Instant};

use aws_sdk_verifiedpermissions::Client;
use cedar_authorizer::bundle::{Bundle, parse};
use cedar_authorizer::handler::parser;
use cedar_authorizer::settings::ContextPolicies;
use cedar_authorizer::source::VerifiedPermissionsSource;
use portcullis::secrets::{CacheConfig, CacheError, SecretCache, SecretSource, SourceError};
use portcullis_tests::{StoredPolicy, VerifiedPermissions};

const STORE: &str = "PSEXAMPLEabcdefg111111";
const SCHEMA: &str = include_str!("../../../events/cedar-authorizer/schema.json");

fn group_policy(n: usize) -> String {
    format!(
        r#"permit(principal in PetStore::UserGroup::"us-east-1_EXAMPLE|g{n}", action == PetStore::Action::"get /pets", resource);"#
    )
}

/// A store with the sample schema and `count` static policies `p000`, `p001`, …
async fn store(count: usize, page_size: usize) -> VerifiedPermissions {
    let server = VerifiedPermissions::start(STORE, page_size).await;
    server.set_schema(SCHEMA);
    server.set_policies(
        (0..count)
            .map(|n| (format!("p{n:03}"), StoredPolicy::Static(group_policy(n))))
            .collect(),
    );
    server
}

fn source(server: &VerifiedPermissions) -> VerifiedPermissionsSource {
    VerifiedPermissionsSource::new(Client::new(&server.sdk_config()))
}

async fn fetch(server: &VerifiedPermissions) -> Result<Bundle, String> {
    let raw = source(server)
        .fetch(STORE)
        .await
        .map_err(|e| e.to_string())?;
    parse(raw.expose())
}

fn sorted_calls(server: &VerifiedPermissions) -> Vec<String> {
    let mut calls = server.calls();
    calls.sort();
    calls
}

#[tokio::test]
async fn every_page_and_every_batch_is_read() {
    let server = store(120, 50).await;
    let bundle = fetch(&server).await.unwrap();
    let mut ids: Vec<String> = bundle
        .policies
        .policies()
        .map(|p| p.id().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids.len(), 120);
    assert_eq!((ids[0].as_str(), ids[119].as_str()), ("p000", "p119"));
    // 120 policies: three pages of at most 50, two batches (100 + 20), one schema.
    assert_eq!(
        sorted_calls(&server),
        [
            "BatchGetPolicy",
            "BatchGetPolicy",
            "GetSchema",
            "ListPolicies",
            "ListPolicies",
            "ListPolicies"
        ]
    );
}

#[tokio::test]
async fn a_policy_failing_validation_keeps_the_last_good_set_within_the_stale_bound() {
    let server = store(3, 50).await;
    let config = CacheConfig {
        ttl: Duration::from_secs(60),
        max_stale: Duration::from_secs(300),
        retry_after_error: Duration::ZERO,
        jitter: 0.0,
    };
    let cache = SecretCache::new(
        source(&server),
        STORE,
        config,
        parser(ContextPolicies::Refuse),
    );
    let t0 = Instant::now();
    assert_eq!(cache.get(t0).await.unwrap().policies.policies().count(), 3);

    server.put_policy(
        "p-typo",
        r#"permit(principal, action == PetStore::Action::"get /cats", resource);"#,
    );
    let error = fetch(&server).await.unwrap_err();
    assert!(
        error.starts_with("policy p-typo fails validation against the schema"),
        "{error}"
    );
    // Past the TTL the refresh fails validation: the last good set (3 policies) is served …
    let stale = cache.get(t0 + Duration::from_secs(61)).await.unwrap();
    assert_eq!(stale.policies.policies().count(), 3);
    // … until the stale bound has passed, then nothing is (the caller answers 500).
    let expired = cache.get(t0 + Duration::from_secs(361)).await.unwrap_err();
    match expired {
        CacheError::Invalid { name, reason } => {
            assert_eq!(name, STORE);
            assert!(
                reason.starts_with("policy p-typo fails validation"),
                "{reason}"
            );
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn throttling_is_retried_then_reported() {
    let server = store(2, 50).await;
    server.throttle_next(2);
    let bundle = fetch(&server).await.unwrap();
    assert_eq!(bundle.policies.policies().count(), 2);
    // Two throttled calls retried (three attempts per call) and the three that succeeded.
    assert_eq!(server.calls().len(), 5);

    server.throttle_next(1_000);
    let error = source(&server).fetch(STORE).await.unwrap_err();
    assert_eq!(error, SourceError::Throttled);
}

#[tokio::test]
async fn an_incomplete_store_is_never_a_policy_set() {
    // A policy listed and then gone from BatchGetPolicy: a missing forbid would open routes.
    let server = store(3, 50).await;
    server.hide_from_batch("p001");
    let error = source(&server).fetch(STORE).await.unwrap_err();
    assert_eq!(
        error,
        SourceError::Unavailable(
            "BatchGetPolicy could not read policy p001: POLICY_NOT_FOUND".into()
        )
    );

    let server = store(1, 50).await;
    server.set_policies(vec![("p-linked".into(), StoredPolicy::TemplateLinked)]);
    let error = source(&server).fetch(STORE).await.unwrap_err();
    assert_eq!(
        error,
        SourceError::Unavailable(
            "policy p-linked is template-linked; only static policies are supported".into()
        )
    );

    let other = source(&server).fetch("PSsomeoneelse").await.unwrap_err();
    assert_eq!(other, SourceError::NotFound);
}
