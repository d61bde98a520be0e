//! jsonwebtoken's aws-lc crypto with each JWKS key parsed once.
//!
//! jsonwebtoken hands its [`CryptoProvider`] the [`DecodingKey`] on every `decode`, and its
//! aws-lc provider parses that key again each time (for RS256 about 8 % of a `decode`'s
//! instructions; docs/bench.md).
//! [`install`] makes jsonwebtoken use a provider whose verifiers hold an aws-lc
//! [`ParsedPublicKey`], parsed the first time a key is used and kept for the process (keys come
//! only from the issuers' JWKS, so the set is small; it is bounded by [`MAX_PARSED`]). Decoding,
//! header checks and claim validation stay jsonwebtoken's; the aws-lc algorithms are the ones its
//! own provider uses. Anything else (HMAC, a key whose family does not fit the algorithm, a key
//! aws-lc will not parse) goes to jsonwebtoken's own provider, which answers as it always does.

use std::ptr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use aws_lc_rs::signature::{self as lc, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents};
use jsonwebtoken::crypto::{CryptoProvider, JwtVerifier, aws_lc::DEFAULT_PROVIDER};
use jsonwebtoken::errors::Result;
use jsonwebtoken::signature::{Error as SignatureError, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};

/// Parsed keys kept at most; past it the cache starts over (a JWKS holds a handful of keys).
pub const MAX_PARSED: usize = 64;

static PROVIDER: OnceLock<CryptoProvider> = OnceLock::new();
static PARSED: Mutex<Vec<Parsed>> = Mutex::new(Vec::new());

/// Make this provider jsonwebtoken's default for the process. Returns whether it is the one in
/// use: jsonwebtoken fixes its provider at its first use, so call this before any `decode`.
pub fn install() -> bool {
    let ours = PROVIDER.get_or_init(|| CryptoProvider {
        verifier_factory: verifier,
        ..DEFAULT_PROVIDER.clone()
    });
    match ours.install_default() {
        Ok(()) => true,
        Err(installed) => ptr::eq(installed, ours),
    }
}

/// One parsed key: the algorithm and key bytes it was parsed for.
struct Parsed {
    alg: Algorithm,
    material: (Vec<u8>, Vec<u8>),
    key: Arc<ParsedPublicKey>,
}

/// A jsonwebtoken verifier over a parsed key.
struct ParsedVerifier {
    alg: Algorithm,
    key: Arc<ParsedPublicKey>,
}

impl Verifier<Vec<u8>> for ParsedVerifier {
    fn verify(
        &self,
        message: &[u8],
        signature: &Vec<u8>,
    ) -> std::result::Result<(), SignatureError> {
        self.key
            .verify_sig(message, signature)
            .map_err(SignatureError::from_source)
    }
}

impl JwtVerifier for ParsedVerifier {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

/// The provider's `verifier_factory`.
fn verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    match parsed(*alg, key) {
        Some(key) => Ok(Box::new(ParsedVerifier { alg: *alg, key })),
        None => (DEFAULT_PROVIDER.verifier_factory)(alg, key),
    }
}

/// The parsed form of `key` for `alg`, parsing it on first use; `None` where jsonwebtoken's own
/// provider should answer.
fn parsed(alg: Algorithm, key: &DecodingKey) -> Option<Arc<ParsedPublicKey>> {
    if key.family() != alg.family() {
        return None;
    }
    let material: (&[u8], &[u8]) = match (alg.family(), key.kind()) {
        (AlgorithmFamily::Rsa, DecodingKeyKind::RsaModulusExponent { n, e }) => (n, e),
        (AlgorithmFamily::Ec | AlgorithmFamily::Ed, DecodingKeyKind::SecretOrDer(bytes)) => {
            (bytes, &[])
        }
        _ => return None,
    };
    let mut cache = PARSED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(hit) = find(&cache, alg, material) {
        return Some(hit);
    }
    let key = Arc::new(parse(alg, material)?);
    if cache.len() >= MAX_PARSED {
        cache.clear();
    }
    cache.push(Parsed {
        alg,
        material: (material.0.to_vec(), material.1.to_vec()),
        key: Arc::clone(&key),
    });
    Some(key)
}

fn find(
    cache: &[Parsed],
    alg: Algorithm,
    (first, second): (&[u8], &[u8]),
) -> Option<Arc<ParsedPublicKey>> {
    cache
        .iter()
        .find(|p| p.alg == alg && p.material.0 == first && p.material.1 == second)
        .map(|p| Arc::clone(&p.key))
}

/// Parse with the aws-lc algorithm jsonwebtoken's aws-lc provider uses for `alg`.
fn parse(alg: Algorithm, (first, second): (&[u8], &[u8])) -> Option<ParsedPublicKey> {
    let fixed: &'static dyn lc::VerificationAlgorithm = match alg {
        Algorithm::ES256 => &lc::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &lc::ECDSA_P384_SHA384_FIXED,
        Algorithm::EdDSA => &lc::ED25519,
        _ => {
            let components = RsaPublicKeyComponents {
                n: first,
                e: second,
            };
            return components.to_parsed_public_key(rsa_parameters(alg)?).ok();
        }
    };
    ParsedPublicKey::new(fixed, first).ok()
}

