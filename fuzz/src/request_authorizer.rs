//! REQUEST authorizer with a small rules document (two keys of one tenant, a revoked tenant,
//! a tenant limited to a CIDR): structured events of every payload format with the
//! `x-api-key` header present, absent, repeated, re-cased or mutated, plus raw JSON, through
//! the front door's `serve` with fixed clocks.
//!
//! Asserts: no panic; the answer is a valid response for its format or exactly the
//! `Unauthorized` error (or, for a simple response whose cache key lacks the route, the
//! `RouteNotInCacheKey` error); it lets the request in only when the event carries exactly one
//! distinct `x-api-key` value and that value is a key of a live tenant; a generated event with
//! a well-formed ARN carrying the active tenant's key unambiguously is allowed.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, UNIX_EPOCH};

use portcullis::config::MapEnv;
use portcullis::door::{Clock, Refusal};
use portcullis::secrets::MemorySource;
use request_authorizer::rules::{RuleSet, hash_api_key};
use request_authorizer::{Authorizer, Config, Rules};
use serde_json::{Value, json};

use crate::common::{
    ArnChoice, EventInput, Format, block_on, check_response, header_values, http_headers_valid,
    is_v2,
};

/// Keys of tenant `acme` (any source IP).
pub const ACME_KEYS: [&str; 2] = ["acme-fuzz-key-current-0001", "acme-fuzz-key-previous-002"];
/// Key of the revoked tenant.
pub const REVOKED_KEY: &str = "gone-fuzz-key-revoked-0003";
/// Key of the tenant limited to 10.0.0.0/8 (the sample events come from elsewhere).
pub const LIMITED_KEY: &str = "lim-fuzz-key-cidr-only-004";
const HEADER: &str = "x-api-key";

fn document() -> String {
    json!({"version": 1, "tenants": [
        {"id": "acme", "apiKeys": [{"sha256": hash_api_key(ACME_KEYS[0]), "label": "current"},
                                    {"sha256": hash_api_key(ACME_KEYS[1])}],
         "grants": ["GET /orders/*", "$connect"], "usageIdentifierKey": "acme-usage-key-0000000001",
         "context": {"tenantTier": "gold", "seats": 5}},
        {"id": "gone", "revoked": true, "apiKeys": [{"sha256": hash_api_key(REVOKED_KEY)}],
         "grants": ["*"]},
        {"id": "limited", "apiKeys": [{"sha256": hash_api_key(LIMITED_KEY)}],
         "sourceIp": {"allow": ["10.0.0.0/8"]}, "grants": ["*"]}
    ]})
    .to_string()
}

fn authorizer() -> &'static Authorizer<MemorySource> {
    static AUTHORIZER: OnceLock<Authorizer<MemorySource>> = OnceLock::new();
    AUTHORIZER.get_or_init(|| {
        let config =
            Config::from_env(&MapEnv::from_pairs([("RULES_FILE", "unused.json")])).expect("config");
        let rules = RuleSet::parse(&document()).expect("rules document");
        request_authorizer::authorizer(Rules::Fixed(Arc::new(rules)), None, &config)
    })
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let Some(input) = EventInput::from_bytes(data) else {
        return;
    };
    let valid = [ACME_KEYS[0], ACME_KEYS[1], REVOKED_KEY, LIMITED_KEY];
    let (event, well_formed) = match &input {
        EventInput::Structured(spec) => (
            spec.build(HEADER, &valid),
            matches!(spec.arn, ArnChoice::Template) && spec.format != Format::RestToken,
        ),
        EventInput::Raw(v) => (v.clone(), false),
    };
    let well_formed = well_formed && http_headers_valid(&event);
    check(&event, well_formed);
}

/// The invariants for one event.
pub fn check(event: &Value, well_formed: bool) {
    let wall = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let clock = Clock {
        instant: Instant::now(),
        wall,
    };
    let result = block_on(authorizer().serve(&event, clock, Duration::MAX));
    let offered = header_values(event, HEADER);
    let live_key = matches!(offered.as_slice(), [one] if ACME_KEYS.contains(&one.as_str()));
    let limited = matches!(offered.as_slice(), [one] if one == LIMITED_KEY);
    match result {
        Err(Refusal::Unauthorized) => assert!(
            !(well_formed && live_key),
            "valid key answered Unauthorized: {event}"
        ),
        Err(Refusal::MalformedEvent) => {
            assert!(
                !well_formed,
                "well-formed event refused as malformed: {event}"
            )
        }
        // acme's grants depend on the route: a simple response needs the route in the cache key.
        Err(Refusal::RouteNotInCacheKey) => assert!(is_v2(event), "not a simple response"),
        Err(other) => panic!("unexpected error {other}: {event}"),
        Ok(response) => {
            let allowed = check_response(&response, is_v2(event));
            if allowed {
                crate::count_allow();
            }
            assert!(
                !allowed || live_key || (limited && from_ten(event)),
                "ALLOW without a live key: offered {offered:?}, response {response}"
            );
            // The sample routes (GET /orders/42, $connect) are granted to acme.
            if well_formed && live_key {
                assert!(allowed, "valid key denied: {response}");
            }
        }
    }
}

fn from_ten(event: &Value) -> bool {
    let ip = if is_v2(event) {
        &event["requestContext"]["http"]["sourceIp"]
    } else {
        &event["requestContext"]["identity"]["sourceIp"]
    };
    ip.as_str()
        .and_then(|s| s.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| matches!(ip, std::net::IpAddr::V4(v4) if v4.octets()[0] == 10))
}
