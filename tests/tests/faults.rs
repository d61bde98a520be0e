//! Fault injection between the real authorizer binaries and SSM (moto behind
//! [`FaultProxy`]): every fault ends in the clean, uncacheable 500 `DependencyUnavailable`
//! (header-secret and request-authorizer alike) within the invocation deadline, with exactly one
//! warning/error line naming the cause, no secret in the logs, and recovery once the fault
//! clears. Each fault runs at cold start (fault present at init) and warm (fault appears
//! when the cached value expires). Prints the table docs/hardening.md quotes and
//! writes it to target/hardening/.

use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;
use portcullis_tests::{
    Fault, FaultProxy, InvokeError, Lambda, Moto, binary, decision_for, sample_event,
    workspace_root,
};
use serde_json::{Value, json};

const HS_PARAM: &str = "/portcullis/faults/origin-secret";
const HS_SECRET: &str = "pc-demo-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4";
const RA_PARAM: &str = "/portcullis/faults/tenant-rules";
const ACME_KEY: &str = "pc-demo-acme-7d1f0c9a2b4e6f8a0c2e4a6b8d0f1e3c";
/// The invocation deadline: the Timeout of infra/sam/template.yaml's authorizers.
const DEADLINE: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Component {
    HeaderSecret,
    Request,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// The fault is there when the function starts (init prefetch fails).
    Cold,
    /// The function starts healthy; the fault appears before the cached value expires.
    Warm,
}

impl Component {
    fn name(self) -> &'static str {
        match self {
            Self::HeaderSecret => "header-secret-authorizer",
            Self::Request => "request-authorizer",
        }
    }

    fn event(self) -> Value {
        match self {
            Self::HeaderSecret => sample_event(self.name(), "rest-request-valid.json"),
            Self::Request => sample_event(self.name(), "rest-request-api-key-valid.json"),
        }
    }

    /// What a fault must end in: a function error (API Gateway's 500), which API Gateway never
    /// caches — a cached Deny under CloudFront's one secret would take the site down for the TTL.
    fn fail_closed(self) -> &'static str {
        "Error(DependencyUnavailable)"
    }

    /// Seconds after a failed fetch before the function tries again.
    fn retry_after(self) -> Duration {
        match self {
            Self::HeaderSecret => Duration::from_secs(1),
            // RULES_* has no retry setting: CacheConfig's default 5 s.
            Self::Request => Duration::from_secs(5),
        }
    }

    fn env(self, endpoint: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env = Moto::aws_env_via(endpoint);
        let own: &[(&str, &str)] = match self {
            Self::HeaderSecret => &[
                ("SECRET_PARAMETER_NAME", HS_PARAM),
                ("SECRET_CACHE_TTL_SECONDS", "1"),
                ("SECRET_MAX_STALE_SECONDS", "0"),
                ("SECRET_RETRY_AFTER_ERROR_SECONDS", "1"),
                ("SSM_TIMEOUT_MS", "3000"), // the default; generous for a loaded CI machine
            ],
            Self::Request => &[
                ("RULES_PARAMETER_NAME", RA_PARAM),
                ("RULES_CACHE_TTL_SECONDS", "1"),
                ("RULES_MAX_STALE_SECONDS", "0"),
            ],
        };
        for (k, v) in own.iter().chain(extra) {
            env.retain(|(name, _)| name != k);
            env.push(((*k).to_owned(), (*v).to_owned()));
        }
        env
    }

    fn secrets(self) -> &'static [&'static str] {
        match self {
            Self::HeaderSecret => &[HS_SECRET],
            Self::Request => &[ACME_KEY],
        }
    }
}

/// One fault and what its log line must contain.
#[derive(Clone)]
struct Case {
    name: &'static str,
    fault: Fault,
    cause: &'static str,
}

/// One row of the table.
#[derive(Debug)]
struct Row {
    component: &'static str,
    fault: &'static str,
    phase: Phase,
    outcome: String,
    took: Duration,
    calls: usize,
    line: String,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "down: connection refused",
            fault: Fault::Refuse,
            cause: "connection failed",
        },
        Case {
            name: "down: connection reset",
            fault: Fault::Reset,
            cause: "connection failed",
        },
        Case {
            name: "slow: 10 s, beyond the SSM timeout",
            fault: Fault::Slow(Duration::from_secs(10)),
            cause: "timed out",
        },
        Case {
            name: "throttled (ThrottlingException)",
            fault: Fault::Throttle,
            cause: "throttled",
        },
        Case {
            name: "500 InternalServerError",
            fault: Fault::Status(500, "InternalServerError"),
            cause: "InternalServerError",
        },
        Case {
            name: "access denied (KMS/IAM)",
            fault: Fault::Status(400, "AccessDeniedException"),
            cause: "access denied",
        },
        Case {
            name: "wrong shape: no Parameter",
            fault: Fault::Body("{}"),
            cause: "GetParameter returned no value",
        },
        Case {
            name: "wrong shape: Value is a number",
            fault: Fault::Rewrite(|mut v| {
                v["Parameter"]["Value"] = json!(42);
                v
            }),
            cause: "unreadable response",
        },
        Case {
            name: "wrong shape: HTML body",
            fault: Fault::Body("<html><body>Service Unavailable</body></html>"),
            cause: "unreadable response",
        },
    ]
}

