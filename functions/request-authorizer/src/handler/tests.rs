use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::rules::hash_api_key;
use portcullis::config::MapEnv;
use portcullis::door::Refusal;
use portcullis::secrets::MemorySource;
use serde_json::{Value, json};

use super::*;

/// The front door's `serve` at the given instants (`clock` for the rules cache, `wall` when
/// the event carries no request time), with no deadline.
trait HandleAt {
    async fn handle_at(
        &self,
        event: Value,
        clock: Instant,
        wall: SystemTime,
    ) -> Result<Value, Refusal>;
}

impl HandleAt for Authorizer<MemorySource> {
    async fn handle_at(
        &self,
        event: Value,
        clock: Instant,
        wall: SystemTime,
    ) -> Result<Value, Refusal> {
        let clock = Clock {
            instant: clock,
            wall,
        };
        self.serve(&event, clock, Duration::MAX).await
    }
}

const OLD_KEY: &str = "acme-key-before-rotation-01";
const NEW_KEY: &str = "acme-key-after-rotation-002";
const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:api1/prod/GET/orders/7";

fn doc(key: &str) -> String {
    json!({"version": 1, "tenants": [{
        "id": "acme", "apiKeys": [{"sha256": hash_api_key(key)}],
        "grants": ["GET /orders/*"], "usageIdentifierKey": "acme-usage-key-0000000001"
    }]})
    .to_string()
}

fn config(extra: &[(&str, &str)]) -> Config {
    let mut pairs = vec![
        ("RULES_PARAMETER_NAME", "/rules"),
        ("RULES_CACHE_TTL_SECONDS", "60"),
        ("RULES_MAX_STALE_SECONDS", "120"),
    ];
    pairs.extend_from_slice(extra);
    let mut config = Config::from_env(&MapEnv::from_pairs(pairs)).unwrap();
    config.cache.jitter = 0.0;
    config
}

async fn authorizer(
    source: MemorySource,
    t0: Instant,
    extra: &[(&str, &str)],
) -> Authorizer<MemorySource> {
    let config = config(extra);
    let rules = Rules::from_parameter(source, "/rules", &config, t0)
        .await
        .unwrap();
    super::authorizer(rules, None, &config)
}

fn rest(key: Option<&str>) -> Value {
    let headers = key.map_or(json!({}), |k| json!({"X-Api-Key": k}));
    json!({"type": "REQUEST", "methodArn": ARN, "headers": headers,
        "requestContext": {"identity": {"sourceIp": "192.0.2.1"}}})
}

/// `Allow` when the policy has an Allow statement (a grants policy also carries the Deny of
/// dot and empty path segments), else the effect of its statement.
fn effect(response: &Result<Value, Refusal>) -> String {
    match response {
        Ok(v) => {
            let statements = v["policyDocument"]["Statement"].as_array().unwrap();
            let effects: Vec<&str> = statements
                .iter()
                .map(|s| s["Effect"].as_str().unwrap())
                .collect();
            if effects.contains(&"Allow") {
                "Allow".to_owned()
            } else {
                effects[0].to_owned()
            }
        }
        Err(e) => format!("error: {e}"),
    }
}

fn wall() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

#[tokio::test]
async fn rules_update_is_picked_up_after_the_ttl() {
    let t0 = Instant::now();
    let source = MemorySource::new(&doc(OLD_KEY));
    let auth = authorizer(source.clone(), t0, &[]).await;
    let at = |secs| t0 + Duration::from_secs(secs);
    assert_eq!(
        effect(&auth.handle_at(rest(Some(OLD_KEY)), at(1), wall()).await),
        "Allow"
    );

    source.set(&doc(NEW_KEY));
    assert_eq!(
        effect(&auth.handle_at(rest(Some(OLD_KEY)), at(59), wall()).await),
        "Allow"
    );
    assert_eq!(
        effect(&auth.handle_at(rest(Some(OLD_KEY)), at(61), wall()).await),
        "Deny"
    );
    let allowed = auth
        .handle_at(rest(Some(NEW_KEY)), at(62), wall())
        .await
        .unwrap();
    assert_eq!(allowed["usageIdentifierKey"], "acme-usage-key-0000000001");
    assert_eq!(source.calls(), 2);
}

