//! `make demo`: runs each function binary on the local Runtime API emulator against moto SSM,
//! invokes it with every sample event and prints event → decision. Exits non-zero when a
//! decision differs from the one the sample expects. With `--local-aws`, serves the demo values
//! for the local recipes instead (`make local-aws`).
//!
//! A function joins the demo with one module (its settings and seeding) and one line in `main`.

mod cedar;
mod composed;
mod header_secret;
mod jwt;
mod local_aws;
mod origin_mtls;
mod origin_signer;
mod request_authorizer;
mod samples;
mod seed;
mod table;

use std::path::PathBuf;

use portcullis_tests::Moto;

/// What every scenario gets.
pub struct DemoContext {
    /// Where the function binaries are.
    pub functions_dir: PathBuf,
    /// The `events/` folder.
    pub events_dir: PathBuf,
    /// The moto server standing in for SSM.
    pub moto: Moto,
    /// The packaged origin signer (`make edge-package`).
    pub edge_zip: PathBuf,
    /// The project venv's Python (botocore), for the origin signer's checks.
    pub python: PathBuf,
}

fn arg(args: &[String], name: &str, default: &str) -> PathBuf {
    args.windows(2)
        .find(|w| w[0] == name)
        .map_or_else(|| PathBuf::from(default), |w| PathBuf::from(&w[1]))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let events_dir = arg(&args, "--events-dir", "events");
    if args.iter().any(|a| a == "--local-aws") {
        let port = arg(&args, "--port", "5000").to_string_lossy().parse();
        local_aws::serve(&events_dir, port.expect("--port is a port number")).await;
        return;
    }
    let ctx = DemoContext {
        functions_dir: arg(&args, "--functions-dir", "target/debug"),
        events_dir,
        moto: Moto::start().await,
        edge_zip: arg(&args, "--edge-zip", "target/edge/origin-signer.zip"),
        python: arg(&args, "--python", ".venv/bin/python"),
    };
    println!(
        "portcullis demo — functions on a local Lambda Runtime API; SSM is a moto server at {}\n",
        ctx.moto.endpoint()
    );
    let mut total = table::Tally::default();
    total += header_secret::run(&ctx).await;
    total += jwt::run(&ctx).await;
    total += request_authorizer::run(&ctx).await;
    total += cedar::run(&ctx).await;
    total += composed::run(&ctx).await;
    total += origin_mtls::run(&ctx).await;
    total += origin_signer::run(&ctx).await;
    println!(
        "\n{} of {} decisions as expected{}",
        total.ok,
        total.ok + total.wrong,
        if total.wrong == 0 {
            "."
        } else {
            " — MISMATCHES ABOVE"
        }
    );
    if total.wrong > 0 {
        std::process::exit(1);
    }
}
