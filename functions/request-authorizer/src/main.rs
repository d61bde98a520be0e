//! Lambda entry point: config → rules → front door → `lambda_runtime::run`.

use std::time::Instant;

use lambda_runtime::Error;
use portcullis::config::ProcessEnv;
use portcullis::origin::SecretProof;
use portcullis::secrets::{AwsSource, SsmSource};
use request_authorizer::{Config, Rules, RulesLocation, authorizer};

// One thread: Lambda serves one invocation at a time per process, so a work-stealing pool only
// adds cross-thread wake-ups to every invoke (and threads to every cold start).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    portcullis::telemetry::init();
    let config = Config::from_env(&ProcessEnv)
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let ssm = SsmSource::from_env(config.ssm_timeouts).await;
    let origin = match &config.door.origin {
        Some(proof) => Some(SecretProof::new(
            proof
                .location
                .source(ssm.clone(), config.ssm_timeouts)
                .await,
            proof,
            false,
        )),
        None => None,
    };
    // The rules and the origin secrets are fetched side by side: init waits for one round
    // trip, not two.
    let now = Instant::now();
    let (rules, ()) = tokio::join!(
        async {
            match &config.rules {
                RulesLocation::File(path) => Rules::from_file(path),
                RulesLocation::Parameter(name) => {
                    Rules::from_parameter(AwsSource::Ssm(ssm), name, &config, now).await
                }
            }
        },
        async {
            if let Some(origin) = &origin {
                origin.prefetch(now).await;
            }
        },
    );
    let rules = rules.inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    portcullis::door::run(authorizer(rules, origin, &config)).await
}
