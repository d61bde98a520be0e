//! Demo of the REQUEST authorizer: the demo tenant rules (events/request-authorizer/rules) as a
//! SecureString in moto, every sample event. The decision shown is API Gateway's for the
//! event's own route: a tenant's policy lists only its grants, so a route outside them is a
//! Deny even though the response holds Allow statements.

use std::collections::BTreeMap;

use portcullis_harness::{InvokeError, Lambda, decision_of};
use serde_json::Value;

use crate::DemoContext;
use crate::table::{self, Tally};

const FUNCTION: &str = "request-authorizer";
const PARAMETER: &str = "/portcullis/demo/tenant-rules";

pub async fn run(ctx: &DemoContext) -> Tally {
    let mut tally = Tally::default();
    let dir = ctx.events_dir.join(FUNCTION);
    let Ok(rules) = std::fs::read_to_string(dir.join("rules/rules.json")) else {
        println!(
            "{FUNCTION}: {} is missing",
            dir.join("rules/rules.json").display()
        );
        tally.wrong += 1;
        return tally;
    };
    ctx.moto.put_secure(PARAMETER, &rules).await;
    let mut env = ctx.moto.aws_env();
    env.push(("RULES_PARAMETER_NAME".into(), PARAMETER.into()));
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
    println!();
    table::heading(
        FUNCTION,
        &format!(
            "SSM SecureString {PARAMETER} with 3 tenants; ready in {}",
            init.map_or_else(
                |e| format!("error: {e}"),
                |d| format!("{:.1} ms", d.as_secs_f64() * 1e3)
            )
        ),
    );
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
        let result = lambda.invoke(&event).await;
        let decision = effective_decision(&event, &result);
        table::row(&mut tally, name, format_of(&event), want, &decision);
    }
    tally
}

/// `Allow`/`Deny` for the event's own method ARN (explicit Deny wins, `*` spans `/`), or the
/// harness's reading of a simple response or an error.
fn effective_decision(event: &Value, result: &Result<Value, InvokeError>) -> String {
    let Ok(response) = result else {
        return decision_of(result);
    };
    let Some(statements) = response["policyDocument"]["Statement"].as_array() else {
        return decision_of(result);
    };
    let arn = event["methodArn"]
        .as_str()
        .or(event["routeArn"].as_str())
        .unwrap_or_default();
    let mut allowed = false;
    for statement in statements {
        let hit = statement["Resource"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|r| wildcard(r.as_bytes(), arn.as_bytes()));
        match statement["Effect"].as_str() {
            Some("Deny") if hit => return "Deny".into(),
            Some("Allow") if hit => allowed = true,
            _ => {}
        }
    }
    if allowed { "Allow" } else { "Deny" }.into()
}

fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            wildcard(&pattern[1..], text) || (!text.is_empty() && wildcard(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => wildcard(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => wildcard(&pattern[1..], &text[1..]),
        _ => false,
    }
}

fn format_of(event: &Value) -> &'static str {
    match (
        event["version"].as_str(),
        event["requestContext"]["connectionId"].is_string(),
    ) {
        (Some("2.0"), _) => "http-v2",
        (Some("1.0"), _) => "http-v1",
        (_, true) => "websocket",
        _ => "rest-request",
    }
}
