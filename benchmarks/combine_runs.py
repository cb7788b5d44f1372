"""Merge the results of several `fewtag bench` runs into one learning-curve figure and table.

    python benchmarks/combine_runs.py RUN [RUN ...] --out docs/learning_curves.png [--methods a,b] [--book]

Rows are read from each RUN/results.csv (ok rows only); a (method, slice, seed) that appears in several
runs keeps the row of the first run that has it, so one method's slices may come from several runs. `--book` adds the book's ch. 9 best figure per slice
(BENCHMARKS.md table A) as a dashed reference line. Prints a Markdown table of mean micro/macro F1.
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path

import numpy as np

from fewtag.eval.curves import plot_learning_curves

#: BENCHMARKS.md table A: the best book figure at each slice (micro, macro). The book's slices are
#: 10..223 issues of its own data; they are drawn at our slice of the same name ("223" at "all").
BOOK_BEST = {"8": (0.462, 0.394), "16": (0.462, 0.394), "32": (0.495, 0.394), "64": (0.597, 0.395),
             "128": (0.690, 0.540), "all": (0.776, 0.676)}


def read_rows(runs: list[Path], keep: set[str] | None) -> list[dict]:
    rows, owner = [], {}
    for run in runs:
        with open(run / "results.csv", newline="") as fh:
            for r in csv.DictReader(fh):
                if r["status"] != "ok" or (keep and r["method"] not in keep):
                    continue
                if owner.setdefault((r["method"], r["slice"], r["seed"]), run) != run:
                    continue
                rows.append(r)
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["method"], r["slice"])].append(r)
    out = []
    for (method, sl), rs in groups.items():
        entry = {"method": method, "slice": sl, "slice_size": float(np.mean([float(r["slice_size"]) for r in rs]))}
        for key in ("micro_f1", "macro_f1"):
            v = np.array([float(r[key]) for r in rs])
            entry[key], entry[key + "_min"], entry[key + "_max"] = v.mean(), v.min(), v.max()
        out.append(entry)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--methods", default=None, help="comma-separated rows to keep, in this order")
    parser.add_argument("--book", action="store_true", help="add the book's best figure per slice")
    args = parser.parse_args()
    keep = [m.strip() for m in args.methods.split(",")] if args.methods else None
    summary = summarise(read_rows(args.runs, set(keep) if keep else None))
    if keep:
        summary.sort(key=lambda e: keep.index(e["method"]))
    if args.book:
        sizes = {e["slice"]: e["slice_size"] for e in summary}
        for name, (mi, ma) in BOOK_BEST.items():
            if name not in sizes:
                continue
            summary.append({"method": "book ch. 9: best at that slice", "slice": name,
                            "slice_size": sizes[name], "micro_f1": mi, "macro_f1": ma,
                            "micro_f1_min": mi, "micro_f1_max": mi, "macro_f1_min": ma, "macro_f1_max": ma})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot_learning_curves(summary, args.out, title="huggingface/datasets issues: test F1 vs training slice")
    slices = sorted({e["slice"] for e in summary if e["method"].startswith("book") is False},
                    key=lambda s: float("inf") if s == "all" else int(s))
    print("| method | " + " | ".join(slices) + " |\n|---|" + "---|" * len(slices))
    for method in dict.fromkeys(e["method"] for e in summary if not e["method"].startswith("book")):
        cells = {e["slice"]: f"{e['micro_f1']:.3f}/{e['macro_f1']:.3f}" for e in summary if e["method"] == method}
        print(f"| {method} | " + " | ".join(cells.get(s, "") for s in slices) + " |")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
