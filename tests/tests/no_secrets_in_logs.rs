//! Nothing secret in any log line, at any level.
//!
//! Every function binary runs at `AWS_LAMBDA_LOG_LEVEL=TRACE`, once in text and once in JSON
//! format, over every sample event under `events/<function>/` and a set of malformed events
//! that carry a planted secret; where the function reads a secret, a refresh then finds an
//! invalid value holding one, and the request-authorizer also starts on rules documents that
//! are invalid while quoting a secret. Everything the process prints (init and per request, stdout and stderr) and every
//! error it returns must be free of every secret: the origin secrets, tokens (whole and each JWT
//! segment), API keys, client-certificate PEMs and cookies found in the events, the rules
//! document's key digests and usage-plan keys, the AWS session token and the planted values.
//!
//! Build first: `cargo build --bin header-secret-authorizer --bin jwt-authorizer --bin request-authorizer`.

mod jwt_support;

use std::collections::BTreeSet;
use std::time::Duration;

use axum::body::Bytes;
use portcullis_tests::{InvokeError, Lambda, Moto, binary, workspace_root};
use serde_json::{Value, json};

use jwt_support::JwksServer;

/// Lambda's two `AWS_LAMBDA_LOG_FORMAT` values.
const FORMATS: [&str; 2] = ["Text", "JSON"];

/// The header-secret parameter's lines (the values the sample events carry).
const ORIGIN_CURRENT: &str = "pc-demo-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4";
const ORIGIN_PREVIOUS: &str = "pc-demo-previous-8e6d4c2a0b9f7e5d3c1a2b4d6f8e0a1c";
/// Tenant keys of the request-authorizer's sample events.
const API_KEYS: [&str; 4] = [
    "pc-demo-acme-7d1f0c9a2b4e6f8a0c2e4a6b8d0f1e3c",
    "pc-demo-acme-next-5b3d1f9e7c5a3b1d9f7e5c3a1b9d",
    "pc-demo-globex-2c4e6a8b0d2f4a6c8e0b2d4f6a8c0e2b",
    "pc-demo-initech-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
];
/// A secret that is all digits: serde quotes numbers in backticks, not double quotes.
const PLANTED_NUMBER: u64 = 8_072_215_531_409;
/// Values shorter than this are not treated as secrets (`not.a.jwt` has a segment `a`).
const MIN_SECRET_LEN: usize = 12;

/// A planted secret, unique per use so a leak names its case.
fn planted(case: &str) -> String {
    format!("pc-planted-{case}-7c3e9a1f5b2d")
}

/// Every sample event of `function` (`expected.json` and `jwks.json` are not events).
fn sample_events(function: &str) -> Vec<(String, Value)> {
    let dir = workspace_root().join("events").join(function);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && n != "expected.json" && n != "jwks.json")
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(&name)).unwrap();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect()
}

/// Strings of a JSON value: a string, or the strings of an array.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Every credential an event carries: secret-bearing headers, query parameters and cookies,
/// the TOKEN event's token, identity sources and client-certificate PEMs, split into what a
/// log line could show (a Bearer token without its scheme, comma-joined values one by one,
/// each segment of a JWT, each base64 line of a PEM).
fn credentials(event: &Value) -> BTreeSet<String> {
    const HEADERS: [&str; 4] = ["x-origin-verify", "authorization", "x-api-key", "cookie"];
    const QUERY: [&str; 2] = ["access_token", "api_key"];
    let mut raw = Vec::new();
    for map in ["headers", "multiValueHeaders"] {
        for (name, value) in event[map].as_object().into_iter().flatten() {
            if HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                raw.extend(strings(Some(value)));
            }
        }
    }
    for map in ["queryStringParameters", "multiValueQueryStringParameters"] {
        for name in QUERY {
            raw.extend(strings(event[map].get(name)));
        }
    }
    raw.extend(strings(event.get("authorizationToken")));
    raw.extend(strings(event.get("identitySource")));
    raw.extend(strings(event.get("cookies")));
    let mut out = BTreeSet::new();
    for pem in [
        &event["requestContext"]["identity"]["clientCert"]["clientCertPem"],
        &event["requestContext"]["authentication"]["clientCert"]["clientCertPem"],
    ] {
        for line in pem.as_str().into_iter().flat_map(str::lines) {
            if !line.starts_with("-----") {
                out.insert(line.to_owned());
            }
        }
    }
    for value in raw {
        for part in value.split([',', ';']) {
            let part = part.trim();
            let part = part.strip_prefix("Bearer ").unwrap_or(part);
            let part = part.split_once('=').map_or(part, |(_, v)| v);
            out.insert(part.to_owned());
            if part.split('.').count() == 3 {
                out.extend(part.split('.').map(str::to_owned));
            }
        }
    }
    out.retain(|s| s.len() >= MIN_SECRET_LEN);
    out
}

