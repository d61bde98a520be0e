//! The raw CloudFront `querystring`, decoded the way API Gateway reads it.
//!
//! API Gateway verifies a signature over the query it receives: it splits on `&`, splits each
//! pair at the first `=`, decodes `+` as a space and `%XX` escapes, then re-encodes every key
//! and value per RFC 3986 (only `A-Z a-z 0-9 - _ . ~` left as is) and sorts. This module does
//! the decoding and re-encoding; aws-sigv4 does the sorting when it builds the canonical request.
//! The query forwarded to the origin is left exactly as the viewer sent it.

use crate::error::SignError;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, utf8_percent_encode};

/// Characters percent-encoded in a canonical query component: all but RFC 3986 unreserved.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One decoded query parameter. A key without `=` has an empty value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Decoded key.
    pub key: String,
    /// Decoded value.
    pub value: String,
}

/// Decodes a raw query string into its parameters, in order. Empty segments (`a=1&&b=2`) are
/// skipped; repeated keys are kept. Fails when a decoded component is not UTF-8.
pub fn parse(raw: &str) -> Result<Vec<Param>, SignError> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok(Param {
                key: decode(key)?,
                value: decode(value)?,
            })
        })
        .collect()
}

/// The query with every key and value RFC 3986-encoded (original order), which is what the
/// canonical request is built from.
pub fn encode_for_signing(raw: &str) -> Result<String, SignError> {
    let params = parse(raw)?;
    let mut out = String::with_capacity(raw.len() + 8);
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.extend(utf8_percent_encode(&p.key, COMPONENT));
        out.push('=');
        out.extend(utf8_percent_encode(&p.value, COMPONENT));
    }
    Ok(out)
}

fn decode(component: &str) -> Result<String, SignError> {
    let plus_as_space = component.replace('+', " ");
    percent_decode(plus_as_space.as_bytes())
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| SignError::Unsignable("query string has percent-escapes that are not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_api_gateway_style() {
        let params = parse("a=1&a=0&b=&c&d=x+y&e=%2B&f=%7E~&&g=%E2%82%AC&h==x").unwrap();
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("a", "1"),
                ("a", "0"),
                ("b", ""),
                ("c", ""),
                ("d", "x y"),
                ("e", "+"),
                ("f", "~~"),
                ("g", "€"),
                ("h", "=x"),
            ]
        );
    }

    #[test]
    fn re_encodes_per_rfc3986() {
        assert_eq!(
            encode_for_signing("q=a+b%20c&s=*!'()&t=%7e&u=caf%C3%A9&k%2Fey=%2F&b").unwrap(),
            "q=a%20b%20c&s=%2A%21%27%28%29&t=~&u=caf%C3%A9&k%2Fey=%2F&b="
        );
        assert_eq!(encode_for_signing("").unwrap(), "");
        assert_eq!(encode_for_signing("&&").unwrap(), "");
        // already double-encoded values stay double-encoded
        assert_eq!(encode_for_signing("v=%2520").unwrap(), "v=%2520");
    }

    #[test]
    fn rejects_non_utf8_escapes() {
        assert!(matches!(parse("a=%FF"), Err(SignError::Unsignable(_))));
    }

    #[test]
    fn malformed_escapes_are_literal() {
        assert_eq!(encode_for_signing("a=%zz&b=%").unwrap(), "a=%25zz&b=%25");
    }
}
