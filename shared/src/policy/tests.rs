use serde_json::json;

use super::*;

fn arn(s: &str) -> MethodArn {
    MethodArn::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn http(verb: &str, path: &str) -> ArnRoute {
    ArnRoute::Http {
        verb: verb.into(),
        path: path.into(),
    }
}

#[test]
fn parses_rest_method_arn() {
    let a = arn("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/pets/{proxy+}");
    assert_eq!(a.partition, "aws");
    assert_eq!(a.region, "eu-west-1");
    assert_eq!(a.account_id, "123456789012");
    assert_eq!(a.api_id, "abc123");
    assert_eq!(a.stage, "prod");
    assert_eq!(a.route, http("GET", "pets/{proxy+}"));
}

#[test]
fn parses_odd_paths_verbatim() {
    let cases = [
        ("GET/", ""),
        ("GET/a_b/c:d/e%2Ff/g-h/i.j/k~l", "a_b/c:d/e%2Ff/g-h/i.j/k~l"),
        (
            "POST/v1/orders/123/items/456/notes/789/x",
            "v1/orders/123/items/456/notes/789/x",
        ),
        (
            "DELETE/users/{id}/sessions/{proxy+}",
            "users/{id}/sessions/{proxy+}",
        ),
    ];
    for (route, path) in cases {
        let s = format!("arn:aws:execute-api:us-east-1:123456789012:api1/v1/{route}");
        let a = arn(&s);
        assert_eq!(a.route, http(route.split('/').next().unwrap(), path), "{s}");
        assert_eq!(a.to_string(), s, "round trip");
    }
}

#[test]
fn parses_websocket_and_http_default_routes() {
    let ws = arn("arn:aws:execute-api:us-east-1:123456789012:ws1/dev/$connect");
    assert_eq!(ws.route, ArnRoute::Named("$connect".into()));
    let def = arn("arn:aws-cn:execute-api:cn-north-1:123456789012:h1/$default/$default");
    assert_eq!(def.stage, "$default");
    assert_eq!(def.route, ArnRoute::Named("$default".into()));
}

#[test]
fn rejects_malformed_arns() {
    for bad in [
        "",
        "arn:aws:lambda:us-east-1:123456789012:function:x",
        "arn:aws:execute-api:us-east-1:12345:api/stage/GET/",
        "arn:aws:execute-api:us-east-1:123456789012:api",
        "arn:aws:execute-api:us-east-1:123456789012:api/stage",
        "arn:aws:execute-api:us-east-1:123456789012:api//GET/x",
        "arn:aws:execute-api:us-east-1:123456789012:api/stage//x",
        "arn:aws:execute-api:us-east-1:123456789012:api/stage/GET/a b",
        "arn:aws:execute-api::123456789012:api/stage/GET/",
        "arn:aws:execute-api:us-east-1:123456789012:a-b/stage/GET/",
    ] {
        assert!(MethodArn::parse(bad).is_err(), "{bad:?} must be rejected");
    }
}

#[test]
fn whole_api_allow_covers_every_route_of_the_stage_only() {
    let a = arn("arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/pets");
    let d = Decision::allow_all("cloudfront", &a, Context::new());
    assert_eq!(
        serde_json::to_value(&d.policy).unwrap(),
        json!({"Version": "2012-10-17", "Statement": [{
            "Action": "execute-api:Invoke", "Effect": "Allow",
            "Resource": ["arn:aws:execute-api:us-east-1:123456789012:api1/prod/*/*"]}]})
    );
    for other in [
        "arn:aws:execute-api:us-east-1:123456789012:api1/prod/POST/admin/users",
        "arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/",
    ] {
        assert!(d.policy.allows(&arn(other)), "{other}");
    }
    for other in [
        "arn:aws:execute-api:us-east-1:123456789012:api1/test/GET/pets",
        "arn:aws:execute-api:us-east-1:123456789012:api2/prod/GET/pets",
    ] {
        assert!(!d.policy.allows(&arn(other)), "{other}");
    }
}

#[test]
fn websocket_whole_api_has_no_verb_segment() {
    let a = arn("arn:aws:execute-api:us-east-1:123456789012:ws1/dev/$connect");
    let d = Decision::deny_all("anonymous", &a);
    assert_eq!(
        serde_json::to_value(&d.policy).unwrap(),
        json!({"Version": "2012-10-17", "Statement": [{
            "Action": "execute-api:Invoke", "Effect": "Deny",
            "Resource": ["arn:aws:execute-api:us-east-1:123456789012:ws1/dev/*"]}]})
    );
    assert!(!d.policy.allows(&a));
}

#[test]
fn builder_renders_grants_deny_first_and_deduplicated() {
    let a = arn("arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/orders/1");
    let policy = PolicyBuilder::new(a.api())
        .allow(RoutePattern::parse("GET /orders/*").unwrap())
        .allow(RoutePattern::parse("ANY /health").unwrap())
        .allow(RoutePattern::parse("GET /orders/*").unwrap())
        .deny(RoutePattern::parse("* /orders/admin/*").unwrap())
        .with_condition(
            Effect::Allow,
            RoutePattern::parse("POST /orders").unwrap(),
            json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}),
        )
        .unwrap()
        .build()
        .unwrap();
    let p = "arn:aws:execute-api:us-east-1:123456789012:api1/prod/";
    assert_eq!(
        serde_json::to_value(&policy).unwrap(),
        json!({"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [
                format!("{p}GET/orders/admin/?*"), format!("{p}POST/orders/admin/?*"),
                format!("{p}PUT/orders/admin/?*"), format!("{p}PATCH/orders/admin/?*"),
                format!("{p}DELETE/orders/admin/?*"), format!("{p}HEAD/orders/admin/?*"),
                format!("{p}OPTIONS/orders/admin/?*")]},
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [
                format!("{p}*/./*"), format!("{p}*/."), format!("{p}*/../*"), format!("{p}*/.."),
                format!("{p}*//*")]},
            {"Action": "execute-api:Invoke", "Effect": "Allow",
             "Resource": [format!("{p}GET/orders/?*"), format!("{p}GET/health"),
                format!("{p}POST/health"), format!("{p}PUT/health"), format!("{p}PATCH/health"),
                format!("{p}DELETE/health"), format!("{p}HEAD/health"),
                format!("{p}OPTIONS/health")]},
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [format!("{p}POST/orders")],
             "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}}
        ]})
    );
    let allows = |route: &str| policy.allows(&arn(&format!("{p}{route}")));
    assert!(allows("GET/orders/1"));
    assert!(allows("GET/orders/1/items/2"), "IAM * crosses segments");
    assert!(allows("DELETE/health"));
    assert!(
        !allows("GET/admin/health"),
        "the * verb is one method, not a run"
    );
    assert!(
        !allows("PURGE/health"),
        "the * verb is one of the seven methods"
    );
    assert!(!allows("GET/orders/admin/x"), "deny wins");
    assert!(
        !allows("POST/orders"),
        "conditional statements never allow locally"
    );
    assert!(!allows("GET/orders"), "orders/* needs a slash");
    assert!(
        !allows("GET/orders/"),
        "orders/* needs a character after the slash"
    );
    assert!(!allows("GET/orders/../admin/x"), "no dot segments");
}

