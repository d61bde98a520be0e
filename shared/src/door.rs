//! The front door: the one pipeline every authorizer runs.
//!
//! ```text
//! event ─▶ request view ─▶ origin proof ─▶ trusted viewer facts ─▶ caller check ─▶ verdict
//!            (malformed?)    (optional)      (optional, after       (the function's    │
//!                                             the proof only)        own decision)     ▼
//!                                 log line + EMF metric ◀─ response for the payload format
//! ```
//!
//! Each function implements only [`CallerCheck`]; the door owns the rest, under the
//! invocation's deadline. One error policy, for every function:
//!
//! | What happened | Answer | Cached by API Gateway |
//! |---|---|---|
//! | caller's credential refused | 401 `Unauthorized`, or an explicit Deny (403), as the function decides | yes |
//! | origin proof missing or wrong (secret header, or pinned client certificate) | explicit Deny of the whole API (403), reason `origin_*` | yes |
//! | event not an authorizer event | function error `MalformedEvent` (500) | no |
//! | a dependency (secret, rules, keys) unavailable, or the deadline passed | function error `DependencyUnavailable` (500) | no |
//! | a route-dependent simple response whose cache key lacks the route | function error `RouteNotInCacheKey` (500) | no |
//!
//! A dependency failure never becomes a cacheable answer: under CloudFront every request
//! carries the same secret, so one cached Deny would take the whole site down for the TTL.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::config::{self, ConfigError, Env};
use crate::origin::{CertPins, SecretProof, SecretProofConfig};
use crate::policy::Decision;
use crate::request::AuthorizerRequest;
use crate::response::{HttpApiResponseMode, UNAUTHORIZED, render};
use crate::secrets::SecretSource;
use crate::telemetry::Metrics;
use crate::viewer;

/// The time of one invocation: monotonic for caches, wall clock for claims and validity.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Monotonic instant (cache ages).
    pub instant: Instant,
    /// Wall-clock time (token claims, certificate validity, when the event carries none).
    pub wall: SystemTime,
}

impl Clock {
    /// The system clocks, now.
    pub fn system() -> Self {
        Self {
            instant: Instant::now(),
            wall: SystemTime::now(),
        }
    }
}

/// What a caller check decided.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// A policy to answer with: an Allow listing the permitted routes (which may not include
    /// this one), or an explicit Deny.
    Decision {
        /// The decision to render.
        decision: Decision,
        /// Short reason code for logs and metrics.
        reason: &'static str,
    },
    /// No usable credential: answer `Unauthorized` (401).
    Unauthorized {
        /// Short reason code for logs and metrics.
        reason: &'static str,
    },
}

impl Verdict {
    /// An explicit Deny of the whole API stage of `request` for `principal`.
    pub fn deny(principal: &str, request: &AuthorizerRequest, reason: &'static str) -> Self {
        Self::Decision {
            decision: Decision::deny_all(principal, &request.method_arn),
            reason,
        }
    }
}

/// A dependency could not answer (or the deadline passed): never a cacheable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable {
    /// Short reason code for logs and metrics (`secret_unavailable`, `jwks_unavailable`, …).
    pub reason: &'static str,
}

/// A function's own decision, given a request that passed the origin proof (if configured).
pub trait CallerCheck: Send + Sync {
    /// Decides one request. Log here only what the door's one line per decision does not say
    /// (and never a credential).
    fn check(
        &self,
        request: &AuthorizerRequest,
        clock: Clock,
    ) -> impl Future<Output = Result<Verdict, Unavailable>> + Send;
}

/// How the door refuses to answer with a policy; the Lambda error API Gateway sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `Unauthorized`: API Gateway answers 401.
    #[error("Unauthorized")]
    Unauthorized,
    /// Not an authorizer event: 500.
    #[error("malformed authorizer event")]
    MalformedEvent,
    /// A dependency failed or the deadline passed: 500, never cached.
    #[error("dependency unavailable")]
    DependencyUnavailable,
    /// A route-dependent simple response without the route in the cache key: 500.
    #[error("route not in the authorizer cache key")]
    RouteNotInCacheKey,
}

impl Refusal {
    /// The Lambda `errorType`.
    pub fn error_type(self) -> &'static str {
        match self {
            Self::Unauthorized => UNAUTHORIZED,
            Self::MalformedEvent => "MalformedEvent",
            Self::DependencyUnavailable => "DependencyUnavailable",
            Self::RouteNotInCacheKey => "RouteNotInCacheKey",
        }
    }
}

