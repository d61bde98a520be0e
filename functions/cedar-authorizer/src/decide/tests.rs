use serde_json::{Value, json};

use super::*;
use crate::bundle::{PolicyText, Snapshot, parse};
use crate::identity::IdentityMapping;
use portcullis::policy::MethodArn;

const SCHEMA: &str = include_str!("../../../../events/cedar-authorizer/schema.json");
const POLICIES: &str = include_str!("../../../../events/cedar-authorizer/policies.cedar");
const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE";
const PREFIX: &str = "arn:aws:execute-api:us-east-1:123456789012:api1/prod/";
const UNSAFE: [&str; 5] = ["*/./*", "*/.", "*/../*", "*/..", "*//*"];

fn snapshot(schema: &str, policies: &str) -> String {
    serde_json::to_string(&Snapshot {
        schema: schema.into(),
        policies: vec![PolicyText {
            id: "p".into(),
            statement: policies.into(),
        }],
    })
    .unwrap()
}

fn bundle(policies: &str) -> Bundle {
    parse(&snapshot(SCHEMA, policies)).unwrap()
}

fn caller(groups: &[&str]) -> Identity {
    let claims = json!({"sub": "u-1", "cognito:groups": groups});
    Identity::from_claims(
        &IdentityMapping::default(),
        "PetStore",
        ISSUER,
        claims.as_object().unwrap(),
    )
    .unwrap()
    .unwrap()
}

fn scope() -> ApiScope {
    MethodArn::parse(&format!("{PREFIX}GET/pets"))
        .unwrap()
        .api()
}

fn arns(resources: &[&str]) -> Vec<Value> {
    resources
        .iter()
        .map(|r| json!(format!("{PREFIX}{r}")))
        .collect()
}

fn statement(effect: &str, resources: &[&str]) -> Value {
    json!({"Action": "execute-api:Invoke", "Effect": effect, "Resource": arns(resources)})
}

fn outcome(groups: &[&str]) -> Outcome {
    decide(
        &bundle(POLICIES),
        &caller(groups),
        scope(),
        RouteKinds::Http,
    )
    .unwrap()
}

#[test]
fn readers_get_their_routes_and_a_deny_for_the_owner_route_their_wildcard_reaches() {
    let outcome = outcome(&["readers"]);
    assert_eq!(
        serde_json::to_value(&outcome.policy).unwrap(),
        json!({"Version": "2012-10-17", "Statement": [
            statement("Deny", &["GET/pets/?*/owner"]),
            statement("Deny", &UNSAFE),
            statement("Allow", &["GET/pets", "GET/pets/?*"]),
        ]})
    );
    assert_eq!(outcome.permitted, ["get /pets", "get /pets/{petId}"]);
    assert!(outcome.dropped.is_empty() && outcome.erred.is_empty());
}

#[test]
fn staff_need_no_deny_for_their_routes() {
    let outcome = outcome(&["staff"]);
    assert_eq!(
        serde_json::to_value(&outcome.policy).unwrap(),
        json!({"Version": "2012-10-17", "Statement": [
            statement("Deny", &UNSAFE),
            statement("Allow", &["DELETE/pets/?*", "GET/pets", "GET/pets/?*", "GET/pets/?*/owner", "POST/pets"]),
        ]})
    );
}

#[test]
fn forbid_overrides_every_permit() {
    let outcome = outcome(&["staff", "suspended"]);
    assert_eq!(
        serde_json::to_value(&outcome.policy).unwrap(),
        json!({"Version": "2012-10-17", "Statement": [statement("Deny", &["*/*"])]})
    );
    assert!(outcome.permitted.is_empty());
    let nobody = self::outcome(&[]);
    assert_eq!(nobody.policy, outcome.policy);
}

#[test]
fn a_permitted_route_a_needed_deny_would_reach_is_dropped_not_allowed() {
    // GET/a/?* (for /a/{x}) reaches the forbidden /a/{x}/b, whose Deny GET/a/?*/b would reach
    // the permitted /a/{x}/{y} (at /a/q/b): IAM cannot say all three, so the Allows reaching
    // the forbidden route are dropped; /c stays exact.
    let schema = r#"namespace Api {
        entity User; entity Application;
        action "get /a/{x}", "get /a/{x}/b", "get /a/{x}/{y}", "get /c"
            appliesTo { principal: [User], resource: [Application] };
    }"#;
    let policies = r#"
        permit(principal, action, resource);
        forbid(principal, action == Api::Action::"get /a/{x}/b", resource);
    "#;
    let bundle = parse(&snapshot(schema, policies)).unwrap();
    let claims = json!({"sub": "u-1"});
    let identity = Identity::from_claims(
        &IdentityMapping::default(),
        "Api",
        "https://idp.example.com",
        claims.as_object().unwrap(),
    )
    .unwrap()
    .unwrap();
    let outcome = decide(&bundle, &identity, scope(), RouteKinds::Http).unwrap();
    assert_eq!(
        outcome.permitted,
        ["get /a/{x}", "get /a/{x}/{y}", "get /c"]
    );
    assert_eq!(outcome.dropped, ["get /a/{x}", "get /a/{x}/{y}"]);
    assert_eq!(
        serde_json::to_value(&outcome.policy).unwrap(),
        json!({"Version": "2012-10-17", "Statement": [
            statement("Deny", &UNSAFE),
            statement("Allow", &["GET/c"]),
        ]})
    );
}

