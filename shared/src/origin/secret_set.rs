//! The parameter's value: one secret per line.

use crate::secrets::SecretString;

/// Shortest secret accepted; shorter lines make the whole parameter invalid.
pub const MIN_SECRET_LEN: usize = 16;
/// Most lines accepted (rotation needs two).
pub const MAX_SECRETS: usize = 8;

/// The secrets currently accepted, in parameter order. `Debug` shows only the count.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretSet(Vec<String>);

impl std::fmt::Debug for SecretSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretSet(<{} secrets redacted>)", self.0.len())
    }
}

impl SecretSet {
    /// Parses the parameter: lines trimmed, blank lines skipped; every secret at least
    /// [`MIN_SECRET_LEN`] visible ASCII characters without `,` (HTTP APIs join repeated headers
    /// with commas). Errors name the line, never its content.
    pub fn parse(raw: &SecretString) -> Result<Self, String> {
        let mut secrets = Vec::new();
        for (index, line) in raw.expose().lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let n = index + 1;
            if line.len() < MIN_SECRET_LEN {
                return Err(format!(
                    "line {n}: secret shorter than {MIN_SECRET_LEN} characters"
                ));
            }
            if !line.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
                return Err(format!(
                    "line {n}: secret must be visible ASCII without commas"
                ));
            }
            secrets.push(line.to_owned());
        }
        if secrets.is_empty() {
            return Err("parameter holds no secret".into());
        }
        if secrets.len() > MAX_SECRETS {
            return Err(format!(
                "parameter holds {} secrets, at most {MAX_SECRETS}",
                secrets.len()
            ));
        }
        Ok(Self(secrets))
    }

    /// The secrets, in parameter order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}