fn rsa_parameters(alg: Algorithm) -> Option<&'static RsaParameters> {
    Some(match alg {
        Algorithm::RS256 => &lc::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &lc::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &lc::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &lc::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &lc::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &lc::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{EncodingKey, Header, Validation};
    use serde_json::{Value, json};

    use super::*;

    /// The verifier tests' signing keys (`testdata/`): `key_for(alg, attacker)`.
    use crate::tests::key_for;

    /// The public key as the authorizer builds it from a JWKS entry (`keys.rs`).
    fn public_key(signing: &EncodingKey, alg: Algorithm) -> DecodingKey {
        install();
        DecodingKey::from_jwk(&Jwk::from_encoding_key(signing, alg).unwrap()).unwrap()
    }

    fn sign(message: &[u8], key: &EncodingKey, alg: Algorithm) -> Vec<u8> {
        use base64::Engine;
        install();
        let signature = jsonwebtoken::crypto::sign(message, key, alg).unwrap();
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .unwrap()
    }

    #[test]
    fn each_algorithm_verifies_its_own_signature_and_nothing_else() {
        for alg in crate::algorithms::SUPPORTED {
            let signing = key_for(alg, false);
            let key = public_key(&signing, alg);
            let signature = sign(b"header.payload", &signing, alg);
            let verifier = verifier(&alg, &key).unwrap();
            assert_eq!(verifier.algorithm(), alg);
            assert!(
                verifier.verify(b"header.payload", &signature).is_ok(),
                "{alg:?}"
            );
            assert!(
                verifier.verify(b"header.payloaD", &signature).is_err(),
                "{alg:?}"
            );
            let mut flipped = signature.clone();
            flipped[0] ^= 1;
            assert!(
                verifier.verify(b"header.payload", &flipped).is_err(),
                "{alg:?}"
            );
        }
    }

    #[test]
    fn a_key_is_parsed_once_per_algorithm_and_its_verifiers_use_it() {
        // A key and algorithms no other test parses, so the counts below are this test's own.
        let key = public_key(&key_for(Algorithm::RS384, true), Algorithm::RS384);
        let first = parsed(Algorithm::RS384, &key).unwrap();
        assert!(Arc::ptr_eq(
            &first,
            &parsed(Algorithm::RS384, &key).unwrap()
        ));
        let verifier = verifier(&Algorithm::RS384, &key).unwrap();
        // Held by the cache, by `first` and by the verifier.
        assert_eq!(Arc::strong_count(&first), 3);
        drop(verifier);
        assert_eq!(Arc::strong_count(&first), 2);
        let pss = parsed(Algorithm::PS512, &key).unwrap();
        assert!(!Arc::ptr_eq(&first, &pss), "PSS keeps its own parameters");
    }

    #[test]
    fn what_it_does_not_parse_goes_to_jsonwebtoken() {
        let rsa = public_key(&key_for(Algorithm::RS256, false), Algorithm::RS256);
        let secret = DecodingKey::from_secret(b"not an asymmetric key");
        assert!(parsed(Algorithm::HS256, &secret).is_none());
        assert!(parsed(Algorithm::ES256, &rsa).is_none());
        assert!(parsed(Algorithm::EdDSA, &rsa).is_none());
        // An RSA key in DER form is not how the authorizer holds keys: jsonwebtoken's path.
        assert!(parsed(Algorithm::RS256, &DecodingKey::from_rsa_der(b"\x30\x00")).is_none());
        // A key of the wrong family fails as jsonwebtoken's own provider fails it.
        let err = verifier(&Algorithm::ES256, &rsa).err().unwrap();
        assert_eq!(
            err.kind(),
            &jsonwebtoken::errors::ErrorKind::InvalidKeyFormat
        );
        // A public point that is not on the curve is not parsed, and cannot verify.
        let off_curve = DecodingKey::from_ec_der(&[4u8; 65]);
        assert!(parsed(Algorithm::ES256, &off_curve).is_none());
        let verifier = verifier(&Algorithm::ES256, &off_curve).unwrap();
        assert!(verifier.verify(b"m", &vec![0u8; 64]).is_err());
    }

    #[test]
    fn decode_goes_through_the_installed_provider() {
        assert!(install(), "jsonwebtoken took another provider first");
        // A key and algorithm no other test parses: only decode can have put it in the cache.
        let signing = key_for(Algorithm::PS384, true);
        let key = public_key(&signing, Algorithm::PS384);
        let material = match key.kind() {
            DecodingKeyKind::RsaModulusExponent { n, e } => (n.clone(), e.clone()),
            DecodingKeyKind::SecretOrDer(_) => unreachable!("an RSA JWK"),
        };
        let cached = || {
            let cache = PARSED.lock().unwrap();
            find(&cache, Algorithm::PS384, (&material.0, &material.1)).is_some()
        };
        assert!(!cached());
        let claims = json!({"sub": "user-1", "exp": 4_000_000_000u64});
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::PS384), &claims, &signing).unwrap();
        let mut validation = Validation::new(Algorithm::PS384);
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
        assert_eq!(data.claims, claims);
        assert!(cached());
    }
}
