//! [`RuleInput`] over the shared request view, and the request time rules are evaluated at.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use super::client_cert::CertFacts;
use super::eval::{Ambiguous, RuleInput};
use portcullis::request::AuthorizerRequest;

impl RuleInput for AuthorizerRequest {
    fn header(&self, name: &str) -> Result<Option<&str>, Ambiguous> {
        self.headers.get(name).map_err(|_| Ambiguous)
    }

    fn query(&self, name: &str) -> Result<Option<&str>, Ambiguous> {
        self.query.get(name).map_err(|_| Ambiguous)
    }

    fn stage_variable(&self, name: &str) -> Option<&str> {
        self.stage_variables.get(name).map(String::as_str)
    }

    fn source_ip(&self) -> Option<IpAddr> {
        self.source_ip
    }

    fn client_cert(&self) -> Option<CertFacts<'_>> {
        let cert = self.client_cert.as_ref()?;
        Some(CertFacts {
            subject_dn: cert.subject_dn.as_deref().unwrap_or_default(),
            issuer_dn: cert.issuer_dn.as_deref().unwrap_or_default(),
            serial_number: cert.serial_number.as_deref().unwrap_or_default(),
            not_before: cert.not_before,
            not_after: cert.not_after,
            sha256: cert.sha256.as_deref(),
        })
    }

    fn viewer_country(&self) -> Option<&str> {
        self.viewer_country.as_deref()
    }
}

/// The instant a request happened: API Gateway's `requestTimeEpoch` / `timeEpoch` when the
/// event carries one, else `fallback` (the clock when the event arrived).
pub fn request_time(request: &AuthorizerRequest, fallback: SystemTime) -> SystemTime {
    request
        .request_time_epoch_ms
        .and_then(|ms| u64::try_from(ms).ok())
        .map_or(fallback, |ms| {
            SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis::request::parse_cert_time;

    fn epoch(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn parses_api_gateway_validity_times() {
        // 2019-05-28T12:30:02Z
        assert_eq!(
            parse_cert_time("May 28 12:30:02 2019 GMT"),
            Some(epoch(1_559_046_602))
        );
        // 2030-03-01T00:00:00Z, space-padded day.
        assert_eq!(
            parse_cert_time("Mar  1 00:00:00 2030 GMT"),
            Some(epoch(1_898_553_600))
        );
        assert_eq!(parse_cert_time("Mar 1 00:00:00 2030"), None);
        assert_eq!(parse_cert_time("2030-03-01T00:00:00Z"), None);
        assert_eq!(parse_cert_time("Foo 1 00:00:00 2030 GMT"), None);
        assert_eq!(parse_cert_time("Feb 30 00:00:00 2030 GMT"), None);
    }

    #[test]
    fn request_time_prefers_the_event() {
        let event = serde_json::json!({
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:a1/prod/GET/x",
            "headers": {"X-Api-Key": "k"},
            "requestContext": {"requestTimeEpoch": 1_767_225_600_123_i64,
                "identity": {"sourceIp": "203.0.113.9", "clientCert": {
                    "clientCertPem": "-----BEGIN CERTIFICATE-----",
                    "subjectDN": "CN=a", "issuerDN": "CN=ca", "serialNumber": "0a:1b",
                    "validity": {"notBefore": "Jan  1 00:00:00 2026 GMT", "notAfter": "Jan  1 00:00:00 2027 GMT"}}}}
        });
        let request = AuthorizerRequest::from_value(&event).unwrap();
        assert_eq!(
            request_time(&request, epoch(5)),
            SystemTime::UNIX_EPOCH + Duration::from_millis(1_767_225_600_123)
        );
        assert_eq!(request.header("x-api-key"), Ok(Some("k")));
        assert_eq!(
            RuleInput::source_ip(&request),
            Some("203.0.113.9".parse().unwrap())
        );
        let cert = RuleInput::client_cert(&request).unwrap();
        assert_eq!(cert.subject_dn, "CN=a");
        assert_eq!(cert.not_before, Some(epoch(1_767_225_600)));
        assert_eq!(cert.not_after, Some(epoch(1_798_761_600)));
    }
}
