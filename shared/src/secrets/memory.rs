//! An in-memory [`SecretSource`] for unit tests: settable value, injectable failure, a delay,
//! and a call counter.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{SecretSource, SecretString, SourceError};

#[derive(Debug)]
struct Inner {
    value: Mutex<Result<SecretString, SourceError>>,
    delay: Mutex<Duration>,
    calls: AtomicUsize,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            value: Mutex::new(Err(SourceError::NotFound)),
            delay: Mutex::new(Duration::ZERO),
            calls: AtomicUsize::new(0),
        }
    }
}

/// A shared, mutable secret for tests; clones see the same state.
#[derive(Debug, Clone)]
pub struct MemorySource(Arc<Inner>);

impl MemorySource {
    /// A source that returns `value`.
    pub fn new(value: &str) -> Self {
        let source = Self(Arc::default());
        source.set(value);
        source
    }

    /// Replaces the value.
    pub fn set(&self, value: &str) {
        *self.0.value.lock().unwrap_or_else(PoisonError::into_inner) = Ok(SecretString::new(value));
    }

    /// Makes every fetch fail with `error` until [`set`](Self::set) is called.
    pub fn fail(&self, error: SourceError) {
        *self.0.value.lock().unwrap_or_else(PoisonError::into_inner) = Err(error);
    }

    /// Makes every fetch take `delay` (tokio time) before answering.
    pub fn delay(&self, delay: Duration) {
        *self.0.delay.lock().unwrap_or_else(PoisonError::into_inner) = delay;
    }

    /// How many fetches were made.
    pub fn calls(&self) -> usize {
        self.0.calls.load(Ordering::SeqCst)
    }
}

impl Default for MemorySource {
    /// A source whose parameter does not exist.
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl SecretSource for MemorySource {
    async fn fetch(&self, _name: &str) -> Result<SecretString, SourceError> {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        let delay = *self.0.delay.lock().unwrap_or_else(PoisonError::into_inner);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.0
            .value
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
