//! The handler: parse the event, verify within the invocation's deadline, render the decision.
//! Every failure ends in `Unauthorized` (401); a valid token whose scopes do not cover the route
//! gets a policy without it (403). The token itself is never logged.

use std::time::SystemTime;

use crate::{
    HttpFetcher, JwtError, JwtSettings, Now, RoutePolicy, TokenSource, Verifier, authorize,
    settings::HttpApiFormat,
};
use lambda_runtime::{Error, LambdaEvent};
use portcullis::config::{Env, ProcessEnv};
use portcullis::request::AuthorizerRequest;
use portcullis::response::{HttpApiResponseMode, UNAUTHORIZED, render};
use portcullis::telemetry::Metrics;
use serde_json::Value;

/// Everything built once per container.
pub struct Handler {
    verifier: Verifier<HttpFetcher>,
    routes: RoutePolicy,
    sources: Vec<TokenSource>,
    context_claims: Vec<String>,
    mode: HttpApiResponseMode,
    metrics: Metrics,
}

impl Handler {
    /// Read the settings, build the verifier and prefetch every issuer's keys. A bad setting
    /// fails init; an unreachable key set does not (requests fail closed until it is reachable).
    pub async fn from_env() -> Result<Self, Error> {
        let settings = JwtSettings::from_env(&ProcessEnv)?;
        let client = HttpFetcher::client(&settings.http)?;
        let http = settings.http;
        let verifier = Verifier::new(
            settings.issuers.clone(),
            settings.cache,
            settings.max_token_bytes,
            |issuer| HttpFetcher::with_client(client.clone(), issuer.jwks.clone(), http),
        );
        for (issuer, result) in verifier.prefetch(std::time::Instant::now()).await {
            match result {
                Ok(keys) => tracing::info!(%issuer, keys, "jwks prefetched"),
                // The fetch itself already logged why (one line per cause); this names the issuer.
                Err(_) => {
                    tracing::warn!(%issuer, reason = "jwks_prefetch_failed", "jwks prefetch failed; its tokens are refused until a fetch succeeds")
                }
            }
        }
        Ok(Handler {
            verifier,
            routes: RoutePolicy::new(settings.routes)?,
            sources: settings.sources,
            context_claims: settings.context_claims,
            mode: match settings.http_api_format {
                HttpApiFormat::Simple => HttpApiResponseMode::Simple,
                HttpApiFormat::Iam => HttpApiResponseMode::Iam,
            },
            metrics: Metrics::new(ProcessEnv.var("METRICS_NAMESPACE"), "jwt-authorizer"),
        })
    }

    /// One invocation.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Error> {
        let budget = portcullis::deadline::budget(event.context.deadline(), SystemTime::now());
        let request = match AuthorizerRequest::from_value(&event.payload) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(reason = "bad_event", error = %e, "not an authorizer event");
                self.metrics.decision("unauthorized", "bad_event", now_ms());
                return Err(UNAUTHORIZED.into());
            }
        };
        let kind = request.kind.as_str();
        let outcome = tokio::time::timeout(
            budget,
            authorize(
                &self.verifier,
                &self.routes,
                &self.sources,
                &self.context_claims,
                &request,
                Now::system(),
            ),
        )
        .await
        .unwrap_or(Err(JwtError::Deadline));
        match outcome {
            Ok((token, decision)) => {
                let allowed = decision.policy.allows(&request.method_arn);
                let verdict = if allowed { "allow" } else { "deny" };
                let reason = if allowed { "ok" } else { "scope_missing" };
                tracing::info!(decision = verdict, reason, kind, issuer = %token.issuer, "token accepted");
                self.metrics.decision(verdict, reason, now_ms());
                Ok(render(&decision, &request, self.mode))
            }
            Err(e) => {
                tracing::info!(
                    decision = "unauthorized",
                    reason = e.code(),
                    kind,
                    "token rejected"
                );
                self.metrics.decision("unauthorized", e.code(), now_ms());
                Err(UNAUTHORIZED.into())
            }
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
