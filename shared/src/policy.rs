//! IAM policies for API Gateway Lambda authorizers.
//!
//! [`MethodArn`] parses the ARN API Gateway sends (`methodArn` or HTTP API `routeArn`);
//! [`PolicyBuilder`] turns allowed/denied [`RoutePattern`]s into a [`PolicyDocument`] that covers
//! the whole API, because API Gateway caches one authorizer result per identity source and
//! reuses it for every method of the API. API Gateway's limits are enforced with typed errors.
//!
//! The route language: `*` covers every route. In `VERB /path` the verb `*` (or `ANY`) stands
//! for each of [`HTTP_METHODS`], and each `*` of the path covers one or more characters, `/`
//! included (rendered as IAM `?*`), so `GET /orders/*` covers `/orders/7` and `/orders/7/items`
//! but not `/orders` or `/orders/`. A path with a dot segment (`.`, `..`) or an empty segment
//! (`//`) is covered by no path pattern, only by `*`: a policy with path patterns carries a
//! Deny of [`UNSAFE_PATH_PATTERNS`]. API Gateway documents no normalisation of such paths, and
//! CloudFront forwards the raw path to the origin, where a backend may resolve `..`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

/// The longest `Resource` ARN this crate emits; longer ones are refused, never truncated.
pub const MAX_RESOURCE_LEN: usize = 512;

/// The methods a `*` verb stands for: those API Gateway routes. IAM's `*` would run on into the
/// path (`*/health` matches `GET/admin/health`), so a `*` verb is rendered once per method.
pub const HTTP_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// IAM patterns (after `<api-id>/<stage>/`) that together match exactly the `VERB/path` routes
/// whose request path has a dot segment (`.`, `..`) or an empty segment (`//`, including a
/// path starting with `//`). The verb never holds `/`, so `/` before `.` is a segment start.
pub const UNSAFE_PATH_PATTERNS: [&str; 5] = ["*/./*", "*/.", "*/../*", "*/..", "*//*"];

/// Why a `methodArn` could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    /// Not of the form `arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/...`.
    #[error("not an execute-api ARN: {0}")]
    Malformed(&'static str),
}

/// Why a policy or context could not be built within API Gateway's contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A `Resource` ARN is longer than [`MAX_RESOURCE_LEN`].
    #[error("policy resource is {len} characters, above the limit of {MAX_RESOURCE_LEN}")]
    ResourceTooLong {
        /// Length of the offending resource.
        len: usize,
    },
    /// The builder was given no statement at all.
    #[error("policy has no statement")]
    Empty,
    /// A route pattern could not be parsed.
    #[error("invalid route pattern {pattern:?}: {reason}")]
    InvalidRoute {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A condition block is not a JSON object.
    #[error("policy condition must be a JSON object")]
    InvalidCondition,
    /// A context value is not a string, number or boolean.
    #[error("context value for {key:?} must be a string, number or boolean")]
    ContextNotScalar {
        /// The context key.
        key: String,
    },
    /// A context key is empty.
    #[error("context keys must not be empty")]
    EmptyContextKey,
}

/// The route part of a method ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArnRoute {
    /// `{VERB}/{path}`: REST and HTTP API routes. `path` has no leading `/` (root is empty).
    Http {
        /// HTTP method as API Gateway wrote it (`GET`, `POST`, …).
        verb: String,
        /// Resource path without its leading slash, exactly as in the ARN.
        path: String,
    },
    /// A route key without a verb: WebSocket `$connect`, HTTP API `$default`.
    Named(String),
}

/// A parsed `arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/{route}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodArn {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: String,
    /// AWS region of the API.
    pub region: String,
    /// 12-digit account id.
    pub account_id: String,
    /// API id.
    pub api_id: String,
    /// Stage name (`$default` for HTTP APIs' default stage).
    pub stage: String,
    /// The route this call is for.
    pub route: ArnRoute,
}

