use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use super::*;

const ACME_KEY: &str = "acme-key-0123456789abcdef";
const ACME_OLD_KEY: &str = "acme-key-old-000000000000";
const GLOBEX_KEY: &str = "globex-key-0123456789abcd";
const REVOKED_KEY: &str = "initech-key-0123456789ab";

/// 2026-11-22T00:00:00Z
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_305_600)
}

fn document() -> String {
    serde_json::json!({
        "version": 1,
        "tenants": [
            {
                "id": "acme",
                "tier": "gold",
                "apiKeys": [
                    {"label": "2026-q4", "sha256": hash_api_key(ACME_KEY)},
                    {"sha256": hash_api_key(ACME_OLD_KEY)}
                ],
                "sourceIp": {"allow": ["203.0.113.0/24", "2001:db8::/32"], "deny": ["203.0.113.128/25"]},
                "grants": ["GET /orders/*", "POST /orders"],
                "usageIdentifierKey": "acme-usage-plan-key-000001",
                "context": {"plan": "enterprise", "maxItems": 50, "beta": true}
            },
            {
                "id": "globex",
                "apiKeys": [{"sha256": hash_api_key(GLOBEX_KEY)}],
                "clientCert": {
                    "subjectDn": ["CN=client.globex.example,O=Globex"],
                    "issuerDn": ["CN=Globex CA,O=Globex"],
                    "serialNumbers": ["0a:1b:2c"]
                },
                "conditions": {"stageVariables": {"stage": "prod"}, "headers": {"X-Env": ["blue", "green"]}},
                "grants": ["*"]
            },
            {
                "id": "initech",
                "revoked": true,
                "apiKeys": [{"sha256": hash_api_key(REVOKED_KEY)}],
                "grants": ["GET /reports"]
            }
        ]
    })
    .to_string()
}

struct OwnedCert {
    subject: String,
    issuer: String,
    serial: String,
    not_before: Option<SystemTime>,
    not_after: Option<SystemTime>,
}

#[derive(Default)]
struct Req {
    headers: HashMap<String, Vec<String>>,
    query: HashMap<String, Vec<String>>,
    stage: HashMap<String, String>,
    ip: Option<IpAddr>,
    cert: Option<OwnedCert>,
    country: Option<String>,
    sha256: Option<String>,
}

impl Req {
    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(value.into());
        self
    }
    fn query(mut self, name: &str, value: &str) -> Self {
        self.query
            .entry(name.into())
            .or_default()
            .push(value.into());
        self
    }
    fn stage(mut self, name: &str, value: &str) -> Self {
        self.stage.insert(name.into(), value.into());
        self
    }
    fn ip(mut self, ip: &str) -> Self {
        self.ip = Some(ip.parse().unwrap());
        self
    }
    fn globex_cert(mut self, serial: &str, valid_days: (i64, i64)) -> Self {
        let shift = |days: i64| {
            let d = Duration::from_secs(days.unsigned_abs() * 86_400);
            if days < 0 { now() - d } else { now() + d }
        };
        self.cert = Some(OwnedCert {
            subject: "CN=client.globex.example,O=Globex".into(),
            issuer: "CN=Globex CA,O=Globex".into(),
            serial: serial.into(),
            not_before: Some(shift(valid_days.0)),
            not_after: Some(shift(valid_days.1)),
        });
        self
    }
    fn globex_ok() -> Self {
        Req::default()
            .header("x-api-key", GLOBEX_KEY)
            .header("x-env", "green")
            .stage("stage", "prod")
            .globex_cert("0A1B2C", (-30, 30))
    }
}

fn one<'a>(
    map: &'a HashMap<String, Vec<String>>,
    name: &str,
) -> Result<Option<&'a str>, Ambiguous> {
    match map.get(name).map(Vec::as_slice) {
        None | Some([]) => Ok(None),
        Some([first, rest @ ..]) if rest.iter().all(|r| r == first) => Ok(Some(first)),
        Some(_) => Err(Ambiguous),
    }
}

