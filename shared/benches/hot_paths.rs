//! Criterion benchmarks of the shared hot paths: reading an authorizer event into the request
//! view, building the whole-API decision, and rendering the response, per payload format.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::policy::{Context, Decision, MethodArn, wildcard_match};
use portcullis::request::AuthorizerRequest;
use portcullis::response::{HttpApiResponseMode, render};
use serde_json::Value;

fn event(file: &str) -> Value {
    let path = format!(
        "{}/../events/header-secret-authorizer/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect("JSON event")
}

fn context() -> Context {
    let mut context = Context::new();
    context
        .insert("lockdown", "header-secret")
        .expect("non-empty key");
    context
}

fn request_view(c: &mut Criterion) {
    let mut group = c.benchmark_group("request_view");
    for file in [
        "rest-request-valid.json",
        "http-v1-valid.json",
        "http-v2-valid.json",
        "websocket-valid.json",
    ] {
        let event = event(file);
        group.bench_function(file.trim_end_matches("-valid.json"), |b| {
            b.iter(|| AuthorizerRequest::from_value(black_box(&event)).expect("valid event"));
        });
    }
    group.finish();
}

fn policy_rendering(c: &mut Criterion) {
    let mut group = c.benchmark_group("policy_render");
    for file in ["rest-request-valid.json", "http-v2-valid.json"] {
        let request = AuthorizerRequest::from_value(&event(file)).expect("valid event");
        for mode in [HttpApiResponseMode::Simple, HttpApiResponseMode::Iam] {
            let name = format!("{}/{mode:?}", file.trim_end_matches("-valid.json"));
            group.bench_function(name, |b| {
                b.iter(|| {
                    let decision = Decision::allow_all(
                        "cloudfront",
                        black_box(&request.method_arn),
                        context(),
                    );
                    render(&decision, &request, mode)
                });
            });
        }
    }
    group.finish();
}

fn arn_and_wildcards(c: &mut Criterion) {
    let arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/orders/42";
    c.bench_function("method_arn_parse", |b| {
        b.iter(|| MethodArn::parse(black_box(arn)).expect("valid ARN"));
    });
    c.bench_function("wildcard_match", |b| {
        b.iter(|| {
            wildcard_match(
                black_box("arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/*/*"),
                black_box(arn),
            )
        });
    });
}

criterion_group!(benches, request_view, policy_rendering, arn_and_wildcards);
criterion_main!(benches);
