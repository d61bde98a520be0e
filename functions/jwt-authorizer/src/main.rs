//! JWT authorizer: config → handler → `lambda_runtime::run`. Logic lives in `handler` and in
//! the library (`jwt_authorizer`).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

// One thread: Lambda serves one invocation at a time per process, so a work-stealing pool only
// adds cross-thread wake-ups to every invoke (and threads to every cold start).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    portcullis::telemetry::init();
    let handler = jwt_authorizer::handler::Handler::from_env().await?;
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler.handle(event).await
    }))
    .await
}
