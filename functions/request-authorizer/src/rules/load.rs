//! Parsing and validation: text → [`RuleSet`] in one step, or a [`RulesError`] naming the
//! entry. Nothing is ever half-loaded: the rule set exists only once every entry passed.

use std::collections::{BTreeMap, HashMap};

use portcullis::redact::serde_message;
use serde_path_to_error::Segment;

use super::api_key::{KeyIndex, parse_digest};
use super::client_cert::{ClientCertRules, normalize_fingerprint, normalize_serial};
use super::document::{RawConditions, RawDocument, RawTenant};
use super::error::RulesError;
use super::grant::Grant;
use super::source_ip::{SourceIpRules, parse_cidr};
use super::{Conditions, RuleSet, Tenant};

/// Syntax of a rules document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// TOML.
    Toml,
}

impl Format {
    /// JSON when the first non-blank character is `{`, TOML otherwise.
    pub fn detect(text: &str) -> Format {
        if text.trim_start().starts_with('{') {
            Format::Json
        } else {
            Format::Toml
        }
    }
}

/// Context keys the authorizer fills itself.
const RESERVED_CONTEXT_KEYS: [&str; 2] = ["tenantId", "tier"];

pub(super) fn parse(text: &str, format: Format) -> Result<RuleSet, RulesError> {
    let raw = match format {
        Format::Json => parse_json(text)?,
        Format::Toml => parse_toml(text)?,
    };
    validate(raw)
}

fn parse_json(text: &str) -> Result<RawDocument, RulesError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: RawDocument = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let message = strip_position(&err.inner().to_string());
        let path = display_path(err.path(), &message);
        let inner = err.into_inner();
        RulesError::new(
            path,
            format!(
                "invalid JSON at line {} column {}: {}",
                inner.line(),
                inner.column(),
                serde_message(&message)
            ),
        )
    })?;
    de.end().map_err(|err| {
        RulesError::new(
            "document",
            format!(
                "invalid JSON at line {} column {}: trailing characters",
                err.line(),
                err.column()
            ),
        )
    })?;
    Ok(raw)
}

fn parse_toml(text: &str) -> Result<RawDocument, RulesError> {
    let de = toml::Deserializer::parse(text).map_err(|err| toml_error("document", text, &err))?;
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = display_path(err.path(), err.inner().message());
        toml_error(&path, text, err.inner())
    })
}

/// A TOML error as "line L column C: message", without the source snippet toml's Display
/// prints (the snippet could show a secret).
fn toml_error(path: &str, text: &str, err: &toml::de::Error) -> RulesError {
    let position = err
        .span()
        .and_then(|span| text.get(..span.start))
        .map(|before| {
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!(" at line {line} column {column}")
        });
    RulesError::new(
        path,
        format!(
            "invalid TOML{}: {}",
            position.unwrap_or_default(),
            serde_message(err.message().trim())
        ),
    )
}

/// Where the error is, as `tenants[2].sourceIp`. For an unknown field or variant the path ends
/// in the name the document chose, which may be a pasted secret: that segment is left out.
fn display_path(path: &serde_path_to_error::Path, message: &str) -> String {
    let mut segments: Vec<&Segment> = path.iter().collect();
    if message.starts_with("unknown field") || message.starts_with("unknown variant") {
        segments.pop();
    }
    let mut text = String::new();
    for segment in segments {
        if !text.is_empty() && !matches!(segment, Segment::Seq { .. }) {
            text.push('.');
        }
        text.push_str(&segment.to_string());
    }
    if text.is_empty() {
        "document".to_owned()
    } else {
        text
    }
}

/// serde_json appends " at line L column C"; we print the position ourselves.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn validate(raw: RawDocument) -> Result<RuleSet, RulesError> {
    if raw.version != 1 {
        return Err(RulesError::new(
            "version",
            format!(
                "unsupported version {} (this build reads version 1)",
                raw.version
            ),
        ));
    }
    let mut tenants = Vec::with_capacity(raw.tenants.len());
    let mut keys = KeyIndex::default();
    let mut ids: HashMap<String, usize> = HashMap::new();
    for (index, raw_tenant) in raw.tenants.into_iter().enumerate() {
        let at = format!("tenants[{index}]");
        if let Some(first) = ids.get(&raw_tenant.id) {
            return Err(RulesError::new(
                format!("{at}.id"),
                format!(
                    "duplicate tenant id {:?} (first at tenants[{first}])",
                    raw_tenant.id
                ),
            ));
        }
        ids.insert(raw_tenant.id.clone(), index);
        tenants.push(validate_tenant(raw_tenant, &at, index, &mut keys)?);
    }
    Ok(RuleSet { tenants, keys })
}

