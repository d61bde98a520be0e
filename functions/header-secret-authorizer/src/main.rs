//! Lambda entry point: config → front door → `lambda_runtime::run`.

use std::time::Instant;

use header_secret_authorizer::{Config, authorizer};
use lambda_runtime::Error;
use portcullis::config::ProcessEnv;
use portcullis::secrets::{AwsSource, SsmSource};

// One thread: Lambda serves one invocation at a time per process, so a work-stealing pool only
// adds cross-thread wake-ups to every invoke (and threads to every cold start).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    portcullis::telemetry::init();
    let config = Config::from_env(&ProcessEnv)
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let ssm = SsmSource::from_env(config.ssm_timeouts).await;
    let source = match &config.proof {
        Some(proof) => proof.location.source(ssm, config.ssm_timeouts).await,
        None => AwsSource::Ssm(ssm),
    };
    let door = authorizer(source, &config);
    door.prefetch(Instant::now()).await;
    portcullis::door::run(door).await
}
