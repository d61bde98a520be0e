//! Client-certificate rules over what API Gateway's mutual TLS passes in
//! `requestContext.identity.clientCert`.

use std::time::SystemTime;

/// The certificate facts a rule looks at, as API Gateway reports them.
#[derive(Debug, Clone, Copy)]
pub struct CertFacts<'a> {
    /// `subjectDN`, e.g. `CN=client.acme.example,O=Acme`.
    pub subject_dn: &'a str,
    /// `issuerDN`.
    pub issuer_dn: &'a str,
    /// `serialNumber`, hex with or without `:` separators.
    pub serial_number: &'a str,
    /// `validity.notBefore`; `None` when absent or unparseable (then the check fails).
    pub not_before: Option<SystemTime>,
    /// `validity.notAfter`; `None` when absent or unparseable (then the check fails).
    pub not_after: Option<SystemTime>,
    /// Lower-case hex SHA-256 of the DER certificate, when known.
    pub sha256: Option<&'a str>,
}

/// Why a certificate was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertVerdict {
    /// Certificate passes the rules.
    Pass,
    /// The tenant requires a certificate and the request has none (mutual TLS off?).
    Missing,
    /// The validity window is missing or unreadable.
    ValidityUnknown,
    /// Request time is before `notBefore`.
    NotYetValid,
    /// Request time is after `notAfter`.
    Expired,
    /// Subject DN not in the allowlist.
    SubjectNotListed,
    /// Issuer DN not in the allowlist.
    IssuerNotListed,
    /// Serial number not in the allowlist.
    SerialNotListed,
    /// SHA-256 fingerprint not among the pinned ones (or unknown).
    FingerprintNotPinned,
}

/// Allowlists of one tenant; `None` means "any". DNs compare exactly; serial numbers compare
/// as hex numbers (case, `:` separators and leading zeros ignored).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientCertRules {
    pub(crate) subject_dn: Option<Vec<String>>,
    pub(crate) issuer_dn: Option<Vec<String>>,
    pub(crate) serial_numbers: Option<Vec<String>>,
    /// Pinned fingerprints, normalised by [`normalize_fingerprint`].
    pub(crate) sha256: Option<Vec<String>>,
}

impl ClientCertRules {
    /// Checks presence, validity window at `now`, then the allowlists.
    pub fn check(&self, cert: Option<&CertFacts<'_>>, now: SystemTime) -> CertVerdict {
        let Some(cert) = cert else {
            return CertVerdict::Missing;
        };
        let (Some(not_before), Some(not_after)) = (cert.not_before, cert.not_after) else {
            return CertVerdict::ValidityUnknown;
        };
        if now < not_before {
            return CertVerdict::NotYetValid;
        }
        if now > not_after {
            return CertVerdict::Expired;
        }
        if !listed(&self.subject_dn, cert.subject_dn) {
            return CertVerdict::SubjectNotListed;
        }
        if !listed(&self.issuer_dn, cert.issuer_dn) {
            return CertVerdict::IssuerNotListed;
        }
        if let Some(serials) = &self.serial_numbers {
            let presented = normalize_serial(cert.serial_number);
            if presented
                .as_deref()
                .is_none_or(|p| !serials.iter().any(|s| s == p))
            {
                return CertVerdict::SerialNotListed;
            }
        }
        if let Some(pins) = &self.sha256
            && cert
                .sha256
                .and_then(normalize_fingerprint)
                .is_none_or(|f| !pins.contains(&f))
        {
            return CertVerdict::FingerprintNotPinned;
        }
        CertVerdict::Pass
    }
}

fn listed(list: &Option<Vec<String>>, value: &str) -> bool {
    list.as_ref()
        .is_none_or(|values| values.iter().any(|v| v == value))
}

/// Lower-case hex without separators or leading zeros; `None` if not hex.
pub(crate) fn normalize_serial(serial: &str) -> Option<String> {
    let digits: String = serial
        .trim()
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    Some(if trimmed.is_empty() { "0" } else { trimmed }.to_owned())
}

