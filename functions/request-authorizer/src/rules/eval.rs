//! Evaluation of a [`RuleSet`] against one request at one instant.

use std::fmt;
use std::net::IpAddr;
use std::time::SystemTime;

use super::client_cert::{CertFacts, CertVerdict};
use super::source_ip::IpVerdict;
use super::{RuleSet, Tenant};

/// A header or query parameter carried two different values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ambiguous;

/// What the rules read from a request. Implemented for the shared request view; tests use
/// an in-memory one.
pub trait RuleInput {
    /// Header by case-insensitive name.
    fn header(&self, name: &str) -> Result<Option<&str>, Ambiguous>;
    /// Query-string parameter by exact name.
    fn query(&self, name: &str) -> Result<Option<&str>, Ambiguous>;
    /// Stage variable by exact name.
    fn stage_variable(&self, name: &str) -> Option<&str>;
    /// Caller address (`requestContext.identity.sourceIp` / `http.sourceIp`).
    fn source_ip(&self) -> Option<IpAddr>;
    /// Mutual-TLS client certificate, when the API has mutual TLS on.
    fn client_cert(&self) -> Option<CertFacts<'_>>;
    /// The viewer's country, from trusted CloudFront viewer facts only.
    fn viewer_country(&self) -> Option<&str>;
}

/// Where the API key is read: a header, a query parameter, or both (then they must agree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLocation {
    /// Header name, matched case-insensitively (e.g. `x-api-key`).
    pub header: Option<String>,
    /// Query parameter name (e.g. `api_key`).
    pub query: Option<String>,
}

/// Result of evaluating a request.
#[derive(Debug, Clone)]
pub enum Outcome<'a> {
    /// No API key in the request: answer `Unauthorized` (401).
    NoKey,
    /// A key was presented and the request is refused: answer an explicit deny (403).
    Denied {
        /// The tenant the key belongs to, when known.
        tenant: Option<&'a Tenant>,
        /// Why, for the log.
        reason: DenyReason,
    },
    /// The tenant passed every rule; the response lists its grants.
    Allowed {
        /// The authenticated tenant.
        tenant: &'a Tenant,
        /// Label of the key used, for the log.
        key_label: Option<&'a str>,
    },
}

/// Why a request with a key was denied. `Display` is a log line without secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyReason {
    /// The key header/parameter had two different values, or header and query disagree.
    AmbiguousKey,
    /// No tenant has this key.
    UnknownKey,
    /// The tenant is revoked.
    Revoked,
    /// Source-IP rules exist and the request carries no parseable source IP.
    NoSourceIp,
    /// Source IP inside a deny CIDR.
    SourceIpDenied,
    /// Source IP outside the allow CIDRs.
    SourceIpNotAllowed,
    /// The client certificate failed.
    ClientCert(CertVerdict),
    /// A stage variable or header condition failed.
    Condition {
        /// `stageVariables` or `headers`.
        kind: &'static str,
        /// The variable or header name.
        name: String,
    },
    /// The tenant's policy or context could not be rendered within API Gateway's limits.
    Policy(String),
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenyReason::AmbiguousKey => f.write_str("API key given twice with different values"),
            DenyReason::UnknownKey => f.write_str("unknown API key"),
            DenyReason::Revoked => f.write_str("tenant revoked"),
            DenyReason::NoSourceIp => f.write_str("no source IP in the request"),
            DenyReason::SourceIpDenied => f.write_str("source IP in a deny CIDR"),
            DenyReason::SourceIpNotAllowed => f.write_str("source IP outside the allow CIDRs"),
            DenyReason::ClientCert(verdict) => write!(f, "client certificate: {verdict:?}"),
            DenyReason::Condition { kind, name } => write!(f, "condition {kind}.{name} not met"),
            DenyReason::Policy(why) => write!(f, "policy not renderable: {why}"),
        }
    }
}

impl RuleSet {
    /// Decides one request: key → tenant → revoked → source IP → client certificate →
    /// conditions. `now` is the request time (validity windows are checked against it).
    pub fn evaluate<'a>(
        &'a self,
        input: &dyn RuleInput,
        keys: &KeyLocation,
        now: SystemTime,
    ) -> Outcome<'a> {
        let presented = match presented_key(input, keys) {
            Ok(Some(key)) => key,
            Ok(None) => return Outcome::NoKey,
            Err(Ambiguous) => {
                return Outcome::Denied {
                    tenant: None,
                    reason: DenyReason::AmbiguousKey,
                };
            }
        };
        let Some((t, k)) = self.keys.lookup(presented) else {
            return Outcome::Denied {
                tenant: None,
                reason: DenyReason::UnknownKey,
            };
        };
        let tenant = &self.tenants[t];
        match check_tenant(tenant, input, now) {
            Ok(()) => Outcome::Allowed {
                tenant,
                key_label: tenant.key_labels[k].as_deref(),
            },
            Err(reason) => Outcome::Denied {
                tenant: Some(tenant),
                reason,
            },
        }
    }
}

fn presented_key<'i>(
    input: &'i dyn RuleInput,
    keys: &KeyLocation,
) -> Result<Option<&'i str>, Ambiguous> {
    let non_empty = |v: Option<&'i str>| v.filter(|s| !s.is_empty());
    let from_header = match &keys.header {
        Some(name) => non_empty(input.header(name)?),
        None => None,
    };
    let from_query = match &keys.query {
        Some(name) => non_empty(input.query(name)?),
        None => None,
    };
    match (from_header, from_query) {
        (Some(h), Some(q)) if h != q => Err(Ambiguous),
        (Some(value), _) | (None, Some(value)) => Ok(Some(value)),
        (None, None) => Ok(None),
    }
}

fn check_tenant(tenant: &Tenant, input: &dyn RuleInput, now: SystemTime) -> Result<(), DenyReason> {
    if tenant.revoked {
        return Err(DenyReason::Revoked);
    }
    if let Some(rules) = &tenant.source_ip {
        let ip = input.source_ip().ok_or(DenyReason::NoSourceIp)?;
        match rules.check(ip) {
            IpVerdict::Pass => {}
            IpVerdict::InDenyList => return Err(DenyReason::SourceIpDenied),
            IpVerdict::NotInAllowList => return Err(DenyReason::SourceIpNotAllowed),
        }
    }
    if let Some(rules) = &tenant.client_cert {
        match rules.check(input.client_cert().as_ref(), now) {
            CertVerdict::Pass => {}
            verdict => return Err(DenyReason::ClientCert(verdict)),
        }
    }
    for (name, accepted) in &tenant.conditions.stage_variables {
        let ok = input
            .stage_variable(name)
            .is_some_and(|v| accepted.iter().any(|a| a == v));
        if !ok {
            return Err(DenyReason::Condition {
                kind: "stageVariables",
                name: name.clone(),
            });
        }
    }
    if let Some(accepted) = &tenant.conditions.viewer_country {
        let ok = input
            .viewer_country()
            .is_some_and(|c| accepted.iter().any(|a| a == c));
        if !ok {
            return Err(DenyReason::Condition {
                kind: "viewerCountry",
                name: "country".into(),
            });
        }
    }
    for (name, accepted) in &tenant.conditions.headers {
        let ok = matches!(input.header(name), Ok(Some(v)) if accepted.iter().any(|a| a == v));
        if !ok {
            return Err(DenyReason::Condition {
                kind: "headers",
                name: name.clone(),
            });
        }
    }
    Ok(())
}
