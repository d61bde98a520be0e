//! Tenant rules of the REQUEST authorizer: a validated rules document and its evaluation.
//!
//! A document (JSON or TOML) lists tenants; each has API keys stored as SHA-256 digests,
//! optional source-IP CIDR lists, client-certificate rules and stage-variable/header
//! conditions, the routes it is granted, its usage-plan key and its context. [`RuleSet::parse`]
//! validates the whole document or returns one [`RulesError`] naming the entry.
//! [`RuleSet::evaluate`] reads a request through [`RuleInput`] at a given time and returns an
//! [`Outcome`]; [`decide`] turns it into a [`Decision`](portcullis::policy::Decision) for the
//! request's API stage.

mod api_key;
mod client_cert;
mod decide;
mod document;
mod error;
mod eval;
mod grant;
mod input;
mod load;
mod source_ip;

use std::collections::BTreeMap;
use std::fmt;

pub use api_key::hash_api_key;
pub use client_cert::{CertFacts, CertVerdict, ClientCertRules};
pub use decide::{ANONYMOUS, Answer, decide, grants_policy};
pub use error::RulesError;
pub use eval::{Ambiguous, DenyReason, KeyLocation, Outcome, RuleInput};
pub use grant::Grant;
pub use input::request_time;
pub use load::Format;
pub use source_ip::{
    IpVerdict, SourceIpRules, canonical_ip, canonical_net, net_contains, parse_cidr,
};

use api_key::KeyIndex;

/// A validated rules document. Immutable; replace it whole to change rules.
#[derive(Debug, Clone)]
pub struct RuleSet {
    tenants: Vec<Tenant>,
    keys: KeyIndex,
}

impl RuleSet {
    /// Parses and validates a document, detecting JSON (first character `{`) or TOML.
    pub fn parse(text: &str) -> Result<RuleSet, RulesError> {
        load::parse(text, Format::detect(text))
    }

    /// Parses and validates a document of a known format.
    pub fn parse_as(text: &str, format: Format) -> Result<RuleSet, RulesError> {
        load::parse(text, format)
    }

    /// Tenants in document order.
    pub fn tenants(&self) -> &[Tenant] {
        &self.tenants
    }
}

/// One validated tenant.
#[derive(Clone)]
pub struct Tenant {
    id: String,
    tier: Option<String>,
    revoked: bool,
    key_labels: Vec<Option<String>>,
    source_ip: Option<SourceIpRules>,
    client_cert: Option<ClientCertRules>,
    conditions: Conditions,
    grants: Vec<Grant>,
    usage_identifier_key: Option<String>,
    context: BTreeMap<String, serde_json::Value>,
}

impl Tenant {
    /// Tenant id; the principal id of its responses.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Tier label, if any (also in [`Tenant::context`] as `tier`).
    pub fn tier(&self) -> Option<&str> {
        self.tier.as_deref()
    }

    /// Whether the tenant is revoked (every request denied).
    pub fn revoked(&self) -> bool {
        self.revoked
    }

    /// Routes the tenant may call, deduplicated, in document order.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// Usage-plan API key value for `usageIdentifierKey`.
    pub fn usage_identifier_key(&self) -> Option<&str> {
        self.usage_identifier_key.as_deref()
    }

    /// Response context: `tenantId`, `tier` (when set) and the document's scalar values.
    pub fn context(&self) -> &BTreeMap<String, serde_json::Value> {
        &self.context
    }
}

impl fmt::Debug for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tenant")
            .field("id", &self.id)
            .field("tier", &self.tier)
            .field("revoked", &self.revoked)
            .field("keys", &self.key_labels.len())
            .field("source_ip", &self.source_ip)
            .field("client_cert", &self.client_cert)
            .field("conditions", &self.conditions)
            .field("grants", &self.grants)
            .field(
                "usage_identifier_key",
                &self.usage_identifier_key.as_ref().map(|_| "<redacted>"),
            )
            .field("context", &self.context)
            .finish()
    }
}

/// Stage-variable and header conditions (each name must carry one of its values) and the
/// viewer's country.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Conditions {
    stage_variables: Vec<(String, Vec<String>)>,
    /// Header names lower-cased.
    headers: Vec<(String, Vec<String>)>,
    /// Upper-case country codes the viewer must be in (trusted CloudFront viewer facts).
    viewer_country: Option<Vec<String>>,
}

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;
