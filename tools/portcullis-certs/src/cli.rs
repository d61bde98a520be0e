//! The command line: `ca`, `client`, `truststore`, `fingerprint`. Results go to stdout (the
//! pin), what was written to stderr; keys only ever go to 0600 files.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::files::{self, Access};
use crate::fingerprint;
use crate::issue::{self, Ca, KeyType, Validity, rfc3339};
use crate::truststore;

/// Certificates for locking API Gateway to CloudFront with origin mutual TLS
/// (docs/origin-mtls.md).
#[derive(Debug, Parser)]
#[command(name = "portcullis-certs", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a private CA: <OUT_DIR>/ca-private-key.pem (0600) and ca-certificate.pem.
    Ca(CaArgs),
    /// Issue CloudFront's client certificate, signed by a CA: <OUT_DIR>/certificate.pem,
    /// private-key.pem (0600) and certificate-chain.pem, the three parts ACM imports. Prints
    /// the certificate's SHA-256 pin.
    Client(ClientArgs),
    /// Write the API Gateway truststore: the given CA certificates, concatenated.
    Truststore(TruststoreArgs),
    /// Print the SHA-256 pin of a PEM certificate (lower-case hex of its DER).
    Fingerprint(FingerprintArgs),
}

/// `ca`.
#[derive(Debug, Args)]
pub struct CaArgs {
    /// Directory to write to (created with mode 0700 if missing).
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Common name of the CA.
    #[arg(long, default_value = "portcullis origin CA")]
    pub cn: String,
    /// Validity in days.
    #[arg(long, default_value_t = 1825, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub days: u32,
    #[command(flatten)]
    pub common: IssueArgs,
}

/// `client`.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// CA directory (from `ca`).
    #[arg(long)]
    pub ca: PathBuf,
    /// Directory to write to (created with mode 0700 if missing).
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Common name of the certificate.
    #[arg(long, default_value = "cloudfront-origin")]
    pub cn: String,
    /// Validity in days; at most until the CA expires.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub days: u32,
    #[command(flatten)]
    pub common: IssueArgs,
}

/// Options of `ca` and `client`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// Key algorithm (CloudFront origin mTLS accepts these two).
    #[arg(long, value_enum, default_value_t = KeyType::EcdsaP256)]
    pub key_type: KeyType,
    /// Start of validity: YYYY-MM-DD (midnight UTC) or RFC 3339 [default: five minutes ago].
    #[arg(long, value_parser = parse_time)]
    pub not_before: Option<OffsetDateTime>,
    /// Issue even if the validity is already over (to test that it is refused).
    #[arg(long)]
    pub allow_expired: bool,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
}

/// `truststore`.
#[derive(Debug, Args)]
pub struct TruststoreArgs {
    /// File to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    /// CA certificate files (e.g. <CA_DIR>/ca-certificate.pem), old CA first.
    #[arg(required = true)]
    pub ca_certs: Vec<PathBuf>,
}

/// `fingerprint`.
#[derive(Debug, Args)]
pub struct FingerprintArgs {
    /// PEM file holding one certificate.
    pub cert: PathBuf,
}

fn parse_time(text: &str) -> std::result::Result<OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t.to_offset(time::UtcOffset::UTC));
    }
    time::Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| "expected YYYY-MM-DD or RFC 3339 (2026-01-31T00:00:00Z)".to_string())
}

/// Runs `cli` at `now`, writing the result to `out` and progress to `err`.
pub fn run(cli: &Cli, now: OffsetDateTime, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    match &cli.command {
        Command::Ca(args) => ca(args, now, err),
        Command::Client(args) => client(args, now, out, err),
        Command::Truststore(args) => truststore(args, now, err),
        Command::Fingerprint(args) => {
            let pin = fingerprint::of_file(&args.cert)?;
            emit(out, &pin)
        }
    }
}

