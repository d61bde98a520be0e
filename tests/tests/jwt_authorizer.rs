//! The real `jwt-authorizer` binary on the Runtime API emulator, against a real loopback
//! JWKS/OIDC server, with tokens minted by PyJWT. Build first: `cargo build --bin jwt-authorizer`.

mod jwt_support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use jwt_support::*;
use portcullis_tests::{InvokeError, Lambda, binary};

const AUD: &str = "orders-api";
const ROUTES: &str = r#"{"GET /orders/*": ["orders:read"], "POST /orders": ["orders:write"], "$connect": ["orders:read"]}"#;
const ALL_ALGS: [(&str, &str); 9] = [
    ("RS256", "rsa"),
    ("RS384", "rsa"),
    ("RS512", "rsa"),
    ("PS256", "rsa"),
    ("PS384", "rsa"),
    ("PS512", "rsa"),
    ("ES256", "ec256"),
    ("ES384", "ec384"),
    ("EdDSA", "ed"),
];

/// The function under test, counting invocations to find each one's log line.
struct Fun {
    lambda: Lambda,
    calls: u64,
}

impl Fun {
    /// The decision as the test sees it: the response JSON, or the error message.
    async fn call(&mut self, event: Value) -> Result<Value, String> {
        self.calls += 1;
        match self.lambda.invoke(&event).await {
            Ok(v) => Ok(v),
            Err(InvokeError::Function { message, .. }) => Err(message),
            Err(other) => panic!("invocation failed: {other}"),
        }
    }

