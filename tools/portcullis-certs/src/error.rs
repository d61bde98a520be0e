//! One error type. Every message names the file it is about and is written here, never copied
//! from a parser, so no message can quote key material.

use std::io;
use std::path::{Path, PathBuf};

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing `path` failed.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// `path` exists and `--force` was not given.
    #[error("{} already exists (pass --force to replace it)", path.display())]
    Exists { path: PathBuf },
    /// The contents or permissions of `path` are not what the command needs.
    #[error("{}: {reason}", path.display())]
    File { path: PathBuf, reason: String },
    /// The requested certificate is refused (validity, names).
    #[error("{0}")]
    Refused(String),
    /// Key generation or signing failed.
    #[error("certificate generation failed: {0}")]
    Generate(String),
}

impl Error {
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn file(path: &Path, reason: impl Into<String>) -> Self {
        Self::File {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// This crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
