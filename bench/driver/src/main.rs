//! `make bench`: portcullis' authorizers side by side with the Python and Node.js authorizers
//! teams copy today, on one Lambda Runtime API emulator, against one moto SSM (behind a
//! counting proxy) and one JWKS server, both reached over TLS as on Lambda (a test CA added to
//! the system's trust store) and, for a second cold-init column, over plain HTTP. Writes
//! `results.json` and `table.md` to `--out`.
//!
//! `portcullis-bench --echo-runtime` is the minimal runtime the bench uses as its baseline.

mod measure;
mod report;
mod servers;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use measure::{Figures, Group, Plan, Subject};
use portcullis_tests::{Moto, sample_event, workspace_root};
use serde_json::json;

const PARAMETER: &str = "/portcullis/bench/origin-secret";
/// One line, so the copied `==` snippets accept it as they would in production.
const SECRET: &str = "pc-demo-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4";
/// The Secrets Manager secret the rotator row rotates.
const ROTATED_SECRET: &str = "portcullis-bench-origin-secret";
const ISSUER: &str = "https://issuer.bench.portcullis.invalid";
const AUDIENCE: &str = "portcullis-bench";
const METHOD_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/orders/42";

/// A file of the workspace, read whole.
fn workspace_file(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The value the sample settings `env` give `key`; they must name it.
fn setting(env: &[(String, String)], key: &str) -> String {
    env.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("the sample settings name {key}"))
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.windows(2).find(|w| w[0] == name).map(|w| w[1].clone())
}

fn path_arg(args: &[String], name: &str, default: &str) -> PathBuf {
    let p = PathBuf::from(arg(args, name).unwrap_or_else(|| default.to_owned()));
    if p.is_absolute() {
        p
    } else {
        workspace_root().join(p)
    }
}

fn num_arg(args: &[String], name: &str, default: usize) -> usize {
    arg(args, name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} wants a number, got {v}"))
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let echo = args.iter().any(|a| a == "--echo-runtime");
    // The echo runtime runs on one thread, like the functions, so it stays the floor of every row.
    let runtime = if echo {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    }
    .enable_all()
    .build()
    .expect("tokio runtime");
    if echo {
        runtime.block_on(servers::echo_runtime());
    } else {
        runtime.block_on(bench(args));
    }
}

