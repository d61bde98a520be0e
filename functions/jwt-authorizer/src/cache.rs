//! The JWKS cache of one issuer.
//!
//! - Keys younger than `max_age` are used as they are; from `max_age - refresh_ahead` on, one
//!   background re-fetch is started so requests rarely wait.
//! - At `max_age` keys are not used without a re-fetch attempt (single-flight: concurrent
//!   callers share one fetch). If that fetch fails, the last good set is kept for at most
//!   `max_stale` more; after that every request fails closed.
//! - An unknown `kid` triggers a re-fetch only if no fetch was attempted within
//!   `min_refetch_interval`: a flood of random kids costs one fetch per interval.
//! - A failed fetch is not retried within `min_refetch_interval` either.
//!
//! Time is passed in (`now: Instant`) so every rule is testable without sleeping.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::error::{FetchError, JwtError};
use super::fetch::JwksFetcher;
use super::keys::{KeySet, VerifyingKey};

/// Cache timing and size rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Keys older than this are re-fetched before use.
    pub max_age: Duration,
    /// A background re-fetch starts this long before `max_age`.
    pub refresh_ahead: Duration,
    /// At most one fetch per this interval for unknown kids and after failures.
    pub min_refetch_interval: Duration,
    /// How long past `max_age` the last good set may still serve while fetches fail.
    pub max_stale: Duration,
    /// Most keys a JWKS may hold.
    pub max_keys: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_age: Duration::from_secs(600),
            refresh_ahead: Duration::from_secs(60),
            min_refetch_interval: Duration::from_secs(10),
            max_stale: Duration::from_secs(3600),
            max_keys: 64,
        }
    }
}

#[derive(Debug, Default, Clone)]
struct State {
    keys: Option<Arc<KeySet>>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
    attempts: u64,
    last_error: Option<FetchError>,
}

/// JWKS cache of one issuer over a [`JwksFetcher`].
#[derive(Debug)]
pub struct JwksCache<F> {
    fetcher: F,
    config: CacheConfig,
    state: Mutex<State>,
    flight: tokio::sync::Mutex<()>,
    background: AtomicBool,
}

impl<F: JwksFetcher> JwksCache<F> {
    /// An empty cache; call [`Self::prefetch`] at init.
    pub fn new(fetcher: F, config: CacheConfig) -> Self {
        JwksCache {
            fetcher,
            config,
            state: Mutex::new(State::default()),
            flight: tokio::sync::Mutex::new(()),
            background: AtomicBool::new(false),
        }
    }

    /// The fetcher (tests inspect in-memory fetchers through it).
    pub fn fetcher(&self) -> &F {
        &self.fetcher
    }

    /// How many fetches were attempted so far.
    pub fn attempts(&self) -> u64 {
        self.snapshot().attempts
    }

    /// Fetch now (at init); returns the number of usable keys.
    pub async fn prefetch(self: &Arc<Self>, now: Instant) -> Result<usize, FetchError> {
        let seen = self.snapshot().attempts;
        self.refresh(seen, now).await;
        let state = self.snapshot();
        match (&state.last_error, &state.keys) {
            (None, Some(keys)) => Ok(keys.len()),
            (Some(e), _) => Err(e.clone()),
            (None, None) => Err(FetchError::Invalid("no key set".into())),
        }
    }

