#!/usr/bin/env python3
"""Mint test keys and JWTs for the JWT authorizer with PyJWT — an implementation independent of
the Rust verifier under test.

Two modes:

  mint-tokens.py spec < spec.json > out.json
      Used by the integration tests (tests/tests/jwt_authorizer.rs). The spec names keys to
      generate and tokens to mint:
        {"keys": ["rsa", "rsa-new", "ec256", "ec384", "ed", "attacker"],
         "tokens": [{"name": "ok-RS256", "key": "rsa", "alg": "RS256",
                     "headers": {"kid": "rsa"}, "claims": {...}, "attack": null}]}
      Key type follows the name prefix: rsa* (RSA-2048), ec256* (P-256), ec384* (P-384),
      ed* (Ed25519). `attack` crafts what no honest library emits:
        "none"        alg none, empty signature
        "hs-pubkey"   HS256 keyed with the RSA public key's PEM (algorithm confusion)
        "psychic"     ES256 with r = s = 0
      Output: {"jwks": {"<key>": <public JWK, kid = key name>}, "tokens": {"<name>": "<jwt>"}}.

  mint-tokens.py events
      Rewrites events/jwt-authorizer/*.json: sample events whose tokens are signed by the
      committed TEST key events/jwt-authorizer/test-key.pem with a far-future exp, so
      `cargo lambda invoke` works against events/jwt-authorizer/jwks.json served locally.
"""
import base64
import copy
import hashlib
import hmac
import json
import pathlib
import sys

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(obj) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def generate(name: str):
    if name.startswith("rsa") or name.startswith("attacker"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if name.startswith("ec256"):
        return ec.generate_private_key(ec.SECP256R1())
    if name.startswith("ec384"):
        return ec.generate_private_key(ec.SECP384R1())
    if name.startswith("ed"):
        return ed25519.Ed25519PrivateKey.generate()
    raise SystemExit(f"unknown key type for {name}")


def public_jwk(name: str, key) -> dict:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    jwk["kid"] = name
    jwk["use"] = "sig"
    return jwk


def mint(spec_token: dict, keys: dict) -> str:
    headers = dict(spec_token.get("headers") or {})
    claims = spec_token["claims"]
    attack = spec_token.get("attack")
    if attack == "none":
        return jwt.encode(claims, None, algorithm="none", headers=headers)
    if attack == "hs-pubkey":
        pem = keys[spec_token["key"]].public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        signing_input = f"{b64json({'alg': 'HS256', 'typ': 'JWT', **headers})}.{b64json(claims)}"
        sig = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(sig)}"
    if attack == "psychic":
        signing_input = f"{b64json({'alg': 'ES256', 'typ': 'JWT', **headers})}.{b64json(claims)}"
        return f"{signing_input}.{b64url(bytes(64))}"
    if attack is not None:
        raise SystemExit(f"unknown attack {attack}")
    return jwt.encode(claims, keys[spec_token["key"]], algorithm=spec_token["alg"], headers=headers)


def spec_mode() -> None:
    spec = json.load(sys.stdin)
    keys = {name: generate(name) for name in spec.get("keys", [])}
    out = {
        "jwks": {name: public_jwk(name, key) for name, key in keys.items()},
        "tokens": {t["name"]: mint(t, keys) for t in spec.get("tokens", [])},
    }
    json.dump(out, sys.stdout)


# ---- sample events ---------------------------------------------------------------------------

EVENTS = pathlib.Path(__file__).resolve().parents[2] / "events" / "jwt-authorizer"
ISSUER = "http://127.0.0.1:8765"
AUDIENCE = "portcullis-demo"
KID = "portcullis-test-key"
FAR_FUTURE = 4_102_444_800  # 2100-01-01T00:00:00Z
ACCOUNT = "123456789012"


