//! Grants: the routes a tenant may call, written `VERB /path` with `*` wildcards. The language
//! is `portcullis::policy`'s: the verb `*` stands for each of the seven methods, in a path each
//! `*` covers one or more characters, `/` included, and a path with a `.`, `..` or empty segment
//! is covered by no path grant, only by `*`.

use std::fmt;

use portcullis::policy::HTTP_METHODS;

/// One route a tenant may call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// `*`: every route of the API.
    Any,
    /// `GET /orders/*`: `verb` is `*` or an upper-case HTTP method; `path` starts with `/` and
    /// may hold `*` wildcards, each covering one or more characters including `/`.
    Http {
        /// `*` or an upper-case HTTP method.
        verb: String,
        /// Path pattern with a leading `/`.
        path: String,
    },
    /// A route key such as WebSocket `$connect` or HTTP API `$default`.
    Named(String),
}

impl Grant {
    /// Parses `*`, `VERB /path` or `$routeKey`; the error explains the expected forms without
    /// quoting the text (a document may hold a secret pasted in the wrong place).
    pub fn parse(text: &str) -> Result<Grant, String> {
        let mut parts = text.split_whitespace();
        let (first, second, rest) = (parts.next(), parts.next(), parts.next());
        match (first, second, rest) {
            (Some("*"), None, None) => Ok(Grant::Any),
            (Some(key), None, None) if key.starts_with('$') => {
                check_chars(&key[1..])?;
                if key.len() < 2 {
                    return Err("route key is empty after '$'".to_owned());
                }
                Ok(Grant::Named(key.to_owned()))
            }
            (Some(verb), Some(path), None) => {
                let verb = if verb == "ANY" { "*" } else { verb };
                if verb != "*" && !HTTP_METHODS.contains(&verb) {
                    return Err(format!(
                        "verb is not one of * ANY {}",
                        HTTP_METHODS.join(" ")
                    ));
                }
                if !path.starts_with('/') {
                    return Err("path must start with '/'".to_owned());
                }
                check_chars(path)?;
                Ok(Grant::Http {
                    verb: verb.to_owned(),
                    path: path.to_owned(),
                })
            }
            _ => Err("expected \"VERB /path\", \"*\" or a route key like \"$connect\"".to_owned()),
        }
    }
}

/// Errors name the offending character, never the grant: a document's text is not echoed.
fn check_chars(part: &str) -> Result<(), String> {
    if part.contains(['{', '}']) {
        return Err(
            "method ARNs hold the called path, not the route template; use * instead of {param}"
                .to_owned(),
        );
    }
    if let Some(bad) = part
        .chars()
        .find(|c| matches!(c, '?' | '#' | '"' | '\\') || c.is_control())
    {
        return Err(format!("character {bad:?} is not allowed"));
    }
    Ok(())
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grant::Any => f.write_str("*"),
            Grant::Http { verb, path } => write!(f, "{verb} {path}"),
            Grant::Named(key) => f.write_str(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(Grant::parse("*"), Ok(Grant::Any));
        assert_eq!(
            Grant::parse("GET /orders/*"),
            Ok(Grant::Http {
                verb: "GET".into(),
                path: "/orders/*".into()
            })
        );
        assert_eq!(
            Grant::parse("$connect"),
            Ok(Grant::Named("$connect".into()))
        );
        let http = |verb: &str, path: &str| {
            Ok(Grant::Http {
                verb: verb.into(),
                path: path.into(),
            })
        };
        assert_eq!(Grant::parse("* /"), http("*", "/"));
        assert_eq!(Grant::parse("ANY /x"), http("*", "/x"));
        assert_eq!(Grant::parse("DELETE /a/*/b"), http("DELETE", "/a/*/b"));
    }

    #[test]
    fn rejects_malformed_grants() {
        for bad in [
            "",
            "GET",
            "get /orders",
            "GET orders",
            "GET /orders extra",
            "GET /orders/{id}",
            "GET /orders?x=1",
            "GET /orders/?",
            "* /?*",
            "$conn?ct",
            "$",
        ] {
            assert!(Grant::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn errors_never_quote_the_grant() {
        let cases = [
            (
                "sk-live-1",
                "expected \"VERB /path\", \"*\" or a route key like \"$connect\"",
            ),
            (
                "sk-live-2 /x",
                "verb is not one of * ANY GET POST PUT PATCH DELETE HEAD OPTIONS",
            ),
            ("GET sk-live-3", "path must start with '/'"),
            (
                "GET /sk-live-4/{id}",
                "method ARNs hold the called path, not the route template; use * instead of {param}",
            ),
            ("GET /sk-live-5?x", "character '?' is not allowed"),
            ("$sk-live-6#", "character '#' is not allowed"),
            ("$", "route key is empty after '$'"),
        ];
        for (grant, want) in cases {
            assert_eq!(Grant::parse(grant).unwrap_err(), want, "{grant}");
        }
    }
}
