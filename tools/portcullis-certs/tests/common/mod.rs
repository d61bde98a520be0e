//! Runs the real `portcullis-certs` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `portcullis-certs ARGS` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portcullis-certs"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("portcullis-certs runs")
}

/// `portcullis-certs ARGS` in `dir`, which must succeed; its stdout, trimmed.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "portcullis-certs {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The PEM file's blocks of base64, one string per block.
pub fn pem_bodies(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("-----BEGIN ")
        .skip(1)
        .map(|block| {
            block
                .lines()
                .skip(1)
                .take_while(|l| !l.starts_with("-----END "))
                .collect()
        })
        .collect()
}

/// The DER of each certificate in a PEM file, decoded by the test.
pub fn ders(path: &Path) -> Vec<Vec<u8>> {
    use base64::Engine;
    pem_bodies(path)
        .iter()
        .map(|b| base64::engine::general_purpose::STANDARD.decode(b).unwrap())
        .collect()
}

/// Lower-case hex SHA-256, computed by the test.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The project venv's Python (`make setup`).
pub fn python() -> PathBuf {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        py.is_file(),
        "{} is missing: run `make setup`",
        py.display()
    );
    py
}
