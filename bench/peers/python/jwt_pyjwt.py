"""Peer (d): a JWT authorizer with PyJWT's PyJWKClient (JWKS cached by the client)."""

import os

import jwt

from common import policy

ISSUER = os.environ["JWT_ISSUER"]
AUDIENCE = os.environ["JWT_AUDIENCE"].split(",")
ALGORITHMS = os.environ.get("JWT_ALGORITHMS", "RS256").split(",")
jwks = jwt.PyJWKClient(os.environ["JWT_JWKS_URI"], cache_keys=True, lifespan=300)


def handler(event, context):
    token = event.get("authorizationToken") or ""
    if token.lower().startswith("bearer "):
        token = token[7:]
    try:
        key = jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=ALGORITHMS,
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError:
        raise Exception("Unauthorized")
    return policy(claims["sub"], "Allow", event["methodArn"], {"sub": claims["sub"]})
