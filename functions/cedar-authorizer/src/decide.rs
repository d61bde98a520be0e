//! Every route decided at once, for one caller: the whole-API policy API Gateway may cache.
//!
//! Each route of the [`Bundle`] is one Cedar request (principal, the route's action, the
//! application, an empty context) evaluated in-process. The answer allows exactly the permitted
//! routes: an Allow of each permitted route's pattern, and a Deny of each forbidden route that a
//! permitted pattern would otherwise reach (`GET /pets/*` reaches `/pets/7/owner`). When such a
//! Deny would in turn reach a permitted route, IAM cannot say both; the Allows that reach the
//! forbidden route are dropped instead (a 403 for a permitted route, never an Allow for a
//! forbidden one) and [`Outcome::dropped`] names them.
//!
//! A route whose evaluation errors (a policy reading an attribute the caller lacks) is not
//! permitted, even when only a `forbid` erred: stricter than Cedar's rule of skipping erring
//! policies, so a broken `forbid` never opens a route.

use std::collections::{HashMap, HashSet};

use cedar_policy::{
    ActionConstraint, Authorizer, Context, Decision as CedarDecision, Entities, EntityUid, Policy,
    PolicySet, PrincipalConstraint, Request, RestrictedExpression,
};
use portcullis::policy::{
    ApiScope, ArnRoute, MethodArn, PolicyBuilder, PolicyDocument, PolicyError, RoutePattern,
};
use portcullis::request::Params;

use crate::bundle::Bundle;
use crate::identity::Identity;
use crate::routes::{Route, overlaps};

/// Which routes a request of this kind can name in its ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKinds {
    /// REST and HTTP APIs: `VERB /path` routes and `$default`.
    Http,
    /// WebSocket APIs: route keys (`$connect`).
    WebSocket,
}

impl RouteKinds {
    fn admits(self, route: &Route) -> bool {
        match self {
            Self::Http => !route.is_named() || route.verb() == "$default",
            Self::WebSocket => route.is_named(),
        }
    }
}

/// What one caller may do, and the policy that says it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The whole-API policy.
    pub policy: PolicyDocument,
    /// Action ids Cedar permits (before any drop).
    pub permitted: Vec<String>,
    /// Permitted action ids left out of the policy because IAM could not allow them without
    /// allowing a forbidden route.
    pub dropped: Vec<String>,
    /// Action ids whose evaluation erred (treated as forbidden).
    pub erred: Vec<String>,
}

/// Evaluates every route of `bundle` for `identity` and builds the policy for `scope`.
pub fn decide(
    bundle: &Bundle,
    identity: &Identity,
    scope: ApiScope,
    kinds: RouteKinds,
) -> Result<Outcome, DecideError> {
    let entities = identity.entities()?;
    let policies = CallerPolicies::new(bundle, identity);
    let authorizer = Authorizer::new();
    let mut routes = Vec::new();
    let mut erred = Vec::new();
    for (route, action) in bundle.routes.iter().filter(|(r, _)| kinds.admits(r)) {
        let permitted = match evaluate(
            &authorizer,
            bundle,
            &policies.for_route(action)?,
            &entities,
            identity.principal(),
            action,
        )? {
            Evaluation::Permit => true,
            Evaluation::Deny => false,
            Evaluation::Error => {
                erred.push(route.action.clone());
                false
            }
        };
        routes.push((route, permitted));
    }
    let permitted = names(routes.iter().filter(|(_, p)| *p).map(|(r, _)| *r));
    let (allowed, denied) = grants(&routes);
    let dropped = names(
        routes
            .iter()
            .filter(|(r, p)| *p && !allowed.contains(r))
            .map(|(r, _)| *r),
    );
    let mut builder = PolicyBuilder::new(scope);
    if allowed.is_empty() {
        builder = builder.deny_all();
    }
    for route in &denied {
        builder = builder.deny(route.pattern.clone());
    }
    for route in &allowed {
        builder = builder.allow(route.pattern.clone());
    }
    Ok(Outcome {
        policy: builder.build()?,
        permitted,
        dropped,
        erred,
    })
}

/// The policies whose scope can hold for this caller, indexed by route action, so each route is
/// evaluated against the few that can apply to it. A policy whose scope does not hold is never
/// satisfied and never errs (Cedar evaluates the scope first), so leaving it out changes nothing:
/// - the request's entities are the principal and its groups, nothing deeper (identity.rs): a
///   policy scoped to another user or group never holds for this caller;
/// - actions have no ancestors among those entities: a policy naming only route actions holds
///   only for the routes it names. One naming anything else (an action group) or no action at
///   all is kept for every route.
struct CallerPolicies {
    policies: Vec<Policy>,
    by_action: HashMap<EntityUid, Vec<usize>>,
    every_route: Vec<usize>,
}

