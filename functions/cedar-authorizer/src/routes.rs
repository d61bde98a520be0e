//! Routes as Verified Permissions names them, and whether an IAM grant can reach them.
//!
//! An API-linked policy store has one action per API method, named `"<method> <resource path>"`
//! in lower case (`"get /pets/{petId}"`). Each becomes a grant pattern of the shared grant
//! language (`GET /pets/*`). A path parameter matches exactly one segment in API Gateway's
//! routing, but a grant's `*` covers any characters, `/` included: `GET /pets/*` also covers
//! `/pets/7/owner`, a different route. [`overlaps`] decides exactly whether a grant pattern
//! covers some concrete path of a route, so the policy can add the Deny statements (or drop the
//! Allows) that keep the whole-API answer exact.

use std::collections::{BTreeSet, HashSet, VecDeque};

use portcullis::policy::RoutePattern;

/// One route of the API: a Cedar action id and what it means as a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The action id, e.g. `get /pets/{petId}`.
    pub action: String,
    /// The grant pattern covering every request of this route (`GET /pets/*`).
    pub pattern: RoutePattern,
    /// The path template's tokens, for [`overlaps`].
    template: Vec<Token>,
    /// Upper-case verb, `*` for `any`, or the route key of a named route (`$connect`).
    verb: String,
    /// A route key without a path: WebSocket `$connect`, HTTP API `$default`.
    named: bool,
}

/// A request routed to a [`Route`]: its rank (lower is more specific) and its path parameters.
pub type Routed = (Vec<u8>, Vec<(String, String)>);

/// One piece of a path template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A literal byte.
    Byte(u8),
    /// `{name}`: one or more bytes other than `/`.
    Segment,
    /// `{name+}`: one or more bytes of any kind.
    Greedy,
}

impl Route {
    /// Parses an action id of the form `"<method> /<path>"` or a route key (`$connect`,
    /// `$default`); `None` for any other action (it is not a route). `{name}` and `{name+}` are
    /// path parameters.
    pub fn parse(action: &str) -> Option<Self> {
        if action.starts_with('$') {
            let RoutePattern::Named(key) = RoutePattern::parse(action).ok()? else {
                return None;
            };
            return Some(Self {
                action: action.to_owned(),
                pattern: RoutePattern::Named(key.clone()),
                template: Vec::new(),
                verb: key,
                named: true,
            });
        }
        let (method, path) = action.split_once(' ')?;
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        let rest = path.strip_prefix('/')?;
        if rest.contains(['*', '?', ' ']) {
            return None;
        }
        let verb = match method.to_ascii_uppercase() {
            any if any == "ANY" => "*".to_owned(),
            verb => verb,
        };
        let mut template = Vec::new();
        let mut glob = String::new();
        let mut chars = rest.char_indices();
        while let Some((at, c)) = chars.next() {
            if c != '{' {
                if c == '}' {
                    return None;
                }
                let mut buf = [0; 4];
                template.extend(c.encode_utf8(&mut buf).bytes().map(Token::Byte));
                glob.push(c);
                continue;
            }
            let close = rest[at..].find('}')? + at;
            let name = &rest[at + 1..close];
            if name.is_empty() || name.contains('{') {
                return None;
            }
            template.push(if name.ends_with('+') {
                Token::Greedy
            } else {
                Token::Segment
            });
            glob.push('*');
            while chars.next().is_some_and(|(i, _)| i < close) {}
        }
        let pattern = RoutePattern::parse(&format!("{verb} /{glob}")).ok()?;
        Some(Self {
            action: action.to_owned(),
            pattern,
            template,
            verb,
            named: false,
        })
    }

    /// A concrete request path of this route (no leading `/`): each parameter becomes `value`.
    pub fn instance(&self, value: &str) -> String {
        let mut out = Vec::new();
        for token in &self.template {
            match token {
                Token::Byte(b) => out.push(*b),
                Token::Segment | Token::Greedy => out.extend_from_slice(value.as_bytes()),
            }
        }
        String::from_utf8(out).unwrap_or_default()
    }

    /// The verb a request of this route carries in its ARN (`GET`), `*` for `any`; the route
    /// key of a named route.
    pub fn verb(&self) -> &str {
        &self.verb
    }

    /// Whether this is a route key without a path (`$connect`, `$default`).
    pub fn is_named(&self) -> bool {
        self.named
    }

