#!/usr/bin/env python3
"""Writes the composed samples: a caller authorizer that also checks the CloudFront origin secret
(and, for the request authorizer, trusts CloudFront's viewer headers after it).

  origin-secret.txt                  the demo origin secret parameter: one accepted value per line
  <function>/demo.env                the function's settings (ORIGIN_SECRET_*, HTTP_API_RESPONSE_MODE=iam)
  <function>/<format>-<case>.json    one event per case and payload format
  <function>/expected.json           the decision for each event's own route
  request-authorizer/rules.json      the tenant rules (CIDRs, pinned viewer certificate, country)

HTTP API 2.0 events are answered with IAM policies (HTTP_API_RESPONSE_MODE=iam), as the stacks
configure the caller authorizers; their identitySource holds the values of the stacks' identity
sources (secret header, token or key, viewer address).

Tokens are signed with the committed TEST key events/jwt-authorizer/test-key.pem (PyJWT, far-future
exp); the JWT settings are those of events/jwt-authorizer/demo.env. Key hashes use hashlib,
independently of the Rust code. Every secret, key and token here is a demo value.
Run: .venv/bin/python events/composed/generate.py
"""
import copy
import hashlib
import json
import pathlib
import sys

import jwt
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
import shapes  # noqa: E402  (events/shapes.py)

OUT = pathlib.Path(__file__).parent
JWT_EVENTS = OUT.parent / "jwt-authorizer"
ACCOUNT = "123456789012"
REQUEST_TIME_MS = 1767225600000  # 2026-01-01T00:00:00Z

# The origin secret parameter: line 1 is what CloudFront sends, line 2 the value being rotated out.
CURRENT = "pc-demo-composed-current-6b1e9d3f7a5c2e8b4d0f6a2c"
PREVIOUS = "pc-demo-composed-previous-1f3d5b7a9c2e4f6a8b0d2c4e"
WRONG = "pc-demo-composed-guessed-000000000000000000000000"
SECRET_HEADER = "x-origin-verify"
ORIGIN_PARAMETER = "/portcullis/demo/composed-origin-secret"
RULES_PARAMETER = "/portcullis/demo/composed-tenant-rules"

EDGE_IP = "130.176.0.1"  # a CloudFront edge: API Gateway's sourceIp behind CloudFront
DIRECT_IP = "192.0.2.66"  # a caller on the execute-api URL itself

# ---- jwt-authorizer -------------------------------------------------------------------------

ISSUER = "http://127.0.0.1:8765"
AUDIENCE = "portcullis-demo"
KID = "portcullis-test-key"
FAR_FUTURE = 4_102_444_800  # 2100-01-01T00:00:00Z


def tokens():
    key = serialization.load_pem_private_key((JWT_EVENTS / "test-key.pem").read_bytes(), password=None)

    def sign(scope, iat=1_767_225_600, exp=FAR_FUTURE):
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "demo-user", "iat": iat, "exp": exp, "scope": scope}
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})

    return {
        "reader": sign("orders:read"),
        "profile": sign("profile:read"),  # valid, but no scope for GET /orders/* or $connect
        "expired": sign("orders:read", iat=1_600_000_000, exp=1_600_000_600),
        "garbage": "not.a.jwt",
    }


# ---- request-authorizer ---------------------------------------------------------------------

API_KEY_HEADER = "x-api-key"
ACME_KEY = "pc-demo-edge-acme-4c8e2a6f0b3d7e1a5c9f3b7d1e5a"  # source-IP rules on the viewer address
GLOBEX_KEY = "pc-demo-edge-globex-8a2f6c0e4b8d2f6a0c4e8b2d6f"  # pinned viewer certificate
UMBRELLA_KEY = "pc-demo-edge-umbrella-3e7b1f5d9a3c7e1b5f9d3a7c"  # viewer country condition

