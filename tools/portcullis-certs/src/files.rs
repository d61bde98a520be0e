//! Reading PEM files and writing outputs: private keys are created with mode 0600 (never
//! chmod-ed afterwards), nothing existing is replaced without `force`.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use rcgen::KeyPair;
use rustls_pki_types::pem::{PemObject, SectionKind};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::error::{Error, Result};

/// Who may read a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A private key: owner read/write only (0600).
    Private,
    /// A certificate or truststore: world-readable (0644).
    Public,
}

impl Access {
    fn mode(self) -> u32 {
        match self {
            Self::Private => 0o600,
            Self::Public => 0o644,
        }
    }
}

/// Creates `dir` (and its parents) with mode 0700 where missing; it will hold private keys.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(dir, e))
}

/// Fails on the first of `paths` that exists, unless `force`. Run before generating anything,
/// so a refused command leaves no partial output.
pub fn refuse_existing(paths: &[&Path], force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    match paths.iter().find(|p| p.symlink_metadata().is_ok()) {
        Some(p) => Err(Error::Exists {
            path: p.to_path_buf(),
        }),
        None => Ok(()),
    }
}

/// Writes `contents` to a new file at `path` created with `access`'s mode. With `force` an
/// existing file is removed first, so the new one is created with that mode too.
pub fn write_new(path: &Path, contents: &[u8], access: Access, force: bool) -> Result<()> {
    if force {
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(access.mode())
        .open(path)
        .map_err(|e| match e.kind() {
            ErrorKind::AlreadyExists => Error::Exists {
                path: path.to_path_buf(),
            },
            _ => Error::io(path, e),
        })?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(path, e))
}

/// `der` as a PEM `CERTIFICATE` block (base64 in 64-column lines).
pub fn certificate_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// The certificates (DER) in the PEM file at `path`, in file order; each parses as X.509.
/// Refuses a file without one, and a file that also holds a private key.
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut certs = Vec::new();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(&bytes) {
        let (kind, der) = section.map_err(|_| Error::file(path, "malformed PEM"))?;
        match kind {
            SectionKind::Certificate => {
                if X509Certificate::from_der(&der).is_err() {
                    return Err(Error::file(path, "a CERTIFICATE block is not X.509"));
                }
                certs.push(der);
            }
            SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey => {
                return Err(Error::file(
                    path,
                    "holds a private key; pass a file with certificates only",
                ));
            }
            _ => {}
        }
    }
    if certs.is_empty() {
        return Err(Error::file(path, "no PEM CERTIFICATE block"));
    }
    Ok(certs)
}

/// The one certificate (DER) in the PEM file at `path`.
pub fn read_certificate(path: &Path) -> Result<Vec<u8>> {
    let mut certs = read_certificates(path)?;
    match certs.len() {
        1 => Ok(certs.remove(0)),
        n => Err(Error::file(
            path,
            format!("holds {n} certificates; expected exactly one"),
        )),
    }
}

/// The private key in the PEM file at `path`. Refuses a key readable by group or others.
/// Errors never quote the file: they say what is wrong with it, not what it holds.
pub fn read_private_key(path: &Path) -> Result<KeyPair> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::file(path, "not a regular file"));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::file(
            path,
            format!("private key readable by group or others (mode {mode:04o}); chmod 600 it"),
        ));
    }
    let pem = fs::read(path).map_err(|e| Error::io(path, e))?;
    let der = rustls_pki_types::PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|_| Error::file(path, "no readable PEM private key"))?;
    KeyPair::try_from(&der).map_err(|_| {
        Error::file(
            path,
            "unsupported private key (expected ECDSA P-256 or RSA, PKCS#8)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn private_files_are_created_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        write_new(&path, b"x", Access::Private, false).unwrap();
        assert_eq!(mode_of(&path), 0o600);
    }

    #[test]
    fn an_existing_file_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        fs::write(&path, b"old").unwrap();
        let err = write_new(&path, b"new", Access::Private, false).unwrap_err();
        assert!(
            matches!(&err, Error::Exists { path: p } if *p == path),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{} already exists (pass --force to replace it)",
                path.display()
            )
        );
        assert_eq!(fs::read(&path).unwrap(), b"old");
        let err = refuse_existing(&[&dir.path().join("other"), &path], false).unwrap_err();
        assert!(
            matches!(&err, Error::Exists { path: p } if *p == path),
            "{err}"
        );
    }

    #[test]
    fn a_dangling_symlink_counts_as_existing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &path).unwrap();
        assert!(matches!(
            refuse_existing(&[&path], false),
            Err(Error::Exists { .. })
        ));
        assert!(matches!(
            write_new(&path, b"x", Access::Private, false),
            Err(Error::Exists { .. })
        ));
        assert!(!dir.path().join("nowhere").exists());
    }

    #[test]
    fn force_recreates_a_world_readable_file_as_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        refuse_existing(&[&path], true).unwrap();
        write_new(&path, b"new", Access::Private, true).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(mode_of(&path), 0o600);
    }

    #[test]
    fn a_group_readable_private_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        fs::write(&path, KeyPair::generate().unwrap().serialize_pem()).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let err = read_private_key(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: private key readable by group or others (mode 0640); chmod 600 it",
                path.display()
            )
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        read_private_key(&path).unwrap();
    }

    #[test]
    fn certificate_files_must_hold_certificates_only() {
        let dir = tempfile::tempdir().unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::default()
            .self_signed(&key)
            .unwrap();

        let empty = dir.path().join("empty.pem");
        fs::write(&empty, "").unwrap();
        let err = read_certificates(&empty).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("{}: no PEM CERTIFICATE block", empty.display())
        );

        let with_key = dir.path().join("with-key.pem");
        fs::write(&with_key, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
        let err = read_certificates(&with_key).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: holds a private key; pass a file with certificates only",
                with_key.display()
            )
        );

        let two = dir.path().join("two.pem");
        fs::write(&two, format!("{}{}", cert.pem(), cert.pem())).unwrap();
        assert_eq!(read_certificates(&two).unwrap().len(), 2);
        let err = read_certificate(&two).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: holds 2 certificates; expected exactly one",
                two.display()
            )
        );

        let garbage = dir.path().join("garbage.pem");
        fs::write(
            &garbage,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = read_certificates(&garbage).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("{}: a CERTIFICATE block is not X.509", garbage.display())
        );
    }
}