    /// Whether a request with `verb` and concrete `path` (no leading `/`) is routed here, the
    /// way API Gateway routes: each `{name}` takes one whole segment, a final `{name+}` one or
    /// more. `Some` holds the path parameters and the route's rank (lower is more specific:
    /// literal segments before parameters before a greedy one). `None` when the template has
    /// a parameter that is not a whole segment (API Gateway allows none).
    pub fn route(&self, verb: &str, path: &str) -> Option<Routed> {
        if self.named || (self.verb != "*" && self.verb != verb) {
            return None;
        }
        let template = self.action.split_once(' ')?.1.strip_prefix('/')?;
        let wanted: Vec<&str> = template.split('/').collect();
        let given: Vec<&str> = path.split('/').collect();
        let mut rank = Vec::with_capacity(wanted.len());
        let mut params = Vec::new();
        for (i, part) in wanted.iter().enumerate() {
            let name = part.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
            match name {
                Some(greedy) if greedy.ends_with('+') => {
                    let rest = given.get(i..).filter(|r| !r.is_empty())?.join("/");
                    if i + 1 != wanted.len() || rest.is_empty() {
                        return None;
                    }
                    params.push((greedy.trim_end_matches('+').to_owned(), rest));
                    rank.push(2);
                    return Some((rank, params));
                }
                Some(name) if !name.contains(['{', '}']) => {
                    let value = given.get(i).filter(|v| !v.is_empty())?;
                    params.push((name.to_owned(), (*value).to_owned()));
                    rank.push(1);
                }
                Some(_) => return None,
                None if part.contains(['{', '}']) => return None,
                None => {
                    if given.get(i) != Some(part) {
                        return None;
                    }
                    rank.push(0);
                }
            }
        }
        (given.len() == wanted.len()).then_some((rank, params))
    }
}

/// Whether `grant` covers at least one concrete request of `route`: the verbs meet and some
/// path matches both the grant's wildcards and the route's template.
pub fn overlaps(grant: &Route, route: &Route) -> bool {
    if grant.named || route.named {
        return grant.named && route.named && grant.verb == route.verb;
    }
    let verbs_meet = grant.verb == "*" || route.verb == "*" || grant.verb == route.verb;
    verbs_meet && paths_meet(&grant.template, &route.template)
}

/// The grant's path as the IAM matcher reads it: every parameter is a `*`, which covers one or
/// more bytes of any kind — a [`Token::Greedy`].
fn as_glob(template: &[Token]) -> Vec<Token> {
    template
        .iter()
        .map(|t| match t {
            Token::Segment => Token::Greedy,
            other => *other,
        })
        .collect()
}

/// Whether some byte string is both matched by `glob` (read as IAM wildcards) and an instance
/// of `template`: a breadth-first search of the two automata run side by side.
fn paths_meet(glob: &[Token], template: &[Token]) -> bool {
    let glob = as_glob(glob);
    // A path both match starts with both literal prefixes and ends with both literal suffixes:
    // where those disagree no search is needed (most pairs of an API's routes).
    if !literals_agree(glob.iter(), template.iter())
        || !literals_agree(glob.iter().rev(), template.iter().rev())
    {
        return false;
    }
    // The bytes that can make a difference: every literal, `/`, and one byte neither uses.
    let mut alphabet: BTreeSet<u8> = glob.iter().chain(template).filter_map(literal).collect();
    alphabet.insert(b'/');
    alphabet.extend((1..=u8::MAX).find(|b| !alphabet.contains(b)));
    let start = (closure((0, false)), closure((0, false)));
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([start]);
    while let Some((gs, ts)) = queue.pop_front() {
        if gs.contains(&(glob.len(), false)) && ts.contains(&(template.len(), false)) {
            return true;
        }
        for &byte in &alphabet {
            let g = step(&glob, &gs, byte);
            let t = step(template, &ts, byte);
            if !g.is_empty() && !t.is_empty() && seen.insert((g.clone(), t.clone())) {
                queue.push_back((g, t));
            }
        }
    }
    false
}

/// Whether two token runs read from the same end agree on their leading literal bytes, up to
/// the first wildcard of either.
fn literals_agree<'a>(
    a: impl Iterator<Item = &'a Token>,
    b: impl Iterator<Item = &'a Token>,
) -> bool {
    a.zip(b)
        .map_while(|pair| match pair {
            (Token::Byte(x), Token::Byte(y)) => Some(x == y),
            _ => None,
        })
        .all(|same| same)
}

fn literal(token: &Token) -> Option<u8> {
    match token {
        Token::Byte(b) => Some(*b),
        _ => None,
    }
}

/// A position: the next token, and whether a wildcard token there has already taken a byte.
type State = (usize, bool);

/// `state` and every state reachable by closing a wildcard that has taken at least one byte.
fn closure(state: State) -> BTreeSet<State> {
    let mut out = BTreeSet::from([state]);
    if state.1 {
        out.insert((state.0 + 1, false));
    }
    out
}

