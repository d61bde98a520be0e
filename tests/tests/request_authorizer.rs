//! The real `request-authorizer` binary on the Runtime API emulator against moto SSM.
//!
//! Decisions are judged the way API Gateway would: an IAM response is evaluated against the
//! event's own method ARN (explicit Deny wins, `*` matches across `/`), so "route outside the
//! grants" is a Deny even though the response is the tenant's (cache-safe) Allow policy.

use std::collections::BTreeMap;
use std::time::Duration;

use portcullis_tests::{
    InvokeError, Lambda, Moto, binary, decision_for, iam_match, sample_event, workspace_root,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const FUNCTION: &str = "request-authorizer";
const PARAM: &str = "/portcullis/test/tenant-rules";
// Demo keys of events/request-authorizer (generate.py).
const ACME_KEY: &str = "pc-demo-acme-7d1f0c9a2b4e6f8a0c2e4a6b8d0f1e3c";
const ACME_NEXT_KEY: &str = "pc-demo-acme-next-5b3d1f9e7c5a3b1d9f7e5c3a1b9d";
const GLOBEX_KEY: &str = "pc-demo-globex-2c4e6a8b0d2f4a6c8e0b2d4f6a8c0e2b";
const INITECH_KEY: &str = "pc-demo-initech-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";
const ALL_KEYS: [&str; 4] = [ACME_KEY, ACME_NEXT_KEY, GLOBEX_KEY, INITECH_KEY];

fn demo_rules() -> String {
    std::fs::read_to_string(workspace_root().join("events/request-authorizer/rules/rules.json"))
        .unwrap()
}

fn event(name: &str) -> Value {
    sample_event(FUNCTION, name)
}

fn sha256_hex(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

async fn spawn(env: Vec<(String, String)>) -> Lambda {
    Lambda::spawn(&binary(FUNCTION), &env).await.expect("spawn")
}

async fn start(moto: &Moto, extra: &[(&str, &str)]) -> Lambda {
    let mut env = moto.aws_env();
    env.push(("RULES_PARAMETER_NAME".into(), PARAM.into()));
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let mut lambda = spawn(env).await;
    lambda.wait_ready().await.expect("function ready");
    lambda
}

fn assert_no_key_in_logs(lambda: &Lambda) {
    for line in lambda.logs() {
        for key in ALL_KEYS {
            assert!(
                !line.contains(key),
                "an API key leaked into the logs: {line}"
            );
        }
    }
}

#[tokio::test]
async fn every_sample_event_against_moto() {
    let moto = Moto::start().await;
    moto.put_secure(PARAM, &demo_rules()).await;
    let mut lambda = start(&moto, &[]).await;
    let expected: BTreeMap<String, String> =
        serde_json::from_value(event("expected.json")).unwrap();
    assert_eq!(expected.len(), 34);
    for (name, want) in &expected {
        let e = event(name);
        let got = decision_for(&e, &lambda.invoke(&e).await);
        assert_eq!(&got, want, "{name}");
    }

    // Right tenant: exactly its grants for this API stage, its usage-plan key and context.
    let response = lambda
        .invoke(&event("rest-request-api-key-valid.json"))
        .await
        .unwrap();
    let arn =
        |route: &str| format!("arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/{route}");
    assert_eq!(
        response,
        json!({
            "principalId": "acme",
            "policyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": "execute-api:Invoke", "Effect": "Deny",
                "Resource": [arn("*/./*"), arn("*/."), arn("*/../*"), arn("*/.."), arn("*//*")]}, {
                "Action": "execute-api:Invoke", "Effect": "Allow",
                "Resource": [arn("GET/orders"), arn("GET/orders/?*"), arn("POST/orders"), arn("$connect")]}]},
            "context": {"tenantId": "acme", "tier": "gold", "plan": "enterprise", "maxPageSize": 100, "beta": false},
            "usageIdentifierKey": "pcDemoAcmeUsagePlanKey0000000000000001"
        })
    );
    // A route outside the grants gets the same cache-safe policy, which does not cover it.
    let outside = lambda
        .invoke(&event("rest-request-route-outside-grants.json"))
        .await
        .unwrap();
    assert_eq!(outside, response);

    // Denies: whole-API explicit Deny, no tenant data.
    assert_eq!(
        lambda
            .invoke(&event("rest-request-source-ip-in-deny.json"))
            .await
            .unwrap(),
        json!({"principalId": "acme", "policyDocument": {"Version": "2012-10-17", "Statement": [{
            "Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [arn("*/*")]}]}})
    );
    assert_eq!(
        lambda
            .invoke(&event("rest-request-api-key-unknown.json"))
            .await
            .unwrap()["principalId"],
        "anonymous"
    );

    // HTTP API simple responses evaluate the current route.
    assert_eq!(
        lambda
            .invoke(&event("http-v2-client-cert-valid.json"))
            .await
            .unwrap(),
        json!({"isAuthorized": true, "context": {"tenantId": "globex", "tier": "silver"}})
    );
    assert_eq!(
        lambda
            .invoke(&event("http-v2-route-outside-grants.json"))
            .await
            .unwrap(),
        json!({"isAuthorized": false, "context": {"tenantId": "acme", "tier": "gold", "plan": "enterprise", "maxPageSize": 100, "beta": false}})
    );
    assert_no_key_in_logs(&lambda);
    assert!(
        lambda
            .logs()
            .iter()
            .any(|l| l.contains("decision") && l.contains("source_ip_denied")),
        "deny reasons are logged, as the front door's one line per decision"
    );
}

fn one_tenant(revoked: bool) -> String {
    json!({"version": 1, "tenants": [{
        "id": "acme", "revoked": revoked,
        "apiKeys": [{"label": "main", "sha256": sha256_hex(ACME_KEY)}],
        "grants": ["GET /orders/*"], "usageIdentifierKey": "acme-usage-key-00000000001"
    }]})
    .to_string()
}

#[tokio::test]
async fn rules_update_is_picked_up_after_the_ttl() {
    let moto = Moto::start().await;
    moto.put_secure(PARAM, &one_tenant(false)).await;
    let mut lambda = start(&moto, &[("RULES_CACHE_TTL_SECONDS", "1")]).await;
    let valid = event("rest-request-api-key-valid.json");
    assert_eq!(decision_for(&valid, &lambda.invoke(&valid).await), "Allow");

    moto.put_secure(PARAM, &one_tenant(true)).await;
    // Within the TTL the cached rules still apply.
    assert_eq!(decision_for(&valid, &lambda.invoke(&valid).await), "Allow");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let revoked = lambda.invoke(&valid).await;
    assert_eq!(decision_for(&valid, &revoked), "Deny");
    assert_eq!(revoked.unwrap()["principalId"], "acme");

    // A document that fails validation is not applied: the last good one stays and the
    // failure is logged with the entry at fault.
    moto.put_secure(
        PARAM,
        r#"{"version": 1, "tenants": [{"id": "acme", "apiKeys": [], "grants": ["GET /x"]}]}"#,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(decision_for(&valid, &lambda.invoke(&valid).await), "Deny");
    assert!(
        lambda
            .logs()
            .iter()
            .any(|l| l.contains("tenants[0].apiKeys: at least one API key is required")),
        "refresh failure logged: {:?}",
        lambda.logs()
    );
    assert_no_key_in_logs(&lambda);
}

#[tokio::test]
async fn bad_rules_documents_fail_init_naming_the_entry() {
    let moto = Moto::start().await;
    let good = |id: &str, key: &str| json!({"id": id, "apiKeys": [{"sha256": sha256_hex(key)}], "grants": ["GET /x"]});
    let doc = |tenants: Vec<Value>| json!({"version": 1, "tenants": tenants}).to_string();
    let mut bad_cidr = good("globex", GLOBEX_KEY);
    bad_cidr["sourceIp"] = json!({"allow": ["10.0.0/8"]});
    // Written out, so the column of the misspelt field does not depend on how serde_json orders
    // object keys (cedar-policy turns on its preserve_order in a workspace build).
    let unknown_field = format!(
        r#"{{"version":1,"tenants":[{{"id":"acme","apiKeys":[{{"sha256":"{}"}}],"grants":["GET /x"]}},{{"id":"globex","apiKeys":[{{"sha256":"{}"}}],"grants":["GET /x"],"sourceIP":{{"allow":["10.0.0.0/8"]}}}}]}}"#,
        sha256_hex(ACME_KEY),
        sha256_hex(GLOBEX_KEY)
    );
    let mut plaintext = good("globex", GLOBEX_KEY);
    plaintext["apiKeys"] = json!([{"sha256": GLOBEX_KEY}]);
    let cases = [
        (
            "{\"version\": 1, \"tenants\": [".to_owned(),
            "invalid JSON at line 1 column",
        ),
        (
            doc(vec![good("acme", ACME_KEY), bad_cidr]),
            "tenants[1].sourceIp.allow[0]: invalid CIDR (e.g. 10.0.0.0/8 or 2001:db8::/32)",
        ),
        (
            doc(vec![good("acme", ACME_KEY), plaintext]),
            "tenants[1].apiKeys[0].sha256: expected the SHA-256 of the key as 64 hex digits",
        ),
        (
            doc(vec![good("acme", ACME_KEY), good("acme", GLOBEX_KEY)]),
            "tenants[1].id: duplicate tenant id \\\"acme\\\" (first at tenants[0])",
        ),
        (
            unknown_field,
            "tenants[1]: invalid JSON at line 1 column 283: unknown field, expected one of `id`",
        ),
    ];
    for (i, (document, entry)) in cases.iter().enumerate() {
        let name = format!("{PARAM}-bad-{i}");
        moto.put_secure(&name, document).await;
        let mut env = moto.aws_env();
        env.push(("RULES_PARAMETER_NAME".into(), name.clone()));
        let mut lambda = spawn(env).await;
        let ready = lambda.wait_ready().await;
        assert!(
            matches!(ready, Err(InvokeError::Exited(_))),
            "case {i}: function started on a bad document: {ready:?}"
        );
        let status = lambda.wait_exit(Duration::from_secs(10)).await;
        assert!(
            status.is_some_and(|s| !s.success()),
            "case {i}: exit status {status:?}"
        );
        let logs = lambda.logs().join("\n");
        assert!(
            logs.contains(entry),
            "case {i}: init error does not name {entry:?}:\n{logs}"
        );
        assert!(!logs.contains(GLOBEX_KEY), "case {i}: key in logs");
        // And nothing was half-loaded: no invocation is answered.
        let e = event("rest-request-api-key-valid.json");
        assert_ne!(decision_for(&e, &lambda.invoke(&e).await), "Allow");
    }
}

#[tokio::test]
async fn toml_rules_in_ssm_with_the_key_in_the_query_string() {
    let moto = Moto::start().await;
    let toml = std::fs::read_to_string(
        workspace_root().join("events/request-authorizer/rules/rules.toml"),
    )
    .unwrap();
    moto.put_secure(PARAM, &toml).await;
    let mut lambda = start(
        &moto,
        &[("API_KEY_HEADER", "none"), ("API_KEY_QUERY", "api_key")],
    )
    .await;
    let mut e = event("rest-request-api-key-valid.json");
    let header_only = lambda.invoke(&e).await;
    assert_eq!(decision_for(&e, &header_only), "Unauthorized");
    e["queryStringParameters"] = json!({"api_key": ACME_KEY});
    e["multiValueQueryStringParameters"] = json!({"api_key": [ACME_KEY]});
    let response = lambda.invoke(&e).await.unwrap();
    assert_eq!(decision_for(&e, &Ok(response.clone())), "Allow");
    assert_eq!(
        response["usageIdentifierKey"],
        "pcDemoAcmeUsagePlanKey0000000000000001"
    );
    assert_no_key_in_logs(&lambda);
}

#[tokio::test]
async fn bundled_rules_file_needs_no_ssm() {
    let file = workspace_root().join("events/request-authorizer/rules/rules.json");
    let mut lambda = spawn(vec![(
        "RULES_FILE".into(),
        file.to_string_lossy().into_owned(),
    )])
    .await;
    lambda.wait_ready().await.expect("ready without SSM");
    for (name, want) in [
        ("websocket-api-key-valid.json", "Allow"),
        ("rest-request-client-cert-expired.json", "Deny"),
        ("http-v1-api-key-missing.json", "Unauthorized"),
    ] {
        let e = event(name);
        assert_eq!(decision_for(&e, &lambda.invoke(&e).await), want, "{name}");
    }
}

#[test]
fn reference_matcher() {
    assert!(iam_match(b"a/*/c", b"a/b/x/c"));
    assert!(iam_match(b"a/*", b"a/"));
    assert!(!iam_match(b"a/*", b"a"));
    assert!(iam_match(b"GET/?", b"GET/x"));
    assert!(!iam_match(b"GET/x", b"GET/xy"));
}