CERT_SUBJECT = "CN=client.globex.example,O=Globex Corporation,C=US"
CERT_ISSUER = "CN=Globex Issuing CA 1,O=Globex Corporation,C=US"
CERT_SERIAL = "4a:7f:19:0c:2e:5b:83:d1"
PINNED_SHA256 = hashlib.sha256(b"portcullis demo viewer certificate: globex, pinned").hexdigest()
OTHER_SHA256 = hashlib.sha256(b"portcullis demo viewer certificate: same issuer, not pinned").hexdigest()
CERT_VALIDITY = "NotBefore=2025-06-01T00:00:00Z;NotAfter=2027-06-01T00:00:00Z"


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


GRANTS = ["GET /orders", "GET /orders/*", "$connect"]
RULES = {
    "version": 1,
    "tenants": [
        {
            "id": "acme",
            "apiKeys": [{"label": "edge-2026", "sha256": sha256(ACME_KEY)}],
            "sourceIp": {"allow": ["203.0.113.0/24", "2001:db8::/64"]},
            "grants": GRANTS,
            "usageIdentifierKey": "pcDemoEdgeAcmeUsagePlanKey00000000001",
        },
        {
            "id": "globex",
            "apiKeys": [{"sha256": sha256(GLOBEX_KEY)}],
            "clientCert": {"issuerDn": [CERT_ISSUER], "sha256": [PINNED_SHA256]},
            "grants": GRANTS,
        },
        {
            "id": "umbrella",
            "apiKeys": [{"sha256": sha256(UMBRELLA_KEY)}],
            "conditions": {"viewerCountry": ["DE", "AT", "CH"]},
            "grants": GRANTS,
        },
    ],
}


def viewer_cert(sha):
    return {
        "CloudFront-Viewer-Cert-Present": "1",
        "CloudFront-Viewer-Cert-Sha256": sha,
        "CloudFront-Viewer-Cert-Validity": CERT_VALIDITY,
        "CloudFront-Viewer-Cert-Subject": CERT_SUBJECT,
        "CloudFront-Viewer-Cert-Issuer": CERT_ISSUER,
        "CloudFront-Viewer-Cert-Serial-Number": CERT_SERIAL,
    }


# ---- event shapes (fields: secret, token, key, viewer headers, caller IP) -------------------


def caller_headers(c, lower):
    """What reaches API Gateway: CloudFront's origin request, or a direct call when there is no
    secret. HTTP APIs lower-case header names; REST and WebSocket pass them as sent."""
    headers = {"Accept": "application/json"}
    if c["via_cloudfront"]:
        headers.update({
            "User-Agent": "Amazon CloudFront",
            "Via": "2.0 7e1b4f3c9a8d6e5f4a3b2c1d0e9f8a7b.cloudfront.net (CloudFront)",
            "X-Amz-Cf-Id": "qV3Fz0aL0n7YbW9pQm2sXr5tK8uJ1cD4eF6gH7iJ8kL9mN0oP1qR2s==",
        })
    else:
        headers["User-Agent"] = "curl/8.5.0"
    if c.get("secret"):
        headers[SECRET_HEADER] = c["secret"]
    if c.get("token") and not c.get("token_in_query"):
        headers["Authorization"] = f"Bearer {c['token']}"
    if c.get("key"):
        headers[API_KEY_HEADER] = c["key"]
    headers.update(c.get("viewer") or {})
    if lower:
        headers = {k.lower(): v for k, v in headers.items()}
    return headers


def identity_values(c):
    """The stacks' identity sources, in order: secret header, token or key, viewer address."""
    values = [c.get("secret"), f"Bearer {c['token']}" if c.get("token") else c.get("key")]
    values.append((c.get("viewer") or {}).get("CloudFront-Viewer-Address"))
    return [v for v in values if v]


def rest_request(c):
    method, path = c["route"]
    headers = caller_headers(c, lower=False)
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5/rest/{method}{path}",
        "resource": "/orders/{id}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": {"id": "42"},
        "stageVariables": {},
        "requestContext": {
            "path": f"/rest{path}",
            "accountId": ACCOUNT,
            "resourceId": "x7k2p9",
            "stage": "rest",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": c["ip"], "userAgent": headers["User-Agent"], "apiKey": ""},
            "resourcePath": "/orders/{id}",
            "httpMethod": method,
            "apiId": "a1b2c3d4e5",
            "requestTimeEpoch": REQUEST_TIME_MS,
        },
    }


