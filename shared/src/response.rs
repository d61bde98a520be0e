//! Renders a [`Decision`] in the response format of the event that arrived.
//!
//! REST TOKEN/REQUEST, HTTP API payload 1.0 and WebSocket answer with an IAM policy
//! (`principalId`, `policyDocument`, `context`, `usageIdentifierKey`); HTTP API payload 2.0
//! answers with the simple response (`isAuthorized`, `context`) or, when the authorizer is not
//! configured for simple responses, with the IAM policy. Empty `context` and absent
//! `usageIdentifierKey` are left out rather than sent as `null`.

use std::str::FromStr;

use serde_json::{Map, Value, json};

use crate::policy::{ArnRoute, Decision, MethodArn};
use crate::request::{AuthorizerRequest, PayloadKind};

/// The exact error message API Gateway turns into `401 Unauthorized`.
pub const UNAUTHORIZED: &str = "Unauthorized";

/// How an HTTP API (payload 2.0) authorizer is configured to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpApiResponseMode {
    /// `EnableSimpleResponses: true` — `{"isAuthorized": …}`.
    #[default]
    Simple,
    /// IAM policy response.
    Iam,
}

impl FromStr for HttpApiResponseMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "simple" => Ok(Self::Simple),
            "iam" => Ok(Self::Iam),
            _ => Err("expected simple or iam".into()),
        }
    }
}

/// A simple response was asked for a decision that depends on the route, but API Gateway's
/// cache key (the event's `identitySource`) does not carry the route: the answer would be
/// reused for every route. Answered as a function error (500), which API Gateway never caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "an HTTP API simple response cannot carry a route-dependent decision unless the route is in the cache key: add $context.routeKey to the authorizer's identity sources, or set HTTP_API_RESPONSE_MODE=iam"
)]
pub struct RouteNotInCacheKey;

/// The response JSON for `decision`, in the format `request` calls for.
///
/// REST, HTTP payload 1.0, WebSocket and HTTP 2.0 in IAM mode answer with the whole-API policy,
/// which is right for every route it is cached for. An HTTP 2.0 simple response answers one
/// route only, yet API Gateway reuses it for every request with the same identity source
/// values. So when the policy depends on the route, the event's `identitySource` must carry
/// its `routeKey` (`$context.routeKey` among the identity sources), and `isAuthorized` is then
/// the policy evaluated on the route template itself: true only when the policy covers every
/// path the template can match. Otherwise [`RouteNotInCacheKey`].
pub fn render(
    decision: &Decision,
    request: &AuthorizerRequest,
    mode: HttpApiResponseMode,
) -> Result<Value, RouteNotInCacheKey> {
    if request.kind == PayloadKind::HttpV2 && mode == HttpApiResponseMode::Simple {
        let authorized = if decision.policy.is_route_independent() {
            decision.policy.allows(&request.method_arn)
        } else {
            let template = route_template(request).ok_or(RouteNotInCacheKey)?;
            decision.policy.allows(&template)
        };
        let mut out = Map::new();
        out.insert("isAuthorized".into(), json!(authorized));
        if !decision.context.is_empty() {
            out.insert("context".into(), json!(decision.context));
        }
        return Ok(Value::Object(out));
    }
    let mut out = Map::new();
    out.insert("principalId".into(), json!(decision.principal_id));
    out.insert("policyDocument".into(), json!(decision.policy));
    if !decision.context.is_empty() {
        out.insert("context".into(), json!(decision.context));
    }
    if let Some(key) = &decision.usage_identifier_key {
        out.insert("usageIdentifierKey".into(), json!(key));
    }
    Ok(Value::Object(out))
}

