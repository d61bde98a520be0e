//! Criterion benchmarks of the edge signer's Rust core: one origin request in, the SigV4-signed
//! request out (`handle_json`, what the WebAssembly export runs), per sample event.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

fn input(file: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../events/origin-signer/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect("JSON event");
    serde_json::to_vec(&json!({
        "event": event,
        "credentials": {
            "accessKeyId": "AKIDEXAMPLE",
            "secretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLETOKEN".repeat(30),
        },
        "nowMs": 1_767_225_600_000u64,
    }))
    .expect("serialisable")
}

fn sign(c: &mut Criterion) {
    let mut group = c.benchmark_group("sigv4_sign");
    for file in [
        "get-query.json",
        "post-json.json",
        "put-binary.json",
        "custom-domain.json",
    ] {
        let input = input(file);
        group.bench_function(file.trim_end_matches(".json"), |b| {
            b.iter(|| origin_signer::edge::handle_json(black_box(&input)));
        });
    }
    group.finish();
}

criterion_group!(benches, sign);
criterion_main!(benches);
