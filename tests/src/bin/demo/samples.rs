//! Runs one function on every sample event of a folder's `expected.json`.

use std::path::Path;

use portcullis_tests::{Lambda, decision_for};
use serde_json::Value;

use crate::DemoContext;
use crate::table::{self, Tally};

/// Starts `function` with `env`, prints a heading with `setup`, invokes every event listed in
/// `dir` (a folder of `events/`).
pub async fn run(
    ctx: &DemoContext,
    function: &str,
    dir: &Path,
    env: &[(String, String)],
    setup: &str,
) -> Tally {
    let mut tally = Tally::default();
    let binary = ctx.functions_dir.join(function);
    let mut lambda = match Lambda::spawn(&binary, env).await {
        Ok(l) => l,
        Err(e) => {
            println!("{function}: cannot start {}: {e}", binary.display());
            tally.wrong += 1;
            return tally;
        }
    };
    let init = lambda.wait_ready().await.map_or_else(
        |e| format!("error: {e}"),
        |d| format!("{:.1} ms", d.as_secs_f64() * 1e3),
    );
    let title = dir.strip_prefix(&ctx.events_dir).unwrap_or(dir).display();
    table::heading(&title.to_string(), &format!("{setup}; ready in {init}"));
    let expected = portcullis_tests::expected_decisions(dir);
    if expected.is_empty() {
        table::row(&mut tally, "expected.json", "?", "samples", "none found");
    }
    for (name, want) in &expected {
        let read =
            std::fs::read_to_string(dir.join(name)).map(|t| serde_json::from_str::<Value>(&t));
        let Ok(Ok(event)) = read else {
            table::row(&mut tally, name, "?", want, "unreadable");
            continue;
        };
        let decision = decision_for(&event, &lambda.invoke(&event).await);
        table::row(&mut tally, name, payload_format(&event), want, &decision);
    }
    println!();
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