impl MethodArn {
    /// Parses a `methodArn` / `routeArn`.
    pub fn parse(arn: &str) -> Result<Self, ArnError> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("execute-api"), Some(region), Some(account)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(ArnError::Malformed(
                "expected arn:<partition>:execute-api:<region>:<account>:",
            ));
        };
        let resource = parts
            .next()
            .ok_or(ArnError::Malformed("missing resource"))?;
        if partition.is_empty()
            || !partition
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-')
        {
            return Err(ArnError::Malformed("bad partition"));
        }
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ArnError::Malformed("bad region"));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ArnError::Malformed("account id must be 12 digits"));
        }
        let mut segments = resource.splitn(3, '/');
        let api_id = segments.next().unwrap_or_default();
        let stage = segments
            .next()
            .ok_or(ArnError::Malformed("missing stage"))?;
        let route = segments
            .next()
            .ok_or(ArnError::Malformed("missing route"))?;
        if api_id.is_empty() || !api_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ArnError::Malformed("bad api id"));
        }
        if stage.is_empty() {
            return Err(ArnError::Malformed("empty stage"));
        }
        if route.is_empty() {
            return Err(ArnError::Malformed("empty route"));
        }
        if route.chars().any(char::is_whitespace) {
            return Err(ArnError::Malformed("whitespace in route"));
        }
        let route = match route.split_once('/') {
            Some((verb, path)) if !verb.is_empty() => ArnRoute::Http {
                verb: verb.to_owned(),
                path: path.to_owned(),
            },
            Some(_) => return Err(ArnError::Malformed("empty verb")),
            None => ArnRoute::Named(route.to_owned()),
        };
        Ok(Self {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account_id: account.to_owned(),
            api_id: api_id.to_owned(),
            stage: stage.to_owned(),
            route,
        })
    }

    /// The API and stage this ARN belongs to.
    pub fn api(&self) -> ApiScope {
        ApiScope {
            partition: self.partition.clone(),
            region: self.region.clone(),
            account_id: self.account_id.clone(),
            api_id: self.api_id.clone(),
            stage: self.stage.clone(),
            named_routes: matches!(self.route, ArnRoute::Named(_)),
        }
    }
}

impl fmt::Display for MethodArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:execute-api:{}:{}:{}/{}/",
            self.partition, self.region, self.account_id, self.api_id, self.stage
        )?;
        match &self.route {
            ArnRoute::Http { verb, path } => write!(f, "{verb}/{path}"),
            ArnRoute::Named(key) => f.write_str(key),
        }
    }
}

/// One API stage: the prefix every resource of a policy shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiScope {
    partition: String,
    region: String,
    account_id: String,
    api_id: String,
    stage: String,
    /// WebSocket-style ARNs (`{stage}/{routeKey}`) have no verb segment.
    named_routes: bool,
}

impl ApiScope {
    fn prefix(&self) -> String {
        format!(
            "arn:{}:execute-api:{}:{}:{}/{}/",
            self.partition, self.region, self.account_id, self.api_id, self.stage
        )
    }

    /// The resource ARNs for a route pattern in this API stage: one, or for a `*` verb one per
    /// method of [`HTTP_METHODS`]. Each `*` of an HTTP path is rendered `?*` (one or more
    /// characters).
    pub fn resources(&self, route: &RoutePattern) -> Vec<String> {
        let prefix = self.prefix();
        match route {
            RoutePattern::Any if self.named_routes => vec![format!("{prefix}*")],
            RoutePattern::Any => vec![format!("{prefix}*/*")],
            RoutePattern::Http { verb, path } => {
                let path = path.replace('*', "?*");
                let one = [verb.as_str()];
                let verbs = if verb == "*" { &HTTP_METHODS[..] } else { &one };
                verbs
                    .iter()
                    .map(|verb| format!("{prefix}{verb}/{path}"))
                    .collect()
            }
            RoutePattern::Named(key) => vec![format!("{prefix}{key}")],
        }
    }

    /// [`UNSAFE_PATH_PATTERNS`] in this API stage: the resources of the Deny that comes with
    /// path patterns.
    pub fn unsafe_path_resources(&self) -> Vec<String> {
        let prefix = self.prefix();
        UNSAFE_PATH_PATTERNS
            .iter()
            .map(|p| format!("{prefix}{p}"))
            .collect()
    }
}

