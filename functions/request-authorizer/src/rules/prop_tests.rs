//! Property: for random grants and random method ARNs, the rendered policy, evaluated the way
//! API Gateway evaluates it (IAM wildcards), allows an ARN iff one of the tenant's grants
//! covers it under the grant language (`*` whole API; verb `*` one of the seven methods; in a
//! path each `*` is one or more characters; no dot or empty segment). Both the evaluator (a dynamic-programming matcher over
//! the policy JSON) and the grant language are written here independently of `policy`.

use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use portcullis::request::AuthorizerRequest;
use portcullis::response::{HttpApiResponseMode, render};

const KEY: &str = "prop-test-key-0123456789";
const PREFIX: &str = "arn:aws:execute-api:eu-west-1:123456789012:";

/// IAM resource matching: `*` any run of characters (across `/` too), `?` exactly one.
fn iam_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // m[i][j]: pattern[..i] matches text[..j]
    let mut m = vec![vec![false; t.len() + 1]; p.len() + 1];
    m[0][0] = true;
    for i in 1..=p.len() {
        for j in 0..=t.len() {
            m[i][j] = match p[i - 1] {
                '*' => m[i - 1][j] || (j > 0 && m[i][j - 1]),
                '?' => j > 0 && m[i - 1][j - 1],
                c => j > 0 && t[j - 1] == c && m[i - 1][j - 1],
            };
        }
    }
    m[p.len()][t.len()]
}

/// Evaluates a policy document JSON for `execute-api:Invoke` on `arn`: an explicit Deny
/// wins, else some Allow must match, else implicit deny.
fn policy_allows(policy: &Value, arn: &str) -> bool {
    assert_eq!(policy["Version"], "2012-10-17");
    let mut allowed = false;
    for statement in policy["Statement"].as_array().expect("Statement array") {
        assert_eq!(statement["Action"], "execute-api:Invoke");
        assert!(statement.get("Condition").is_none());
        let hit = statement["Resource"]
            .as_array()
            .expect("Resource array")
            .iter()
            .any(|r| iam_match(r.as_str().unwrap(), arn));
        match statement["Effect"].as_str() {
            Some("Deny") if hit => return false,
            Some("Allow") => allowed |= hit,
            Some("Deny") => {}
            other => panic!("bad Effect {other:?}"),
        }
    }
    allowed
}

/// Grant path matching: each `*` of `pattern` stands for one or more characters, `/` included.
fn path_match(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (1..=text.len()).any(|n| path_match(rest, &text[n..])),
        Some((c, rest)) => text.first() == Some(c) && path_match(rest, &text[1..]),
    }
}

/// The reference: does one of the grants, as written in the document, cover `route`
/// (`VERB/path` after `<api>/<stage>/`) of the tenant's own API stage? A path grant never
/// covers a path with a `.` or `..` segment or an empty one (`//`).
fn grant_matches(grants: &[String], api_stage: &str, arn: &str) -> bool {
    let Some(route) = arn
        .strip_prefix(PREFIX)
        .and_then(|r| r.strip_prefix(api_stage))
    else {
        return false;
    };
    let (verb, path) = route.split_once('/').unwrap();
    let segments: Vec<&str> = path.split('/').collect();
    let unsafe_path = segments
        .iter()
        .enumerate()
        .any(|(i, s)| *s == "." || *s == ".." || (s.is_empty() && i + 1 != segments.len()));
    let path: Vec<char> = format!("/{path}").chars().collect();
    grants.iter().any(|g| {
        if g == "*" {
            return true;
        }
        let (grant_verb, grant_path) = g.split_once(' ').unwrap();
        let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
        let any_verb = grant_verb == "*" || grant_verb == "ANY";
        let verb_ok = grant_verb == verb || any_verb && methods.contains(&verb);
        let grant_path: Vec<char> = grant_path.chars().collect();
        verb_ok && !unsafe_path && path_match(&grant_path, &path)
    })
}