impl CallerPolicies {
    fn new(bundle: &Bundle, identity: &Identity) -> Self {
        let principal = identity.principal();
        let within = |uid: &EntityUid| uid == principal || identity.groups().contains(uid);
        let route_actions: HashSet<&EntityUid> = bundle.routes.iter().map(|(_, a)| a).collect();
        let mut index = Self {
            policies: Vec::new(),
            by_action: HashMap::new(),
            every_route: Vec::new(),
        };
        for policy in bundle.policies.policies() {
            let holds = match policy.principal_constraint() {
                PrincipalConstraint::Eq(uid) => &uid == principal,
                PrincipalConstraint::In(uid) | PrincipalConstraint::IsIn(_, uid) => within(&uid),
                PrincipalConstraint::Any | PrincipalConstraint::Is(_) => true,
            };
            if !holds {
                continue;
            }
            let i = index.policies.len();
            index.policies.push(policy.clone());
            let named = match policy.action_constraint() {
                ActionConstraint::Eq(uid) => vec![uid],
                ActionConstraint::In(uids) if uids.iter().all(|u| route_actions.contains(u)) => {
                    uids
                }
                ActionConstraint::In(_) | ActionConstraint::Any => {
                    index.every_route.push(i);
                    continue;
                }
            };
            for uid in named {
                index.by_action.entry(uid).or_default().push(i);
            }
        }
        index
    }

    fn for_route(&self, action: &EntityUid) -> Result<PolicySet, DecideError> {
        let mut picked = self.every_route.clone();
        picked.extend(self.by_action.get(action).into_iter().flatten());
        picked.sort_unstable();
        picked.dedup();
        PolicySet::from_policies(picked.into_iter().map(|i| self.policies[i].clone()))
            .map_err(|e| DecideError::Request(e.to_string()))
    }
}

enum Evaluation {
    Permit,
    Deny,
    Error,
}

fn evaluate(
    authorizer: &Authorizer,
    bundle: &Bundle,
    policies: &PolicySet,
    entities: &Entities,
    principal: &EntityUid,
    action: &EntityUid,
) -> Result<Evaluation, DecideError> {
    let request = Request::new(
        principal.clone(),
        action.clone(),
        bundle.application.clone(),
        Context::empty(),
        None,
    )
    .map_err(|e| DecideError::Request(e.to_string()))?;
    Ok(verdict(
        authorizer.is_authorized(&request, policies, entities),
    ))
}

fn verdict(response: cedar_policy::Response) -> Evaluation {
    if response.diagnostics().errors().next().is_some() {
        Evaluation::Error
    } else if response.decision() == CedarDecision::Allow {
        Evaluation::Permit
    } else {
        Evaluation::Deny
    }
}

/// What one request may do, when the policies read its path or query values.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestOutcome {
    /// An Allow of exactly this request's ARN, or a Deny of the whole API.
    pub policy: PolicyDocument,
    /// The route the request was matched to (`None`: no route of the schema).
    pub route: Option<String>,
    /// Whether Cedar permitted it.
    pub permitted: bool,
    /// Why not, when it is not permitted: `no_route`, `ambiguous_query`, `evaluation_error`,
    /// `wildcard_in_path`, `not_permitted`.
    pub reason: &'static str,
}