def http_v1(c):
    method, path = c["route"]
    event = rest_request(c)
    event["version"] = "1.0"
    event["methodArn"] = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:h1t2p3a4p5/$default/{method}{path}"
    event["identitySource"] = ",".join(identity_values(c))
    event["authorizationToken"] = event["identitySource"]
    event["headers"] = caller_headers(c, lower=True)
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    event["requestContext"].update({"apiId": "h1t2p3a4p5", "stage": "$default", "path": path,
                                    "protocol": "HTTP/1.1"})
    return event


def http_v2(c):
    method, path = c["route"]
    headers = caller_headers(c, lower=True)
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:h1t2p3a4p5/$default/{method}{path}",
        "identitySource": identity_values(c),
        "routeKey": "GET /orders/{id}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "h1t2p3a4p5",
            "domainName": "h1t2p3a4p5.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "h1t2p3a4p5",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": c["ip"],
                     "userAgent": headers["user-agent"]},
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "GET /orders/{id}",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": REQUEST_TIME_MS,
        },
        "pathParameters": {"id": "42"},
    }


def websocket(c):
    # Browsers cannot set headers on a WebSocket: the token travels in the query string.
    c = dict(c, token_in_query=True)
    headers = caller_headers(c, lower=False)
    headers["Sec-WebSocket-Version"] = "13"
    query = {"access_token": c["token"]} if c.get("token") else {}
    return shapes.websocket_connect(headers, query=query, source_ip=c["ip"], user_agent=headers["User-Agent"],
                                    time_ms=REQUEST_TIME_MS)