    /// The key for `kid`, re-fetching under the rules above.
    pub async fn key(
        self: &Arc<Self>,
        kid: &str,
        now: Instant,
    ) -> Result<Arc<VerifyingKey>, JwtError> {
        let cfg = self.config;
        let mut state = self.snapshot();
        let age = |s: &State| s.fetched_at.map(|t| now.saturating_duration_since(t));
        let recently_tried = |s: &State| {
            s.last_attempt
                .is_some_and(|t| now.saturating_duration_since(t) < cfg.min_refetch_interval)
        };

        match age(&state) {
            Some(a) if a < cfg.max_age => {
                if a >= cfg.max_age.saturating_sub(cfg.refresh_ahead) && !recently_tried(&state) {
                    self.refresh_in_background(state.attempts, now);
                }
            }
            _ => {
                if !recently_tried(&state) {
                    self.refresh(state.attempts, now).await;
                    state = self.snapshot();
                }
                match age(&state) {
                    Some(a) if a < cfg.max_age => {}
                    Some(a) if a < cfg.max_age + cfg.max_stale => {
                        tracing::warn!(
                            reason = "jwks_stale",
                            age_s = a.as_secs(),
                            "serving the last good key set"
                        );
                    }
                    _ => {
                        let why = state
                            .last_error
                            .as_ref()
                            .map_or_else(|| "no key set".to_owned(), ToString::to_string);
                        return Err(JwtError::JwksUnavailable(why));
                    }
                }
            }
        }

        if let Some(key) = state.keys.as_ref().and_then(|k| k.get(kid)) {
            return Ok(Arc::clone(key));
        }
        if !recently_tried(&state) {
            self.refresh(state.attempts, now).await;
            state = self.snapshot();
            if let Some(key) = state.keys.as_ref().and_then(|k| k.get(kid)) {
                return Ok(Arc::clone(key));
            }
        }
        // Unknown to the last key set: the token's fault only if that set is current. When the
        // last fetch failed, the key may well exist: a dependency failure (never cached), not a
        // 401 API Gateway would reuse for this token's cache lifetime.
        match &state.last_error {
            Some(error) => Err(JwtError::JwksUnavailable(error.to_string())),
            None => Err(JwtError::UnknownKid),
        }
    }

    fn snapshot(&self) -> State {
        self.state.lock().expect("jwks state poisoned").clone()
    }

