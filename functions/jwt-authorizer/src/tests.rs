//! Verifier unit tests: tokens signed with jsonwebtoken's encoder from test keys in
//! `testdata/`, keys served by the in-memory fetcher. (Integration tests mint with PyJWT.)

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::*;

const RSA: &[u8] = include_bytes!("testdata/rsa.pem");
const RSA_ATTACKER: &[u8] = include_bytes!("testdata/rsa-attacker.pem");
const P256: &[u8] = include_bytes!("testdata/p256.pem");
const P384: &[u8] = include_bytes!("testdata/p384.pem");
const ED: &[u8] = include_bytes!("testdata/ed25519.pem");

const ISS: &str = "https://idp.example.com";
const ISS_B: &str = "https://other.example.com";
const NOW: u64 = 1_800_000_000;

/// jsonwebtoken's `encode`, after the verifier's provider is installed: jsonwebtoken fixes its
/// provider at first use, and `crypto`'s tests check that it is the installed one.
fn encode(
    header: &Header,
    claims: &Value,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<String> {
    crypto::install();
    jsonwebtoken::encode(header, claims, key)
}

pub(crate) fn key_for(alg: Algorithm, attacker: bool) -> EncodingKey {
    match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(P256).unwrap(),
        Algorithm::ES384 => EncodingKey::from_ec_pem(P384).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(ED).unwrap(),
        _ if attacker => EncodingKey::from_rsa_pem(RSA_ATTACKER).unwrap(),
        _ => EncodingKey::from_rsa_pem(RSA).unwrap(),
    }
}

fn kid_for(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::ES256 => "ec256",
        Algorithm::ES384 => "ec384",
        Algorithm::EdDSA => "ed",
        _ => "rsa",
    }
}

fn public_jwk(alg: Algorithm, kid: &str, pin_alg: bool) -> Value {
    crypto::install();
    let mut jwk = Jwk::from_encoding_key(&key_for(alg, false), alg).unwrap();
    jwk.common.key_id = Some(kid.into());
    if !pin_alg {
        jwk.common.key_algorithm = None;
    }
    serde_json::to_value(jwk).unwrap()
}

fn jwks() -> Vec<u8> {
    json!({"keys": [
        public_jwk(Algorithm::RS256, "rsa", false),
        public_jwk(Algorithm::RS256, "rsa-rs256-only", true),
        public_jwk(Algorithm::ES256, "ec256", true),
        public_jwk(Algorithm::ES384, "ec384", true),
        public_jwk(Algorithm::EdDSA, "ed", true),
    ]})
    .to_string()
    .into_bytes()
}

fn claims() -> Value {
    json!({"iss": ISS, "aud": "api", "sub": "user-1", "exp": NOW + 600, "iat": NOW - 5,
           "scope": "orders:read profile"})
}

fn sign(alg: Algorithm, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    encode(&header, claims, &key_for(alg, false)).unwrap()
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn issuer(iss: &str, algorithms: &[Algorithm]) -> IssuerConfig {
    IssuerConfig {
        rules: ClaimRules {
            issuer: iss.into(),
            audiences: vec!["api".into()],
            token_use: None,
            leeway: 0,
            max_token_age: None,
            required: vec![],
        },
        algorithms: algorithms.to_vec(),
        typ: None,
        jwks: JwksLocation::Discovery { issuer: iss.into() },
    }
}

async fn verifier_with(issuers: Vec<IssuerConfig>) -> Verifier<MemoryFetcher> {
    let v = Verifier::new(issuers, CacheConfig::default(), 16 * 1024, |_| {
        MemoryFetcher::new(jwks())
    });
    for (_, r) in v.prefetch(Instant::now()).await {
        r.unwrap();
    }
    v
}

fn now() -> Now {
    Now {
        unix: NOW,
        instant: Instant::now() + Duration::from_secs(1),
    }
}

async fn verifier() -> Verifier<MemoryFetcher> {
    verifier_with(vec![issuer(ISS, &algorithms::SUPPORTED)]).await
}

#[tokio::test]
async fn every_supported_algorithm_verifies() {
    let v = verifier().await;
    for alg in algorithms::SUPPORTED {
        let token = sign(alg, kid_for(alg), &claims());
        let ok = v
            .verify(&token, now())
            .await
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(ok.subject, "user-1");
        assert_eq!(ok.alg, alg);
        assert_eq!(ok.issuer, ISS);
        assert_eq!(
            ok.scopes.iter().map(String::as_str).collect::<Vec<_>>(),
            ["orders:read", "profile"]
        );
    }
}

#[tokio::test]
async fn allowlist_is_per_issuer() {
    let v = verifier_with(vec![issuer(ISS, &[Algorithm::RS256])]).await;
    assert!(
        v.verify(&sign(Algorithm::RS256, "rsa", &claims()), now())
            .await
            .is_ok()
    );
    for alg in [
        Algorithm::PS256,
        Algorithm::RS512,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        let err = v.verify(&sign(alg, kid_for(alg), &claims()), now()).await;
        assert_eq!(err.unwrap_err(), JwtError::AlgNotAllowed, "{alg:?}");
    }
}

#[tokio::test]
async fn alg_none_and_hmac_with_the_public_key_are_rejected() {
    let v = verifier().await;
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "kid": "rsa"})),
        b64(&claims())
    );
    assert_eq!(v.verify(&none, now()).await.unwrap_err(), JwtError::AlgNone);
    let none_sig = format!("{none}c2ln");
    assert_eq!(
        v.verify(&none_sig, now()).await.unwrap_err(),
        JwtError::AlgNone
    );

    // HS256 keyed with the RSA public key as published (the classic confusion attack).
    let public = serde_json::to_vec(&public_jwk(Algorithm::RS256, "rsa", false)).unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa".into());
    let hs = encode(&header, &claims(), &EncodingKey::from_secret(&public)).unwrap();
    assert_eq!(v.verify(&hs, now()).await.unwrap_err(), JwtError::AlgHmac);
}

