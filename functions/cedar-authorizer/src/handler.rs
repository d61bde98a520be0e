//! The Cedar caller check on the front door: the caller's JWT (the jwt-authorizer's token
//! sources, verifier and settings), then every route decided by the cached policy set.
//!
//! | What happened | Answer |
//! |---|---|
//! | no token, or a token refused | 401 `Unauthorized` |
//! | token valid, route not permitted | the policy of the permitted routes (403 here) |
//! | keys or policies unavailable past their stale bound | `DependencyUnavailable` (500, never cached) |

use std::time::Instant;

use jwt_authorizer::authorize::context_of;
use jwt_authorizer::handler::{now, origin_proof, refused};
use jwt_authorizer::{
    HttpFetcher, IssuerConfig, JwksFetcher, JwtError, JwtSettings, Now, TokenSource, Verifier,
    extract_token,
};
use lambda_runtime::Error;
use portcullis::config::{ConfigError, ProcessEnv};
use portcullis::door::{CallerCheck, Clock, DoorSettings, FrontDoor, Unavailable, Verdict};
use portcullis::policy::Decision;
use portcullis::request::{AuthorizerRequest, PayloadKind};
use portcullis::secrets::{
    AwsSource, Parser, SecretCache, SecretSource, SecretString, SourceError, SsmTimeouts,
};

use crate::bundle::{self, Bundle};
use crate::decide::{RouteKinds, decide, decide_request};
use crate::identity::{Identity, IdentityMapping};
use crate::settings::{CedarSettings, ContextPolicies, PolicyLocation};
use crate::source::{FileSource, VerifiedPermissionsSource};

/// The function's name in metrics.
pub const FUNCTION: &str = "cedar-authorizer";

/// Verifies the caller's JWT and decides every route with Cedar.
pub struct CedarCheck<F, P> {
    verifier: Verifier<F>,
    sources: Vec<TokenSource>,
    context_claims: Vec<String>,
    mapping: IdentityMapping,
    policies: SecretCache<P, Bundle>,
}

impl<F: JwksFetcher, P: SecretSource> CedarCheck<F, P> {
    /// The check for `jwt` settings (without `JWT_ROUTE_SCOPES`: Cedar decides the routes),
    /// fetching keys with `fetcher` and policies from `policies` under `name`.
    pub fn new(
        jwt: &JwtSettings,
        cedar: &CedarSettings,
        fetcher: impl Fn(&IssuerConfig) -> F,
        policies: P,
    ) -> Result<Self, ConfigError> {
        if jwt.routes.is_some() {
            return Err(ConfigError::new(
                "JWT_ROUTE_SCOPES",
                "is not read by the cedar authorizer: Cedar policies decide the routes",
            ));
        }
        Ok(Self {
            verifier: Verifier::new(jwt.issuers.clone(), jwt.cache, jwt.max_token_bytes, fetcher),
            sources: jwt.sources.clone(),
            context_claims: jwt.context_claims.clone(),
            mapping: cedar.mapping.clone(),
            policies: SecretCache::new(
                policies,
                cedar.location.name(),
                cedar.cache,
                parser(cedar.context_policies),
            ),
        })
    }

    /// The policy cache (reachable for tests).
    pub fn policies(&self) -> &SecretCache<P, Bundle> {
        &self.policies
    }

    /// Fetches every issuer's keys and the policies. A failure does not fail init: requests
    /// fail (500) until a fetch succeeds.
    pub async fn prefetch(&self, now: Instant) {
        let keys = self.verifier.prefetch(now);
        let (keys, policies) = tokio::join!(keys, self.policies.prefetch(now));
        for (issuer, result) in keys {
            if result.is_err() {
                tracing::warn!(%issuer, reason = "jwks_prefetch_failed", "jwks prefetch failed; its tokens fail until a fetch succeeds");
            }
        }
        match policies {
            Ok(()) => tracing::info!(source = %self.policies.name(), "policies loaded"),
            Err(error) => {
                tracing::warn!(%error, reason = "policies_prefetch_failed", "policies unavailable; requests fail until a fetch succeeds")
            }
        }
    }

    async fn verified(
        &self,
        request: &AuthorizerRequest,
        now: Now,
    ) -> Result<jwt_authorizer::VerifiedToken, JwtError> {
        let token = extract_token(request, &self.sources)?;
        self.verifier.verify(token, now).await
    }
}