def events_mode() -> None:
    EVENTS.mkdir(parents=True, exist_ok=True)
    key_path = EVENTS / "test-key.pem"
    if key_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    jwk = public_jwk(KID, key)
    jwk["alg"] = "RS256"
    (EVENTS / "jwks.json").write_text(json.dumps({"keys": [jwk]}, indent=2) + "\n")

    def token(scope: str, **extra) -> str:
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "demo-user", "iat": 1_767_225_600,
                  "exp": FAR_FUTURE, "scope": scope, **extra}
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})

    reader = token("orders:read")
    writer = token("orders:read orders:write")
    expired = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "demo-user", "iat": 1_600_000_000,
         "exp": 1_600_000_600, "scope": "orders:read"},
        key, algorithm="RS256", headers={"kid": KID})
    wrong_aud = token("orders:read", aud="someone-else")

    arn_rest = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5/prod/GET/orders/42"
    arn_rest_post = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:a1b2c3d4e5/prod/POST/orders"
    arn_http = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:h1t2p3a4p5/$default/GET/orders/42"
    arn_ws = f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:w1s2o3c4k5/live/$connect"

    def rest_token(tok: str, arn: str = arn_rest) -> dict:
        return {"type": "TOKEN", "authorizationToken": f"Bearer {tok}", "methodArn": arn}

    def rest_request(tok: str) -> dict:
        return {
            "type": "REQUEST", "methodArn": arn_rest, "resource": "/orders/{id}",
            "path": "/orders/42", "httpMethod": "GET",
            "headers": {"authorization": f"Bearer {tok}", "host": "api.example.com"},
            "multiValueHeaders": {"authorization": [f"Bearer {tok}"], "host": ["api.example.com"]},
            "queryStringParameters": {}, "pathParameters": {"id": "42"}, "stageVariables": {},
            "requestContext": {"accountId": ACCOUNT, "apiId": "a1b2c3d4e5", "stage": "prod",
                               "resourcePath": "/orders/{id}", "httpMethod": "GET",
                               "path": "/prod/orders/42", "requestId": "req-1",
                               "identity": {"sourceIp": "203.0.113.10"}},
        }

    def http_v2(tok: str, cookie: bool = False) -> dict:
        event = {
            "version": "2.0", "type": "REQUEST", "routeArn": arn_http,
            "identitySource": [f"Bearer {tok}", "GET /orders/{id}"], "routeKey": "GET /orders/{id}",
            "rawPath": "/orders/42", "rawQueryString": "",
            "headers": {"authorization": f"Bearer {tok}", "host": "api.example.com"},
            "requestContext": {"accountId": ACCOUNT, "apiId": "h1t2p3a4p5", "stage": "$default",
                               "requestId": "req-2", "routeKey": "GET /orders/{id}",
                               "http": {"method": "GET", "path": "/orders/42", "protocol": "HTTP/1.1",
                                        "sourceIp": "203.0.113.10", "userAgent": "curl/8"},
                               "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 1767225600000},
            "pathParameters": {"id": "42"},
        }
        if cookie:
            del event["headers"]["authorization"]
            event["identitySource"] = [f"access_token={tok}", "GET /orders/{id}"]
            event["cookies"] = [f"access_token={tok}", "theme=dark"]
        return event

    def websocket(tok: str) -> dict:
        return {
            "type": "REQUEST", "methodArn": arn_ws,
            "headers": {"Host": "ws.example.com", "Sec-WebSocket-Version": "13"},
            "multiValueHeaders": {"Host": ["ws.example.com"], "Sec-WebSocket-Version": ["13"]},
            "queryStringParameters": {"access_token": tok},
            "multiValueQueryStringParameters": {"access_token": [tok]},
            "stageVariables": {},
            "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "stage": "live",
                               "connectionId": "abc=", "apiId": "w1s2o3c4k5", "requestId": "req-3",
                               "identity": {"sourceIp": "203.0.113.10"}},
        }

    samples = {
        "rest-token-valid.json": (rest_token(reader), "Allow"),
        "rest-token-scope-missing.json": (rest_token(reader, arn_rest_post), "Deny"),
        "rest-token-expired.json": (rest_token(expired), "Unauthorized"),
        "rest-token-wrong-audience.json": (rest_token(wrong_aud), "Unauthorized"),
        "rest-request-valid.json": (rest_request(writer), "Allow"),
        "http-v2-valid.json": (http_v2(reader), "Allow"),
        "http-v2-cookie.json": (http_v2(reader, cookie=True), "Allow"),
        "http-v2-garbage-token.json": (http_v2("not.a.jwt"), "Unauthorized"),
        "websocket-connect-query.json": (websocket(writer), "Allow"),
    }
    expected = {}
    for name, (event, outcome) in samples.items():
        (EVENTS / name).write_text(json.dumps(event, indent=2) + "\n")
        expected[name] = outcome
    (EVENTS / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "spec":
        spec_mode()
    elif mode == "events":
        events_mode()
    else:
        raise SystemExit(__doc__)
