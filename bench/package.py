"""Deploy package sizes for the bench: builds each zip the way it would be uploaded and writes
their sizes to <out>/packages.json.

- portcullis: `target/lambda/<name>/bootstrap.zip` from `make package` (arm64) if present,
  else the release binary of this machine zipped as `bootstrap`.
- Python peers: handler + common.py + every distribution they import that the Lambda Python
  runtime does not already ship (boto3/botocore and awslambdaric are in the runtime).
- Node peer: jwt.mjs + node_modules/aws-jwt-verify (runtime.mjs stands in for the runtime).

usage: package.py <out dir> <functions dir> <peers dir>
"""

import json
import os
import re
import sys
import zipfile
from importlib import metadata
from pathlib import Path

IN_RUNTIME = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six", "awslambdaric", "simplejson", "snapshot-restore-py"}


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(dist_names):
    """The distributions `dist_names` need, transitively, minus what the runtime ships."""
    seen, todo = set(), [norm(n) for n in dist_names]
    while todo:
        name = todo.pop()
        if name in seen or name in IN_RUNTIME:
            continue
        seen.add(name)
        dist = metadata.distribution(name)
        for req in dist.requires or []:
            if ";" in req and "extra" in req.split(";", 1)[1]:
                continue  # optional extras are not installed with the base package
            if ";" in req:
                continue  # environment markers (python_version < …): skip for this runtime
            todo.append(norm(re.split(r"[\s<>=!~\[(]", req, maxsplit=1)[0]))
    return sorted(seen)


def zip_files(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for arcname, src in entries:
            z.write(src, arcname)
    return path.stat().st_size


def dist_entries(names):
    out = []
    for name in names:
        dist = metadata.distribution(name)
        for f in dist.files or []:
            src = Path(dist.locate_file(f))
            if src.is_file() and "__pycache__" not in f.parts:
                out.append((str(f), src))
    return out


def main():
    out, functions, peers = (Path(a) for a in sys.argv[1:4])
    pkg = out / "packages"
    pkg.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for name in ("header-secret-authorizer", "jwt-authorizer", "request-authorizer", "cedar-authorizer",
                 "secret-rotator"):
        lambda_zip = Path("target/lambda") / name / "bootstrap.zip"
        binary = functions / name
        if lambda_zip.is_file():
            sizes[name] = lambda_zip.stat().st_size
        elif binary.is_file():
            sizes[name] = zip_files(pkg / f"{name}.zip", [("bootstrap", binary)])
    for name in ("jwt-authorizer", "request-authorizer"):  # the composed rows run the same packages
        if name in sizes:
            sizes[f"composed-{name}"] = sizes[name]
    py = peers / "python"
    handlers = {
        "py-boto3": ("header_secret_boto3.py", []),
        "py-powertools": ("header_secret_powertools.py", ["aws-lambda-powertools"]),
        "py-pyjwt": ("jwt_pyjwt.py", ["PyJWT", "cryptography"]),
    }
    for key, (handler, dists) in handlers.items():
        entries = [(handler, py / handler), ("common.py", py / "common.py")]
        entries += dist_entries(closure(dists))
        sizes[key] = zip_files(pkg / f"{key}.zip", entries)
    node = peers / "node"
    entries = [("jwt.mjs", node / "jwt.mjs")]
    lib = node / "node_modules" / "aws-jwt-verify"
    for root, _, files in os.walk(lib):
        for f in files:
            src = Path(root) / f
            entries.append((str(src.relative_to(node)), src))
    sizes["node-aws-jwt-verify"] = zip_files(pkg / "node-aws-jwt-verify.zip", entries)
    (out / "packages.json").write_text(json.dumps(sizes, indent=2))
    for k, v in sizes.items():
        print(f"  {k:28} {v / 1024:10.1f} KB")


main()