async fn bench(args: Vec<String>) {
    let functions_dir = path_arg(&args, "--functions-dir", "target/release");
    let out = path_arg(&args, "--out", "target/bench");
    let peers = path_arg(&args, "--peers-dir", "bench/peers");
    let python = path_arg(&args, "--python", ".venv/bin/python");
    let node = PathBuf::from(arg(&args, "--node").unwrap_or_else(|| "node".into()));
    let plan = Plan {
        cold_runs: num_arg(&args, "--cold-runs", 5),
        warmup: num_arg(&args, "--warmup", 200),
        invokes: num_arg(&args, "--invokes", 2000),
    };
    std::fs::create_dir_all(&out).expect("output folder");

    // SSM: moto behind a proxy that counts GetParameter calls, behind a TLS front.
    let tls = servers::Tls::new(&out.join("tls"));
    let moto = Moto::start().await;
    moto.put_secure(PARAMETER, SECRET).await;
    let (ssm_http, ssm_calls) = servers::ssm_proxy(moto.endpoint()).await;
    let ssm_https = tls.front(&ssm_http).await;
    let mut ssm_env = Moto::aws_env_via(&ssm_https);
    ssm_env.extend(tls.trust_env());
    ssm_env.push(("AWS_DEFAULT_REGION".into(), "us-east-1".into()));
    ssm_env.push(("SECRET_PARAMETER_NAME".into(), PARAMETER.into()));

    // JWT: a fresh RSA key and token from PyJWT, the JWKS on a counting server (TLS fronted).
    let (jwks, token) = mint(&python, &peers, &out);
    let (jwks_http, jwks_calls) = servers::jwks_server(jwks).await;
    let jwks_https = tls.front(&jwks_http).await;
    let mut jwt_env: Vec<(String, String)> = [
        ("JWT_ISSUER", ISSUER.to_owned()),
        ("JWT_AUDIENCE", AUDIENCE.to_owned()),
        ("JWT_JWKS_URI", jwks_https.clone()),
        ("JWT_ALGORITHMS", "RS256".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    jwt_env.extend(tls.trust_env());

    // cedar-authorizer and the composed jwt-authorizer: the demo settings, key set and sample
    // events (`events/`), the demo JWKS on its own counting server, the composed origin secret
    // in the same moto.
    let demo_jwks = workspace_file("events/jwt-authorizer/jwks.json");
    let (demo_jwks_http, demo_jwks_calls) = servers::jwks_server(demo_jwks).await;
    let demo_jwks_https = tls.front(&demo_jwks_http).await;
    // What each of these functions gets besides its own settings: the trust store with the test
    // CA, the region, and moto's endpoint and credentials when it calls AWS.
    let function_env = |aws: bool| -> Vec<(String, String)> {
        let mut env = if aws {
            Moto::aws_env_via(&ssm_https)
        } else {
            Vec::new()
        };
        env.extend(tls.trust_env());
        env.push(("AWS_REGION".into(), "us-east-1".into()));
        env
    };
    let demo_env = |dir: &str, aws: bool| -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> =
            portcullis_tests::read_env_file(&workspace_root().join(dir).join("demo.env"))
                .into_iter()
                .map(|(k, v)| match k.as_str() {
                    "JWT_JWKS_URI" => (k, demo_jwks_https.clone()),
                    "CEDAR_POLICY_FILE" | "CEDAR_SCHEMA_FILE" => {
                        (k, workspace_root().join(v).display().to_string())
                    }
                    _ => (k, v),
                })
                .collect();
        env.extend(function_env(aws));
        env
    };
    let cedar_env = demo_env("events/cedar-authorizer", false);
    let composed_env = demo_env("events/composed/jwt-authorizer", true);
    let composed_request_env = demo_env("events/composed/request-authorizer", true);
    let origin_secret = workspace_file("events/composed/origin-secret.txt");
    moto.put_secure(
        &setting(&composed_env, "ORIGIN_SECRET_PARAMETER_NAME"),
        origin_secret.trim_end(),
    )
    .await;
    moto.put_secure(
        &setting(&composed_request_env, "RULES_PARAMETER_NAME"),
        &workspace_file("events/composed/request-authorizer/rules.json"),
    )
    .await;

    // secret-rotator: an origin secret in moto's Secrets Manager; the distribution is never
    // reached by the step measured (createSecret).
    moto.secretsmanager_client()
        .create_secret()
        .name(ROTATED_SECRET)
        .secret_string(origin_secret.trim_end())
        .send()
        .await
        .expect("CreateSecret in moto");
    let mut rotator_env = function_env(true);
    rotator_env.push((
        "CLOUDFRONT_DISTRIBUTION_ID".into(),
        "E2BENCHPORTCULLIS".into(),
    ));

    // The same environment with each dependency reached over plain HTTP (the second column).
    let trust_vars: Vec<String> = tls.trust_env().into_iter().map(|(k, _)| k).collect();
    let fronts = [
        (ssm_https.clone(), ssm_http.clone()),
        (jwks_https.clone(), jwks_http.clone()),
        (demo_jwks_https.clone(), demo_jwks_http.clone()),
    ];
    let plain = |env: &[(String, String)]| -> Vec<(String, String)> {
        env.iter()
            .filter(|(k, _)| !trust_vars.contains(k))
            .map(|(k, v)| {
                let http = fronts.iter().find(|(https, _)| https == v).map(|(_, h)| h);
                (k.clone(), http.unwrap_or(v).clone())
            })
            .collect()
    };

    let header_event = sample_event("header-secret-authorizer", "rest-request-valid.json");
    let jwt_event = json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {token}"),
        "methodArn": METHOD_ARN,
    });
    let py_runtime = version(&python, "--version");
    let node_runtime = format!("Node.js {}", version(&node, "--version"));
    let with = |base: &[(String, String)], extra: &[(&str, &Path)]| {
        let mut env = base.to_vec();
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.display().to_string())),
        );
        env
    };
    let py_path = peers.join("python");
    let py_args =
        |handler: &str| -> Vec<String> { vec!["-m".into(), "awslambdaric".into(), handler.into()] };

    let subjects = vec![
        Subject {
            key: "echo",
            label: "emulator round trip (echo runtime)",
            runtime: "Rust (reqwest)".into(),
            group: Group::Baseline,
            ours: false,
            program: std::env::current_exe().expect("own path"),
            args: vec!["--echo-runtime".into()],
            env: Vec::new(),
            event: header_event.clone(),
            expect: "Invalid",
            calls: None,
        },
        Subject {
            key: "header-secret-authorizer",
            label: "header-secret-authorizer",
            runtime: "Rust (portcullis)".into(),
            group: Group::HeaderSecret,
            ours: true,
            program: functions_dir.join("header-secret-authorizer"),
            args: Vec::new(),
            env: ssm_env.clone(),
            event: header_event.clone(),
            expect: "Allow",
            calls: Some(ssm_calls.clone()),
        },
        Subject {
            key: "py-boto3",
            label: "peer (a): boto3 SSM read per request",
            runtime: format!("{py_runtime} + awslambdaric"),
            group: Group::HeaderSecret,
            ours: false,
            program: python.clone(),
            args: py_args("header_secret_boto3.handler"),
            env: with(&ssm_env, &[("PYTHONPATH", &py_path)]),
            event: header_event.clone(),
            expect: "Allow",
            calls: Some(ssm_calls.clone()),
        },
        Subject {
            key: "py-powertools",
            label: "peer (b): Powertools Parameters (cached)",
            runtime: format!("{py_runtime} + awslambdaric"),
            group: Group::HeaderSecret,
            ours: false,
            program: python.clone(),
            args: py_args("header_secret_powertools.handler"),
            env: with(&ssm_env, &[("PYTHONPATH", &py_path)]),
            event: header_event.clone(),
            expect: "Allow",
            calls: Some(ssm_calls.clone()),
        },
        Subject {
            key: "jwt-authorizer",
            label: "jwt-authorizer (RS256)",
            runtime: "Rust (portcullis)".into(),
            group: Group::Jwt,
            ours: true,
            program: functions_dir.join("jwt-authorizer"),
            args: Vec::new(),
            env: jwt_env.clone(),
            event: jwt_event.clone(),
            expect: "Allow",
            calls: Some(jwks_calls.clone()),
        },
        Subject {
            key: "node-aws-jwt-verify",
            label: "peer (c): aws-jwt-verify (RS256)",
            runtime: format!("{node_runtime} + runtime.mjs"),
            group: Group::Jwt,
            ours: false,
            program: node.clone(),
            args: vec![
                peers.join("node/runtime.mjs").display().to_string(),
                peers.join("node/jwt.mjs").display().to_string(),
            ],
            env: jwt_env.clone(),
            event: jwt_event.clone(),
            expect: "Allow",
            calls: Some(jwks_calls.clone()),
        },
        Subject {
            key: "py-pyjwt",
            label: "peer (d): PyJWT PyJWKClient (RS256)",
            runtime: format!("{py_runtime} + awslambdaric"),
            group: Group::Jwt,
            ours: false,
            program: python.clone(),
            args: py_args("jwt_pyjwt.handler"),
            env: with(&jwt_env, &[("PYTHONPATH", &py_path)]),
            event: jwt_event,
            expect: "Allow",
            calls: Some(jwks_calls.clone()),
        },
        Subject {
            key: "cedar-authorizer",
            label: "cedar-authorizer (sample policies, RS256)",
            runtime: "Rust (portcullis)".into(),
            group: Group::Cedar,
            ours: true,
            program: functions_dir.join("cedar-authorizer"),
            args: Vec::new(),
            env: cedar_env,
            event: sample_event("cedar-authorizer", "rest-token-reader-get-pet.json"),
            expect: "Allow",
            calls: Some(demo_jwks_calls.clone()),
        },
        Subject {
            key: "composed-jwt-authorizer",
            label: "jwt-authorizer + origin proof (composed)",
            runtime: "Rust (portcullis)".into(),
            group: Group::Composed,
            ours: true,
            program: functions_dir.join("jwt-authorizer"),
            args: Vec::new(),
            env: composed_env,
            event: sample_event(
                "composed/jwt-authorizer",
                "rest-request-origin-valid-token-valid.json",
            ),
            expect: "Allow",
            calls: Some(demo_jwks_calls.clone()),
        },
        Subject {
            key: "composed-request-authorizer",
            label: "request-authorizer + origin proof + viewer headers (composed)",
            runtime: "Rust (portcullis)".into(),
            group: Group::Composed,
            ours: true,
            program: functions_dir.join("request-authorizer"),
            args: Vec::new(),
            env: composed_request_env,
            event: sample_event(
                "composed/request-authorizer",
                "rest-request-viewer-country-met.json",
            ),
            expect: "Allow",
            calls: Some(ssm_calls.clone()),
        },
        Subject {
            key: "secret-rotator",
            label: "secret-rotator (createSecret step, repeated)",
            runtime: "Rust (portcullis)".into(),
            group: Group::Rotation,
            ours: true,
            program: functions_dir.join("secret-rotator"),
            args: Vec::new(),
            env: rotator_env,
            event: json!({
                "Step": "createSecret",
                "SecretId": ROTATED_SECRET,
                "ClientRequestToken": "6a1f0c3e-9b7d-4e5a-8c2f-1d3b5a7c9e0f",
            }),
            // A step answers `null`: not an authorizer's answer, which the harness calls
            // "Invalid"; a failed step is an error and stops the run.
            expect: "Invalid",
            calls: None,
        },
    ];

    // `--only echo,jwt-authorizer,…` measures a subset (the echo baseline is always kept).
    let only: Option<Vec<String>> =
        arg(&args, "--only").map(|v| v.split(',').map(|k| k.trim().to_owned()).collect());
    let subjects: Vec<Subject> = subjects
        .into_iter()
        .filter(|s| {
            s.key == "echo"
                || only
                    .as_ref()
                    .is_none_or(|keys| keys.iter().any(|k| k == s.key))
        })
        .collect();

    let packages: BTreeMap<String, u64> = std::fs::read_to_string(out.join("packages.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let mut results: Vec<Figures> = Vec::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    for subject in &subjects {
        eprintln!("bench: {} …", subject.label);
        match measure::run(subject, &plain(&subject.env), plan).await {
            Ok(mut figures) => {
                figures.package_bytes = packages.get(subject.key).copied();
                eprintln!(
                    "  cold {:.1} ms (http {:.1} ms), p50 {:.0} µs, p99 {:.0} µs, peak RSS {} KiB",
                    figures.cold_init_median_ms,
                    figures.cold_init_http_median_ms,
                    figures.p50_us,
                    figures.p99_us,
                    figures.peak_rss_kib
                );
                results.push(figures);
            }
            Err(why) => {
                eprintln!("  skipped: {why}");
                skipped.push((subject.label.to_owned(), why));
            }
        }
    }

    let machine = report::machine(&[
        ("Python", py_runtime.clone()),
        ("Node.js", node_runtime.clone()),
    ]);
    let edge = arg(&args, "--edge-report").and_then(|p| std::fs::read_to_string(p).ok());
    let markdown = report::markdown(&results, &skipped, plan, &machine, edge.as_deref());
    std::fs::write(out.join("table.md"), &markdown).expect("write table.md");
    let json = json!({ "machine": machine, "plan": { "cold_runs": plan.cold_runs, "warmup": plan.warmup, "invokes": plan.invokes }, "results": results, "skipped": skipped });
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&json).expect("json"),
    )
    .expect("write results.json");
    println!("{markdown}");
    eprintln!("bench: wrote {}/table.md and results.json", out.display());
    if results.iter().all(|f| !f.ours) {
        eprintln!("bench: none of portcullis' binaries could be measured");
        std::process::exit(1);
    }
}

/// Runs `bench/peers/python/mint.py`: returns (JWKS JSON, token).
fn mint(python: &Path, peers: &Path, out: &Path) -> (String, String) {
    let status = std::process::Command::new(python)
        .arg(peers.join("python/mint.py"))
        .arg(out)
        .args([ISSUER, AUDIENCE])
        .status()
        .expect("python runs mint.py");
    assert!(status.success(), "mint.py failed");
    let read = |name: &str| {
        std::fs::read_to_string(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    (read("jwks.json"), read("token.txt").trim().to_owned())
}

fn version(program: &Path, flag: &str) -> String {
    std::process::Command::new(program)
        .arg(flag)
        .output()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text).trim().to_owned()
        })
        .unwrap_or_else(|_| "unknown".into())
}
