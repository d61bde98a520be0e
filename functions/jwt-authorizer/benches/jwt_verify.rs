//! Criterion benchmarks of JWT verification per algorithm with the keys already cached: what
//! the JWT authorizer does on every warm request (parse, key lookup, signature, claims).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use jwt_authorizer::{
    CacheConfig, ClaimRules, IssuerConfig, JwksLocation, MemoryFetcher, Now, Verifier, algorithms,
};
use serde_json::{Value, json};

const RSA: &[u8] = include_bytes!("../src/testdata/rsa.pem");
const P256: &[u8] = include_bytes!("../src/testdata/p256.pem");
const P384: &[u8] = include_bytes!("../src/testdata/p384.pem");
const ED: &[u8] = include_bytes!("../src/testdata/ed25519.pem");
const ISS: &str = "https://idp.example.com";
const NOW: u64 = 1_800_000_000;

fn key_for(alg: Algorithm) -> EncodingKey {
    match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(P256).expect("p256"),
        Algorithm::ES384 => EncodingKey::from_ec_pem(P384).expect("p384"),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(ED).expect("ed25519"),
        _ => EncodingKey::from_rsa_pem(RSA).expect("rsa"),
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

fn jwk(alg: Algorithm) -> Value {
    let mut jwk = Jwk::from_encoding_key(&key_for(alg), alg).expect("public JWK");
    jwk.common.key_id = Some(kid_for(alg).into());
    jwk.common.key_algorithm = None;
    serde_json::to_value(jwk).expect("JWK JSON")
}

fn verify_per_algorithm(c: &mut Criterion) {
    // Before jsonwebtoken's first use (the JWKs below), as the function's init does.
    jwt_authorizer::crypto::install();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let keys = json!({"keys": [
        jwk(Algorithm::RS256), jwk(Algorithm::ES256), jwk(Algorithm::ES384), jwk(Algorithm::EdDSA)
    ]})
    .to_string()
    .into_bytes();
    let config = IssuerConfig {
        rules: ClaimRules {
            issuer: ISS.into(),
            audiences: vec!["api".into()],
            token_use: None,
            leeway: 0,
            max_token_age: None,
            required: vec![],
        },
        algorithms: algorithms::SUPPORTED.to_vec(),
        typ: None,
        jwks: JwksLocation::Discovery { issuer: ISS.into() },
    };
    let verifier = Verifier::new(vec![config], CacheConfig::default(), 16 * 1024, |_| {
        MemoryFetcher::new(keys.clone())
    });
    for (_, fetched) in runtime.block_on(verifier.prefetch(Instant::now())) {
        fetched.expect("keys load");
    }
    let now = Now {
        unix: NOW,
        instant: Instant::now() + Duration::from_secs(1),
    };
    let claims = json!({"iss": ISS, "aud": "api", "sub": "user-1", "exp": NOW + 600,
                        "iat": NOW - 5, "scope": "orders:read"});
    let mut group = c.benchmark_group("jwt_verify");
    for alg in algorithms::SUPPORTED {
        let mut header = Header::new(alg);
        header.kid = Some(kid_for(alg).into());
        let token = encode(&header, &claims, &key_for(alg)).expect("signed token");
        group.bench_function(algorithms::name(alg), |b| {
            b.iter(|| {
                runtime
                    .block_on(verifier.verify(black_box(&token), now))
                    .expect("valid token")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, verify_per_algorithm);
criterion_main!(benches);
