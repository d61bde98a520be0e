//! Cedar decision time per caller for 1, 20 and 200 routes (every route evaluated and the
//! whole-API policy built), and the refresh cost of a 100-policy store (parse + validate).
//! Run: `cargo bench -p cedar-authorizer --bench decide`.

use std::hint::black_box;

use cedar_authorizer::bundle::{Bundle, PolicyText, Snapshot, parse};
use cedar_authorizer::decide::{RouteKinds, decide};
use cedar_authorizer::identity::{Identity, IdentityMapping};
use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::policy::MethodArn;
use serde_json::json;

const GROUPS: usize = 10;

/// `routes` routes (`get /r<i>/{id}`, alternating with `post /r<i>`) and `policies` policies,
/// each permitting one group a tenth of the routes; one forbid.
fn snapshot(routes: usize, policies: usize) -> String {
    let actions: Vec<String> = (0..routes)
        .map(|i| {
            if i % 2 == 0 {
                format!("\"get /r{i}/{{id}}\"")
            } else {
                format!("\"post /r{i}\"")
            }
        })
        .collect();
    let schema = format!(
        "namespace Api {{ entity UserGroup; entity User in [UserGroup]; entity Application;
           action {} appliesTo {{ principal: [User], resource: [Application] }}; }}",
        actions.join(", ")
    );
    let mut texts: Vec<PolicyText> = (0..policies)
        .map(|p| {
            let picked: Vec<String> = (0..routes)
                .filter(|i| (i + p) % 10 == 0)
                .map(|i| format!("Api::Action::{}", actions[i]))
                .collect();
            let action = if picked.is_empty() {
                "action".to_owned()
            } else {
                format!("action in [{}]", picked.join(", "))
            };
            PolicyText {
                id: format!("p{p:03}"),
                statement: format!(
                    "permit(principal in Api::UserGroup::\"g{}\", {action}, resource);",
                    p % GROUPS
                ),
            }
        })
        .collect();
    texts.push(PolicyText {
        id: "forbid".into(),
        statement: format!(
            "forbid(principal in Api::UserGroup::\"suspended\", action == Api::Action::{}, resource);",
            actions[0]
        ),
    });
    serde_json::to_string(&Snapshot {
        schema,
        policies: texts,
    })
    .unwrap()
}

fn caller() -> Identity {
    let claims = json!({"sub": "u-1", "cognito:groups": ["g1", "g3"]});
    Identity::from_claims(
        &IdentityMapping::default(),
        "Api",
        "https://idp.example.com",
        claims.as_object().unwrap(),
    )
    .unwrap()
    .unwrap()
}

fn benches(c: &mut Criterion) {
    let scope = MethodArn::parse("arn:aws:execute-api:eu-west-1:123456789012:api1/prod/GET/r0/1")
        .unwrap()
        .api();
    let identity = caller();
    for routes in [1, 20, 200] {
        let bundle: Bundle = parse(&snapshot(routes, 100)).unwrap();
        c.bench_function(&format!("decide_{routes}_routes_100_policies"), |b| {
            b.iter(|| {
                decide(
                    black_box(&bundle),
                    &identity,
                    scope.clone(),
                    RouteKinds::Http,
                )
                .unwrap()
            })
        });
    }
    let store = snapshot(20, 100);
    c.bench_function("refresh_parse_validate_100_policies", |b| {
        b.iter(|| parse(black_box(&store)).unwrap())
    });
}

criterion_group!(decide_benches, benches);
criterion_main!(decide_benches);
