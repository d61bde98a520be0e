//! `make demo`: runs each function binary on the local Runtime API emulator against moto SSM,
//! invokes it with every sample event and prints event → decision. Exits non-zero when a
//! decision differs from the one the sample expects.

mod composed;
mod header_secret;
mod jwt;
mod origin_mtls;
mod request_authorizer;
mod samples;
mod table;

use std::path::PathBuf;

use portcullis_harness::Moto;

/// What every scenario gets.
pub struct DemoContext {
    /// Where the function binaries are.
    pub functions_dir: PathBuf,
    /// The `events/` folder.
    pub events_dir: PathBuf,
    /// The moto server standing in for SSM.
    pub moto: Moto,
}

fn arg(args: &[String], name: &str, default: &str) -> PathBuf {
    args.windows(2)
        .find(|w| w[0] == name)
        .map_or_else(|| PathBuf::from(default), |w| PathBuf::from(&w[1]))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let ctx = DemoContext {
        functions_dir: arg(&args, "--functions-dir", "target/release"),
        events_dir: arg(&args, "--events-dir", "events"),
        moto: Moto::start().await,
    };
    println!(
        "portcullis demo — functions on a local Lambda Runtime API; SSM is a moto server at {}\n",
        ctx.moto.endpoint()
    );
    let mut total = table::Tally::default();
    total += header_secret::run(&ctx).await;
    total += jwt::run(&ctx).await;
    total += request_authorizer::run(&ctx).await;
    total += composed::run(&ctx).await;
    total += origin_mtls::run(&ctx).await;
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
