//! Load: many invocations back to back per function, and several function processes at
//! once against one moto. Every answer must be the expected decision (0 errors) and the
//! resident set must not grow between the first tenth of the run and its end.
//!
//! Sizes: `PORTCULLIS_LOAD_INVOCATIONS` (default 2000 per function, CI-sized; `make load` runs
//! 10 000 on release binaries) and `PORTCULLIS_LOAD_PROCESSES` (default 4). Figures go to
//! stderr and to target/hardening/load.md.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use portcullis_tests::{
    Lambda, Moto, binary, decision_for, read_env_file, sample_event, workspace_root,
};
use serde_json::Value;

const HS_PARAM: &str = "/portcullis/load/origin-secret";
const HS_SECRETS: &str = "pc-demo-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4\npc-demo-previous-8e6d4c2a0b9f7e5d3c1a2b4d6f8e0a1c";
const RA_PARAM: &str = "/portcullis/load/tenant-rules";
/// RSS may grow by at most this much (KiB) or 10 %, whichever is larger.
const RSS_SLACK_KIB: u64 = 2048;

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A function under load: its name, settings and a rotation of (event, expected decision).
struct Target {
    function: &'static str,
    env: Vec<(String, String)>,
    events: Vec<(Value, String)>,
}

fn events(function: &str, names: &[&str]) -> Vec<(Value, String)> {
    let expected = sample_event(function, "expected.json");
    names
        .iter()
        .map(|n| {
            let want = expected[*n]
                .as_str()
                .unwrap_or_else(|| panic!("{function}/{n} not in expected.json"));
            (sample_event(function, n), want.to_owned())
        })
        .collect()
}

async fn targets(moto: &Moto, jwks_uri: &str) -> Vec<Target> {
    moto.put_secure(HS_PARAM, HS_SECRETS).await;
    let rules = std::fs::read_to_string(
        workspace_root().join("events/request-authorizer/rules/rules.json"),
    )
    .unwrap();
    moto.put_secure(RA_PARAM, &rules).await;
    let with = |mut env: Vec<(String, String)>, extra: &[(&str, &str)]| {
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        env
    };
    let jwt_env: Vec<(String, String)> =
        read_env_file(&workspace_root().join("events/jwt-authorizer/demo.env"))
            .into_iter()
            .map(|(k, v)| {
                let v = if k == "JWT_JWKS_URI" {
                    jwks_uri.to_owned()
                } else {
                    v
                };
                (k, v)
            })
            .collect();
    vec![
        Target {
            function: "header-secret-authorizer",
            // A 1 s TTL: the run keeps refreshing from moto, not just serving memory.
            env: with(
                moto.aws_env(),
                &[
                    ("SECRET_PARAMETER_NAME", HS_PARAM),
                    ("SECRET_CACHE_TTL_SECONDS", "1"),
                ],
            ),
            events: events(
                "header-secret-authorizer",
                &[
                    "rest-request-valid.json",
                    "http-v2-valid.json",
                    "websocket-rotated-secret.json",
                    "http-v1-wrong-secret.json",
                    "rest-request-duplicated-header.json",
                ],
            ),
        },
        Target {
            function: "jwt-authorizer",
            env: jwt_env,
            events: events(
                "jwt-authorizer",
                &[
                    "rest-token-valid.json",
                    "http-v2-valid.json",
                    "rest-token-expired.json",
                    "rest-token-scope-missing.json",
                ],
            ),
        },
        Target {
            function: "request-authorizer",
            env: with(
                moto.aws_env(),
                &[
                    ("RULES_PARAMETER_NAME", RA_PARAM),
                    ("RULES_CACHE_TTL_SECONDS", "1"),
                ],
            ),
            events: events(
                "request-authorizer",
                &[
                    "rest-request-api-key-valid.json",
                    "http-v2-api-key-valid.json",
                    "websocket-api-key-valid.json",
                    "rest-request-api-key-unknown.json",
                    "http-v1-api-key-missing.json",
                ],
            ),
        },
    ]
}

