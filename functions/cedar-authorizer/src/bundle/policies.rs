//! A snapshot's policy texts → one [`PolicySet`], each policy named after the entry it came from.
//!
//! Cedar's parser costs far more to set up than to run on one small policy (100 separate
//! `PolicySet::from_str` calls take about three times one call on the 100 texts together), so
//! the entries are parsed as one text, each preceded by an [`ENTRY`] annotation that tells
//! whose policies follow. When that cannot be trusted (an entry ending inside a string, an entry
//! without a policy, an annotation clash, a parse error) every entry is parsed on its own, which
//! also names the entry at fault.

use std::fmt::Write;
use std::str::FromStr;

use cedar_policy::{Policy, PolicyId, PolicySet};

use super::PolicyText;

/// The annotation marking where entry `<n>` starts in the text parsed at once; it stays on the
/// entry's first policy (annotations take no part in a decision).
pub const ENTRY: &str = "portcullis_entry";

/// One entry is one policy (Verified Permissions) or a file of several: those are numbered
/// `<id>#0`, `<id>#1`, … in order.
pub fn parse_policies(entries: &[PolicyText]) -> Result<PolicySet, String> {
    let groups = match parse_together(entries) {
        Some(groups) => groups,
        None => parse_each(entries)?,
    };
    named(entries, groups)
}

/// The set of every entry's policies (`groups`, in entry order), each named after its entry.
fn named(entries: &[PolicyText], groups: Vec<Vec<Policy>>) -> Result<PolicySet, String> {
    let mut set = PolicySet::new();
    for (entry, policies) in entries.iter().zip(groups) {
        let single = policies.len() == 1;
        for (n, policy) in policies.into_iter().enumerate() {
            let id = if single {
                entry.id.clone()
            } else {
                format!("{}#{n}", entry.id)
            };
            set.add(policy.new_id(PolicyId::new(&id)))
                .map_err(|e| format!("policy {id} cannot be added: {e}"))?;
        }
    }
    Ok(set)
}

/// Every entry's policies from one parse of all the entries, or `None` when the grouping
/// cannot be told from the [`ENTRY`] annotations.
fn parse_together(entries: &[PolicyText]) -> Option<Vec<Vec<Policy>>> {
    // An entry ending inside a string could swallow the next entry's annotation.
    if !entries.iter().all(|e| ends_between_tokens(&e.statement)) {
        return None;
    }
    let mut text = String::new();
    for (n, entry) in entries.iter().enumerate() {
        // Infallible: writing to a String.
        let _ = writeln!(text, "@{ENTRY}(\"{n}\")\n{}", entry.statement);
    }
    let set = PolicySet::from_str(&text).ok()?;
    if set.templates().next().is_some() {
        return None;
    }
    let mut groups: Vec<Vec<Policy>> = Vec::with_capacity(entries.len());
    for policy in in_source_order(&set) {
        match policy.annotation(ENTRY) {
            Some(n) if n == groups.len().to_string() => groups.push(vec![policy]),
            Some(_) => return None,
            None => groups.last_mut()?.push(policy),
        }
    }
    (groups.len() == entries.len()).then_some(groups)
}

/// Every entry's policies, each entry parsed on its own.
fn parse_each(entries: &[PolicyText]) -> Result<Vec<Vec<Policy>>, String> {
    entries
        .iter()
        .map(|entry| {
            let parsed = PolicySet::from_str(&entry.statement)
                .map_err(|e| format!("policy {} does not parse: {e}", entry.id))?;
            if parsed.templates().next().is_some() {
                return Err(format!(
                    "policy {}: templates are not supported, only static policies",
                    entry.id
                ));
            }
            Ok(in_source_order(&parsed))
        })
        .collect()
}

/// `PolicySet::from_str` names policies policy0, policy1, … in source order.
fn in_source_order(set: &PolicySet) -> Vec<Policy> {
    let mut policies = set.policies().cloned().collect::<Vec<_>>();
    policies.sort_by_key(|p| {
        p.id()
            .to_string()
            .trim_start_matches("policy")
            .parse::<usize>()
            .unwrap_or(usize::MAX)
    });
    policies
}

