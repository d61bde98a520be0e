"""Bench key material: a fresh RSA key, its JWKS and one RS256 token valid for two hours.

usage: mint.py <out dir> <issuer> <audience>  → jwks.json, token.txt
"""

import json
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

out, issuer, audience = sys.argv[1:4]
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
jwk.update({"kid": "bench-key", "use": "sig", "alg": "RS256"})
now = int(time.time())
token = jwt.encode(
    {"iss": issuer, "aud": audience, "sub": "bench-user", "iat": now, "exp": now + 7200, "scope": "orders:read"},
    key,
    algorithm="RS256",
    headers={"kid": "bench-key"},
)
with open(f"{out}/jwks.json", "w") as f:
    json.dump({"keys": [jwk]}, f)
with open(f"{out}/token.txt", "w") as f:
    f.write(token)
