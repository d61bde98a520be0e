//! The four steps, each idempotent, in the order that fails no request (see the crate docs).

use std::time::{Duration, SystemTime};

use portcullis::origin::MIN_SECRET_LEN;
use portcullis::secrets::SecretString;

use crate::AwsError;
use crate::canary::Canary;
use crate::cdn::{Cdn, OriginHeaders, SwitchError};
use crate::clock::Clock;
use crate::config::Settings;
use crate::event::{RotationEvent, Step};
use crate::store::{CURRENT, PENDING, Store, Versions};

/// Time kept free before the invocation's deadline: a wait that would end later fails the
/// step (Secrets Manager retries it) instead of being cut off mid-call.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(5);
/// Attempts of a CloudFront update when someone else changes the distribution meanwhile.
pub const SWITCH_ATTEMPTS: u32 = 5;
/// Shortest generated value accepted (the authorizers accept 16 and up).
pub const MIN_GENERATED_LEN: usize = 32;

/// Why a step failed. Messages name versions, origins and stages, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotationError {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The token is not a version of the secret.
    #[error("version {0} is not a version of the secret")]
    UnknownVersion(String),
    /// The token's version is neither pending nor current.
    #[error("version {0} is not AWSPENDING")]
    NotPending(String),
    /// No version is `AWSCURRENT`.
    #[error("the secret has no AWSCURRENT version")]
    NoCurrent,
    /// The pending version has no value yet.
    #[error("version {0} holds no value (createSecret has not run)")]
    NoValue(String),
    /// No origin sends the header and none was named.
    #[error("no origin of the distribution sends the header; set CLOUDFRONT_ORIGIN_IDS")]
    NoOrigin,
    /// The CloudFront update failed (after retrying conflicts).
    #[error(transparent)]
    Switch(SwitchError),
    /// CloudFront does not send the new value on every chosen origin.
    #[error("origin {0:?} does not send the new value (setSecret has not completed)")]
    NotSwitched(String),
    /// The generated value is not a usable header secret.
    #[error(
        "the generated value is not {MIN_GENERATED_LEN}+ visible ASCII characters without commas"
    )]
    BadValue,
    /// A wait would outlast the invocation; the step is retried.
    #[error("{0} is not over before the invocation's deadline; the step will be retried")]
    NotYet(&'static str),
    /// The canary was refused with the new value; CloudFront was switched back.
    #[error("canary answered {0} with the new value; CloudFront sends the current value again")]
    CanaryRefused(u16),
    /// The canary could not be asked.
    #[error("{0}")]
    Canary(String),
}

/// What a step did, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The token's version is already `AWSCURRENT`: the rotation is done.
    AlreadyCurrent,
    /// The pending value existed already.
    AlreadyCreated,
    /// A new pending value was stored.
    Created,
    /// CloudFront already sent the new value.
    AlreadySwitched,
    /// CloudFront was switched to the new value.
    Switched,
    /// CloudFront has deployed the new value (and the canary passed).
    Tested,
    /// The new value is `AWSCURRENT`; the old one is retired.
    Finished,
}

impl Outcome {
    /// Short code for logs.
    pub fn code(self) -> &'static str {
        match self {
            Self::AlreadyCurrent => "already_current",
            Self::AlreadyCreated => "already_created",
            Self::Created => "created",
            Self::AlreadySwitched => "already_switched",
            Self::Switched => "switched",
            Self::Tested => "tested",
            Self::Finished => "finished",
        }
    }
}

/// The rotation function's domain: its settings and adapters.
pub struct Rotator<S, C, K, T> {
    /// Secrets Manager.
    pub store: S,
    /// CloudFront.
    pub cdn: C,
    /// The canary (asked only when `CANARY_URL` is set).
    pub canary: K,
    /// The clock.
    pub clock: T,
    /// Settings.
    pub settings: Settings,
}

