//! JWT authorizer: settings → front door → `lambda_runtime::run`. The domain lives in the
//! library (`jwt_authorizer`).

use lambda_runtime::Error;

// One thread: Lambda serves one invocation at a time per process, so a work-stealing pool only
// adds cross-thread wake-ups to every invoke (and threads to every cold start).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    portcullis::telemetry::init();
    let authorizer = jwt_authorizer::handler::from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    portcullis::door::run(authorizer).await
}
