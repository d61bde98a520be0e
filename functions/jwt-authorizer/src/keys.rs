//! A parsed JSON Web Key Set: only public signature keys we can use, indexed by `kid`.
//!
//! Keys are built once per fetch (not per token). Entries that are not usable signature keys
//! (`use: enc`, `key_ops` without `verify`, `oct`/HMAC keys, unknown `kty`/`crv`, RSA below
//! 2048 bits, no `kid`) are skipped; a set with no usable key is an error so a garbage
//! response never replaces a good set.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use super::algorithms;
use super::error::{FetchError, JwtError};

/// Key type and curve of a usable key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `kty: RSA` (RS*/PS*).
    Rsa,
    /// `kty: EC, crv: P-256` (ES256).
    EcP256,
    /// `kty: EC, crv: P-384` (ES384).
    EcP384,
    /// `kty: OKP, crv: Ed25519` (EdDSA).
    Ed25519,
}

impl KeyKind {
    /// Whether a token signed with `alg` may be verified with a key of this kind.
    pub fn fits(self, alg: Algorithm) -> bool {
        matches!(
            (self, alg),
            (
                KeyKind::Rsa,
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ) | (KeyKind::EcP256, Algorithm::ES256)
                | (KeyKind::EcP384, Algorithm::ES384)
                | (KeyKind::Ed25519, Algorithm::EdDSA)
        )
    }
}

/// One usable verification key.
#[derive(Clone)]
pub struct VerifyingKey {
    /// The `kid` it is published under.
    pub kid: String,
    /// Key type and curve.
    pub kind: KeyKind,
    /// The key's own `alg`, when the JWKS states one; it must then equal the token's.
    pub alg: Option<Algorithm>,
    /// The key, ready for jsonwebtoken.
    pub decoding: DecodingKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("kind", &self.kind)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Check that this key may verify a token with header `alg`.
    pub fn check_fits(&self, alg: Algorithm) -> Result<(), JwtError> {
        if !self.kind.fits(alg) || self.alg.is_some_and(|a| a != alg) {
            return Err(JwtError::KeyMismatch);
        }
        Ok(())
    }
}

/// The usable keys of one issuer, by `kid`.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, Arc<VerifyingKey>>,
}

