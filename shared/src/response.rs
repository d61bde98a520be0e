//! Renders a [`Decision`] in the response format of the event that arrived.
//!
//! REST TOKEN/REQUEST, HTTP API payload 1.0 and WebSocket answer with an IAM policy
//! (`principalId`, `policyDocument`, `context`, `usageIdentifierKey`); HTTP API payload 2.0
//! answers with the simple response (`isAuthorized`, `context`) or, when the authorizer is not
//! configured for simple responses, with the IAM policy. Empty `context` and absent
//! `usageIdentifierKey` are left out rather than sent as `null`.

use std::str::FromStr;

use serde_json::{Map, Value, json};

use crate::policy::Decision;
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

/// The response JSON for `decision`, in the format `request` calls for. For the simple format
/// `isAuthorized` is the policy evaluated on the route of this request.
pub fn render(
    decision: &Decision,
    request: &AuthorizerRequest,
    mode: HttpApiResponseMode,
) -> Value {
    if request.kind == PayloadKind::HttpV2 && mode == HttpApiResponseMode::Simple {
        let mut out = Map::new();
        out.insert(
            "isAuthorized".into(),
            json!(decision.policy.allows(&request.method_arn)),
        );
        if !decision.context.is_empty() {
            out.insert("context".into(), json!(decision.context));
        }
        return Value::Object(out);
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
    Value::Object(out)
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
        request(json!({"version": "2.0", "type": "REQUEST",
            "routeArn": format!("arn:aws:execute-api:us-east-1:123456789012:api1/$default/{path}"),
            "routeKey": "ANY /{proxy+}", "rawPath": "/", "headers": {},
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
            render(&d, &req, HttpApiResponseMode::Simple),
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
            render(&d, &req, HttpApiResponseMode::Simple),
            json!({
                "principalId": "anonymous",
                "policyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Action": "execute-api:Invoke", "Effect": "Deny",
                    "Resource": ["arn:aws:execute-api:us-east-1:123456789012:api1/prod/*/*"]}]}
            })
        );
    }

    #[test]
    fn http_v2_simple_evaluates_this_route() {
        let req = v2("GET/orders/7");
        let policy = PolicyBuilder::new(req.method_arn.api())
            .allow(RoutePattern::parse("GET /orders/*").unwrap())
            .build()
            .unwrap();
        let d = Decision {
            principal_id: "p".into(),
            policy,
            context: context(),
            usage_identifier_key: None,
        };
        assert_eq!(
            render(&d, &req, HttpApiResponseMode::Simple),
            json!({"isAuthorized": true, "context": {"tenantId": "t-1", "tier": 2}})
        );
        let other = v2("DELETE/orders/7");
        assert_eq!(
            render(&d, &other, HttpApiResponseMode::Simple),
            json!({"isAuthorized": false, "context": {"tenantId": "t-1", "tier": 2}})
        );
        let deny = Decision::deny_all("p", &req.method_arn);
        assert_eq!(
            render(&deny, &req, HttpApiResponseMode::Simple),
            json!({"isAuthorized": false})
        );
    }

    #[test]
    fn http_v2_iam_mode_renders_the_policy() {
        let req = v2("GET/orders/7");
        let d = Decision::allow_all("p", &req.method_arn, Context::new());
        assert_eq!(
            render(&d, &req, HttpApiResponseMode::Iam),
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
