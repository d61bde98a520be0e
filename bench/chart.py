"""Draws target/bench/chart.png from results.json: cold init, warm p50/p99 and peak RSS of
every function and peer, on log scales.

usage: chart.py <out dir>
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

out = Path(sys.argv[1])
data = json.loads((out / "results.json").read_text())
rows = [r for r in data["results"] if r["group"] != "Baseline"]
labels = [r["label"].replace(": ", ":\n") for r in rows]
colors = ["#c0392b" if r["ours"] else ("#2471a3" if r["group"] == "HeaderSecret" else "#7d3c98") for r in rows]
panels = [
    ("Cold init (ms)", [r["cold_init_median_ms"] for r in rows]),
    ("Warm p50 (µs)", [r["p50_us"] for r in rows]),
    ("Warm p99 (µs)", [r["p99_us"] for r in rows]),
    ("Peak RSS (MiB)", [r["peak_rss_kib"] / 1024 for r in rows]),
]
fig, axes = plt.subplots(1, len(panels), figsize=(18, 6), sharey=True)
for ax, (title, values) in zip(axes, panels):
    ax.barh(range(len(rows)), values, color=colors)
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_title(title)
    ax.invert_yaxis()
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:,.1f}" if v < 100 else f" {v:,.0f}", va="center", fontsize=8)
    ax.grid(axis="x", which="both", alpha=0.3)
axes[0].set_yticks(range(len(rows)), labels, fontsize=8)
baseline = next((r for r in data["results"] if r["group"] == "Baseline"), None)
note = f"emulator round trip p50 {baseline['p50_us']:.0f} µs included in latencies; " if baseline else ""
fig.suptitle(f"portcullis (red) vs Python/Node.js peers — {note}{data['plan']['invokes']} warm invokes each, log scales")
fig.tight_layout()
fig.savefig(out / "chart.png", dpi=110)
print(f"wrote {out / 'chart.png'}")
