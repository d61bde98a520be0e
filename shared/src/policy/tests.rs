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
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [format!("{p}*/orders/admin/*")]},
            {"Action": "execute-api:Invoke", "Effect": "Allow",
             "Resource": [format!("{p}GET/orders/*"), format!("{p}*/health")]},
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [format!("{p}POST/orders")],
             "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}}
        ]})
    );
    let allows = |route: &str| policy.allows(&arn(&format!("{p}{route}")));
    assert!(allows("GET/orders/1"));
    assert!(allows("GET/orders/1/items/2"), "IAM * crosses segments");
    assert!(allows("DELETE/health"));
    assert!(!allows("GET/orders/admin/x"), "deny wins");
    assert!(
        !allows("POST/orders"),
        "conditional statements never allow locally"
    );
    assert!(!allows("GET/orders"), "orders/* needs a slash");
}

#[test]
fn route_pattern_errors_are_typed() {
    for bad in ["GET", "get /x", "GET x", "GET /a b", "", "$"] {
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
