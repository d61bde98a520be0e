//! The whole-API policy against Cedar itself: for random routes, groups, policies and callers,
//! the policy allows a route's request exactly when `cedar-policy`'s `is_authorized` permits
//! that single request — except routes the decision reports as dropped (denied to keep a
//! forbidden neighbour closed): Cedar permits those, and a path of theirs may be allowed only
//! when every route that path could be routed to is permitted.

use cedar_authorizer::bundle::{Bundle, PolicyText, Snapshot, entity, parse};
use cedar_authorizer::decide::{RouteKinds, decide};
use cedar_authorizer::identity::{Identity, IdentityMapping};
use cedar_policy::{Authorizer, Context, Decision, Request};
use portcullis::policy::MethodArn;
use proptest::prelude::*;
use serde_json::json;

const PREFIX: &str = "arn:aws:execute-api:eu-west-1:123456789012:api1/prod/";
const GROUPS: [&str; 3] = ["g0", "g1", "g2"];
const USERS: [&str; 2] = ["u0", "u1"];

/// A route: verb and path segments from a small alphabet, so that overlaps are common.
fn route() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("{p}".to_owned()),
    ];
    let last = prop_oneof![4 => segment.clone(), 1 => Just("{rest+}".to_owned())];
    (
        prop_oneof![Just("get"), Just("post")],
        prop::collection::vec(segment, 0..3),
        last,
    )
        .prop_map(|(verb, mut segments, last)| {
            segments.push(last);
            format!("{verb} /{}", segments.join("/"))
        })
}

#[derive(Debug, Clone)]
struct Rule {
    forbid: bool,
    principal: Option<(bool, usize)>,
    actions: Option<Vec<usize>>,
}

fn rule(routes: usize) -> impl Strategy<Value = Rule> {
    (
        prop::bool::weighted(0.3),
        prop::option::of((any::<bool>(), 0..3usize)),
        prop::option::weighted(0.8, prop::collection::vec(0..routes, 1..4)),
    )
        .prop_map(|(forbid, principal, actions)| Rule {
            forbid,
            principal,
            actions,
        })
}

fn statement(rule: &Rule, routes: &[String]) -> String {
    let principal = match rule.principal {
        None => "principal".to_owned(),
        Some((true, g)) => format!(r#"principal in Api::UserGroup::"{}""#, GROUPS[g]),
        Some((false, u)) => format!(r#"principal == Api::User::"{}""#, USERS[u % 2]),
    };
    let action = match &rule.actions {
        None => "action".to_owned(),
        Some(picks) => {
            let names: Vec<String> = picks
                .iter()
                .map(|&i| format!(r#"Api::Action::"{}""#, routes[i]))
                .collect();
            format!("action in [{}]", names.join(", "))
        }
    };
    let effect = if rule.forbid { "forbid" } else { "permit" };
    format!("{effect}({principal}, {action}, resource);")
}

/// Whether `action` (`"get /b/{p}/{rest+}"`) takes a request of `verb` on `path` (no leading
/// `/`): `{name}` one segment, a final `{name+}` one or more. Written here, apart from the
/// crate's router.
fn route_takes(action: &str, verb: &str, path: &str) -> bool {
    let (route_verb, template) = action.split_once(" /").unwrap();
    if !route_verb.eq_ignore_ascii_case(verb) {
        return false;
    }
    let wanted: Vec<&str> = template.split('/').collect();
    let given: Vec<&str> = path.split('/').collect();
    for (i, w) in wanted.iter().enumerate() {
        if w.ends_with("+}") {
            return given.len() > i;
        }
        match given.get(i) {
            Some(g) if w.starts_with('{') || w == g => {}
            _ => return false,
        }
    }
    wanted.len() == given.len()
}

fn bundle(routes: &[String], rules: &[Rule]) -> Bundle {
    let actions: Vec<String> = routes.iter().map(|r| format!("{r:?}")).collect();
    let schema = format!(
        "namespace Api {{ entity UserGroup; entity User in [UserGroup]; entity Application;
           action {} appliesTo {{ principal: [User], resource: [Application] }}; }}",
        actions.join(", ")
    );
    let policies = rules
        .iter()
        .enumerate()
        .map(|(i, r)| PolicyText {
            id: format!("p{i}"),
            statement: statement(r, routes),
        })
        .collect();
    parse(&serde_json::to_string(&Snapshot { schema, policies }).unwrap()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_whole_api_policy_agrees_with_cedar_route_by_route(
        (routes, rules) in prop::collection::btree_set(route(), 1..8).prop_flat_map(|routes| {
            let n = routes.len();
            (Just(routes.into_iter().collect::<Vec<_>>()), prop::collection::vec(rule(n), 0..6))
        }),
        user in 0..2usize,
        groups in prop::collection::btree_set(0..3usize, 0..3),
    ) {
        let bundle = bundle(&routes, &rules);
        let claims = json!({"sub": USERS[user], "cognito:groups":
            groups.iter().map(|&g| GROUPS[g]).collect::<Vec<_>>()});
        let identity = Identity::from_claims(
            &IdentityMapping::default(), "Api", "https://idp.example.com",
            claims.as_object().unwrap(),
        ).unwrap().unwrap();
        let scope = MethodArn::parse(&format!("{PREFIX}GET/")).unwrap().api();
        let outcome = decide(&bundle, &identity, scope, RouteKinds::Http).unwrap();

        let entities = identity.entities().unwrap();
        let permitted: Vec<(String, bool)> = bundle.routes.iter().map(|(route, action)| {
            let request = Request::new(
                identity.principal().clone(), action.clone(),
                entity("Api::Application", "Api").unwrap(), Context::empty(), None,
            ).unwrap();
            let cedar = Authorizer::new()
                .is_authorized(&request, &bundle.policies, &entities)
                .decision() == Decision::Allow;
            (route.action.clone(), cedar)
        }).collect();
        for ((route, _), (_, cedar)) in bundle.routes.iter().zip(&permitted) {
            let cedar = *cedar;
            for value in ["v", "v/w"] {
                let path = route.instance(value);
                if value.contains('/') && !route.action.contains("+}") {
                    continue;
                }
                let arn = MethodArn::parse(&format!("{PREFIX}{}/{path}", route.verb().to_uppercase())).unwrap();
                let allowed = outcome.policy.allows(&arn);
                if outcome.dropped.contains(&route.action) {
                    prop_assert!(cedar, "{} dropped, but Cedar forbids it", route.action);
                    for (other, other_permitted) in &permitted {
                        prop_assert!(
                            !allowed || *other_permitted || !route_takes(other, route.verb(), &path),
                            "/{} allowed, and {} (forbidden) takes it", path, other
                        );
                    }
                } else {
                    prop_assert_eq!(allowed, cedar, "{} at /{} with {:?}", route.action, path, rules);
                }
            }
        }
    }
}