impl<S: Store, C: Cdn, K: Canary, T: Clock> Rotator<S, C, K, T> {
    /// Runs one step; `deadline` is the invocation's.
    pub async fn run(
        &self,
        event: &RotationEvent,
        deadline: SystemTime,
    ) -> Result<Outcome, RotationError> {
        let id = event.secret_id.as_str();
        let token = event.client_request_token.as_str();
        let versions = self.store.versions(id).await?;
        match versions.get(token) {
            Some(stages) if stages.iter().any(|s| s == CURRENT) => {
                if event.step == Step::FinishSecret && stages.iter().any(|s| s == PENDING) {
                    self.store
                        .move_stage(id, PENDING, None, Some(token))
                        .await?;
                }
                return Ok(Outcome::AlreadyCurrent);
            }
            Some(stages) if stages.iter().any(|s| s == PENDING) => {}
            // Secrets Manager creates the version before createSecret; a caller driving the
            // steps itself may not have.
            None if event.step == Step::CreateSecret => {}
            Some(_) => return Err(RotationError::NotPending(token.to_owned())),
            None => return Err(RotationError::UnknownVersion(token.to_owned())),
        }
        let current = current_version(&versions)?;
        match event.step {
            Step::CreateSecret => self.create(id, token).await,
            Step::SetSecret => self.set(id, token, deadline).await,
            Step::TestSecret => self.test(id, token, current, deadline).await,
            Step::FinishSecret => self.finish(id, token, current, deadline).await,
        }
    }

    async fn create(&self, id: &str, token: &str) -> Result<Outcome, RotationError> {
        if self.store.value(id, token).await?.is_some() {
            return Ok(Outcome::AlreadyCreated);
        }
        let value = self.store.generate().await?;
        if !usable(&value) {
            return Err(RotationError::BadValue);
        }
        self.store.put_pending(id, token, &value).await?;
        Ok(Outcome::Created)
    }

    async fn set(
        &self,
        id: &str,
        token: &str,
        deadline: SystemTime,
    ) -> Result<Outcome, RotationError> {
        let pending = self.pending(id, token).await?;
        self.wait_until(
            pending.created + self.settings.propagation_wait,
            deadline,
            "the propagation wait",
        )
        .await?;
        let headers = self.headers().await?;
        let origins = self.origins(&headers)?;
        if sends(&headers, &origins, &pending.value).is_ok() {
            return Ok(Outcome::AlreadySwitched);
        }
        self.switch(&origins, &pending.value).await?;
        Ok(Outcome::Switched)
    }

    async fn test(
        &self,
        id: &str,
        token: &str,
        current: &str,
        deadline: SystemTime,
    ) -> Result<Outcome, RotationError> {
        let origins = self.deployed(id, token, deadline).await?;
        if let Some(url) = &self.settings.canary_url {
            let status = self
                .canary
                .status(url)
                .await
                .map_err(RotationError::Canary)?;
            if matches!(status, 401 | 403) {
                let old = self
                    .store
                    .value(id, current)
                    .await?
                    .ok_or_else(|| RotationError::NoValue(current.to_owned()))?;
                self.switch(&origins, &old.value).await?;
                return Err(RotationError::CanaryRefused(status));
            }
        }
        Ok(Outcome::Tested)
    }

    async fn finish(
        &self,
        id: &str,
        token: &str,
        current: &str,
        deadline: SystemTime,
    ) -> Result<Outcome, RotationError> {
        self.deployed(id, token, deadline).await?;
        let now = self.clock.now();
        self.wait_until(now + self.settings.grace, deadline, "the grace period")
            .await?;
        self.store
            .move_stage(id, CURRENT, Some(token), Some(current))
            .await?;
        self.store
            .move_stage(id, PENDING, None, Some(token))
            .await?;
        Ok(Outcome::Finished)
    }

    async fn pending(&self, id: &str, token: &str) -> Result<crate::store::Stored, RotationError> {
        self.store
            .value(id, token)
            .await?
            .ok_or_else(|| RotationError::NoValue(token.to_owned()))
    }