/// A set of routes a statement applies to, with `*` wildcards (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutePattern {
    /// Every route of the API stage, whatever its path.
    Any,
    /// `VERB /path`; `verb` is `*` or an upper-case method, `path` has no leading `/`.
    Http {
        /// `*` or an upper-case HTTP method.
        verb: String,
        /// Path without its leading slash; each `*` covers one or more characters. Never `?`.
        path: String,
    },
    /// A WebSocket route key (`$connect`) or `*`.
    Named(String),
}

impl RoutePattern {
    /// Parses `"GET /orders/*"`, `"* /admin/*"`, `"ANY /x"` (same as `*`), `"*"` (whole API),
    /// or a WebSocket route key such as `"$connect"`. `?` (IAM's one-character wildcard) is
    /// refused.
    pub fn parse(pattern: &str) -> Result<Self, PolicyError> {
        let invalid = |reason| PolicyError::InvalidRoute {
            pattern: pattern.to_owned(),
            reason,
        };
        let trimmed = pattern.trim();
        if trimmed == "*" {
            return Ok(Self::Any);
        }
        if trimmed.contains('?') {
            return Err(invalid(QUESTION_MARK));
        }
        let Some((verb, path)) = trimmed.split_once(' ') else {
            if trimmed.starts_with('$') && trimmed.len() > 1 && !trimmed.contains('/') {
                return Ok(Self::Named(trimmed.to_owned()));
            }
            return Err(invalid("expected \"VERB /path\", \"*\" or a $route key"));
        };
        let verb = if verb == "ANY" { "*" } else { verb };
        let method = !verb.is_empty() && verb.bytes().all(|b| b.is_ascii_uppercase());
        if verb != "*" && !method {
            return Err(invalid("verb must be * or an upper-case HTTP method"));
        }
        let path = path.trim();
        let Some(path) = path.strip_prefix('/').or((path == "*").then_some(path)) else {
            return Err(invalid("path must start with /"));
        };
        if path.chars().any(char::is_whitespace) {
            return Err(invalid("whitespace in path"));
        }
        Ok(Self::Http {
            verb: verb.to_owned(),
            path: path.to_owned(),
        })
    }
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Http { verb, path } => write!(f, "{verb} /{path}"),
            Self::Named(key) => f.write_str(key),
        }
    }
}

const QUESTION_MARK: &str = "? is IAM's one-character wildcard and not allowed in a route";

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    /// Grants `execute-api:Invoke`.
    Allow,
    /// Explicitly refuses it; wins over any Allow (API Gateway answers 403).
    Deny,
}

/// One IAM statement: `execute-api:Invoke` on some resources, maybe under a condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    /// Always `execute-api:Invoke`.
    #[serde(rename = "Action")]
    pub action: &'static str,
    /// Allow or Deny.
    #[serde(rename = "Effect")]
    pub effect: Effect,
    /// Resource ARNs, with `*` wildcards.
    #[serde(rename = "Resource")]
    pub resources: Vec<String>,
    /// An IAM `Condition` block.
    #[serde(rename = "Condition", skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

/// An IAM policy document as API Gateway expects it in `policyDocument`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyDocument {
    /// Always `2012-10-17`.
    #[serde(rename = "Version")]
    pub version: &'static str,
    /// The statements, Deny first.
    #[serde(rename = "Statement")]
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// Whether this policy lets `arn` through: some unconditional Allow matches and no Deny
    /// matches (conditional statements are API Gateway's to evaluate; they never allow here).
    pub fn allows(&self, arn: &MethodArn) -> bool {
        let arn = arn.to_string();
        let matches = |s: &&Statement| s.resources.iter().any(|r| wildcard_match(r, &arn));
        let denied = self
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Deny)
            .any(|s| matches(&s));
        let allowed = self
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow && s.condition.is_none())
            .any(|s| matches(&s));
        allowed && !denied
    }
}

impl PolicyDocument {
    /// Whether every statement covers the whole API stage (or everything) without a condition:
    /// then the policy answers alike for every route, and a one-route answer is safe to cache.
    pub fn is_route_independent(&self) -> bool {
        self.statements.iter().all(|s| {
            s.condition.is_none()
                && s.resources.iter().all(|r| {
                    r == "*"
                        || r.splitn(6, ':')
                            .nth(5)
                            .and_then(|resource| resource.splitn(3, '/').nth(2))
                            .is_some_and(|route| route == "*" || route == "*/*")
                })
        })
    }
}

