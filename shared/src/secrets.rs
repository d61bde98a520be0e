//! Secrets from SSM Parameter Store or Secrets Manager, behind a cache built for SSM's 40 TPS
//! quota (and Secrets Manager's price per call).
//!
//! [`SecretCache`] keeps one parsed value per parameter: fresh for a TTL (with jitter so
//! containers do not refresh in step), refreshed by one caller while concurrent callers wait for
//! that same fetch (single-flight), served stale for a bounded window while the source fails,
//! and refused after that — fail closed. The clock is a parameter of every call.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

#[cfg(feature = "aws-sdk")]
mod aws;
mod memory;
#[cfg(feature = "aws-sdk")]
mod sdk_http;
#[cfg(feature = "secretsmanager")]
mod secretsmanager;
#[cfg(feature = "ssm")]
mod ssm;
#[cfg(all(feature = "ssm", feature = "secretsmanager"))]
mod store;

#[cfg(feature = "aws-sdk")]
pub use aws::{SsmTimeouts, connection_failed, connector_failure, sdk_config};
pub use memory::MemorySource;
#[cfg(feature = "aws-sdk")]
pub use sdk_http::sdk_http_client;
#[cfg(feature = "secretsmanager")]
pub use secretsmanager::SecretsManagerSource;
#[cfg(feature = "ssm")]
pub use ssm::SsmSource;
#[cfg(all(feature = "ssm", feature = "secretsmanager"))]
pub use store::AwsSource;

/// A secret string whose `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself; call only where it is compared or parsed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretString(<{} bytes redacted>)", self.0.len())
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why a source could not deliver a secret. Never carries the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The parameter (or secret) does not exist.
    #[error("secret or parameter not found")]
    NotFound,
    /// The caller may not read it (IAM or KMS).
    #[error("access denied")]
    AccessDenied,
    /// The service throttled the call.
    #[error("throttled")]
    Throttled,
    /// No answer within the deadline.
    #[error("timed out")]
    Timeout,
    /// Any other failure (connection refused, 5xx, unexpected answer).
    #[error("{0}")]
    Unavailable(String),
}

/// Where secrets come from. Implemented by `SsmSource` (feature `ssm`),
/// `SecretsManagerSource` (feature `secretsmanager`) and [`MemorySource`].
pub trait SecretSource: Send + Sync + 'static {
    /// Fetches the current value of `name`.
    fn fetch(&self, name: &str) -> impl Future<Output = Result<SecretString, SourceError>> + Send;
}

/// Why the cache has no value to give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// The source failed and no value within the stale bound is left.
    #[error("secret {name:?} unavailable: {cause}")]
    Unavailable {
        /// Parameter name.
        name: String,
        /// The source's failure.
        cause: SourceError,
    },
    /// The source is failing and only a stale copy is at hand, which does not hold what was
    /// asked for: it may be in the current value (a rotation), so it cannot be judged.
    #[error(
        "secret {name:?} could not be refreshed; a value absent from the last good copy cannot be judged"
    )]
    StaleMiss {
        /// Parameter name.
        name: String,
    },
    /// The source answered with a value the parser refused, and no good value is left.
    #[error("secret {name:?} is invalid: {reason}")]
    Invalid {
        /// Parameter name.
        name: String,
        /// The parser's reason (must not quote the secret).
        reason: String,
    },
}

/// Whether a value came from a successful fetch within its TTL, or is the last good value
/// served past its TTL while the source fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// Fetched within the TTL.
    Fresh,
    /// The source failed; the last good value, within the stale bound.
    Stale,
}

/// Timing of a [`SecretCache`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CacheConfig {
    /// How long a fetched value is fresh.
    pub ttl: Duration,
    /// How long past expiry the last good value may still be served while the source fails.
    pub max_stale: Duration,
    /// After a failed fetch, how long callers use the stale value before one tries again.
    pub retry_after_error: Duration,
    /// Fraction (0 to 0.5) by which each TTL is shortened at random, so containers spread out.
    pub jitter: f64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            max_stale: Duration::from_secs(300),
            retry_after_error: Duration::from_secs(5),
            jitter: 0.1,
        }
    }
}

/// Parses a fetched value into what the caller uses; the error must not quote the secret.
pub type Parser<T> = fn(&SecretString) -> Result<T, String>;

struct Entry<T> {
    value: Arc<T>,
    expires_at: Instant,
}

struct State<T> {
    entry: Option<Entry<T>>,
    retry_at: Option<Instant>,
    last_error: Option<CacheError>,
}

