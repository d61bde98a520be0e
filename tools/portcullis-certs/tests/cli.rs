//! The `portcullis-certs` binary: what it writes is what ACM imports and Python's
//! `cryptography` reads, keys are 0600 and never printed, nothing is overwritten by accident.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::{ders, ok, pem_bodies, python, run, sha256_hex};

/// Reads a client directory with `cryptography` and imports it into moto's ACM (us-east-1);
/// prints what it found as JSON.
const CHECK_PY: &str = r#"
import json, sys
import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from moto import mock_aws

d = sys.argv[1]
read = lambda name: open(f"{d}/{name}", "rb").read()
cert = x509.load_pem_x509_certificate(read("certificate.pem"))
chain = x509.load_pem_x509_certificates(read("certificate-chain.pem"))
key = serialization.load_pem_private_key(read("private-key.pem"), password=None)
cert.verify_directly_issued_by(chain[0])
spki = lambda k: k.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
with mock_aws():
    acm = boto3.client("acm", region_name="us-east-1")
    arn = acm.import_certificate(
        Certificate=read("certificate.pem"),
        PrivateKey=read("private-key.pem"),
        CertificateChain=read("certificate-chain.pem"),
    )["CertificateArn"]
    acm_cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
print(json.dumps({
    "sha256": cert.fingerprint(hashes.SHA256()).hex(),
    "key_is_the_certificates": spki(key.public_key()) == spki(cert.public_key()),
    "eku": [oid.dotted_string for oid in eku.value],
    "eku_critical": eku.critical,
    "chain": [c.subject.rfc4514_string() for c in chain],
    "acm": [acm_cert["Type"], acm_cert["KeyAlgorithm"], acm_cert["Subject"], acm_cert["Issuer"]],
}, sort_keys=True))
"#;

fn python_check(client_dir: &Path) -> String {
    let out = Command::new(python())
        .args(["-c", CHECK_PY])
        .arg(client_dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn the_client_files_are_what_cryptography_reads_and_acm_imports() {
    for (key_type, acm_key_algorithm) in [("ecdsa-p256", "EC_prime256v1"), ("rsa-2048", "RSA_2048")]
    {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        ok(d, &["ca", "--out-dir", "ca", "--key-type", key_type]);
        let pin = ok(
            d,
            &[
                "client",
                "--ca",
                "ca",
                "--out-dir",
                "cf",
                "--key-type",
                key_type,
            ],
        );
        let expected = format!(
            r#"{{"acm": ["IMPORTED", "{acm_key_algorithm}", "CN=cloudfront-origin", "portcullis origin CA"], "chain": ["CN=portcullis origin CA"], "eku": ["1.3.6.1.5.5.7.3.2"], "eku_critical": false, "key_is_the_certificates": true, "sha256": "{pin}"}}"#
        );
        assert_eq!(python_check(&d.join("cf")), expected, "{key_type}");
        // The chain ACM gets is the CA certificate itself.
        assert_eq!(
            ders(&d.join("cf/certificate-chain.pem")),
            ders(&d.join("ca/ca-certificate.pem"))
        );
    }
}

#[test]
fn the_printed_pin_is_the_sha256_of_the_certificate_der() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["ca", "--out-dir", "ca"]);
    let pin = ok(d, &["client", "--ca", "ca", "--out-dir", "cf"]);
    let der = ders(&d.join("cf/certificate.pem"));
    assert_eq!(der.len(), 1);
    assert_eq!(pin, sha256_hex(&der[0]));
    assert_eq!(pin.len(), 64);
    assert_eq!(ok(d, &["fingerprint", "cf/certificate.pem"]), pin);

    // A bundle is not one certificate: no pin rather than the wrong one.
    ok(d, &["ca", "--out-dir", "ca2"]);
    let two = d.join("two.pem");
    let mut text = fs::read_to_string(d.join("ca/ca-certificate.pem")).unwrap();
    text.push_str(&fs::read_to_string(d.join("ca2/ca-certificate.pem")).unwrap());
    fs::write(&two, text).unwrap();
    let out = run(d, &["fingerprint", "two.pem"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "portcullis-certs: two.pem: holds 2 certificates; expected exactly one\n"
    );
}

#[test]
fn private_keys_are_0600_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut printed = Vec::new();
    for args in [
        &["ca", "--out-dir", "ca"][..],
        &["client", "--ca", "ca", "--out-dir", "cf"],
        &[
            "truststore",
            "--out",
            "truststore.pem",
            "ca/ca-certificate.pem",
        ],
        &["fingerprint", "cf/certificate.pem"],
    ] {
        let out = run(d, args);
        assert!(out.status.success(), "{args:?}");
        printed.extend(out.stdout);
        printed.extend(out.stderr);
    }
    let printed = String::from_utf8(printed).unwrap();
    for (key, key_dir) in [
        ("ca/ca-private-key.pem", "ca"),
        ("cf/private-key.pem", "cf"),
    ] {
        let path = d.join(key);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{key}");
        let dir_mode = fs::metadata(d.join(key_dir)).unwrap().permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700, "{key_dir}");
        let body = pem_bodies(&path).concat();
        assert!(body.len() > 100);
        for chunk in body.as_bytes().chunks(12) {
            let chunk = std::str::from_utf8(chunk).unwrap();
            assert!(!printed.contains(chunk), "{key} printed");
        }
    }
    assert!(!printed.contains("PRIVATE KEY"));
    for public in [
        "ca/ca-certificate.pem",
        "cf/certificate.pem",
        "truststore.pem",
    ] {
        let mode = fs::metadata(d.join(public)).unwrap().permissions().mode();
        assert_eq!(mode & 0o600, 0o600, "{public}");
        assert_eq!(mode & 0o022, 0, "{public}");
    }
}

