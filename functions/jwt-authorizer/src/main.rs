//! JWT authorizer: config → handler → `lambda_runtime::run`. Logic lives in `handler` and in
//! `portcullis::jwt`.

mod handler;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    portcullis::telemetry::init();
    let handler = handler::Handler::from_env().await?;
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler.handle(event).await
    }))
    .await
}