/// The request's ARN with its route replaced by the route template of its `routeKey`
/// (`GET /orders/{id}` → `GET/orders/{id}`, `ANY /x` → `ANY/x`, `$default`), when the
/// event's `identitySource` carries that route key; `None` otherwise.
fn route_template(request: &AuthorizerRequest) -> Option<MethodArn> {
    let key = request.route_key.as_deref()?;
    if !request.identity_source.iter().any(|v| v == key) {
        return None;
    }
    let route = match key.split_once(' ') {
        Some((verb, path)) => ArnRoute::Http {
            verb: verb.to_owned(),
            path: path.strip_prefix('/').unwrap_or(path).to_owned(),
        },
        None => ArnRoute::Named(key.to_owned()),
    };
    Some(MethodArn {
        route,
        ..request.method_arn.clone()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::policy::{Context, PolicyBuilder, RoutePattern};

    fn request(event: Value) -> AuthorizerRequest {
        AuthorizerRequest::from_value(&event).unwrap()
    }

    fn rest() -> AuthorizerRequest {
        request(json!({"type": "TOKEN", "authorizationToken": "t",
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/orders/7"}))
    }

    fn v2(path: &str) -> AuthorizerRequest {
        v2_keyed(path, "ANY /{proxy+}", &[])
    }

    /// An HTTP API 2.0 event for `path` (`GET/orders/7`), matched by route `route_key`, with
    /// the identity source values `identity`.
    fn v2_keyed(path: &str, route_key: &str, identity: &[&str]) -> AuthorizerRequest {
        request(json!({"version": "2.0", "type": "REQUEST",
            "routeArn": format!("arn:aws:execute-api:us-east-1:123456789012:api1/$default/{path}"),
            "routeKey": route_key, "identitySource": identity, "rawPath": "/", "headers": {},
            "requestContext": {"http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1", "userAgent": "x"}, "timeEpoch": 1}}))
    }

    fn context() -> Context {
        let mut c = Context::new();
        c.insert("tenantId", "t-1").unwrap();
        c.insert("tier", 2i64).unwrap();
        c
    }

    #[test]
    fn rest_allow_with_context_and_usage_key() {
        let req = rest();
        let mut d = Decision::allow_all("tenant-1", &req.method_arn, context());
        d.usage_identifier_key = Some("usage-key-value".into());
        assert_eq!(
            render(&d, &req, HttpApiResponseMode::Simple).unwrap(),
            json!({
                "principalId": "tenant-1",
                "policyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Action": "execute-api:Invoke", "Effect": "Allow",
                    "Resource": ["arn:aws:execute-api:us-east-1:123456789012:api1/prod/*/*"]}]},
                "context": {"tenantId": "t-1", "tier": 2},
                "usageIdentifierKey": "usage-key-value"
            })
        );
    }

    #[test]
    fn rest_deny_has_no_null_fields() {
        let req = rest();
        let d = Decision::deny_all("anonymous", &req.method_arn);
        assert_eq!(
            render(&d, &req, HttpApiResponseMode::Simple).unwrap(),
            json!({
                "principalId": "anonymous",
                "policyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Action": "execute-api:Invoke", "Effect": "Deny",
                    "Resource": ["arn:aws:execute-api:us-east-1:123456789012:api1/prod/*/*"]}]}
            })
        );
    }

    fn orders_policy(req: &AuthorizerRequest) -> Decision {
        let policy = PolicyBuilder::new(req.method_arn.api())
            .allow(RoutePattern::parse("GET /orders/*").unwrap())
            .build()
            .unwrap();
        Decision {
            principal_id: "p".into(),
            policy,
            context: context(),
            usage_identifier_key: None,
        }
    }

    #[test]
    fn http_v2_simple_answers_for_the_route_template_in_the_cache_key() {
        let simple = |path: &str, key: &str, identity: &[&str]| {
            let req = v2_keyed(path, key, identity);
            render(&orders_policy(&req), &req, HttpApiResponseMode::Simple)
        };
        let with_context =
            |ok: bool| json!({"isAuthorized": ok, "context": {"tenantId": "t-1", "tier": 2}});
        let get = "GET /orders/{id}";
        assert_eq!(
            simple("GET/orders/7", get, &["tok", get]),
            Ok(with_context(true))
        );
        let delete = "DELETE /orders/{id}";
        assert_eq!(
            simple("DELETE/orders/7", delete, &["tok", delete]),
            Ok(with_context(false))
        );
        // The answer is reused for every path of the template: a grant narrower than the
        // template (here: a catch-all route) is never authorized in the simple format.
        let any = "ANY /{proxy+}";
        assert_eq!(
            simple("GET/orders/7", any, &["tok", any]),
            Ok(with_context(false))
        );
        assert_eq!(
            simple("GET/orders/7", "$default", &["tok", "$default"]),
            Ok(with_context(false))
        );
        // Without the route in the cache key, a route-dependent policy cannot be answered.
        assert_eq!(
            simple("GET/orders/7", get, &["tok"]),
            Err(RouteNotInCacheKey)
        );
        assert_eq!(simple("GET/orders/7", get, &[]), Err(RouteNotInCacheKey));
        // A whole-API decision is the same for every route: no route needed in the cache key.
        let req = v2("GET/orders/7");
        let deny = Decision::deny_all("p", &req.method_arn);
        assert_eq!(
            render(&deny, &req, HttpApiResponseMode::Simple),
            Ok(json!({"isAuthorized": false}))
        );
        let allow = Decision::allow_all("p", &req.method_arn, Context::new());
        assert_eq!(
            render(&allow, &req, HttpApiResponseMode::Simple),
            Ok(json!({"isAuthorized": true}))
        );
    }

    #[test]
    fn http_v2_iam_mode_renders_the_policy() {
        let req = v2("GET/orders/7");
        let d = Decision::allow_all("p", &req.method_arn, Context::new());
        assert_eq!(
            render(&d, &req, HttpApiResponseMode::Iam).unwrap(),
            json!({"principalId": "p", "policyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": "execute-api:Invoke", "Effect": "Allow",
                "Resource": ["arn:aws:execute-api:us-east-1:123456789012:api1/$default/*/*"]}]}})
        );
    }

    #[test]
    fn response_mode_parses() {
        assert_eq!("SIMPLE".parse(), Ok(HttpApiResponseMode::Simple));
        assert_eq!("iam".parse(), Ok(HttpApiResponseMode::Iam));
        assert!("both".parse::<HttpApiResponseMode>().is_err());
    }
}
