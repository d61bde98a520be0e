//! The one error a rules document can fail with: where, and why.

use std::fmt;

/// A rules document was rejected. `path` names the offending entry the way an operator would
/// find it (`tenants[2].sourceIp.allow[0]`); `reason` says what is wrong without echoing secret
/// values (a `sha256` field may hold a pasted plaintext key, so it is never quoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesError {
    /// Location in the document; `document` for errors about the whole text.
    pub path: String,
    /// What is wrong and, where possible, how to fix it.
    pub reason: String,
}

impl RulesError {
    pub(crate) fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

impl std::error::Error for RulesError {}
