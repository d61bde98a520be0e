//! Demo values into moto: a file of `events/` stored in the SSM parameter a `demo.env` names.

use std::path::Path;

use portcullis_tests::Moto;

/// Stores `file` (trailing newline trimmed) as a SecureString under the parameter that `env`'s
/// `variable` names; that name, or `None` (printed) when the variable is unset or the file
/// missing or empty.
pub async fn parameter(
    moto: &Moto,
    env: &[(String, String)],
    variable: &str,
    file: &Path,
) -> Option<String> {
    let Some((_, name)) = env.iter().find(|(k, _)| k == variable) else {
        println!("demo.env does not set {variable}");
        return None;
    };
    let value = std::fs::read_to_string(file).unwrap_or_default();
    if value.trim().is_empty() {
        println!("{} is missing or empty", file.display());
        return None;
    }
    moto.put_secure(name, value.trim_end()).await;
    Some(name.clone())
}