impl RuleInput for Req {
    fn header(&self, name: &str) -> Result<Option<&str>, Ambiguous> {
        one(&self.headers, &name.to_ascii_lowercase())
    }
    fn query(&self, name: &str) -> Result<Option<&str>, Ambiguous> {
        one(&self.query, name)
    }
    fn stage_variable(&self, name: &str) -> Option<&str> {
        self.stage.get(name).map(String::as_str)
    }
    fn source_ip(&self) -> Option<IpAddr> {
        self.ip
    }
    fn client_cert(&self) -> Option<CertFacts<'_>> {
        self.cert.as_ref().map(|c| CertFacts {
            subject_dn: &c.subject,
            issuer_dn: &c.issuer,
            serial_number: &c.serial,
            not_before: c.not_before,
            not_after: c.not_after,
            sha256: self.sha256.as_deref(),
        })
    }
    fn viewer_country(&self) -> Option<&str> {
        self.country.as_deref()
    }
}

fn header_keys() -> KeyLocation {
    KeyLocation {
        header: Some("x-api-key".into()),
        query: None,
    }
}

fn rules() -> RuleSet {
    RuleSet::parse(&document()).expect("valid document")
}

fn allowed_tenant(rules: &RuleSet, req: &Req, keys: &KeyLocation) -> String {
    match rules.evaluate(req, keys, now()) {
        Outcome::Allowed { tenant, .. } => tenant.id().to_owned(),
        other => panic!("expected Allowed, got {other:?}"),
    }
}

fn denied(rules: &RuleSet, req: &Req, keys: &KeyLocation) -> (Option<String>, DenyReason) {
    match rules.evaluate(req, keys, now()) {
        Outcome::Denied { tenant, reason } => (tenant.map(|t| t.id().to_owned()), reason),
        other => panic!("expected Denied, got {other:?}"),
    }
}

/// A tenant limited to viewers in Germany or France, with a pinned certificate.
fn viewer_rules() -> RuleSet {
    RuleSet::parse(&format!(
        r#"{{"version": 1, "tenants": [{{"id": "eu", "apiKeys": [{{"sha256": "{}"}}],
            "conditions": {{"viewerCountry": ["de", "FR"]}},
            "clientCert": {{"sha256": ["{}"]}}, "grants": ["*"]}}]}}"#,
        hash_api_key(ACME_KEY),
        "AB:".repeat(31) + "AB"
    ))
    .expect("valid document")
}

#[test]
fn viewer_country_and_pinned_fingerprint_conditions() {
    let rules = viewer_rules();
    let base = || {
        let mut req = Req::default()
            .header("x-api-key", ACME_KEY)
            .globex_cert("0A1B2C", (-30, 30));
        req.sha256 = Some("ab".repeat(32));
        req
    };
    let in_country = |code: &str| {
        let mut req = base();
        req.country = Some(code.into());
        req
    };
    assert_eq!(
        allowed_tenant(&rules, &in_country("DE"), &header_keys()),
        "eu"
    );
    assert_eq!(
        allowed_tenant(&rules, &in_country("FR"), &header_keys()),
        "eu"
    );
    let country_denied = (
        Some("eu".to_owned()),
        DenyReason::Condition {
            kind: "viewerCountry",
            name: "country".into(),
        },
    );
    assert_eq!(
        denied(&rules, &in_country("US"), &header_keys()),
        country_denied
    );
    // Without trusted viewer facts the country is unknown: the condition fails.
    assert_eq!(denied(&rules, &base(), &header_keys()), country_denied);
    let mut unpinned = in_country("DE");
    unpinned.sha256 = Some("cd".repeat(32));
    assert_eq!(
        denied(&rules, &unpinned, &header_keys()),
        (
            Some("eu".to_owned()),
            DenyReason::ClientCert(CertVerdict::FingerprintNotPinned)
        )
    );
}

