#!/usr/bin/env python3
"""Summarise `make fuzz` runs: one row per target from libFuzzer's final stats in
target/fuzz/<target>.log, written as a Markdown table."""
import argparse
import os
import re

p = argparse.ArgumentParser()
p.add_argument("--seconds", type=int, required=True)
p.add_argument("--out", required=True)
p.add_argument("targets", nargs="+")
args = p.parse_args()

logs = os.path.dirname(args.out)
rows = ["| target | executions | seconds | exec/s | crashes | corpus files |",
        "| --- | ---: | ---: | ---: | ---: | ---: |"]
for t in args.targets:
    try:
        text = open(os.path.join(logs, f"{t}.log"), errors="replace").read()
    except FileNotFoundError:
        text = ""
    units = re.findall(r"stat::number_of_executed_units:\s*(\d+)", text)
    secs = re.findall(r"Done \d+ runs in (\d+) second", text)
    crashes = len(re.findall(r"^(==\d+== ERROR: libFuzzer|thread '.*' panicked|SUMMARY: libFuzzer)", text, re.M))
    crashed = "Test unit written to" in text or crashes > 0
    ex = int(units[-1]) if units else 0
    s = int(secs[-1]) if secs else args.seconds
    corpus_dir = os.path.join("fuzz", "corpus", t)
    corpus = len(os.listdir(corpus_dir)) if os.path.isdir(corpus_dir) else 0
    rate = ex // s if s else 0
    rows.append(f"| {t} | {ex} | {s} | {rate} | {1 if crashed else 0} | {corpus} |")
open(args.out, "w").write("\n".join(rows) + "\n")
