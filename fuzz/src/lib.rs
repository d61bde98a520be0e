//! Fuzz targets of portcullis and the invariants they assert. Each target module has one
//! `run(&[u8])` entry point: the `cargo fuzz` binaries under `fuzz_targets/` call it, and the
//! stable regression replay (`tests/tests/fuzz_regressions.rs` in portcullis-tests) calls it
//! for every file committed under `fuzz/regressions/<target>/`.
//!
//! Targets call the real entry points (handlers, verifier, parsers) with in-memory sources
//! and fixed clocks; the expectations are computed here from the generated input, not by the
//! code under test.

pub mod common;
pub mod header_secret;
pub mod jwt;
pub mod method_arn;
pub mod origin_signer;
pub mod request_authorizer;

/// How many inputs ended in an Allow / accepted token, per process: lets a replay over a corpus
/// show that the allow paths are reached (the invariants are not vacuous).
pub static ALLOWED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub(crate) fn count_allow() {
    ALLOWED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Target names, as used for `fuzz_targets/<name>.rs` and `fuzz/regressions/<name>/`.
pub const TARGETS: [&str; 5] = [
    "header_secret",
    "request_authorizer",
    "jwt",
    "method_arn",
    "origin_signer",
];

/// Runs target `name` on one input; panics when an invariant fails.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "header_secret" => header_secret::run(data),
        "request_authorizer" => request_authorizer::run(data),
        "jwt" => jwt::run(data),
        "method_arn" => method_arn::run(data),
        "origin_signer" => origin_signer::run(data),
        other => panic!("unknown fuzz target {other}"),
    }
}
