#!/usr/bin/env python3
"""Where a function's binary size goes: symbol sizes of an unstripped release build, summed by
crate (the first segment of each demangled Rust path; aws-lc's C symbols on their own lines).

    CARGO_TARGET_DIR=target/sizes CARGO_PROFILE_RELEASE_STRIP=false \\
        cargo build --release -p header-secret-authorizer -p jwt-authorizer \\
        -p request-authorizer -p cedar-authorizer -p secret-rotator
    bench/sizes.py target/sizes/release/jwt-authorizer [--top 20]

The build is the deployed one (`make package` selects the same five packages, so the same
features) with symbols kept; fat LTO has already removed what no path reaches. Sizes are of
symbols in the binary, before compression: the zip is about 40 % of the stripped binary.
"""

import argparse
import collections
import re
import subprocess

RUST_PATH = re.compile(r"^<?&?(?:dyn )?([A-Za-z_][A-Za-z0-9_]*)::")


def crate_of(name: str) -> str:
    if name.startswith("aws_lc_"):
        return "aws-lc (C)"
    match = RUST_PATH.match(name)
    if match:
        return match.group(1)
    if "::" not in name and re.fullmatch(r"[A-Za-z0-9_.$@]+", name):
        return "other C and assembly"
    return "(unattributed)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--top", type=int, default=20)
    args = ap.parse_args()
    listing = subprocess.run(["nm", "-S", "--size-sort", "-C", args.binary],
                             capture_output=True, text=True, check=True).stdout
    sizes = collections.Counter()
    for line in listing.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4:
            sizes[crate_of(parts[3])] += int(parts[1], 16)
    total = sum(sizes.values())
    print(f"| crate | KB | share |\n|---|---:|---:|")
    for crate, size in sizes.most_common(args.top):
        print(f"| {crate} | {size / 1000:.0f} | {100 * size / total:.1f} % |")
    print(f"| all symbols | {total / 1000:.0f} | |")


if __name__ == "__main__":
    main()
