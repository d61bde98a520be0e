//! From an authorizer request to a decision: find the token, verify it, and build the policy of
//! every route the token's scopes permit (not only the route of this call — API Gateway caches
//! the result per identity source and reuses it for every method of the API).

use serde_json::Value;

use super::error::JwtError;
use super::fetch::JwksFetcher;
use super::scopes::RouteScopes;
use super::settings::TokenSource;
use super::verifier::{Now, VerifiedToken, Verifier};
use portcullis::policy::{Context, Decision, PolicyBuilder, PolicyError, RoutePattern};
use portcullis::request::{AuthorizerRequest, PayloadKind};

/// `Bearer <token>` → `<token>` (scheme case-insensitive; the token itself has no whitespace).
pub fn parse_bearer(value: &str) -> Result<&str, JwtError> {
    let (scheme, token) = value.trim().split_once(' ').ok_or(JwtError::NotBearer)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer")
        || token.is_empty()
        || token.contains(char::is_whitespace)
    {
        return Err(JwtError::NotBearer);
    }
    Ok(token)
}

/// The one token of this request. REST TOKEN events carry it in `authorizationToken` (the
/// header configured as the authorizer's token source, `Bearer <token>`). Otherwise every
/// configured source is read; two different tokens, or one name with two values, is ambiguous.
pub fn extract_token<'a>(
    request: &'a AuthorizerRequest,
    sources: &[TokenSource],
) -> Result<&'a str, JwtError> {
    if request.kind == PayloadKind::RestToken {
        let value = request
            .authorization_token
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .ok_or(JwtError::MissingToken)?;
        return parse_bearer(value);
    }
    let mut found: Vec<&str> = Vec::new();
    for source in sources {
        let value = match source {
            TokenSource::Header(name) => request
                .headers
                .get(name)
                .map_err(|_| JwtError::AmbiguousToken)?
                .map(parse_bearer)
                .transpose()?,
            TokenSource::Cookie(name) => request
                .cookies
                .get(name)
                .map_err(|_| JwtError::AmbiguousToken)?,
            TokenSource::Query(name) => request
                .query
                .get(name)
                .map_err(|_| JwtError::AmbiguousToken)?,
        };
        if let Some(token) = value.map(str::trim).filter(|t| !t.is_empty())
            && !found.contains(&token)
        {
            found.push(token);
        }
    }
    match found.as_slice() {
        [] => Err(JwtError::MissingToken),
        [one] => Ok(one),
        _ => Err(JwtError::AmbiguousToken),
    }
}

/// Route rules with their patterns parsed once. Only patterns that can match the API kind of
/// the request are put in its policy.
#[derive(Debug, Clone)]
pub struct RoutePolicy {
    routes: Option<(RouteScopes, Vec<RoutePattern>)>,
}

impl RoutePolicy {
    /// `None` = any valid token may use every route.
    pub fn new(routes: Option<RouteScopes>) -> Result<Self, PolicyError> {
        let routes = match routes {
            None => None,
            Some(r) => {
                let patterns = r
                    .rules
                    .iter()
                    .map(|rule| RoutePattern::parse(&rule.route))
                    .collect::<Result<Vec<_>, _>>()?;
                Some((r, patterns))
            }
        };
        Ok(RoutePolicy { routes })
    }

    /// The decision for a verified token: every permitted route allowed, or Deny everything.
    pub fn decide(
        &self,
        token: &VerifiedToken,
        request: &AuthorizerRequest,
        context_claims: &[String],
    ) -> Result<Decision, PolicyError> {
        let context = context_of(token, context_claims)?;
        let mut builder = PolicyBuilder::new(request.method_arn.api());
        match &self.routes {
            None => builder = builder.allow_all(),
            Some((rules, patterns)) => {
                let websocket = request.kind == PayloadKind::WebSocket;
                let mut any = false;
                for (rule, pattern) in rules.rules.iter().zip(patterns) {
                    // WebSocket ARNs name route keys; REST/HTTP ARNs name verb + path (and the
                    // HTTP API `$default` route). Patterns of the other kind can never match.
                    let fits = match pattern {
                        RoutePattern::Any => true,
                        RoutePattern::Http { .. } => !websocket,
                        RoutePattern::Named(key) => websocket || key == "$default",
                    };
                    if fits && rule.permits(&token.scopes) {
                        builder = builder.allow(pattern.clone());
                        any = true;
                    }
                }
                if !any {
                    builder = builder.deny_all();
                }
            }
        }
        Ok(Decision {
            principal_id: token.subject.clone(),
            policy: builder.build()?,
            context,
            usage_identifier_key: None,
        })
    }
}

