//! The authorizer: event → request view → current rules → decision → response for the
//! payload format that arrived. Every failure answers 401 or 500, never Allow.

use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::rules::{Answer, Format, KeyLocation, RuleSet, RulesError, decide, request_time};
use portcullis::request::{AuthorizerRequest, PayloadKind};
use portcullis::response::{HttpApiResponseMode, UNAUTHORIZED, render};
use portcullis::secrets::{CacheError, SecretCache, SecretSource, SecretString};
use portcullis::telemetry::Metrics;
use serde_json::Value;

use crate::config::Config;

/// An error the Lambda runtime reports; its message is what API Gateway sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError(pub &'static str);

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for HandlerError {}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        let error_type = if error == UNAUTHORIZED_ERROR {
            "Unauthorized"
        } else {
            "RulesUnavailable"
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.0.to_owned(),
        }
    }
}

/// `Unauthorized`: API Gateway answers 401.
pub const UNAUTHORIZED_ERROR: HandlerError = HandlerError(UNAUTHORIZED);
/// Any other error: API Gateway answers 500.
pub const RULES_UNAVAILABLE: HandlerError = HandlerError("rules unavailable");

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

/// The authorizer with its settings and rules.
pub struct Authorizer<S> {
    rules: Rules<S>,
    keys: KeyLocation,
    mode: HttpApiResponseMode,
    metrics: Metrics,
}

impl<S: SecretSource> Authorizer<S> {
    /// Builds the authorizer from its parts.
    pub fn new(rules: Rules<S>, config: &Config) -> Self {
        Self {
            rules,
            keys: config.keys.clone(),
            mode: config.http_api_response_mode,
            metrics: Metrics::new(config.metrics_namespace.clone(), "request-authorizer"),
        }
    }

    /// Handles one event with the real clocks.
    pub async fn handle(&self, event: Value) -> Result<Value, HandlerError> {
        self.handle_at(event, Instant::now(), SystemTime::now())
            .await
    }

    /// Handles one event at the given instants (`clock` for the rules cache, `wall` when the
    /// event carries no request time).
    pub async fn handle_at(
        &self,
        event: Value,
        clock: Instant,
        wall: SystemTime,
    ) -> Result<Value, HandlerError> {
        let stamp = wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let request = match AuthorizerRequest::from_value(&event) {
            Ok(request) => request,
            Err(error) => {
                tracing::warn!(%error, "unusable authorizer event");
                self.metrics.decision("unauthorized", "bad_event", stamp);
                return Err(UNAUTHORIZED_ERROR);
            }
        };
        if request.kind == PayloadKind::RestToken {
            tracing::warn!("TOKEN event: configure this function as a REQUEST authorizer");
        }
        let rules = match self.rules.current(clock).await {
            Ok(rules) => rules,
            Err(error) => {
                tracing::error!(%error, "no valid rules document; refusing");
                self.metrics.decision("error", "rules_unavailable", stamp);
                return Err(RULES_UNAVAILABLE);
            }
        };
        let route = request.method_arn.to_string();
        let kind = request.kind.as_str();
        match decide(&rules, &request, &self.keys, request_time(&request, wall)) {
            Answer::Unauthorized => {
                tracing::info!(decision = "unauthorized", kind, route, "no API key");
                self.metrics.decision("unauthorized", "no_key", stamp);
                Err(UNAUTHORIZED_ERROR)
            }
            Answer::Deny {
                decision,
                tenant,
                reason,
            } => {
                tracing::info!(decision = "deny", kind, route, tenant = tenant.as_deref().unwrap_or("-"), %reason, "denied");
                self.metrics.decision("deny", reason_code(&reason), stamp);
                Ok(render(&decision, &request, self.mode))
            }
            Answer::Allow {
                decision,
                tenant,
                key_label,
                route_granted,
            } => {
                tracing::info!(
                    decision = "allow",
                    kind,
                    route,
                    tenant,
                    key = key_label.as_deref().unwrap_or("-"),
                    route_granted,
                    "tenant authenticated"
                );
                let reason = if route_granted {
                    "granted"
                } else {
                    "route_not_granted"
                };
                self.metrics.decision("allow", reason, stamp);
                Ok(render(&decision, &request, self.mode))
            }
        }
    }
}

fn reason_code(reason: &crate::rules::DenyReason) -> &'static str {
    use crate::rules::DenyReason as R;
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