#[test]
fn route_pattern_errors_are_typed() {
    for bad in [
        "GET",
        "get /x",
        "GET x",
        "GET /a b",
        "",
        "$",
        "GET /a?b",
        "GET /orders/?",
        "* /?*",
        "$conn?ct",
    ] {
        assert!(
            matches!(
                RoutePattern::parse(bad),
                Err(PolicyError::InvalidRoute { .. })
            ),
            "{bad:?}"
        );
    }
    assert_eq!(
        RoutePattern::parse("$connect").unwrap(),
        RoutePattern::Named("$connect".into())
    );
    assert_eq!(RoutePattern::parse(" * ").unwrap(), RoutePattern::Any);
}

#[test]
fn empty_policy_and_long_resources_are_refused() {
    let a = arn("arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/");
    assert_eq!(PolicyBuilder::new(a.api()).build(), Err(PolicyError::Empty));
    let long = format!("GET /{}", "a".repeat(MAX_RESOURCE_LEN));
    let err = PolicyBuilder::new(a.api())
        .allow(RoutePattern::parse(&long).unwrap())
        .build()
        .unwrap_err();
    let prefix = "arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/".len();
    assert_eq!(
        err,
        PolicyError::ResourceTooLong {
            len: prefix + MAX_RESOURCE_LEN
        }
    );
    let cond =
        PolicyBuilder::new(a.api()).with_condition(Effect::Allow, RoutePattern::Any, json!([1]));
    assert_eq!(cond.unwrap_err(), PolicyError::InvalidCondition);
}