/// A TTL cache of one parsed secret with single-flight refresh and a bounded stale window.
pub struct SecretCache<S, T> {
    source: S,
    name: String,
    config: CacheConfig,
    parse: Parser<T>,
    state: Mutex<State<T>>,
    refresh: tokio::sync::Mutex<()>,
}

impl<S, T> fmt::Debug for SecretCache<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretCache")
            .field("name", &self.name)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: SecretSource, T: Send + Sync> SecretCache<S, T> {
    /// A cache of parameter `name` read from `source` and parsed by `parse`.
    pub fn new(source: S, name: impl Into<String>, config: CacheConfig, parse: Parser<T>) -> Self {
        Self {
            source,
            name: name.into(),
            config,
            parse,
            state: Mutex::new(State {
                entry: None,
                retry_at: None,
                last_error: None,
            }),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    /// The parameter name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The source, e.g. to read a [`MemorySource`]'s call count in tests.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The current value: cached if fresh; otherwise one caller fetches while the others wait
    /// for its result. While the source fails, the last good value is served until
    /// `max_stale` past its expiry, then [`CacheError`] — never a guess. A failed refresh that
    /// still serves a stale value is logged here; a returned error is left to the caller to log.
    pub async fn get_served(&self, now: Instant) -> Result<(Arc<T>, Served), CacheError> {
        if let Some(value) = self.fresh(now) {
            return Ok((value, Served::Fresh));
        }
        let _flight = self.refresh.lock().await;
        if let Some(value) = self.fresh(now) {
            return Ok((value, Served::Fresh));
        }
        if self.lock().retry_at.is_some_and(|at| now < at) {
            return self.stale_or_error(now).map(|v| (v, Served::Stale));
        }
        let result = match self.source.fetch(&self.name).await {
            Ok(raw) => (self.parse)(&raw).map_err(|reason| CacheError::Invalid {
                name: self.name.clone(),
                reason,
            }),
            Err(cause) => Err(CacheError::Unavailable {
                name: self.name.clone(),
                cause,
            }),
        };
        match result {
            Ok(value) => {
                let value = Arc::new(value);
                let mut state = self.lock();
                state.entry = Some(Entry {
                    value: value.clone(),
                    expires_at: now + self.jittered_ttl(),
                });
                state.retry_at = None;
                state.last_error = None;
                Ok((value, Served::Fresh))
            }
            Err(error) => {
                {
                    let mut state = self.lock();
                    state.retry_at = Some(now + self.config.retry_after_error);
                    state.last_error = Some(error.clone());
                }
                let served = self.stale_or_error(now);
                // Logged here only when the caller will not see it: an error is returned and
                // the caller logs it, so each failure makes exactly one log line.
                if served.is_ok() {
                    tracing::warn!(parameter = %self.name, error = %error, "secret refresh failed; serving the last good value");
                }
                served.map(|v| (v, Served::Stale))
            }
        }
    }

    /// [`Self::get_served`] without saying whether the value is fresh.
    pub async fn get(&self, now: Instant) -> Result<Arc<T>, CacheError> {
        self.get_served(now).await.map(|(value, _)| value)
    }

    /// Fetches once at init so the first request is served from memory; a failure is logged
    /// and returned, and the next request tries again.
    pub async fn prefetch(&self, now: Instant) -> Result<(), CacheError> {
        self.get(now).await.map(drop)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fresh(&self, now: Instant) -> Option<Arc<T>> {
        let state = self.lock();
        let entry = state.entry.as_ref()?;
        (now < entry.expires_at).then(|| entry.value.clone())
    }

    fn stale_or_error(&self, now: Instant) -> Result<Arc<T>, CacheError> {
        let state = self.lock();
        if let Some(entry) = &state.entry
            && now < entry.expires_at + self.config.max_stale
        {
            return Ok(entry.value.clone());
        }
        Err(state
            .last_error
            .clone()
            .unwrap_or_else(|| CacheError::Unavailable {
                name: self.name.clone(),
                cause: SourceError::Unavailable("no value fetched yet".into()),
            }))
    }

    fn jittered_ttl(&self) -> Duration {
        let jitter = self.config.jitter.clamp(0.0, 0.5);
        if jitter == 0.0 {
            return self.config.ttl;
        }
        self.config.ttl.mul_f64(1.0 - jitter * fastrand::f64())
    }
}

#[cfg(test)]
mod tests;