async fn logs_settled(lambda: &Lambda) -> Vec<String> {
    tokio::time::sleep(Duration::from_millis(60)).await;
    lambda.logs()
}

fn is_problem(line: &str) -> bool {
    line.contains("\"level\":\"WARN\"") || line.contains("\"level\":\"ERROR\"")
}

/// Exactly one line among `lines` names `cause`, at warning or error level; returns its text.
fn one_line_naming(lines: &[String], cause: &str, what: &str) -> String {
    let problems: Vec<&String> = lines.iter().filter(|l| l.contains(cause)).collect();
    assert!(
        problems.len() == 1 && is_problem(problems[0]),
        "{what}: expected exactly one warning/error line naming {cause:?}, got:\n{}",
        lines.join("\n")
    );
    let v: Value = serde_json::from_str(problems[0]).unwrap_or_default();
    let f = &v["fields"];
    let mut text = f["message"].as_str().unwrap_or_default().to_owned();
    for key in ["error", "budget_ms"] {
        if !f[key].is_null() {
            text.push_str(&format!(
                " {key}={}",
                f[key].as_str().map_or(f[key].to_string(), str::to_owned)
            ));
        }
    }
    text
}

fn outcome(event: &Value, result: &Result<Value, InvokeError>) -> String {
    decision_for(event, result)
}

async fn run(
    component: Component,
    upstream: String,
    case: Case,
    phase: Phase,
    extra: &'static [(&'static str, &'static str)],
    deadline: Duration,
) -> Row {
    let what = format!("{} / {} / {phase:?}", component.name(), case.name);
    let proxy = FaultProxy::start(&upstream).await;
    let env = component.env(&proxy.endpoint(), extra);
    let event = component.event();
    if phase == Phase::Cold {
        proxy.set(case.fault.clone());
    }
    let mut lambda = Lambda::spawn(&binary(component.name()), &env)
        .await
        .expect("spawn");
    lambda.timeout = Duration::from_secs(10);
    lambda.wait_ready().await.expect("function starts");
    lambda.timeout = deadline;
    match phase {
        Phase::Cold => {
            let init = logs_settled(&lambda).await;
            one_line_naming(&init, case.cause, &format!("{what} (init)"));
        }
        Phase::Warm => {
            let healthy = lambda.invoke(&event).await;
            assert_eq!(outcome(&event, &healthy), "Allow", "{what}: healthy start");
            proxy.set(case.fault.clone());
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
    }
    let mark = logs_settled(&lambda).await.len();
    let calls = proxy.calls();
    let t = Instant::now();
    let result = lambda.invoke(&event).await;
    let took = t.elapsed();
    let got = outcome(&event, &result);
    assert_eq!(got, component.fail_closed(), "{what}: {result:?}");
    assert!(took < deadline, "{what}: answered after {took:?}");
    let lines = logs_settled(&lambda).await;
    let line = one_line_naming(&lines[mark..], case.cause, &what);
    let calls = proxy.calls() - calls;

    // The fault clears: the next fetch after the retry interval succeeds.
    proxy.set(Fault::Pass);
    tokio::time::sleep(component.retry_after() + Duration::from_millis(150)).await;
    let recovered = lambda.invoke(&event).await;
    assert_eq!(outcome(&event, &recovered), "Allow", "{what}: recovery");

    for line in lambda.logs() {
        for secret in component.secrets() {
            assert!(!line.contains(secret), "{what}: secret in logs: {line}");
        }
    }
    Row {
        component: component.name(),
        fault: case.name,
        phase,
        outcome: got,
        took,
        calls,
        line,
    }
}

async fn moto_with_values() -> Moto {
    let moto = Moto::start().await;
    moto.put_secure(HS_PARAM, HS_SECRET).await;
    let rules = std::fs::read_to_string(
        workspace_root().join("events/request-authorizer/rules/rules.json"),
    )
    .unwrap();
    moto.put_secure(RA_PARAM, &rules).await;
    moto
}

fn report(title: &str, rows: &[Row]) {
    let mut out = format!(
        "### {title}\n\n| component | fault | phase | outcome | answered in | SSM requests | the one log line |\n|---|---|---|---|---|---|---|\n"
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {:?} | {} | {} ms | {} | `{}` |\n",
            r.component,
            r.fault,
            r.phase,
            r.outcome,
            r.took.as_millis(),
            r.calls,
            r.line.replace('|', "\\|")
        ));
    }
    eprintln!("{out}");
    let dir = workspace_root().join("target/hardening");
    std::fs::create_dir_all(&dir).unwrap();
    let file = title.to_lowercase().replace([' ', '/', ','], "-");
    std::fs::write(dir.join(format!("faults-{file}.md")), out).unwrap();
}

