//! JWT verification: structured tokens (header and claims chosen by the fuzzer, signed with a
//! test key from `functions/jwt-authorizer/src/testdata`, then maybe mutated: a byte flipped, cut, a segment
//! replaced, `alg: none`, HS256 keyed with the public key, re-signed by an attacker key) and
//! raw token strings, presented in every token source (TOKEN `Bearer`, header, cookie, query)
//! to `jwt_authorizer::authorize` with an in-memory JWKS and a fixed clock.
//!
//! Asserts: no panic; a token is accepted only when it is the unmodified, validly signed
//! token and its generated claims pass the rules (computed here from the choices, not by the
//! verifier); an unmodified token with passing claims and the right key is accepted; the
//! decision renders as a valid response for the event's format; raw strings never pass.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use jwt_authorizer::{
    CacheConfig, ClaimRules, IssuerConfig, JwksLocation, MemoryFetcher, Now, RoutePolicy,
    TokenSource, Verifier, algorithms, authorize,
};
use portcullis::request::AuthorizerRequest;
use portcullis::response::{HttpApiResponseMode, render};
use serde_json::{Map, Value, json};

use crate::common::{Format, block_on, check_response, is_v2, template};

const RSA: &[u8] = include_bytes!("../../functions/jwt-authorizer/src/testdata/rsa.pem");
const RSA_ATTACKER: &[u8] =
    include_bytes!("../../functions/jwt-authorizer/src/testdata/rsa-attacker.pem");
const P256: &[u8] = include_bytes!("../../functions/jwt-authorizer/src/testdata/p256.pem");
const P384: &[u8] = include_bytes!("../../functions/jwt-authorizer/src/testdata/p384.pem");
const ED: &[u8] = include_bytes!("../../functions/jwt-authorizer/src/testdata/ed25519.pem");

const ISS: &str = "https://idp.example.com";
const NOW: u64 = 1_800_000_000;
const MAX_TOKEN_BYTES: usize = 16 * 1024;

struct Keys {
    rsa: EncodingKey,
    attacker: EncodingKey,
    p256: EncodingKey,
    p384: EncodingKey,
    ed: EncodingKey,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        rsa: EncodingKey::from_rsa_pem(RSA).expect("rsa"),
        attacker: EncodingKey::from_rsa_pem(RSA_ATTACKER).expect("attacker"),
        p256: EncodingKey::from_ec_pem(P256).expect("p256"),
        p384: EncodingKey::from_ec_pem(P384).expect("p384"),
        ed: EncodingKey::from_ed_pem(ED).expect("ed"),
    })
}

fn key_for(alg: Algorithm) -> &'static EncodingKey {
    let k = keys();
    match alg {
        Algorithm::ES256 => &k.p256,
        Algorithm::ES384 => &k.p384,
        Algorithm::EdDSA => &k.ed,
        _ => &k.rsa,
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

fn jwk(alg: Algorithm, kid: &str, pin: bool) -> Value {
    let mut jwk = Jwk::from_encoding_key(key_for(alg), alg).expect("jwk");
    jwk.common.key_id = Some(kid.into());
    if !pin {
        jwk.common.key_algorithm = None;
    }
    serde_json::to_value(jwk).expect("jwk json")
}

struct Setup {
    verifier: Verifier<MemoryFetcher>,
    routes: RoutePolicy,
    sources: Vec<TokenSource>,
    instant: Instant,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let jwks = json!({"keys": [
            jwk(Algorithm::RS256, "rsa", false),
            jwk(Algorithm::RS256, "rsa-rs256-only", true),
            jwk(Algorithm::ES256, "ec256", true),
            jwk(Algorithm::ES384, "ec384", true),
            jwk(Algorithm::EdDSA, "ed", true),
        ]})
        .to_string();
        let issuer = IssuerConfig {
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
        let verifier = Verifier::new(
            vec![issuer],
            CacheConfig::default(),
            MAX_TOKEN_BYTES,
            |_| MemoryFetcher::new(jwks.clone().into_bytes()),
        );
        let instant = Instant::now();
        for (_, r) in block_on(verifier.prefetch(instant)) {
            r.expect("prefetch");
        }
        Setup {
            verifier,
            routes: RoutePolicy::new(None).expect("routes"),
            sources: TokenSource::parse_list("header:authorization,cookie:at,query:access_token")
                .expect("sources"),
            instant,
        }
    })
}

