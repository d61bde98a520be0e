//! The certificates: a private CA, and the client certificate it issues for CloudFront to
//! present to API Gateway (what CloudFront origin mTLS accepts: RSA 2048 or ECDSA P-256, a
//! SHA-256 signature, extended key usage TLS client authentication).

use std::fmt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256, PublicKeyData,
};
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::error::{Error, Result};
use crate::files;

/// The CA certificate in a CA directory.
pub const CA_CERT_FILE: &str = "ca-certificate.pem";
/// The CA private key in a CA directory.
pub const CA_KEY_FILE: &str = "ca-private-key.pem";
/// The client certificate (`aws acm import-certificate --certificate`).
pub const CERT_FILE: &str = "certificate.pem";
/// The client private key (`--private-key`).
pub const KEY_FILE: &str = "private-key.pem";
/// The issuing CA's certificate (`--certificate-chain`).
pub const CHAIN_FILE: &str = "certificate-chain.pem";

/// How far before "now" validity starts by default, for clocks running behind.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Longest accepted common name (X.520 `ub-common-name`).
const MAX_CN_LEN: usize = 64;

/// The key algorithms CloudFront origin mTLS accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum KeyType {
    /// ECDSA P-256, signatures ECDSA with SHA-256.
    #[default]
    #[value(name = "ecdsa-p256")]
    EcdsaP256,
    /// RSA 2048, signatures PKCS#1 v1.5 with SHA-256.
    #[value(name = "rsa-2048")]
    Rsa2048,
}

impl KeyType {
    fn generate(self) -> Result<KeyPair> {
        let generated = match self {
            Self::EcdsaP256 => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256),
            Self::Rsa2048 => KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048),
        };
        generated.map_err(|e| Error::Generate(e.to_string()))
    }
}

/// A certificate's validity period, whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// `notBefore`.
    pub not_before: OffsetDateTime,
    /// `notAfter`.
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// `days` from `not_before`, by default from [`CLOCK_SKEW`] before `now`. Refuses a period
    /// already over at `now` unless `allow_expired`.
    pub fn new(
        not_before: Option<OffsetDateTime>,
        days: u32,
        now: OffsetDateTime,
        allow_expired: bool,
    ) -> Result<Self> {
        let not_before = not_before
            .unwrap_or(now - CLOCK_SKEW)
            .replace_nanosecond(0)
            .map_err(|e| Error::Refused(e.to_string()))?;
        let not_after = not_before
            .checked_add(Duration::days(i64::from(days)))
            .ok_or_else(|| Error::Refused("--not-before plus --days is out of range".into()))?;
        if not_after <= now && !allow_expired {
            return Err(Error::Refused(format!(
                "the certificate would have expired on {} (pass --allow-expired to issue it anyway)",
                rfc3339(not_after)
            )));
        }
        Ok(Self {
            not_before,
            not_after,
        })
    }
}

/// A private key in PEM. Its `Debug` never shows it.
pub struct PrivateKeyPem(String);

impl PrivateKeyPem {
    /// The PEM text, for writing to a 0600 file.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for PrivateKeyPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKeyPem([elided])")
    }
}

/// A new certificate and its private key.
#[derive(Debug)]
pub struct Issued {
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The subject's private key (PKCS#8), PEM.
    pub key_pem: PrivateKeyPem,
}

impl Issued {
    fn new(cert: &rcgen::Certificate, key: &KeyPair) -> Self {
        Self {
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            key_pem: PrivateKeyPem(key.serialize_pem()),
        }
    }
}

fn common_name(cn: &str) -> Result<DistinguishedName> {
    if cn.trim().is_empty() || cn.chars().count() > MAX_CN_LEN || cn.chars().any(char::is_control) {
        return Err(Error::Refused(format!(
            "the common name must be 1 to {MAX_CN_LEN} printable characters"
        )));
    }
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    Ok(dn)
}

/// A new private CA: a self-signed certificate that may sign end-entity certificates only
/// (path length 0).
pub fn new_ca(cn: &str, key_type: KeyType, validity: Validity) -> Result<Issued> {
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name(cn)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    let key = key_type.generate()?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| Error::Generate(e.to_string()))?;
    Ok(Issued::new(&cert, &key))
}