#[tokio::test]
async fn invalid_update_keeps_the_last_good_rules_then_fails_closed() {
    let t0 = Instant::now();
    let source = MemorySource::new(&doc(OLD_KEY));
    let auth = authorizer(source.clone(), t0, &[]).await;
    let at = |secs| t0 + Duration::from_secs(secs);
    source.set(r#"{"version": 1, "tenants": [{"id": "acme", "apiKeys": [], "grants": ["GET /x"], "oops": 1}]}"#);
    assert_eq!(
        effect(&auth.handle_at(rest(Some(OLD_KEY)), at(61), wall()).await),
        "Allow"
    );
    assert_eq!(
        effect(&auth.handle_at(rest(Some(OLD_KEY)), at(179), wall()).await),
        "Allow"
    );
    assert_eq!(
        effect(&auth.handle_at(rest(Some(OLD_KEY)), at(181), wall()).await),
        "error: dependency unavailable"
    );
    // A valid document again: served as soon as the retry back-off allows a fetch.
    source.set(&doc(OLD_KEY));
    assert_eq!(
        effect(&auth.handle_at(rest(Some(OLD_KEY)), at(200), wall()).await),
        "Allow"
    );
}

#[tokio::test]
async fn invalid_document_at_init_names_the_entry() {
    let source = MemorySource::new(
        r#"{"version": 1, "tenants": [{"id": "a", "apiKeys": [{"sha256": "plaintext-key-123"}], "grants": ["*"]}]}"#,
    );
    let config = config(&[]);
    let Err(err) = Rules::from_parameter(source, "/rules", &config, Instant::now()).await else {
        panic!("accepted");
    };
    let text = err.to_string();
    assert!(
        text.starts_with("invalid rules document in RULES_PARAMETER_NAME: tenants[0].apiKeys[0].sha256: expected the SHA-256"),
        "{text}"
    );
    assert!(!text.contains("plaintext-key"), "{text}");
}

#[tokio::test]
async fn ssm_down_at_init_is_retried_and_fails_closed_meanwhile() {
    let source = MemorySource::new(&doc(OLD_KEY));
    source.fail(portcullis::secrets::SourceError::Timeout);
    let t0 = Instant::now();
    let auth = authorizer(source.clone(), t0, &[]).await;
    assert_eq!(
        effect(&auth.handle_at(rest(Some(OLD_KEY)), t0, wall()).await),
        "error: dependency unavailable"
    );
    source.set(&doc(OLD_KEY));
    let later = t0 + Duration::from_secs(10);
    assert_eq!(
        effect(&auth.handle_at(rest(Some(OLD_KEY)), later, wall()).await),
        "Allow"
    );
}

#[tokio::test]
async fn missing_key_is_unauthorized_and_bad_events_are_errors() {
    let t0 = Instant::now();
    let auth = authorizer(MemorySource::new(&doc(OLD_KEY)), t0, &[]).await;
    assert_eq!(
        auth.handle_at(rest(None), t0, wall()).await,
        Err(Refusal::Unauthorized)
    );
    // Not an authorizer event: an error API Gateway does not cache (500), like every function.
    assert_eq!(
        auth.handle_at(json!({"hello": "world"}), t0, wall()).await,
        Err(Refusal::MalformedEvent)
    );
    assert_eq!(
        auth.handle_at(
            json!({"type": "REQUEST", "methodArn": "arn:nope"}),
            t0,
            wall()
        )
        .await,
        Err(Refusal::MalformedEvent)
    );
    let diagnostic = lambda_runtime::Diagnostic::from(Refusal::Unauthorized);
    assert_eq!(diagnostic.error_message, "Unauthorized");
}

/// An HTTP API 2.0 event for `route` (`GET /orders/1`) matched by route `route_key`, with the
/// identity source values `identity` (API Gateway's cache key).
fn v2(key: &str, route: &str, route_key: &str, identity: &[&str]) -> Value {
    let (method, path) = route.split_once(' ').unwrap();
    json!({"version": "2.0", "type": "REQUEST",
        "routeArn": format!("arn:aws:execute-api:eu-west-1:123456789012:api1/$default/{method}{path}"),
        "identitySource": identity, "routeKey": route_key, "rawPath": path,
        "headers": {"x-api-key": key},
        "requestContext": {"http": {"method": method, "path": path, "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1", "userAgent": "t"}, "timeEpoch": 1_800_000_000_000_i64}})
}

#[tokio::test]
async fn http_api_simple_and_iam_modes() {
    let t0 = Instant::now();
    let simple = authorizer(MemorySource::new(&doc(OLD_KEY)), t0, &[]).await;
    let answer =
        |route: &'static str, route_key: &'static str, identity: &'static [&'static str]| {
            let simple = &simple;
            async move {
                simple
                    .handle_at(v2(identity[0], route, route_key, identity), t0, wall())
                    .await
            }
        };
    // The route is in the cache key: the answer is for the route template, cached per route.
    let keyed: &[&str] = &[OLD_KEY, "GET /orders/{id}"];
    assert_eq!(
        answer("GET /orders/1", "GET /orders/{id}", keyed).await,
        Ok(json!({"isAuthorized": true, "context": {"tenantId": "acme"}}))
    );
    assert_eq!(
        answer(
            "POST /orders/1",
            "POST /orders/{id}",
            &[OLD_KEY, "POST /orders/{id}"]
        )
        .await,
        Ok(json!({"isAuthorized": false, "context": {"tenantId": "acme"}}))
    );
    // A catch-all route covers more than `GET /orders/*`: never authorized by that grant.
    assert_eq!(
        answer(
            "GET /orders/1",
            "ANY /{proxy+}",
            &[OLD_KEY, "ANY /{proxy+}"]
        )
        .await,
        Ok(json!({"isAuthorized": false, "context": {"tenantId": "acme"}}))
    );
    // The route is not in the cache key: a route grant cannot be answered in the simple format
    // (API Gateway would reuse a "yes" for every route) — an uncacheable error instead.
    assert_eq!(
        answer("GET /orders/1", "GET /orders/{id}", &[OLD_KEY]).await,
        Err(Refusal::RouteNotInCacheKey)
    );
    assert_eq!(
        answer(
            "GET /orders/1",
            "GET /orders/{id}",
            &["wrong-key", "GET /orders/{id}"]
        )
        .await,
        Ok(json!({"isAuthorized": false}))
    );
    let iam = authorizer(
        MemorySource::new(&doc(OLD_KEY)),
        t0,
        &[("HTTP_API_RESPONSE_MODE", "iam")],
    )
    .await;
    let response = iam
        .handle_at(
            v2(OLD_KEY, "GET /orders/1", "ANY /{proxy+}", &[OLD_KEY]),
            t0,
            wall(),
        )
        .await
        .unwrap();
    assert_eq!(
        response["policyDocument"]["Statement"][1]["Resource"],
        json!(["arn:aws:execute-api:eu-west-1:123456789012:api1/$default/GET/orders/?*"])
    );
    assert_eq!(
        response["policyDocument"]["Statement"][0]["Effect"],
        json!("Deny")
    );
}

