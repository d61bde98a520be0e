//! The local recipes of the docs pages, run exactly as written, from the page itself.
//!
//! A page marks its recipe with fenced blocks: every ```` ```sh recipe:server ```` block is a
//! terminal left running (`make local-aws`, `cargo lambda watch …`), started in the background in
//! page order, each waited for; every line of a ```` ```sh recipe:run ```` block is a command run
//! to completion. A line that names a sample event (`events/<folder>/<file>.json`) must answer the
//! decision its folder's `expected.json` (or `expected.txt`) names; any other line must succeed.
//!
//! The recipes use fixed ports (moto 5000, JWKS 8765, cargo lambda 9000), so each page runs in a
//! private network namespace (`unshare -rn`) where the machine allows it, else one page at a time.
//! Every process a page started is killed with its process group when the page ends.
//!
//! A function joins by adding its docs page to [`PAGES`] (one line).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use portcullis_tests::{decision_for, expected_decisions, workspace_root};
use serde_json::Value;

/// The docs pages whose recipes run.
const PAGES: &[&str] = &[
    "header-secret-authorizer",
    "jwt-authorizer",
    "request-authorizer",
    "cedar-authorizer",
    "origin-signer",
];

/// How long a server block may take to be ready (a first `cargo run` may compile): a guard
/// against hanging, not an assertion on speed.
const READY_LIMIT_SECONDS: u32 = 1200;

static SHARED_PORTS: Mutex<()> = Mutex::new(());

#[derive(Debug, PartialEq)]
enum Block {
    Server(String),
    Run(Vec<String>),
}

/// The recipe blocks of a Markdown page, in order.
fn recipe_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let info = line.trim_start().strip_prefix("```").map(str::trim);
        let kind = match info {
            Some("sh recipe:server") => "server",
            Some("sh recipe:run") => "run",
            _ => continue,
        };
        let body: Vec<String> = lines
            .by_ref()
            .take_while(|l| !l.trim_start().starts_with("```"))
            .map(str::to_owned)
            .collect();
        blocks.push(if kind == "server" {
            Block::Server(body.join("\n"))
        } else {
            Block::Run(
                body.into_iter()
                    .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                    .collect(),
            )
        });
    }
    blocks
}

/// The bash condition that says a server block is up, by the command it runs.
fn readiness(block: &str, log: &Path) -> String {
    if block.contains("make local-aws") {
        format!("grep -q 'local AWS ready' '{}'", log.display())
    } else if block.contains("cargo lambda watch") {
        "(exec 3<>/dev/tcp/127.0.0.1/9000) 2>/dev/null".to_owned()
    } else {
        panic!("no readiness rule for the server block:\n{block}")
    }
}

/// The event a run line names, as `(folder, file)`.
fn event_of(line: &str) -> Option<(String, String)> {
    let path = line
        .split_whitespace()
        .find(|w| w.starts_with("events/") && w.ends_with(".json"))?;
    let (folder, file) = path.strip_prefix("events/")?.rsplit_once('/')?;
    Some((folder.to_owned(), file.to_owned()))
}

/// The decision a run line's output shows: an authorizer's answer as API Gateway would take it
/// for the event's own route (`cargo lambda invoke` prints the response, or the function error
/// with its type), or the origin signer's (`Signed`: forwarded with a SigV4 `Authorization`;
/// else the generated response's status).
fn decision_shown(event: &Value, status: i32, output: &str) -> String {
    if status != 0 {
        return if output.contains("Unauthorized") {
            "Unauthorized".into()
        } else {
            format!("Error(exit {status})")
        };
    }
    let json = match (output.find('{'), output.rfind('}')) {
        (Some(start), Some(end)) if start < end => serde_json::from_str(&output[start..=end]).ok(),
        _ => None,
    };
    let Some(response): Option<Value> = json else {
        return "no JSON answer".into();
    };
    if let Some(kind) = response["errorType"].as_str() {
        return if response["errorMessage"] == "Unauthorized" {
            "Unauthorized".into()
        } else {
            format!("Error({kind})")
        };
    }
    if let Some(status) = response["status"].as_str() {
        return status.to_owned();
    }
    if response.get("uri").is_some() {
        let signed = response["headers"]["authorization"][0]["value"]
            .as_str()
            .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 Credential="));
        return if signed { "Signed" } else { "Unsigned" }.into();
    }
    decision_for(event, &Ok(response))
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// One bash script that starts the page's servers, waits for each, then runs every line between
/// markers (`@@@ begin <n>` / `@@@ end <n> <exit status>`).
fn driver(blocks: &[Block], logs: &Path, isolated: bool) -> (String, Vec<String>) {
    let mut script = String::from("set -u\n");
    if isolated {
        script.push_str("ip link set lo up\n");
    }
    let mut lines = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Server(body) => {
                let log = logs.join(format!("server-{i}.log"));
                script.push_str(&format!(
                    "bash -c {} > '{log}' 2>&1 < /dev/null &\npid=$!\nn=0\n\
                     until {ready}; do\n\
                       if ! kill -0 $pid 2>/dev/null || [ $n -ge {limit} ]; then\n\
                         echo \"@@@ server {i} not ready\"; cat '{log}'; exit 1; fi\n\
                       n=$((n+1)); sleep 1\n\
                     done\n",
                    shell_quote(body),
                    log = log.display(),
                    ready = readiness(body, &log),
                    limit = READY_LIMIT_SECONDS,
                ));
            }
            Block::Run(run) => {
                for line in run {
                    let n = lines.len();
                    script.push_str(&format!(
                        "echo '@@@ begin {n}'\nbash -c {} < /dev/null 2>&1\necho \"@@@ end {n} $?\"\n",
                        shell_quote(line)
                    ));
                    lines.push(line.clone());
                }
            }
        }
    }
    (script, lines)
}