    async fn headers(&self) -> Result<OriginHeaders, RotationError> {
        let s = &self.settings;
        Ok(self.cdn.headers(&s.distribution_id, &s.header_name).await?)
    }

    /// The origins to switch: the configured ones, or every origin sending the header.
    fn origins(&self, headers: &OriginHeaders) -> Result<Vec<String>, RotationError> {
        if !self.settings.origin_ids.is_empty() {
            return Ok(self.settings.origin_ids.clone());
        }
        let sending: Vec<String> = headers
            .0
            .iter()
            .filter(|(_, value)| value.is_some())
            .map(|(id, _)| id.clone())
            .collect();
        if sending.is_empty() {
            return Err(RotationError::NoOrigin);
        }
        Ok(sending)
    }

    /// The chosen origins, once each sends the pending value and CloudFront has deployed.
    async fn deployed(
        &self,
        id: &str,
        token: &str,
        deadline: SystemTime,
    ) -> Result<Vec<String>, RotationError> {
        let pending = self.pending(id, token).await?;
        let headers = self.headers().await?;
        let origins = self.origins(&headers)?;
        sends(&headers, &origins, &pending.value).map_err(RotationError::NotSwitched)?;
        self.wait_deployed(deadline).await?;
        Ok(origins)
    }

    async fn switch(&self, origins: &[String], value: &SecretString) -> Result<(), RotationError> {
        let s = &self.settings;
        let mut attempt = 1;
        loop {
            match self
                .cdn
                .switch(&s.distribution_id, origins, &s.header_name, value)
                .await
            {
                Ok(()) => return Ok(()),
                Err(SwitchError::Conflict) if attempt < SWITCH_ATTEMPTS => {
                    tracing::warn!(attempt, "distribution changed meanwhile; reading it again");
                    self.clock.sleep(Duration::from_secs(1 << attempt)).await;
                    attempt += 1;
                }
                Err(error) => return Err(RotationError::Switch(error)),
            }
        }
    }

    async fn wait_deployed(&self, deadline: SystemTime) -> Result<(), RotationError> {
        loop {
            if self.cdn.deployed(&self.settings.distribution_id).await? {
                return Ok(());
            }
            let next = self.clock.now() + self.settings.poll;
            if next + DEADLINE_MARGIN > deadline {
                return Err(RotationError::NotYet("the distribution's deployment"));
            }
            self.clock.sleep(self.settings.poll).await;
        }
    }

    async fn wait_until(
        &self,
        at: SystemTime,
        deadline: SystemTime,
        what: &'static str,
    ) -> Result<(), RotationError> {
        let Ok(wait) = at.duration_since(self.clock.now()) else {
            return Ok(());
        };
        if at + DEADLINE_MARGIN > deadline {
            return Err(RotationError::NotYet(what));
        }
        self.clock.sleep(wait).await;
        Ok(())
    }
}

fn current_version(versions: &Versions) -> Result<&str, RotationError> {
    versions
        .iter()
        .find(|(_, stages)| stages.iter().any(|s| s == CURRENT))
        .map(|(id, _)| id.as_str())
        .ok_or(RotationError::NoCurrent)
}

/// `Ok` when every origin in `origins` sends `value`; otherwise the first that does not.
fn sends(headers: &OriginHeaders, origins: &[String], value: &SecretString) -> Result<(), String> {
    for origin in origins {
        let sent = headers
            .0
            .iter()
            .find(|(id, _)| id == origin)
            .and_then(|(_, v)| v.as_deref());
        if sent != Some(value.expose()) {
            return Err(origin.clone());
        }
    }
    Ok(())
}

/// A header secret CloudFront can send and every authorizer accepts.
fn usable(value: &SecretString) -> bool {
    let v = value.expose();
    v.len() >= MIN_GENERATED_LEN.max(MIN_SECRET_LEN)
        && v.bytes().all(|b| b.is_ascii_graphic() && b != b',')
}

#[cfg(test)]
mod tests;
