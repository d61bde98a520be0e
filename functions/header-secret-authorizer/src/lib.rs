//! The header-secret authorizer: CloudFront adds a secret header to every origin request and
//! this authorizer lets a request in only when that header holds one of the secrets in an SSM
//! parameter (one per line, so a rotation is: add the new line, switch CloudFront, remove the
//! old line).
//!
//! The decision does not depend on the route, so an Allow covers the whole API stage and
//! API Gateway's authorizer cache can never reuse a narrower policy for another route.

mod config;
mod secret_set;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use constant_time_eq::constant_time_eq;
use portcullis::policy::{Context, Decision};
use portcullis::request::AuthorizerRequest;
use portcullis::response::render;
use portcullis::secrets::{SecretCache, SecretSource};
use portcullis::telemetry::Metrics;
use serde_json::Value;

pub use config::Config;
pub use secret_set::SecretSet;

/// Principal of an allowed request: the CloudFront distribution that knows the secret.
pub const PRINCIPAL_ALLOWED: &str = "cloudfront";
/// Principal of a denied request.
pub const PRINCIPAL_DENIED: &str = "anonymous";

/// The event was not an authorizer event; Lambda reports it and API Gateway answers 500.
#[derive(Debug, thiserror::Error)]
#[error("malformed authorizer event")]
pub struct MalformedEvent;

impl From<MalformedEvent> for lambda_runtime::Diagnostic {
    fn from(error: MalformedEvent) -> Self {
        Self {
            error_type: "MalformedEvent".into(),
            error_message: error.to_string(),
        }
    }
}

/// Why a request was let in or kept out; logged and counted as a short code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The header matched secret line `slot` (0-based).
    Match {
        /// Which line of the parameter matched.
        slot: usize,
    },
    /// No secret header.
    MissingHeader,
    /// The header appeared with different values.
    AmbiguousHeader,
    /// The header matched no secret.
    WrongSecret,
    /// The secrets could not be read (past the stale bound).
    SecretUnavailable,
    /// The secrets were still being fetched when the invocation's time ran out.
    Deadline,
}

impl Reason {
    /// Short code for logs and metrics.
    pub fn code(self) -> &'static str {
        match self {
            Self::Match { .. } => "match",
            Self::MissingHeader => "missing_header",
            Self::AmbiguousHeader => "ambiguous_header",
            Self::WrongSecret => "wrong_secret",
            Self::SecretUnavailable => "secret_unavailable",
            Self::Deadline => "deadline",
        }
    }
}

/// The authorizer: a secret cache plus the settings.
pub struct Authorizer<S> {
    cache: SecretCache<S, SecretSet>,
    config: Config,
    metrics: Metrics,
}

impl<S: SecretSource> Authorizer<S> {
    /// An authorizer reading `config.parameter_name` from `source`.
    pub fn new(source: S, config: Config) -> Self {
        let cache = SecretCache::new(
            source,
            config.parameter_name.clone(),
            config.cache,
            SecretSet::parse,
        );
        let metrics = Metrics::new(config.metrics_namespace.clone(), "header-secret-authorizer");
        Self {
            cache,
            config,
            metrics,
        }
    }

    /// Loads the secrets at init so the first request is answered from memory.
    pub async fn prefetch(&self, now: Instant) {
        if let Err(error) = self.cache.prefetch(now).await {
            tracing::error!(error = %error, "prefetch failed; requests are denied until a fetch succeeds");
        }
    }

    /// The secret cache (its source is reachable for tests).
    pub fn cache(&self) -> &SecretCache<S, SecretSet> {
        &self.cache
    }

    /// Answers one authorizer event in its own response format.
    pub async fn handle(&self, event: &Value, now: Instant) -> Result<Value, MalformedEvent> {
        self.handle_within(event, now, Duration::MAX).await
    }

    /// [`Self::handle`], denying with reason `deadline` when the secrets are not at hand within
    /// `budget` (a slow SSM must not outlive the invocation: Lambda would kill it mid-call).
    pub async fn handle_within(
        &self,
        event: &Value,
        now: Instant,
        budget: Duration,
    ) -> Result<Value, MalformedEvent> {
        let request = AuthorizerRequest::from_value(event).map_err(|error| {
            tracing::warn!(error = %error, "rejecting malformed authorizer event");
            self.metrics
                .decision("error", "malformed_event", epoch_ms());
            MalformedEvent
        })?;
        let reason = tokio::time::timeout(budget, self.check(&request, now))
            .await
            .unwrap_or_else(|_| {
                tracing::error!(
                    budget_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
                    "deadline: secrets not fetched before the invocation's time ran out; denying"
                );
                Reason::Deadline
            });
        let decision = match reason {
            Reason::Match { slot } => {
                tracing::debug!(kind = request.kind.as_str(), slot, "allow");
                let mut context = Context::new();
                context
                    .insert("lockdown", "header-secret")
                    .expect("static key is not empty");
                Decision::allow_all(PRINCIPAL_ALLOWED, &request.method_arn, context)
            }
            denied => {
                tracing::info!(kind = request.kind.as_str(), reason = denied.code(), "deny");
                Decision::deny_all(PRINCIPAL_DENIED, &request.method_arn)
            }
        };
        let verdict = if matches!(reason, Reason::Match { .. }) {
            "allow"
        } else {
            "deny"
        };
        self.metrics.decision(verdict, reason.code(), epoch_ms());
        Ok(render(&decision, &request, self.config.http_mode))
    }

    /// Checks the secret header (or a TOKEN event's token) against every secret line.
    pub async fn check(&self, request: &AuthorizerRequest, now: Instant) -> Reason {
        let candidate = match request.authorization_token.as_deref() {
            Some(token) => Some(token),
            None => match request.headers.get(&self.config.header_name) {
                Ok(value) => value,
                Err(_) => return Reason::AmbiguousHeader,
            },
        };
        let Some(candidate) = candidate else {
            return Reason::MissingHeader;
        };
        let secrets = match self.cache.get(now).await {
            Ok(secrets) => secrets,
            Err(error) => {
                tracing::error!(error = %error, "secrets unavailable; denying");
                return Reason::SecretUnavailable;
            }
        };
        // Compare with every line, in constant time per line, without stopping at a match.
        let mut matched = None;
        for (slot, secret) in secrets.iter().enumerate() {
            if constant_time_eq(candidate.as_bytes(), secret.as_bytes()) && matched.is_none() {
                matched = Some(slot);
            }
        }
        matched.map_or(Reason::WrongSecret, |slot| Reason::Match { slot })
    }
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests;
