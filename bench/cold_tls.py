#!/usr/bin/env python3
"""Cold init of a JWT-verifying authorizer with its JWKS over HTTPS, as on Lambda, and over plain HTTP.

    bench/cold_tls.py target/release/jwt-authorizer [--starts 20]
    bench/cold_tls.py target/release/cedar-authorizer --cedar-policies 100

With `--cedar-policies N` the cedar authorizer also reads, parses and validates a store of N
policies over 20 routes at init (from files: the CPU part of a Verified Permissions refresh;
the store's own round trips are not in the figure).

Cold init = process spawn -> the function's first `GET /runtime/invocation/next` (it fetches
the JWKS at init, so the fetch is inside). The JWKS is served by a local HTTPS server whose
certificate a throw-away CA signed; the function trusts that CA the way it trusts CAs in
production, through the platform trust store (`SSL_CERT_FILE`), here the machine's whole
bundle plus the test CA so loading it costs what the real store costs. Rows, each the median
of `--starts` fresh processes:

- https, full trust store: the Lambda case;
- https, trust store = the test CA alone: the difference is loading the trust store;
- http: no TLS at all (the benchmark's old figure); https - http = RNG + trust store + handshake.

Three figures per row: wall time, the peak resident memory at init (VmHWM), and the CPU time the process used until then (the sum of its
threads' run time from /proc/<pid>/task/*/schedstat, nanosecond resolution). On a machine other
builds load, wall time varies with the scheduler; CPU time much less, and at 128 MB a Lambda's
init is CPU-bound, so the CPU column is the one to compare.

Every start must fetch the JWKS exactly once, or the run fails. Not part of `make test`.
"""

import argparse
import base64
import datetime
import http.server
import ipaddress
import json
import os
import queue
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ISSUER = "https://idp.bench.local"
SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def make_certs(tmp: Path):
    """A CA and a server certificate for 127.0.0.1; returns (ca.pem, server cert, server key)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portcullis bench CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    (tmp / "ca.pem").write_bytes(pem(ca))
    (tmp / "server.pem").write_bytes(pem(server))
    (tmp / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    system = next((Path(p) for p in SYSTEM_BUNDLES if Path(p).exists()), None)
    bundle = (system.read_bytes() if system else b"") + pem(ca)
    (tmp / "bundle.pem").write_bytes(bundle)
    return tmp / "ca.pem", tmp / "bundle.pem", tmp / "server.pem", tmp / "server.key"


def jwks() -> bytes:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    b64 = lambda n: base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()
    key = {"kid": "k1", "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
           "x": b64(numbers.x), "y": b64(numbers.y)}
    return json.dumps({"keys": [key]}).encode()


def cpu_ms(pid: int) -> float:
    """CPU time (ms) the process's live threads have run, from schedstat."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        total += int((task / "schedstat").read_text().split()[0])
    return total / 1e6


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cedar_store(tmp: Path, policies: int, routes: int = 20):
    """A schema of `routes` route actions and `policies` permits, each giving one of ten groups
    a tenth of the routes; returns the settings that point the cedar authorizer at them."""
    actions = [f'"get /r{i}/{{id}}"' if i % 2 == 0 else f'"post /r{i}"' for i in range(routes)]
    schema = ("namespace Api { entity UserGroup; entity User in [UserGroup]; entity Application;\n"
              f"  action {', '.join(actions)} appliesTo {{ principal: [User], resource: [Application] }}; }}\n")
    statements = []
    for p in range(policies):
        picked = [f"Api::Action::{a}" for i, a in enumerate(actions) if (i + p) % 10 == 0]
        action = f"action in [{', '.join(picked)}]" if picked else "action"
        statements.append(f'permit(principal in Api::UserGroup::"g{p % 10}", {action}, resource);')
    (tmp / "schema.cedarschema").write_text(schema)
    (tmp / "policies.cedar").write_text("\n".join(statements) + "\n")
    return {"CEDAR_POLICY_FILE": str(tmp / "policies.cedar"),
            "CEDAR_SCHEMA_FILE": str(tmp / "schema.cedarschema")}


def serve(handler, tls=None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--starts", type=int, default=20)
    ap.add_argument("--cedar-policies", type=int, default=0,
                    help="cedar-authorizer: a store of this many policies over 20 routes")
    args = ap.parse_args()
    name = Path(args.binary).name

    tmp = Path(tempfile.mkdtemp(prefix="portcullis-cold-tls-"))
    ca, bundle, cert, key = make_certs(tmp)
    function_env = cedar_store(tmp, args.cedar_policies) if args.cedar_policies else {}
    body = jwks()
    fetches = []
    nexts = queue.Queue()
    release = threading.Event()

    class Jwks(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            fetches.append(self.path)
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    class Runtime(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.endswith("/runtime/invocation/next"):
                nexts.put(time.perf_counter())
                release.wait(10)  # hold the long poll until the process is killed

        def log_message(self, *_):
            pass

    https = serve(Jwks, tls=(cert, key))
    plain = serve(Jwks)
    runtime = serve(Runtime)
    modes = [
        ("https, full trust store", f"https://127.0.0.1:{https.server_port}/jwks.json", bundle),
        ("https, trust store = test CA only", f"https://127.0.0.1:{https.server_port}/jwks.json", ca),
        ("http (no TLS)", f"http://127.0.0.1:{plain.server_port}/jwks.json", bundle),
    ]
    results = {}
    for label, uri, trust in modes:
        times, cpu, rss = [], [], []
        for _ in range(args.starts):
            env = {
                "PATH": os.environ.get("PATH", ""),
                "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{runtime.server_port}",
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": "local",
                "AWS_LAMBDA_LOG_FORMAT": "JSON",
                "JWT_ISSUER": ISSUER,
                "JWT_AUDIENCE": "bench",
                "JWT_JWKS_URI": uri,
                "JWT_ALGORITHMS": "ES256",
                "SSL_CERT_FILE": str(trust),
                **function_env,
            }
            before = len(fetches)
            started = time.perf_counter()
            proc = subprocess.Popen([args.binary], env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            try:
                ready = nexts.get(timeout=30)
                cpu.append(cpu_ms(proc.pid))
                rss.append(peak_rss_mb(proc.pid))
            finally:
                proc.kill()
                out = proc.communicate()[0].decode(errors="replace")
            if len(fetches) != before + 1:
                sys.exit(f"{label}: the function fetched the JWKS {len(fetches) - before} times "
                         f"at init, not once; its output:\n{out}")
            times.append((ready - started) * 1000)
        results[label] = (times, cpu, rss)

    store = f", a {args.cedar_policies}-policy store" if args.cedar_policies else ""
    print(f"{name} cold init{store}, {args.starts} starts each ({args.binary})\n")
    print("| JWKS at | wall median (ms) | wall min (ms) | CPU median (ms) | CPU min (ms) | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, (times, cpu, rss) in results.items():
        print(f"| {label} | {statistics.median(times):.1f} | {min(times):.1f} "
              f"| {statistics.median(cpu):.1f} | {min(cpu):.1f} | {max(rss):.1f} |")
    release.set()


if __name__ == "__main__":
    main()
