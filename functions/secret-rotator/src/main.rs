//! Lambda entry point: settings → AWS clients → one rotation step per invocation.

use std::time::{Duration, UNIX_EPOCH};

use lambda_runtime::{Error, LambdaEvent, service_fn};
use portcullis::config::ProcessEnv;
use portcullis::secrets::{SsmTimeouts, sdk_config};
use secret_rotator::canary::HttpCanary;
use secret_rotator::cdn::CloudFront;
use secret_rotator::clock::SystemClock;
use secret_rotator::store::SecretsManagerStore;
use secret_rotator::{RotationEvent, Rotator, Settings};

/// AWS calls: 3 attempts within 30 s (the steps are rare; a throttled one is worth waiting for).
const TIMEOUTS: SsmTimeouts = SsmTimeouts {
    connect: Duration::from_secs(3),
    attempt: Duration::from_secs(10),
    total: Duration::from_secs(30),
    max_attempts: 3,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    portcullis::telemetry::init();
    let settings = Settings::from_env(&ProcessEnv)
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let aws = sdk_config(TIMEOUTS).await;
    let rotator = Rotator {
        store: SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&aws)),
        cdn: CloudFront::new(aws_sdk_cloudfront::Client::new(&aws)),
        canary: HttpCanary::new()?,
        clock: SystemClock,
        settings,
    };
    let rotator = &rotator;
    lambda_runtime::run(service_fn(|event: LambdaEvent<RotationEvent>| async move {
        let deadline = UNIX_EPOCH + Duration::from_millis(event.context.deadline);
        let step = event.payload.step.name();
        let version = event.payload.client_request_token.as_str();
        match rotator.run(&event.payload, deadline).await {
            Ok(outcome) => {
                tracing::info!(
                    step,
                    version,
                    outcome = outcome.code(),
                    "rotation step done"
                );
                Ok(serde_json::Value::Null)
            }
            Err(error) => {
                tracing::error!(step, version, %error, "rotation step failed");
                Err(Error::from(error.to_string()))
            }
        }
    }))
    .await
}
