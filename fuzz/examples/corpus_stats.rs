//! Runs every input of `fuzz/corpus/<target>/` (or the directories given) through its target
//! on stable and prints how many passed the allow path (an Allow, an accepted token, a signed
//! request, a parsed ARN): `cargo run --manifest-path fuzz/Cargo.toml --no-default-features
//! --example corpus_stats [target...]`.

use std::sync::atomic::Ordering;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let targets: Vec<String> = if args.is_empty() {
        portcullis_fuzz::TARGETS
            .iter()
            .map(|t| t.to_string())
            .collect()
    } else {
        args
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for target in targets {
        let before = portcullis_fuzz::ALLOWED.load(Ordering::Relaxed);
        let mut inputs = 0;
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(&target)) else {
                continue;
            };
            for entry in entries {
                // libFuzzer may remove a file while a run reduces the corpus.
                let Ok(data) = std::fs::read(entry.unwrap().path()) else {
                    continue;
                };
                portcullis_fuzz::run(&target, &data);
                inputs += 1;
            }
        }
        let allowed = portcullis_fuzz::ALLOWED.load(Ordering::Relaxed) - before;
        println!("{target}: {inputs} inputs, {allowed} on the allow path");
    }
}