#[test]
fn existing_files_are_refused_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["ca", "--out-dir", "ca"]);
    ok(d, &["client", "--ca", "ca", "--out-dir", "cf"]);
    ok(
        d,
        &["truststore", "--out", "ts.pem", "ca/ca-certificate.pem"],
    );
    let snapshot = |names: &[&str]| -> Vec<Vec<u8>> {
        names.iter().map(|n| fs::read(d.join(n)).unwrap()).collect()
    };
    let files = [
        "ca/ca-certificate.pem",
        "ca/ca-private-key.pem",
        "cf/certificate.pem",
        "cf/private-key.pem",
        "cf/certificate-chain.pem",
        "ts.pem",
    ];
    let before = snapshot(&files);

    for (args, existing) in [
        (&["ca", "--out-dir", "ca"][..], "ca/ca-certificate.pem"),
        (
            &["client", "--ca", "ca", "--out-dir", "cf"],
            "cf/certificate.pem",
        ),
        (
            &["truststore", "--out", "ts.pem", "ca/ca-certificate.pem"],
            "ts.pem",
        ),
    ] {
        let out = run(d, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty());
        assert_eq!(
            String::from_utf8(out.stderr).unwrap(),
            format!("portcullis-certs: {existing} already exists (pass --force to replace it)\n")
        );
    }
    assert_eq!(snapshot(&files), before, "nothing changed");

    // One existing file is enough to refuse, and nothing else is written.
    fs::remove_file(d.join("cf/certificate.pem")).unwrap();
    let out = run(d, &["client", "--ca", "ca", "--out-dir", "cf"]);
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "portcullis-certs: cf/private-key.pem already exists (pass --force to replace it)\n"
    );
    assert!(!d.join("cf/certificate.pem").exists());

    let pin = ok(d, &["client", "--ca", "ca", "--out-dir", "cf", "--force"]);
    assert_ne!(fs::read(d.join("cf/private-key.pem")).unwrap(), before[3]);
    assert_eq!(pin, sha256_hex(&ders(&d.join("cf/certificate.pem"))[0]));
    let mode = fs::metadata(d.join("cf/private-key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_damaged_key_is_named_never_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["ca", "--out-dir", "ca"]);
    let key_path = d.join("ca/ca-private-key.pem");
    let original = fs::read_to_string(&key_path).unwrap();
    let body = pem_bodies(&key_path).concat();
    // Damage the key: its DER (a 64-character line dropped keeps the base64 valid), then its
    // base64.
    let second_line = original.lines().nth(2).unwrap().to_string();
    assert_eq!(second_line.len(), 64);
    for (damaged, reason) in [
        (
            original.replacen(&format!("{second_line}\n"), "", 1),
            "unsupported private key (expected ECDSA P-256 or RSA, PKCS#8)",
        ),
        (
            original.replacen(&second_line, &format!("{second_line}!*"), 1),
            "no readable PEM private key",
        ),
    ] {
        fs::write(&key_path, &damaged).unwrap();
        let out = run(d, &["client", "--ca", "ca", "--out-dir", "cf"]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            stderr,
            format!("portcullis-certs: ca/ca-private-key.pem: {reason}\n")
        );
        for chunk in body.as_bytes().chunks(8) {
            assert!(!stderr.contains(std::str::from_utf8(chunk).unwrap()));
        }
        assert!(!d.join("cf").exists(), "nothing written");
    }
}

#[test]
fn an_expired_certificate_is_issued_only_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["ca", "--out-dir", "ca"]);
    let args = [
        "client",
        "--ca",
        "ca",
        "--out-dir",
        "old",
        "--not-before",
        "2020-01-01",
        "--days",
        "30",
    ];
    let out = run(d, &args);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "portcullis-certs: the certificate would have expired on 2020-01-31T00:00:00Z \
         (pass --allow-expired to issue it anyway)\n"
    );
    assert!(!d.join("old").exists());
    let mut allowed = args.to_vec();
    allowed.push("--allow-expired");
    ok(d, &allowed);
    assert_eq!(ders(&d.join("old/certificate.pem")).len(), 1);
}
