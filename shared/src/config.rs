//! Environment settings, read once at init with errors that name the variable.
//!
//! An empty variable counts as unset (templates often pass empty parameters through).

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

/// Where settings come from.
pub trait Env {
    /// The value of `name`, `None` when unset or empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

/// A fixed map, for tests.
#[derive(Debug, Clone, Default)]
pub struct MapEnv(pub HashMap<String, String>);

impl MapEnv {
    /// From `(name, value)` pairs.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

/// A setting that is missing or wrong; `Display` names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error in {var}: {reason}")]
pub struct ConfigError {
    /// The environment variable.
    pub var: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ConfigError {
    /// An error about `var`.
    pub fn new(var: &str, reason: impl Into<String>) -> Self {
        Self {
            var: var.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A required setting.
pub fn required(env: &impl Env, name: &str) -> Result<String, ConfigError> {
    env.var(name)
        .ok_or_else(|| ConfigError::new(name, "is required but not set"))
}

/// A setting parsed with `FromStr`, or `default` when unset.
pub fn parse_or<T>(env: &impl Env, name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    match env.var(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e| ConfigError::new(name, format!("cannot parse {raw:?}: {e}"))),
    }
}

/// [`parse_or`] under `name`, or under its deprecated name `old` (with a warning) when only
/// that one is set.
pub fn parse_or_renamed<T>(
    env: &impl Env,
    name: &str,
    old: &str,
    default: T,
) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    if env.var(name).is_none() && env.var(old).is_some() {
        tracing::warn!(
            setting = old,
            replacement = name,
            "deprecated setting name: rename it, it will stop being read"
        );
        return parse_or(env, old, default);
    }
    parse_or(env, name, default)
}

/// A duration in whole seconds within `range`, or `default` seconds when unset.
pub fn seconds_or(
    env: &impl Env,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Duration, ConfigError> {
    let secs: u64 = parse_or(env, name, default)?;
    if !range.contains(&secs) {
        return Err(ConfigError::new(
            name,
            format!(
                "{secs} is outside {}..={} seconds",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(Duration::from_secs(secs))
}

/// A comma-separated list, trimmed, empty items dropped; empty when unset.
pub fn list(env: &impl Env, name: &str) -> Vec<String> {
    env.var(name)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_variable() {
        let env = MapEnv::from_pairs([("N", "abc"), ("E", ""), ("T", "4000")]);
        assert_eq!(
            required(&env, "E").unwrap_err().to_string(),
            "configuration error in E: is required but not set"
        );
        assert_eq!(
            parse_or::<u64>(&env, "N", 1).unwrap_err().to_string(),
            "configuration error in N: cannot parse \"abc\": invalid digit found in string"
        );
        assert_eq!(parse_or::<u64>(&env, "MISSING", 7), Ok(7));
        assert_eq!(
            seconds_or(&env, "T", 300, 1..=3600)
                .unwrap_err()
                .to_string(),
            "configuration error in T: 4000 is outside 1..=3600 seconds"
        );
        assert_eq!(
            seconds_or(&env, "U", 300, 1..=3600),
            Ok(Duration::from_secs(300))
        );
    }

    #[test]
    fn a_renamed_setting_is_still_read_but_the_new_name_wins() {
        let old = MapEnv::from_pairs([("OLD", "7")]);
        assert_eq!(parse_or_renamed::<u64>(&old, "NEW", "OLD", 1), Ok(7));
        let both = MapEnv::from_pairs([("OLD", "7"), ("NEW", "8")]);
        assert_eq!(parse_or_renamed::<u64>(&both, "NEW", "OLD", 1), Ok(8));
        let bad = MapEnv::from_pairs([("OLD", "x")]);
        assert_eq!(
            parse_or_renamed::<u64>(&bad, "NEW", "OLD", 1)
                .unwrap_err()
                .var,
            "OLD"
        );
        assert_eq!(
            parse_or_renamed::<u64>(&MapEnv::default(), "NEW", "OLD", 1),
            Ok(1)
        );
    }

    #[test]
    fn lists_are_trimmed() {
        let env = MapEnv::from_pairs([("L", " a, b ,,c ")]);
        assert_eq!(list(&env, "L"), vec!["a", "b", "c"]);
        assert!(list(&env, "NONE").is_empty());
    }
}
