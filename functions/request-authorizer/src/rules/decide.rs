//! From an [`Outcome`] to an API Gateway [`Decision`]: the whole-API policy listing exactly the
//! tenant's grants, its context and usage-plan key; or an explicit deny; or 401.

use std::time::SystemTime;

use super::eval::{DenyReason, KeyLocation, Outcome};
use super::grant::Grant;
use super::{RuleSet, Tenant};
use portcullis::policy::{Context, Decision, PolicyBuilder, PolicyDocument, RoutePattern};
use portcullis::request::AuthorizerRequest;

/// Principal id of a deny whose tenant is unknown.
pub const ANONYMOUS: &str = "anonymous";

/// What to answer, with what the log needs to say why.
#[derive(Debug, Clone)]
pub enum Answer {
    /// No API key: answer the `Unauthorized` error (401).
    Unauthorized,
    /// Explicit deny of the whole API (403).
    Deny {
        /// The deny-everything decision.
        decision: Decision,
        /// Tenant the key belongs to, when known.
        tenant: Option<String>,
        /// Why.
        reason: DenyReason,
    },
    /// The tenant's grants. API Gateway still refuses a route outside them (`route_granted`).
    Allow {
        /// The grants policy, context and usage-plan key.
        decision: Decision,
        /// Tenant id.
        tenant: String,
        /// Label of the key used.
        key_label: Option<String>,
        /// Whether this request's own route is among the grants.
        route_granted: bool,
    },
}

/// Evaluates `request` against `rules` at `now` and builds the answer.
pub fn decide(
    rules: &RuleSet,
    request: &AuthorizerRequest,
    keys: &KeyLocation,
    now: SystemTime,
) -> Answer {
    match rules.evaluate(request, keys, now) {
        Outcome::NoKey => Answer::Unauthorized,
        Outcome::Denied { tenant, reason } => deny(request, tenant.map(Tenant::id), reason),
        Outcome::Allowed { tenant, key_label } => match allow(tenant, request) {
            Ok(decision) => Answer::Allow {
                route_granted: decision.policy.allows(&request.method_arn),
                decision,
                tenant: tenant.id().to_owned(),
                key_label: key_label.map(str::to_owned),
            },
            Err(reason) => deny(request, Some(tenant.id()), reason),
        },
    }
}

fn deny(request: &AuthorizerRequest, tenant: Option<&str>, reason: DenyReason) -> Answer {
    Answer::Deny {
        decision: Decision::deny_all(tenant.unwrap_or(ANONYMOUS), &request.method_arn),
        tenant: tenant.map(str::to_owned),
        reason,
    }
}

/// The policy listing exactly `tenant`'s grants for the API stage of `request`.
pub fn grants_policy(
    tenant: &Tenant,
    request: &AuthorizerRequest,
) -> Result<PolicyDocument, DenyReason> {
    tenant
        .grants()
        .iter()
        .fold(PolicyBuilder::new(request.method_arn.api()), |b, g| {
            b.allow(route_pattern(g))
        })
        .build()
        .map_err(|e| DenyReason::Policy(e.to_string()))
}

fn allow(tenant: &Tenant, request: &AuthorizerRequest) -> Result<Decision, DenyReason> {
    let policy = grants_policy(tenant, request)?;
    let mut context = Context::new();
    for (key, value) in tenant.context() {
        context
            .try_insert_json(key.as_str(), value)
            .map_err(|e| DenyReason::Policy(e.to_string()))?;
    }
    Ok(Decision {
        principal_id: tenant.id().to_owned(),
        policy,
        context,
        usage_identifier_key: tenant.usage_identifier_key().map(str::to_owned),
    })
}

fn route_pattern(grant: &Grant) -> RoutePattern {
    match grant {
        Grant::Any => RoutePattern::Any,
        Grant::Http { verb, path } => RoutePattern::Http {
            verb: verb.clone(),
            path: path.strip_prefix('/').unwrap_or(path).to_owned(),
        },
        Grant::Named(key) => RoutePattern::Named(key.clone()),
    }
}
