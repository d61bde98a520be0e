//! Time, passed in: the wall clock (compared with a version's creation date) and sleeping.

use std::future::Future;
use std::time::{Duration, SystemTime};

/// The wall clock and a way to wait.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> SystemTime;
    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// The system clock and tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}
