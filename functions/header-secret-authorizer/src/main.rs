//! Lambda entry point: config → authorizer → `lambda_runtime::run`.

use std::time::{Instant, SystemTime};

use header_secret_authorizer::{Authorizer, Config};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use portcullis::config::ProcessEnv;
use portcullis::secrets::SsmSource;
use serde_json::Value;

// One thread: Lambda serves one invocation at a time per process, so a work-stealing pool only
// adds cross-thread wake-ups to every invoke (and threads to every cold start).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    portcullis::telemetry::init();
    let config = Config::from_env(&ProcessEnv)
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let source = SsmSource::from_env(config.ssm_timeouts).await;
    let authorizer = Authorizer::new(source, config);
    authorizer.prefetch(Instant::now()).await;
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let budget = portcullis::deadline::budget(event.context.deadline(), SystemTime::now());
        authorizer
            .handle_within(&event.payload, Instant::now(), budget)
            .await
    }))
    .await
}