/// The JWT demo key set (events/jwt-authorizer/jwks.json) on a loopback port.
async fn serve_jwks() -> String {
    let jwks =
        std::fs::read_to_string(workspace_root().join("events/jwt-authorizer/jwks.json")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let app = Router::new().route(
        "/jwks.json",
        get(move || {
            let body = jwks.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    uri
}

#[derive(Debug)]
struct Figures {
    label: String,
    invocations: usize,
    errors: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    per_second: f64,
    rss_tenth_kib: u64,
    rss_end_kib: u64,
}

/// `n` invocations back to back, cycling through the target's events.
async fn drive(target: &Target, n: usize, label: String) -> Figures {
    let mut lambda = Lambda::spawn(&binary(target.function), &target.env)
        .await
        .expect("spawn");
    lambda.wait_ready().await.expect("ready");
    let mut latencies = Vec::with_capacity(n);
    let mut errors = Vec::new();
    let mut rss_tenth = 0;
    let started = Instant::now();
    for i in 0..n {
        let (event, want) = &target.events[i % target.events.len()];
        let t = Instant::now();
        let got = decision_for(event, &lambda.invoke(event).await);
        latencies.push(t.elapsed());
        if &got != want && errors.len() < 5 {
            errors.push(format!("#{i}: expected {want}, got {got}"));
        } else if &got != want {
            errors.push(String::new());
        }
        if i + 1 == (n / 10).max(1) {
            rss_tenth = lambda.rss_kib().expect("VmRSS");
        }
    }
    let elapsed = started.elapsed();
    let rss_end = lambda.rss_kib().expect("VmRSS");
    latencies.sort();
    let q = |p: f64| latencies[((p * n as f64) as usize).min(n - 1)];
    assert!(
        errors.is_empty(),
        "{label}: {} errors, first: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    Figures {
        label,
        invocations: n,
        errors: errors.len(),
        p50: q(0.50),
        p99: q(0.99),
        max: latencies[n - 1],
        per_second: n as f64 / elapsed.as_secs_f64(),
        rss_tenth_kib: rss_tenth,
        rss_end_kib: rss_end,
    }
}

fn check_rss(f: &Figures) {
    let growth = f.rss_end_kib.saturating_sub(f.rss_tenth_kib);
    let bound = RSS_SLACK_KIB.max(f.rss_tenth_kib / 10);
    assert!(
        growth <= bound,
        "{}: RSS grew {growth} KiB (from {} to {} KiB), bound {bound} KiB",
        f.label,
        f.rss_tenth_kib,
        f.rss_end_kib
    );
}

fn table(rows: &[Figures]) -> String {
    let mut out = String::from(
        "| run | invocations | errors | p50 | p99 | max | invocations/s | RSS at n/10 | RSS at n | growth |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for f in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {:.2} ms | {:.2} ms | {:.1} ms | {:.0} | {} KiB | {} KiB | {:+} KiB |\n",
            f.label,
            f.invocations,
            f.errors,
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3,
            f.max.as_secs_f64() * 1e3,
            f.per_second,
            f.rss_tenth_kib,
            f.rss_end_kib,
            f.rss_end_kib as i64 - f.rss_tenth_kib as i64
        ));
    }
    out
}

fn write(name: &str, text: &str) {
    let dir = workspace_root().join("target/hardening");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_back_invocations_have_no_errors_and_flat_memory() {
    let n = size("PORTCULLIS_LOAD_INVOCATIONS", 2000);
    let moto = Moto::start().await;
    let jwks = serve_jwks().await;
    let mut rows = Vec::new();
    for target in targets(&moto, &jwks).await {
        let f = drive(&target, n, target.function.to_owned()).await;
        check_rss(&f);
        rows.push(f);
    }
    let out = table(&rows);
    eprintln!("back to back, one process per function:\n{out}");
    write("load-sequential.md", &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_processes_against_one_moto_have_no_errors() {
    let n = size("PORTCULLIS_LOAD_INVOCATIONS", 2000);
    let processes = size("PORTCULLIS_LOAD_PROCESSES", 4);
    let moto = Moto::start().await;
    let jwks = serve_jwks().await;
    let all = targets(&moto, &jwks).await;
    // Processes alternate between the two SSM readers, all against the same moto.
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    for p in 0..processes {
        let source = &all[if p % 2 == 0 { 0 } else { 2 }];
        let target = Target {
            function: source.function,
            env: source.env.clone(),
            events: source.events.clone(),
        };
        let per_process = n / processes;
        tasks.spawn(async move {
            let label = format!("{} #{p} (of {processes} at once)", target.function);
            drive(&target, per_process, label).await
        });
    }
    let mut rows = Vec::new();
    while let Some(done) = tasks.join_next().await {
        rows.push(done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())));
    }
    let wall = started.elapsed();
    rows.sort_by(|a, b| a.label.cmp(&b.label));
    let total: usize = rows.iter().map(|f| f.invocations).sum();
    assert_eq!(rows.iter().map(|f| f.errors).sum::<usize>(), 0);
    let out = format!(
        "{}\n{total} invocations over {processes} processes in {:.1} s ({:.0}/s), 0 errors.\n",
        table(&rows),
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64()
    );
    eprintln!("concurrent processes, one moto:\n{out}");
    write("load-concurrent.md", &out);
}