#[test]
fn bundled_file_with_extension_decides_the_format() {
    let dir = std::env::temp_dir().join(format!("pc-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json_path = dir.join("rules.json");
    std::fs::write(&json_path, doc(OLD_KEY)).unwrap();
    assert!(matches!(
        Rules::<MemorySource>::from_file(&json_path),
        Ok(Rules::Fixed(_))
    ));
    let toml_path = dir.join("rules.toml");
    std::fs::write(&toml_path, doc(OLD_KEY)).unwrap();
    let err = Rules::<MemorySource>::from_file(&toml_path)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with("invalid rules document: document: invalid TOML"),
        "{err}"
    );
    let missing = Rules::<MemorySource>::from_file(&dir.join("nope.json"))
        .err()
        .unwrap()
        .to_string();
    assert!(missing.starts_with("cannot read RULES_FILE"), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Decision a response gives for the event's own route: `Unauthorized`, or whether the policy
/// (Deny wins) or the simple response lets it through.
fn effective(event: &Value, response: &Result<Value, Refusal>) -> &'static str {
    let response = match response {
        Err(Refusal::Unauthorized) => return "Unauthorized",
        Err(e) => panic!("unexpected error {e}"),
        Ok(v) => v,
    };
    if let Some(authorized) = response.get("isAuthorized") {
        return if authorized == &json!(true) {
            "Allow"
        } else {
            "Deny"
        };
    }
    let arn = event
        .get("methodArn")
        .or_else(|| event.get("routeArn"))
        .and_then(Value::as_str)
        .unwrap();
    let mut allowed = false;
    for statement in response["policyDocument"]["Statement"].as_array().unwrap() {
        let hit = statement["Resource"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| portcullis::policy::wildcard_match(r.as_str().unwrap(), arn));
        match statement["Effect"].as_str().unwrap() {
            "Deny" if hit => return "Deny",
            "Allow" if hit => allowed = true,
            _ => {}
        }
    }
    if allowed { "Allow" } else { "Deny" }
}

#[tokio::test]
async fn every_sample_event_gets_its_expected_decision_from_json_and_toml_rules() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/request-authorizer");
    let expected: serde_json::Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    assert!(expected.len() >= 30, "samples missing");
    let config = Config::from_env(&MapEnv::from_pairs([("RULES_FILE", "unused")])).unwrap();
    let from_json = super::authorizer(
        Rules::<MemorySource>::from_file(&dir.join("rules/rules.json")).unwrap(),
        None,
        &config,
    );
    let from_toml = super::authorizer(
        Rules::<MemorySource>::from_file(&dir.join("rules/rules.toml")).unwrap(),
        None,
        &config,
    );
    let t0 = Instant::now();
    for (name, want) in &expected {
        let event: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        // The wall clock is far from the events' request time: validity must use the latter.
        let response = from_json.handle_at(event.clone(), t0, UNIX_EPOCH).await;
        assert_eq!(effective(&event, &response), want, "{name}: {response:?}");
        let toml_response = from_toml.handle_at(event.clone(), t0, UNIX_EPOCH).await;
        assert_eq!(
            response, toml_response,
            "{name}: JSON and TOML rules differ"
        );
    }
}
