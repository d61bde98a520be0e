//! Header-secret authorizer: structured events of every payload format (REST TOKEN/REQUEST,
//! HTTP 1.0/2.0, WebSocket) with the secret header present, absent, repeated, re-cased or
//! mutated, plus raw bytes read as JSON, through the front door's `serve` with an in-memory secret.
//!
//! Asserts: no panic; a response is valid for its format (IAM policy or `{isAuthorized}`);
//! it lets the request in only when the event carries exactly one distinct value for the
//! secret header (or TOKEN `authorizationToken`) and that value is one of the secret lines;
//! a generated event with a well-formed ARN is never refused as malformed, and one that does
//! carry the secret unambiguously is allowed.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use header_secret_authorizer::{Authorizer, Config};
use portcullis::config::MapEnv;
use portcullis::door::Clock;
use portcullis::secrets::MemorySource;
use serde_json::Value;

use crate::common::{
    ArnChoice, EventInput, block_on, check_response, header_values, http_headers_valid, is_v2,
};

/// The secret lines of the in-memory parameter.
pub const SECRETS: [&str; 2] = [
    "pc-fuzz-current-3f9a1c7e5b2d4086a1e9c7b5d3f1a2c4",
    "pc-fuzz-previous-8e6d4c2a0b9f7e5d3c1a2b4d6f8e0a1c",
];
const HEADER: &str = "x-origin-verify";

fn authorizer() -> &'static (Authorizer<MemorySource>, Instant) {
    static AUTHORIZER: OnceLock<(Authorizer<MemorySource>, Instant)> = OnceLock::new();
    AUTHORIZER.get_or_init(|| {
        let env = MapEnv::from_pairs([("SECRET_PARAMETER_NAME", "/portcullis/origin-secret")]);
        let source = MemorySource::new(&format!("{}\n{}\n", SECRETS[0], SECRETS[1]));
        let authorizer =
            header_secret_authorizer::authorizer(source, &Config::from_env(&env).expect("config"));
        let now = Instant::now();
        block_on(authorizer.prefetch(now));
        (authorizer, now)
    })
}

/// The value the event offers as the secret, judged from the payload format alone: TOKEN
/// events offer `authorizationToken`; the others every copy of the secret header.
fn offered(event: &Value) -> Vec<String> {
    if !is_v2(event) && event.get("type").and_then(Value::as_str) == Some("TOKEN") {
        return event
            .get("authorizationToken")
            .and_then(Value::as_str)
            .map(|t| vec![t.to_owned()])
            .unwrap_or_default();
    }
    header_values(event, HEADER)
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let Some(input) = EventInput::from_bytes(data) else {
        return;
    };
    let (event, well_formed) = match &input {
        EventInput::Structured(spec) => (
            spec.build(HEADER, &SECRETS),
            matches!(spec.arn, ArnChoice::Template),
        ),
        EventInput::Raw(v) => (v.clone(), false),
    };
    let well_formed = well_formed && http_headers_valid(&event);
    check(&event, well_formed);
}

/// The invariants for one event.
pub fn check(event: &Value, well_formed: bool) {
    let (authorizer, now) = authorizer();
    let clock = Clock {
        instant: *now,
        wall: SystemTime::now(),
    };
    let result = block_on(authorizer.serve(event, clock, Duration::MAX));
    let offered = offered(event);
    let carries_secret = matches!(offered.as_slice(), [one] if SECRETS.contains(&one.as_str()));
    match result {
        Err(_) => assert!(
            !well_formed,
            "well-formed event refused as malformed: {event}"
        ),
        Ok(response) => {
            let allowed = check_response(&response, is_v2(event));
            if allowed {
                crate::count_allow();
            }
            assert!(
                !allowed || carries_secret,
                "ALLOW without the secret: offered {offered:?}, response {response}"
            );
            if well_formed && carries_secret {
                assert!(allowed, "valid secret denied: {response}");
            }
        }
    }
}