#[test]
fn context_accepts_scalars_only() {
    let mut c = Context::new();
    c.try_insert_json("s", &json!("x")).unwrap();
    c.try_insert_json("n", &json!(1.5)).unwrap();
    c.try_insert_json("b", &json!(true)).unwrap();
    c.insert("i", 7i64).unwrap();
    for (k, v) in [
        ("a", json!([1])),
        ("o", json!({"k": 1})),
        ("z", json!(null)),
    ] {
        assert_eq!(
            c.try_insert_json(k, &v),
            Err(PolicyError::ContextNotScalar { key: k.into() })
        );
    }
    assert_eq!(c.insert("", "x"), Err(PolicyError::EmptyContextKey));
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        json!({"b": true, "i": 7, "n": 1.5, "s": "x"})
    );
}

#[test]
fn wildcard_matching_follows_iam() {
    assert!(wildcard_match("a*c", "abbbc"));
    assert!(wildcard_match("a*", "a/b/c"));
    assert!(wildcard_match("a?c", "abc"));
    assert!(!wildcard_match("a?c", "ac"));
    assert!(wildcard_match("*/*", "GET/"));
    assert!(!wildcard_match("*/*", "$connect"));
    assert!(wildcard_match("a**b", "ab"));
    assert!(!wildcard_match("abc", "abcd"));
    // A literal `*` in the ARN is still matched by a pattern wildcard (found by fuzzing).
    assert!(wildcard_match("*/*", "a/*b"));
    assert!(wildcard_match("p/*/*", "p/GET/files/*x"));
    assert!(!wildcard_match("*/x", "a/*b"));
}

const P: &str = "arn:aws:execute-api:us-east-1:123456789012:api1/prod/";

fn unsafe_deny() -> Value {
    json!({"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [
        "arn:aws:execute-api:us-east-1:123456789012:api1/prod/*/./*",
        "arn:aws:execute-api:us-east-1:123456789012:api1/prod/*/.",
        "arn:aws:execute-api:us-east-1:123456789012:api1/prod/*/../*",
        "arn:aws:execute-api:us-east-1:123456789012:api1/prod/*/..",
        "arn:aws:execute-api:us-east-1:123456789012:api1/prod/*//*"]})
}

fn policy_of(routes: &[&str]) -> PolicyDocument {
    routes
        .iter()
        .fold(
            PolicyBuilder::new(arn(&format!("{P}GET/")).api()),
            |b, r| b.allow(RoutePattern::parse(r).unwrap()),
        )
        .build()
        .unwrap()
}

