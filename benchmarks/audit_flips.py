"""How well `fewtag audit` finds injected label errors: flip a share of a single-label set's labels to
another label at random, audit, and score the flagged rows against the flips.

    .venv/bin/python benchmarks/audit_flips.py --data emotion --rows 3000 --flip 0.10 --seeds 0,1,2
    .venv/bin/python benchmarks/audit_flips.py --data react --flip 0.10 --seeds 0,1,2

Precision = flagged rows that were flipped / flagged rows; recall = flipped rows flagged / flipped rows.
The data's own errors count against precision (they are flagged but were not injected), so the
figures are a lower bound of how well the audit finds errors. Prints a table (mean ± sd, 95% interval).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


def load(name: str, rows: int, seed: int) -> tuple[list[str], list[str]]:
    if name == "emotion":
        pairs = [ln.rsplit(";", 1) for ln in (SHARED / "emotion" / "train.txt").read_text().splitlines() if ";" in ln]
        texts, labels = [p[0] for p in pairs], [p[1] for p in pairs]
    else:
        from fewtag.data.text import TextSpec

        spec = TextSpec()
        data = json.loads((SHARED / "github_issues_4repos" / f"{name}.json").read_text())
        texts = [spec.text_of({"title": d.get("title") or "", "body": d.get("body") or ""}) for d in data]
        labels = [str(d["labels"]) for d in data]
    rng = np.random.default_rng(1000 + seed)
    order = rng.permutation(len(texts))[: rows or len(texts)]
    return [texts[i] for i in order], [labels[i] for i in order]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="emotion", help="emotion, or one of bootstrap/react/vue/ohmyzsh")
    ap.add_argument("--rows", type=int, default=3000, help="rows sampled (0: all)")
    ap.add_argument("--flip", type=float, default=0.10)
    ap.add_argument("--method", default="tfidf-logreg")
    ap.add_argument("--seeds", default="0,1,2")
    args = ap.parse_args()
    from fewtag.audit import audit
    from fewtag.labels import binarize
    from fewtag.metrics import format_interval, mean_interval
    from fewtag.registry import create

    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        texts, labels = load(args.data, args.rows, seed)
        classes = sorted(set(labels))
        rng = np.random.default_rng(seed)
        flipped = set(rng.choice(len(texts), int(round(args.flip * len(texts))), replace=False).tolist())
        noisy = [
            str(rng.choice([c for c in classes if c != lab])) if i in flipped else lab for i, lab in enumerate(labels)
        ]
        start = time.perf_counter()
        result = audit(
            lambda seed=seed: create(args.method, None, seed=seed),
            texts,
            binarize([[lab] for lab in noisy], classes),
            classes,
            multi_label=False,
            method=args.method,
            seed=seed,
        )
        seconds = time.perf_counter() - start
        order = [it.index for it in result.issues]  # the list's order: most confident first
        flagged = set(order)
        hit = len(flagged & flipped)
        precision = hit / len(flagged) if flagged else 0.0
        recall = hit / len(flipped)
        found = np.cumsum([i in flipped for i in order])
        half = int(np.searchsorted(found, len(flipped) / 2))  # first list position with recall >= 0.5
        p_half = float(found[half] / (half + 1)) if half < len(order) else float("nan")
        rows.append((precision, recall, p_half, len(flagged), seconds))
        print(
            f"seed {seed}: {len(texts)} rows, {len(flipped)} flipped, {len(flagged)} flagged, precision "
            f"{precision:.3f} recall {recall:.3f}, precision of the list's top at recall 0.5 {p_half:.3f} "
            f"({seconds:.1f} s)",
            file=sys.stderr,
        )
    cell = lambda j: format_interval(mean_interval([x[j] for x in rows]))  # noqa: E731
    print("| data | rows | flipped | method | precision | recall | precision of the top at recall 0.5 | seconds |")
    print("|---|---:|---:|---|---|---|---|---:|")
    print(
        f"| {args.data} | {args.rows or 'all'} | {args.flip:.0%} | {args.method} | {cell(0)} | {cell(1)} | {cell(2)} "
        f"| {np.mean([x[4] for x in rows]):.1f} |"
    )


if __name__ == "__main__":
    main()
