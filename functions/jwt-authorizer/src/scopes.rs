//! Scopes from a token and the route → required-scopes map.
//!
//! A token's scopes come from `scope` (space-separated string, RFC 8693/9068) or, when absent,
//! `scp` (space-separated string or array, Okta/Entra). Each configured route names the scopes
//! it needs and whether any one of them or all of them are required.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// How a route's scope list is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScopeMode {
    /// At least one of the listed scopes.
    #[default]
    Any,
    /// Every listed scope.
    All,
}

impl ScopeMode {
    /// Parse `any` or `all`.
    pub fn parse(value: &str) -> Result<ScopeMode, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "any" => Ok(ScopeMode::Any),
            "all" => Ok(ScopeMode::All),
            other => Err(format!("scope mode {other:?} is not any or all")),
        }
    }
}

/// The scopes a token carries.
pub fn token_scopes(claims: &Map<String, Value>) -> BTreeSet<String> {
    let raw = claims.get("scope").or_else(|| claims.get("scp"));
    match raw {
        Some(Value::String(s)) => s.split_ascii_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .flat_map(str::split_ascii_whitespace)
            .map(str::to_owned)
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// One route (`GET /orders/*`, `$connect`, `*`) and the scopes it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRule {
    /// The route pattern as configured (verb and path, or a WebSocket route key).
    pub route: String,
    /// How `scopes` are matched.
    pub mode: ScopeMode,
    /// Required scopes; empty means any valid token.
    pub scopes: Vec<String>,
}

impl RouteRule {
    /// Whether a token with `scopes` may use this route.
    pub fn permits(&self, scopes: &BTreeSet<String>) -> bool {
        if self.scopes.is_empty() {
            return true;
        }
        match self.mode {
            ScopeMode::Any => self.scopes.iter().any(|s| scopes.contains(s)),
            ScopeMode::All => self.scopes.iter().all(|s| scopes.contains(s)),
        }
    }
}

/// The route → scopes map (order is irrelevant: a policy allows the union).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteScopes {
    /// The rules.
    pub rules: Vec<RouteRule>,
}

impl RouteScopes {
    /// Parse `{"GET /orders/*": ["orders:read"], "POST /orders": {"all": ["a", "b"]}}`.
    /// A list uses `default_mode`; `{"any": [...]}` / `{"all": [...]}` set the mode per route.
    pub fn parse_json(text: &str, default_mode: ScopeMode) -> Result<RouteScopes, String> {
        // A BTreeMap, not serde_json's Map: the rules come out in route order whichever way
        // serde_json orders objects (`preserve_order` is on when a dependency enables it).
        let doc: BTreeMap<String, Value> =
            serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
        let mut rules = Vec::with_capacity(doc.len());
        for (route, spec) in doc {
            if route.trim().is_empty() {
                return Err("empty route".into());
            }
            let (mode, list) = match &spec {
                Value::Array(list) => (default_mode, list),
                Value::Object(o) if o.len() == 1 => {
                    let (k, v) = o.iter().next().expect("one entry");
                    let list = v
                        .as_array()
                        .ok_or_else(|| format!("route {route}: {k} must hold a list"))?;
                    (
                        ScopeMode::parse(k).map_err(|e| format!("route {route}: {e}"))?,
                        list,
                    )
                }
                _ => {
                    return Err(format!(
                        "route {route}: expected a list of scopes or {{\"any\"|\"all\": [...]}}"
                    ));
                }
            };
            let scopes = list
                .iter()
                .map(|s| {
                    s.as_str()
                        .filter(|s| !s.is_empty() && !s.contains(char::is_whitespace))
                        .map(str::to_owned)
                        .ok_or_else(|| format!("route {route}: scopes must be non-empty words"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            rules.push(RouteRule {
                route,
                mode,
                scopes,
            });
        }
        Ok(RouteScopes { rules })
    }

    /// The routes a token with `scopes` may use (sorted by route text).
    pub fn permitted(&self, scopes: &BTreeSet<String>) -> Vec<&str> {
        self.rules
            .iter()
            .filter(|r| r.permits(scopes))
            .map(|r| r.route.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scopes_from_scope_or_scp() {
        let c = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            token_scopes(&c(json!({"scope": "a  b\tc"}))),
            set(&["a", "b", "c"])
        );
        assert_eq!(
            token_scopes(&c(json!({"scp": ["a", "b"]}))),
            set(&["a", "b"])
        );
        assert_eq!(token_scopes(&c(json!({"scp": "x y"}))), set(&["x", "y"]));
        assert_eq!(
            token_scopes(&c(json!({"scope": "a", "scp": ["b"]}))),
            set(&["a"])
        );
        assert_eq!(token_scopes(&c(json!({"scope": 5}))), set(&[]));
        assert_eq!(token_scopes(&c(json!({}))), set(&[]));
    }

    #[test]
    fn routes_any_all_and_open() {
        let map = RouteScopes::parse_json(
            r#"{"GET /orders/*": ["orders:read", "orders:admin"],
                "POST /orders": {"all": ["orders:write", "orders:read"]},
                "GET /health": [],
                "$connect": {"any": ["ws"]}}"#,
            ScopeMode::Any,
        )
        .unwrap();
        let permitted = |s: &[&str]| map.permitted(&set(s));
        assert_eq!(permitted(&[]), vec!["GET /health"]);
        assert_eq!(
            permitted(&["orders:read"]),
            vec!["GET /health", "GET /orders/*"]
        );
        assert_eq!(
            permitted(&["orders:write", "orders:read", "ws"]),
            vec!["$connect", "GET /health", "GET /orders/*", "POST /orders"]
        );
        assert_eq!(permitted(&["orders:write"]), vec!["GET /health"]);

        let all = RouteScopes::parse_json(r#"{"GET /a": ["x", "y"]}"#, ScopeMode::All).unwrap();
        assert!(all.permitted(&set(&["x"])).is_empty());
        assert_eq!(all.permitted(&set(&["x", "y"])), vec!["GET /a"]);
    }

    #[test]
    fn bad_route_maps_are_rejected() {
        for bad in [
            "[]",
            r#"{"GET /a": "x"}"#,
            r#"{"GET /a": {"some": ["x"]}}"#,
            r#"{"GET /a": {"any": "x"}}"#,
            r#"{"GET /a": [""]}"#,
            r#"{"GET /a": ["a b"]}"#,
            r#"{"GET /a": [1]}"#,
            r#"{"": ["x"]}"#,
        ] {
            assert!(
                RouteScopes::parse_json(bad, ScopeMode::Any).is_err(),
                "{bad}"
            );
        }
    }
}
