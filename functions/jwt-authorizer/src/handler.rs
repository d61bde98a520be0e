//! The JWT caller check on the front door: find the token, verify it, and answer the policy of
//! every route its scopes permit. A refused token is `Unauthorized` (401); a valid token whose
//! scopes do not cover the route gets a policy without it (403); a key set that cannot be
//! fetched is a dependency failure (500, never cached). The token itself is never logged.

use std::time::{Instant, UNIX_EPOCH};

use lambda_runtime::Error;
use portcullis::config::ProcessEnv;
use portcullis::door::{CallerCheck, Clock, DoorSettings, FrontDoor, Unavailable, Verdict};
use portcullis::origin::SecretProof;
use portcullis::request::AuthorizerRequest;
use portcullis::secrets::{AwsSource, SecretSource, SsmSource, SsmTimeouts};

use crate::{
    HttpFetcher, JwksFetcher, JwtError, JwtSettings, Now, RoutePolicy, TokenSource, Verifier,
    authorize,
};

/// The function's name in metrics.
pub const FUNCTION: &str = "jwt-authorizer";

/// Verifies the caller's JWT and decides its routes.
pub struct JwtCheck<F> {
    verifier: Verifier<F>,
    routes: RoutePolicy,
    sources: Vec<TokenSource>,
    context_claims: Vec<String>,
}

impl<F: JwksFetcher> JwtCheck<F> {
    /// The check for `settings`, fetching each issuer's keys with `fetcher`.
    pub fn new(
        settings: &JwtSettings,
        fetcher: impl Fn(&crate::IssuerConfig) -> F,
    ) -> Result<Self, Error> {
        Ok(Self {
            verifier: Verifier::new(
                settings.issuers.clone(),
                settings.cache,
                settings.max_token_bytes,
                fetcher,
            ),
            routes: RoutePolicy::new(settings.routes.clone())?,
            sources: settings.sources.clone(),
            context_claims: settings.context_claims.clone(),
        })
    }

    /// The verifier (its caches are reachable for tests).
    pub fn verifier(&self) -> &Verifier<F> {
        &self.verifier
    }

    /// Fetches every issuer's keys. An unreachable key set does not fail init: its tokens
    /// fail (500) until a fetch succeeds.
    pub async fn prefetch(&self, now: Instant) {
        for (issuer, result) in self.verifier.prefetch(now).await {
            match result {
                Ok(keys) => tracing::info!(%issuer, keys, "jwks prefetched"),
                // The fetch itself already logged why (one line per cause); this names the issuer.
                Err(_) => {
                    tracing::warn!(%issuer, reason = "jwks_prefetch_failed", "jwks prefetch failed; its tokens fail until a fetch succeeds")
                }
            }
        }
    }
}

impl<F: JwksFetcher> CallerCheck for JwtCheck<F> {
    async fn check(
        &self,
        request: &AuthorizerRequest,
        clock: Clock,
    ) -> Result<Verdict, Unavailable> {
        let authorized = authorize(
            &self.verifier,
            &self.routes,
            &self.sources,
            &self.context_claims,
            request,
            now(clock),
        )
        .await;
        match authorized {
            Ok((token, decision)) => {
                tracing::debug!(issuer = %token.issuer, "token accepted");
                let reason = if decision.policy.allows(&request.method_arn) {
                    "ok"
                } else {
                    "scope_missing"
                };
                Ok(Verdict::Decision { decision, reason })
            }
            Err(error) => refused(&error),
        }
    }
}

/// The verifier's time for an invocation's clock.
pub fn now(clock: Clock) -> Now {
    Now {
        unix: clock
            .wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        instant: clock.instant,
    }
}

/// A token that did not pass, as the door answers it: keys that cannot be fetched and the
/// deadline are a dependency failure (500, never cached); anything else is `Unauthorized`.
pub fn refused(error: &JwtError) -> Result<Verdict, Unavailable> {
    match error {
        JwtError::JwksUnavailable(_) | JwtError::Deadline => Err(Unavailable {
            reason: error.code(),
        }),
        _ => Ok(Verdict::Unauthorized {
            reason: error.code(),
        }),
    }
}

/// The origin proof `door` asks for, its secret read from SSM or Secrets Manager.
pub async fn origin_proof(
    door: &DoorSettings,
    timeouts: SsmTimeouts,
) -> Option<SecretProof<AwsSource>> {
    let proof = door.origin.as_ref()?;
    let ssm = SsmSource::from_env(timeouts).await;
    Some(SecretProof::new(
        proof.location.source(ssm, timeouts).await,
        proof,
        false,
    ))
}

/// The JWT authorizer: the front door (optional origin proof) around [`JwtCheck`].
pub type Authorizer<S, F> = FrontDoor<S, JwtCheck<F>>;

/// Reads every setting, builds the door and prefetches the origin secrets and every issuer's
/// keys. A bad setting fails init; an unreachable dependency does not.
pub async fn from_env() -> Result<Authorizer<AwsSource, HttpFetcher>, Error> {
    let env = ProcessEnv;
    let settings = JwtSettings::from_env(&env)?;
    let door = DoorSettings::from_env(&env, "ORIGIN_SECRET_")?;
    let client = HttpFetcher::client(&settings.http)?;
    let http = settings.http;
    let check = JwtCheck::new(&settings, |issuer| {
        HttpFetcher::with_client(client.clone(), issuer.jwks.clone(), http)
    })?;
    let origin = origin_proof(&door, SsmTimeouts::from_env(&env)?).await;
    let authorizer = with_origin(door, origin, check);
    let now = Instant::now();
    tokio::join!(authorizer.prefetch(now), authorizer.caller().prefetch(now));
    Ok(authorizer)
}

/// The door around `check`, with the origin proof when configured.
pub fn with_origin<S: SecretSource, F: JwksFetcher>(
    settings: DoorSettings,
    origin: Option<SecretProof<S>>,
    check: JwtCheck<F>,
) -> Authorizer<S, F> {
    FrontDoor::new(FUNCTION, &settings, origin, check)
}