fn validate_tenant(
    raw: RawTenant,
    at: &str,
    index: usize,
    keys: &mut KeyIndex,
) -> Result<Tenant, RulesError> {
    let err = |field: &str, reason: String| RulesError::new(format!("{at}.{field}"), reason);

    if raw.id.is_empty() || raw.id.len() > 128 {
        return Err(err("id", "must be 1 to 128 characters".into()));
    }
    if let Some(bad) = raw
        .id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '@')))
    {
        return Err(err(
            "id",
            format!("character {bad:?} not allowed (use letters, digits, . _ - : @)"),
        ));
    }
    if raw.tier.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(err("tier", "must not be empty (omit it instead)".into()));
    }

    if raw.api_keys.is_empty() {
        return Err(err("apiKeys", "at least one API key is required".into()));
    }
    let mut key_labels = Vec::with_capacity(raw.api_keys.len());
    for (k, key) in raw.api_keys.into_iter().enumerate() {
        let digest =
            parse_digest(&key.sha256).map_err(|r| err(&format!("apiKeys[{k}].sha256"), r))?;
        if let Some((t, other)) = keys.position(&digest) {
            return Err(err(
                &format!("apiKeys[{k}].sha256"),
                format!("the same key is already listed at tenants[{t}].apiKeys[{other}]"),
            ));
        }
        if key.label.as_deref().is_some_and(|l| l.trim().is_empty()) {
            return Err(err(
                &format!("apiKeys[{k}].label"),
                "must not be empty (omit it instead)".into(),
            ));
        }
        keys.push(digest, index, k);
        key_labels.push(key.label);
    }

    let source_ip = match raw.source_ip {
        None => None,
        Some(ip) => {
            if ip.allow.is_empty() && ip.deny.is_empty() {
                return Err(err(
                    "sourceIp",
                    "give allow and/or deny CIDRs, or remove the entry".into(),
                ));
            }
            let parse = |list: Vec<String>, name: &str| {
                list.iter()
                    .enumerate()
                    .map(|(i, c)| {
                        parse_cidr(c).map_err(|r| err(&format!("sourceIp.{name}[{i}]"), r))
                    })
                    .collect::<Result<Vec<_>, _>>()
            };
            Some(SourceIpRules::new(
                parse(ip.allow, "allow")?,
                parse(ip.deny, "deny")?,
            ))
        }
    };

    let client_cert = match raw.client_cert {
        None => None,
        Some(cert) => {
            let list = |values: Option<Vec<String>>, name: &str| -> Result<_, RulesError> {
                let Some(values) = values else {
                    return Ok(None);
                };
                if values.is_empty() {
                    return Err(err(
                        &format!("clientCert.{name}"),
                        "must list at least one value (omit it to accept any)".into(),
                    ));
                }
                if let Some(i) = values.iter().position(|v| v.trim().is_empty()) {
                    return Err(err(
                        &format!("clientCert.{name}[{i}]"),
                        "must not be empty".into(),
                    ));
                }
                Ok(Some(values))
            };
            // A list whose every entry is brought to one form by `normalize`, or an error
            // naming the entry.
            let normalized = |values: Option<Vec<String>>,
                              name: &str,
                              normalize: fn(&str) -> Option<String>,
                              reason: &str|
             -> Result<Option<Vec<String>>, RulesError> {
                let Some(values) = list(values, name)? else {
                    return Ok(None);
                };
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        normalize(v)
                            .ok_or_else(|| err(&format!("clientCert.{name}[{i}]"), reason.into()))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            };
            let serial_numbers = normalized(
                cert.serial_numbers,
                "serialNumbers",
                normalize_serial,
                "serial number is not hex (e.g. \"0a:1b:2c\")",
            )?;
            let sha256 = normalized(
                cert.sha256,
                "sha256",
                normalize_fingerprint,
                "not a SHA-256 fingerprint (64 hex digits, ':' allowed)",
            )?;
            Some(ClientCertRules {
                subject_dn: list(cert.subject_dn, "subjectDn")?,
                issuer_dn: list(cert.issuer_dn, "issuerDn")?,
                serial_numbers,
                sha256,
            })
        }
    };

    let conditions = match raw.conditions {
        None => Conditions::default(),
        Some(c) => validate_conditions(c, &format!("{at}.conditions"))?,
    };

    if raw.grants.is_empty() {
        return Err(err("grants", "at least one grant is required".into()));
    }
    let mut grants: Vec<Grant> = Vec::with_capacity(raw.grants.len());
    for (g, text) in raw.grants.iter().enumerate() {
        let grant = Grant::parse(text).map_err(|r| err(&format!("grants[{g}]"), r))?;
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }

    if let Some(key) = &raw.usage_identifier_key
        && (key.is_empty() || key.trim() != key)
    {
        return Err(err(
            "usageIdentifierKey",
            "must be the usage plan API key value: non-empty, no surrounding spaces".into(),
        ));
    }

    let mut context = BTreeMap::new();
    context.insert(
        "tenantId".to_owned(),
        serde_json::Value::String(raw.id.clone()),
    );
    if let Some(tier) = &raw.tier {
        context.insert("tier".to_owned(), serde_json::Value::String(tier.clone()));
    }
    for (key, value) in raw.context {
        let path = format!("context.{key}");
        if key.is_empty() {
            return Err(err("context", "keys must not be empty".into()));
        }
        if RESERVED_CONTEXT_KEYS.contains(&key.as_str()) {
            return Err(err(
                &path,
                format!("{key:?} is set by the authorizer (use the tenant's id/tier fields)"),
            ));
        }
        if !matches!(
            value,
            serde_json::Value::String(_)
                | serde_json::Value::Number(_)
                | serde_json::Value::Bool(_)
        ) {
            return Err(err(
                &path,
                "API Gateway context values must be a string, number or boolean".into(),
            ));
        }
        context.insert(key, value);
    }

    Ok(Tenant {
        id: raw.id,
        tier: raw.tier,
        revoked: raw.revoked,
        key_labels,
        source_ip,
        client_cert,
        conditions,
        grants,
        usage_identifier_key: raw.usage_identifier_key,
        context,
    })
}