#[test]
fn an_erring_forbid_closes_the_route() {
    // The schema requires a department; this caller's token has none, so the forbid errs.
    // Cedar would skip it and permit; portcullis treats the route as forbidden.
    let schema = r#"namespace PetStore {
        entity UserGroup; entity User in [UserGroup] { department: String }; entity Application;
        action "get /pets", "post /pets" appliesTo { principal: [User], resource: [Application] };
    }"#;
    let policies = r#"
        permit(principal, action, resource);
        forbid(principal, action == PetStore::Action::"post /pets", resource)
        when { principal.department == "sales" };
    "#;
    let bundle = parse(&snapshot(schema, policies)).unwrap();
    let outcome = decide(&bundle, &caller(&[]), scope(), RouteKinds::Http).unwrap();
    assert_eq!(outcome.erred, ["post /pets"]);
    assert_eq!(outcome.permitted, ["get /pets"]);
    let post = MethodArn::parse(&format!("{PREFIX}POST/pets")).unwrap();
    assert!(!outcome.policy.allows(&post));
}

fn rest_request(verb: &str, path: &str, query: Value) -> portcullis::request::AuthorizerRequest {
    portcullis::request::AuthorizerRequest::from_value(&json!({
        "type": "REQUEST",
        "methodArn": format!("{PREFIX}{verb}/{path}"),
        "httpMethod": verb, "path": format!("/{path}"), "headers": {},
        "multiValueQueryStringParameters": query,
        "requestContext": {"accountId": "123456789012", "apiId": "api1", "stage": "prod"}
    }))
    .unwrap()
}

#[test]
fn policies_reading_path_and_query_values_are_decided_for_the_request_alone() {
    let policies = r#"
        permit(principal in PetStore::UserGroup::"us-east-1_EXAMPLE|readers",
               action == PetStore::Action::"get /pets/{petId}", resource)
        when { context.pathParameters.petId == "7" };
        permit(principal, action == PetStore::Action::"get /pets", resource)
        when { context.queryStringParameters has mine && context.queryStringParameters.mine == "yes" };
    "#;
    // Strict validation needs the context declared, as in an API-linked store's schema.
    let schema = r#"namespace PetStore {
        entity UserGroup; entity User in [UserGroup]; entity Application;
        action "get /pets/{petId}", "get /pets/{petId}/owner" appliesTo {
            principal: [User], resource: [Application],
            context: { pathParameters: { petId: String }, queryStringParameters: {} } };
        action "get /pets" appliesTo {
            principal: [User], resource: [Application],
            context: { pathParameters: {}, queryStringParameters: { mine?: String } } };
    }"#;
    let bundle = crate::bundle::parse_per_request(&snapshot(schema, policies)).unwrap();
    let reader = caller(&["readers"]);
    let decide = |verb: &str, path: &str, query: Value| {
        let request = rest_request(verb, path, query);
        decide_request(&bundle, &reader, &request.method_arn, &request.query).unwrap()
    };
    let deny_all = json!({"Version": "2012-10-17", "Statement": [statement("Deny", &["*/*"])]});

    let pet7 = decide("GET", "pets/7", json!({}));
    assert_eq!(
        serde_json::to_value(&pet7.policy).unwrap(),
        json!({"Version": "2012-10-17", "Statement": [
            statement("Deny", &UNSAFE),
            statement("Allow", &["GET/pets/7"]),
        ]})
    );
    assert_eq!(
        (pet7.route.as_deref(), pet7.reason),
        (Some("get /pets/{petId}"), "ok")
    );

    let pet8 = decide("GET", "pets/8", json!({}));
    assert_eq!(serde_json::to_value(&pet8.policy).unwrap(), deny_all);
    assert_eq!(pet8.reason, "not_permitted");

    let mine = decide("GET", "pets", json!({"mine": ["yes"]}));
    assert_eq!((mine.permitted, mine.reason), (true, "ok"));
    let theirs = decide("GET", "pets", json!({"mine": ["no"]}));
    assert_eq!(theirs.reason, "not_permitted");
    let both = decide("GET", "pets", json!({"mine": ["yes", "no"]}));
    assert_eq!((both.permitted, both.reason), (false, "ambiguous_query"));
    // The owner route is its own route: petId 7 there is not "get /pets/{petId}".
    let owner = decide("GET", "pets/7/owner", json!({}));
    assert_eq!(
        (owner.route.as_deref(), owner.reason),
        (Some("get /pets/{petId}/owner"), "not_permitted")
    );
    let nowhere = decide("GET", "cats", json!({}));
    assert_eq!((nowhere.route, nowhere.reason), (None, "no_route"));
    let star = decide("GET", "pets/*", json!({}));
    assert_eq!(star.reason, "not_permitted", "petId * is not 7");
}