/// Runs every case for `component` in both phases, concurrently (each has its own proxy
/// and process), and reports them.
async fn every_fault(component: Component) {
    let moto = moto_with_values().await;
    let mut tasks = tokio::task::JoinSet::new();
    // A few at a time: 2 shared cores, debug binaries, one single-threaded moto.
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(4));
    for (i, case) in cases().into_iter().enumerate() {
        for (j, phase) in [Phase::Cold, Phase::Warm].into_iter().enumerate() {
            let upstream = moto.endpoint();
            let case = case.clone();
            let slots = slots.clone();
            tasks.spawn(async move {
                let _slot = slots.acquire_owned().await.expect("semaphore");
                (
                    (i, j),
                    run(component, upstream, case, phase, &[], DEADLINE).await,
                )
            });
        }
    }
    let mut rows = Vec::new();
    while let Some(done) = tasks.join_next().await {
        rows.push(done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())));
    }
    rows.sort_by_key(|(k, _)| *k);
    let rows: Vec<Row> = rows.into_iter().map(|(_, r)| r).collect();
    assert_eq!(rows.len(), 2 * cases().len());
    report(component.name(), &rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_secret_every_ssm_fault_fails_closed_with_one_log_line() {
    every_fault(Component::HeaderSecret).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_authorizer_every_ssm_fault_fails_closed_with_one_log_line() {
    every_fault(Component::Request).await;
}

/// SSM slower than the invocation itself, with an SSM timeout longer than the invocation
/// (a misconfiguration): the function still answers before Lambda's deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssm_slower_than_the_invocation_deadline_still_answers_in_time() {
    let moto = moto_with_values().await;
    let slow = Case {
        name: "slow: 10 s, beyond the 2 s invocation deadline",
        fault: Fault::Slow(Duration::from_secs(10)),
        cause: "did not answer before the invocation's time ran out",
    };
    let deadline = Duration::from_secs(2);
    let rows = vec![
        run(
            Component::HeaderSecret,
            moto.endpoint(),
            slow.clone(),
            Phase::Warm,
            &[("SSM_TIMEOUT_MS", "10000")],
            deadline,
        )
        .await,
        // The request-authorizer's SSM timeout is the SDK default of this project (3 s).
        run(
            Component::Request,
            moto.endpoint(),
            slow,
            Phase::Warm,
            &[],
            deadline,
        )
        .await,
    ];
    report("beyond the invocation deadline", &rows);
}

/// Parameters of another type than SecureString, read through moto itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_secret_parameter_of_another_type() {
    let moto = Moto::start().await;
    let event = Component::HeaderSecret.event();
    // A StringList is comma-joined: never a single secret.
    moto.put(
        HS_PARAM,
        &format!("{HS_SECRET},pc-demo-other-0000000000000000"),
        ParameterType::StringList,
    )
    .await;
    let mut lambda = Lambda::spawn(
        &binary(Component::HeaderSecret.name()),
        &Component::HeaderSecret.env(&moto.endpoint(), &[]),
    )
    .await
    .unwrap();
    lambda.wait_ready().await.expect("function starts");
    let mark = logs_settled(&lambda).await.len();
    let result = lambda.invoke(&event).await;
    assert_eq!(outcome(&event, &result), "Error(DependencyUnavailable)");
    let lines = logs_settled(&lambda).await;
    let line = one_line_naming(
        &lines[mark..],
        "secret must be visible ASCII without commas",
        "StringList",
    );
    eprintln!("StringList parameter: DependencyUnavailable, `{line}`");
    // A plain String holding a valid secret is accepted: the type is the deployer's choice
    // (the templates create a SecureString); only the value decides.
    moto.put(HS_PARAM, HS_SECRET, ParameterType::String).await;
    tokio::time::sleep(Duration::from_millis(1150)).await;
    let result = lambda.invoke(&event).await;
    assert_eq!(outcome(&event, &result), "Allow");
    for l in lambda.logs() {
        assert!(!l.contains(HS_SECRET), "secret in logs: {l}");
    }
}
