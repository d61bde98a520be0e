//! Header smuggling end to end (after AWS's 2023 write-up on header remapping): the real
//! header-secret and request-authorizer binaries, against moto, on REST REQUEST, HTTP API
//! payload 1.0 and 2.0 and WebSocket `$connect` events (and REST TOKEN for the header secret).
//!
//! The expected outcome of every case comes from one rule stated here, applied to the event
//! as API Gateway would deliver it — never from the functions' output:
//!
//! **Rule.** Gather every value found under the guarded header's name (compared ignoring ASCII
//! case) in `headers` and in `multiValueHeaders`. The request is allowed iff there is exactly
//! one distinct value and it is byte-for-byte a configured secret (header-secret) or a tenant's
//! API key (request-authorizer). A value anywhere else — query string, cookie, another header —
//! counts for nothing. For the request-authorizer, no value (or only an empty one) means no
//! key and answers `Unauthorized` (401); everything else that is not allowed is a Deny. A
//! header name that is not an HTTP token (a space in it, say: API Gateway never forwards one)
//! makes the event malformed: no decision is taken on it, the function answers the
//! `MalformedEvent` error (500, which API Gateway never caches), as every function does. A TOKEN
//! event is allowed iff its `authorizationToken` is byte-for-byte a secret.
//!
//! Events are rendered the way API Gateway sends repeated headers: REST, WebSocket and payload
//! 1.0 keep the last copy in `headers` and every copy in `multiValueHeaders`; payload 2.0 joins
//! the copies with commas into one `headers` value. A "wrongful Allow" is an Allow the rule
//! does not give; the suite fails on any, and on any other disagreement with the rule.

use std::collections::BTreeSet;

use portcullis_tests::{Lambda, Moto, binary, decision_for, sample_event, workspace_root};
use serde_json::{Map, Value, json};

const HS_PARAM: &str = "/portcullis/adversarial/origin-secret";
const HS_HEADER: &str = "x-origin-verify";
const CURRENT: &str = "pc-demo-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4";
const PREVIOUS: &str = "pc-demo-previous-8e6d4c2a0b9f7e5d3c1a2b4d6f8e0a1c";
const WRONG: &str = "pc-demo-guessed-0000000000000000000000000000000000";

const RA_PARAM: &str = "/portcullis/adversarial/tenant-rules";
const RA_HEADER: &str = "x-api-key";
const ACME_KEY: &str = "pc-demo-acme-7d1f0c9a2b4e6f8a0c2e4a6b8d0f1e3c";
const UNKNOWN_KEY: &str = "pc-demo-nobody-000000000000000000000000000000";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Rest,
    HttpV1,
    HttpV2,
    WebSocket,
}

const FORMATS: [Format; 4] = [
    Format::Rest,
    Format::HttpV1,
    Format::HttpV2,
    Format::WebSocket,
];

impl Format {
    fn name(self) -> &'static str {
        match self {
            Self::Rest => "REST",
            Self::HttpV1 => "HTTP 1.0",
            Self::HttpV2 => "HTTP 2.0",
            Self::WebSocket => "WebSocket",
        }
    }
}

/// One adversarial request: header copies in arrival order plus other places a value may go.
#[derive(Clone, Default)]
struct Case {
    name: String,
    /// `(name, value)` copies, rendered per format.
    copies: Vec<(String, String)>,
    /// Copies placed in `multiValueHeaders` only (REST/1.0/WebSocket; a 2.0 event has none).
    multi_only: Vec<(String, String)>,
    /// Copies placed in `headers` only.
    headers_only: Vec<(String, String)>,
    /// A query parameter.
    query: Option<(String, String)>,
}

fn case(name: &str, copies: &[(&str, &str)]) -> Case {
    Case {
        name: name.to_owned(),
        copies: copies
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        ..Case::default()
    }
}

