//! Demo of the header-secret authorizer: a two-line SecureString in moto, every sample event.

use std::collections::BTreeMap;

use portcullis_harness::{Lambda, decision_of};
use serde_json::Value;

use crate::DemoContext;
use crate::table::{self, Tally};

const FUNCTION: &str = "header-secret-authorizer";
const PARAMETER: &str = "/portcullis/demo/origin-secret";
/// The same two lines `events/generate.py` writes into the sample events.
const SECRETS: &str = "pc-demo-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4\npc-demo-previous-8e6d4c2a0b9f7e5d3c1a2b4d6f8e0a1c";

pub async fn run(ctx: &DemoContext) -> Tally {
    let mut tally = Tally::default();
    ctx.moto.put_secure(PARAMETER, SECRETS).await;
    let mut env = ctx.moto.aws_env();
    env.push(("SECRET_PARAMETER_NAME".into(), PARAMETER.into()));
    let binary = ctx.functions_dir.join(FUNCTION);
    let mut lambda = match Lambda::spawn(&binary, &env).await {
        Ok(l) => l,
        Err(e) => {
            println!("{FUNCTION}: cannot start {}: {e}", binary.display());
            tally.wrong += 1;
            return tally;
        }
    };
    let init = lambda.wait_ready().await;
    table::heading(
        FUNCTION,
        &format!(
            "SSM SecureString {PARAMETER} with 2 lines; ready in {}",
            init.map_or_else(
                |e| format!("error: {e}"),
                |d| format!("{:.1} ms", d.as_secs_f64() * 1e3)
            )
        ),
    );
    let dir = ctx.events_dir.join(FUNCTION);
    let expected: BTreeMap<String, String> = std::fs::read_to_string(dir.join("expected.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    for (name, want) in &expected {
        let event: Value =
            match std::fs::read_to_string(dir.join(name)).map(|t| serde_json::from_str(&t)) {
                Ok(Ok(v)) => v,
                _ => {
                    table::row(&mut tally, name, "?", want, "unreadable");
                    continue;
                }
            };
        let format = payload_format(&event);
        let decision = decision_of(&lambda.invoke(&event).await);
        table::row(&mut tally, name, format, want, &decision);
    }
    tally
}

fn payload_format(event: &Value) -> &'static str {
    match (event["version"].as_str(), event["type"].as_str()) {
        (Some("2.0"), _) => "http-v2",
        (Some("1.0"), _) => "http-v1",
        (_, Some("TOKEN")) => "rest-token",
        _ if event["requestContext"]["connectionId"].is_string() => "websocket",
        _ => "rest-request",
    }
}