/// Signing algorithm (index into the supported list).
#[derive(Debug, Arbitrary)]
enum KidChoice {
    /// The kid of the signing key.
    Right,
    /// The RSA key pinned to RS256.
    PinnedRs256,
    /// No kid.
    Missing,
    /// Anything.
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum Iss {
    Valid,
    Other(String),
    Missing,
    Number(u32),
}

#[derive(Debug, Arbitrary)]
enum Aud {
    Valid,
    InList(Vec<String>),
    Other(String),
    Missing,
    Empty,
}

#[derive(Debug, Arbitrary)]
enum Exp {
    Future(u16),
    Past(u16),
    Now,
    Missing,
    Text,
    Negative,
    Fraction,
}

#[derive(Debug, Arbitrary)]
enum Nbf {
    Missing,
    Past(u16),
    Future(u16),
}

#[derive(Debug, Arbitrary)]
enum Sub {
    Valid(String),
    Empty,
    Missing,
    Number(u32),
}

#[derive(Debug, Arbitrary)]
enum Mutation {
    None,
    Flip { at: u16, xor: u8 },
    Truncate(u16),
    Append(String),
    Header(String),
    Payload(String),
    AlgNone,
    HmacWithPublicKey,
    Attacker,
    SwapSignature,
}

#[derive(Debug, Arbitrary)]
struct TokenSpec {
    alg: u8,
    kid: KidChoice,
    iss: Iss,
    aud: Aud,
    exp: Exp,
    nbf: Nbf,
    iat_future: bool,
    sub: Sub,
    extra: Vec<(String, String)>,
    mutation: Mutation,
}

/// Where the token is presented.
#[derive(Debug, Arbitrary)]
enum Delivery {
    Token,
    Header(Format),
    Cookie,
    Query(Format),
}

#[derive(Debug, Arbitrary)]
enum Input {
    Structured(TokenSpec, Delivery),
    Raw(String, Delivery),
}

impl TokenSpec {
    fn alg(&self) -> Algorithm {
        algorithms::SUPPORTED[usize::from(self.alg) % algorithms::SUPPORTED.len()]
    }

    /// The claims, and whether they pass the issuer's rules (iss, aud, exp, nbf, iat, sub).
    fn claims(&self) -> (Value, bool) {
        let mut c = Map::new();
        for (k, v) in &self.extra {
            c.insert(k.clone(), json!(v));
        }
        let mut ok = true;
        let set = |c: &mut Map<String, Value>, k: &str, v: Option<Value>| match v {
            Some(v) => {
                c.insert(k.into(), v);
            }
            None => {
                c.remove(k);
            }
        };
        let iss = match &self.iss {
            Iss::Valid => Some(json!(ISS)),
            Iss::Other(s) => {
                ok &= s == ISS;
                Some(json!(s))
            }
            Iss::Missing => {
                ok = false;
                None
            }
            Iss::Number(n) => {
                ok = false;
                Some(json!(n))
            }
        };
        set(&mut c, "iss", iss);
        let aud = match &self.aud {
            Aud::Valid => Some(json!("api")),
            Aud::InList(list) => {
                let mut list = list.clone();
                list.push("api".into());
                Some(json!(list))
            }
            Aud::Other(s) => {
                ok &= s == "api";
                Some(json!(s))
            }
            Aud::Missing => {
                ok = false;
                None
            }
            Aud::Empty => {
                ok = false;
                Some(json!([]))
            }
        };
        set(&mut c, "aud", aud);
        let exp = match self.exp {
            Exp::Future(d) => Some(json!(NOW + 1 + u64::from(d))),
            Exp::Past(d) => {
                ok = false;
                Some(json!(NOW - u64::from(d)))
            }
            Exp::Now => {
                ok = false;
                Some(json!(NOW))
            }
            Exp::Missing => {
                ok = false;
                None
            }
            Exp::Text => {
                ok = false;
                Some(json!((NOW + 600).to_string()))
            }
            Exp::Negative => {
                ok = false;
                Some(json!(-1))
            }
            Exp::Fraction => Some(json!(NOW as f64 + 600.5)),
        };
        set(&mut c, "exp", exp);
        let nbf = match self.nbf {
            Nbf::Missing => None,
            Nbf::Past(d) => Some(json!(NOW - u64::from(d))),
            Nbf::Future(d) => {
                ok = false;
                Some(json!(NOW + 1 + u64::from(d)))
            }
        };
        set(&mut c, "nbf", nbf);
        if self.iat_future {
            ok = false;
            set(&mut c, "iat", Some(json!(NOW + 3600)));
        } else {
            set(&mut c, "iat", Some(json!(NOW - 5)));
        }
        let sub = match &self.sub {
            Sub::Valid(s) if !s.is_empty() => Some(json!(s)),
            Sub::Valid(_) | Sub::Empty => {
                ok = false;
                Some(json!(""))
            }
            Sub::Missing => {
                ok = false;
                None
            }
            Sub::Number(n) => {
                ok = false;
                Some(json!(n))
            }
        };
        set(&mut c, "sub", sub);
        (Value::Object(c), ok)
    }