/// Whether Cedar text ends outside a string literal (a `//` comment ends at the newline the
/// joined text puts after it). Cedar has no other multi-line token.
fn ends_between_tokens(text: &str) -> bool {
    code_of(text).is_some()
}

/// Whether Cedar text may read the `context` variable: the word `context` outside strings and
/// comments, except where it can only be an attribute name (after `.` or `has`), an annotation
/// (after `@`), a record key (before a lone `:`) or a path segment (beside `::`). Text that
/// ends inside a string counts as reading it. Cheaper than walking each policy's JSON form
/// (which cost as much as validating the whole set), and errs only towards "reads".
pub fn may_read_context(text: &str) -> bool {
    let Some(code) = code_of(text) else {
        return true;
    };
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut previous = "";
    let mut rest = code.as_str();
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic() || c == '_') {
        let (gap, tail) = rest.split_at(start);
        let end = tail.find(|c: char| !is_word(c)).unwrap_or(tail.len());
        let (word, after) = tail.split_at(end);
        let before = gap.trim_end();
        let attribute_or_key = (before.is_empty() && previous == "has")
            || before.ends_with(['.', '@'])
            || before.ends_with("::")
            || after.trim_start().starts_with(':');
        if word == "context" && !attribute_or_key {
            return true;
        }
        previous = word;
        rest = after;
    }
    false
}