/// IAM ARN matching: `*` matches any run of characters (including `/`), `?` any one character.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        // A `*` in the pattern is always a wildcard, even against a literal `*` in the text.
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// Builds a [`PolicyDocument`] for one API stage.
#[derive(Debug, Clone)]
pub struct PolicyBuilder {
    scope: ApiScope,
    allow: Vec<RoutePattern>,
    deny: Vec<RoutePattern>,
    conditional: Vec<(Effect, RoutePattern, Value)>,
}

impl PolicyBuilder {
    /// Starts an empty policy for `scope`.
    pub fn new(scope: ApiScope) -> Self {
        Self {
            scope,
            allow: Vec::new(),
            deny: Vec::new(),
            conditional: Vec::new(),
        }
    }

    /// Allows every route of the API stage.
    pub fn allow_all(self) -> Self {
        self.allow(RoutePattern::Any)
    }

    /// Denies every route of the API stage.
    pub fn deny_all(self) -> Self {
        self.deny(RoutePattern::Any)
    }

    /// Allows one route pattern.
    pub fn allow(mut self, route: RoutePattern) -> Self {
        self.allow.push(route);
        self
    }

    /// Denies one route pattern (a Deny wins over any Allow).
    pub fn deny(mut self, route: RoutePattern) -> Self {
        self.deny.push(route);
        self
    }

    /// Adds a statement that applies only under an IAM `Condition` block.
    pub fn with_condition(
        mut self,
        effect: Effect,
        route: RoutePattern,
        condition: Value,
    ) -> Result<Self, PolicyError> {
        if !condition.is_object() {
            return Err(PolicyError::InvalidCondition);
        }
        self.conditional.push((effect, route, condition));
        Ok(self)
    }

    /// Renders the document, resources de-duplicated in given order: the Deny statement, then
    /// the Deny of [`UNSAFE_PATH_PATTERNS`] when some Allow (conditional or not) names an HTTP
    /// path and no unconditional Allow is the whole API, then the Allow statement, then the
    /// conditional statements.
    pub fn build(self) -> Result<PolicyDocument, PolicyError> {
        let mut statements = Vec::new();
        for (effect, routes) in [(Effect::Deny, &self.deny), (Effect::Allow, &self.allow)] {
            if routes.is_empty() {
                continue;
            }
            let mut resources: Vec<String> = Vec::with_capacity(routes.len());
            for route in routes {
                for arn in self.resources(route)? {
                    if !resources.contains(&arn) {
                        resources.push(arn);
                    }
                }
            }
            statements.push(Statement {
                action: "execute-api:Invoke",
                effect,
                resources,
                condition: None,
            });
        }
        if self.has_path_grants() {
            let resources = self.scope.unsafe_path_resources();
            if let Some(len) = resources.iter().map(String::len).max()
                && len > MAX_RESOURCE_LEN
            {
                return Err(PolicyError::ResourceTooLong { len });
            }
            let at = usize::from(!self.deny.is_empty());
            statements.insert(
                at,
                Statement {
                    action: "execute-api:Invoke",
                    effect: Effect::Deny,
                    resources,
                    condition: None,
                },
            );
        }
        for (effect, route, condition) in &self.conditional {
            statements.push(Statement {
                action: "execute-api:Invoke",
                effect: *effect,
                resources: self.resources(route)?,
                condition: Some(condition.clone()),
            });
        }
        if statements.is_empty() {
            return Err(PolicyError::Empty);
        }
        Ok(PolicyDocument {
            version: "2012-10-17",
            statements,
        })
    }

    fn has_path_grants(&self) -> bool {
        let conditional = self
            .conditional
            .iter()
            .filter(|(effect, ..)| *effect == Effect::Allow)
            .map(|(_, route, _)| route);
        let paths = self
            .allow
            .iter()
            .chain(conditional)
            .any(|r| matches!(r, RoutePattern::Http { .. }));
        paths && !self.allow.contains(&RoutePattern::Any)
    }

