//! The rules document as written by an operator (JSON or TOML), before validation.
//!
//! Every struct denies unknown fields so a typo (`"cidr"` for `"sourceIp"`) is an init error,
//! never a silently ignored rule.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Top level of a rules document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawDocument {
    /// Format version; only `1` exists.
    pub version: u32,
    /// Tenants, evaluated by API key.
    #[serde(default)]
    pub tenants: Vec<RawTenant>,
}

/// One tenant: who it is, how it proves it, where it may call from, what it may call.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawTenant {
    pub id: String,
    #[serde(default)]
    pub tier: Option<String>,
    /// A revoked tenant's keys are still recognised (so the log says why) but always denied.
    #[serde(default)]
    pub revoked: bool,
    pub api_keys: Vec<RawApiKey>,
    #[serde(default)]
    pub source_ip: Option<RawSourceIp>,
    #[serde(default)]
    pub client_cert: Option<RawClientCert>,
    #[serde(default)]
    pub conditions: Option<RawConditions>,
    pub grants: Vec<String>,
    #[serde(default)]
    pub usage_identifier_key: Option<String>,
    #[serde(default)]
    pub context: BTreeMap<String, serde_json::Value>,
}

/// An API key, stored only as the hex SHA-256 of its value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawApiKey {
    /// Free label for logs and rotation ("2026-q1"); never the key itself.
    #[serde(default)]
    pub label: Option<String>,
    pub sha256: String,
}

/// `aws:SourceIp`-style CIDR lists.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawSourceIp {
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub deny: Vec<String>,
}

/// Mutual-TLS client certificate requirements. Each list, when present, is an allowlist.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawClientCert {
    #[serde(default)]
    pub subject_dn: Option<Vec<String>>,
    #[serde(default)]
    pub issuer_dn: Option<Vec<String>>,
    #[serde(default)]
    pub serial_numbers: Option<Vec<String>>,
    /// Pinned SHA-256 fingerprints of the DER certificate.
    #[serde(default)]
    pub sha256: Option<Vec<String>>,
}

/// Extra request conditions; every listed name must be present with one of its listed values.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawConditions {
    #[serde(default)]
    pub stage_variables: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    pub headers: BTreeMap<String, OneOrMany>,
    /// ISO 3166-1 alpha-2 codes; needs trusted CloudFront viewer facts.
    #[serde(default)]
    pub viewer_country: Option<OneOrMany>,
}

/// `"prod"` or `["prod", "staging"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "a string or a list of strings")]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(crate) fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(value) => vec![value],
            OneOrMany::Many(values) => values,
        }
    }
}