/// The cases, for a guarded header `h`, a good value `good` and a wrong one `bad`.
fn cases(h: &str, good: &str, bad: &str, second_good: Option<&str>) -> Vec<Case> {
    let upper = h.to_ascii_uppercase();
    let title = portcullis_fuzz::common::title_case(h);
    let long = good.repeat(2048);
    let mut out = vec![
        case("the secret, once", &[(h, good)]),
        case("the secret twice, same value", &[(h, good), (h, good)]),
        case("good then bad copy", &[(h, good), (h, bad)]),
        case("bad then good copy", &[(h, bad), (h, good)]),
        case("Title-Case name", &[(&title, good)]),
        case("UPPER-CASE name", &[(&upper, good)]),
        case(
            "two names by case, different values",
            &[(&title, bad), (h, good)],
        ),
        case(
            "two names by case, same value",
            &[(&title, good), (h, good)],
        ),
        case("leading space", &[(h, &format!(" {good}"))]),
        case("trailing space", &[(h, &format!("{good} "))]),
        case("surrounding tabs", &[(h, &format!("\t{good}\t"))]),
        case("comma-joined good,bad", &[(h, &format!("{good},{bad}"))]),
        case("comma-joined bad,good", &[(h, &format!("{bad},{good}"))]),
        case("comma-joined good,good", &[(h, &format!("{good},{good}"))]),
        case("comma-joined good, bad", &[(h, &format!("{good}, {bad}"))]),
        case("leading comma", &[(h, &format!(",{good}"))]),
        case("prefix of the secret", &[(h, &good[..good.len() - 1])]),
        case("suffix of the secret", &[(h, &good[1..])]),
        case("secret plus one char", &[(h, &format!("{good}x"))]),
        case("empty value", &[(h, "")]),
        case("very long value (secret × 2048)", &[(h, &long)]),
        case("non-ASCII appended", &[(h, &format!("{good}é"))]),
        case(
            "non-ASCII look-alike (Cyrillic а)",
            &[(h, &good.replacen('a', "\u{430}", 1))],
        ),
        case("wrong value", &[(h, bad)]),
        case("no header", &[]),
        case("secret in another header", &[(&format!("{h}-2"), good)]),
        case(
            "secret in header with '_' for '-'",
            &[(&h.replace('-', "_"), good)],
        ),
        case(
            "secret in header name with a space",
            &[(&format!("{h} "), good)],
        ),
        case("secret in a cookie", &[("cookie", &format!("{h}={good}"))]),
        case(
            "secret as Bearer token",
            &[("authorization", &format!("Bearer {good}"))],
        ),
    ];
    out.push(Case {
        query: Some((h.to_owned(), good.to_owned())),
        ..case("secret in the query string instead", &[])
    });
    out.push(Case {
        multi_only: vec![(h.to_owned(), good.to_owned())],
        ..case("secret in multiValueHeaders only", &[])
    });
    out.push(Case {
        multi_only: vec![(h.to_owned(), bad.to_owned())],
        ..case("wrong value in multiValueHeaders only", &[])
    });
    out.push(Case {
        headers_only: vec![(h.to_owned(), good.to_owned())],
        multi_only: vec![(h.to_owned(), bad.to_owned())],
        ..case("headers good, multiValueHeaders bad", &[])
    });
    out.push(Case {
        copies: vec![(h.to_owned(), good.to_owned())],
        multi_only: vec![(h.to_owned(), bad.to_owned())],
        ..case("extra bad copy in multiValueHeaders", &[])
    });
    out.push(Case {
        headers_only: vec![(h.to_owned(), bad.to_owned())],
        multi_only: vec![(h.to_owned(), good.to_owned())],
        ..case("headers bad, multiValueHeaders good", &[])
    });
    if let Some(second) = second_good {
        out.push(case("previous (rotated) secret", &[(h, second)]));
        out.push(case(
            "current and previous, two copies",
            &[(h, good), (h, second)],
        ));
    }
    out
}

