//! The harness shared by the integration tests (`tests/tests`), the demo (`src/bin/demo`) and
//! the benchmark driver (`bench/driver`): run a real function binary on a Lambda Runtime API
//! emulator ([`Lambda`]) against a real moto SSM server ([`Moto`]).

pub mod faults;
pub mod moto;
pub mod runtime;
pub mod verified_permissions;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use faults::{Fault, FaultProxy, Injected};
pub use moto::Moto;
pub use runtime::{InvokeError, Lambda};
pub use verified_permissions::{StoredPolicy, VerifiedPermissions};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Path of a built function binary: `$PORTCULLIS_BIN_DIR/<name>` or `target/debug/<name>`.
/// Panics with the command to run when it is missing, so a test can never pass without it.
pub fn binary(name: &str) -> PathBuf {
    let dir = std::env::var_os("PORTCULLIS_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/debug"));
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --bin {name}` (make test-integ does)",
        path.display()
    );
    path
}

/// A sample event from `events/<function>/<file>`.
pub fn sample_event(function: &str, file: &str) -> serde_json::Value {
    let path = workspace_root().join("events").join(function).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `NAME=value` lines of a dotenv file (as `cargo lambda watch --env-file` reads them);
/// single-quoted values are literal. A missing file gives no variables.
pub fn read_env_file(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(v);
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// The decision each sample event of `dir` should get: its `expected.json` (`{"<file>":
/// "<decision>"}`), or else its `expected.txt` (`<file> <decision>` lines, `#` comments; for a
/// folder whose every `*.json` its function's tests read as an event). Empty when neither exists.
pub fn expected_decisions(dir: &Path) -> BTreeMap<String, String> {
    if let Ok(text) = std::fs::read_to_string(dir.join("expected.json")) {
        return serde_json::from_str(&text).unwrap_or_default();
    }
    std::fs::read_to_string(dir.join("expected.txt"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

/// The decision API Gateway would take for `event`'s own route: the simple response's
/// `isAuthorized`, or the IAM policy evaluated on the event's `methodArn`/`routeArn` (an
/// explicit Deny wins; no matching Allow is a Deny); `Unauthorized` / `Error(<type>)` otherwise.
pub fn decision_for(
    event: &serde_json::Value,
    result: &Result<serde_json::Value, InvokeError>,
) -> String {
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
    let matching = |effect: &str| {
        statements.iter().any(|s| {
            s["Effect"] == effect
                && s.get("Condition").is_none()
                && s["Resource"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .chain(std::iter::once(&s["Resource"]))
                    .filter_map(serde_json::Value::as_str)
                    .any(|r| iam_match(r.as_bytes(), arn.as_bytes()))
        })
    };
    if matching("Deny") || !matching("Allow") {
        "Deny".into()
    } else {
        "Allow".into()
    }
}

/// The reason code of the front door's decision line (JSON logs) for `lambda`'s `n`-th
/// invocation, waiting briefly for the log to arrive.
pub async fn decision_reason(lambda: &Lambda, n: u64) -> String {
    let id = format!("\"requestId\":\"req-{n:08}\"");
    for _ in 0..200 {
        let found = lambda.logs().into_iter().find_map(|line| {
            let v: serde_json::Value = serde_json::from_str(&line).ok()?;
            let fields = &v["fields"];
            (line.contains(&id) && fields["decision"].is_string())
                .then(|| fields["reason"].as_str().unwrap_or_default().to_owned())
        });
        if let Some(reason) = found {
            return reason;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("no decision logged for invocation {n}");
}

/// IAM's ARN wildcards, written here independently of the code under test: `*` matches any
/// run of characters (empty included, `/` included), `?` exactly one.
pub fn iam_match(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            iam_match(&pattern[1..], text) || (!text.is_empty() && iam_match(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => iam_match(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => iam_match(&pattern[1..], &text[1..]),
        _ => false,
    }
}

/// The decision a response carries: `Allow`/`Deny` from an IAM policy's first statement or a
/// simple response's `isAuthorized`; `Unauthorized` or `Error(<type>)` for a function error.
pub fn decision_of(result: &Result<serde_json::Value, InvokeError>) -> String {
    match result {
        Ok(v) => match v.get("isAuthorized").and_then(serde_json::Value::as_bool) {
            Some(true) => "Allow".into(),
            Some(false) => "Deny".into(),
            None => {
                let statements = v["policyDocument"]["Statement"].as_array();
                let effects: Vec<&str> = statements
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s["Effect"].as_str())
                    .collect();
                if effects.contains(&"Deny") && !effects.contains(&"Allow") {
                    "Deny".into()
                } else if effects.contains(&"Allow") {
                    "Allow".into()
                } else {
                    "Invalid".into()
                }
            }
        },
        Err(InvokeError::Function { message, .. }) if message == "Unauthorized" => {
            "Unauthorized".into()
        }
        Err(InvokeError::Function { error_type, .. }) => format!("Error({error_type})"),
        Err(other) => format!("Error({other})"),
    }
}