/// The key digests and usage-plan keys of a rules document (any JSON shape).
fn rules_secrets(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "sha256" || key == "usageIdentifierKey" {
                    out.extend(v.as_str().map(str::to_owned));
                }
                rules_secrets(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| rules_secrets(v, out)),
        _ => {}
    }
}

/// Events that fail to parse while holding a planted secret in a credential.
fn malformed_events(header: &str) -> Vec<(String, Value)> {
    let arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/orders";
    let request = |extra: Value| {
        let mut event = json!({"type": "REQUEST", "methodArn": arn, "requestContext": {}});
        for (k, v) in extra.as_object().unwrap() {
            event[k] = v.clone();
        }
        event
    };
    vec![
        (
            // A header value that is not a valid HTTP header value (and quotes a quote).
            "header with a newline".into(),
            request(json!({"headers": {header: format!("{}\n\"tail", planted("header"))}})),
        ),
        (
            "method with a quote".into(),
            request(json!({"httpMethod": format!("{}\"x", planted("method"))})),
        ),
        (
            "cookies as a string".into(),
            json!({"version": "2.0", "type": "REQUEST", "routeArn": arn, "requestContext": {},
                   "cookies": format!("access_token={}", planted("cookie"))}),
        ),
        (
            "numeric token".into(),
            json!({"type": "TOKEN", "methodArn": arn, "authorizationToken": PLANTED_NUMBER}),
        ),
        (
            "certificate as a string".into(),
            request(json!({"requestContext": {"identity": {"clientCert":
                format!("-----BEGIN CERTIFICATE-----\n{}", planted("pem"))}}})),
        ),
    ]
}

/// Invalid JSON holding a planted secret, as bytes.
fn truncated_event(header: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"type": "REQUEST", "headers": {{"{header}": "{}"#,
        planted("truncated")
    ))
}

/// Every planted value, as it would appear in a log line.
fn planted_secrets(cases: &[&str]) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = ["header", "method", "cookie", "pem", "truncated", "refresh"]
        .iter()
        .chain(cases)
        .map(|c| planted(c))
        .collect();
    out.insert(PLANTED_NUMBER.to_string());
    out
}

