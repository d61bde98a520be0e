//! Replays every input committed under `fuzz/regressions/<target>/` (inputs that once broke an
//! invariant, and seeds) through the same invariant checks the `cargo fuzz` targets run, on
//! stable, so `cargo test --workspace` guards the fixed bugs.

use std::path::PathBuf;

fn replay(target: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no committed inputs in {}",
        dir.display()
    );
    for file in &files {
        let data = std::fs::read(file).unwrap();
        let outcome = std::panic::catch_unwind(|| portcullis_fuzz::run(target, &data));
        assert!(
            outcome.is_ok(),
            "{target}: {} breaks an invariant",
            file.display()
        );
    }
}

#[test]
fn header_secret_inputs() {
    replay("header_secret");
}

#[test]
fn request_authorizer_inputs() {
    replay("request_authorizer");
}

#[test]
fn jwt_inputs() {
    replay("jwt");
}

#[test]
fn method_arn_inputs() {
    replay("method_arn");
}

#[test]
fn origin_signer_inputs() {
    replay("origin_signer");
}

#[test]
fn every_target_is_replayed() {
    assert_eq!(
        portcullis_fuzz::TARGETS,
        [
            "header_secret",
            "request_authorizer",
            "jwt",
            "method_arn",
            "origin_signer"
        ]
    );
}