/// `base` with the guarded header removed everywhere and the case's copies rendered the way
/// API Gateway sends them for `format`; `None` when the case cannot occur in this format.
fn render(base: &Value, format: Format, guarded: &str, case: &Case) -> Option<Value> {
    let mut event = base.clone();
    let multi_format = format != Format::HttpV2;
    if !multi_format && !case.multi_only.is_empty() {
        return None;
    }
    let touched: BTreeSet<String> = case
        .copies
        .iter()
        .chain(&case.multi_only)
        .chain(&case.headers_only)
        .map(|(n, _)| n.to_ascii_lowercase())
        .chain([guarded.to_owned()])
        .collect();
    for field in ["headers", "multiValueHeaders"] {
        if let Some(map) = event[field].as_object_mut() {
            map.retain(|k, _| !touched.contains(&k.to_ascii_lowercase()));
        }
    }
    let mut headers = event["headers"].as_object().cloned().unwrap_or_default();
    let mut multi = event["multiValueHeaders"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let push_multi = |multi: &mut Map<String, Value>, n: &str, v: &str| {
        let entry = multi.entry(n.to_owned()).or_insert_with(|| json!([]));
        entry.as_array_mut().unwrap().push(json!(v));
    };
    for (n, v) in &case.copies {
        if multi_format {
            headers.insert(n.clone(), json!(v));
            push_multi(&mut multi, n, v);
        } else {
            let key = n.to_ascii_lowercase();
            let joined = match headers.get(&key).and_then(Value::as_str) {
                Some(prev) => format!("{prev},{v}"),
                None => v.clone(),
            };
            headers.insert(key, json!(joined));
        }
    }
    for (n, v) in &case.headers_only {
        headers.insert(n.clone(), json!(v));
    }
    for (n, v) in &case.multi_only {
        push_multi(&mut multi, n, v);
    }
    event["headers"] = Value::Object(headers);
    if multi_format {
        event["multiValueHeaders"] = Value::Object(multi);
    }
    if let Some((k, v)) = &case.query {
        if multi_format {
            event["queryStringParameters"] = json!({ k: v });
            event["multiValueQueryStringParameters"] = json!({ k: [v] });
        } else {
            event["queryStringParameters"] = json!({ k: v });
            event["rawQueryString"] = json!(format!("{k}={v}"));
        }
    }
    Some(event)
}

/// How a function answers what the rule does not decide on.
struct Answers {
    /// No value (or only an empty one).
    missing: &'static str,
    /// A malformed event.
    malformed: &'static str,
}

/// An HTTP header field name (RFC 9110 `token`).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The rule of this file's doc comment, on a rendered event.
fn rule(event: &Value, guarded: &str, accepted: &[&str], answers: &Answers) -> &'static str {
    let mut values = BTreeSet::new();
    for field in ["headers", "multiValueHeaders"] {
        for (k, v) in event[field].as_object().into_iter().flatten() {
            if !is_token(k) {
                return answers.malformed;
            }
            if k.eq_ignore_ascii_case(guarded) {
                match v {
                    Value::Array(vs) => values.extend(vs.iter().filter_map(Value::as_str)),
                    other => values.extend(other.as_str()),
                }
            }
        }
    }
    if answers.missing == "Unauthorized" {
        values.remove("");
    }
    match values.len() {
        0 => answers.missing,
        1 if accepted.contains(values.first().unwrap()) => "Allow",
        _ => "Deny",
    }
}

struct Table {
    title: String,
    rows: Vec<(String, Vec<String>)>,
    wrongful_allows: usize,
    mismatches: Vec<String>,
    checked: usize,
}

impl Table {
    fn new(title: &str) -> Self {
        Self {
            title: title.to_owned(),
            rows: Vec::new(),
            wrongful_allows: 0,
            mismatches: Vec::new(),
            checked: 0,
        }
    }

    fn record(&mut self, case: &str, format: &str, expected: &str, actual: &str) -> String {
        self.checked += 1;
        if actual == "Allow" && expected != "Allow" {
            self.wrongful_allows += 1;
        }
        if actual != expected {
            self.mismatches.push(format!(
                "{case} / {format}: expected {expected}, got {actual}"
            ));
        }
        let mark = if actual == expected { "✓" } else { "✗" };
        let short = |d: &str| match d {
            "Unauthorized" => "401".to_owned(),
            "Error(MalformedEvent)" => "500".to_owned(),
            other => other.to_owned(),
        };
        if actual == expected {
            format!("{} {mark}", short(actual))
        } else {
            format!("{}/{} {mark}", short(expected), short(actual))
        }
    }

    fn finish(self, formats: &[&str]) {
        let mut out = format!(
            "### {}\n\n| case | {} |\n|---|{}\n",
            self.title,
            formats.join(" | "),
            "---|".repeat(formats.len())
        );
        for (name, cells) in &self.rows {
            out.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
        }
        out.push_str(&format!(
            "\n{} decisions checked, {} wrongful Allow, {} disagreements with the rule.\n",
            self.checked,
            self.wrongful_allows,
            self.mismatches.len()
        ));
        eprintln!("{out}");
        let dir = workspace_root().join("target/hardening");
        std::fs::create_dir_all(&dir).unwrap();
        let file = self.title.to_lowercase().replace([' ', '/', ','], "-");
        std::fs::write(dir.join(format!("adversarial-{file}.md")), &out).unwrap();
        assert_eq!(self.wrongful_allows, 0, "wrongful Allows:\n{out}");
        assert!(
            self.mismatches.is_empty(),
            "disagreements with the rule:\n{}",
            self.mismatches.join("\n")
        );
    }
}

async fn start(moto: &Moto, function: &str, env: &[(&str, &str)]) -> Lambda {
    let mut all = moto.aws_env();
    all.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let mut lambda = Lambda::spawn(&binary(function), &all).await.expect("spawn");
    lambda.wait_ready().await.expect("ready");
    lambda
}

