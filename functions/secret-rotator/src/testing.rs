//! In-memory adapters for unit tests: one secret, one distribution, a canary, a clock that
//! moves only when slept on. Each records what happened, with the clock's time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use portcullis::secrets::SecretString;

use crate::AwsError;
use crate::canary::Canary;
use crate::cdn::{Cdn, OriginHeaders, SwitchError};
use crate::clock::Clock;
use crate::store::{CURRENT, PENDING, Store, Stored, Versions};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A clock at a fixed start that advances by exactly what is slept.
#[derive(Debug, Clone)]
pub struct FakeClock(pub Arc<Mutex<SystemTime>>);

impl FakeClock {
    pub fn at(start: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }
}

impl Clock for FakeClock {
    fn now(&self) -> SystemTime {
        *lock(&self.0)
    }

    async fn sleep(&self, duration: Duration) {
        *lock(&self.0) += duration;
    }
}

/// A version's stages, and its value with its creation time.
pub type Version = (Vec<String>, Option<(String, SystemTime)>);

#[derive(Debug, Default)]
pub struct SecretState {
    /// version id → version
    pub versions: BTreeMap<String, Version>,
    /// What `generate` returns next.
    pub next_value: String,
}

/// One secret in memory.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    pub state: Arc<Mutex<SecretState>>,
    pub clock: FakeClock,
}

impl MemoryStore {
    /// A secret whose version `v1` is `AWSCURRENT` with `value`.
    pub fn with_current(value: &str, clock: FakeClock) -> Self {
        let mut state = SecretState {
            next_value: "N".repeat(48),
            ..SecretState::default()
        };
        state.versions.insert(
            "v1".into(),
            (vec![CURRENT.into()], Some((value.into(), clock.now()))),
        );
        Self {
            state: Arc::new(Mutex::new(state)),
            clock,
        }
    }

    /// Each version's stages, sorted.
    pub fn stages(&self) -> Vec<(String, Vec<String>)> {
        lock(&self.state)
            .versions
            .iter()
            .map(|(id, (stages, _))| {
                let mut stages = stages.clone();
                stages.sort();
                (id.clone(), stages)
            })
            .collect()
    }

    /// The value of the version labelled `stage`.
    pub fn value_at(&self, stage: &str) -> Option<String> {
        lock(&self.state)
            .versions
            .values()
            .find(|(stages, _)| stages.iter().any(|s| s == stage))
            .and_then(|(_, v)| v.as_ref().map(|(value, _)| value.clone()))
    }
}

impl Store for MemoryStore {
    async fn versions(&self, _id: &str) -> Result<Versions, AwsError> {
        Ok(lock(&self.state)
            .versions
            .iter()
            .map(|(id, (stages, _))| (id.clone(), stages.clone()))
            .collect())
    }

    async fn value(&self, _id: &str, version: &str) -> Result<Option<Stored>, AwsError> {
        Ok(lock(&self.state)
            .versions
            .get(version)
            .and_then(|(_, v)| v.clone())
            .map(|(value, created)| Stored {
                value: SecretString::new(value),
                created,
            }))
    }

    async fn generate(&self) -> Result<SecretString, AwsError> {
        Ok(SecretString::new(lock(&self.state).next_value.clone()))
    }

    async fn put_pending(
        &self,
        _id: &str,
        version: &str,
        value: &SecretString,
    ) -> Result<(), AwsError> {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        for (stages, _) in state.versions.values_mut() {
            stages.retain(|s| s != PENDING);
        }
        let entry = state.versions.entry(version.into()).or_default();
        entry.0.push(PENDING.into());
        entry.1 = Some((value.expose().into(), now));
        Ok(())
    }

    async fn move_stage(
        &self,
        _id: &str,
        stage: &str,
        to: Option<&str>,
        from: Option<&str>,
    ) -> Result<(), AwsError> {
        let mut state = lock(&self.state);
        if let Some(from) = from {
            let (stages, _) = state.versions.get_mut(from).ok_or_else(|| {
                AwsError::new("UpdateSecretVersionStage", "InvalidParameterException")
            })?;
            stages.retain(|s| s != stage);
        }
        if stage == CURRENT {
            // Secrets Manager moves AWSPREVIOUS to the version AWSCURRENT left.
            for (stages, _) in state.versions.values_mut() {
                stages.retain(|s| s != "AWSPREVIOUS");
            }
            if let Some((stages, _)) = from.and_then(|f| state.versions.get_mut(f)) {
                stages.push("AWSPREVIOUS".into());
            }
        }
        if let Some(to) = to {
            let (stages, _) = state.versions.get_mut(to).ok_or_else(|| {
                AwsError::new("UpdateSecretVersionStage", "InvalidParameterException")
            })?;
            stages.push(stage.into());
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
pub struct CdnState {
    /// origin id → header value
    pub origins: Vec<(String, Option<String>)>,
    /// How many coming updates answer `PreconditionFailed`.
    pub conflicts: u32,
    /// Polls that answer "InProgress" after each update.
    pub polls_per_deploy: u32,
    pub polls_left: u32,
    /// (time, value) of each successful switch.
    pub switches: Vec<(SystemTime, String)>,
}

/// One distribution in memory.
#[derive(Debug, Clone)]
pub struct MemoryCdn {
    pub state: Arc<Mutex<CdnState>>,
    pub clock: FakeClock,
}

impl MemoryCdn {
    pub fn new(origins: &[(&str, Option<&str>)], clock: FakeClock) -> Self {
        let state = CdnState {
            origins: origins
                .iter()
                .map(|(id, v)| (id.to_string(), v.map(str::to_owned)))
                .collect(),
            polls_per_deploy: 2,
            ..CdnState::default()
        };
        Self {
            state: Arc::new(Mutex::new(state)),
            clock,
        }
    }

    pub fn sent(&self) -> Vec<(String, Option<String>)> {
        lock(&self.state).origins.clone()
    }
}

impl Cdn for MemoryCdn {
    async fn headers(&self, _d: &str, _h: &str) -> Result<OriginHeaders, AwsError> {
        Ok(OriginHeaders(lock(&self.state).origins.clone()))
    }

    async fn switch(
        &self,
        _d: &str,
        origins: &[String],
        _h: &str,
        value: &SecretString,
    ) -> Result<(), SwitchError> {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        if state.conflicts > 0 {
            state.conflicts -= 1;
            return Err(SwitchError::Conflict);
        }
        for wanted in origins {
            let origin = state
                .origins
                .iter_mut()
                .find(|(id, _)| id == wanted)
                .ok_or_else(|| SwitchError::UnknownOrigin(wanted.clone()))?;
            origin.1 = Some(value.expose().into());
        }
        state.polls_left = state.polls_per_deploy;
        state.switches.push((now, value.expose().into()));
        Ok(())
    }

    async fn deployed(&self, _d: &str) -> Result<bool, AwsError> {
        let mut state = lock(&self.state);
        if state.polls_left > 0 {
            state.polls_left -= 1;
            return Ok(false);
        }
        Ok(true)
    }
}

/// A canary answering a fixed status, counting calls.
#[derive(Debug, Clone, Default)]
pub struct FixedCanary(pub Arc<Mutex<(u16, u32)>>);

impl FixedCanary {
    pub fn answering(status: u16) -> Self {
        Self(Arc::new(Mutex::new((status, 0))))
    }

    pub fn calls(&self) -> u32 {
        lock(&self.0).1
    }
}

impl Canary for FixedCanary {
    async fn status(&self, _url: &str) -> Result<u16, String> {
        let mut state = lock(&self.0);
        state.1 += 1;
        Ok(state.0)
    }
}
