#!/usr/bin/env python3
"""Writes the REQUEST authorizer's samples: the demo rules document (rules/rules.json, rules/rules.toml) and
one event per rule kind, allow and deny, per payload format (events/request-authorizer/*.json),
with expected.json giving the decision for each event's own route: Allow, Deny or Unauthorized.

Event shapes follow what API Gateway sends (REST REQUEST, HTTP API 1.0/2.0, WebSocket $connect,
mutual-TLS clientCert). Hashes are computed here with hashlib, independently of the Rust code.
The API keys below are demo values; `make demo` seeds rules.json into SSM.
Run: python3 events/request-authorizer/generate.py
"""
import copy
import hashlib
import json
import pathlib
import sys

OUT = pathlib.Path(__file__).parent
ACCOUNT = "123456789012"
HEADER = "x-api-key"

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
import shapes  # noqa: E402  (events/shapes.py)

# Demo API keys (plaintext lives only here and in the events; the rules hold their SHA-256).
ACME_KEY = "pc-demo-acme-7d1f0c9a2b4e6f8a0c2e4a6b8d0f1e3c"
ACME_NEXT_KEY = "pc-demo-acme-next-5b3d1f9e7c5a3b1d9f7e5c3a1b9d"
GLOBEX_KEY = "pc-demo-globex-2c4e6a8b0d2f4a6c8e0b2d4f6a8c0e2b"
INITECH_KEY = "pc-demo-initech-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
UNKNOWN_KEY = "pc-demo-unknown-0000000000000000000000000000000"

CERT_SUBJECT = "CN=client.globex.example,O=Globex Corporation,C=US"
CERT_ISSUER = "CN=Globex Issuing CA 1,O=Globex Corporation,C=US"
CERT_SERIAL = "4a:7f:19:0c:2e:5b:83:d1"


def sha256(key):
    return hashlib.sha256(key.encode()).hexdigest()


RULES = {
    "version": 1,
    "tenants": [
        {
            "id": "acme",
            "tier": "gold",
            "apiKeys": [
                {"label": "2026-q1", "sha256": sha256(ACME_KEY)},
                {"label": "2026-q2-rotation", "sha256": sha256(ACME_NEXT_KEY)},
            ],
            "sourceIp": {
                "allow": ["203.0.113.0/24", "2001:db8:ac:e::/64"],
                "deny": ["203.0.113.128/25"],
            },
            "grants": ["GET /orders", "GET /orders/*", "POST /orders", "$connect"],
            "usageIdentifierKey": "pcDemoAcmeUsagePlanKey0000000000000001",
            "context": {"plan": "enterprise", "maxPageSize": 100, "beta": False},
        },
        {
            "id": "globex",
            "tier": "silver",
            "apiKeys": [{"sha256": sha256(GLOBEX_KEY)}],
            "clientCert": {
                "subjectDn": [CERT_SUBJECT],
                "issuerDn": [CERT_ISSUER],
                "serialNumbers": [CERT_SERIAL],
            },
            "conditions": {"stageVariables": {"stage": "prod"}},
            "grants": ["GET /reports/*", "* /orders/*"],
            "usageIdentifierKey": "pcDemoGlobexUsagePlanKey000000000000002",
        },
        {
            "id": "initech",
            "revoked": True,
            "apiKeys": [{"label": "revoked-2025", "sha256": sha256(INITECH_KEY)}],
            "grants": ["*"],
        },
    ],
}


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def rules_toml():
    lines = ["# Same rules as rules.json, in TOML.", f"version = {RULES['version']}"]
    for tenant in RULES["tenants"]:
        lines += ["", "[[tenants]]"]
        for key, value in tenant.items():
            if key == "apiKeys":
                lines.append("apiKeys = [")
                lines += [f"  {toml_value(k)}," for k in value]
                lines.append("]")
            else:
                lines.append(f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


REQUEST_TIME_MS = 1767225600000  # 2026-01-01T00:00:00Z


def cert(valid_from, valid_to, serial=CERT_SERIAL):
    return {
        "clientCertPem": "-----BEGIN CERTIFICATE-----\nMIIC...demo...\n-----END CERTIFICATE-----",
        "subjectDN": CERT_SUBJECT,
        "issuerDN": CERT_ISSUER,
        "serialNumber": serial,
        "validity": {"notBefore": valid_from, "notAfter": valid_to},
    }


VALID_CERT = cert("Jun  1 00:00:00 2025 GMT", "Jun  1 00:00:00 2026 GMT")
EXPIRED_CERT = cert("Jan  1 00:00:00 2024 GMT", "Dec 31 23:59:59 2025 GMT")
UNLISTED_CERT = cert("Jun  1 00:00:00 2025 GMT", "Jun  1 00:00:00 2026 GMT", "4a:7f:19:0c:2e:5b:83:d2")


def rest_request(c):
    method, path = c["route"]
    arn_path = path.lstrip("/")
    headers = {"accept": "application/json", "host": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"}
    if c.get("key"):
        headers[HEADER] = c["key"]
    identity = {"sourceIp": c["ip"], "userAgent": "curl/8.5.0", "apiKey": ""}
    if c.get("cert"):
        identity["clientCert"] = c["cert"]
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5/{c['stage']}/{method}/{arn_path}",
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {"stage": c["stage_var"]},
        "requestContext": {
            "path": f"/{c['stage']}{path}",
            "accountId": ACCOUNT,
            "resourceId": "x7k2p9",
            "stage": c["stage"],
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": identity,
            "resourcePath": path,
            "httpMethod": method,
            "apiId": "a1b2c3d4e5",
            "requestTimeEpoch": REQUEST_TIME_MS,
        },
    }


def http_v1(c):
    event = rest_request(c)
    method, path = c["route"]
    event["version"] = "1.0"
    event["methodArn"] = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:h1t2p3a4p5/$default/{method}/{path.lstrip('/')}"
    event["identitySource"] = c.get("key") or ""
    event["authorizationToken"] = c.get("key") or ""
    event["requestContext"].update({"apiId": "h1t2p3a4p5", "stage": "$default", "protocol": "HTTP/1.1"})
    return event


def http_v2(c):
    method, path = c["route"]
    headers = {"accept": "application/json", "host": "h1t2p3a4p5.execute-api.eu-west-1.amazonaws.com"}
    if c.get("key"):
        headers[HEADER] = c["key"]
    ctx = {
        "accountId": ACCOUNT,
        "apiId": "h1t2p3a4p5",
        "domainName": "h1t2p3a4p5.execute-api.eu-west-1.amazonaws.com",
        "domainPrefix": "h1t2p3a4p5",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": c["ip"], "userAgent": "curl/8.5.0"},
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": f"{method} {path}",
        "stage": "$default",
        "time": "01/Jan/2026:00:00:00 +0000",
        "timeEpoch": REQUEST_TIME_MS,
    }
    if c.get("cert"):
        ctx["authentication"] = {"clientCert": c["cert"]}
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:h1t2p3a4p5/$default/{method}/{path.lstrip('/')}",
        # The stacks put $context.routeKey in the identity sources: route grants are then safe
        # to answer with a simple response (the cache key carries the route).
        "identitySource": [c.get("key") or "", f"{method} {path}"],
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": ctx,
        "stageVariables": {"stage": c["stage_var"]},
    }