impl<F: JwksFetcher, P: SecretSource> CallerCheck for CedarCheck<F, P> {
    async fn check(
        &self,
        request: &AuthorizerRequest,
        clock: Clock,
    ) -> Result<Verdict, Unavailable> {
        let token = match self.verified(request, now(clock)).await {
            Ok(token) => token,
            Err(error) => return refused(&error),
        };
        let bundle = self.policies.get(clock.instant).await.map_err(|error| {
            tracing::error!(%error, "policies unavailable");
            Unavailable {
                reason: "policies_unavailable",
            }
        })?;
        let unavailable = |error: &dyn std::fmt::Display| {
            tracing::error!(%error, "cedar decision failed");
            Unavailable {
                reason: "cedar_failed",
            }
        };
        let identity = Identity::from_claims(
            &self.mapping,
            &bundle.namespace,
            &token.issuer,
            &token.claims,
        )
        .map_err(|e| unavailable(&e))?;
        let Some(identity) = identity else {
            return Ok(Verdict::Unauthorized {
                reason: "principal_claim_missing",
            });
        };
        let context = context_of(&token, &self.context_claims).map_err(|e| unavailable(&e))?;
        if bundle.reads_context.is_some() {
            let outcome = decide_request(&bundle, &identity, &request.method_arn, &request.query)
                .map_err(|e| unavailable(&e))?;
            tracing::debug!(principal = %identity.principal(), route = ?outcome.route, "cedar decided this request alone");
            return Ok(Verdict::Decision {
                decision: Decision {
                    principal_id: token.subject,
                    policy: outcome.policy,
                    context,
                    usage_identifier_key: None,
                },
                reason: outcome.reason,
            });
        }
        let kinds = match request.kind {
            PayloadKind::WebSocket => RouteKinds::WebSocket,
            _ => RouteKinds::Http,
        };
        let outcome = decide(&bundle, &identity, request.method_arn.api(), kinds)
            .map_err(|e| unavailable(&e))?;
        if !outcome.dropped.is_empty() {
            tracing::warn!(routes = ?outcome.dropped, "permitted routes left out: an IAM wildcard for them would also reach a forbidden route");
        }
        if !outcome.erred.is_empty() {
            tracing::warn!(routes = ?outcome.erred, "policy evaluation erred; routes treated as forbidden");
        }
        tracing::debug!(principal = %identity.principal(), permitted = outcome.permitted.len(), "cedar decided");
        let reason = if outcome.policy.allows(&request.method_arn) {
            "ok"
        } else {
            "not_permitted"
        };
        Ok(Verdict::Decision {
            decision: Decision {
                principal_id: token.subject,
                policy: outcome.policy,
                context,
                usage_identifier_key: None,
            },
            reason,
        })
    }
}

/// The cache's parser of a fetched snapshot: [`bundle::parse`], or
/// [`bundle::parse_per_request`] when policies may read the request context.
pub fn parser(context: ContextPolicies) -> Parser<Bundle> {
    match context {
        ContextPolicies::Refuse => |raw| bundle::parse(raw.expose()),
        ContextPolicies::PerRequest => |raw| bundle::parse_per_request(raw.expose()),
    }
}

/// Policies from a Verified Permissions policy store or from files, as configured.
#[derive(Debug, Clone)]
pub enum PolicySource {
    /// `CEDAR_POLICY_STORE_ID`.
    Store(VerifiedPermissionsSource),
    /// `CEDAR_POLICY_FILE` + `CEDAR_SCHEMA_FILE`.
    Files(FileSource),
}

impl SecretSource for PolicySource {
    async fn fetch(&self, name: &str) -> Result<SecretString, SourceError> {
        match self {
            Self::Store(source) => source.fetch(name).await,
            Self::Files(source) => source.fetch(name).await,
        }
    }
}

/// The Cedar authorizer: the front door (optional origin proof) around [`CedarCheck`].
pub type Authorizer<S, F, P> = FrontDoor<S, CedarCheck<F, P>>;

/// Reads every setting, builds the door and prefetches the origin secrets, every issuer's keys
/// and the policies. A bad setting fails init; an unreachable dependency does not.
pub async fn from_env() -> Result<Authorizer<AwsSource, HttpFetcher, PolicySource>, Error> {
    let env = ProcessEnv;
    let jwt = JwtSettings::from_env(&env)?;
    let cedar = CedarSettings::from_env(&env)?;
    let door = DoorSettings::from_env(&env, "ORIGIN_SECRET_")?;
    let timeouts = SsmTimeouts::from_env(&env)?;
    let client = HttpFetcher::client(&jwt.http)?;
    let http = jwt.http;
    let policies = match &cedar.location {
        PolicyLocation::Store(_) => {
            PolicySource::Store(VerifiedPermissionsSource::from_env(timeouts).await)
        }
        PolicyLocation::Files { policies, schema } => {
            PolicySource::Files(FileSource::new(policies, schema))
        }
    };
    let check = CedarCheck::new(
        &jwt,
        &cedar,
        |issuer| HttpFetcher::with_client(client.clone(), issuer.jwks.clone(), http),
        policies,
    )?;
    let origin = origin_proof(&door, timeouts).await;
    let authorizer = FrontDoor::new(FUNCTION, &door, origin, check);
    let now = Instant::now();
    tokio::join!(authorizer.prefetch(now), authorizer.caller().prefetch(now));
    Ok(authorizer)
}
