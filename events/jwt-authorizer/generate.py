#!/usr/bin/env python3
"""Writes the JWT authorizer's sample events, jwks.json and expected.json.

The tokens are minted by functions/jwt-authorizer/mint-tokens.py (PyJWT), which the integration
tests also use; this file only runs it in its `events` mode, so every folder of events/ has its
generator in the same place. Run: .venv/bin/python events/jwt-authorizer/generate.py
"""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

if __name__ == "__main__":
    subprocess.run([sys.executable, str(ROOT / "functions/jwt-authorizer/mint-tokens.py"), "events"], check=True)