#[test]
fn grants_policy_renders_one_or_more_and_denies_dot_and_empty_segments() {
    let policy = policy_of(&["GET /orders/*", "POST /orders", "ANY /reports/*/pdf"]);
    assert_eq!(
        serde_json::to_value(&policy).unwrap(),
        json!({"Version": "2012-10-17", "Statement": [
            unsafe_deny(),
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [
                "arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/orders/?*",
                "arn:aws:execute-api:us-east-1:123456789012:api1/prod/POST/orders",
                "arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/reports/?*/pdf",
                "arn:aws:execute-api:us-east-1:123456789012:api1/prod/POST/reports/?*/pdf",
                "arn:aws:execute-api:us-east-1:123456789012:api1/prod/PUT/reports/?*/pdf",
                "arn:aws:execute-api:us-east-1:123456789012:api1/prod/PATCH/reports/?*/pdf",
                "arn:aws:execute-api:us-east-1:123456789012:api1/prod/DELETE/reports/?*/pdf",
                "arn:aws:execute-api:us-east-1:123456789012:api1/prod/HEAD/reports/?*/pdf",
                "arn:aws:execute-api:us-east-1:123456789012:api1/prod/OPTIONS/reports/?*/pdf"]}
        ]})
    );
}

#[test]
fn no_segment_deny_without_path_patterns_or_with_the_whole_api() {
    let allow = |effect: &str, resources: &[&str]| {
        json!({"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resources}]})
    };
    assert_eq!(
        serde_json::to_value(policy_of(&["*", "GET /orders/*"])).unwrap(),
        allow(
            "Allow",
            &[
                "arn:aws:execute-api:us-east-1:123456789012:api1/prod/*/*",
                "arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/orders/?*"
            ]
        )
    );
    assert_eq!(
        serde_json::to_value(policy_of(&["$connect"])).unwrap(),
        allow(
            "Allow",
            &["arn:aws:execute-api:us-east-1:123456789012:api1/prod/$connect"]
        )
    );
    let deny_only = PolicyBuilder::new(arn(&format!("{P}GET/")).api())
        .deny_all()
        .build()
        .unwrap();
    assert_eq!(
        serde_json::to_value(deny_only).unwrap(),
        allow(
            "Deny",
            &["arn:aws:execute-api:us-east-1:123456789012:api1/prod/*/*"]
        )
    );
    // A conditional Allow of a path brings the segment Deny too.
    let conditional = PolicyBuilder::new(arn(&format!("{P}GET/")).api())
        .with_condition(
            Effect::Allow,
            RoutePattern::parse("GET /a/*").unwrap(),
            json!({"Bool": {"aws:SecureTransport": "true"}}),
        )
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        serde_json::to_value(conditional).unwrap(),
        json!({"Version": "2012-10-17", "Statement": [unsafe_deny(),
            {"Action": "execute-api:Invoke", "Effect": "Allow",
             "Resource": ["arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/a/?*"],
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]})
    );
}

#[test]
fn path_grants_cover_exactly_the_documented_paths() {
    let orders = policy_of(&["GET /orders/*"]);
    let whole = policy_of(&["*"]);
    let root = policy_of(&["GET /"]);
    let items = policy_of(&["* /orders/*/items"]);
    // (request path, GET /orders/*, *, GET /, * /orders/*/items)
    let cases = [
        ("/orders", false, true, false, false),
        ("/orders/", false, true, false, false),
        ("/orders/7", true, true, false, false),
        ("/orders/7/items", true, true, false, true),
        ("/orders/7/8/items", true, true, false, true),
        ("/orders/7/", true, true, false, false),
        ("/orders/../admin/x", false, true, false, false),
        ("/orders/./x", false, true, false, false),
        ("/orders//x", false, true, false, false),
        ("/orders//items", false, true, false, false),
        ("/orders/./items", false, true, false, false),
        ("/orders/..", false, true, false, false),
        ("/orders/.", false, true, false, false),
        ("/orders/7/..", false, true, false, false),
        ("//orders/7", false, true, false, false),
        ("/orders/.well-known", true, true, false, false),
        ("/orders/a..b", true, true, false, false),
        ("/orders/...", true, true, false, false),
        ("/orders/7.json", true, true, false, false),
        ("/", false, true, true, false),
        ("//", false, true, false, false),
        ("/x", false, true, false, false),
    ];
    for (path, by_orders, by_whole, by_root, by_items) in cases {
        let a = arn(&format!("{P}GET{path}"));
        assert_eq!(orders.allows(&a), by_orders, "GET /orders/* on {path}");
        assert_eq!(whole.allows(&a), by_whole, "* on {path}");
        assert_eq!(root.allows(&a), by_root, "GET / on {path}");
        assert_eq!(items.allows(&a), by_items, "* /orders/*/items on {path}");
    }
    assert!(!orders.allows(&arn(&format!("{P}POST/orders/7"))));
    assert!(items.allows(&arn(&format!("{P}DELETE/orders/7/items"))));
    assert!(!items.allows(&arn(&format!("{P}GET/v1/orders/7/items"))));
    assert!(!items.allows(&arn(&format!("{P}PURGE/orders/7/items"))));
}

/// Routes after `<api>/<stage>/` that each unsafe-path pattern must and must not match.
#[test]
fn each_unsafe_path_pattern_matches_only_its_segments() {
    let safe = [
        "GET/orders/7",
        "GET/orders.json",
        "GET/a..b",
        "GET/",
        "GET/orders/7/",
        "GET/.well-known/x",
        "GET/...",
        "GET/x.",
        "GET/a/.b/c",
    ];
    let cases: [(&str, &[&str], &[&str]); 5] = [
        (
            "*/./*",
            &["GET/./x", "GET/orders/./x", "DELETE/a/./"],
            &["GET/orders/.", "GET/../x"],
        ),
        (
            "*/.",
            &["GET/.", "GET/orders/."],
            &["GET/orders/..", "GET/./x"],
        ),
        (
            "*/../*",
            &["GET/../admin", "GET/orders/../admin/x", "PUT/a/../"],
            &["GET/orders/..", "GET/./x"],
        ),
        (
            "*/..",
            &["GET/..", "GET/orders/.."],
            &["GET/orders/.", "GET/../x"],
        ),
        (
            "*//*",
            &["GET//", "GET//orders", "GET/orders//x", "GET/orders/7//"],
            &["GET/./x"],
        ),
    ];
    assert_eq!(
        UNSAFE_PATH_PATTERNS.map(str::to_owned),
        cases.map(|c| c.0.to_owned())
    );
    for (pattern, must, must_not) in cases {
        for route in must {
            assert!(
                wildcard_match(pattern, route),
                "{pattern} must match {route}"
            );
        }
        for route in must_not.iter().chain(&safe) {
            assert!(
                !wildcard_match(pattern, route),
                "{pattern} must not match {route}"
            );
        }
    }
}

#[test]
fn question_marks_are_refused_in_routes() {
    assert_eq!(
        RoutePattern::parse("GET /orders/?"),
        Err(PolicyError::InvalidRoute {
            pattern: "GET /orders/?".into(),
            reason: "? is IAM's one-character wildcard and not allowed in a route"
        })
    );
    let built = PolicyBuilder::new(arn(&format!("{P}GET/")).api())
        .allow(RoutePattern::Http {
            verb: "GET".into(),
            path: "a?c".into(),
        })
        .build();
    assert_eq!(
        built,
        Err(PolicyError::InvalidRoute {
            pattern: "GET /a?c".into(),
            reason: "? is IAM's one-character wildcard and not allowed in a route"
        })
    );
}

mod language {
    //! `PolicyDocument::allows` against the route language written from its definition.

    use proptest::prelude::*;

    use super::*;

    /// `pattern` matches `text`, each `*` standing for one or more characters of any kind.
    fn one_or_more(pattern: &[u8], text: &[u8]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some((b'*', rest)) => (1..=text.len()).any(|n| one_or_more(rest, &text[n..])),
            Some((c, rest)) => text.first() == Some(c) && one_or_more(rest, &text[1..]),
        }
    }

    /// Whether the grant (`*` or `VERB /path`) covers a call of `verb` on `path` (with its `/`).
    fn covers(grant: &str, verb: &str, path: &str) -> bool {
        if grant == "*" {
            return true;
        }
        let (grant_verb, grant_path) = grant.split_once(' ').unwrap();
        let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
        let any_verb = grant_verb == "*" || grant_verb == "ANY";
        if !(grant_verb == verb || any_verb && methods.contains(&verb)) {
            return false;
        }
        let segments: Vec<&str> = path[1..].split('/').collect();
        let last = segments.len() - 1;
        let unsafe_segment = segments
            .iter()
            .enumerate()
            .any(|(i, s)| *s == "." || *s == ".." || (s.is_empty() && i != last));
        !unsafe_segment && one_or_more(grant_path.as_bytes(), path.as_bytes())
    }

    fn grant() -> impl Strategy<Value = String> {
        let verb = prop::sample::select(vec!["GET", "POST", "PURGE", "*", "ANY"]);
        let segment = prop::sample::select(vec![
            "orders", "7", "*", "a*", "*.b", "x*y", ".", "..", "", "items",
        ]);
        prop_oneof![
            1 => Just("*".to_owned()),
            10 => (verb, prop::collection::vec(segment, 0..4))
                .prop_map(|(v, s)| format!("{v} /{}", s.join("/"))),
        ]
    }

    fn call() -> impl Strategy<Value = (&'static str, String)> {
        let verb = prop::sample::select(vec!["GET", "POST", "DELETE", "PURGE"]);
        let segment = prop::sample::select(vec![
            "orders", "7", "items", "a", "xy", "a.b", ".b", ".", "..", "", "*", "x*y", "...",
        ]);
        (verb, prop::collection::vec(segment, 0..5))
            .prop_map(|(v, s)| (v, format!("/{}", s.join("/"))))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn allows_agrees_with_the_grant_language(
            grants in prop::collection::vec(grant(), 1..4),
            calls in prop::collection::vec(call(), 1..8),
        ) {
            let patterns: Vec<&str> = grants.iter().map(String::as_str).collect();
            let policy = policy_of(&patterns);
            for (verb, path) in &calls {
                let a = arn(&format!("{P}{verb}{path}"));
                let expected = grants.iter().any(|g| covers(g, verb, path));
                prop_assert_eq!(policy.allows(&a), expected, "{:?} on {} {}", grants, verb, path);
            }
        }

        /// The five patterns together match a route iff its path has a dot or empty segment.
        #[test]
        fn unsafe_path_patterns_match_exactly_dot_and_empty_segments(p in "[a./]{0,9}") {
            let path = format!("/{p}");
            let segments: Vec<&str> = p.split('/').collect();
            let last = segments.len() - 1;
            let expected = segments
                .iter()
                .enumerate()
                .any(|(i, s)| *s == "." || *s == ".." || (s.is_empty() && i != last));
            let hit = UNSAFE_PATH_PATTERNS.iter().any(|u| wildcard_match(u, &format!("GET{path}")));
            prop_assert_eq!(hit, expected, "{}", path);
        }
    }

    #[test]
    fn reference_examples() {
        assert!(covers("GET /orders/*", "GET", "/orders/7/"));
        assert!(!covers("GET /orders/*", "GET", "/orders/"));
        assert!(!covers("GET /orders/*", "GET", "/orders/../x"));
        assert!(covers("ANY /a", "PUT", "/a"));
        assert!(!covers("ANY /a", "PURGE", "/a"));
        assert!(covers("PURGE /a", "PURGE", "/a"));
        assert!(covers("*", "GET", "/a//b"));
        assert!(!covers("GET /a**", "GET", "/ab"));
        assert!(covers("GET /a**", "GET", "/abc"));
    }
}