    fn refresh_in_background(self: &Arc<Self>, seen: u64, now: Instant) {
        if self
            .background
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            cache.refresh(seen, now).await;
            cache.background.store(false, Ordering::Release);
        });
    }

    /// Single-flight fetch: if another attempt completed since `seen`, use its outcome. The
    /// fetch runs as its own task, so a caller cancelled by its deadline does not cancel it: the
    /// attempt is still recorded and later callers share its result instead of starting over.
    async fn refresh(self: &Arc<Self>, seen: u64, now: Instant) {
        let cache = Arc::clone(self);
        let _ = tokio::spawn(async move { cache.refresh_now(seen, now).await }).await;
    }

    async fn refresh_now(&self, seen: u64, now: Instant) {
        let _flight = self.flight.lock().await;
        if self.snapshot().attempts != seen {
            return;
        }
        let result = match self.fetcher.fetch().await {
            Ok(body) => KeySet::parse(&body, self.config.max_keys),
            Err(e) => Err(e),
        };
        let mut state = self.state.lock().expect("jwks state poisoned");
        state.attempts += 1;
        state.last_attempt = Some(now);
        match result {
            Ok(keys) => {
                tracing::debug!(keys = keys.len(), "jwks fetched");
                state.keys = Some(Arc::new(keys));
                state.fetched_at = Some(now);
                state.last_error = None;
            }
            Err(e) => {
                tracing::warn!(reason = "jwks_fetch_failed", error = %e, "jwks fetch failed");
                state.last_error = Some(e);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fetch::MemoryFetcher;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    pub(crate) fn jwks(kids: &[&str]) -> Vec<u8> {
        let n = URL_SAFE_NO_PAD.encode([0xC5u8; 256]);
        let keys: Vec<_> = kids
            .iter()
            .map(|k| json!({"kid": k, "kty": "RSA", "n": n, "e": "AQAB"}))
            .collect();
        json!({ "keys": keys }).to_string().into_bytes()
    }

    fn cache(body: Vec<u8>) -> Arc<JwksCache<MemoryFetcher>> {
        Arc::new(JwksCache::new(
            MemoryFetcher::new(body),
            CacheConfig {
                max_age: Duration::from_secs(600),
                refresh_ahead: Duration::from_secs(60),
                min_refetch_interval: Duration::from_secs(10),
                max_stale: Duration::from_secs(300),
                max_keys: 8,
            },
        ))
    }

    const S: Duration = Duration::from_secs(1);

    #[tokio::test]
    async fn prefetch_then_hits_without_fetching() {
        let c = cache(jwks(&["a", "b"]));
        let t0 = Instant::now();
        assert_eq!(c.prefetch(t0).await, Ok(2));
        for i in 0..50 {
            assert_eq!(c.key("a", t0 + i * S).await.unwrap().kid, "a");
        }
        assert_eq!(c.fetcher().calls(), 1);
    }

    #[tokio::test]
    async fn unknown_kid_flood_costs_one_fetch_per_interval() {
        let c = cache(jwks(&["a"]));
        let t0 = Instant::now();
        c.prefetch(t0).await.unwrap();
        // Within the interval after the prefetch: no fetch at all.
        for i in 0..100 {
            assert_eq!(
                c.key(&format!("rnd{i}"), t0 + S).await.unwrap_err(),
                JwtError::UnknownKid
            );
        }
        assert_eq!(c.fetcher().calls(), 1);
        // After the interval: exactly one more fetch for 100 random kids.
        let t1 = t0 + 11 * S;
        for i in 0..100 {
            assert_eq!(
                c.key(&format!("x{i}"), t1).await.unwrap_err(),
                JwtError::UnknownKid
            );
        }
        assert_eq!(c.fetcher().calls(), 2);
    }

    #[tokio::test]
    async fn an_unknown_kid_while_the_key_set_cannot_be_fetched_is_a_dependency_failure() {
        let c = cache(jwks(&["a"]));
        let t0 = Instant::now();
        c.prefetch(t0).await.unwrap();
        c.fetcher().set(Err(FetchError::Status(503)));
        // The re-fetch for the new kid fails: the kid may exist (a rotation), so this is not a
        // 401 to cache for the token but a dependency failure.
        let t1 = t0 + 11 * S;
        let unavailable = JwtError::JwksUnavailable("http status 503".into());
        assert_eq!(c.key("rotated", t1).await.unwrap_err(), unavailable);
        // Rate-limited after that failure: still a dependency failure, no extra fetch.
        assert_eq!(c.key("rotated", t1 + S).await.unwrap_err(), unavailable);
        assert_eq!(c.fetcher().calls(), 2);
        // Known kids keep working from the last good set meanwhile.
        assert_eq!(c.key("a", t1 + S).await.unwrap().kid, "a");
        // Back: a kid absent from a freshly fetched set is the token's fault.
        c.fetcher().set(Ok(jwks(&["a", "rotated"])));
        let t2 = t1 + 11 * S;
        assert_eq!(c.key("rotated", t2).await.unwrap().kid, "rotated");
        assert_eq!(
            c.key("nope", t2 + 11 * S).await.unwrap_err(),
            JwtError::UnknownKid
        );
    }

    #[tokio::test]
    async fn concurrent_unknown_kids_share_one_fetch() {
        let c = cache(jwks(&["a"]));
        let t0 = Instant::now();
        c.prefetch(t0).await.unwrap();
        c.fetcher().set_delay(Duration::from_millis(50));
        let t1 = t0 + 20 * S;
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let c = Arc::clone(&c);
                tokio::spawn(async move { c.key(&format!("r{i}"), t1).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap_err(), JwtError::UnknownKid);
        }
        assert_eq!(c.fetcher().calls(), 2);
    }

    #[tokio::test]
    async fn a_caller_cancelled_by_its_deadline_does_not_cancel_the_fetch() {
        let c = cache(jwks(&["a"]));
        let t0 = Instant::now();
        c.prefetch(t0).await.unwrap();
        c.fetcher().set_delay(Duration::from_millis(200));
        let cut = tokio::time::timeout(Duration::from_millis(20), c.key("zz", t0 + 11 * S)).await;
        assert!(cut.is_err(), "the caller gave up");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!((c.fetcher().calls(), c.attempts()), (2, 2));
        // The attempt counts: the next unknown kid within the interval costs nothing.
        assert_eq!(
            c.key("zz", t0 + 12 * S).await.unwrap_err(),
            JwtError::UnknownKid
        );
        assert_eq!(c.fetcher().calls(), 2);
    }

    #[tokio::test]
    async fn new_kid_is_found_by_refetch() {
        let c = cache(jwks(&["a"]));
        let t0 = Instant::now();
        c.prefetch(t0).await.unwrap();
        c.fetcher().set(Ok(jwks(&["a", "b"])));
        assert_eq!(c.key("b", t0 + 11 * S).await.unwrap().kid, "b");
        assert_eq!(c.fetcher().calls(), 2);
    }

    #[tokio::test]
    async fn removed_key_stops_after_max_age() {
        let c = cache(jwks(&["a", "b"]));
        let t0 = Instant::now();
        c.prefetch(t0).await.unwrap();
        c.fetcher().set(Ok(jwks(&["a"])));
        // Still cached before the refresh-ahead window.
        assert!(c.key("b", t0 + 500 * S).await.is_ok());
        assert_eq!(c.fetcher().calls(), 1);
        // At max age the request waits for a re-fetch, which drops "b".
        assert_eq!(
            c.key("b", t0 + 600 * S).await.unwrap_err(),
            JwtError::UnknownKid
        );
        assert!(c.key("a", t0 + 601 * S).await.is_ok());
        assert_eq!(c.fetcher().calls(), 2);
    }

    #[tokio::test]
    async fn refresh_ahead_runs_in_the_background() {
        let c = cache(jwks(&["a"]));
        let t0 = Instant::now();
        c.prefetch(t0).await.unwrap();
        c.fetcher().set(Ok(jwks(&["a", "c"])));
        // In the refresh-ahead window the request is served from cache at once…
        assert!(c.key("a", t0 + 560 * S).await.is_ok());
        // …and a background fetch brings the new set.
        for _ in 0..100 {
            if c.fetcher().calls() == 2 && c.attempts() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(c.fetcher().calls(), 2);
        assert!(c.key("c", t0 + 561 * S).await.is_ok());
        assert_eq!(c.fetcher().calls(), 2);
    }

    #[tokio::test]
    async fn keeps_last_good_within_the_stale_bound_then_fails_closed() {
        let c = cache(jwks(&["a"]));
        let t0 = Instant::now();
        c.prefetch(t0).await.unwrap();
        c.fetcher().set(Err(FetchError::Status(503)));
        assert!(c.key("a", t0 + 700 * S).await.is_ok());
        assert_eq!(c.fetcher().calls(), 2);
        // Failed fetches are not retried within the interval.
        assert!(c.key("a", t0 + 705 * S).await.is_ok());
        assert_eq!(c.fetcher().calls(), 2);
        // Garbage is a failure too; it never replaces the good set.
        c.fetcher().set(Ok(b"<html>oops</html>".to_vec()));
        assert!(c.key("a", t0 + 800 * S).await.is_ok());
        assert_eq!(c.fetcher().calls(), 3);
        // Beyond max_age + max_stale: fail closed.
        let err = c.key("a", t0 + 901 * S).await.unwrap_err();
        assert_eq!(err.code(), "jwks_unavailable");
        // Recovery once the source is back.
        c.fetcher().set(Ok(jwks(&["a"])));
        assert!(c.key("a", t0 + 912 * S).await.is_ok());
    }

    #[tokio::test]
    async fn no_keys_at_all_fails_closed_and_rate_limits() {
        let c = cache(jwks(&["a"]));
        c.fetcher()
            .set(Err(FetchError::Transport("connect failed".into())));
        let t0 = Instant::now();
        assert!(c.prefetch(t0).await.is_err());
        for i in 0..20 {
            let err = c
                .key("a", t0 + i * Duration::from_millis(100))
                .await
                .unwrap_err();
            assert_eq!(err.code(), "jwks_unavailable");
        }
        assert_eq!(c.fetcher().calls(), 1);
        c.fetcher().set(Ok(jwks(&["a"])));
        assert!(c.key("a", t0 + 10 * S).await.is_ok());
        assert_eq!(c.fetcher().calls(), 2);
    }
}