#[tokio::test]
async fn psychic_signature_is_rejected() {
    let v = verifier().await;
    let token = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "ES256", "kid": "ec256", "typ": "JWT"})),
        b64(&claims()),
        URL_SAFE_NO_PAD.encode([0u8; 64])
    );
    assert_eq!(
        v.verify(&token, now()).await.unwrap_err(),
        JwtError::BadSignature
    );
}

#[tokio::test]
async fn embedded_keys_and_key_urls_are_never_used() {
    let v = verifier().await;
    let attacker = key_for(Algorithm::RS256, true);
    let mut attacker_jwk = Jwk::from_encoding_key(&attacker, Algorithm::RS256).unwrap();
    attacker_jwk.common.key_id = Some("rsa".into());
    for with_kid in ["rsa", "attacker"] {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(with_kid.into());
        header.jwk = Some(attacker_jwk.clone());
        header.jku = Some("http://127.0.0.1:1/evil.json".into());
        header.x5u = Some("http://127.0.0.1:1/evil.pem".into());
        let token = encode(&header, &claims(), &attacker).unwrap();
        let expected = if with_kid == "rsa" {
            JwtError::BadSignature
        } else {
            JwtError::UnknownKid
        };
        assert_eq!(v.verify(&token, now()).await.unwrap_err(), expected);
    }
    // No fetch was triggered towards any URL: only the prefetch happened.
    assert_eq!(v.cache(ISS).unwrap().fetcher().calls(), 1);
}

#[tokio::test]
async fn key_must_agree_with_the_token() {
    let v = verifier().await;
    // RSA token naming the EC key, and PS256 on a key pinned to RS256.
    let t = sign(Algorithm::RS256, "ec256", &claims());
    assert_eq!(
        v.verify(&t, now()).await.unwrap_err(),
        JwtError::KeyMismatch
    );
    let t = sign(Algorithm::PS256, "rsa-rs256-only", &claims());
    assert_eq!(
        v.verify(&t, now()).await.unwrap_err(),
        JwtError::KeyMismatch
    );
    let t = sign(Algorithm::ES384, "ec256", &claims());
    assert_eq!(
        v.verify(&t, now()).await.unwrap_err(),
        JwtError::KeyMismatch
    );
}

#[tokio::test]
async fn structure_size_and_header_rules() {
    let v = verifier().await;
    let good = sign(Algorithm::RS256, "rsa", &claims());
    let truncated = &good[..good.len() - 10];
    assert_eq!(
        v.verify(truncated, now()).await.unwrap_err(),
        JwtError::BadSignature
    );
    for garbage in [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "....",
        "!!.??.**",
        "eyJhbGciOiJSUzI1NiJ9.e30",
    ] {
        let e = v.verify(garbage, now()).await.unwrap_err();
        assert_eq!(e.code(), "malformed", "{garbage:?}");
    }
    let big = format!("{good}{}", "A".repeat(1 << 20));
    assert_eq!(
        v.verify(&big, now()).await.unwrap_err(),
        JwtError::TokenTooLarge { max: 16 * 1024 }
    );
    let crit = Header {
        crit: Some(vec!["b64".into()]),
        kid: Some("rsa".into()),
        ..Header::new(Algorithm::RS256)
    };
    let t = encode(&crit, &claims(), &key_for(Algorithm::RS256, false)).unwrap();
    assert_eq!(v.verify(&t, now()).await.unwrap_err(), JwtError::CritHeader);
    let no_kid = encode(
        &Header::new(Algorithm::RS256),
        &claims(),
        &key_for(Algorithm::RS256, false),
    )
    .unwrap();
    assert_eq!(
        v.verify(&no_kid, now()).await.unwrap_err(),
        JwtError::MissingKid
    );
}

