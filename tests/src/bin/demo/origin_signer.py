#!/usr/bin/env python3
"""The demo's origin-signer rows: the packaged Node.js handler signs each sample event and
botocore's SigV4Auth recomputes the signature, with crosscheck.py's own checks (not repeated here).

Prints one JSON line per event: {"event", "decision"}, decision `Signed` (forwarded, signature
verified), `502` (refused) or `Mismatch: <why>`.
usage: origin_signer.py <crosscheck.py> <origin-signer.zip> <events dir>
"""
import importlib.util
import json
import sys
import tempfile
import zipfile
from pathlib import Path


def main(crosscheck_path, zip_path, events_dir):
    spec = importlib.util.spec_from_file_location("crosscheck", crosscheck_path)
    cc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cc)
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(zip_path) as z:
            z.extractall(tmp)
        for path in sorted(Path(events_dir).glob("*.json")):
            event = json.loads(path.read_text())
            result, log = cc.run_handler(Path(tmp) / "index.mjs", event, cc.node_env())
            try:
                if "status" in result:
                    cc.verify_refused(path.name, result, log, "")
                    decision = result["status"]
                else:
                    cc.verify_signed(path.name, event, result, log)
                    decision = "Signed"
            except AssertionError as e:
                decision = f"Mismatch: {str(e).splitlines()[0]}"
            print(json.dumps({"event": path.name, "decision": decision}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
