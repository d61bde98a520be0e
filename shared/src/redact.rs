//! Error text without the input that caused it.
//!
//! serde quotes the offending input in its messages (`invalid type: string "…"`,
//! ``unknown field `…` ``, ``integer `…` ``). When the input is an authorizer event or a rules
//! document, that text can be a header secret, a token or an API key. [`serde_message`] keeps
//! only what comes from our own types and drops every input-derived value.

/// What an unexpected value was, as serde and serde_json name it. A kind not listed here is
/// reported as `value`: serde's `Unexpected::Other` may carry any text.
const KINDS: [&str; 18] = [
    "boolean",
    "integer",
    "floating point",
    "character",
    "string",
    "byte array",
    "unit value",
    "Option value",
    "newtype struct",
    "sequence",
    "map",
    "enum",
    "unit variant",
    "newtype variant",
    "tuple variant",
    "struct variant",
    "null",
    "number",
];

const EXPECTED: &str = ", expected ";

/// A serde (serde_json, toml, serde_path_to_error) error message with every input-derived
/// value removed.
///
/// Kept: the kind of error (the text before the first quote), the kind of value that was
/// found (`string`, `integer`, …), the `expected …` clause (it describes our types), the names
/// in ``missing field `x` `` / ``duplicate field `x` `` (they come from our types too) and a
/// trailing ` at line L column C`. Dropped: every quoted, backticked or escaped value,
/// including unknown field and variant names, which the input chose.
pub fn serde_message(message: &str) -> String {
    let (body, position) = split_position(message);
    let mut out = sanitize(body);
    out.push_str(position);
    out
}

fn sanitize(message: &str) -> String {
    for head in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(head) {
            return with_expected(&format!("{head}{}", kind_of(rest)), rest);
        }
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        return with_expected("invalid length", rest);
    }
    for (what, none) in [
        ("unknown field", ", there are no fields"),
        ("unknown variant", ", there are no variants"),
    ] {
        if let Some(rest) = message.strip_prefix(what) {
            // The name the input chose sits between the backticks and may itself contain
            // backticks or ", expected "; serde always ends with one of these two clauses.
            return if rest.ends_with(none) {
                format!("{what}{none}")
            } else {
                with_expected(what, rest)
            };
        }
    }
    for what in ["missing field", "duplicate field"] {
        if let Some(rest) = message.strip_prefix(what) {
            return match rest.strip_prefix(" `").and_then(|r| r.strip_suffix('`')) {
                Some(name) if is_name(name) => format!("{what} `{name}`"),
                _ => what.to_owned(),
            };
        }
    }
    if message.starts_with("expected ") {
        // A syntax error such as "expected `,` or `}`": serde_json's own text, no input.
        return message.to_owned();
    }
    let kind = &message[..message.find(EXPECTED).unwrap_or(message.len())];
    let head = before_quote(kind);
    let head = if head.is_empty() {
        "invalid input"
    } else {
        head
    };
    with_expected(head, message)
}

/// `head` followed by the `expected …` clause of `rest`, if any. serde writes that clause
/// last, after the input-derived value, so the last occurrence is the real one even when the
/// value contains ", expected ".
fn with_expected(head: &str, rest: &str) -> String {
    match rest.rfind(EXPECTED) {
        Some(i) => format!("{head}{EXPECTED}{}", &rest[i + EXPECTED.len()..]),
        None => head.to_owned(),
    }
}

/// The kind at the start of serde's `Unexpected` text: `string "…"` → `string`.
fn kind_of(unexpected: &str) -> &'static str {
    KINDS
        .iter()
        .find(|kind| {
            unexpected
                .strip_prefix(**kind)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', ',']))
        })
        .copied()
        .unwrap_or("value")
}

/// The text before the first quote character, without trailing separators.
fn before_quote(message: &str) -> &str {
    let end = message
        .find(['"', '`', '\'', '\\'])
        .unwrap_or(message.len());
    message[..end].trim_end_matches([' ', ':', ','])
}

