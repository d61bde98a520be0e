//! Cedar authorizer: settings → front door → `lambda_runtime::run`. The domain lives in the
//! library (`cedar_authorizer`).

use lambda_runtime::Error;

// One thread: Lambda serves one invocation at a time per process.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    portcullis::telemetry::init();
    let authorizer = cedar_authorizer::handler::from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    portcullis::door::run(authorizer).await
}
