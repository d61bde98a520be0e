//! `portcullis-certs`: see `portcullis-certs --help` and docs/origin-mtls.md.

use std::process::ExitCode;

use clap::Parser;
use portcullis_certs::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let now = time::OffsetDateTime::now_utc();
    match run(&cli, now, &mut std::io::stdout(), &mut std::io::stderr()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portcullis-certs: {e}");
            ExitCode::FAILURE
        }
    }
}
