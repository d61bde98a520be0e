//! Demo of the origin signer: the packaged Lambda@Edge handler (`make edge-package`) signs every
//! `events/origin-signer` sample in Node.js, and botocore's SigV4Auth recomputes each signature
//! (`origin_signer.py`, on the checks of the signer's own crosscheck.py).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::DemoContext;
use crate::table::{self, Tally};

const FUNCTION: &str = "origin-signer";

pub async fn run(ctx: &DemoContext) -> Tally {
    let mut tally = Tally::default();
    let dir = ctx.events_dir.join(FUNCTION);
    let root = portcullis_tests::workspace_root();
    let output = tokio::process::Command::new(&ctx.python)
        .arg(root.join("tests/src/bin/demo/origin_signer.py"))
        .arg(root.join("functions/origin-signer/tests/crosscheck.py"))
        .arg(&ctx.edge_zip)
        .arg(&dir)
        .output()
        .await;
    table::heading(
        FUNCTION,
        &format!(
            "{} in Node.js, each signature recomputed by botocore",
            ctx.edge_zip.display()
        ),
    );
    let output = match output {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            let stderr = String::from_utf8_lossy(&o.stderr);
            table::row(&mut tally, "(all)", "cloudfront", "Signed", "Error");
            println!("  {}", stderr.lines().last().unwrap_or_default());
            return tally;
        }
        Err(e) => {
            table::row(&mut tally, "(all)", "cloudfront", "Signed", "Error");
            println!("  cannot run {}: {e}", ctx.python.display());
            return tally;
        }
    };
    let expected = portcullis_tests::expected_decisions(&dir);
    if expected.is_empty() {
        table::row(&mut tally, "expected.txt", "?", "samples", "none found");
    }
    let decisions: BTreeMap<String, String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| {
            let field = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            (field("event"), field("decision"))
        })
        .collect();
    for (name, want) in &expected {
        let got = decisions.get(name).map_or("not run", String::as_str);
        table::row(&mut tally, name, "cloudfront", want, got);
    }
    println!();
    tally
}
