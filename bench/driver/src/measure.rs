//! Runs one subject (our binary or a peer) on the emulator and takes its figures.

use std::path::PathBuf;
use std::time::Instant;

use axum::body::Bytes;
use portcullis_tests::{Lambda, decision_of};
use serde::Serialize;
use serde_json::Value;

use crate::servers::Counter;

/// Which comparison a subject belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Group {
    /// The emulator's own round trip (echo runtime).
    Baseline,
    /// Header-secret authorizers (SSM).
    HeaderSecret,
    /// JWT authorizers (JWKS).
    Jwt,
    /// Cedar policies on JWT callers (no peer).
    Cedar,
    /// Origin proof and caller check in one function (no peer).
    Composed,
    /// The origin secret's rotator (no peer).
    Rotation,
}

/// One function to measure.
pub struct Subject {
    /// Short key, also used for package sizes (`packages.json`).
    pub key: &'static str,
    /// What it is, for the table.
    pub label: &'static str,
    /// Runtime, for the table.
    pub runtime: String,
    pub group: Group,
    /// `true` for portcullis' own binaries (ratios are taken against them).
    pub ours: bool,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub event: Value,
    /// The decision every invoke must get.
    pub expect: &'static str,
    /// The counter of the remote calls this subject makes (SSM or JWKS).
    pub calls: Option<Counter>,
}

/// How much to measure.
#[derive(Clone, Copy)]
pub struct Plan {
    pub cold_runs: usize,
    pub warmup: usize,
    pub invokes: usize,
}

/// The figures of one subject.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub key: String,
    pub label: String,
    pub runtime: String,
    pub group: Group,
    pub ours: bool,
    /// Every cold init measured, ms (process start → first `invocation/next`), dependencies
    /// over TLS.
    pub cold_init_ms: Vec<f64>,
    pub cold_init_median_ms: f64,
    /// The CPU time each of those processes used until then, ms (its own work at init, without
    /// the time it waited for its dependencies).
    pub cold_init_cpu_ms: Vec<f64>,
    pub cold_init_cpu_median_ms: f64,
    /// The same with every dependency over plain HTTP.
    pub cold_init_http_ms: Vec<f64>,
    pub cold_init_http_median_ms: f64,
    pub invokes: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub mean_us: f64,
    pub peak_rss_kib: u64,
    /// Remote calls (SSM GetParameter or JWKS GETs) per 1,000 warm invokes.
    pub calls_per_1000: Option<f64>,
    /// Remote calls during init and warm-up of the measured process.
    pub init_calls: Option<u64>,
    /// Deploy package size in bytes (filled from packages.json).
    pub package_bytes: Option<u64>,
}

/// Measures `subject`: `plan.cold_runs` fresh starts with its environment (dependencies over
/// TLS), as many with `http_env` (the same over plain HTTP), then one process (TLS) warmed up
/// and invoked `plan.invokes` times. Fails if the function cannot start or answers a wrong
/// decision.
pub async fn run(
    subject: &Subject,
    http_env: &[(String, String)],
    plan: Plan,
) -> Result<Figures, String> {
    let body = Bytes::from(serde_json::to_vec(&subject.event).expect("serialisable"));
    let mut cold = Vec::with_capacity(plan.cold_runs + 1);
    let mut cold_cpu = Vec::with_capacity(plan.cold_runs + 1);
    let mut cold_http = Vec::with_capacity(plan.cold_runs);
    for _ in 0..plan.cold_runs {
        let mut lambda = spawn(subject, &subject.env).await?;
        let (wall, cpu) = ready(&mut lambda).await?;
        cold.push(wall);
        cold_cpu.push(cpu);
        let mut lambda = spawn(subject, http_env).await?;
        cold_http.push(ready(&mut lambda).await?.0);
    }

    let before_start = subject.calls.as_ref().map(Counter::get);
    let mut lambda = spawn(subject, &subject.env).await?;
    let (wall, cpu) = ready(&mut lambda).await?;
    cold.push(wall);
    cold_cpu.push(cpu);
    for _ in 0..plan.warmup {
        check(subject, &lambda.invoke_raw(body.clone()).await, &lambda)?;
    }
    let before = subject.calls.as_ref().map(Counter::get);
    let mut samples = Vec::with_capacity(plan.invokes);
    for _ in 0..plan.invokes {
        let t0 = Instant::now();
        let answer = lambda.invoke_raw(body.clone()).await;
        samples.push(t0.elapsed().as_secs_f64() * 1e6);
        check(subject, &answer, &lambda)?;
    }
    let after = subject.calls.as_ref().map(Counter::get);
    let peak_rss_kib = lambda.peak_rss_kib().unwrap_or(0);
    drop(lambda);

    samples.sort_by(f64::total_cmp);
    let mean_us = samples.iter().sum::<f64>() / samples.len().max(1) as f64;
    let calls_per_1000 = before
        .zip(after)
        .map(|(b, a)| (a - b) as f64 * 1000.0 / plan.invokes.max(1) as f64);
    let init_calls = before_start.zip(before).map(|(s, b)| b - s);
    Ok(Figures {
        key: subject.key.into(),
        label: subject.label.into(),
        runtime: subject.runtime.clone(),
        group: subject.group,
        ours: subject.ours,
        cold_init_median_ms: median(&cold),
        cold_init_ms: cold,
        cold_init_cpu_median_ms: median(&cold_cpu),
        cold_init_cpu_ms: cold_cpu,
        cold_init_http_median_ms: median(&cold_http),
        cold_init_http_ms: cold_http,
        invokes: plan.invokes,
        p50_us: quantile(&samples, 0.50),
        p99_us: quantile(&samples, 0.99),
        mean_us,
        peak_rss_kib,
        calls_per_1000,
        init_calls,
        package_bytes: None,
    })
}

async fn spawn(subject: &Subject, env: &[(String, String)]) -> Result<Lambda, String> {
    Lambda::spawn_with_args(&subject.program, &subject.args, env)
        .await
        .map_err(|e| format!("cannot start {}: {e}", subject.program.display()))
}

/// Waits for the first `invocation/next`: (ms since spawn, ms of CPU the process used until then).
async fn ready(lambda: &mut Lambda) -> Result<(f64, f64), String> {
    match lambda.wait_ready().await {
        Ok(d) => {
            let cpu = lambda
                .cpu_time()
                .map_or(f64::NAN, |c| c.as_secs_f64() * 1e3);
            Ok((d.as_secs_f64() * 1e3, cpu))
        }
        Err(e) => Err(format!("not ready: {e}; output: {}", tail(lambda))),
    }
}

fn check(
    subject: &Subject,
    answer: &Result<Value, portcullis_tests::InvokeError>,
    lambda: &Lambda,
) -> Result<(), String> {
    let decision = decision_of(answer);
    if decision == subject.expect {
        Ok(())
    } else {
        Err(format!(
            "decision {decision}, expected {}; output: {}",
            subject.expect,
            tail(lambda)
        ))
    }
}

fn tail(lambda: &Lambda) -> String {
    let logs = lambda.logs();
    logs[logs.len().saturating_sub(5)..].join(" | ")
}

/// The `q` quantile of sorted samples (nearest rank).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}