    /// Whether the kid names a key the verifier may use for this algorithm.
    fn right_key(&self) -> bool {
        match &self.kid {
            KidChoice::Right => true,
            KidChoice::PinnedRs256 => self.alg() == Algorithm::RS256,
            KidChoice::Other(s) => s == kid_for(self.alg()),
            KidChoice::Missing => false,
        }
    }

    fn signed(&self, claims: &Value) -> String {
        let alg = self.alg();
        let mut header = Header::new(alg);
        header.kid = match &self.kid {
            KidChoice::Right => Some(kid_for(alg).into()),
            KidChoice::PinnedRs256 => Some("rsa-rs256-only".into()),
            KidChoice::Missing => None,
            KidChoice::Other(s) => Some(s.clone()),
        };
        encode(&header, claims, key_for(alg)).expect("sign")
    }

    fn mutate(&self, token: &str, claims: &Value) -> String {
        let segments: Vec<&str> = token.split('.').collect();
        let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
        match &self.mutation {
            Mutation::None => token.to_owned(),
            Mutation::Flip { at, xor } => {
                let mut bytes = token.as_bytes().to_vec();
                let at = usize::from(*at) % bytes.len();
                bytes[at] ^= xor | 1;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Mutation::Truncate(n) => token[..usize::from(*n) % token.len()].to_owned(),
            Mutation::Append(s) => format!("{token}{s}"),
            Mutation::Header(h) => format!("{}.{}.{}", b64(h), segments[1], segments[2]),
            Mutation::Payload(p) => format!("{}.{}.{}", segments[0], b64(p), segments[2]),
            Mutation::AlgNone => format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"}).to_string()),
                segments[1]
            ),
            Mutation::HmacWithPublicKey => {
                let mut header = Header::new(Algorithm::HS256);
                header.kid = Some(kid_for(self.alg()).into());
                let public = jwk(self.alg(), "x", false).to_string();
                encode(
                    &header,
                    claims,
                    &EncodingKey::from_secret(public.as_bytes()),
                )
                .expect("hmac")
            }
            Mutation::Attacker => {
                let mut header = Header::new(Algorithm::RS256);
                header.kid = Some("rsa".into());
                encode(&header, claims, &keys().attacker).expect("attacker")
            }
            Mutation::SwapSignature => {
                let other = encode(
                    &Header::new(Algorithm::ES256),
                    &json!({"iss": ISS, "sub": "someone-else"}),
                    &keys().p256,
                )
                .expect("other");
                let sig = other.rsplit('.').next().unwrap_or_default();
                format!("{}.{}.{sig}", segments[0], segments[1])
            }
        }
    }
}

impl Delivery {
    fn event(&self, token: &str) -> Value {
        let (format, how) = match self {
            Delivery::Token => (Format::RestToken, 0),
            Delivery::Header(f) => (*f, 1),
            Delivery::Cookie => (Format::HttpV2, 2),
            Delivery::Query(f) => (*f, 3),
        };
        let mut event = template(format);
        let obj = event.as_object_mut().expect("object");
        if format == Format::RestToken {
            obj.insert(
                "authorizationToken".into(),
                json!(format!("Bearer {token}")),
            );
            return event;
        }
        match how {
            1 => {
                obj["headers"]
                    .as_object_mut()
                    .expect("headers")
                    .insert("authorization".into(), json!(format!("Bearer {token}")));
            }
            2 => {
                obj.insert(
                    "cookies".into(),
                    json!(["theme=dark", format!("at={token}")]),
                );
            }
            _ => {
                if format == Format::HttpV2 {
                    let raw: String = url_encode(token);
                    obj.insert(
                        "rawQueryString".into(),
                        json!(format!("access_token={raw}")),
                    );
                } else {
                    obj.insert(
                        "queryStringParameters".into(),
                        json!({"access_token": token}),
                    );
                    obj.remove("multiValueQueryStringParameters");
                }
            }
        }
        event
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(input) = Input::arbitrary(&mut u) else {
        return;
    };
    match input {
        Input::Structured(spec, delivery) => {
            let (claims, claims_ok) = spec.claims();
            let original = spec.signed(&claims);
            let token = spec.mutate(&original, &claims);
            let unmodified = token == original;
            let (direct, via_event) = present(&token, &delivery);
            if direct || via_event {
                crate::count_allow();
                // The verifier takes the token byte for byte; a token source may drop the
                // whitespace around a header or cookie value (the same token).
                assert!(
                    if direct {
                        unmodified
                    } else {
                        token.trim() == original
                    },
                    "ACCEPTED a modified token (direct: {direct}): {spec:?}"
                );
                assert!(claims_ok, "ACCEPTED a token whose claims fail: {claims}");
            }
            if unmodified && claims_ok && spec.right_key() && token.len() <= MAX_TOKEN_BYTES {
                assert!(
                    direct && via_event,
                    "valid token refused: {spec:?} {claims}"
                );
            }
        }
        Input::Raw(token, delivery) => {
            let (direct, via_event) = present(&token, &delivery);
            assert!(!direct && !via_event, "ACCEPTED a raw string {token:?}");
        }
    }
}

/// Presents `token` to the verifier directly and in an event through `authorize`; returns
/// whether each accepted it (after checking the rendered response of an acceptance).
fn present(token: &str, delivery: &Delivery) -> (bool, bool) {
    let s = setup();
    let now = Now {
        unix: NOW,
        instant: s.instant + Duration::from_secs(1),
    };
    let direct = block_on(s.verifier.verify(token, now)).is_ok();
    let event = delivery.event(token);
    let Ok(request) = AuthorizerRequest::from_value(&event) else {
        // Only a token with characters no header may carry makes the sample event unusable.
        assert!(
            !crate::common::http_headers_valid(&event),
            "sample event rejected: {event}"
        );
        return (direct, false);
    };
    let outcome = block_on(authorize(
        &s.verifier,
        &s.routes,
        &s.sources,
        &[],
        &request,
        now,
    ));
    let Ok((_, decision)) = outcome else {
        return (direct, false);
    };
    for mode in [HttpApiResponseMode::Simple, HttpApiResponseMode::Iam] {
        let Ok(response) = render(&decision, &request, mode) else {
            // A simple response cannot carry a route-dependent policy unless the cache key
            // carries the route: refused (500), never an answer.
            assert!(
                !decision.policy.is_route_independent(),
                "a route-independent decision was refused"
            );
            continue;
        };
        let simple = is_v2(&event) && mode == HttpApiResponseMode::Simple;
        assert!(
            check_response(&response, simple),
            "accepted token without an Allow: {response}"
        );
    }
    (direct, true)
}