/// Chosen claims as REST-compatible context: strings/numbers/booleans as they are, arrays
/// joined with `,`, objects as compact JSON; missing and null claims are left out.
pub fn context_of(token: &VerifiedToken, names: &[String]) -> Result<Context, PolicyError> {
    let mut context = Context::new();
    for name in names {
        let Some(value) = token.claims.get(name) else {
            continue;
        };
        match value {
            Value::Null => {}
            Value::Array(items) => {
                let joined = items
                    .iter()
                    .filter(|v| !v.is_null())
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(",");
                context.insert(name.clone(), joined)?;
            }
            Value::Object(_) => context.insert(name.clone(), value.to_string())?,
            scalar => context.try_insert_json(name.clone(), scalar)?,
        }
    }
    Ok(context)
}

/// Find, verify and decide. Errors are the reason the caller gets `Unauthorized`.
pub async fn authorize<F: JwksFetcher>(
    verifier: &Verifier<F>,
    routes: &RoutePolicy,
    sources: &[TokenSource],
    context_claims: &[String],
    request: &AuthorizerRequest,
    now: Now,
) -> Result<(VerifiedToken, Decision), JwtError> {
    let token = extract_token(request, sources)?;
    let verified = verifier.verify(token, now).await?;
    let decision = routes
        .decide(&verified, request, context_claims)
        .map_err(|e| JwtError::Policy(e.to_string()))?;
    Ok((verified, decision))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scopes::ScopeMode;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/GET/orders/42";

    fn rest_request(headers: Value, multi: Value, query: Value) -> AuthorizerRequest {
        AuthorizerRequest::from_value(&json!({
            "type": "REQUEST", "methodArn": ARN, "resource": "/orders/{id}", "path": "/orders/42",
            "httpMethod": "GET", "headers": headers, "multiValueHeaders": multi,
            "queryStringParameters": query, "requestContext": {"accountId": "123456789012",
            "stage": "prod", "apiId": "a1b2c3", "resourcePath": "/orders/{id}", "httpMethod": "GET",
            "identity": {"sourceIp": "192.0.2.1"}}
        }))
        .unwrap()
    }

    fn all_sources() -> Vec<TokenSource> {
        TokenSource::parse_list("header:authorization,cookie:at,query:access_token").unwrap()
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(parse_bearer("Bearer abc.def.ghi"), Ok("abc.def.ghi"));
        assert_eq!(parse_bearer("bearer   abc"), Ok("abc"));
        for bad in [
            "abc",
            "Basic abc",
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearerabc",
        ] {
            assert_eq!(parse_bearer(bad), Err(JwtError::NotBearer), "{bad:?}");
        }
    }

    #[test]
    fn token_from_each_source_and_ambiguity() {
        let s = all_sources();
        let h = rest_request(json!({"Authorization": "Bearer t1"}), json!({}), json!({}));
        assert_eq!(extract_token(&h, &s), Ok("t1"));
        let c = rest_request(json!({"cookie": "x=1; at=t2"}), json!({}), json!({}));
        assert_eq!(extract_token(&c, &s), Ok("t2"));
        let q = rest_request(json!({}), json!({}), json!({"access_token": "t3"}));
        assert_eq!(extract_token(&q, &s), Ok("t3"));
        // The same token in two places is one token.
        let same = rest_request(
            json!({"authorization": "Bearer t1", "cookie": "at=t1"}),
            json!({}),
            json!({}),
        );
        assert_eq!(extract_token(&same, &s), Ok("t1"));
        let two = rest_request(
            json!({"authorization": "Bearer t1", "cookie": "at=t2"}),
            json!({}),
            json!({}),
        );
        assert_eq!(extract_token(&two, &s), Err(JwtError::AmbiguousToken));
        let dup = rest_request(
            json!({"authorization": "Bearer t1"}),
            json!({"Authorization": ["Bearer t1", "Bearer t9"]}),
            json!({}),
        );
        assert_eq!(extract_token(&dup, &s), Err(JwtError::AmbiguousToken));
        let none = rest_request(json!({}), json!({}), json!({}));
        assert_eq!(extract_token(&none, &s), Err(JwtError::MissingToken));
        let basic = rest_request(
            json!({"authorization": "Basic dXNlcjpwdw=="}),
            json!({}),
            json!({}),
        );
        assert_eq!(extract_token(&basic, &s), Err(JwtError::NotBearer));
        // Sources that are not configured are not read.
        let header_only = TokenSource::parse_list("header:authorization").unwrap();
        assert_eq!(extract_token(&q, &header_only), Err(JwtError::MissingToken));
    }

    #[test]
    fn rest_token_events_use_authorization_token() {
        let req = AuthorizerRequest::from_value(
            &json!({"type": "TOKEN", "authorizationToken": "Bearer tok", "methodArn": ARN}),
        )
        .unwrap();
        assert_eq!(extract_token(&req, &all_sources()), Ok("tok"));
        let raw = AuthorizerRequest::from_value(
            &json!({"type": "TOKEN", "authorizationToken": "tok", "methodArn": ARN}),
        )
        .unwrap();
        assert_eq!(
            extract_token(&raw, &all_sources()),
            Err(JwtError::NotBearer)
        );
    }

    fn verified(scopes: &[&str], claims: Value) -> VerifiedToken {
        VerifiedToken {
            issuer: "https://idp".into(),
            subject: "user-7".into(),
            alg: jsonwebtoken::Algorithm::RS256,
            kid: "k".into(),
            claims: claims.as_object().unwrap().clone(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn policy_allows_every_permitted_route_or_denies_all() {
        let routes = RouteScopes::parse_json(
            r#"{"GET /orders/*": ["orders:read"], "POST /orders": ["orders:write"], "GET /health": []}"#,
            ScopeMode::Any,
        )
        .unwrap();
        let policy = RoutePolicy::new(Some(routes)).unwrap();
        let req = rest_request(json!({}), json!({}), json!({}));
        let d = policy
            .decide(&verified(&["orders:read"], json!({})), &req, &[])
            .unwrap();
        assert_eq!(d.principal_id, "user-7");
        assert_eq!(
            serde_json::to_value(&d.policy).unwrap(),
            json!({"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny",
                "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/*/./*",
                             "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/*/.",
                             "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/*/../*",
                             "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/*/..",
                             "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/*//*"]},
                {"Action": "execute-api:Invoke", "Effect": "Allow",
                "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/GET/health",
                             "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/GET/orders/?*"]}]})
        );
        assert!(d.policy.allows(&req.method_arn));
        let other = |path: &str| {
            let arn = format!("arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/GET/{path}");
            d.policy
                .allows(&portcullis::policy::MethodArn::parse(&arn).unwrap())
        };
        assert!(other("orders/42/items"));
        assert!(!other("orders/"));
        assert!(!other("orders"));
        assert!(!other("orders/../admin"));
        assert!(!other("orders//42"));
        let d = policy
            .decide(&verified(&["orders:write"], json!({})), &req, &[])
            .unwrap();
        assert!(!d.policy.allows(&req.method_arn));

        let strict = RoutePolicy::new(Some(
            RouteScopes::parse_json(r#"{"GET /orders/*": ["orders:read"]}"#, ScopeMode::Any)
                .unwrap(),
        ))
        .unwrap();
        let d = strict.decide(&verified(&[], json!({})), &req, &[]).unwrap();
        assert_eq!(
            serde_json::to_value(&d.policy).unwrap(),
            json!({"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny",
                "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/*/*"]}]})
        );
        let open = RoutePolicy::new(None).unwrap();
        let d = open.decide(&verified(&[], json!({})), &req, &[]).unwrap();
        assert!(d.policy.allows(&req.method_arn));
        for bad in [r#"{"get /x": []}"#, r#"{"GET /orders/?": []}"#] {
            assert!(
                RoutePolicy::new(Some(RouteScopes::parse_json(bad, ScopeMode::Any).unwrap()))
                    .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn websocket_policies_name_route_keys_only() {
        let routes = RouteScopes::parse_json(
            r#"{"GET /orders/*": ["r"], "$connect": ["r"], "$default": []}"#,
            ScopeMode::Any,
        )
        .unwrap();
        let policy = RoutePolicy::new(Some(routes)).unwrap();
        let ws = AuthorizerRequest::from_value(&json!({
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:w1s2o3/live/$connect",
            "headers": {}, "requestContext": {"routeKey": "$connect", "eventType": "CONNECT",
            "connectionId": "c=", "apiId": "w1s2o3", "stage": "live"}
        }))
        .unwrap();
        let d = policy
            .decide(&verified(&["r"], json!({})), &ws, &[])
            .unwrap();
        let resources = &serde_json::to_value(&d.policy).unwrap()["Statement"][0]["Resource"];
        assert_eq!(
            resources,
            &json!([
                "arn:aws:execute-api:eu-west-1:123456789012:w1s2o3/live/$connect",
                "arn:aws:execute-api:eu-west-1:123456789012:w1s2o3/live/$default"
            ])
        );
        let rest = rest_request(json!({}), json!({}), json!({}));
        let d = policy
            .decide(&verified(&["r"], json!({})), &rest, &[])
            .unwrap();
        let statements = serde_json::to_value(&d.policy).unwrap()["Statement"].clone();
        assert_eq!(statements[0]["Effect"], "Deny", "dot and empty segments");
        assert_eq!(
            statements[1]["Resource"],
            json!([
                "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/$default",
                "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/GET/orders/?*"
            ])
        );
    }

    #[test]
    fn context_is_flattened() {
        let t = verified(
            &[],
            json!({"sub": "u", "scp": ["a", "b"], "n": 3, "ok": true, "addr": {"c": "DE"}, "nil": null}),
        );
        let names: Vec<String> = ["sub", "scp", "n", "ok", "addr", "nil", "absent"]
            .map(String::from)
            .to_vec();
        let c = context_of(&t, &names).unwrap();
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({"sub": "u", "scp": "a,b", "n": 3, "ok": true, "addr": "{\"c\":\"DE\"}"})
        );
    }
}
