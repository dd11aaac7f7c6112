"""Prompt understanding benchmark: top-1 accuracy, confusion matrix and latency of analyze_prompt.

    python benchmarks/bench_prompts.py [--data benchmarks/data/prompts.jsonl] [--errors]

The data is JSON lines {"text", "label", "kind"}; for a timeline the label is the moment the clip
builds to (the last non-neutral moment unless an earlier one is clearly stronger).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emocast.emotion.plan import EMOTIONS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data" / "prompts.jsonl")
    parser.add_argument("--errors", action="store_true", help="list the misclassified prompts")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]

    # cold start: import + model + exemplar bank
    t0 = time.perf_counter()
    from emocast.emotion.analyze import analyze_prompt

    analyze_prompt("warm up")
    cold = time.perf_counter() - t0

    confusion = np.zeros((len(EMOTIONS), len(EMOTIONS)), int)
    per_kind: dict[str, list[int]] = defaultdict(list)
    latencies, errors = [], []
    for row in rows:
        t = time.perf_counter()
        plan = analyze_prompt(row["text"])
        latencies.append(time.perf_counter() - t)
        truth, pred = EMOTIONS.index(row["label"]), EMOTIONS.index(plan.emotion)
        confusion[truth, pred] += 1
        per_kind[row.get("kind", "-")].append(int(truth == pred))
        if truth != pred:
            errors.append((row["text"], row["label"], plan.emotion, plan.probabilities[plan.emotion]))

    accuracy = np.trace(confusion) / confusion.sum()
    lat = np.array(latencies) * 1000
    print(f"prompts: {len(rows)}   top-1 accuracy: {accuracy * 100:.1f}%")
    print("by kind: " + ", ".join(f"{k} {np.mean(v) * 100:.0f}% ({len(v)})" for k, v in sorted(per_kind.items())))
    print(f"latency: cold start {cold:.2f} s, warm mean {lat.mean():.1f} ms, p95 {np.percentile(lat, 95):.1f} ms")
    print("\nconfusion matrix (rows: truth, columns: predicted)")
    short = [e[:5] for e in EMOTIONS]
    print(" " * 10 + "".join(f"{s:>6s}" for s in short))
    for i, e in enumerate(EMOTIONS):
        print(f"{e:<10s}" + "".join(f"{n:6d}" for n in confusion[i]))
    if args.errors:
        print("\nmisclassified:")
        for text, truth, pred, p in errors:
            print(f"  {truth:>9s} -> {pred:<9s} ({p:.2f})  {text}")
    print("\nlabels:", dict(Counter(r["label"] for r in rows)))


if __name__ == "__main__":
    main()