#[test]
fn viewer_country_and_fingerprint_entries_are_validated() {
    let parse = |tenant_extra: &str| {
        RuleSet::parse(&format!(
            r#"{{"version": 1, "tenants": [{{"id": "t", "apiKeys": [{{"sha256": "{}"}}], "grants": ["*"], {tenant_extra}}}]}}"#,
            hash_api_key(ACME_KEY)
        ))
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        parse(r#""conditions": {"viewerCountry": ["Germany"]}"#),
        "tenants[0].conditions.viewerCountry[0]: expected an ISO 3166-1 alpha-2 code such as \"DE\""
    );
    assert_eq!(
        parse(r#""clientCert": {"sha256": ["abcd"]}"#),
        "tenants[0].clientCert.sha256[0]: not a SHA-256 fingerprint (64 hex digits, ':' allowed)"
    );
}

#[test]
fn right_tenant_is_allowed_with_its_grants_context_and_usage_key() {
    let rules = rules();
    let req = Req::default()
        .header("X-Api-Key", ACME_KEY)
        .ip("203.0.113.7");
    let Outcome::Allowed { tenant, key_label } = rules.evaluate(&req, &header_keys(), now()) else {
        panic!("not allowed")
    };
    assert_eq!(tenant.id(), "acme");
    assert_eq!(key_label, Some("2026-q4"));
    assert_eq!(
        tenant.grants(),
        &[
            Grant::Http {
                verb: "GET".into(),
                path: "/orders/*".into()
            },
            Grant::Http {
                verb: "POST".into(),
                path: "/orders".into()
            }
        ]
    );
    assert_eq!(
        tenant.usage_identifier_key(),
        Some("acme-usage-plan-key-000001")
    );
    assert_eq!(
        serde_json::to_value(tenant.context()).unwrap(),
        serde_json::json!({"tenantId": "acme", "tier": "gold", "plan": "enterprise", "maxItems": 50, "beta": true})
    );
    // The second (rotation) key maps to the same tenant, without a label.
    let req = Req::default()
        .header("x-api-key", ACME_OLD_KEY)
        .ip("2001:db8::1");
    match rules.evaluate(&req, &header_keys(), now()) {
        Outcome::Allowed { tenant, key_label } => {
            assert_eq!(tenant.id(), "acme");
            assert_eq!(key_label, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_unknown_and_revoked_keys() {
    let rules = rules();
    assert!(matches!(
        rules.evaluate(&Req::default(), &header_keys(), now()),
        Outcome::NoKey
    ));
    assert!(matches!(
        rules.evaluate(
            &Req::default().header("x-api-key", ""),
            &header_keys(),
            now()
        ),
        Outcome::NoKey
    ));
    assert_eq!(
        denied(
            &rules,
            &Req::default().header("x-api-key", "nope"),
            &header_keys()
        ),
        (None, DenyReason::UnknownKey)
    );
    // A digest pasted as the key is not the key.
    let digest_as_key = Req::default().header("x-api-key", &hash_api_key(ACME_KEY));
    assert_eq!(
        denied(&rules, &digest_as_key, &header_keys()),
        (None, DenyReason::UnknownKey)
    );
    assert_eq!(
        denied(
            &rules,
            &Req::default().header("x-api-key", REVOKED_KEY),
            &header_keys()
        ),
        (Some("initech".into()), DenyReason::Revoked)
    );
}

#[test]
fn key_from_query_or_header_and_ambiguity() {
    let rules = rules();
    let both = KeyLocation {
        header: Some("x-api-key".into()),
        query: Some("api_key".into()),
    };
    let req = Req::default().query("api_key", ACME_KEY).ip("203.0.113.1");
    assert_eq!(allowed_tenant(&rules, &req, &both), "acme");
    // Header-only configuration ignores the query string.
    assert!(matches!(
        rules.evaluate(&req, &header_keys(), now()),
        Outcome::NoKey
    ));
    let same = Req::default()
        .query("api_key", ACME_KEY)
        .header("x-api-key", ACME_KEY)
        .ip("203.0.113.1");
    assert_eq!(allowed_tenant(&rules, &same, &both), "acme");
    let differ = Req::default()
        .query("api_key", GLOBEX_KEY)
        .header("x-api-key", ACME_KEY);
    assert_eq!(
        denied(&rules, &differ, &both),
        (None, DenyReason::AmbiguousKey)
    );
    let twice = Req::default()
        .header("x-api-key", ACME_KEY)
        .header("x-api-key", GLOBEX_KEY);
    assert_eq!(
        denied(&rules, &twice, &header_keys()),
        (None, DenyReason::AmbiguousKey)
    );
}

#[test]
fn source_ip_rules() {
    let rules = rules();
    let acme = |ip: Option<&str>| {
        let req = Req::default().header("x-api-key", ACME_KEY);
        match ip {
            Some(ip) => req.ip(ip),
            None => req,
        }
    };
    let acme_id = Some("acme".to_owned());
    assert_eq!(
        denied(&rules, &acme(Some("198.51.100.1")), &header_keys()),
        (acme_id.clone(), DenyReason::SourceIpNotAllowed)
    );
    assert_eq!(
        denied(&rules, &acme(Some("203.0.113.200")), &header_keys()),
        (acme_id.clone(), DenyReason::SourceIpDenied)
    );
    assert_eq!(
        denied(&rules, &acme(None), &header_keys()),
        (acme_id, DenyReason::NoSourceIp)
    );
    assert_eq!(
        allowed_tenant(&rules, &acme(Some("203.0.113.127")), &header_keys()),
        "acme"
    );
}

#[test]
fn client_cert_and_conditions() {
    let rules = rules();
    let globex = Some("globex".to_owned());
    assert_eq!(
        allowed_tenant(&rules, &Req::globex_ok(), &header_keys()),
        "globex"
    );
    let expired = Req::globex_ok().globex_cert("0a1b2c", (-60, -1));
    assert_eq!(
        denied(&rules, &expired, &header_keys()),
        (globex.clone(), DenyReason::ClientCert(CertVerdict::Expired))
    );
    let future = Req::globex_ok().globex_cert("0a1b2c", (1, 60));
    assert_eq!(
        denied(&rules, &future, &header_keys()),
        (
            globex.clone(),
            DenyReason::ClientCert(CertVerdict::NotYetValid)
        )
    );
    let unlisted = Req::globex_ok().globex_cert("0a1b2d", (-1, 1));
    assert_eq!(
        denied(&rules, &unlisted, &header_keys()),
        (
            globex.clone(),
            DenyReason::ClientCert(CertVerdict::SerialNotListed)
        )
    );
    let mut no_cert = Req::globex_ok();
    no_cert.cert = None;
    assert_eq!(
        denied(&rules, &no_cert, &header_keys()),
        (globex.clone(), DenyReason::ClientCert(CertVerdict::Missing))
    );
    let staging = Req::globex_ok().stage("stage", "staging");
    assert_eq!(
        denied(&rules, &staging, &header_keys()),
        (
            globex.clone(),
            DenyReason::Condition {
                kind: "stageVariables",
                name: "stage".into()
            }
        )
    );
    let mut no_env = Req::globex_ok();
    no_env.headers.remove("x-env");
    assert_eq!(
        denied(&rules, &no_env, &header_keys()),
        (
            globex,
            DenyReason::Condition {
                kind: "headers",
                name: "x-env".into()
            }
        )
    );
    let blue = Req::globex_ok();
    let mut blue = blue;
    blue.headers.insert("x-env".into(), vec!["blue".into()]);
    assert_eq!(allowed_tenant(&rules, &blue, &header_keys()), "globex");
}

#[test]
fn toml_and_json_give_the_same_rules() {
    let toml = format!(
        r#"
version = 1

[[tenants]]
id = "acme"
tier = "gold"
grants = ["GET /orders/*", "POST /orders"]
usageIdentifierKey = "acme-usage-plan-key-000001"
apiKeys = [{{ label = "2026-q4", sha256 = "{}" }}]
sourceIp = {{ allow = ["203.0.113.0/24"], deny = ["203.0.113.128/25"] }}
context = {{ plan = "enterprise", maxItems = 50, beta = true }}
"#,
        hash_api_key(ACME_KEY)
    );
    let rules = RuleSet::parse(&toml).expect("valid TOML");
    let req = Req::default()
        .header("x-api-key", ACME_KEY)
        .ip("203.0.113.7");
    let Outcome::Allowed { tenant, .. } = rules.evaluate(&req, &header_keys(), now()) else {
        panic!("not allowed");
    };
    let json_rules = super::tests::rules();
    let json_acme = &json_rules.tenants()[0];
    assert_eq!(tenant.grants(), json_acme.grants());
    assert_eq!(tenant.context(), json_acme.context());
    assert_eq!(
        tenant.usage_identifier_key(),
        json_acme.usage_identifier_key()
    );
}

fn error_of(doc: serde_json::Value) -> String {
    RuleSet::parse(&doc.to_string())
        .expect_err("document should be rejected")
        .to_string()
}

fn tenant(extra: serde_json::Value) -> serde_json::Value {
    let mut t = serde_json::json!({
        "id": "t",
        "apiKeys": [{"sha256": hash_api_key("some-key-000000000000")}],
        "grants": ["GET /x"]
    });
    for (k, v) in extra.as_object().unwrap() {
        t[k] = v.clone();
    }
    t
}

#[test]
fn validation_errors_name_the_entry() {
    let ok = tenant(serde_json::json!({}));
    let bad_cidr = tenant(
        serde_json::json!({"id": "u", "apiKeys": [{"sha256": hash_api_key("other-key-00000000000")}], "sourceIp": {"allow": ["10.0.0.0/8"], "deny": ["192.0.2.0/24", "10.0.0/8"]}}),
    );
    assert_eq!(
        error_of(serde_json::json!({"version": 1, "tenants": [ok, bad_cidr]})),
        "tenants[1].sourceIp.deny[1]: invalid CIDR (e.g. 10.0.0.0/8 or 2001:db8::/32)"
    );

    let plaintext = tenant(serde_json::json!({"apiKeys": [{"sha256": "sk_live_plaintext_123"}]}));
    let err = error_of(serde_json::json!({"version": 1, "tenants": [plaintext]}));
    assert!(
        err.starts_with("tenants[0].apiKeys[0].sha256: expected the SHA-256"),
        "{err}"
    );
    assert!(!err.contains("sk_live"), "error echoes the key: {err}");

    let dup = serde_json::json!({"version": 1, "tenants": [
        tenant(serde_json::json!({})),
        tenant(serde_json::json!({"apiKeys": [{"sha256": hash_api_key("x-key-000000000000000")}]}))
    ]});
    assert_eq!(
        error_of(dup),
        "tenants[1].id: duplicate tenant id \"t\" (first at tenants[0])"
    );

    let same_key = serde_json::json!({"version": 1, "tenants": [
        tenant(serde_json::json!({})),
        tenant(serde_json::json!({"id": "u"}))
    ]});
    assert_eq!(
        error_of(same_key),
        "tenants[1].apiKeys[0].sha256: the same key is already listed at tenants[0].apiKeys[0]"
    );

    // An unknown field's name is the document's text (a pasted secret, maybe): the error names
    // the entry that holds it and the fields it may have.
    let unknown = tenant(serde_json::json!({"sourceIp": {"allow": ["10.0.0.0/8"], "alow": []}}));
    let err = error_of(serde_json::json!({"version": 1, "tenants": [unknown]}));
    assert!(
        err.starts_with("tenants[0].sourceIp: invalid JSON at line 1 column"),
        "{err}"
    );
    assert!(
        err.ends_with(": unknown field, expected `allow` or `deny`"),
        "{err}"
    );

    let unknown_top = error_of(serde_json::json!({"version": 1, "tenant": []}));
    assert!(unknown_top.starts_with("document: "), "{unknown_top}");
    assert!(
        unknown_top.ends_with(": unknown field, expected `version` or `tenants`"),
        "{unknown_top}"
    );

    assert_eq!(
        error_of(serde_json::json!({"version": 2})),
        "version: unsupported version 2 (this build reads version 1)"
    );
    assert_eq!(
        error_of(
            serde_json::json!({"version": 1, "tenants": [tenant(serde_json::json!({"grants": ["GET /a", "GET /orders/{id}"]}))]})
        ),
        "tenants[0].grants[1]: method ARNs hold the called path, not the route template; use * instead of {param}"
    );
    assert_eq!(
        error_of(
            serde_json::json!({"version": 1, "tenants": [tenant(serde_json::json!({"grants": []}))]})
        ),
        "tenants[0].grants: at least one grant is required"
    );
    assert_eq!(
        error_of(
            serde_json::json!({"version": 1, "tenants": [tenant(serde_json::json!({"context": {"tenantId": "x"}}))]})
        ),
        "tenants[0].context.tenantId: \"tenantId\" is set by the authorizer (use the tenant's id/tier fields)"
    );
    assert_eq!(
        error_of(
            serde_json::json!({"version": 1, "tenants": [tenant(serde_json::json!({"context": {"list": [1]}}))]})
        ),
        "tenants[0].context.list: API Gateway context values must be a string, number or boolean"
    );
    assert_eq!(
        error_of(
            serde_json::json!({"version": 1, "tenants": [tenant(serde_json::json!({"clientCert": {"serialNumbers": ["zz"]}}))]})
        ),
        "tenants[0].clientCert.serialNumbers[0]: serial number is not hex (e.g. \"0a:1b:2c\")"
    );
    assert_eq!(
        error_of(
            serde_json::json!({"version": 1, "tenants": [tenant(serde_json::json!({"conditions": {"stageVariables": {"stage": []}}}))]})
        ),
        "tenants[0].conditions.stageVariables.stage: list at least one accepted value"
    );
    assert_eq!(
        error_of(
            serde_json::json!({"version": 1, "tenants": [tenant(serde_json::json!({"id": "a b"}))]})
        ),
        "tenants[0].id: character ' ' not allowed (use letters, digits, . _ - : @)"
    );
}

#[test]
fn syntax_errors_give_a_position_and_never_echo_values() {
    let err = RuleSet::parse("{\"version\": 1, \"tenants\": [}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid JSON at line 1 column"), "{err}");

    let err = RuleSet::parse("{\"version\": 1} trailing")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "document: invalid JSON at line 1 column 16: trailing characters"
    );

    let err = RuleSet::parse(
        "{\"version\": 1, \"tenants\": [{\"id\": \"t\", \"apiKeys\": \"sk_live_secret\", \"grants\": []}]}",
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("tenants[0].apiKeys: invalid JSON"), "{err}");
    assert!(!err.contains("sk_live"), "{err}");

    let err = RuleSet::parse(
        "version = 1\n[[tenants]]\nid = \"t\"\nbogus = 1\napiKeys = []\ngrants = []\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("tenants[0]: invalid TOML at line 4 column 1: unknown field, expected one of `id`, `tier`"), "{err}");
    assert!(!err.contains("bogus"), "{err}");

    let err = RuleSet::parse("version = 1\n[[tenants]\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("document: invalid TOML at line 2"), "{err}");
}

/// A secret pasted anywhere in a document, in any way serde would quote it, never reaches the
/// error (which is logged at init and on every refused refresh).
#[test]
fn errors_never_echo_document_text() {
    let key = hash_api_key("some-key-000000000000");
    let with = |tenant_json: &str| {
        format!(
            r#"{{"version": 1, "tenants": [{{"id": "t", "apiKeys": [{{"sha256": "{key}"}}], "grants": ["GET /x"]{tenant_json}}}]}}"#
        )
    };
    let cases = [
        (
            r#"{"version": 1, "tenants": [{"id": "t", "apiKeys": "abc\"sk-live-EMBED", "grants": []}]}"#.to_owned(),
            "tenants[0].apiKeys: invalid JSON at line 1 column 70: invalid type: string, expected a sequence",
        ),
        (
            r#"{"version": 1, "sk-live-FIELD": 1}"#.to_owned(),
            "document: invalid JSON at line 1 column 30: unknown field, expected `version` or `tenants`",
        ),
        (
            r#"{"version": 1, "tenants": [{"id": "t", "sk-live`TICK, expected `x`": 1}]}"#.to_owned(),
            "tenants[0]: invalid JSON at line 1 column 67: unknown field, expected one of `id`, `tier`, `revoked`, `apiKeys`, `sourceIp`, `clientCert`, `conditions`, `grants`, `usageIdentifierKey`, `context`",
        ),
        (
            r#"{"version": 1, "tenants": [{"id": 4711000815}]}"#.to_owned(),
            "tenants[0].id: invalid JSON at line 1 column 44: invalid type: integer, expected a string",
        ),
        (
            r#"{"version": "sk-live-VERSION"}"#.to_owned(),
            "version: invalid JSON at line 1 column 29: invalid type: string, expected u32",
        ),
        (
            "version = 1\n[[tenants]]\nid = \"t\"\napiKeys = \"abc\\\"sk-live-TOML\"\ngrants = []\n".to_owned(),
            "tenants[0].apiKeys: invalid TOML at line 4 column 11: invalid type: string, expected a sequence",
        ),
        (
            "version = 1\n\"sk-live-TKEY\" = 1\n".to_owned(),
            "document: invalid TOML at line 2 column 1: unknown field, expected `version` or `tenants`",
        ),
        (
            format!(r#"{{"version": 1, "tenants": [{{"id": "t", "apiKeys": [{{"sha256": "{key}"}}], "grants": ["sk-live-GRANT"]}}]}}"#),
            "tenants[0].grants[0]: expected \"VERB /path\", \"*\" or a route key like \"$connect\"",
        ),
        (
            with(r#", "sourceIp": {"allow": ["sk-live-CIDR"]}"#),
            "tenants[0].sourceIp.allow[0]: invalid CIDR (e.g. 10.0.0.0/8 or 2001:db8::/32)",
        ),
        (
            with(r#", "clientCert": {"serialNumbers": ["sk-live-SERIAL"]}"#),
            "tenants[0].clientCert.serialNumbers[0]: serial number is not hex (e.g. \"0a:1b:2c\")",
        ),
        (
            with(r#", "conditions": {"headers": {"x sk-live-NAME": "v"}}"#),
            "tenants[0].conditions.headers: a name is empty or holds whitespace or control characters",
        ),
    ];
    for (document, want) in cases {
        let err = RuleSet::parse(&document).unwrap_err().to_string();
        assert_eq!(err, want, "{document}");
        assert!(
            !err.contains("sk-live") && !err.contains("4711000815"),
            "{err}"
        );
    }
}

#[test]
fn debug_output_hides_the_usage_key() {
    let rules = rules();
    let text = format!("{rules:?}");
    assert!(!text.contains("acme-usage-plan-key"), "{text}");
    assert!(text.contains("acme"));
}

mod decisions {
    use super::*;
    use portcullis::request::AuthorizerRequest;
    use portcullis::response::{HttpApiResponseMode, render};
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:api1/prod/GET/orders/7";

    fn rest(headers: serde_json::Value, ip: &str, arn: &str) -> AuthorizerRequest {
        AuthorizerRequest::from_value(&json!({
            "type": "REQUEST", "methodArn": arn, "headers": headers,
            "requestContext": {"identity": {"sourceIp": ip}}
        }))
        .unwrap()
    }

    fn answer_for(request: &AuthorizerRequest) -> (Answer, serde_json::Value) {
        let answer = decide(&rules(), request, &header_keys(), now());
        let rendered = match &answer {
            Answer::Unauthorized => json!("Unauthorized"),
            Answer::Deny { decision, .. } | Answer::Allow { decision, .. } => {
                render(decision, request, HttpApiResponseMode::Simple).unwrap()
            }
        };
        (answer, rendered)
    }

    #[test]
    fn allow_lists_exactly_the_grants_with_usage_key_and_context() {
        let (answer, rendered) =
            answer_for(&rest(json!({"x-api-key": ACME_KEY}), "203.0.113.9", ARN));
        assert!(matches!(
            answer,
            Answer::Allow {
                route_granted: true,
                ..
            }
        ));
        assert_eq!(
            rendered,
            json!({
                "principalId": "acme",
                "policyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Action": "execute-api:Invoke", "Effect": "Deny",
                    "Resource": [
                        "arn:aws:execute-api:eu-west-1:123456789012:api1/prod/*/./*",
                        "arn:aws:execute-api:eu-west-1:123456789012:api1/prod/*/.",
                        "arn:aws:execute-api:eu-west-1:123456789012:api1/prod/*/../*",
                        "arn:aws:execute-api:eu-west-1:123456789012:api1/prod/*/..",
                        "arn:aws:execute-api:eu-west-1:123456789012:api1/prod/*//*"
                    ]}, {
                    "Action": "execute-api:Invoke", "Effect": "Allow",
                    "Resource": [
                        "arn:aws:execute-api:eu-west-1:123456789012:api1/prod/GET/orders/?*",
                        "arn:aws:execute-api:eu-west-1:123456789012:api1/prod/POST/orders"
                    ]}]},
                "context": {"tenantId": "acme", "tier": "gold", "plan": "enterprise", "maxItems": 50, "beta": true},
                "usageIdentifierKey": "acme-usage-plan-key-000001"
            })
        );
    }

    #[test]
    fn route_outside_grants_keeps_the_cache_safe_policy() {
        let arn = "arn:aws:execute-api:eu-west-1:123456789012:api1/prod/DELETE/orders/7";
        let request = rest(json!({"x-api-key": ACME_KEY}), "203.0.113.9", arn);
        let (answer, rendered) = answer_for(&request);
        let Answer::Allow {
            decision,
            route_granted,
            ..
        } = answer
        else {
            panic!("{answer:?}")
        };
        assert!(!route_granted);
        assert!(!decision.policy.allows(&request.method_arn));
        assert_eq!(
            rendered["policyDocument"]["Statement"][1]["Resource"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn denies_are_whole_api_and_carry_no_tenant_data() {
        let deny_all = json!({"Version": "2012-10-17", "Statement": [{
            "Action": "execute-api:Invoke", "Effect": "Deny",
            "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:api1/prod/*/*"]}]});
        let (answer, rendered) =
            answer_for(&rest(json!({"x-api-key": "wrong"}), "203.0.113.9", ARN));
        assert!(matches!(
            answer,
            Answer::Deny {
                reason: DenyReason::UnknownKey,
                tenant: None,
                ..
            }
        ));
        assert_eq!(
            rendered,
            json!({"principalId": "anonymous", "policyDocument": deny_all})
        );

        let (answer, rendered) =
            answer_for(&rest(json!({"x-api-key": ACME_KEY}), "198.51.100.1", ARN));
        assert!(matches!(
            answer,
            Answer::Deny {
                reason: DenyReason::SourceIpNotAllowed,
                ..
            }
        ));
        assert_eq!(
            rendered,
            json!({"principalId": "acme", "policyDocument": deny_all})
        );

        let (answer, _) = answer_for(&rest(json!({}), "203.0.113.9", ARN));
        assert!(matches!(answer, Answer::Unauthorized));
    }
}
