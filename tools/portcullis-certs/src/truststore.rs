//! The API Gateway truststore: the CA certificates client certificates are verified against,
//! one PEM bundle. During a CA rotation it holds the old and the new CA.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::error::{Error, Result};
use crate::files;
use crate::fingerprint::sha256_hex;
use crate::issue::rfc3339;

/// One CA in a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The file it came from.
    pub source: PathBuf,
    /// E.g. `CN=portcullis origin CA`.
    pub subject: String,
    /// `notAfter`.
    pub not_after: OffsetDateTime,
    /// Its pin (for reference; pins name client certificates).
    pub sha256: String,
}

/// A truststore's contents.
#[derive(Debug)]
pub struct Bundle {
    /// The concatenated PEM certificates.
    pub pem: String,
    /// What it holds, in order.
    pub entries: Vec<Entry>,
}

/// Bundles every certificate of `inputs`, in order, each once. Refuses a certificate that is
/// no CA, or that has expired at `now`.
pub fn bundle(inputs: &[PathBuf], now: OffsetDateTime) -> Result<Bundle> {
    let mut pem = String::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for path in inputs {
        for (n, der) in files::read_certificates(path)?.into_iter().enumerate() {
            if seen.contains(&der) {
                continue;
            }
            entries.push(check(path, n + 1, &der, now)?);
            pem.push_str(&files::certificate_pem(&der));
            seen.push(der);
        }
    }
    Ok(Bundle { pem, entries })
}

fn check(path: &Path, n: usize, der: &[u8], now: OffsetDateTime) -> Result<Entry> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|_| Error::file(path, format!("certificate {n} is not X.509")))?;
    let subject = cert.subject().to_string();
    if !cert.is_ca() {
        return Err(Error::file(
            path,
            format!("certificate {n} ({subject}) is not a CA certificate"),
        ));
    }
    let not_after = cert.validity().not_after.to_datetime();
    if now >= not_after {
        return Err(Error::file(
            path,
            format!(
                "certificate {n} ({subject}) expired on {}",
                rfc3339(not_after)
            ),
        ));
    }
    Ok(Entry {
        source: path.to_path_buf(),
        subject,
        not_after,
        sha256: sha256_hex(der),
    })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use base64::Engine;
    use time::macros::datetime;

    use super::*;
    use crate::issue::{Ca, KeyType, Validity, new_ca};

    const NOW: OffsetDateTime = datetime!(2029-06-01 12:00:00 UTC);

    fn ca_file(dir: &Path, name: &str, cn: &str, validity: Validity) -> (PathBuf, Vec<u8>) {
        let ca = new_ca(cn, KeyType::EcdsaP256, validity).unwrap();
        let path = dir.join(name);
        fs::write(&path, &ca.cert_pem).unwrap();
        (path, ca.cert_der)
    }

    fn valid(days: u32) -> Validity {
        Validity::new(Some(datetime!(2029-01-01 0:00 UTC)), days, NOW, false).unwrap()
    }

    /// The DER blocks of a PEM text, decoded here, not by the code under test.
    fn ders(pem: &str) -> Vec<Vec<u8>> {
        pem.split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|block| {
                let b64: String = block
                    .split("-----END CERTIFICATE-----")
                    .next()
                    .unwrap()
                    .split_whitespace()
                    .collect();
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn old_and_new_ca_in_order_each_once() {
        let dir = tempfile::tempdir().unwrap();
        let (old, old_der) = ca_file(dir.path(), "old.pem", "CA 2029", valid(400));
        let (new, new_der) = ca_file(dir.path(), "new.pem", "CA 2030", valid(800));
        let b = bundle(&[old.clone(), new, old.clone()], NOW).unwrap();
        assert_eq!(ders(&b.pem), vec![old_der.clone(), new_der]);
        let subjects: Vec<&str> = b.entries.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(subjects, ["CN=CA 2029", "CN=CA 2030"]);
        assert_eq!(b.entries[0].source, old);
        // 2029-01-01 + 400 days.
        assert_eq!(b.entries[0].not_after, datetime!(2030-02-05 0:00 UTC));
        assert_eq!(b.entries[0].sha256, sha256_hex(&old_der));
    }

    #[test]
    fn an_expired_ca_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let old = Validity::new(Some(datetime!(2020-01-01 0:00 UTC)), 30, NOW, true).unwrap();
        let (path, _) = ca_file(dir.path(), "old.pem", "CA 2020", old);
        let err = bundle(std::slice::from_ref(&path), NOW)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "{}: certificate 1 (CN=CA 2020) expired on 2020-01-31T00:00:00Z",
                path.display()
            )
        );
    }

    #[test]
    fn a_client_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ca = new_ca("CA", KeyType::EcdsaP256, valid(400)).unwrap();
        fs::write(dir.path().join(crate::issue::CA_CERT_FILE), &ca.cert_pem).unwrap();
        files::write_new(
            &dir.path().join(crate::issue::CA_KEY_FILE),
            ca.key_pem.as_bytes(),
            files::Access::Private,
            false,
        )
        .unwrap();
        let leaf = Ca::load(dir.path(), NOW)
            .unwrap()
            .issue_client("cloudfront", KeyType::EcdsaP256, valid(300))
            .unwrap();
        let path = dir.path().join("both.pem");
        fs::write(&path, format!("{}{}", ca.cert_pem, leaf.cert_pem)).unwrap();
        let err = bundle(std::slice::from_ref(&path), NOW)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "{}: certificate 2 (CN=cloudfront) is not a CA certificate",
                path.display()
            )
        );
    }
}
