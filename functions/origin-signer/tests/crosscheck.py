#!/usr/bin/env python3
"""Cross-check of the packaged Lambda@Edge signer with botocore's SigV4Auth.

Unpacks target/edge/origin-signer.zip, runs its index.mjs with Node on every sample event (and
on query/path variants of them) with a fixed clock and fake role credentials, then recomputes
the signature over the request the handler forwards with botocore and compares the whole
Authorization header. Also checks the fail-closed paths (truncated body, missing credentials).

The expected host, region and signed headers are derived here, independently of the signer:
host = origin domainName; region from <api>.execute-api.<region>.amazonaws.com or the
x-portcullis-region origin custom header; query decoded like API Gateway (`+` is a space).
"""
import argparse
import base64
import copy
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import parse_qsl

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN//////////wEaCXVzLWVhc3QtMSJHMEUCIQD"
NOW_MS = 1767323045678
AMZ_DATE = datetime.datetime.fromtimestamp(NOW_MS / 1000, datetime.timezone.utc).strftime(
    "%Y%m%dT%H%M%SZ"
)
READ_ONLY = {"accept-encoding", "content-length", "if-modified-since", "if-none-match",
             "if-range", "if-unmodified-since", "transfer-encoding", "via"}
ROLE_ENV = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN}

# Extra cases: (base event, field, value). Each must sign and verify.
QUERY_VARIANTS = [
    "a=1&a=0", "b=", "b", "x=%20y", "x=y+z", "x=%2B", "s=*", "t=~&u=%7E", "n=%C3%A9t%C3%A9",
    "k=%E2%9C%93&%F0%9F%98%80=emoji", "d=%252F", "e==&==", "m=%zz", "z=1&y=2&x=3&&",
    "q=%22quoted%22&r=a%26b&s=%3D", "raw=!'()*", "sp=a%20b+c",
]
PATH_VARIANTS = [
    "/it's/(x)/!/*", "/a%2Fb", "/%40connections/abc%3D", "/@connections/abc%3D%3D", "/caf%C3%A9",
    "/x/./y/../z", "/a//b", "/~user/", "/%7Euser", "/sp%20ace", "/semi;colon,comma", "/",
]


def run_handler(index, event, env):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(event, f)
        path = f.name
    try:
        proc = subprocess.run(
            ["node", str(Path(__file__).with_name("run_handler.mjs")), str(index), path, str(NOW_MS)],
            capture_output=True, text=True, env=env, timeout=60,
        )
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        raise AssertionError(f"node failed ({proc.returncode}): {proc.stderr}")
    return json.loads(proc.stdout), proc.stderr