/// Environment for a run at TRACE in `format`, with a session token like Lambda's role
/// credentials carry (SigV4 signs it into every SSM request).
fn log_env(format: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
        ("AWS_LAMBDA_LOG_FORMAT", format),
        ("METRICS_NAMESPACE", "portcullis-logs-test"),
        ("AWS_SESSION_TOKEN", &planted("session")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// What one process printed and answered.
struct Run {
    what: String,
    format: &'static str,
    /// stdout and stderr lines, then every error the function returned.
    lines: Vec<String>,
}

impl Run {
    async fn collect(
        what: String,
        format: &'static str,
        lambda: &Lambda,
        errors: Vec<String>,
    ) -> Self {
        // Let the log readers drain what the process printed last.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut lines = lambda.logs();
        lines.extend(errors);
        Run {
            what,
            format,
            lines,
        }
    }

    /// Fails on any secret in any line, and when a line holding all parts of each `must_log`
    /// entry is missing or no line is JSON in a JSON run (a silent process would pass).
    fn assert_clean(&self, secrets: &BTreeSet<String>, must_log: &[&[&str]]) {
        let leaks: Vec<String> = self
            .lines
            .iter()
            .flat_map(|line| {
                secrets
                    .iter()
                    .filter(|s| line.contains(s.as_str()))
                    .map(move |s| format!("  {s}\n    in: {line}"))
            })
            .collect();
        assert!(
            leaks.is_empty(),
            "{} ({}): {} secret occurrence(s) in the output:\n{}",
            self.what,
            self.format,
            leaks.len(),
            leaks.join("\n")
        );
        for expected in must_log {
            assert!(
                self.lines
                    .iter()
                    .any(|l| expected.iter().all(|part| l.contains(part))),
                "{} ({}): no line contains {expected:?}; output:\n{}",
                self.what,
                self.format,
                self.lines.join("\n")
            );
        }
        let json_lines = self.lines.iter().filter(|l| l.starts_with('{')).count();
        if self.format == "JSON" {
            assert!(json_lines > 0, "{} (JSON): no JSON line", self.what);
        }
    }
}

/// Sends every event (and the truncated one), returning every error the function answered.
async fn invoke_all(lambda: &mut Lambda, events: &[(String, Value)], header: &str) -> Vec<String> {
    let mut errors = Vec::new();
    for (name, event) in events {
        match lambda.invoke(event).await {
            Ok(_) => {}
            Err(e @ InvokeError::Function { .. }) => errors.push(e.to_string()),
            Err(other) => panic!("{name}: invocation failed: {other}"),
        }
    }
    match lambda.invoke_raw(truncated_event(header)).await {
        Err(e @ InvokeError::Function { .. }) => errors.push(e.to_string()),
        other => panic!("truncated event: expected a function error, got {other:?}"),
    }
    errors
}

async fn header_secret_run(moto: &Moto, format: &'static str) -> Run {
    const FUNCTION: &str = "header-secret-authorizer";
    let param = format!("/portcullis/logs/{format}/origin-secret");
    moto.put_secure(&param, &format!("{ORIGIN_CURRENT}\n{ORIGIN_PREVIOUS}"))
        .await;
    let mut env = moto.aws_env();
    env.extend(log_env(format));
    env.push(("SECRET_PARAMETER_NAME".into(), param.clone()));
    env.push(("SECRET_CACHE_TTL_SECONDS".into(), "1".into()));
    env.push(("SECRET_RETRY_AFTER_ERROR_SECONDS".into(), "0".into()));
    let mut lambda = Lambda::spawn(&binary(FUNCTION), &env).await.unwrap();
    lambda.wait_ready().await.expect("function ready");
    let mut events = sample_events(FUNCTION);
    events.extend(malformed_events("x-origin-verify"));
    let mut errors = invoke_all(&mut lambda, &events, "x-origin-verify").await;
    // A refresh that finds an invalid value (a line too short) holding a new secret.
    moto.put_secure(&param, &format!("{}\nshort", planted("refresh")))
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let valid = events
        .iter()
        .find(|(n, _)| n == "http-v2-valid.json")
        .unwrap();
    if let Err(e) = lambda.invoke(&valid.1).await {
        errors.push(e.to_string());
    }
    Run::collect(FUNCTION.into(), format, &lambda, errors).await
}

#[tokio::test]
async fn header_secret_authorizer_logs_no_secret() {
    let moto = Moto::start().await;
    let mut secrets: BTreeSet<String> = sample_events("header-secret-authorizer")
        .iter()
        .flat_map(|(_, e)| credentials(e))
        .collect();
    assert!(secrets.contains(ORIGIN_CURRENT) && secrets.contains(ORIGIN_PREVIOUS));
    secrets.extend(planted_secrets(&[]));
    let (text, json) = tokio::join!(
        header_secret_run(&moto, FORMATS[0]),
        header_secret_run(&moto, FORMATS[1])
    );
    for run in [text, json] {
        // DEBUG "allow" proves the level reached the function; the refresh failure and the
        // malformed events prove those paths ran.
        run.assert_clean(
            &secrets,
            &[
                &["DEBUG", "origin proof passed"],
                &["secret refresh failed"],
                &["rejecting malformed authorizer event"],
            ],
        );
    }
}

async fn jwt_run(server: &JwksServer, format: &'static str) -> Run {
    const FUNCTION: &str = "jwt-authorizer";
    let dir = workspace_root().join("events").join(FUNCTION);
    let mut env = portcullis_tests::read_env_file(&dir.join("demo.env"));
    assert!(!env.is_empty(), "demo.env has settings");
    for (k, v) in &mut env {
        if k == "JWT_JWKS_URI" {
            *v = server.jwks_uri();
        }
    }
    env.extend(log_env(format));
    let mut lambda = Lambda::spawn(&binary(FUNCTION), &env).await.unwrap();
    lambda.wait_ready().await.expect("function ready");
    let mut events = sample_events(FUNCTION);
    events.extend(malformed_events("authorization"));
    let errors = invoke_all(&mut lambda, &events, "authorization").await;
    Run::collect(FUNCTION.into(), format, &lambda, errors).await
}

#[tokio::test]
async fn jwt_authorizer_logs_no_secret() {
    let server = JwksServer::start().await;
    let jwks: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("events/jwt-authorizer/jwks.json")).unwrap(),
    )
    .unwrap();
    server.set_keys(&jwks["keys"].as_array().unwrap().iter().collect::<Vec<_>>());
    let mut secrets: BTreeSet<String> = sample_events("jwt-authorizer")
        .iter()
        .flat_map(|(_, e)| credentials(e))
        .collect();
    // Whole tokens and their three segments: at least the valid token's signature segment.
    assert!(
        secrets.iter().filter(|s| s.starts_with("eyJ")).count() >= 3,
        "{secrets:?}"
    );
    secrets.extend(planted_secrets(&[]));
    let (text, json) = tokio::join!(jwt_run(&server, FORMATS[0]), jwt_run(&server, FORMATS[1]));
    for run in [text, json] {
        run.assert_clean(
            &secrets,
            &[
                &["DEBUG", "jwks fetched"],
                &["token accepted"],
                &["rejecting malformed authorizer event"],
            ],
        );
    }
}