fn grant_strategy() -> impl Strategy<Value = String> {
    let segment = prop::sample::select(vec!["orders", "items", "7", "a*", "*", "x*y", "*s", ""]);
    let verb = prop::sample::select(vec!["GET", "POST", "DELETE", "*", "ANY"]);
    prop_oneof![
        1 => Just("*".to_owned()),
        12 => (verb, prop::collection::vec(segment, 0..4))
            .prop_map(|(v, segs)| format!("{v} /{}", segs.join("/"))),
    ]
}

fn arn_strategy() -> impl Strategy<Value = String> {
    let segment = prop::sample::select(vec![
        "orders", "items", "7", "a", "axy", "xy", "ss", ".", "..", "", "a.b",
    ]);
    let verb = prop::sample::select(vec!["GET", "POST", "DELETE", "PUT", "PURGE"]);
    let scope = prop::sample::select(vec![
        "api1/prod/",
        "api1/prod/",
        "api1/prod/",
        "api1/test/",
        "api2/prod/",
    ]);
    (scope, verb, prop::collection::vec(segment, 0..4))
        .prop_map(|(s, v, segs)| format!("{PREFIX}{s}{v}/{}", segs.join("/")))
}

const SAMPLE_TOML: &str = r#"version = 1
[[tenants]]
id = "t1"
apiKeys = [{ label = "a", sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" }]
sourceIp = { allow = ["10.0.0.0/8", "2001:db8::/32"], deny = ["10.1.0.0/16"] }
clientCert = { subjectDn = ["CN=a"], serialNumbers = ["0a:1b"] }
conditions = { stageVariables = { stage = "prod" }, headers = { x-env = ["a", "b"] } }
grants = ["GET /orders/*", "*", "$connect"]
usageIdentifierKey = "usage-key-000000000001"
context = { plan = "p", n = 1, b = true }
"#;

fn rules_json_sample() -> String {
    json!({"version": 1, "tenants": [{
        "id": "t1", "tier": "gold", "apiKeys": [{"sha256": hash_api_key(KEY)}],
        "sourceIp": {"allow": ["10.0.0.0/8"], "deny": ["10.1.0.0/16"]},
        "clientCert": {"issuerDn": ["CN=ca"]},
        "conditions": {"headers": {"x-env": "a"}},
        "grants": ["GET /orders/*"], "context": {"a": 1}
    }]})
    .to_string()
}

fn rules_with(grants: &[String]) -> RuleSet {
    RuleSet::parse(
        &json!({"version": 1, "tenants": [{
            "id": "t1", "apiKeys": [{"sha256": hash_api_key(KEY)}], "grants": grants
        }]})
        .to_string(),
    )
    .unwrap()
}

fn rest_event(arn: &str) -> AuthorizerRequest {
    AuthorizerRequest::from_value(&json!({
        "type": "REQUEST", "methodArn": arn, "headers": {"x-api-key": KEY},
        "requestContext": {"identity": {"sourceIp": "192.0.2.1"}}
    }))
    .unwrap()
}

/// An HTTP API 2.0 event for `arn` whose route (`VERB /path`, no path parameters) is its own
/// route key and part of the cache key (`$context.routeKey` among the identity sources).
fn v2_event(arn: &str) -> AuthorizerRequest {
    let route = arn.splitn(3, '/').nth(2).unwrap_or_default();
    let route_key = match route.split_once('/') {
        Some((verb, path)) => format!("{verb} /{path}"),
        None => route.to_owned(),
    };
    AuthorizerRequest::from_value(&json!({
        "version": "2.0", "type": "REQUEST", "routeArn": arn, "routeKey": route_key,
        "identitySource": [KEY, route_key], "rawPath": "/", "headers": {"x-api-key": KEY},
        "requestContext": {"http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1", "userAgent": "t"}, "timeEpoch": 1}
    }))
    .unwrap()
}

fn keys() -> KeyLocation {
    KeyLocation {
        header: Some("x-api-key".into()),
        query: None,
    }
}

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn policy_allows_exactly_what_a_grant_matches(
        grants in prop::collection::vec(grant_strategy(), 1..5),
        // The request that fetched the policy, and other calls the cached policy must answer.
        current in arn_strategy(),
        others in prop::collection::vec(arn_strategy(), 1..6),
    ) {
        let rules = rules_with(&grants);
        let request = rest_event(&current);
        let Answer::Allow { decision, route_granted, .. } = decide(&rules, &request, &keys(), now()) else {
            panic!("tenant not allowed");
        };
        let response = render(&decision, &request, HttpApiResponseMode::Iam).unwrap();
        let policy = &response["policyDocument"];
        let api_stage = current
            .strip_prefix(PREFIX)
            .map(|r| r.splitn(3, '/').take(2).collect::<Vec<_>>().join("/") + "/")
            .unwrap();
        prop_assert_eq!(route_granted, grant_matches(&grants, &api_stage, &current));
        for arn in std::iter::once(&current).chain(&others) {
            prop_assert_eq!(
                policy_allows(policy, arn),
                grant_matches(&grants, &api_stage, arn),
                "arn {} grants {:?} policy {}", arn, grants, policy
            );
        }
        // HTTP API simple responses evaluate the current route the same way.
        let v2 = v2_event(&current);
        let Answer::Allow { decision, .. } = decide(&rules, &v2, &keys(), now()) else {
            panic!("tenant not allowed (v2)");
        };
        let simple = render(&decision, &v2, HttpApiResponseMode::Simple).unwrap();
        prop_assert_eq!(
            &simple["isAuthorized"],
            &json!(grant_matches(&grants, &api_stage, &current))
        );
    }

    /// Any text, and any truncation or splice of a valid JSON/TOML document, parses to a rule
    /// set or an error — never a panic.
    #[test]
    fn parsing_never_panics(
        junk in "\\PC{0,200}",
        cut in 0usize..2_000,
        len in 0usize..40,
        toml in any::<bool>(),
    ) {
        let _ = RuleSet::parse(&junk);
        let doc = if toml { SAMPLE_TOML.to_owned() } else { rules_json_sample() };
        let chars: Vec<char> = doc.chars().collect();
        let start = cut.min(chars.len());
        let end = (start + len).min(chars.len());
        let mutated: String = chars[..start].iter().chain(&chars[end..]).collect();
        let _ = RuleSet::parse(&mutated);
        let spliced: String = chars[..start].iter().chain(junk.chars().take(8).collect::<Vec<_>>().iter()).chain(&chars[start..]).collect();
        let _ = RuleSet::parse(&spliced);
    }

    #[test]
    fn reference_matcher_agrees_with_literal_equality_without_wildcards(
        a in "[a-c/]{0,6}", b in "[a-c/]{0,6}"
    ) {
        prop_assert_eq!(iam_match(&a, &b), a == b);
    }
}

#[test]
fn reference_matcher_examples() {
    assert!(iam_match("GET/orders/*", "GET/orders/7/items"));
    assert!(iam_match("*/orders", "GET/orders"));
    assert!(iam_match("*/orders", "GET/a/orders"));
    assert!(!iam_match("GET/orders/*", "GET/orders"));
    assert!(iam_match("GET/orders*", "GET/orders"));
    assert!(iam_match("GET/a*b", "GET/a/x/b"));
    assert!(!iam_match("GET/a*b", "GET/a/x/bc"));
    assert!(iam_match("G?T/x", "GET/x"));
    assert!(!iam_match("", "x"));
    assert!(iam_match("*", ""));
}

#[test]
fn mutation_samples_start_valid() {
    let toml = RuleSet::parse(SAMPLE_TOML).expect("sample TOML is valid");
    assert_eq!(toml.tenants()[0].grants().len(), 3);
    RuleSet::parse(&rules_json_sample()).expect("sample JSON is valid");
}