/// `text` with every string literal emptied (`""`) and every `//` comment removed, or `None`
/// when it ends inside a string.
fn code_of(text: &str) -> Option<String> {
    let mut code = String::with_capacity(text.len());
    let mut chars = text.chars();
    let (mut in_string, mut in_comment) = (false, false);
    while let Some(c) = chars.next() {
        if in_comment {
            in_comment = c != '\n';
            if !in_comment {
                code.push('\n');
            }
        } else if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_string = false;
                    code.push('"');
                }
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            code.push('"');
        } else if c == '/' && chars.as_str().starts_with('/') {
            in_comment = true;
        } else {
            code.push(c);
        }
    }
    (!in_string).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(texts: &[(&str, &str)]) -> Vec<PolicyText> {
        texts
            .iter()
            .map(|(id, statement)| PolicyText {
                id: (*id).to_owned(),
                statement: (*statement).to_owned(),
            })
            .collect()
    }

    /// Each policy's id and its Cedar text as written, from its effect on (annotations left
    /// out), in id order.
    fn listed(set: &PolicySet) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = set
            .policies()
            .map(|p| {
                let text = p.to_string();
                let body = &text[text.find("permit").or(text.find("forbid")).unwrap()..];
                (
                    p.id().to_string(),
                    body.split_whitespace().collect::<Vec<_>>().join(" "),
                )
            })
            .collect();
        out.sort();
        out
    }

    const A: &str = r#"permit(principal, action == Api::Action::"get /a", resource);"#;
    const B: &str = r#"forbid(principal == Api::User::"x", action, resource);"#;
    const FILE: &str = "// two policies\npermit(principal, action, resource) when { \"a//b\" == \"a//b\" };\n@id(\"second\")\nforbid(principal, action, resource); // last";

    #[test]
    fn entries_are_parsed_together_and_named_after_their_entry() {
        let parts = entries(&[("pA", A), ("file.cedar", FILE), ("pB", B)]);
        let together = parse_together(&parts).expect("grouped from one parse");
        assert_eq!(together.iter().map(Vec::len).collect::<Vec<_>>(), [1, 2, 1]);
        let set = parse_policies(&parts).unwrap();
        let expected = vec![
            (
                "file.cedar#0".to_owned(),
                r#"permit(principal, action, resource) when { "a//b" == "a//b" };"#.to_owned(),
            ),
            (
                "file.cedar#1".to_owned(),
                "forbid(principal, action, resource);".to_owned(),
            ),
            ("pA".to_owned(), A.to_owned()),
            ("pB".to_owned(), B.to_owned()),
        ];
        assert_eq!(listed(&set), expected);
        // The same policies, ids and texts as when each entry is parsed alone.
        let each = named(&parts, parse_each(&parts).unwrap()).unwrap();
        assert_eq!(listed(&each), expected);
    }

    #[test]
    fn what_cannot_be_grouped_falls_back_to_one_parse_per_entry() {
        let cases: [(&str, Vec<PolicyText>); 4] = [
            (
                "an entry without a policy",
                entries(&[("pA", A), ("empty", "// nothing"), ("pB", B)]),
            ),
            (
                "an entry ending inside a string",
                entries(&[
                    ("pA", "permit(principal, action, resource) when { \"x"),
                    ("pB", B),
                ]),
            ),
            (
                "the annotation already used",
                entries(&[("pA", &format!("@{ENTRY}(\"0\") {A}")), ("pB", B)]),
            ),
            (
                "the annotation on a later policy",
                entries(&[("pA", &format!("{A} @{ENTRY}(\"1\") {B}")), ("pB", B)]),
            ),
        ];
        for (case, parts) in cases {
            assert!(parse_together(&parts).is_none(), "{case}");
        }
        let set =
            parse_policies(&entries(&[("pA", A), ("empty", "// nothing"), ("pB", B)])).unwrap();
        assert_eq!(
            listed(&set)
                .into_iter()
                .map(|(id, _)| id)
                .collect::<Vec<_>>(),
            ["pA", "pB"]
        );
        let error = parse_policies(&entries(&[
            ("pA", "permit(principal, action, resource) when { \"x"),
            ("pB", B),
        ]))
        .unwrap_err();
        assert!(error.starts_with("policy pA does not parse"), "{error}");
    }

    /// Whether a policy's JSON form uses the `context` variable: Cedar's own reading, the oracle.
    fn json_reads_context(json: &serde_json::Value) -> bool {
        match json {
            serde_json::Value::Object(map) => map.iter().any(|(key, value)| {
                (key == "Var" && value == "context") || json_reads_context(value)
            }),
            serde_json::Value::Array(items) => items.iter().any(json_reads_context),
            _ => false,
        }
    }

    #[test]
    fn context_reads_are_found_where_cedar_finds_them() {
        let head = "permit(principal, action, resource)";
        for (condition, reads) in [
            ("when { context has pathParameters }", true),
            ("when { context.a == 1 }", true),
            ("unless { context }", true),
            ("when { {a: context}.a == 1 }", true),
            ("when { principal.a == context . b }", true),
            ("when { [context].contains(context) }", true),
            ("when { principal has context }", false),
            ("when { principal.context == 1 }", false),
            ("when { principal .context == 1 }", false),
            ("when { {context: 1}.context == 1 }", false),
            ("when { \"context\" == \"a // context\" }", false),
            ("when { principal.a == 1 } // context\n", false),
            ("when { resource.contexts == 1 }", false),
        ] {
            let text = format!("{head} {condition};");
            let policy = Policy::parse(None, &text).expect(&text);
            assert_eq!(
                json_reads_context(&policy.to_json().unwrap()),
                reads,
                "oracle: {text}"
            );
            assert_eq!(may_read_context(&text), reads, "{text}");
        }
        let annotated = format!("@context(\"x\") {head};");
        assert!(Policy::parse(None, &annotated).is_ok());
        assert!(!may_read_context(&annotated));
        assert!(
            may_read_context(&format!("{head} when {{ \"x }};")),
            "ends inside a string"
        );
    }

    #[test]
    fn the_lexical_scan_knows_strings_escapes_and_comments() {
        for (text, expected) in [
            (A, true),
            (r#"when { "a\"b" }"#, true),
            (r#"when { "a\\" }"#, true),
            (r#"when { "a\" }"#, false),
            ("// a \" in a comment", true),
            ("permit // \"\n when { \"", false),
            ("\"//\" \"", false),
        ] {
            assert_eq!(ends_between_tokens(text), expected, "{text}");
        }
    }
}
