//! methodArn / routeArn parsing and the policies built for it: raw strings and ARNs assembled
//! from fuzzer-chosen parts, with fuzzer-chosen route patterns.
//!
//! Asserts: no panic; a parsed ARN renders back to exactly the input and re-parses to the
//! same value; a whole-API Allow has every Resource ≤ 512 characters and allows its own ARN
//! (or falls back to the deny-everything policy); a whole-API Deny never allows it; a policy
//! built from route patterns either has every Resource ≤ 512 characters or fails with
//! `ResourceTooLong` for a resource that really is longer; a wildcard-free `VERB /path`
//! pattern allows the ARN of exactly that route, unless the path has a dot (`.`, `..`) or an
//! empty segment, which no path pattern covers (only the whole API `*`).

use arbitrary::{Arbitrary, Unstructured};
use portcullis::policy::{
    ArnRoute, Context, Decision, MAX_RESOURCE_LEN, MethodArn, PolicyBuilder, PolicyError,
    RoutePattern, deny_everything,
};

/// Whether the request path `/{path}` has a `.` or `..` segment or an empty one (`//`).
fn dot_or_empty_segment(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len() - 1;
    segments
        .iter()
        .enumerate()
        .any(|(i, s)| *s == "." || *s == ".." || (s.is_empty() && i != last))
}

#[derive(Debug, Arbitrary)]
enum Input {
    Raw(String, Vec<String>),
    Parts {
        partition: Option<String>,
        region: Option<String>,
        api: String,
        stage: String,
        route: String,
        patterns: Vec<String>,
    },
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(input) = Input::arbitrary(&mut u) else {
        return;
    };
    let (arn, patterns) = match input {
        Input::Raw(arn, patterns) => (arn, patterns),
        Input::Parts {
            partition,
            region,
            api,
            stage,
            route,
            patterns,
        } => (
            format!(
                "arn:{}:execute-api:{}:123456789012:{api}/{stage}/{route}",
                partition.as_deref().unwrap_or("aws"),
                region.as_deref().unwrap_or("eu-west-1")
            ),
            patterns,
        ),
    };
    check(&arn, &patterns);
}

/// The invariants for one ARN and a list of route patterns.
pub fn check(arn: &str, patterns: &[String]) {
    let Ok(parsed) = MethodArn::parse(arn) else {
        return;
    };
    crate::count_allow();
    assert_eq!(parsed.to_string(), arn, "ARN does not render back");
    assert_eq!(MethodArn::parse(&parsed.to_string()).as_ref(), Ok(&parsed));

    let allow = Decision::allow_all("p", &parsed, Context::new());
    for s in &allow.policy.statements {
        assert!(s.resources.iter().all(|r| r.len() <= MAX_RESOURCE_LEN));
    }
    assert!(
        allow.policy == deny_everything() || allow.policy.allows(&parsed),
        "whole-API Allow does not allow its own ARN {arn}: {:?}",
        allow.policy
    );
    let deny = Decision::deny_all("p", &parsed);
    assert!(!deny.policy.allows(&parsed), "whole-API Deny allows {arn}");

    let scope = parsed.api();
    let mut builder = PolicyBuilder::new(scope.clone());
    let mut routes = Vec::new();
    for p in patterns {
        if let Ok(route) = RoutePattern::parse(p) {
            builder = builder.allow(route.clone());
            routes.push(route);
        }
    }
    match builder.build() {
        Ok(policy) => {
            for s in &policy.statements {
                assert!(s.resources.iter().all(|r| r.len() <= MAX_RESOURCE_LEN));
            }
            for route in &routes {
                let RoutePattern::Http { verb, path } = route else {
                    continue;
                };
                if verb == "*" || path.contains(['*', '?']) {
                    continue;
                }
                let mut exact = parsed.clone();
                exact.route = ArnRoute::Http {
                    verb: verb.clone(),
                    path: path.clone(),
                };
                if matches!(parsed.route, ArnRoute::Http { .. })
                    && MethodArn::parse(&exact.to_string()).as_ref() == Ok(&exact)
                {
                    let whole_api = routes.contains(&RoutePattern::Any);
                    assert_eq!(
                        policy.allows(&exact),
                        whole_api || !dot_or_empty_segment(path),
                        "pattern {verb} /{path} on {exact}"
                    );
                }
            }
        }
        Err(PolicyError::ResourceTooLong { len }) => {
            assert!(len > MAX_RESOURCE_LEN);
            let mut lengths = routes
                .iter()
                .flat_map(|r| scope.resources(r))
                .chain(scope.unsafe_path_resources())
                .map(|r| r.len());
            assert!(
                lengths.any(|l| l == len),
                "ResourceTooLong({len}) for no resource of that length"
            );
        }
        Err(PolicyError::Empty) => assert!(routes.is_empty()),
        Err(other) => panic!("unexpected policy error {other:?}"),
    }
}