/// Decides one request alone (`CEDAR_CONTEXT_POLICIES=per-request`): its route is found as API
/// Gateway routes (the most specific template), and Cedar's context holds the route's
/// `pathParameters` and the request's `queryStringParameters`. The answer allows exactly this
/// request's ARN, so it must not be cached for the token alone: the result cache is off (TTL 0)
/// or the identity sources carry the values the policies read.
pub fn decide_request(
    bundle: &Bundle,
    identity: &Identity,
    arn: &MethodArn,
    query: &Params,
) -> Result<RequestOutcome, DecideError> {
    let deny = |route: Option<String>, reason| -> Result<RequestOutcome, DecideError> {
        Ok(RequestOutcome {
            policy: PolicyBuilder::new(arn.api()).deny_all().build()?,
            route,
            permitted: false,
            reason,
        })
    };
    let matched = match &arn.route {
        ArnRoute::Named(key) => bundle
            .routes
            .iter()
            .find(|(r, _)| r.is_named() && r.verb() == key)
            .map(|found| (found, Vec::new())),
        ArnRoute::Http { verb, path } => bundle
            .routes
            .iter()
            .filter_map(|found| {
                found
                    .0
                    .route(verb, path)
                    .map(|(rank, params)| (rank, found, params))
            })
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, found, params)| (found, params)),
    };
    let Some(((route, action), path_parameters)) = matched else {
        return deny(None, "no_route");
    };
    let name = Some(route.action.clone());
    let mut query_parameters = Vec::new();
    for key in query.names() {
        match query.get(key) {
            Ok(Some(value)) => query_parameters.push((key.to_owned(), value.to_owned())),
            Ok(None) => {}
            Err(_) => return deny(name, "ambiguous_query"),
        }
    }
    let record = |pairs: Vec<(String, String)>| {
        RestrictedExpression::new_record(
            pairs
                .into_iter()
                .map(|(k, v)| (k, RestrictedExpression::new_string(v))),
        )
        .map_err(|e| DecideError::Request(e.to_string()))
    };
    let context = Context::from_pairs([
        ("pathParameters".to_owned(), record(path_parameters)?),
        (
            "queryStringParameters".to_owned(),
            record(query_parameters)?,
        ),
    ])
    .map_err(|e| DecideError::Request(e.to_string()))?;
    let request = Request::new(
        identity.principal().clone(),
        action.clone(),
        bundle.application.clone(),
        context,
        None,
    )
    .map_err(|e| DecideError::Request(e.to_string()))?;
    let entities = identity.entities()?;
    match verdict(Authorizer::new().is_authorized(&request, &bundle.policies, &entities)) {
        Evaluation::Permit => {}
        Evaluation::Deny => return deny(name, "not_permitted"),
        Evaluation::Error => return deny(name, "evaluation_error"),
    }
    let exact = match &arn.route {
        ArnRoute::Named(key) => RoutePattern::Named(key.clone()),
        // A `*` or `?` in the concrete path would be a wildcard in the policy.
        ArnRoute::Http { path, .. } if path.contains(['*', '?']) => {
            return deny(name, "wildcard_in_path");
        }
        ArnRoute::Http { verb, path } => RoutePattern::Http {
            verb: verb.clone(),
            path: path.clone(),
        },
    };
    Ok(RequestOutcome {
        policy: PolicyBuilder::new(arn.api()).allow(exact).build()?,
        route: name,
        permitted: true,
        reason: "ok",
    })
}

/// The routes to Allow and to Deny so that the policy allows exactly the allowed routes.
fn grants<'a>(routes: &[(&'a Route, bool)]) -> (Vec<&'a Route>, Vec<&'a Route>) {
    let permitted: Vec<&Route> = routes.iter().filter(|(_, p)| *p).map(|(r, _)| *r).collect();
    let forbidden: Vec<&Route> = routes
        .iter()
        .filter(|(_, p)| !*p)
        .map(|(r, _)| *r)
        .collect();
    // For each forbidden route: which permitted grants reach it, and which permitted routes its
    // own Deny would reach. Computed once; each round below only drops Allows.
    let reached_by: Vec<Vec<bool>> = forbidden
        .iter()
        .map(|t| permitted.iter().map(|g| overlaps(g, t)).collect())
        .collect();
    let reaches: Vec<Vec<bool>> = forbidden
        .iter()
        .map(|t| permitted.iter().map(|k| overlaps(t, k)).collect())
        .collect();
    let mut kept = vec![true; permitted.len()];
    loop {
        let mut denied = Vec::new();
        let mut unsafe_allows = vec![false; permitted.len()];
        for (f, &target) in forbidden.iter().enumerate() {
            let reaching = (0..permitted.len()).filter(|&a| kept[a] && reached_by[f][a]);
            if reaching.clone().next().is_none() {
                continue;
            }
            if (0..permitted.len()).any(|a| kept[a] && reaches[f][a]) {
                reaching.for_each(|a| unsafe_allows[a] = true);
            } else {
                denied.push(target);
            }
        }
        if !unsafe_allows.contains(&true) {
            let allowed = permitted.iter().zip(&kept).filter(|(_, k)| **k);
            return (allowed.map(|(r, _)| *r).collect(), denied);
        }
        kept.iter_mut()
            .zip(&unsafe_allows)
            .for_each(|(k, u)| *k &= !*u);
    }
}

fn names<'a>(routes: impl Iterator<Item = &'a Route>) -> Vec<String> {
    routes.map(|r| r.action.clone()).collect()
}

/// Why a decision could not be made (a function error, never a cached answer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    /// The caller's entities could not be built.
    #[error("caller entities: {0}")]
    Entities(String),
    /// Cedar refused the request.
    #[error("cedar request: {0}")]
    Request(String),
    /// The policy document could not be built.
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
}

#[cfg(test)]
mod tests;
