#!/usr/bin/env python3
"""Writes the cedar-authorizer samples: one event per caller, route and payload format, and the
decision each must get (expected.json), for the sample policy store in this folder
(schema.json, policies.cedar: the form Verified Permissions gives an API-linked store).

  demo.env           the function's settings: the JWT settings of events/jwt-authorizer/demo.env
                     (test issuer on 127.0.0.1:8765) and the sample policy files
  <case>.json        one event; the tokens carry cognito:groups
  expected.json      Allow / Deny (the policy does not cover the event's route: 403) / Unauthorized

The events are the jwt-authorizer samples with another token, route and ARN; the tokens are
signed with the committed TEST key events/jwt-authorizer/test-key.pem (PyJWT, far-future exp).
Every token here is a demo value. Run: .venv/bin/python events/cedar-authorizer/generate.py
"""
import copy
import json
import pathlib

import jwt
from cryptography.hazmat.primitives import serialization

OUT = pathlib.Path(__file__).parent
JWT_EVENTS = OUT.parent / "jwt-authorizer"
ISSUER = "http://127.0.0.1:8765"
AUDIENCE = "portcullis-demo"
KID = "portcullis-test-key"
IAT = 1_767_225_600  # 2026-01-01T00:00:00Z
FAR_FUTURE = 4_102_444_800  # 2100-01-01T00:00:00Z
ACCOUNT = "123456789012"

DEMO_ENV = f"""JWT_ISSUER={ISSUER}
JWT_AUDIENCE={AUDIENCE}
JWT_JWKS_URI={ISSUER}/jwks.json
JWT_ALGORITHMS=RS256
JWT_TOKEN_SOURCES=header:authorization,query:access_token
CEDAR_POLICY_FILE=events/cedar-authorizer/policies.cedar
CEDAR_SCHEMA_FILE=events/cedar-authorizer/schema.json
CEDAR_ENTITY_ID_PREFIX=us-east-1_EXAMPLE
HTTP_API_RESPONSE_MODE=iam
"""


def tokens():
    key = serialization.load_pem_private_key((JWT_EVENTS / "test-key.pem").read_bytes(), password=None)

    def sign(sub, groups, iat=IAT, exp=FAR_FUTURE):
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": iat, "exp": exp}
        if groups is not None:
            claims["cognito:groups"] = groups
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})

    return {
        "reader": sign("demo-reader", ["readers"]),
        "staff": sign("demo-staff", ["staff"]),
        "suspended": sign("demo-suspended", ["staff", "suspended"]),
        "admin": sign("demo-admin", ["admins"]),
        "nogroups": sign("demo-nobody", None),
        "expired": sign("demo-reader", ["readers"], iat=1_600_000_000, exp=1_600_000_600),
    }


def template(name):
    return json.loads((JWT_EVENTS / name).read_text())


def rest_token(token, method, path):
    return {"type": "TOKEN", "authorizationToken": f"Bearer {token}",
            "methodArn": f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5/prod/{method}{path}"}


def rest_request(token, method, path, resource):
    event = copy.deepcopy(template("rest-request-valid.json"))
    event.update({"methodArn": f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5/prod/{method}{path}",
                  "resource": resource, "path": path, "httpMethod": method, "pathParameters": {}})
    for headers in (event["headers"], event["multiValueHeaders"]):
        for k in [k for k in headers if k.lower() == "authorization"]:
            del headers[k]
    event["headers"]["Authorization"] = f"Bearer {token}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {token}"]
    event["requestContext"].update({"resourcePath": resource, "httpMethod": method, "path": f"/prod{path}"})
    return event


def http_v2(token, method, path, route):
    event = copy.deepcopy(template("http-v2-valid.json"))
    route_key = f"{method} {route}"
    event.update({"routeArn": f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:h1t2p3a4p5/$default/{method}{path}",
                  "identitySource": [f"Bearer {token}"], "routeKey": route_key, "rawPath": path,
                  "pathParameters": {}})
    event["headers"]["authorization"] = f"Bearer {token}"
    event["requestContext"]["routeKey"] = route_key
    event["requestContext"]["http"].update({"method": method, "path": path})
    return event


def websocket(token):
    event = copy.deepcopy(template("websocket-connect-query.json"))
    event["queryStringParameters"] = {"access_token": token}
    event["multiValueQueryStringParameters"] = {"access_token": [token]}
    return event


def main():
    t = tokens()
    cases = {
        # readers: list and read pets; the owner record under /pets/{petId} is not theirs
        "rest-token-reader-get-pet.json": (rest_token(t["reader"], "GET", "/pets/7"), "Allow"),
        "rest-token-reader-get-owner.json": (rest_token(t["reader"], "GET", "/pets/7/owner"), "Deny"),
        "rest-request-reader-delete-pet.json": (
            rest_request(t["reader"], "DELETE", "/pets/7", "/pets/{petId}"), "Deny"),
        "http-v2-reader-list-pets.json": (http_v2(t["reader"], "GET", "/pets", "/pets"), "Allow"),
        "websocket-reader-connect.json": (websocket(t["reader"]), "Allow"),
        # staff: everything under /pets, nothing under /admin
        "rest-token-staff-get-owner.json": (rest_token(t["staff"], "GET", "/pets/7/owner"), "Allow"),
        "http-v2-staff-add-pet.json": (http_v2(t["staff"], "POST", "/pets", "/pets"), "Allow"),
        "rest-token-staff-admin.json": (rest_token(t["staff"], "GET", "/admin/reports/2026"), "Deny"),
        # admins: the greedy /admin/{proxy+} route at any depth
        "rest-request-admin-report.json": (
            rest_request(t["admin"], "GET", "/admin/reports/2026", "/admin/{proxy+}"), "Allow"),
        # forbid wins over every permit; no group, no route
        "rest-token-suspended-list-pets.json": (rest_token(t["suspended"], "GET", "/pets"), "Deny"),
        "http-v2-nogroups-list-pets.json": (http_v2(t["nogroups"], "GET", "/pets", "/pets"), "Deny"),
        # the token itself refused: 401
        "rest-token-expired.json": (rest_token(t["expired"], "GET", "/pets"), "Unauthorized"),
        "http-v2-garbage-token.json": (http_v2("not.a.jwt", "GET", "/pets", "/pets"), "Unauthorized"),
    }
    for stale in OUT.glob("*.json"):
        if stale.name not in ("schema.json",):
            stale.unlink()
    for name, (event, _) in cases.items():
        (OUT / name).write_text(json.dumps(event, indent=2) + "\n")
    expected = {name: decision for name, (_, decision) in sorted(cases.items())}
    (OUT / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    (OUT / "demo.env").write_text(DEMO_ENV)


if __name__ == "__main__":
    main()