#[tokio::test]
async fn typ_is_checked_when_configured() {
    let mut cfg = issuer(ISS, &[Algorithm::RS256]);
    cfg.typ = Some(vec!["at+jwt".into()]);
    let v = verifier_with(vec![cfg]).await;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rsa".into());
    let key = key_for(Algorithm::RS256, false);
    assert_eq!(
        v.verify(&encode(&header, &claims(), &key).unwrap(), now())
            .await
            .unwrap_err(),
        JwtError::WrongTyp
    );
    for typ in ["at+jwt", "AT+JWT", "application/at+jwt"] {
        header.typ = Some(typ.into());
        assert!(
            v.verify(&encode(&header, &claims(), &key).unwrap(), now())
                .await
                .is_ok(),
            "{typ}"
        );
    }
    header.typ = None;
    assert_eq!(
        v.verify(&encode(&header, &claims(), &key).unwrap(), now())
            .await
            .unwrap_err(),
        JwtError::WrongTyp
    );
}

#[tokio::test]
async fn claims_are_enforced_after_the_signature() {
    let v = verifier().await;
    let cases = [
        (json!({"exp": null}), JwtError::MissingExp),
        (json!({"exp": NOW - 1}), JwtError::Expired),
        (json!({"nbf": NOW + 60}), JwtError::NotYetValid),
        (json!({"iat": NOW + 60}), JwtError::IssuedInFuture),
        (json!({"aud": "someone-else"}), JwtError::WrongAudience),
        (json!({"sub": null}), JwtError::MissingSub),
        (
            json!({"iss": "https://evil.example.com"}),
            JwtError::UnknownIssuer,
        ),
        (json!({"iss": null}), JwtError::UnknownIssuer),
    ];
    for (change, expected) in cases {
        let mut c = claims();
        for (k, val) in change.as_object().unwrap() {
            if val.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = val.clone();
            }
        }
        let token = sign(Algorithm::RS256, "rsa", &c);
        assert_eq!(
            v.verify(&token, now()).await.unwrap_err(),
            expected,
            "{change}"
        );
    }
}

#[tokio::test]
async fn issuer_is_chosen_by_iss_and_keys_do_not_cross() {
    let b_keys = json!({"keys": [public_jwk(Algorithm::ES256, "b-key", true)]}).to_string();
    let v = Verifier::new(
        vec![
            issuer(ISS, &[Algorithm::RS256]),
            issuer(ISS_B, &[Algorithm::ES256]),
        ],
        CacheConfig::default(),
        16 * 1024,
        |cfg| {
            if cfg.rules.issuer == ISS_B {
                MemoryFetcher::new(b_keys.clone())
            } else {
                MemoryFetcher::new(jwks())
            }
        },
    );
    let t0 = Instant::now();
    assert!(v.prefetch(t0).await.iter().all(|(_, r)| r.is_ok()));
    let at = Now {
        unix: NOW,
        instant: t0,
    };
    let mut c = claims();
    c["iss"] = json!(ISS_B);
    let ok = v
        .verify(&sign(Algorithm::ES256, "b-key", &c), at)
        .await
        .unwrap();
    assert_eq!(ok.issuer, ISS_B);
    // Issuer A's kid is unknown under issuer B, and B's alg is not allowed for A.
    assert_eq!(
        v.verify(&sign(Algorithm::RS256, "rsa", &c), at)
            .await
            .unwrap_err(),
        JwtError::AlgNotAllowed
    );
    assert_eq!(
        v.verify(&sign(Algorithm::ES256, "ec256", &c), at)
            .await
            .unwrap_err(),
        JwtError::UnknownKid
    );
    let mut a = claims();
    a["iss"] = json!(ISS);
    assert_eq!(
        v.verify(&sign(Algorithm::ES256, "b-key", &a), at)
            .await
            .unwrap_err(),
        JwtError::AlgNotAllowed
    );
}