/// A field name as our types spell them.
fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Splits off serde_json's trailing ` at line L column C` (digits only, so nothing to hide).
fn split_position(message: &str) -> (&str, &str) {
    let Some(i) = message.rfind(" at line ") else {
        return (message, "");
    };
    let tail = &message[i + " at line ".len()..];
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match tail.split_once(" column ") {
        Some((line, column)) if digits(line) && digits(column) => message.split_at(i),
        _ => (message, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_are_dropped_even_with_an_embedded_quote() {
        assert_eq!(
            serde_message(r#"invalid type: string "sk-live-123", expected a sequence"#),
            "invalid type: string, expected a sequence"
        );
        // serde prints the value with Debug: an embedded quote arrives as \" and must not end
        // the value early.
        assert_eq!(
            serde_message(r#"invalid type: string "abc\"secret-rest", expected a sequence"#),
            "invalid type: string, expected a sequence"
        );
        assert_eq!(
            serde_message(
                r#"invalid value: string "x\", expected a map, secret-tail", expected valid method name"#
            ),
            "invalid value: string, expected valid method name"
        );
    }

    #[test]
    fn backticked_values_are_dropped() {
        assert_eq!(
            serde_message("invalid type: integer `12345678`, expected a string"),
            "invalid type: integer, expected a string"
        );
        assert_eq!(
            serde_message("invalid type: floating point `1.5`, expected u32"),
            "invalid type: floating point, expected u32"
        );
        assert_eq!(
            serde_message("invalid type: boolean `true`, expected a string"),
            "invalid type: boolean, expected a string"
        );
        assert_eq!(
            serde_message("invalid type: null, expected a string"),
            "invalid type: null, expected a string"
        );
        assert_eq!(
            serde_message("invalid type: sk-live-other, expected a string"),
            "invalid type: value, expected a string"
        );
        assert_eq!(
            serde_message("invalid length 3, expected a tuple of size 2"),
            "invalid length, expected a tuple of size 2"
        );
        assert_eq!(
            serde_message("invalid time delta seconds `sk-live-9`"),
            "invalid time delta seconds"
        );
    }

    #[test]
    fn unknown_names_are_dropped_and_the_expected_names_kept() {
        assert_eq!(
            serde_message("unknown field `sk-live-abc`, expected one of `id`, `tier`"),
            "unknown field, expected one of `id`, `tier`"
        );
        assert_eq!(
            serde_message("unknown field `a`, expected `b`, expected `allow` or `deny`"),
            "unknown field, expected `allow` or `deny`"
        );
        assert_eq!(
            serde_message("unknown field `x`, expected `y`, there are no fields"),
            "unknown field, there are no fields"
        );
        assert_eq!(
            serde_message("unknown variant `sk-live-v`, expected `simple` or `iam`"),
            "unknown variant, expected `simple` or `iam`"
        );
        assert_eq!(
            serde_message("unknown variant `sk`, there are no variants"),
            "unknown variant, there are no variants"
        );
    }

    #[test]
    fn schema_names_are_kept() {
        assert_eq!(
            serde_message("missing field `apiKeys`"),
            "missing field `apiKeys`"
        );
        assert_eq!(
            serde_message("duplicate field `grants`"),
            "duplicate field `grants`"
        );
        assert_eq!(serde_message("missing field `a b`secret`"), "missing field");
    }

    #[test]
    fn other_messages_keep_their_text_before_the_first_quote() {
        assert_eq!(
            serde_message("data did not match any variant of untagged enum OneOrMany"),
            "data did not match any variant of untagged enum OneOrMany"
        );
        assert_eq!(
            serde_message("expected `,` or `}` at line 1 column 9"),
            "expected `,` or `}` at line 1 column 9"
        );
        assert_eq!(
            serde_message("invalid basic string, expected `\"`"),
            "invalid basic string, expected `\"`"
        );
        assert_eq!(serde_message("\"sk-live-lead\" is wrong"), "invalid input");
        assert_eq!(
            serde_message("EOF while parsing a value"),
            "EOF while parsing a value"
        );
    }

    #[test]
    fn a_position_is_kept_only_when_it_is_one() {
        assert_eq!(
            serde_message(r#"invalid type: string "s", expected a map at line 3 column 14"#),
            "invalid type: string, expected a map at line 3 column 14"
        );
        assert_eq!(
            serde_message(r#"unknown field `k at line 1 column x`, expected `id`"#),
            "unknown field, expected `id`"
        );
    }
}