fn assert_clean_logs(lambda: &Lambda, secrets: &[&str]) {
    for line in lambda.logs() {
        for s in secrets {
            assert!(!line.contains(s), "a secret leaked into the logs: {line}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_secret_smuggling_never_allows() {
    let moto = Moto::start().await;
    moto.put_secure(HS_PARAM, &format!("{CURRENT}\n{PREVIOUS}"))
        .await;
    let function = "header-secret-authorizer";
    let mut lambda = start(&moto, function, &[("SECRET_PARAMETER_NAME", HS_PARAM)]).await;
    let bases: Vec<Value> = [
        "rest-request-valid.json",
        "http-v1-valid.json",
        "http-v2-valid.json",
        "websocket-valid.json",
    ]
    .iter()
    .map(|f| sample_event(function, f))
    .collect();
    let mut table = Table::new("header-secret-authorizer");
    for c in cases(HS_HEADER, CURRENT, WRONG, Some(PREVIOUS)) {
        let mut cells = Vec::new();
        for (format, base) in FORMATS.iter().zip(&bases) {
            let Some(event) = render(base, *format, HS_HEADER, &c) else {
                cells.push("n/a".to_owned());
                continue;
            };
            let answers = Answers {
                missing: "Deny",
                malformed: "Error(MalformedEvent)",
            };
            let expected = rule(&event, HS_HEADER, &[CURRENT, PREVIOUS], &answers);
            let actual = decision_for(&event, &lambda.invoke(&event).await);
            cells.push(table.record(&c.name, format.name(), expected, &actual));
        }
        table.rows.push((c.name.clone(), cells));
    }
    assert_clean_logs(&lambda, &[CURRENT, PREVIOUS]);
    table.finish(&FORMATS.map(Format::name));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_secret_token_events_never_allow_a_near_miss() {
    let moto = Moto::start().await;
    moto.put_secure(HS_PARAM, CURRENT).await;
    let function = "header-secret-authorizer";
    let mut lambda = start(&moto, function, &[("SECRET_PARAMETER_NAME", HS_PARAM)]).await;
    let arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/orders/42";
    let mut table = Table::new("header-secret-authorizer TOKEN");
    let tokens = [
        ("the secret", CURRENT.to_owned()),
        ("Bearer <secret>", format!("Bearer {CURRENT}")),
        ("leading space", format!(" {CURRENT}")),
        ("trailing newline", format!("{CURRENT}\n")),
        ("comma-joined good,bad", format!("{CURRENT},{WRONG}")),
        ("comma-joined good,good", format!("{CURRENT},{CURRENT}")),
        ("prefix", CURRENT[..CURRENT.len() - 1].to_owned()),
        ("empty", String::new()),
        ("very long", CURRENT.repeat(2048)),
        ("non-ASCII appended", format!("{CURRENT}é")),
        ("wrong", WRONG.to_owned()),
    ];
    for (name, token) in tokens {
        let event = json!({"type": "TOKEN", "authorizationToken": token, "methodArn": arn});
        let expected = if token == CURRENT { "Allow" } else { "Deny" };
        let actual = decision_for(&event, &lambda.invoke(&event).await);
        let cell = table.record(name, "TOKEN", expected, &actual);
        table.rows.push((name.to_owned(), vec![cell]));
    }
    assert_clean_logs(&lambda, &[CURRENT]);
    table.finish(&["REST TOKEN"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_authorizer_api_key_smuggling_never_allows() {
    let moto = Moto::start().await;
    let rules = std::fs::read_to_string(
        workspace_root().join("events/request-authorizer/rules/rules.json"),
    )
    .unwrap();
    moto.put_secure(RA_PARAM, &rules).await;
    let function = "request-authorizer";
    let mut lambda = start(&moto, function, &[("RULES_PARAMETER_NAME", RA_PARAM)]).await;
    let bases: Vec<Value> = [
        "rest-request-api-key-valid.json",
        "http-v1-api-key-valid.json",
        "http-v2-api-key-valid.json",
        "websocket-api-key-valid.json",
    ]
    .iter()
    .map(|f| sample_event(function, f))
    .collect();
    let mut table = Table::new("request-authorizer x-api-key");
    for c in cases(RA_HEADER, ACME_KEY, UNKNOWN_KEY, None) {
        let mut cells = Vec::new();
        for (format, base) in FORMATS.iter().zip(&bases) {
            let Some(event) = render(base, *format, RA_HEADER, &c) else {
                cells.push("n/a".to_owned());
                continue;
            };
            let answers = Answers {
                missing: "Unauthorized",
                malformed: "Error(MalformedEvent)",
            };
            let expected = rule(&event, RA_HEADER, &[ACME_KEY], &answers);
            let actual = decision_for(&event, &lambda.invoke(&event).await);
            cells.push(table.record(&c.name, format.name(), expected, &actual));
        }
        table.rows.push((c.name.clone(), cells));
    }
    assert_clean_logs(&lambda, &[ACME_KEY]);
    table.finish(&FORMATS.map(Format::name));
}