fn can_isolate() -> bool {
    Command::new("unshare")
        .args(["-rn", "ip", "link", "set", "lo", "up"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs the recipe of `docs/<page>.md` and prints its table of line → expected → shown; the
/// mismatches as an error.
fn run_page(page: &str) -> Result<(), String> {
    let root = workspace_root();
    let doc = root.join("docs").join(format!("{page}.md"));
    let markdown =
        std::fs::read_to_string(&doc).unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
    let blocks = recipe_blocks(&markdown);
    assert!(
        blocks
            .iter()
            .any(|b| matches!(b, Block::Run(l) if l.iter().any(|l| event_of(l).is_some()))),
        "{}: no ```sh recipe:run block invoking a sample event",
        doc.display()
    );
    let logs = root.join("target/tmp/recipes").join(page);
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs).expect("log dir");
    let isolated = can_isolate();
    let _serial = (!isolated).then(|| SHARED_PORTS.lock().unwrap_or_else(|e| e.into_inner()));
    let (script, lines) = driver(&blocks, &logs, isolated);
    let program: Vec<&str> = if isolated {
        vec!["unshare", "-rn", "bash", "-c", &script]
    } else {
        vec!["bash", "-c", &script]
    };
    let path = format!(
        "{}:{}",
        root.join(".venv/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new(program[0]);
    command
        .args(&program[1..])
        .current_dir(&root)
        .env("PATH", path)
        .stdin(Stdio::null());
    for (key, _) in std::env::vars() {
        let cargo_test = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ];
        if cargo_test.iter().any(|p| key.starts_with(p)) || key.starts_with("MAKE") {
            command.env_remove(&key);
        }
    }
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash starts");
    let group = child.id();
    let output = child.wait_with_output();
    // Whatever the page left running (servers, their children) goes with its process group.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status();
    let output = output.expect("driver output");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("@@@ server"),
        "{page}: a server block did not start:\n{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut table = format!("docs/{page}.md\n");
    let mut failures = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let begin = format!("@@@ begin {n}\n");
        let body = text
            .split_once(&begin)
            .map(|(_, rest)| rest)
            .and_then(|rest| rest.split_once(&format!("@@@ end {n} ")))
            .map(|(body, rest)| (body, rest.lines().next().unwrap_or_default()));
        let Some((body, status)) = body else {
            failures.push(format!("{line}: did not run"));
            continue;
        };
        let status: i32 = status.trim().parse().unwrap_or(-1);
        let (want, got) = match event_of(line) {
            Some((folder, file)) => {
                let dir = root.join("events").join(&folder);
                let want = expected_decisions(&dir).remove(&file);
                let event: Value = std::fs::read_to_string(dir.join(&file))
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or(Value::Null);
                (
                    want.unwrap_or_else(|| format!("(no entry for {file})")),
                    decision_shown(&event, status, body),
                )
            }
            None => ("exit 0".to_owned(), format!("exit {status}")),
        };
        let mark = if want == got { "ok" } else { "MISMATCH" };
        table.push_str(&format!("  {line:<100} {want:<12} {got:<12} {mark}\n"));
        if want != got {
            failures.push(format!("{line}: expected {want}, got {got}\n{body}"));
        }
    }
    println!("{table}");
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("docs/{page}.md:\n{}", failures.join("\n")))
    }
}

#[test]
fn every_docs_recipe_runs_as_written() {
    // Isolated pages run side by side; on shared ports, one at a time (run_page takes the lock).
    let failures: Vec<String> = std::thread::scope(|scope| {
        let pages: Vec<_> = PAGES
            .iter()
            .map(|page| scope.spawn(move || run_page(page)))
            .collect();
        pages
            .into_iter()
            .filter_map(|p| p.join().expect("page thread").err())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn blocks_are_read_as_marked() {
    let page = "text\n```sh recipe:server\nmake local-aws\n```\n```sh\nnot a recipe\n```\n\
                ```sh recipe:run\n# a comment\ncargo lambda invoke f --data-file events/f/a.json\n\nmake x\n```\n";
    assert_eq!(
        recipe_blocks(page),
        vec![
            Block::Server("make local-aws".into()),
            Block::Run(vec![
                "cargo lambda invoke f --data-file events/f/a.json".into(),
                "make x".into()
            ]),
        ]
    );
    assert_eq!(
        event_of("cargo lambda invoke f --data-file events/f/a.json"),
        Some(("f".into(), "a.json".into()))
    );
}