impl KeySet {
    /// Parse a JWKS document, keeping at most `max_keys` usable keys (more is an error).
    pub fn parse(body: &[u8], max_keys: usize) -> Result<KeySet, FetchError> {
        let doc: Value = serde_json::from_slice(body)
            .map_err(|_| FetchError::Invalid("JWKS is not JSON".into()))?;
        let entries = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| FetchError::Invalid("JWKS has no keys array".into()))?;
        if entries.len() > max_keys {
            return Err(FetchError::Invalid(format!(
                "JWKS has {} keys, more than the cap of {max_keys}",
                entries.len()
            )));
        }
        let mut keys = HashMap::new();
        for entry in entries {
            if let Some(key) = parse_key(entry) {
                // The first key published under a kid wins; later duplicates are ignored.
                keys.entry(key.kid.clone()).or_insert_with(|| Arc::new(key));
            }
        }
        if keys.is_empty() {
            return Err(FetchError::Invalid(
                "JWKS has no usable signature key".into(),
            ));
        }
        Ok(KeySet { keys })
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&Arc<VerifyingKey>> {
        self.keys.get(kid)
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn b64(value: &Value, field: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(value.get(field)?.as_str()?.as_bytes())
        .ok()
}

fn parse_key(entry: &Value) -> Option<VerifyingKey> {
    let kid = entry.get("kid")?.as_str()?.to_owned();
    if kid.is_empty() {
        return None;
    }
    if let Some(usage) = entry.get("use")
        && usage.as_str() != Some("sig")
    {
        return None;
    }
    if let Some(ops) = entry.get("key_ops")
        && !ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")))
    {
        return None;
    }
    let alg = match entry.get("alg") {
        None => None,
        Some(v) => Some(algorithms::from_name(v.as_str()?).ok()?),
    };
    let kty = entry.get("kty")?.as_str()?;
    let crv = entry.get("crv").and_then(Value::as_str);
    let (kind, decoding) = match (kty, crv) {
        ("RSA", _) => {
            let n = b64(entry, "n")?;
            let e = b64(entry, "e")?;
            let significant = n.iter().skip_while(|b| **b == 0).count();
            if significant < 256 || e.is_empty() || e.len() > 8 {
                return None; // below 2048 bits, or a nonsensical exponent
            }
            (KeyKind::Rsa, DecodingKey::from_rsa_raw_components(&n, &e))
        }
        ("EC", Some(curve @ ("P-256" | "P-384"))) => {
            let (kind, len) = if curve == "P-256" {
                (KeyKind::EcP256, 32)
            } else {
                (KeyKind::EcP384, 48)
            };
            let x = b64(entry, "x")?;
            let y = b64(entry, "y")?;
            if x.len() != len || y.len() != len {
                return None;
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (kind, DecodingKey::from_ec_der(&point))
        }
        ("OKP", Some("Ed25519")) => {
            let x = b64(entry, "x")?;
            if x.len() != 32 {
                return None;
            }
            (KeyKind::Ed25519, DecodingKey::from_ed_der(&x))
        }
        _ => return None,
    };
    if alg.is_some_and(|a| !kind.fits(a)) {
        return None;
    }
    Some(VerifyingKey {
        kid,
        kind,
        alg,
        decoding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rsa_n(bytes: usize) -> String {
        let mut n = vec![0xC5u8; bytes];
        n[bytes - 1] = 0x01;
        URL_SAFE_NO_PAD.encode(n)
    }

    fn ec_coord(len: usize) -> String {
        URL_SAFE_NO_PAD.encode(vec![7u8; len])
    }

    fn parse(keys: Value) -> Result<KeySet, FetchError> {
        KeySet::parse(json!({ "keys": keys }).to_string().as_bytes(), 10)
    }

    #[test]
    fn keeps_usable_signature_keys_by_kid() {
        let set = parse(json!([
            {"kid": "r", "kty": "RSA", "n": rsa_n(256), "e": "AQAB", "use": "sig", "alg": "RS256"},
            {"kid": "e", "kty": "EC", "crv": "P-256", "x": ec_coord(32), "y": ec_coord(32)},
            {"kid": "e3", "kty": "EC", "crv": "P-384", "x": ec_coord(48), "y": ec_coord(48)},
            {"kid": "o", "kty": "OKP", "crv": "Ed25519", "x": ec_coord(32), "key_ops": ["verify"]},
        ]))
        .unwrap();
        assert_eq!(set.len(), 4);
        assert_eq!(set.get("r").unwrap().kind, KeyKind::Rsa);
        assert_eq!(set.get("r").unwrap().alg, Some(Algorithm::RS256));
        assert_eq!(set.get("e").unwrap().kind, KeyKind::EcP256);
        assert_eq!(set.get("e3").unwrap().kind, KeyKind::EcP384);
        assert_eq!(set.get("o").unwrap().kind, KeyKind::Ed25519);
    }

    #[test]
    fn skips_unusable_entries() {
        let keys = json!([
            {"kid": "good", "kty": "RSA", "n": rsa_n(256), "e": "AQAB"},
            {"kid": "enc", "kty": "RSA", "n": rsa_n(256), "e": "AQAB", "use": "enc"},
            {"kid": "ops", "kty": "RSA", "n": rsa_n(256), "e": "AQAB", "key_ops": ["encrypt"]},
            {"kid": "small", "kty": "RSA", "n": rsa_n(128), "e": "AQAB"},
            {"kid": "hmac", "kty": "oct", "k": "c2VjcmV0"},
            {"kid": "hsalg", "kty": "RSA", "n": rsa_n(256), "e": "AQAB", "alg": "HS256"},
            {"kid": "oaep", "kty": "RSA", "n": rsa_n(256), "e": "AQAB", "alg": "RSA-OAEP"},
            {"kid": "wrongalg", "kty": "EC", "crv": "P-256", "x": ec_coord(32), "y": ec_coord(32), "alg": "RS256"},
            {"kid": "p521", "kty": "EC", "crv": "P-521", "x": ec_coord(66), "y": ec_coord(66)},
            {"kid": "shortx", "kty": "EC", "crv": "P-256", "x": ec_coord(31), "y": ec_coord(32)},
            {"kid": "x448", "kty": "OKP", "crv": "Ed448", "x": ec_coord(57)},
            {"kty": "RSA", "n": rsa_n(256), "e": "AQAB"},
            {"kid": "", "kty": "RSA", "n": rsa_n(256), "e": "AQAB"},
            "not an object",
        ]);
        let set = KeySet::parse(json!({ "keys": keys }).to_string().as_bytes(), 20).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.get("good").is_some());
    }

    #[test]
    fn garbage_empty_and_oversized_sets_are_errors() {
        assert!(KeySet::parse(b"<html>", 10).is_err());
        assert!(KeySet::parse(b"{}", 10).is_err());
        assert!(parse(json!([])).is_err());
        assert!(parse(json!([{"kid": "hmac", "kty": "oct", "k": "c2VjcmV0"}])).is_err());
        let many: Vec<Value> = (0..11)
            .map(|i| json!({"kid": i.to_string(), "kty": "RSA", "n": rsa_n(256), "e": "AQAB"}))
            .collect();
        assert!(parse(Value::Array(many)).is_err());
    }

    #[test]
    fn key_must_fit_the_token_algorithm() {
        let set = parse(json!([
            {"kid": "r", "kty": "RSA", "n": rsa_n(256), "e": "AQAB", "alg": "PS256"},
            {"kid": "any", "kty": "RSA", "n": rsa_n(256), "e": "AQAB"},
            {"kid": "e", "kty": "EC", "crv": "P-256", "x": ec_coord(32), "y": ec_coord(32)},
        ]))
        .unwrap();
        let r = set.get("r").unwrap();
        assert_eq!(r.check_fits(Algorithm::PS256), Ok(()));
        assert_eq!(r.check_fits(Algorithm::RS256), Err(JwtError::KeyMismatch));
        let any = set.get("any").unwrap();
        assert_eq!(any.check_fits(Algorithm::RS512), Ok(()));
        assert_eq!(any.check_fits(Algorithm::ES256), Err(JwtError::KeyMismatch));
        let e = set.get("e").unwrap();
        assert_eq!(e.check_fits(Algorithm::ES384), Err(JwtError::KeyMismatch));
        assert_eq!(e.check_fits(Algorithm::EdDSA), Err(JwtError::KeyMismatch));
    }
}