impl From<Refusal> for lambda_runtime::Diagnostic {
    fn from(refusal: Refusal) -> Self {
        Self {
            error_type: refusal.error_type().into(),
            error_message: refusal.to_string(),
        }
    }
}

/// The door's own settings, common to every function.
#[derive(Debug, Clone, PartialEq)]
pub struct DoorSettings {
    /// `HTTP_API_RESPONSE_MODE`: `simple` (default) or `iam` for payload 2.0 (the JWT
    /// authorizer's former `JWT_HTTP_API_RESPONSE` is still read, with a deprecation warning).
    pub http_mode: HttpApiResponseMode,
    /// `METRICS_NAMESPACE`: CloudWatch EMF namespace; unset disables metrics.
    pub metrics_namespace: Option<String>,
    /// The secret origin proof, when configured.
    pub origin: Option<SecretProofConfig>,
    /// `ORIGIN_CERT_SHA256`: the certificate origin proof, when configured.
    pub cert_pins: Option<CertPins>,
    /// `TRUST_CLOUDFRONT_VIEWER_HEADERS`: apply CloudFront's viewer facts after the proof.
    pub trust_viewer: bool,
}

impl DoorSettings {
    /// Reads the settings; the secret proof's under `origin_prefix` (`ORIGIN_SECRET_` for a
    /// caller authorizer). Trusting viewer headers without an origin proof is refused.
    pub fn from_env(env: &impl Env, origin_prefix: &str) -> Result<Self, ConfigError> {
        let origin = SecretProofConfig::from_env(env, origin_prefix)?;
        let cert_pins = CertPins::from_env(env)?;
        let trust_viewer: bool = match env.var("TRUST_CLOUDFRONT_VIEWER_HEADERS") {
            None => false,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(ConfigError::new(
                        "TRUST_CLOUDFRONT_VIEWER_HEADERS",
                        "expected true or false",
                    ));
                }
            },
        };
        if trust_viewer && origin.is_none() && cert_pins.is_none() {
            return Err(ConfigError::new(
                "TRUST_CLOUDFRONT_VIEWER_HEADERS",
                format!(
                    "CloudFront viewer headers can be forged by any direct caller: set an origin proof too ({origin_prefix}PARAMETER_NAME or ORIGIN_CERT_SHA256), or leave this false"
                ),
            ));
        }
        Ok(Self {
            http_mode: config::parse_or_renamed(
                env,
                "HTTP_API_RESPONSE_MODE",
                "JWT_HTTP_API_RESPONSE",
                HttpApiResponseMode::Simple,
            )?,
            metrics_namespace: env.var("METRICS_NAMESPACE"),
            origin,
            cert_pins,
            trust_viewer,
        })
    }
}

/// One function's front door: origin proof, caller check, rendering, logs and metrics.
pub struct FrontDoor<S, C> {
    pins: Option<CertPins>,
    origin: Option<SecretProof<S>>,
    trust_viewer: bool,
    caller: C,
    http_mode: HttpApiResponseMode,
    metrics: Metrics,
}

impl<S: SecretSource, C: CallerCheck> FrontDoor<S, C> {
    /// The door of `function` (its name in metrics) around `caller`, with the secret proof
    /// `origin` and the settings' certificate pins when configured.
    pub fn new(
        function: &'static str,
        settings: &DoorSettings,
        origin: Option<SecretProof<S>>,
        caller: C,
    ) -> Self {
        Self {
            pins: settings.cert_pins.clone(),
            origin,
            trust_viewer: settings.trust_viewer,
            caller,
            http_mode: settings.http_mode,
            metrics: Metrics::new(settings.metrics_namespace.clone(), function),
        }
    }

    /// The caller check.
    pub fn caller(&self) -> &C {
        &self.caller
    }

    /// The origin proof, when configured.
    pub fn origin(&self) -> Option<&SecretProof<S>> {
        self.origin.as_ref()
    }

    /// Loads the origin secrets at init so the first request is answered from memory.
    pub async fn prefetch(&self, now: Instant) {
        if let Some(origin) = &self.origin {
            origin.prefetch(now).await;
        }
    }