    /// The reason code the function logged for its last invocation.
    async fn last_reason(&self) -> String {
        let id = format!("\"requestId\":\"req-{:08}\"", self.calls);
        for _ in 0..200 {
            let found = self.lambda.logs().into_iter().find_map(|line| {
                let v: Value = serde_json::from_str(&line).ok()?;
                (line.contains(&id) && v["fields"]["reason"].is_string())
                    .then(|| v["fields"]["reason"].as_str().unwrap().to_owned())
            });
            if let Some(reason) = found {
                return reason;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("no reason logged for invocation {}", self.calls);
    }
}

/// Start the binary and wait until init (settings, JWKS prefetch) is done.
async fn spawn(env: &[(&str, &str)]) -> Fun {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut lambda = Lambda::spawn(&binary("jwt-authorizer"), &env)
        .await
        .unwrap();
    lambda.wait_ready().await.unwrap();
    Fun { lambda, calls: 0 }
}

fn unauthorized() -> Result<Value, String> {
    Err("Unauthorized".to_owned())
}

/// A key set that cannot be had is a dependency failure: an error API Gateway does not cache
/// (500), never a 401 it would reuse for the token's cache lifetime.
fn unavailable() -> Result<Value, String> {
    Err("dependency unavailable".to_owned())
}

fn claims(iss: &str, extra: Value) -> Value {
    let now = now();
    let mut c = json!({"iss": iss, "aud": AUD, "sub": "user-1", "iat": now - 5, "exp": now + 600,
                       "scope": "orders:read profile"});
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_allowed_algorithm_passes_and_every_attack_is_refused() {
    let server = JwksServer::start().await;
    let iss = server.base().to_owned();
    let now = now();
    let mut tokens: Vec<Value> = ALL_ALGS
        .iter()
        .map(|(alg, key)| token(&format!("ok-{alg}"), key, alg, key, claims(&iss, json!({}))))
        .collect();
    let rsa = |name: &str, extra: Value| token(name, "rsa", "RS256", "rsa", claims(&iss, extra));
    tokens.extend([
        rsa("expired", json!({"exp": now - 120, "iat": now - 900})),
        rsa("no-exp", json!({"exp": null})),
        rsa("future-nbf", json!({"nbf": now + 300})),
        rsa("future-iat", json!({"iat": now + 300})),
        rsa("wrong-iss", json!({"iss": "https://evil.example.com"})),
        rsa("wrong-aud", json!({"aud": "another-api"})),
        rsa("no-sub", json!({"sub": null})),
        rsa("scope-write", json!({"scope": "orders:write"})),
        rsa("scope-none", json!({"scope": "profile"})),
        token(
            "unknown-kid",
            "rsa",
            "RS256",
            "no-such-kid",
            claims(&iss, json!({})),
        ),
        token(
            "rsa-claims-es-key",
            "rsa",
            "RS256",
            "ec256",
            claims(&iss, json!({})),
        ),
        json!({"name": "alg-none", "key": "rsa", "headers": {"kid": "rsa"},
               "claims": claims(&iss, json!({})), "attack": "none"}),
        json!({"name": "hs256-pubkey", "key": "rsa", "headers": {"kid": "rsa"},
               "claims": claims(&iss, json!({})), "attack": "hs-pubkey"}),
        json!({"name": "psychic", "key": "ec256", "headers": {"kid": "ec256"},
               "claims": claims(&iss, json!({})), "attack": "psychic"}),
    ]);
    // Attacker key embedded in the header (jwk) and referenced by URL (jku, x5u).
    let spec = json!({"keys": ["rsa", "ec256", "ec384", "ed", "attacker"], "tokens": tokens});
    let minted = mint(&spec);
    let attacker_jwk = minted["jwks"]["attacker"].clone();
    let evil_url = format!("{}/jwks.json", server.base());
    let second = mint(&json!({"keys": ["attacker"], "tokens": [
        {"name": "embedded-jwk", "key": "attacker", "alg": "RS256",
         "headers": {"kid": "rsa", "jwk": attacker_jwk, "jku": evil_url, "x5u": evil_url},
         "claims": claims(&iss, json!({}))},
        {"name": "embedded-jwk-own-kid", "key": "attacker", "alg": "RS256",
         "headers": {"kid": "attacker", "jwk": attacker_jwk, "jku": evil_url},
         "claims": claims(&iss, json!({}))}
    ]}));
    let t = |name: &str| {
        minted["tokens"][name]
            .as_str()
            .or_else(|| second["tokens"][name].as_str())
            .unwrap_or_else(|| panic!("no token {name}"))
            .to_owned()
    };
    let jwks = &minted["jwks"];
    server.set_keys(&[&jwks["rsa"], &jwks["ec256"], &jwks["ec384"], &jwks["ed"]]);

    let mut lambda = spawn(&[
        ("JWT_ISSUER", &iss),
        ("JWT_AUDIENCE", AUD),
        (
            "JWT_ALGORITHMS",
            "RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,EdDSA",
        ),
        ("JWT_ROUTE_SCOPES", ROUTES),
        ("JWT_CONTEXT_CLAIMS", "sub,scope"),
        (
            "JWT_TOKEN_SOURCES",
            "header:authorization,cookie:access_token,query:access_token",
        ),
    ])
    .await;
    // OIDC discovery and the JWKS were fetched once at init.
    assert_eq!((server.discovery_hits(), server.jwks_hits()), (1, 1));

    let get = rest_arn("GET", "orders/42");
    let expected_allow = json!({
        "principalId": "user-1",
        "policyDocument": grants_policy(&[rest_resource("GET/orders/?*")]),
        "context": {"scope": "orders:read profile", "sub": "user-1"}
    });
    for (alg, _) in ALL_ALGS {
        let got = lambda
            .call(rest_token(&t(&format!("ok-{alg}")), &get))
            .await;
        assert_eq!(got, Ok(expected_allow.clone()), "{alg}");
    }

    for (name, reason) in [
        ("expired", "expired"),
        ("no-exp", "missing_exp"),
        ("future-nbf", "not_yet_valid"),
        ("future-iat", "iat_in_future"),
        ("wrong-iss", "unknown_issuer"),
        ("wrong-aud", "wrong_audience"),
        ("no-sub", "missing_sub"),
        ("unknown-kid", "unknown_kid"),
        ("rsa-claims-es-key", "key_mismatch"),
        ("alg-none", "alg_none"),
        ("hs256-pubkey", "alg_hmac"),
        ("psychic", "bad_signature"),
        ("embedded-jwk", "bad_signature"),
        ("embedded-jwk-own-kid", "unknown_kid"),
    ] {
        assert_eq!(
            lambda.call(rest_token(&t(name), &get)).await,
            unauthorized(),
            "{name}"
        );
        assert_eq!(lambda.last_reason().await, reason, "{name}");
    }
    let good = t("ok-RS256");
    let truncated = &good[..good.len() - 20];
    let huge = format!("{good}{}", "A".repeat(1 << 20));
    for (what, bad, reasons) in [
        // A shortened signature either no longer decodes or no longer verifies.
        (
            "truncated",
            truncated.to_owned(),
            &["bad_signature", "malformed"][..],
        ),
        ("garbage", "not-a-jwt".to_owned(), &["malformed"][..]),
        (
            "two segments",
            "eyJhbGciOiJSUzI1NiJ9.e30".to_owned(),
            &["malformed"][..],
        ),
        ("1 MiB", huge, &["token_too_large"][..]),
    ] {
        assert_eq!(
            lambda.call(rest_token(&bad, &get)).await,
            unauthorized(),
            "{what}"
        );
        let reason = lambda.last_reason().await;
        assert!(reasons.contains(&reason.as_str()), "{what}: {reason}");
    }
    // Not Bearer, missing, and two different tokens in one request.
    let basic =
        json!({"type": "TOKEN", "authorizationToken": format!("Basic {good}"), "methodArn": get});
    assert_eq!(lambda.call(basic).await, unauthorized());
    assert_eq!(lambda.last_reason().await, "not_bearer");
    assert_eq!(
        lambda.call(rest_request(json!({}), json!({}))).await,
        unauthorized()
    );
    assert_eq!(lambda.last_reason().await, "missing_token");
    let two = rest_request(
        json!({"authorization": format!("Bearer {good}"), "cookie": format!("access_token={}", t("ok-ES256"))}),
        json!({}),
    );
    assert_eq!(lambda.call(two).await, unauthorized());
    assert_eq!(lambda.last_reason().await, "ambiguous_token");
    // The same token in header and cookie is one token.
    let same = rest_request(
        json!({"authorization": format!("Bearer {good}"), "cookie": format!("access_token={good}")}),
        json!({}),
    );
    assert_eq!(lambda.call(same).await, Ok(expected_allow.clone()));

    // Valid token, scope missing for the route: a policy without it (403), covering what the
    // token may use — not Unauthorized.
    let write = lambda
        .call(rest_token(&t("scope-write"), &get))
        .await
        .unwrap();
    assert_eq!(
        write,
        json!({"principalId": "user-1", "policyDocument": grants_policy(&[rest_resource("POST/orders")]),
               "context": {"scope": "orders:write", "sub": "user-1"}})
    );
    let none = lambda
        .call(rest_token(&t("scope-none"), &get))
        .await
        .unwrap();
    assert_eq!(
        none,
        json!({"principalId": "user-1", "policyDocument": policy("Deny", &[rest_resource("*/*")]),
               "context": {"scope": "profile", "sub": "user-1"}})
    );

    // HTTP API 2.0 simple responses and WebSocket $connect (token in the query string).
    assert_eq!(
        lambda.call(http_v2(&good, "GET", "orders/42")).await,
        Ok(
            json!({"isAuthorized": true, "context": {"scope": "orders:read profile", "sub": "user-1"}})
        )
    );
    assert_eq!(
        lambda.call(http_v2(&good, "POST", "orders")).await,
        Ok(
            json!({"isAuthorized": false, "context": {"scope": "orders:read profile", "sub": "user-1"}})
        )
    );
    assert_eq!(
        lambda.call(http_v2("garbage", "GET", "orders/42")).await,
        unauthorized()
    );
    let ws_arn = format!("arn:aws:execute-api:eu-west-1:{ACCOUNT}:w1s2o3c4k5/live/$connect");
    assert_eq!(
        lambda.call(websocket(&good)).await,
        Ok(
            json!({"principalId": "user-1", "policyDocument": policy("Allow", &[ws_arn]),
                  "context": {"scope": "orders:read profile", "sub": "user-1"}})
        )
    );
    assert_eq!(lambda.call(websocket(&t("expired"))).await, unauthorized());

    // No token (nor any part of one) ever reaches the logs.
    let logs = lambda.lambda.logs();
    assert!(
        logs.iter().any(|l| l.contains("unknown_kid")),
        "reason codes are logged"
    );
    for line in &logs {
        assert!(!line.contains("eyJ"), "token in log line: {line}");
    }

    // Only the issuer's JWKS was ever fetched — never the jku/x5u URLs, which point at the same
    // server's /jwks.json: the unknown kids above were within the re-fetch interval of the
    // init fetch, so the count is unchanged.
    assert_eq!((server.discovery_hits(), server.jwks_hits()), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cognito_token_use_and_client_id() {
    let server = JwksServer::start().await;
    let iss = server.base().to_owned();
    let access = |name: &str, extra: Value| {
        let mut c = claims(
            &iss,
            json!({"aud": null, "token_use": "access", "client_id": "app-client-1",
                                       "scope": "orders:read"}),
        );
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        token(name, "rsa", "RS256", "rsa", c)
    };
    let minted = mint(&json!({"keys": ["rsa"], "tokens": [
        access("access-ok", json!({})),
        access("access-other-client", json!({"client_id": "app-client-9"})),
        access("id-token", json!({"token_use": "id", "aud": "app-client-1"})),
        access("refresh", json!({"token_use": "refresh"})),
    ]}));
    server.set_keys(&[&minted["jwks"]["rsa"]]);
    let mut lambda = spawn(&[
        ("JWT_ISSUER", &iss),
        ("JWT_AUDIENCE", "app-client-1"),
        ("JWT_TOKEN_USE", "access"),
        ("JWT_JWKS_URI", &server.jwks_uri()),
        ("JWT_CONTEXT_CLAIMS", "sub,client_id,token_use"),
    ])
    .await;
    assert_eq!(server.discovery_hits(), 0);
    let get = rest_arn("GET", "orders/42");
    let tok = |n: &str| minted["tokens"][n].as_str().unwrap().to_owned();
    assert_eq!(
        lambda.call(rest_token(&tok("access-ok"), &get)).await,
        Ok(
            json!({"principalId": "user-1", "policyDocument": policy("Allow", &[rest_resource("*/*")]),
                  "context": {"client_id": "app-client-1", "sub": "user-1", "token_use": "access"}})
        )
    );
    for name in ["access-other-client", "id-token", "refresh"] {
        assert_eq!(
            lambda.call(rest_token(&tok(name), &get)).await,
            unauthorized(),
            "{name}"
        );
    }

    // HTTP API payload 2.0 with IAM responses: the whole-API policy instead of isAuthorized.
    let mut iam = spawn(&[
        ("JWT_ISSUER", &iss),
        ("JWT_AUDIENCE", "app-client-1"),
        ("JWT_TOKEN_USE", "access"),
        ("JWT_JWKS_URI", &server.jwks_uri()),
        ("JWT_CONTEXT_CLAIMS", "client_id"),
        ("JWT_HTTP_API_RESPONSE", "iam"),
    ])
    .await;
    let http_all = format!("arn:aws:execute-api:eu-west-1:{ACCOUNT}:h1t2p3a4p5/$default/*/*");
    assert_eq!(
        iam.call(http_v2(&tok("access-ok"), "GET", "orders/42"))
            .await,
        Ok(
            json!({"principalId": "user-1", "policyDocument": policy("Allow", &[http_all]),
                  "context": {"client_id": "app-client-1"}})
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kid_flood_costs_at_most_one_fetch_per_interval() {
    let server = JwksServer::start().await;
    let iss = server.base().to_owned();
    let random: Vec<Value> = (0..200)
        .map(|i| {
            let kid = format!("random-{i}-{:016x}", fastrand_u64(i));
            token(
                &format!("r{i}"),
                "rsa",
                "RS256",
                &kid,
                claims(&iss, json!({})),
            )
        })
        .collect();
    let minted = mint(&json!({"keys": ["rsa"], "tokens": random}));
    server.set_keys(&[&minted["jwks"]["rsa"]]);
    let mut lambda = spawn(&[
        ("JWT_ISSUER", &iss),
        ("JWT_AUDIENCE", AUD),
        ("JWT_JWKS_URI", &server.jwks_uri()),
        ("JWT_JWKS_REFETCH_INTERVAL_SECONDS", "3"),
    ])
    .await;
    let get = rest_arn("GET", "orders/42");
    assert_eq!(server.jwks_hits(), 1);
    let started = Instant::now();
    // Right after the init fetch: 100 random kids cost no fetch.
    flood(&mut lambda, &minted, &get, 0..100).await;
    let first = server.jwks_hits() - 1;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "flood took too long to be meaningful"
    );
    // After the interval: 100 more cost exactly one fetch.
    tokio::time::sleep(Duration::from_millis(3100).saturating_sub(started.elapsed())).await;
    let before = server.jwks_hits();
    flood(&mut lambda, &minted, &get, 100..200).await;
    let second = server.jwks_hits() - before;
    eprintln!(
        "JWKS fetches under 100 random kids: {first} (within interval of init), {second} (after it)"
    );
    assert_eq!(first, 0);
    assert_eq!(second, 1);
}

async fn flood(lambda: &mut Fun, minted: &Value, arn: &str, range: std::ops::Range<usize>) {
    for i in range {
        let t = minted["tokens"][format!("r{i}")].as_str().unwrap();
        assert_eq!(lambda.call(rest_token(t, arn)).await, unauthorized());
    }
}

fn fastrand_u64(seed: usize) -> u64 {
    // Distinct, unguessable-enough kids without another dependency.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    (seed as u64 ^ nanos).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_new_key_without_restart_removed_key_after_max_age() {
    let server = JwksServer::start().await;
    let iss = server.base().to_owned();
    let minted = mint(&json!({"keys": ["rsa", "rsa-new"], "tokens": [
        token("old", "rsa", "RS256", "rsa", claims(&iss, json!({}))),
        token("new", "rsa-new", "RS256", "rsa-new", claims(&iss, json!({}))),
    ]}));
    let (old_jwk, new_jwk) = (&minted["jwks"]["rsa"], &minted["jwks"]["rsa-new"]);
    server.set_keys(&[old_jwk]);
    let mut lambda = spawn(&[
        ("JWT_ISSUER", &iss),
        ("JWT_AUDIENCE", AUD),
        ("JWT_JWKS_URI", &server.jwks_uri()),
        ("JWT_JWKS_MAX_AGE_SECONDS", "4"),
        ("JWT_JWKS_REFETCH_INTERVAL_SECONDS", "1"),
    ])
    .await;
    let start = Instant::now();
    let get = rest_arn("GET", "orders/42");
    let tok = |n: &str| minted["tokens"][n].as_str().unwrap().to_owned();
    let allow = Ok(
        json!({"principalId": "user-1", "policyDocument": policy("Allow", &[rest_resource("*/*")]),
        "context": {"iss": iss, "scope": "orders:read profile", "sub": "user-1"}}),
    );
    assert_eq!(lambda.call(rest_token(&tok("old"), &get)).await, allow);
    // Not published yet.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        lambda.call(rest_token(&tok("new"), &get)).await,
        unauthorized()
    );
    // Published: accepted on the next unknown-kid re-fetch, no restart.
    server.set_keys(&[old_jwk, new_jwk]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(lambda.call(rest_token(&tok("new"), &get)).await, allow);
    // Old key withdrawn: still cached until the max age, refused after it.
    server.set_keys(&[new_jwk]);
    let fetched_new = Instant::now();
    assert_eq!(lambda.call(rest_token(&tok("old"), &get)).await, allow);
    tokio::time::sleep(Duration::from_millis(4200).saturating_sub(fetched_new.elapsed())).await;
    assert_eq!(
        lambda.call(rest_token(&tok("old"), &get)).await,
        unauthorized()
    );
    assert_eq!(lambda.call(rest_token(&tok("new"), &get)).await, allow);
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_down_slow_or_garbage_is_an_uncacheable_error_within_the_deadline() {
    let server = JwksServer::start().await;
    let iss = server.base().to_owned();
    let minted = mint(&json!({"keys": ["rsa"], "tokens": [
        token("ok", "rsa", "RS256", "rsa", claims(&iss, json!({}))),
    ]}));
    server.set_keys(&[&minted["jwks"]["rsa"]]);
    let good = minted["tokens"]["ok"].as_str().unwrap().to_owned();
    let get = rest_arn("GET", "orders/42");
    let base_env = |jwks: String| -> Vec<(String, String)> {
        vec![
            ("JWT_ISSUER".into(), iss.clone()),
            ("JWT_AUDIENCE".into(), AUD.into()),
            ("JWT_JWKS_URI".into(), jwks),
            ("JWT_JWKS_TIMEOUT_MS".into(), "500".into()),
            ("JWT_JWKS_CONNECT_TIMEOUT_MS".into(), "300".into()),
            ("JWT_JWKS_REFETCH_INTERVAL_SECONDS".into(), "1".into()),
        ]
    };
    async fn spawn_owned(env: &[(String, String)]) -> Fun {
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        spawn(&pairs).await
    }

    // Down: nothing listens.
    let mut lambda = spawn_owned(&base_env(closed_port_url().await)).await;
    let t = Instant::now();
    assert_eq!(lambda.call(rest_token(&good, &get)).await, unavailable());
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "down: {:?}",
        t.elapsed()
    );
    assert_eq!(lambda.last_reason().await, "jwks_unavailable");
    drop(lambda);

    for (what, fault) in [
        ("slow", Fault::Slow(Duration::from_secs(5))),
        ("500", Fault::Status(500)),
        ("garbage", Fault::Garbage),
        ("oversized", Fault::Huge),
    ] {
        server.set_fault(fault);
        let mut lambda = spawn_owned(&base_env(server.jwks_uri())).await;
        let t = Instant::now();
        assert_eq!(
            lambda.call(rest_token(&good, &get)).await,
            unavailable(),
            "{what}"
        );
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{what}: {:?}",
            t.elapsed()
        );
        // Back to healthy: the next fetch after the interval recovers.
        server.set_fault(Fault::None);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(
            lambda.call(rest_token(&good, &get)).await.is_ok(),
            "{what}: recovery"
        );
    }

    // A JWKS timeout longer than the invocation: the function still answers before its deadline.
    let mut env = base_env(server.jwks_uri());
    env.retain(|(k, _)| k != "JWT_JWKS_TIMEOUT_MS");
    env.push(("JWT_JWKS_TIMEOUT_MS".into(), "20000".into()));
    env.push(("JWT_JWKS_MAX_AGE_SECONDS".into(), "1".into()));
    env.push(("JWT_JWKS_MAX_STALE_SECONDS".into(), "0".into()));
    let mut lambda = spawn_owned(&env).await;
    server.set_fault(Fault::Slow(Duration::from_secs(8)));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    lambda.lambda.timeout = Duration::from_secs(2);
    let t = Instant::now();
    assert_eq!(
        lambda.call(rest_token(&good, &get)).await,
        unavailable(),
        "deadline"
    );
    let took = t.elapsed();
    assert!(took < Duration::from_secs(2), "deadline: {took:?}");
    assert_eq!(lambda.last_reason().await, "deadline");
    eprintln!("slow JWKS, 2 s deadline: DependencyUnavailable after {took:?}");
    server.set_fault(Fault::None);
    drop(lambda);

    // Keep-last-good within the bound, then fail closed.
    let mut env = base_env(server.jwks_uri());
    env.push(("JWT_JWKS_MAX_AGE_SECONDS".into(), "1".into()));
    env.push(("JWT_JWKS_MAX_STALE_SECONDS".into(), "2".into()));
    let mut lambda = spawn_owned(&env).await;
    let fetched = Instant::now();
    server.set_fault(Fault::Status(503));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        lambda.call(rest_token(&good, &get)).await.is_ok(),
        "stale copy serves"
    );
    tokio::time::sleep(Duration::from_millis(3300).saturating_sub(fetched.elapsed())).await;
    assert_eq!(
        lambda.call(rest_token(&good, &get)).await,
        unavailable(),
        "stale bound"
    );
    server.set_fault(Fault::None);

    // Discovery naming another issuer: never trusted.
    server.set_discovery_issuer("https://impostor.example.com");
    let mut lambda = spawn(&[("JWT_ISSUER", &iss), ("JWT_AUDIENCE", AUD)]).await;
    assert_eq!(lambda.call(rest_token(&good, &get)).await, unavailable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_events_match_expected() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events/jwt-authorizer");
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
    };
    let server = JwksServer::start().await;
    let jwks = read("jwks.json");
    let keys: Vec<&Value> = jwks["keys"].as_array().unwrap().iter().collect();
    server.set_keys(&keys);
    // demo.env, with the JWKS served from this test's server.
    let mut env = portcullis_tests::read_env_file(&dir.join("demo.env"));
    assert!(!env.is_empty(), "demo.env has settings");
    for (k, v) in &mut env {
        if k == "JWT_JWKS_URI" {
            *v = server.jwks_uri();
        }
    }
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut lambda = spawn(&pairs).await;
    let expected = read("expected.json");
    let expected = expected.as_object().unwrap();
    assert_eq!(expected.len(), 9);
    for (file, outcome) in expected {
        let event = read(file);
        let got = lambda.call(event.clone()).await;
        let verdict = match &got {
            Err(msg) if msg == "Unauthorized" => "Unauthorized",
            Err(other) => panic!("{file}: unexpected error {other}"),
            Ok(v) if v.get("isAuthorized") == Some(&json!(true)) => "Allow",
            Ok(v) if v.get("isAuthorized").is_some() => "Deny",
            Ok(v) => {
                // IAM response: allowed iff an Allow resource and no Deny resource matches this
                // method ARN (IAM wildcards).
                let arn = event["methodArn"].as_str().unwrap();
                let hit = |effect: &str| {
                    v["policyDocument"]["Statement"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|s| {
                            s["Effect"] == effect
                                && s["Resource"].as_array().unwrap().iter().any(|r| {
                                    portcullis::policy::wildcard_match(r.as_str().unwrap(), arn)
                                })
                        })
                };
                if hit("Allow") && !hit("Deny") {
                    "Allow"
                } else {
                    "Deny"
                }
            }
        };
        assert_eq!(verdict, outcome.as_str().unwrap(), "{file}: {got:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_issuers_each_with_its_own_keys_and_audiences() {
    let (a, b) = (JwksServer::start().await, JwksServer::start().await);
    let (iss_a, iss_b) = (a.base().to_owned(), b.base().to_owned());
    let with = |iss: &str, aud: &str| claims(iss, json!({"aud": aud}));
    let minted = mint(&json!({"keys": ["rsa", "ec256"], "tokens": [
        token("a-ok", "rsa", "RS256", "rsa", with(&iss_a, "orders-api")),
        token("b-ok", "ec256", "ES256", "ec256", with(&iss_b, "partner-api")),
        token("a-aud-of-b", "rsa", "RS256", "rsa", with(&iss_a, "partner-api")),
        token("b-claims-a-key", "rsa", "RS256", "rsa", with(&iss_b, "partner-api")),
        token("a-claims-b-key", "ec256", "ES256", "ec256", with(&iss_a, "orders-api")),
        token("unlisted-issuer", "rsa", "RS256", "rsa", with("https://other.example.com", "orders-api")),
    ]}));
    a.set_keys(&[&minted["jwks"]["rsa"]]);
    b.set_keys(&[&minted["jwks"]["ec256"]]);
    let issuers = json!([
        {"issuer": iss_a, "audience": "orders-api"},
        {"issuer": iss_b, "audience": ["partner-api"], "algorithms": ["ES256"], "jwks_uri": b.jwks_uri()}
    ])
    .to_string();
    let mut lambda = spawn(&[("JWT_ISSUERS", &issuers), ("JWT_CONTEXT_CLAIMS", "iss")]).await;
    assert_eq!(
        (
            a.discovery_hits(),
            a.jwks_hits(),
            b.discovery_hits(),
            b.jwks_hits()
        ),
        (1, 1, 0, 1)
    );
    let get = rest_arn("GET", "orders/42");
    let tok = |n: &str| minted["tokens"][n].as_str().unwrap().to_owned();
    for (name, iss) in [("a-ok", &iss_a), ("b-ok", &iss_b)] {
        assert_eq!(
            lambda.call(rest_token(&tok(name), &get)).await,
            Ok(
                json!({"principalId": "user-1", "policyDocument": policy("Allow", &[rest_resource("*/*")]),
                      "context": {"iss": iss}})
            ),
            "{name}"
        );
    }
    for name in [
        "a-aud-of-b",
        "b-claims-a-key",
        "a-claims-b-key",
        "unlisted-issuer",
    ] {
        assert_eq!(
            lambda.call(rest_token(&tok(name), &get)).await,
            unauthorized(),
            "{name}"
        );
    }
}

/// Exactly one line logged since `mark` names `cause`; returns its message and error.
fn one_line_naming(lambda: &Fun, mark: usize, cause: &str, what: &str) -> String {
    let logs = lambda.lambda.logs();
    let lines: Vec<&String> = logs[mark..].iter().filter(|l| l.contains(cause)).collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected one line naming {cause:?}:\n{}",
        logs[mark..].join("\n")
    );
    let v: Value = serde_json::from_str(lines[0]).unwrap_or_default();
    format!(
        "{} error={}",
        v["fields"]["message"].as_str().unwrap_or_default(),
        v["fields"]["error"].as_str().unwrap_or_default()
    )
}

/// Settings for the fault cases: short timeouts, a 1 s refetch interval and key-set age, no
/// stale grace.
fn fault_env(iss: &str, jwks_uri: &str) -> Vec<(String, String)> {
    [
        ("JWT_ISSUER", iss),
        ("JWT_AUDIENCE", AUD),
        ("JWT_JWKS_URI", jwks_uri),
        ("JWT_JWKS_TIMEOUT_MS", "500"),
        ("JWT_JWKS_CONNECT_TIMEOUT_MS", "300"),
        ("JWT_JWKS_REFETCH_INTERVAL_SECONDS", "1"),
        ("JWT_JWKS_MAX_AGE_SECONDS", "1"),
        ("JWT_JWKS_MAX_STALE_SECONDS", "0"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

const FAULT_DEADLINE: Duration = Duration::from_secs(2);

/// One JWKS fault in one phase, on its own key server; returns the table row.
async fn jwks_fault_case(
    iss: String,
    key: Value,
    good: String,
    what: &'static str,
    fault: Fault,
    cause: &'static str,
    cold: bool,
) -> String {
    let server = JwksServer::start().await;
    server.set_keys(&[&key]);
    let get = rest_arn("GET", "orders/42");
    let phase = if cold { "Cold" } else { "Warm" };
    let label = format!("{what} / {phase}");
    let env = fault_env(&iss, &server.jwks_uri());
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if cold {
        server.set_fault(fault.clone());
    }
    let mut lambda = spawn(&pairs).await;
    lambda.lambda.timeout = FAULT_DEADLINE;
    if cold {
        tokio::time::sleep(Duration::from_millis(60)).await;
        one_line_naming(&lambda, 0, cause, &format!("{label} (init)"));
    } else {
        assert!(
            lambda.call(rest_token(&good, &get)).await.is_ok(),
            "{label}: healthy"
        );
        server.set_fault(fault);
    }
    tokio::time::sleep(Duration::from_millis(1160)).await;
    let mark = lambda.lambda.logs().len();
    let t = Instant::now();
    assert_eq!(
        lambda.call(rest_token(&good, &get)).await,
        unavailable(),
        "{label}"
    );
    let took = t.elapsed();
    assert!(took < FAULT_DEADLINE, "{label}: {took:?}");
    assert_eq!(lambda.last_reason().await, "jwks_unavailable", "{label}");
    let line = one_line_naming(&lambda, mark, cause, &label);
    server.set_fault(Fault::None);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(
        lambda.call(rest_token(&good, &get)).await.is_ok(),
        "{label}: recovery"
    );
    format!(
        "| {what} | {phase} | DependencyUnavailable | {} ms | `{line}` |\n",
        took.as_millis()
    )
}

/// Every JWKS fault, present at cold start and appearing on a warm container: the token is
/// answered with the uncacheable `DependencyUnavailable` error (reason `jwks_unavailable`)
/// within the deadline, exactly one log line names the cause, and the next fetch after the
/// fault clears lets the token in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_jwks_fault_names_its_cause_in_one_log_line() {
    let issuer = JwksServer::start().await;
    let iss = issuer.base().to_owned();
    let minted = mint(&json!({"keys": ["rsa"], "tokens": [
        token("ok", "rsa", "RS256", "rsa", claims(&iss, json!({}))),
    ]}));
    let key = minted["jwks"]["rsa"].clone();
    let good = minted["tokens"]["ok"].as_str().unwrap().to_owned();
    let cases: Vec<(&str, Fault, &str)> = vec![
        (
            "slow: 5 s, beyond the 500 ms fetch timeout",
            Fault::Slow(Duration::from_secs(5)),
            "transport: timeout",
        ),
        ("HTTP 500", Fault::Status(500), "http status 500"),
        ("HTTP 503", Fault::Status(503), "http status 503"),
        ("HTML instead of JSON", Fault::Garbage, "invalid document"),
        (
            "invalid JSON (cut off)",
            Fault::InvalidJson,
            "invalid document",
        ),
        (
            "10 MB body",
            Fault::Padded(10 << 20),
            "response larger than 65536 bytes",
        ),
        (
            "redirect loop (302 to itself)",
            Fault::RedirectLoop,
            "http status 302",
        ),
        (
            "keys with kty oct",
            Fault::WrongKty("oct"),
            "invalid document",
        ),
        (
            "RSA key labelled kty EC",
            Fault::WrongKty("EC"),
            "invalid document",
        ),
    ];
    let mut table = String::from(
        "| fault | phase | outcome | answered in | the one log line |\n|---|---|---|---|---|\n",
    );
    // Down at cold start: nothing listens on the JWKS port.
    {
        let closed = closed_port_url().await;
        let env = fault_env(&iss, &closed);
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut lambda = spawn(&pairs).await;
        let cause = "transport: connect failed";
        tokio::time::sleep(Duration::from_millis(60)).await;
        one_line_naming(&lambda, 0, cause, "down (init)");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let mark = lambda.lambda.logs().len();
        lambda.lambda.timeout = FAULT_DEADLINE;
        let t = Instant::now();
        let get = rest_arn("GET", "orders/42");
        assert_eq!(lambda.call(rest_token(&good, &get)).await, unavailable());
        let took = t.elapsed();
        assert_eq!(lambda.last_reason().await, "jwks_unavailable");
        let line = one_line_naming(&lambda, mark, cause, "down");
        table.push_str(&format!(
            "| down: connection refused | Cold | DependencyUnavailable | {} ms | `{line}` |\n",
            took.as_millis()
        ));
    }
    // The cases run a few at a time, each on its own key server.
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(4));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (what, fault, cause)) in cases.into_iter().enumerate() {
        for cold in [true, false] {
            let (iss, key, good, fault) = (iss.clone(), key.clone(), good.clone(), fault.clone());
            let slots = slots.clone();
            tasks.spawn(async move {
                let _slot = slots.acquire_owned().await.expect("semaphore");
                let row = jwks_fault_case(iss, key, good, what, fault, cause, cold).await;
                ((i, !cold), row)
            });
        }
    }
    let mut rows = Vec::new();
    while let Some(done) = tasks.join_next().await {
        rows.push(done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())));
    }
    rows.sort();
    for (_, row) in rows {
        table.push_str(&row);
    }
    eprintln!("{table}");
    let dir = portcullis_tests::workspace_root().join("target/hardening");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("faults-jwt-authorizer.md"), table).unwrap();
}
