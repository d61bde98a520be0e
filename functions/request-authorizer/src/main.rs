//! Lambda entry point: config → rules → authorizer → `lambda_runtime::run`.

use std::time::{Instant, SystemTime};

use lambda_runtime::{Error, LambdaEvent, service_fn};
use portcullis::config::ProcessEnv;
use portcullis::secrets::SsmSource;
use request_authorizer::handler::RULES_UNAVAILABLE;
use request_authorizer::{Authorizer, Config, Rules, RulesLocation};
use serde_json::Value;

// One thread: Lambda serves one invocation at a time per process, so a work-stealing pool only
// adds cross-thread wake-ups to every invoke (and threads to every cold start).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    portcullis::telemetry::init();
    let config = Config::from_env(&ProcessEnv)
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let rules = match &config.rules {
        RulesLocation::File(path) => Rules::<SsmSource>::from_file(path),
        RulesLocation::Parameter(name) => {
            let source = SsmSource::from_env(config.ssm_timeouts).await;
            Rules::from_parameter(source, name, &config, Instant::now()).await
        }
    }
    .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let authorizer = &Authorizer::new(rules, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let budget = portcullis::deadline::budget(event.context.deadline(), SystemTime::now());
        // A rules refresh slower than the invocation answers 500 before Lambda kills the call.
        tokio::time::timeout(budget, authorizer.handle(event.payload))
            .await
            .unwrap_or_else(|_| {
                tracing::error!(
                    budget_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
                    "deadline: rules not fetched before the invocation's time ran out; refusing"
                );
                Err(RULES_UNAVAILABLE)
            })
    }))
    .await
}
