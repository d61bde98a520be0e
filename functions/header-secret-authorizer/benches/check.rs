//! Criterion benchmarks of the header-secret hot path: the constant-time compare against every
//! secret line, and a whole warm invocation (event → request view → check → response) with
//! the secrets already cached.

use std::hint::black_box;
use std::time::{Duration, Instant};

use constant_time_eq::constant_time_eq;
use criterion::{Criterion, criterion_group, criterion_main};
use header_secret_authorizer::{Config, authorizer};
use portcullis::config::MapEnv;
use portcullis::door::Clock;
use portcullis::secrets::MemorySource;
use serde_json::Value;

const CURRENT: &str = "pc-demo-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4";
const PREVIOUS: &str = "pc-demo-previous-8e6d4c2a0b9f7e5d3c1a2b4d6f8e0a1c";

fn event(file: &str) -> Value {
    let path = format!(
        "{}/../../events/header-secret-authorizer/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect("JSON event")
}

fn header_compare(c: &mut Criterion) {
    let candidate = CURRENT.to_owned();
    c.bench_function("header_compare/constant_time_eq_48B", |b| {
        b.iter(|| {
            constant_time_eq(
                black_box(candidate.as_bytes()),
                black_box(PREVIOUS.as_bytes()),
            )
        });
    });
}

fn warm_invocation(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let env = MapEnv::from_pairs([("SECRET_PARAMETER_NAME", "/portcullis/origin-secret")]);
    let authorizer = authorizer(
        MemorySource::new(&format!("{CURRENT}\n{PREVIOUS}\n")),
        &Config::from_env(&env).expect("config"),
    );
    runtime.block_on(authorizer.prefetch(Instant::now()));
    let mut group = c.benchmark_group("warm_invocation");
    for file in [
        "rest-request-valid.json",
        "rest-request-rotated-secret.json",
        "rest-request-wrong-secret.json",
        "http-v2-valid.json",
    ] {
        let event = event(file);
        group.bench_function(file.trim_end_matches(".json"), |b| {
            b.iter(|| {
                runtime
                    .block_on(authorizer.serve(black_box(&event), Clock::system(), Duration::MAX))
                    .expect("valid event")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, header_compare, warm_invocation);
criterion_main!(benches);
