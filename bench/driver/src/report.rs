//! The Markdown report: one table of figures, ratios to each peer, the targets, the machine.

use std::fmt::Write;

use crate::measure::{Figures, Plan};

/// A short description of this machine (CPU, cores, memory, kernel) and the runtimes used.
pub fn machine(runtimes: &[(&str, String)]) -> Vec<(String, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or_else(
            || "unknown".into(),
            |kib| format!("{:.1} GiB", kib as f64 / 1048576.0),
        );
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let mut m = vec![
        ("CPU".to_owned(), cpu),
        ("cores".to_owned(), cores.to_string()),
        ("memory".to_owned(), memory),
        ("kernel".to_owned(), format!("Linux {kernel}")),
    ];
    m.extend(runtimes.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    m
}

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

fn us(v: f64) -> String {
    if v < 1000.0 {
        format!("{v:.0} µs")
    } else {
        format!("{:.2} ms", v / 1000.0)
    }
}

fn size(bytes: Option<u64>) -> String {
    match bytes {
        Some(b) if b >= 1 << 20 => format!("{:.2} MB", b as f64 / 1048576.0),
        Some(b) => format!("{:.1} KB", b as f64 / 1024.0),
        None => "—".into(),
    }
}

fn ratio(peer: f64, ours: f64) -> String {
    if ours > 0.0 && peer.is_finite() {
        let r = peer / ours;
        if r >= 0.095 {
            format!("{r:.1}×")
        } else {
            format!("{r:.3}×")
        }
    } else {
        "—".into()
    }
}

/// The whole report.
pub fn markdown(
    results: &[Figures],
    skipped: &[(String, String)],
    plan: Plan,
    machine: &[(String, String)],
    edge: Option<&str>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Each function runs on the same Lambda Runtime API emulator, against the same moto SSM \
         (behind a counting proxy) and JWKS server, reached over TLS as on Lambda: a TLS front \
         on loopback whose test CA is added to the system trust store (`SSL_CERT_FILE`, \
         `AWS_CA_BUNDLE`; `NODE_EXTRA_CA_CERTS` for Node). Cold init = process start → first \
         `invocation/next`, median of {} starts over TLS; the CPU column is the CPU time those \
         processes used until then (their own work at init, without waiting for the \
         dependencies); the HTTP column is the median of {} \
         starts with every dependency over plain HTTP (a function that fetches lazily pays its \
         TLS at the first invoke, not here). Warm latency = emulator round trip per invoke over \
         {} invokes after {} warm-up invokes, same event every time. Calls = SSM `GetParameter` or \
         JWKS GETs per 1,000 warm invokes (in brackets: during init and warm-up); the \
         rotator's warm invoke is a repeated `createSecret` step (two Secrets Manager calls to \
         moto), not an authorization.\n",
        plan.cold_runs + 1,
        plan.cold_runs,
        plan.invokes,
        plan.warmup
    );
    let _ = writeln!(
        s,
        "| Function | Runtime | Cold init, TLS (ms) | Cold init CPU, TLS (ms) | Cold init, HTTP (ms) | Warm p50 | Warm p99 | Peak RSS (MiB) | Package | Calls / 1,000 |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for f in results {
        let calls = f.calls_per_1000.map_or_else(
            || "—".into(),
            |c| format!("{c:.0} ({})", f.init_calls.unwrap_or(0)),
        );
        let label = if f.ours {
            format!("**{}**", f.label)
        } else {
            f.label.clone()
        };
        let _ = writeln!(
            s,
            "| {label} | {} | {} | {} | {} | {} | {} | {:.1} | {} | {calls} |",
            f.runtime,
            ms(f.cold_init_median_ms),
            ms(f.cold_init_cpu_median_ms),
            ms(f.cold_init_http_median_ms),
            us(f.p50_us),
            us(f.p99_us),
            f.peak_rss_kib as f64 / 1024.0,
            size(f.package_bytes),
        );
    }
    for (label, why) in skipped {
        let _ = writeln!(s, "| {label} | not measured: {why} | | | | | | | | |");
    }

    let _ = writeln!(
        s,
        "\nRatios, peer ÷ portcullis (higher is better for portcullis). Warm latencies include \
         the emulator round trip, so their ratios are conservative; the net column subtracts \
         the echo runtime's p50 from both sides (a derived figure, floored at 1 µs):\n"
    );
    let net = net_p50(results);
    let _ = writeln!(
        s,
        "| portcullis | vs peer | Cold init | Cold init CPU | Warm p50 | Warm p50 net of emulator | Warm p99 | Peak RSS | Package |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for ours in results.iter().filter(|f| f.ours) {
        for peer in results.iter().filter(|f| !f.ours && f.group == ours.group) {
            let pkg = match (peer.package_bytes, ours.package_bytes) {
                (Some(p), Some(o)) => ratio(p as f64, o as f64),
                _ => "—".into(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} ({} vs {}) | {} | {} | {pkg} |",
                ours.label,
                peer.label,
                ratio(peer.cold_init_median_ms, ours.cold_init_median_ms),
                ratio(peer.cold_init_cpu_median_ms, ours.cold_init_cpu_median_ms),
                ratio(peer.p50_us, ours.p50_us),
                ratio(net(peer), net(ours)),
                us(net(peer)),
                us(net(ours)),
                ratio(peer.p99_us, ours.p99_us),
                ratio(peer.peak_rss_kib as f64, ours.peak_rss_kib as f64),
            );
        }
    }

    let _ = writeln!(s, "\nTargets (measured, not enforced):\n");
    targets(&mut s, results);

    if let Some(edge) = edge {
        let _ = writeln!(
            s,
            "\nEdge signer (`make bench-edge`: the packaged Node.js handler + WASM):\n\n```\n{}\n```",
            edge.trim_end()
        );
    }

    let _ = writeln!(s, "\nMachine:\n");
    for (k, v) in machine {
        let _ = writeln!(s, "- {k}: {v}");
    }
    s
}