fn validate_conditions(raw: RawConditions, at: &str) -> Result<Conditions, RulesError> {
    let mut out = Conditions::default();
    for (kind, map, target) in [
        (
            "stageVariables",
            raw.stage_variables,
            &mut out.stage_variables,
        ),
        ("headers", raw.headers, &mut out.headers),
    ] {
        for (name, values) in map {
            let path = format!("{at}.{kind}.{name}");
            let values = values.into_vec();
            if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(RulesError::new(
                    format!("{at}.{kind}"),
                    "a name is empty or holds whitespace or control characters",
                ));
            }
            if values.is_empty() {
                return Err(RulesError::new(path, "list at least one accepted value"));
            }
            let name = if kind == "headers" {
                name.to_ascii_lowercase()
            } else {
                name
            };
            target.push((name, values));
        }
    }
    if let Some(countries) = raw.viewer_country {
        let countries: Vec<String> = countries.into_vec();
        if countries.is_empty() {
            return Err(RulesError::new(
                format!("{at}.viewerCountry"),
                "list at least one country code",
            ));
        }
        let mut codes = Vec::with_capacity(countries.len());
        for (i, code) in countries.iter().enumerate() {
            if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(RulesError::new(
                    format!("{at}.viewerCountry[{i}]"),
                    "expected an ISO 3166-1 alpha-2 code such as \"DE\"",
                ));
            }
            codes.push(code.to_ascii_uppercase());
        }
        out.viewer_country = Some(codes);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_detection() {
        assert_eq!(Format::detect("  \n{\"version\":1}"), Format::Json);
        assert_eq!(Format::detect("version = 1"), Format::Toml);
    }
}