def rest_token(c):
    # A TOKEN authorizer sees only its token: no headers, so no origin secret.
    method, path = c["route"]
    token = f"Bearer {c['token']}" if c.get("token") else c["key"]
    return {"type": "TOKEN", "authorizationToken": token,
            "methodArn": f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5/rest/{method}{path}"}


FORMATS = {"rest-request": rest_request, "http-v1": http_v1, "http-v2": http_v2, "websocket": websocket,
           "rest-token": rest_token}
ALL = ["rest-request", "http-v1", "http-v2", "websocket"]
TWO = ["rest-request", "http-v2"]


def jwt_cases(t):
    base = {"via_cloudfront": True, "secret": CURRENT, "token": t["reader"], "ip": EDGE_IP,
            "route": ("GET", "/orders/42")}
    direct = {"via_cloudfront": False, "secret": None, "ip": DIRECT_IP}
    # (case, formats, expected, fields overriding the base)
    return base, [
        ("origin-valid-token-valid", ALL, "Allow", {}),
        ("origin-previous-token-valid", TWO, "Allow", {"secret": PREVIOUS}),
        ("origin-missing-token-valid", ALL, "Deny", direct),
        ("origin-wrong-token-valid", ALL, "Deny", dict(direct, secret=WRONG)),
        # The proof is checked first: a bad token behind a wrong secret is a Deny, not a 401.
        ("origin-wrong-token-garbage", TWO, "Deny", dict(direct, secret=WRONG, token=t["garbage"])),
        ("origin-valid-token-expired", ALL, "Unauthorized", {"token": t["expired"]}),
        ("origin-valid-token-garbage", ["http-v2"], "Unauthorized", {"token": t["garbage"]}),
        ("origin-valid-scope-missing", ALL, "Deny", {"token": t["profile"]}),
        ("token-valid", ["rest-token"], "Deny", {}),
    ]


def request_cases():
    base = {"via_cloudfront": True, "secret": CURRENT, "key": ACME_KEY, "ip": EDGE_IP,
            "route": ("GET", "/orders/42"),
            "viewer": {"CloudFront-Viewer-Address": "203.0.113.10:46532", "CloudFront-Viewer-Country": "DE"}}

    def viewer(address=None, country="DE", **more):
        headers = {"CloudFront-Viewer-Country": country, **more}
        if address:
            headers["CloudFront-Viewer-Address"] = address
        return {"viewer": headers}

    def globex(cert):
        return {"key": GLOBEX_KEY, **viewer("198.51.100.20:50112", **cert)}

    def umbrella(country):
        return {"key": UMBRELLA_KEY, **viewer("198.51.100.30:40000", country)}

    direct = {"via_cloudfront": False, "secret": None, "ip": DIRECT_IP}
    # (case, formats, expected, fields overriding the base)
    return base, [
        # A direct caller forging every viewer fact the rules want, without the secret.
        ("origin-missing-forged-viewer", ALL, "Deny", direct),
        ("origin-wrong-forged-viewer", ["http-v2"], "Deny", dict(direct, secret=WRONG)),
        # The proof is checked first: no key behind no secret is a Deny, not a 401.
        ("origin-missing-key-missing", TWO, "Deny", dict(direct, key=None)),
        ("viewer-ipv4-inside", ALL, "Allow", {}),
        ("viewer-ipv4-outside", ALL, "Deny", viewer("192.0.2.55:46532")),
        ("viewer-ipv6-inside", ALL, "Allow", viewer("2001:db8::1:46532")),
        ("viewer-ipv6-outside", ALL, "Deny", viewer("2001:db8:ffff::1:46532")),
        # Without the viewer address the source IP is unknown (the edge's is never used): Deny.
        ("viewer-address-missing", TWO, "Deny", viewer()),
        ("viewer-cert-pinned", ALL, "Allow", globex(viewer_cert(PINNED_SHA256))),
        ("viewer-cert-not-pinned", ALL, "Deny", globex(viewer_cert(OTHER_SHA256))),
        ("viewer-cert-absent", TWO, "Deny", globex({"CloudFront-Viewer-Cert-Present": "0"})),
        ("viewer-country-met", ALL, "Allow", umbrella("DE")),
        ("viewer-country-not-met", ALL, "Deny", umbrella("US")),
        ("api-key", ["rest-token"], "Deny", {}),
    ]


def write(function, base, cases):
    out = OUT / function
    out.mkdir(exist_ok=True)
    for old in out.glob("*.json"):
        if old.name != "rules.json":
            old.unlink()
    expected = {}
    for case, formats, decision, overrides in cases:
        fields = copy.deepcopy(base)
        fields.update(overrides)
        for fmt in formats:
            name = f"{fmt}-{case}.json"
            (out / name).write_text(json.dumps(FORMATS[fmt](fields), indent=2) + "\n")
            expected[name] = decision
    (out / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")


ORIGIN_ENV = f"""ORIGIN_SECRET_PARAMETER_NAME={ORIGIN_PARAMETER}
ORIGIN_SECRET_HEADER_NAME={SECRET_HEADER}
HTTP_API_RESPONSE_MODE=iam
"""


def main():
    (OUT / "origin-secret.txt").write_text(f"{CURRENT}\n{PREVIOUS}\n")
    jwt_env = (JWT_EVENTS / "demo.env").read_text()
    (OUT / "jwt-authorizer").mkdir(exist_ok=True)
    (OUT / "jwt-authorizer" / "demo.env").write_text(jwt_env + ORIGIN_ENV)
    write("jwt-authorizer", *jwt_cases(tokens()))

    (OUT / "request-authorizer").mkdir(exist_ok=True)
    (OUT / "request-authorizer" / "rules.json").write_text(json.dumps(RULES, indent=2) + "\n")
    (OUT / "request-authorizer" / "demo.env").write_text(
        f"RULES_PARAMETER_NAME={RULES_PARAMETER}\nAPI_KEY_HEADER={API_KEY_HEADER}\n"
        + ORIGIN_ENV + "TRUST_CLOUDFRONT_VIEWER_HEADERS=true\n")
    write("request-authorizer", *request_cases())


if __name__ == "__main__":
    main()
