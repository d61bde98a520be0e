//! CloudFront's viewer facts, trusted only in a request that passed the origin proof.
//!
//! Behind CloudFront, API Gateway's `sourceIp` is an edge address and the viewer's client
//! certificate never reaches API Gateway. CloudFront forwards the viewer's facts as headers
//! (`CloudFront-Viewer-Address`, `CloudFront-Viewer-Country`, and with viewer mTLS the
//! `CloudFront-Viewer-Cert-*` headers), but a direct caller can forge every one of them, so the
//! front door applies them only after the origin proof passed and only when
//! `TRUST_CLOUDFRONT_VIEWER_HEADERS=true`. A header that is missing, repeated with different
//! values or unreadable leaves the fact unknown, and a rule that needs it then fails.

use std::net::{IpAddr, SocketAddr};

use crate::request::{AuthorizerRequest, ClientCert, Params, parse_iso_time};

/// `CloudFront-Viewer-Address`: `198.51.100.10:46532`, `2001:db8::1:46532` or `[2001:db8::1]:46532`.
pub const ADDRESS: &str = "cloudfront-viewer-address";
/// `CloudFront-Viewer-Country`: ISO 3166-1 alpha-2 code.
pub const COUNTRY: &str = "cloudfront-viewer-country";
/// `CloudFront-Viewer-Cert-Present`: `1` or `0`.
pub const CERT_PRESENT: &str = "cloudfront-viewer-cert-present";
/// `CloudFront-Viewer-Cert-Subject` (RFC 2253 DN).
pub const CERT_SUBJECT: &str = "cloudfront-viewer-cert-subject";
/// `CloudFront-Viewer-Cert-Issuer` (RFC 2253 DN).
pub const CERT_ISSUER: &str = "cloudfront-viewer-cert-issuer";
/// `CloudFront-Viewer-Cert-Serial-Number` (hex, `:`-separated).
pub const CERT_SERIAL: &str = "cloudfront-viewer-cert-serial-number";
/// `CloudFront-Viewer-Cert-Validity`: `NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z`.
pub const CERT_VALIDITY: &str = "cloudfront-viewer-cert-validity";
/// `CloudFront-Viewer-Cert-Sha256` (hex SHA-256 of the certificate).
pub const CERT_SHA256: &str = "cloudfront-viewer-cert-sha256";
/// `CloudFront-Viewer-Cert-Pem` (URL-encoded PEM).
pub const CERT_PEM: &str = "cloudfront-viewer-cert-pem";

/// Replaces the request's caller facts with the viewer's: the source IP becomes the viewer
/// address, the client certificate the viewer certificate, and the country is set. Call only
/// for a request that passed the origin proof.
pub fn apply(request: &mut AuthorizerRequest) {
    let headers = &request.headers;
    request.source_ip = one(headers, ADDRESS).and_then(parse_address);
    request.viewer_country = one(headers, COUNTRY)
        .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
        .map(str::to_ascii_uppercase);
    request.client_cert = viewer_cert(headers);
}

/// The one value of `name`; absent or repeated with different values is unknown.
fn one<'a>(headers: &'a Params, name: &str) -> Option<&'a str> {
    headers.get(name).ok().flatten().map(str::trim)
}

/// The viewer's IP from `CloudFront-Viewer-Address` (the port is dropped).
pub fn parse_address(value: &str) -> Option<IpAddr> {
    if let Ok(socket) = value.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    // CloudFront writes IPv6 without brackets: the port follows the last colon.
    let (ip, port) = value.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.parse::<IpAddr>().ok().filter(IpAddr::is_ipv6)
}