    fn resources(&self, route: &RoutePattern) -> Result<Vec<String>, PolicyError> {
        if route.to_string().contains('?') {
            return Err(PolicyError::InvalidRoute {
                pattern: route.to_string(),
                reason: QUESTION_MARK,
            });
        }
        let arns = self.scope.resources(route);
        for arn in &arns {
            if arn.len() > MAX_RESOURCE_LEN {
                return Err(PolicyError::ResourceTooLong { len: arn.len() });
            }
        }
        Ok(arns)
    }
}

/// A value API Gateway accepts in an authorizer `context`: string, number or boolean.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    /// A string.
    String(String),
    /// A JSON number.
    Number(serde_json::Number),
    /// A boolean.
    Bool(bool),
}

impl Serialize for ContextValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::String(v) => s.serialize_str(v),
            Self::Number(v) => v.serialize(s),
            Self::Bool(v) => s.serialize_bool(*v),
        }
    }
}

impl From<&str> for ContextValue {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}
impl From<String> for ContextValue {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}
impl From<bool> for ContextValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<i64> for ContextValue {
    fn from(v: i64) -> Self {
        Self::Number(v.into())
    }
}
impl From<u64> for ContextValue {
    fn from(v: u64) -> Self {
        Self::Number(v.into())
    }
}

/// The authorizer `context`: flat, scalar values only, keys sorted for stable output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context(BTreeMap<String, ContextValue>);

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts a scalar value.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<ContextValue>,
    ) -> Result<(), PolicyError> {
        let key = key.into();
        if key.is_empty() {
            return Err(PolicyError::EmptyContextKey);
        }
        self.0.insert(key, value.into());
        Ok(())
    }

    /// Inserts a JSON value, refusing arrays, objects and null with a typed error.
    pub fn try_insert_json(
        &mut self,
        key: impl Into<String>,
        value: &Value,
    ) -> Result<(), PolicyError> {
        let key = key.into();
        let value = match value {
            Value::String(s) => ContextValue::String(s.clone()),
            Value::Number(n) => ContextValue::Number(n.clone()),
            Value::Bool(b) => ContextValue::Bool(*b),
            Value::Null | Value::Array(_) | Value::Object(_) => {
                return Err(PolicyError::ContextNotScalar { key });
            }
        };
        self.insert(key, value)
    }

    /// Looks a value up.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.0.get(key)
    }

    /// Whether no value is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Context {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// What an authorizer decided: who, which routes, and what to pass to the integration.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// `principalId` (`$context.authorizer.principalId`).
    pub principal_id: String,
    /// The whole-API policy; cached by API Gateway for the identity source.
    pub policy: PolicyDocument,
    /// `context` passed to the integration.
    pub context: Context,
    /// `usageIdentifierKey`: the usage-plan API key, for API key source AUTHORIZER.
    pub usage_identifier_key: Option<String>,
}

impl Decision {
    /// Allows the whole API stage of `arn`.
    pub fn allow_all(principal_id: impl Into<String>, arn: &MethodArn, context: Context) -> Self {
        Self::whole_api(principal_id, arn, context, Effect::Allow)
    }

    /// Explicitly denies the whole API stage of `arn` (API Gateway answers 403).
    pub fn deny_all(principal_id: impl Into<String>, arn: &MethodArn) -> Self {
        Self::whole_api(principal_id, arn, Context::new(), Effect::Deny)
    }

    fn whole_api(
        principal_id: impl Into<String>,
        arn: &MethodArn,
        context: Context,
        effect: Effect,
    ) -> Self {
        let builder = PolicyBuilder::new(arn.api());
        let builder = match effect {
            Effect::Allow => builder.allow_all(),
            Effect::Deny => builder.deny_all(),
        };
        let policy = builder.build().unwrap_or_else(|_| deny_everything());
        Self {
            principal_id: principal_id.into(),
            policy,
            context,
            usage_identifier_key: None,
        }
    }
}

/// A policy that denies every API everywhere: the fallback when a narrower one cannot be built.
pub fn deny_everything() -> PolicyDocument {
    PolicyDocument {
        version: "2012-10-17",
        statements: vec![Statement {
            action: "execute-api:Invoke",
            effect: Effect::Deny,
            resources: vec!["*".to_owned()],
            condition: None,
        }],
    }
}

#[cfg(test)]
mod tests;