fn ca(args: &CaArgs, now: OffsetDateTime, err: &mut dyn Write) -> Result<()> {
    let c = &args.common;
    let cert_path = args.out_dir.join(issue::CA_CERT_FILE);
    let key_path = args.out_dir.join(issue::CA_KEY_FILE);
    files::refuse_existing(&[&cert_path, &key_path], c.force)?;
    let validity = Validity::new(c.not_before, args.days, now, c.allow_expired)?;
    let ca = issue::new_ca(&args.cn, c.key_type, validity)?;
    files::ensure_dir(&args.out_dir)?;
    files::write_new(&key_path, ca.key_pem.as_bytes(), Access::Private, c.force)?;
    files::write_new(&cert_path, ca.cert_pem.as_bytes(), Access::Public, c.force)?;
    note(
        err,
        &format!(
            "wrote {} and {} (mode 0600): CA CN={}, valid {} to {}",
            cert_path.display(),
            key_path.display(),
            args.cn,
            rfc3339(validity.not_before),
            rfc3339(validity.not_after)
        ),
    );
    Ok(())
}

fn client(
    args: &ClientArgs,
    now: OffsetDateTime,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let c = &args.common;
    let cert_path = args.out_dir.join(issue::CERT_FILE);
    let key_path = args.out_dir.join(issue::KEY_FILE);
    let chain_path = args.out_dir.join(issue::CHAIN_FILE);
    files::refuse_existing(&[&cert_path, &key_path, &chain_path], c.force)?;
    let validity = Validity::new(c.not_before, args.days, now, c.allow_expired)?;
    let ca = Ca::load(&args.ca, now)?;
    let client = ca.issue_client(&args.cn, c.key_type, validity)?;
    let chain = files::certificate_pem(ca.cert_der());
    files::ensure_dir(&args.out_dir)?;
    files::write_new(
        &key_path,
        client.key_pem.as_bytes(),
        Access::Private,
        c.force,
    )?;
    files::write_new(
        &cert_path,
        client.cert_pem.as_bytes(),
        Access::Public,
        c.force,
    )?;
    files::write_new(&chain_path, chain.as_bytes(), Access::Public, c.force)?;
    note(
        err,
        &format!(
            "wrote {}, {} and {} (mode 0600): CN={}, issued by {}, valid {} to {}; \
             stdout: its pin for ORIGIN_CERT_SHA256",
            cert_path.display(),
            chain_path.display(),
            key_path.display(),
            args.cn,
            ca.subject(),
            rfc3339(validity.not_before),
            rfc3339(validity.not_after)
        ),
    );
    emit(out, &fingerprint::sha256_hex(&client.cert_der))
}

fn truststore(args: &TruststoreArgs, now: OffsetDateTime, err: &mut dyn Write) -> Result<()> {
    files::refuse_existing(&[&args.out], args.force)?;
    let bundle = truststore::bundle(&args.ca_certs, now)?;
    files::write_new(&args.out, bundle.pem.as_bytes(), Access::Public, args.force)?;
    note(
        err,
        &format!(
            "wrote {} with {} CA certificate(s):",
            args.out.display(),
            bundle.entries.len()
        ),
    );
    for e in &bundle.entries {
        note(
            err,
            &format!(
                "  {} (from {}), expires {}, sha256 {}",
                e.subject,
                e.source.display(),
                rfc3339(e.not_after),
                e.sha256
            ),
        );
    }
    Ok(())
}

fn emit(out: &mut dyn Write, line: &str) -> Result<()> {
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| Error::io(Path::new("<stdout>"), e))
}

/// Progress on stderr; a failure to print it is not a failure of the command.
fn note(err: &mut dyn Write, line: &str) {
    let _ = writeln!(err, "portcullis-certs: {line}");
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn not_before_takes_a_date_or_rfc3339() {
        assert_eq!(parse_time("2020-01-01"), Ok(datetime!(2020-01-01 0:00 UTC)));
        assert_eq!(
            parse_time("2020-01-01T12:30:00+02:00"),
            Ok(datetime!(2020-01-01 10:30 UTC))
        );
        assert!(parse_time("01/01/2020").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