pub(crate) use portcullis::request::normalize_fingerprint;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn cert(serial: &str) -> CertFacts<'_> {
        CertFacts {
            subject_dn: "CN=client.acme.example,O=Acme",
            issuer_dn: "CN=Acme Issuing CA,O=Acme",
            serial_number: serial,
            not_before: Some(at(1_000)),
            not_after: Some(at(2_000)),
            sha256: None,
        }
    }

    fn rules() -> ClientCertRules {
        ClientCertRules {
            subject_dn: Some(vec!["CN=client.acme.example,O=Acme".into()]),
            issuer_dn: Some(vec!["CN=Acme Issuing CA,O=Acme".into()]),
            serial_numbers: Some(vec![normalize_serial("0A:1B:2c").unwrap()]),
            sha256: None,
        }
    }

    #[test]
    fn pinned_fingerprints_compare_in_any_case_and_with_separators() {
        let pin = "01fbf94fef5569753420c349f49adbfd80af5275377816e3ab1fb371b29cb586";
        let pinned = ClientCertRules {
            sha256: Some(vec![pin.into()]),
            ..ClientCertRules::default()
        };
        let with = |sha256| CertFacts {
            sha256,
            ..cert("0a1b2c")
        };
        let upper = pin.to_uppercase();
        let colons = pin
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(":");
        for ok in [pin, upper.as_str(), colons.as_str()] {
            assert_eq!(
                pinned.check(Some(&with(Some(ok))), at(1_500)),
                CertVerdict::Pass
            );
        }
        let other = "ff".repeat(32);
        for bad in [Some(other.as_str()), Some("01fb"), None] {
            assert_eq!(
                pinned.check(Some(&with(bad)), at(1_500)),
                CertVerdict::FingerprintNotPinned,
                "{bad:?}"
            );
        }
        assert_eq!(normalize_fingerprint(&colons).as_deref(), Some(pin));
        assert_eq!(normalize_fingerprint("zz"), None);
    }

    #[test]
    fn validity_window_is_inclusive_and_checked_first() {
        let r = rules();
        let c = cert("a1b2c");
        assert_eq!(r.check(Some(&c), at(1_000)), CertVerdict::Pass);
        assert_eq!(r.check(Some(&c), at(2_000)), CertVerdict::Pass);
        assert_eq!(r.check(Some(&c), at(999)), CertVerdict::NotYetValid);
        assert_eq!(r.check(Some(&c), at(2_001)), CertVerdict::Expired);
        let mut unknown = cert("a1b2c");
        unknown.not_after = None;
        assert_eq!(
            r.check(Some(&unknown), at(1_500)),
            CertVerdict::ValidityUnknown
        );
        assert_eq!(r.check(None, at(1_500)), CertVerdict::Missing);
    }

    #[test]
    fn allowlists() {
        let r = rules();
        assert_eq!(
            r.check(Some(&cert("00:0a:1b:2C")), at(1_500)),
            CertVerdict::Pass
        );
        assert_eq!(
            r.check(Some(&cert("a1b2d")), at(1_500)),
            CertVerdict::SerialNotListed
        );
        assert_eq!(
            r.check(Some(&cert("not-hex")), at(1_500)),
            CertVerdict::SerialNotListed
        );
        let mut other = cert("a1b2c");
        other.subject_dn = "CN=mallory,O=Acme";
        assert_eq!(
            r.check(Some(&other), at(1_500)),
            CertVerdict::SubjectNotListed
        );
        let mut other = cert("a1b2c");
        other.issuer_dn = "CN=Other CA";
        assert_eq!(
            r.check(Some(&other), at(1_500)),
            CertVerdict::IssuerNotListed
        );
        let any = ClientCertRules::default();
        assert_eq!(any.check(Some(&other), at(1_500)), CertVerdict::Pass);
    }
}