/// A CA loaded from its directory, ready to sign.
pub struct Ca {
    cert_path: PathBuf,
    cert_der: Vec<u8>,
    subject: String,
    not_after: OffsetDateTime,
    issuer: Issuer<'static, KeyPair>,
}

impl fmt::Debug for Ca {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ca")
            .field("cert_path", &self.cert_path)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl Ca {
    /// Loads [`CA_CERT_FILE`] and [`CA_KEY_FILE`] from `dir`. Refuses a certificate that is no
    /// CA or not valid at `now`, and a key that is not the certificate's.
    pub fn load(dir: &Path, now: OffsetDateTime) -> Result<Self> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        let cert_der = files::read_certificate(&cert_path)?;
        let (_, x509) = X509Certificate::from_der(&cert_der)
            .map_err(|_| Error::file(&cert_path, "not an X.509 certificate"))?;
        if !x509.is_ca() {
            return Err(Error::file(
                &cert_path,
                "not a CA certificate (no basicConstraints CA:TRUE)",
            ));
        }
        if let Ok(Some(ku)) = x509.key_usage()
            && !ku.value.key_cert_sign()
        {
            return Err(Error::file(&cert_path, "its key usage lacks keyCertSign"));
        }
        let not_before = x509.validity().not_before.to_datetime();
        let not_after = x509.validity().not_after.to_datetime();
        if now >= not_after {
            return Err(Error::file(
                &cert_path,
                format!("the CA expired on {}", rfc3339(not_after)),
            ));
        }
        if now < not_before {
            return Err(Error::file(
                &cert_path,
                format!("the CA is not valid before {}", rfc3339(not_before)),
            ));
        }
        let subject = x509.subject().to_string();
        let spki = x509.public_key().raw.to_vec();
        let key = files::read_private_key(&key_path)?;
        if key.subject_public_key_info() != spki {
            return Err(Error::file(
                &key_path,
                format!("not the private key of {}", cert_path.display()),
            ));
        }
        let issuer = Issuer::from_ca_cert_der(&cert_der.clone().into(), key)
            .map_err(|_| Error::file(&cert_path, "unusable as an issuer"))?;
        Ok(Self {
            cert_path,
            cert_der,
            subject,
            not_after,
            issuer,
        })
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The CA's subject, e.g. `CN=portcullis origin CA`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Issues a TLS client certificate (extended key usage clientAuth only, CA:FALSE). Refuses
    /// one that would outlive this CA.
    pub fn issue_client(&self, cn: &str, key_type: KeyType, validity: Validity) -> Result<Issued> {
        if validity.not_after > self.not_after {
            return Err(Error::Refused(format!(
                "the certificate would outlive its CA ({} expires {}); issue it for fewer days \
                 or rotate the CA first",
                self.cert_path.display(),
                rfc3339(self.not_after)
            )));
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = common_name(cn)?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = validity.not_before;
        params.not_after = validity.not_after;
        let key = key_type.generate()?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| Error::Generate(e.to_string()))?;
        Ok(Issued::new(&cert, &key))
    }
}

/// `2026-01-31T00:00:00Z`.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use time::macros::datetime;
    use x509_parser::oid_registry::{
        OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION, OID_PKCS1_SHA256WITHRSA,
        OID_SIG_ECDSA_WITH_SHA256,
    };
    use x509_parser::public_key::PublicKey;

    use super::*;

    /// Before every validity used here.
    const NOW: OffsetDateTime = datetime!(2029-06-01 12:00:00 UTC);

    fn validity(from: OffsetDateTime, days: u32) -> Validity {
        Validity::new(Some(from), days, NOW, false).unwrap()
    }

