//! The algorithm allowlist: only asymmetric JWS algorithms exist here. `none` and `HS*` can
//! neither be configured nor presented.

use jsonwebtoken::Algorithm;

use super::error::JwtError;

/// Every algorithm this verifier can accept (subject to the configured allowlist).
pub const SUPPORTED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The default allowlist when none is configured (`JWT_ALGORITHMS` unset).
pub const DEFAULT_ALGORITHMS: [Algorithm; 1] = [Algorithm::RS256];

/// The JOSE name of an algorithm (`RS256`, `EdDSA`, …).
pub fn name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        _ => "unsupported",
    }
}

/// Map a header `alg` value to a supported asymmetric algorithm (exact, case-sensitive).
pub fn from_name(value: &str) -> Result<Algorithm, JwtError> {
    if value.eq_ignore_ascii_case("none") {
        return Err(JwtError::AlgNone);
    }
    if value.starts_with("HS") {
        return Err(JwtError::AlgHmac);
    }
    SUPPORTED
        .iter()
        .copied()
        .find(|a| name(*a) == value)
        .ok_or(JwtError::AlgNotAllowed)
}

/// Parse a comma-separated allowlist (`RS256,ES256`). Empty entries are ignored; an empty
/// list, `none`, `HS*` or an unknown name is a configuration error.
pub fn parse_allowlist(csv: &str) -> Result<Vec<Algorithm>, String> {
    let mut out = Vec::new();
    for item in csv.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let alg = from_name(item).map_err(|e| match e {
            JwtError::AlgNone | JwtError::AlgHmac => format!("{item} is never allowed"),
            _ => format!(
                "unknown algorithm {item} (supported: {})",
                SUPPORTED.map(name).join(",")
            ),
        })?;
        if !out.contains(&alg) {
            out.push(alg);
        }
    }
    if out.is_empty() {
        return Err("the algorithm list is empty".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_parses_every_supported_name() {
        let all =
            parse_allowlist("RS256, RS384,RS512,PS256,PS384,PS512,ES256,ES384,EdDSA").unwrap();
        assert_eq!(all, SUPPORTED.to_vec());
        assert_eq!(
            parse_allowlist("ES256,ES256,,").unwrap(),
            vec![Algorithm::ES256]
        );
    }

    #[test]
    fn allowlist_rejects_none_hmac_unknown_and_empty() {
        for bad in [
            "none",
            "NONE",
            "HS256",
            "RS256,HS512",
            "rs256",
            "ES512",
            "",
            " , ",
        ] {
            assert!(parse_allowlist(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn header_names_map_to_typed_errors() {
        assert_eq!(from_name("none"), Err(JwtError::AlgNone));
        assert_eq!(from_name("nOnE"), Err(JwtError::AlgNone));
        assert_eq!(from_name("HS256"), Err(JwtError::AlgHmac));
        assert_eq!(from_name("RS1"), Err(JwtError::AlgNotAllowed));
        assert_eq!(from_name("EdDSA"), Ok(Algorithm::EdDSA));
    }
}
