//! API keys: stored as SHA-256 digests, looked up in constant time per entry.

use sha2::{Digest, Sha256};

/// SHA-256 of a key value as 64 lower-case hex digits: what a rules document stores.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(digest(key))
}

pub(crate) fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Decodes a document's `sha256` value. The error never quotes the value: an operator who
/// pasted the plaintext key must not find it in the logs.
pub(crate) fn parse_digest(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let mut out = [0u8; 32];
    if text.len() == 64 && hex::decode_to_slice(text, &mut out).is_ok() {
        return Ok(out);
    }
    Err(format!(
        "expected the SHA-256 of the key as 64 hex digits, got a {}-character value that is not \
         one (a plaintext key?); store only the hash: `portcullis-hash-key` prints the entry",
        text.chars().count()
    ))
}

/// Every key digest of a rule set with the index of its owner. Lookups compare the presented
/// digest with every entry in constant time and never stop early.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyIndex {
    entries: Vec<KeyEntry>,
}

#[derive(Debug, Clone)]
struct KeyEntry {
    digest: [u8; 32],
    tenant: usize,
    key: usize,
}

impl KeyIndex {
    pub(crate) fn push(&mut self, digest: [u8; 32], tenant: usize, key: usize) {
        self.entries.push(KeyEntry {
            digest,
            tenant,
            key,
        });
    }

    /// `(tenant index, key index)` of a digest already present, for duplicate detection.
    pub(crate) fn position(&self, digest: &[u8; 32]) -> Option<(usize, usize)> {
        self.find(digest)
    }

    /// `(tenant index, key index)` owning the presented key, if any.
    pub(crate) fn lookup(&self, presented: &str) -> Option<(usize, usize)> {
        self.find(&digest(presented))
    }

    fn find(&self, digest: &[u8; 32]) -> Option<(usize, usize)> {
        let mut found = None;
        for entry in &self.entries {
            if constant_time_eq::constant_time_eq_32(digest, &entry.digest) {
                found = Some((entry.tenant, entry.key));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_a_known_vector() {
        // FIPS 180-2 test vector for "abc".
        assert_eq!(
            hash_api_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn digest_parsing_rejects_plaintext_without_echoing_it() {
        let err = parse_digest("my-secret-api-key-1234567890").unwrap_err();
        assert!(!err.contains("my-secret"), "{err}");
        assert!(err.contains("28-character"), "{err}");
        assert!(parse_digest(&"g".repeat(64)).is_err());
        assert!(parse_digest(&"a".repeat(63)).is_err());
        let upper = hash_api_key("abc").to_uppercase();
        assert_eq!(parse_digest(&upper).unwrap(), digest("abc"));
    }

    #[test]
    fn lookup_finds_the_owner() {
        let mut index = KeyIndex::default();
        index.push(digest("k-one"), 0, 0);
        index.push(digest("k-two"), 1, 0);
        index.push(digest("k-three"), 1, 1);
        assert_eq!(index.lookup("k-one"), Some((0, 0)));
        assert_eq!(index.lookup("k-three"), Some((1, 1)));
        assert_eq!(index.lookup("k-four"), None);
        assert_eq!(index.lookup(""), None);
    }
}
