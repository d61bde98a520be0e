//! `portcullis-hash-key`: prints the rules-document entry for an API key, so nobody
//! hand-computes a SHA-256. The key is read from standard input (first line) so it stays out of
//! shell history and process listings; `--label` names the entry.
//!
//! ```text
//! printf '%s' "$KEY" | portcullis-hash-key --label 2026-q4
//! {"label":"2026-q4","sha256":"…"}
//! ```

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

const MIN_KEY_LEN: usize = 20;

fn main() -> ExitCode {
    let mut label = None;
    let mut format = "json";
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--label" => label = args.next(),
            "--toml" => format = "toml",
            "-h" | "--help" => {
                println!(
                    "usage: printf '%s' \"$KEY\" | portcullis-hash-key [--label NAME] [--toml]\n\
                     Reads an API key on standard input and prints its rules-document entry."
                );
                return ExitCode::SUCCESS;
            }
            // Not echoed: the unknown argument is most likely the key itself.
            _ => {
                eprintln!(
                    "unknown argument (the key is read from standard input, never from arguments)"
                );
                return ExitCode::from(2);
            }
        }
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("type the API key, then Enter:");
    }
    let mut line = String::new();
    if let Err(e) = stdin.lock().read_line(&mut line) {
        eprintln!("cannot read standard input: {e}");
        return ExitCode::FAILURE;
    }
    let key = line.trim_end_matches(['\r', '\n']);
    if key.chars().count() < MIN_KEY_LEN {
        eprintln!("refusing a key shorter than {MIN_KEY_LEN} characters");
        return ExitCode::FAILURE;
    }
    if key.trim() != key {
        eprintln!("refusing a key with leading or trailing whitespace");
        return ExitCode::FAILURE;
    }
    let sha256 = request_authorizer::rules::hash_api_key(key);
    match (format, label) {
        ("toml", Some(l)) => println!(
            "{{ label = {}, sha256 = \"{sha256}\" }}",
            serde_json::json!(l)
        ),
        ("toml", None) => println!("{{ sha256 = \"{sha256}\" }}"),
        (_, Some(l)) => println!("{}", serde_json::json!({"label": l, "sha256": sha256})),
        (_, None) => println!("{}", serde_json::json!({"sha256": sha256})),
    }
    ExitCode::SUCCESS
}
