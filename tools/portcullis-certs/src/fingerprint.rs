//! The pin: lower-case hex SHA-256 of a certificate's DER, the value `ORIGIN_CERT_SHA256` lists
//! (and what an authorizer computes from the `clientCertPem` API Gateway forwards).

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::files;

/// Lower-case hex SHA-256 of `der`.
pub fn sha256_hex(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The pin of the one certificate in the PEM file at `path`.
pub fn of_file(path: &Path) -> Result<String> {
    Ok(sha256_hex(&files::read_certificate(path)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate made with `openssl req -x509`; its pin from
    /// `openssl x509 -outform der | sha256sum`.
    const FIXTURE: &str = "\
-----BEGIN CERTIFICATE-----
MIIBkTCCATegAwIBAgIUN/6DNjRM0umtLjcBCwNaX6GZ+/8wCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTZmluZ2VycHJpbnQgZml4dHVyZTAeFw0yNjEyMDEwNDEzMTFa
Fw0zNjExMjgwNDEzMTFaMB4xHDAaBgNVBAMME2ZpbmdlcnByaW50IGZpeHR1cmUw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAT/ooM8lgbyUtD6oZVOXzQejHME/9EF
54OWC5+5Md+cr5RNAGgDBrIzod50BG1apy2ieh0nIQyJqb67H3NMkETuo1MwUTAd
BgNVHQ4EFgQUnmoeb2QIhrQHaHD6wh3/yNvMEfswHwYDVR0jBBgwFoAUnmoeb2QI
hrQHaHD6wh3/yNvMEfswDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF
AiEAlQmmntmDzYZ+n5dXJr7yG+v6JFbuqFo4aAsucnZiwDsCICmRdyZ0D5LQrhF5
P6H5wYag4ExAORJ9PhJNnQNKd+f4
-----END CERTIFICATE-----
";
    const FIXTURE_SHA256: &str = "278c65371d7a5bc9c7f9e514e2eada43582ff39661ab15cffb0b30039c358b7e";

    #[test]
    fn the_pin_of_a_known_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.pem");
        // CRLF line ends and text around the block change nothing.
        let text = format!(
            "subject=CN=fingerprint fixture\r\n{}",
            FIXTURE.replace('\n', "\r\n")
        );
        std::fs::write(&path, text).unwrap();
        assert_eq!(of_file(&path).unwrap(), FIXTURE_SHA256);
    }

    #[test]
    fn a_generated_certificate_pins_to_the_sha256_of_its_der() {
        use base64::Engine;
        let key = rcgen::KeyPair::generate().unwrap();
        let pem = rcgen::CertificateParams::default()
            .self_signed(&key)
            .unwrap()
            .pem();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.pem");
        std::fs::write(&path, &pem).unwrap();
        // Independently: strip the armour, decode base64, hash, hex.
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let expected: String = Sha256::digest(&der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(of_file(&path).unwrap(), expected);
    }
}