/// A row's warm p50 net of the emulator: minus the echo runtime's p50, floored at 1 µs.
fn net_p50(results: &[Figures]) -> impl Fn(&Figures) -> f64 {
    let base = results
        .iter()
        .find(|f| f.key == "echo")
        .map_or(0.0, |f| f.p50_us);
    move |f: &Figures| (f.p50_us - base).max(1.0)
}

fn targets(s: &mut String, results: &[Figures]) {
    let find = |key: &str| results.iter().find(|f| f.key == key);
    let mark = |ok: bool| if ok { "met" } else { "NOT met" };
    for ours in results.iter().filter(|f| f.ours) {
        let _ = writeln!(
            s,
            "- {}: cold init over TLS {} ms (≤ 15 ms: {}; CPU {} ms); peak RSS {:.1} MiB (≤ 20 MiB: {}); package {} (≤ 4 MB: {})",
            ours.label,
            ms(ours.cold_init_median_ms),
            mark(ours.cold_init_median_ms <= 15.0),
            ms(ours.cold_init_cpu_median_ms),
            ours.peak_rss_kib as f64 / 1024.0,
            mark(ours.peak_rss_kib <= 20 * 1024),
            size(ours.package_bytes),
            ours.package_bytes
                .map_or("not measured", |b| mark(b <= 4 * 1024 * 1024)),
        );
    }
    if let (Some(ours), Some(peer)) = (find("header-secret-authorizer"), find("py-boto3")) {
        let r = peer.p50_us / ours.p50_us;
        let _ = writeln!(
            s,
            "- header-secret warm p50 vs Python boto3 peer: {r:.1}× (≥ 10×: {}); SSM calls per 1,000 warm invokes: {} (0: {})",
            mark(r >= 10.0),
            ours.calls_per_1000.unwrap_or(f64::NAN),
            mark(ours.calls_per_1000 == Some(0.0)),
        );
    }
    if let (Some(ours), Some(peer)) = (find("jwt-authorizer"), find("node-aws-jwt-verify")) {
        // The target is net of the emulator's round trip (issue 19), the gross ratio is shown too.
        let net = net_p50(results);
        let r = net(peer) / net(ours);
        let _ = writeln!(
            s,
            "- JWT RS256 warm p50 vs Node aws-jwt-verify peer, net of the emulator: {r:.1}× (≥ 5×: {}); gross {:.1}×",
            mark(r >= 5.0),
            peer.p50_us / ours.p50_us
        );
    }
}