fn viewer_cert(headers: &Params) -> Option<ClientCert> {
    if one(headers, CERT_PRESENT)? != "1" {
        return None;
    }
    let validity = one(headers, CERT_VALIDITY).unwrap_or_default();
    let field = |key: &str| {
        validity
            .split(';')
            .filter_map(|part| part.trim().split_once('='))
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| parse_iso_time(v))
    };
    Some(ClientCert {
        subject_dn: one(headers, CERT_SUBJECT).map(str::to_owned),
        issuer_dn: one(headers, CERT_ISSUER).map(str::to_owned),
        serial_number: one(headers, CERT_SERIAL).map(str::to_owned),
        not_before: field("NotBefore"),
        not_after: field("NotAfter"),
        pem: one(headers, CERT_PEM).map(|pem| {
            percent_encoding::percent_decode_str(pem)
                .decode_utf8_lossy()
                .into_owned()
        }),
        sha256: one(headers, CERT_SHA256).map(str::to_ascii_lowercase),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::{Duration, SystemTime};

    fn request(headers: serde_json::Value) -> AuthorizerRequest {
        AuthorizerRequest::from_value(&json!({
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:a1/prod/GET/x",
            "headers": headers,
            "requestContext": {"identity": {"sourceIp": "130.176.0.1"}}
        }))
        .unwrap()
    }

    #[test]
    fn addresses_in_every_form_cloudfront_writes() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            parse_address("198.51.100.10:46532"),
            Some(ip("198.51.100.10"))
        );
        assert_eq!(parse_address("2001:db8::1:46532"), Some(ip("2001:db8::1")));
        assert_eq!(parse_address("[2001:db8::1]:443"), Some(ip("2001:db8::1")));
        assert_eq!(parse_address("198.51.100.10"), None);
        assert_eq!(parse_address("198.51.100.10:http"), None);
        assert_eq!(parse_address("example.com:443"), None);
        assert_eq!(parse_address(""), None);
    }

    #[test]
    fn viewer_facts_replace_the_edge_facts() {
        let mut r = request(json!({
            "CloudFront-Viewer-Address": "203.0.113.9:5000",
            "CloudFront-Viewer-Country": "de",
            "CloudFront-Viewer-Cert-Present": "1",
            "CloudFront-Viewer-Cert-Subject": "CN=client.acme.example,O=Acme",
            "CloudFront-Viewer-Cert-Issuer": "CN=Acme CA",
            "CloudFront-Viewer-Cert-Serial-Number": "4a:3f:5c",
            "CloudFront-Viewer-Cert-Validity": "NotBefore=2026-01-01T00:00:00Z;NotAfter=2027-01-01T00:00:00Z",
            "CloudFront-Viewer-Cert-Sha256": "01FBF9",
            "CloudFront-Viewer-Cert-Pem": "-----BEGIN%20CERTIFICATE-----%0AMIIB%0A-----END%20CERTIFICATE-----%0A"
        }));
        apply(&mut r);
        assert_eq!(r.source_ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(r.viewer_country.as_deref(), Some("DE"));
        let at = |secs| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(
            r.client_cert,
            Some(ClientCert {
                subject_dn: Some("CN=client.acme.example,O=Acme".into()),
                issuer_dn: Some("CN=Acme CA".into()),
                serial_number: Some("4a:3f:5c".into()),
                not_before: at(1_767_225_600),
                not_after: at(1_798_761_600),
                pem: Some("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into()),
                sha256: Some("01fbf9".into()),
            })
        );
    }

    #[test]
    fn missing_ambiguous_or_absent_facts_are_unknown() {
        let mut r = request(json!({"CloudFront-Viewer-Cert-Present": "0"}));
        apply(&mut r);
        assert_eq!(
            (r.source_ip, r.viewer_country, r.client_cert),
            (None, None, None)
        );

        let mut r = request(json!({}));
        r.headers = crate::request::Params::test_headers(&[
            ("CloudFront-Viewer-Address", "203.0.113.9:1"),
            ("cloudfront-viewer-address", "198.51.100.1:1"),
            ("CloudFront-Viewer-Country", "Germany"),
        ]);
        apply(&mut r);
        assert_eq!((r.source_ip, r.viewer_country), (None, None));
    }
}
