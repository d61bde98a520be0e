//! The tenant caller check on the front door: current rules → decision. A request without an
//! API key is `Unauthorized` (401); a refused key is an explicit Deny (403); rules that cannot
//! be read are a dependency failure (500, never cached).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::rules::{
    Answer, DenyReason, Format, KeyLocation, RuleSet, RulesError, decide, request_time,
};
use portcullis::door::{CallerCheck, Clock, FrontDoor, Unavailable, Verdict};
use portcullis::origin::SecretProof;
use portcullis::request::{AuthorizerRequest, PayloadKind};
use portcullis::secrets::{CacheError, SecretCache, SecretSource, SecretString};

use crate::config::Config;

/// The function's name in metrics.
pub const FUNCTION: &str = "request-authorizer";

/// The rules in force: a bundled file read once, or an SSM parameter behind a [`SecretCache`].
pub enum Rules<S> {
    /// Parsed at init, never refreshed.
    Fixed(Arc<RuleSet>),
    /// Refreshed after the TTL; a document that fails validation keeps the last good one.
    Cached(Box<SecretCache<S, RuleSet>>),
}

impl<S: SecretSource> Rules<S> {
    /// Reads and validates a bundled rules file (format from its extension, else detected).
    pub fn from_file(path: &Path) -> Result<Self, InitError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InitError::File(format!("{}: {e}", path.display())))?;
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Format::Json,
            Some("toml") => Format::Toml,
            _ => Format::detect(&text),
        };
        let rules = RuleSet::parse_as(&text, format).map_err(InitError::Rules)?;
        Ok(Rules::Fixed(Arc::new(rules)))
    }

    /// Caches the parameter and fetches it once. An invalid document fails init; an
    /// unreachable SSM is logged and retried on the first request.
    pub async fn from_parameter(
        source: S,
        name: &str,
        config: &Config,
        now: Instant,
    ) -> Result<Self, InitError> {
        let cache = SecretCache::new(source, name, config.cache, parse_rules);
        match cache.prefetch(now).await {
            Ok(()) => {}
            Err(CacheError::Invalid { reason, .. }) => return Err(InitError::Parameter(reason)),
            Err(error) => {
                tracing::warn!(%error, "rules not fetched at init; retrying on first request")
            }
        }
        Ok(Rules::Cached(Box::new(cache)))
    }

    async fn current(&self, now: Instant) -> Result<Arc<RuleSet>, CacheError> {
        match self {
            Rules::Fixed(rules) => Ok(rules.clone()),
            Rules::Cached(cache) => cache.get(now).await,
        }
    }
}

fn parse_rules(raw: &SecretString) -> Result<RuleSet, String> {
    RuleSet::parse(raw.expose()).map_err(|e| e.to_string())
}

/// Why the function could not start.
#[derive(Debug)]
pub enum InitError {
    /// The rules file could not be read.
    File(String),
    /// The rules file is invalid (names the entry).
    Rules(RulesError),
    /// The rules parameter holds an invalid document (names the entry).
    Parameter(String),
}

impl std::error::Error for InitError {}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitError::File(e) => write!(f, "cannot read RULES_FILE {e}"),
            InitError::Rules(e) => write!(f, "invalid rules document: {e}"),
            InitError::Parameter(e) => {
                write!(f, "invalid rules document in RULES_PARAMETER_NAME: {e}")
            }
        }
    }
}

/// Decides a request by the tenant rules.
pub struct TenantCheck<S> {
    rules: Rules<S>,
    keys: KeyLocation,
}

impl<S: SecretSource> CallerCheck for TenantCheck<S> {
    async fn check(
        &self,
        request: &AuthorizerRequest,
        clock: Clock,
    ) -> Result<Verdict, Unavailable> {
        if request.kind == PayloadKind::RestToken {
            tracing::warn!("TOKEN event: configure this function as a REQUEST authorizer");
        }
        let rules = self.rules.current(clock.instant).await.map_err(|error| {
            tracing::error!(%error, "no valid rules document");
            Unavailable {
                reason: "rules_unavailable",
            }
        })?;
        let at = request_time(request, clock.wall);
        Ok(match decide(&rules, request, &self.keys, at) {
            Answer::Unauthorized => Verdict::Unauthorized { reason: "no_key" },
            Answer::Deny {
                decision, reason, ..
            } => {
                tracing::debug!(%reason, "denied");
                Verdict::Decision {
                    decision,
                    reason: reason_code(&reason),
                }
            }
            Answer::Allow {
                decision,
                key_label,
                route_granted,
                ..
            } => {
                tracing::debug!(
                    key = key_label.as_deref().unwrap_or("-"),
                    "tenant authenticated"
                );
                let reason = if route_granted {
                    "granted"
                } else {
                    "route_not_granted"
                };
                Verdict::Decision { decision, reason }
            }
        })
    }
}

/// The REQUEST authorizer: the front door (optional origin proof) around [`TenantCheck`].
pub type Authorizer<S> = FrontDoor<S, TenantCheck<S>>;

/// The authorizer deciding by `rules`, with the origin proof when configured.
pub fn authorizer<S: SecretSource>(
    rules: Rules<S>,
    origin: Option<SecretProof<S>>,
    config: &Config,
) -> Authorizer<S> {
    let check = TenantCheck {
        rules,
        keys: config.keys.clone(),
    };
    FrontDoor::new(FUNCTION, &config.door, origin, check)
}

fn reason_code(reason: &DenyReason) -> &'static str {
    use DenyReason as R;
    match reason {
        R::AmbiguousKey => "ambiguous_key",
        R::UnknownKey => "unknown_key",
        R::Revoked => "revoked",
        R::NoSourceIp => "no_source_ip",
        R::SourceIpDenied => "source_ip_denied",
        R::SourceIpNotAllowed => "source_ip_not_allowed",
        R::ClientCert(_) => "client_cert",
        R::Condition { .. } => "condition",
        R::Policy(_) => "policy",
    }
}

#[cfg(test)]
mod tests;
