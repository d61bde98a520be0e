#!/usr/bin/env python3
"""Regenerates every sample event: runs each events/<folder>/generate.py in turn.

The convention: a folder of events/ holds one function's (or scenario's) sample events, an
`expected.json` naming the decision each should get, the `demo.env` settings `make demo` and the
local recipes run the function with, and a `generate.py` that rewrites all of them. A folder
without a generator (origin-signer, secret-rotator) holds hand-written events. A shape several
generators write (the WebSocket `$connect` event) lives once, in events/shapes.py.
Run: make events (with the project venv: PyJWT and cryptography).
"""
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent

if __name__ == "__main__":
    for script in sorted(HERE.glob("*/generate.py")):
        print(f"events: {script.relative_to(HERE.parent)}", flush=True)
        subprocess.run([sys.executable, str(script)], check=True)