fn demo_rules() -> String {
    std::fs::read_to_string(workspace_root().join("events/request-authorizer/rules/rules.json"))
        .unwrap()
}

async fn request_run(moto: &Moto, format: &'static str) -> Run {
    const FUNCTION: &str = "request-authorizer";
    let param = format!("/portcullis/logs/{format}/tenant-rules");
    moto.put_secure(&param, &demo_rules()).await;
    let mut env = moto.aws_env();
    env.extend(log_env(format));
    env.push(("RULES_PARAMETER_NAME".into(), param.clone()));
    env.push(("RULES_CACHE_TTL_SECONDS".into(), "1".into()));
    env.push(("RULES_RETRY_AFTER_ERROR_SECONDS".into(), "0".into()));
    let mut lambda = Lambda::spawn(&binary(FUNCTION), &env).await.unwrap();
    lambda.wait_ready().await.expect("function ready");
    let mut events = sample_events(FUNCTION);
    events.extend(malformed_events("x-api-key"));
    let mut errors = invoke_all(&mut lambda, &events, "x-api-key").await;
    // A refresh that finds a document whose unknown field is a pasted secret.
    moto.put_secure(
        &param,
        &format!(r#"{{"version": 1, "{}": []}}"#, planted("refresh")),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let valid = events
        .iter()
        .find(|(n, _)| n == "http-v2-api-key-valid.json")
        .unwrap();
    if let Err(e) = lambda.invoke(&valid.1).await {
        errors.push(e.to_string());
    }
    Run::collect(FUNCTION.into(), format, &lambda, errors).await
}

fn request_secrets() -> BTreeSet<String> {
    let mut secrets: BTreeSet<String> = sample_events("request-authorizer")
        .iter()
        .flat_map(|(_, e)| credentials(e))
        .collect();
    for key in API_KEYS {
        assert!(secrets.contains(key), "{key} not found in the events");
    }
    assert!(
        secrets.iter().any(|s| s.contains("demo")),
        "no client-certificate PEM found"
    );
    let rules: Value = serde_json::from_str(&demo_rules()).unwrap();
    let before = secrets.len();
    rules_secrets(&rules, &mut secrets);
    assert!(secrets.len() >= before + 5, "rules digests and usage keys");
    secrets
}

#[tokio::test]
async fn request_authorizer_logs_no_secret() {
    let moto = Moto::start().await;
    let mut secrets = request_secrets();
    secrets.extend(planted_secrets(&[]));
    let (text, json) = tokio::join!(
        request_run(&moto, FORMATS[0]),
        request_run(&moto, FORMATS[1])
    );
    for run in [text, json] {
        run.assert_clean(
            &secrets,
            &[
                &["tenant authenticated"],
                &["secret refresh failed"],
                &["rejecting malformed authorizer event"],
            ],
        );
    }
}

/// Rules documents that are invalid while holding a planted secret where serde or the
/// validation would quote it.
fn invalid_rules() -> Vec<(&'static str, String)> {
    let digest = "66e4f8ebb7f2f3230595f35e10eeb6029f03eb76e95e33e114b9207bf401c420";
    vec![
        (
            "embedded quote",
            format!(
                r#"{{"version": 1, "tenants": [{{"id": "t", "apiKeys": "abc\"{}", "grants": []}}]}}"#,
                planted("embedded")
            ),
        ),
        (
            "unknown field",
            format!(r#"{{"version": 1, "{}": 1}}"#, planted("field")),
        ),
        (
            "TOML string",
            format!(
                "version = 1\n[[tenants]]\nid = \"t\"\napiKeys = \"abc\\\"{}\"\n",
                planted("toml")
            ),
        ),
        (
            "grant",
            format!(
                r#"{{"version": 1, "tenants": [{{"id": "t", "apiKeys": [{{"sha256": "{digest}"}}], "grants": ["{}"]}}]}}"#,
                planted("grant")
            ),
        ),
        ("number", format!(r#"{{"version": {PLANTED_NUMBER}}}"#)),
    ]
}

async fn invalid_rules_runs(moto: &Moto, format: &'static str) -> Vec<Run> {
    let mut runs = Vec::new();
    for (i, (case, document)) in invalid_rules().into_iter().enumerate() {
        let param = format!("/portcullis/logs/{format}/invalid-rules-{i}");
        moto.put_secure(&param, &document).await;
        let mut env = moto.aws_env();
        env.extend(log_env(format));
        env.push(("RULES_PARAMETER_NAME".into(), param));
        let mut lambda = Lambda::spawn(&binary("request-authorizer"), &env)
            .await
            .unwrap();
        let mut errors = Vec::new();
        match lambda.wait_ready().await {
            Err(e @ InvokeError::Exited(_)) => errors.push(e.to_string()),
            other => panic!("{case}: started on an invalid document: {other:?}"),
        }
        let status = lambda.wait_exit(Duration::from_secs(10)).await;
        assert!(status.is_some_and(|s| !s.success()), "{case}: {status:?}");
        runs.push(Run::collect(format!("rules {case}"), format, &lambda, errors).await);
    }
    runs
}

#[tokio::test]
async fn invalid_rules_documents_are_refused_without_quoting_them() {
    let moto = Moto::start().await;
    let mut secrets = request_secrets();
    secrets.extend(planted_secrets(&["embedded", "field", "toml", "grant"]));
    let (text, json) = tokio::join!(
        invalid_rules_runs(&moto, FORMATS[0]),
        invalid_rules_runs(&moto, FORMATS[1])
    );
    assert_eq!(text.len() + json.len(), 10);
    for run in text.into_iter().chain(json) {
        run.assert_clean(
            &secrets,
            &[&["invalid rules document in RULES_PARAMETER_NAME"]],
        );
    }
}