def websocket(c):
    headers = {"Host": "w1s2o3c4k5.execute-api.eu-west-1.amazonaws.com", "Sec-WebSocket-Version": "13"}
    if c.get("key"):
        headers[HEADER] = c["key"]
    return shapes.websocket_connect(headers, stage_variables={"stage": c["stage_var"]}, source_ip=c["ip"],
                                    user_agent="wscat", time_ms=REQUEST_TIME_MS)


ACME = {"key": ACME_KEY, "ip": "203.0.113.10", "route": ("GET", "/orders/42"), "stage": "prod", "stage_var": "prod"}
GLOBEX = {"key": GLOBEX_KEY, "ip": "198.51.100.20", "route": ("GET", "/reports/2025"), "stage": "prod",
          "stage_var": "prod", "cert": VALID_CERT}

# (case, formats, expected, fields overriding a base)
CASES = [
    ("api-key-valid", "all", "Allow", ACME, {}),
    ("api-key-rotation", ["rest-request"], "Allow", ACME, {"key": ACME_NEXT_KEY}),
    ("api-key-ipv6", ["http-v2"], "Allow", ACME, {"ip": "2001:db8:ac:e::17"}),
    ("api-key-unknown", "all", "Deny", ACME, {"key": UNKNOWN_KEY}),
    ("api-key-missing", "all", "Unauthorized", ACME, {"key": None}),
    ("tenant-revoked", ["rest-request", "http-v2"], "Deny", ACME, {"key": INITECH_KEY}),
    ("source-ip-outside-allow", "all", "Deny", ACME, {"ip": "192.0.2.55"}),
    ("source-ip-in-deny", ["rest-request", "http-v2"], "Deny", ACME, {"ip": "203.0.113.200"}),
    ("route-outside-grants", ["rest-request", "http-v1", "http-v2"], "Deny", ACME, {"route": ("DELETE", "/orders/42")}),
    ("client-cert-valid", ["rest-request", "http-v2"], "Allow", GLOBEX, {}),
    ("client-cert-expired", ["rest-request", "http-v2"], "Deny", GLOBEX, {"cert": EXPIRED_CERT}),
    ("client-cert-unlisted", ["rest-request", "http-v2"], "Deny", GLOBEX, {"cert": UNLISTED_CERT}),
    ("client-cert-missing", ["rest-request"], "Deny", GLOBEX, {"cert": None}),
    ("stage-variable-mismatch", ["rest-request", "http-v2"], "Deny", GLOBEX, {"stage_var": "staging"}),
]

FORMATS = {"rest-request": rest_request, "http-v1": http_v1, "http-v2": http_v2, "websocket": websocket}


def main():
    (OUT / "rules").mkdir(exist_ok=True)
    (OUT / "rules" / "rules.json").write_text(json.dumps(RULES, indent=2) + "\n")
    (OUT / "rules" / "rules.toml").write_text(rules_toml())
    for old in OUT.glob("*.json"):
        old.unlink()
    expected = {}
    for case, formats, decision, base, overrides in CASES:
        fields = copy.deepcopy(base)
        fields.update(overrides)
        for fmt in FORMATS if formats == "all" else formats:
            name = f"{fmt}-{case}.json"
            (OUT / name).write_text(json.dumps(FORMATS[fmt](fields), indent=2) + "\n")
            expected[name] = decision
    (OUT / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