    /// Writes `ca` to a fresh directory the way the `ca` command does and loads it back.
    fn saved(ca: &Issued) -> (tempfile::TempDir, Ca) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(CA_CERT_FILE), &ca.cert_pem).unwrap();
        let key = dir.path().join(CA_KEY_FILE);
        files::write_new(&key, ca.key_pem.as_bytes(), files::Access::Private, false).unwrap();
        let loaded = Ca::load(dir.path(), NOW).unwrap();
        (dir, loaded)
    }

    fn test_ca() -> Issued {
        new_ca(
            "Test CA",
            KeyType::EcdsaP256,
            validity(datetime!(2029-01-01 0:00 UTC), 3650),
        )
        .unwrap()
    }

    fn parse(der: &[u8]) -> X509Certificate<'_> {
        let (rest, cert) = X509Certificate::from_der(der).unwrap();
        assert!(rest.is_empty());
        cert
    }

    #[test]
    fn the_ca_is_self_signed_and_signs_end_entities_only() {
        let ca = new_ca(
            "Test CA",
            KeyType::EcdsaP256,
            validity(datetime!(2030-01-01 0:00 UTC), 10),
        )
        .unwrap();
        let cert = parse(&ca.cert_der);
        assert_eq!(cert.subject().to_string(), "CN=Test CA");
        assert_eq!(cert.issuer().to_string(), "CN=Test CA");
        cert.verify_signature(None).unwrap();
        let bc = cert.basic_constraints().unwrap().unwrap();
        assert!(bc.critical);
        assert!(bc.value.ca);
        assert_eq!(bc.value.path_len_constraint, Some(0));
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.key_cert_sign() && ku.crl_sign() && !ku.digital_signature());
        assert!(cert.extended_key_usage().unwrap().is_none());
        // 2030-01-01T00:00:00Z and ten days later.
        assert_eq!(cert.validity().not_before.timestamp(), 1_893_456_000);
        assert_eq!(cert.validity().not_after.timestamp(), 1_894_320_000);
    }

    #[test]
    fn the_client_certificate_is_issued_by_the_ca_for_client_auth_only() {
        let ca_issued = test_ca();
        let (_dir, ca) = saved(&ca_issued);
        let client = ca
            .issue_client(
                "cloudfront-origin",
                KeyType::EcdsaP256,
                validity(datetime!(2030-01-01 0:00 UTC), 30),
            )
            .unwrap();
        let ca_cert = parse(&ca_issued.cert_der);
        let cert = parse(&client.cert_der);

        assert_eq!(cert.subject().to_string(), "CN=cloudfront-origin");
        assert_eq!(cert.issuer().to_string(), "CN=Test CA");
        assert_eq!(cert.issuer().as_raw(), ca_cert.subject().as_raw());
        cert.verify_signature(Some(ca_cert.public_key())).unwrap();
        assert!(cert.verify_signature(None).is_err(), "not self-signed");

        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.client_auth);
        assert!(!eku.server_auth && !eku.any && eku.other.is_empty());
        let bc = cert.basic_constraints().unwrap().unwrap().value;
        assert!(!bc.ca);
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && !ku.key_cert_sign());

        assert_eq!(
            cert.public_key().algorithm.algorithm,
            OID_KEY_TYPE_EC_PUBLIC_KEY
        );
        assert_eq!(
            cert.signature_algorithm.algorithm,
            OID_SIG_ECDSA_WITH_SHA256
        );
        // 2030-01-01T00:00:00Z and thirty days later.
        assert_eq!(cert.validity().not_before.timestamp(), 1_893_456_000);
        assert_eq!(cert.validity().not_after.timestamp(), 1_896_048_000);
    }

    #[test]
    fn the_private_key_is_the_certificates() {
        let (_dir, ca) = saved(&test_ca());
        let client = ca
            .issue_client("c", KeyType::EcdsaP256, validity(NOW, 1))
            .unwrap();
        let pem = std::str::from_utf8(client.key_pem.as_bytes()).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "PKCS#8");
        let key = KeyPair::from_pem(pem).unwrap();
        assert_eq!(
            key.subject_public_key_info(),
            parse(&client.cert_der).public_key().raw
        );
    }

    #[test]
    fn rsa_2048_keys_sign_with_sha256() {
        let ca = new_ca("RSA CA", KeyType::Rsa2048, validity(NOW, 30)).unwrap();
        let (_dir, ca) = saved(&ca);
        let client = ca
            .issue_client("c", KeyType::Rsa2048, validity(NOW, 1))
            .unwrap();
        let cert = parse(&client.cert_der);
        assert_eq!(
            cert.public_key().algorithm.algorithm,
            OID_PKCS1_RSAENCRYPTION
        );
        let PublicKey::RSA(rsa) = cert.public_key().parsed().unwrap() else {
            panic!("not RSA");
        };
        assert_eq!(rsa.key_size(), 2048);
        assert_eq!(cert.signature_algorithm.algorithm, OID_PKCS1_SHA256WITHRSA);
    }

    #[test]
    fn default_validity_starts_five_minutes_before_now() {
        let v = Validity::new(None, 365, datetime!(2029-06-01 12:00:00.75 UTC), false).unwrap();
        assert_eq!(v.not_before, datetime!(2029-06-01 11:55:00 UTC));
        assert_eq!(v.not_after, datetime!(2030-06-01 11:55:00 UTC));
    }

    #[test]
    fn an_already_expired_validity_needs_allow_expired() {
        let from = Some(datetime!(2020-01-01 0:00 UTC));
        let err = Validity::new(from, 30, NOW, false).unwrap_err().to_string();
        assert_eq!(
            err,
            "the certificate would have expired on 2020-01-31T00:00:00Z \
             (pass --allow-expired to issue it anyway)"
        );
        let v = Validity::new(from, 30, NOW, true).unwrap();
        assert_eq!(v.not_after, datetime!(2020-01-31 0:00 UTC));
    }

    #[test]
    fn a_client_certificate_may_not_outlive_its_ca() {
        // The CA ends 2029-01-01 + 3650 days = 2038-12-30.
        let (dir, ca) = saved(&test_ca());
        let err = ca
            .issue_client(
                "c",
                KeyType::EcdsaP256,
                validity(datetime!(2038-12-29 0:00:01 UTC), 1),
            )
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "the certificate would outlive its CA ({} expires 2038-12-30T00:00:00Z); \
                 issue it for fewer days or rotate the CA first",
                dir.path().join(CA_CERT_FILE).display()
            )
        );
        ca.issue_client(
            "c",
            KeyType::EcdsaP256,
            validity(datetime!(2038-12-29 0:00 UTC), 1),
        )
        .unwrap();
    }

    #[test]
    fn loading_refuses_a_mismatched_key() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (test_ca(), test_ca());
        fs::write(dir.path().join(CA_CERT_FILE), &a.cert_pem).unwrap();
        let key = dir.path().join(CA_KEY_FILE);
        files::write_new(&key, b.key_pem.as_bytes(), files::Access::Private, false).unwrap();
        let err = Ca::load(dir.path(), NOW).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: not the private key of {}",
                key.display(),
                dir.path().join(CA_CERT_FILE).display()
            )
        );
    }

    #[test]
    fn loading_refuses_a_certificate_that_is_no_ca() {
        let (_dir, ca) = saved(&test_ca());
        let leaf = ca
            .issue_client("c", KeyType::EcdsaP256, validity(NOW, 1))
            .unwrap();
        let err = Ca::load(saved_dir(&leaf).path(), NOW)
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("ca-certificate.pem: not a CA certificate (no basicConstraints CA:TRUE)"),
            "{err}"
        );
    }

    #[test]
    fn loading_refuses_an_expired_ca() {
        let ca = test_ca();
        let dir = saved_dir(&ca);
        // The CA ends 2038-12-30T00:00:00Z.
        let err = Ca::load(dir.path(), datetime!(2038-12-30 0:00 UTC))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "{}: the CA expired on 2038-12-30T00:00:00Z",
                dir.path().join(CA_CERT_FILE).display()
            )
        );
    }

    #[test]
    fn common_names_are_bounded() {
        let v = validity(NOW, 1);
        for bad in ["", "  ", "a\nb", &"x".repeat(65)] {
            let err = new_ca(bad, KeyType::EcdsaP256, v).unwrap_err().to_string();
            assert_eq!(err, "the common name must be 1 to 64 printable characters");
        }
        new_ca(&"x".repeat(64), KeyType::EcdsaP256, v).unwrap();
    }

    #[test]
    fn debug_output_never_shows_a_key() {
        let ca = test_ca();
        let shown = format!("{ca:?}");
        assert!(shown.contains("PrivateKeyPem([elided])"), "{shown}");
        let body: String = std::str::from_utf8(ca.key_pem.as_bytes())
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        assert!(!shown.contains(&body[..16]));
        let (dir, loaded) = saved(&ca);
        let mode = fs::metadata(dir.path().join(CA_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!format!("{loaded:?}").contains(&body[..16]));
    }

    /// Writes `issued` as a CA directory without loading it.
    fn saved_dir(issued: &Issued) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(CA_CERT_FILE), &issued.cert_pem).unwrap();
        files::write_new(
            &dir.path().join(CA_KEY_FILE),
            issued.key_pem.as_bytes(),
            files::Access::Private,
            false,
        )
        .unwrap();
        dir
    }
}