    /// Answers one event at `clock`, within `budget` (the time left before Lambda's
    /// deadline, less a margin): the response JSON, or the [`Refusal`] to report.
    pub async fn serve(
        &self,
        event: &Value,
        clock: Clock,
        budget: Duration,
    ) -> Result<Value, Refusal> {
        let mut request = match AuthorizerRequest::from_value(event) {
            Ok(request) => request,
            Err(error) => {
                tracing::warn!(%error, "rejecting malformed authorizer event");
                self.record("error", "malformed_event", clock);
                return Err(Refusal::MalformedEvent);
            }
        };
        let kind = request.kind.as_str();
        let verdict = tokio::time::timeout(budget, self.decide(&mut request, clock))
            .await
            .unwrap_or_else(|_| {
                tracing::error!(
                    budget_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
                    "deadline: a dependency did not answer before the invocation's time ran out"
                );
                Err(Unavailable { reason: "deadline" })
            });
        match verdict {
            Err(Unavailable { reason }) => {
                tracing::error!(
                    kind,
                    decision = "error",
                    reason,
                    "dependency unavailable; answering an error API Gateway does not cache"
                );
                self.record("error", reason, clock);
                Err(Refusal::DependencyUnavailable)
            }
            Ok(Verdict::Unauthorized { reason }) => {
                tracing::info!(kind, decision = "unauthorized", reason, "unauthorized");
                self.record("unauthorized", reason, clock);
                Err(Refusal::Unauthorized)
            }
            Ok(Verdict::Decision { decision, reason }) => {
                let response = match render(&decision, &request, self.http_mode) {
                    Ok(response) => response,
                    Err(error) => {
                        tracing::error!(kind, decision = "error", reason = "route_not_in_cache_key", %error);
                        self.record("error", "route_not_in_cache_key", clock);
                        return Err(Refusal::RouteNotInCacheKey);
                    }
                };
                // What the caller gets for this request: the simple answer as rendered (it may be
                // for the route template), else the policy on this request's ARN.
                let allowed = response
                    .get("isAuthorized")
                    .and_then(Value::as_bool)
                    .unwrap_or_else(|| decision.policy.allows(&request.method_arn));
                let verdict = if allowed { "allow" } else { "deny" };
                tracing::info!(
                    kind,
                    decision = verdict,
                    reason,
                    principal = decision.principal_id.as_str(),
                    "decision"
                );
                self.record(verdict, reason, clock);
                Ok(response)
            }
        }
    }

    async fn decide(
        &self,
        request: &mut AuthorizerRequest,
        clock: Clock,
    ) -> Result<Verdict, Unavailable> {
        if let Some(pins) = &self.pins {
            if let Err(failure) = pins.check(request, clock.wall) {
                return Ok(Verdict::deny(ANONYMOUS, request, failure.code()));
            }
            tracing::debug!("origin certificate pinned");
        }
        if let Some(origin) = &self.origin {
            match origin.check(request, clock.instant).await {
                Err(error) => {
                    tracing::error!(%error, "origin secrets unavailable");
                    return Err(Unavailable {
                        reason: "secret_unavailable",
                    });
                }
                Ok(Err(failure)) => return Ok(Verdict::deny(ANONYMOUS, request, failure.code())),
                Ok(Ok(slot)) => tracing::debug!(slot, "origin proof passed"),
            }
        }
        // Only now, with a proof passed, may CloudFront's viewer headers be believed.
        if self.trust_viewer && (self.pins.is_some() || self.origin.is_some()) {
            viewer::apply(request);
        }
        self.caller.check(request, clock).await
    }

    fn record(&self, decision: &str, reason: &str, clock: Clock) {
        let stamp = clock
            .wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.metrics.decision(decision, reason, stamp);
    }
}

/// Principal of a request denied before its caller was known.
pub const ANONYMOUS: &str = "anonymous";

/// Runs `door` on the Lambda Runtime API: one invocation at a time, each within its deadline.
pub async fn run<S: SecretSource, C: CallerCheck>(
    door: FrontDoor<S, C>,
) -> Result<(), lambda_runtime::Error> {
    let door = &door;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Value>| async move {
            let budget = crate::deadline::budget(event.context.deadline(), SystemTime::now());
            door.serve(&event.payload, Clock::system(), budget).await
        },
    ))
    .await
}

#[cfg(test)]
mod tests;
