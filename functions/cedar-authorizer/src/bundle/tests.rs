use super::*;

const SCHEMA: &str = include_str!("../../../../events/cedar-authorizer/schema.json");
const POLICIES: &str = include_str!("../../../../events/cedar-authorizer/policies.cedar");

fn snapshot(schema: &str, policies: &[(&str, &str)]) -> String {
    serde_json::to_string(&Snapshot {
        schema: schema.to_owned(),
        policies: policies
            .iter()
            .map(|(id, statement)| PolicyText {
                id: (*id).to_owned(),
                statement: (*statement).to_owned(),
            })
            .collect(),
    })
    .unwrap()
}

#[test]
fn the_sample_store_parses_with_its_routes() {
    let bundle = parse(&snapshot(SCHEMA, &[("policies.cedar", POLICIES)])).unwrap();
    assert_eq!(bundle.namespace, "PetStore");
    assert_eq!(
        bundle.application.to_string(),
        r#"PetStore::Application::"PetStore""#
    );
    let mut actions: Vec<&str> = bundle
        .routes
        .iter()
        .map(|(r, _)| r.action.as_str())
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "$connect",
            "delete /pets/{petId}",
            "get /admin/{proxy+}",
            "get /pets",
            "get /pets/{petId}",
            "get /pets/{petId}/owner",
            "post /pets"
        ]
    );
    let mut ids: Vec<String> = bundle
        .policies
        .policies()
        .map(|p| p.id().to_string())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "policies.cedar#0",
            "policies.cedar#1",
            "policies.cedar#2",
            "policies.cedar#3"
        ]
    );
    assert_eq!(bundle.reads_context, None);
}

#[test]
fn the_cedar_schema_text_format_is_read_too() {
    let schema = r#"namespace Api {
        entity UserGroup;
        entity User in [UserGroup];
        entity Application;
        action "get /x" appliesTo { principal: [User], resource: [Application] };
        action "viewPhoto" appliesTo { principal: [User], resource: [Application] };
    }"#;
    let bundle = parse(&snapshot(
        schema,
        &[(
            "p1",
            r#"permit(principal, action == Api::Action::"get /x", resource);"#,
        )],
    ))
    .unwrap();
    let routes: Vec<&str> = bundle
        .routes
        .iter()
        .map(|(r, _)| r.action.as_str())
        .collect();
    assert_eq!(routes, ["get /x"], "viewPhoto is not a route");
    assert_eq!(
        bundle.policies.policies().next().unwrap().id().to_string(),
        "p1"
    );
}

#[test]
fn errors_name_the_policy_at_fault() {
    let cases = [
        (
            (
                "p-typo",
                r#"permit(principal, action == PetStore::Action::"get /cats", resource);"#,
            ),
            "policy p-typo fails validation against the schema",
        ),
        (
            (
                "p-attr",
                r#"permit(principal, action, resource) when { principal.age > 3 };"#,
            ),
            "policy p-attr fails validation against the schema",
        ),
        (
            ("p-syntax", "permit(principal, action resource);"),
            "policy p-syntax does not parse",
        ),
        (
            (
                "p-template",
                "permit(principal == ?principal, action, resource);",
            ),
            "policy p-template: templates are not supported",
        ),
    ];
    for ((id, statement), expected) in cases {
        let error = parse(&snapshot(SCHEMA, &[("ok", POLICIES), (id, statement)])).unwrap_err();
        assert!(error.starts_with(expected), "{id}: {error}");
    }
}

#[test]
fn a_schema_without_an_application_is_refused() {
    let schema = r#"namespace Api { entity User; entity Photo;
        action "get /x" appliesTo { principal: [User], resource: [Photo] }; }"#;
    let error = parse(&snapshot(schema, &[])).unwrap_err();
    assert!(
        error.starts_with("schema declares no namespaced Application"),
        "{error}"
    );
    let error = parse("{not json").unwrap_err();
    assert!(error.starts_with("policy snapshot:"), "{error}");
}

#[test]
fn policies_reading_the_context_are_found() {
    let reading = r#"permit(principal, action, resource) when { context has pathParameters };"#;
    let text = snapshot(SCHEMA, &[("a-plain", POLICIES), ("b-context", reading)]);
    let error = parse(&text).unwrap_err();
    assert!(
        error.starts_with("policy b-context reads the request context"),
        "{error}"
    );
    let bundle = parse_per_request(&text).unwrap();
    assert_eq!(bundle.reads_context.as_deref(), Some("b-context"));
    let plain = parse_per_request(&snapshot(SCHEMA, &[("a-plain", POLICIES)])).unwrap();
    assert_eq!(plain.reads_context, None);
}