/// The states after reading `byte` from any of `states`.
fn step(tokens: &[Token], states: &BTreeSet<State>, byte: u8) -> BTreeSet<State> {
    let mut out = BTreeSet::new();
    for &(i, open) in states {
        let Some(token) = tokens.get(i) else { continue };
        let next = match (token, open) {
            (Token::Byte(b), false) if *b == byte => Some((i + 1, false)),
            (Token::Byte(_), _) => None,
            (Token::Segment, _) if byte == b'/' => None,
            (Token::Segment | Token::Greedy, _) => Some((i, true)),
        };
        if let Some(next) = next {
            out.extend(closure(next));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(action: &str) -> Route {
        Route::parse(action).unwrap()
    }

    #[test]
    fn action_ids_become_grant_patterns() {
        let cases = [
            ("get /pets", "GET /pets"),
            ("get /pets/{petId}", "GET /pets/*"),
            ("post /pets/{petId}/photos/{photo}", "POST /pets/*/photos/*"),
            ("any /files/{proxy+}", "* /files/*"),
            ("get /", "GET /"),
            ("delete /a/b-{id}.json", "DELETE /a/b-*.json"),
            ("$connect", "$connect"),
        ];
        for (action, pattern) in cases {
            assert_eq!(route(action).pattern.to_string(), pattern, "{action}");
        }
    }

    #[test]
    fn other_actions_are_not_routes() {
        for action in [
            "viewPhoto",
            "get pets",
            "get /pets/{",
            "get /pets/}",
            "get /a/{}",
            "get /a/*",
            "g3t /a",
            "",
        ] {
            assert_eq!(Route::parse(action), None, "{action:?}");
        }
    }

    #[test]
    fn instances_fill_every_parameter() {
        assert_eq!(route("get /pets/{id}/x/{y+}").instance("v"), "pets/v/x/v");
        assert_eq!(route("get /").instance("v"), "");
    }

    #[test]
    fn requests_are_routed_like_api_gateway() {
        let routes = [
            route("get /pets/{petId}"),
            route("get /pets/mine"),
            route("get /pets/{petId}/owner"),
            route("any /files/{path+}"),
            route("get /a/b-{id}.json"),
        ];
        let best = |verb: &str, path: &str| {
            routes
                .iter()
                .filter_map(|r| r.route(verb, path).map(|(rank, params)| (rank, r, params)))
                .min_by(|a, b| a.0.cmp(&b.0))
                .map(|(_, r, params)| (r.action.clone(), params))
        };
        let p = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            best("GET", "pets/7"),
            Some(("get /pets/{petId}".into(), vec![p("petId", "7")]))
        );
        assert_eq!(
            best("GET", "pets/mine"),
            Some(("get /pets/mine".into(), vec![]))
        );
        assert_eq!(
            best("GET", "pets/7/owner"),
            Some(("get /pets/{petId}/owner".into(), vec![p("petId", "7")]))
        );
        assert_eq!(
            best("PUT", "files/a/b/c"),
            Some(("any /files/{path+}".into(), vec![p("path", "a/b/c")]))
        );
        for (verb, path) in [
            ("POST", "pets/7"),
            ("GET", "pets"),
            ("GET", "pets/7/x"),
            ("GET", "files"),
            ("GET", "a/b-1.json"),
            ("GET", "pets//owner"),
        ] {
            assert_eq!(best(verb, path), None, "{verb} {path}");
        }
    }

    #[test]
    fn overlap_is_decided_on_concrete_paths() {
        let cases = [
            // A parameter's `*` reaches deeper routes …
            ("get /pets/{id}", "get /pets/{id}/owner", true),
            // … but a literal route never reaches a parameter's other segments.
            ("get /pets/{id}/owner", "get /pets/{id}", false),
            ("get /pets", "get /pets/{id}", false),
            ("get /pets/{id}", "get /pets", false),
            ("get /pets/{id}", "get /pets/mine", true),
            ("get /pets/mine", "get /pets/{id}", true),
            ("get /a/{x}.json", "get /a/{y}", true),
            ("get /a/{x}.json", "get /a/b", false),
            ("get /files/{p+}", "get /files/a/b", true),
            ("get /files/a/b", "get /files/{p}", false),
            ("get /files/a/b", "get /files/{p+}", true),
            // Verbs must meet.
            ("get /pets/{id}", "post /pets/{id}/owner", false),
            ("any /pets/{id}", "post /pets/{id}/owner", true),
            ("get /x", "any /x", true),
            // Route keys meet only themselves.
            ("$connect", "$connect", true),
            ("$connect", "$disconnect", false),
            ("any /", "$default", false),
        ];
        for (grant, target, expected) in cases {
            assert_eq!(
                overlaps(&route(grant), &route(target)),
                expected,
                "{grant} over {target}"
            );
        }
    }
}