def node_env(with_credentials=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if with_credentials:
        env.update(ROLE_ENV)
    return env


def custom_header(origin, name):
    entries = origin.get("customHeaders", {}).get(name, [])
    return entries[0]["value"] if entries else None


def expected_region(origin):
    configured = custom_header(origin, "x-portcullis-region")
    if configured:
        return configured
    m = re.fullmatch(r"[^.]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com", origin["domainName"])
    assert m, f"no region for {origin['domainName']}"
    return m.group(1)


def header(request, name):
    entries = request["headers"].get(name, [])
    return entries[0]["value"] if entries else None


def verify_signed(name, event, result, log):
    request = event["Records"][0]["cf"]["request"]
    origin = request["origin"]["custom"]
    assert "uri" in result and "status" not in result, f"{name}: not forwarded: {result}"
    assert log == "", f"{name}: unexpected log: {log}"

    host = origin["domainName"]
    region = expected_region(origin)
    body = base64.b64decode(request["body"]["data"]) if "body" in request else b""
    content_sha = (custom_header(origin, "x-portcullis-content-sha256") or "").lower() == "true"

    assert header(result, "host") == host, f"{name}: host"
    assert header(result, "x-amz-date") == AMZ_DATE, f"{name}: x-amz-date"
    assert header(result, "x-amz-security-token") == TOKEN, f"{name}: token"
    for field in ("uri", "querystring", "method", "clientIp"):
        assert result[field] == request[field], f"{name}: {field} changed"
    assert result.get("body") == request.get("body"), f"{name}: body changed"
    for ro in READ_ONLY:
        assert result["headers"].get(ro) == request["headers"].get(ro), f"{name}: read-only {ro}"
    for h in list(result["headers"]) + list(result["origin"]["custom"]["customHeaders"]):
        assert not h.startswith("x-portcullis-"), f"{name}: config header {h} forwarded"

    forward = custom_header(origin, "x-portcullis-forward-authorization") or "x-forwarded-authorization"
    viewer_auth = header(request, "authorization")
    assert header(result, forward.lower()) == viewer_auth, f"{name}: viewer Authorization not moved"

    # botocore over the forwarded request
    headers = {"host": host, "x-amz-date": AMZ_DATE, "x-amz-security-token": TOKEN}
    if content_sha:
        headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        assert header(result, "x-amz-content-sha256") == headers["x-amz-content-sha256"]
    else:
        assert header(result, "x-amz-content-sha256") is None, f"{name}: unexpected content sha"
    params = parse_qsl(request["querystring"], keep_blank_values=True)
    aws_request = AWSRequest(
        method=request["method"],
        url=f"https://{host}{origin['path']}{request['uri']}",
        data=body,
        params=params,
        headers=headers,
    )
    aws_request.context["timestamp"] = AMZ_DATE
    auth = SigV4Auth(Credentials(KEY_ID, SECRET, TOKEN), "execute-api", region)
    canonical = auth.canonical_request(aws_request)
    signature = auth.signature(auth.string_to_sign(aws_request, canonical), aws_request)
    signed_headers = auth.signed_headers(auth.headers_to_sign(aws_request))
    expected = (
        f"AWS4-HMAC-SHA256 Credential={KEY_ID}/{AMZ_DATE[:8]}/{region}/execute-api/aws4_request, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    actual = header(result, "authorization")
    assert actual == expected, f"{name}: signature mismatch\nbotocore canonical request:\n{canonical}\n" \
        f"expected: {expected}\nactual:   {actual}"


def verify_refused(name, result, log, reason):
    assert result.get("status") == "502" and "uri" not in result, f"{name}: forwarded: {result}"
    lines = [line for line in log.splitlines() if line]
    assert len(lines) == 1, f"{name}: expected one log line, got {lines}"
    assert lines[0].startswith("origin-signer: request not forwarded (502): "), lines[0]
    assert reason in lines[0], f"{name}: {lines[0]!r} lacks {reason!r}"
    assert SECRET not in log and TOKEN not in log, f"{name}: secret in log"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--zip", required=True)
    parser.add_argument("--events", required=True)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(args.zip) as z:
            names = sorted(z.namelist())
            assert names == ["index.mjs", "origin_signer.wasm"], names
            z.extractall(tmp)
        index = Path(tmp) / "index.mjs"
        events = {p.name: json.loads(p.read_text()) for p in sorted(Path(args.events).glob("*.json"))}
        assert len(events) >= 7, sorted(events)
        checked = 0

        for name, event in events.items():
            result, log = run_handler(index, event, node_env())
            if event["Records"][0]["cf"]["request"].get("body", {}).get("inputTruncated"):
                verify_refused(name, result, log, "inputTruncated")
            else:
                verify_signed(name, event, result, log)
            checked += 1

        base = events["get-query.json"]
        for qs in QUERY_VARIANTS:
            event = copy.deepcopy(base)
            event["Records"][0]["cf"]["request"]["querystring"] = qs
            verify_signed(f"query {qs!r}", event, *run_handler(index, event, node_env()))
            checked += 1
        for uri in PATH_VARIANTS:
            event = copy.deepcopy(base)
            event["Records"][0]["cf"]["request"]["uri"] = uri
            verify_signed(f"path {uri!r}", event, *run_handler(index, event, node_env()))
            checked += 1

        result, log = run_handler(index, base, node_env(with_credentials=False))
        verify_refused("missing credentials", result, log, "credentials missing")
        checked += 1

    print(f"crosscheck: {checked} cases OK (Node {subprocess.check_output(['node', '--version'], text=True).strip()}, botocore SigV4Auth)")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"crosscheck FAILED: {e}", file=sys.stderr)
        sys.exit(1)
