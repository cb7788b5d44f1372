"""Merge the results of several `fewtag bench` runs into one learning-curve figure and table.

    python benchmarks/combine_runs.py RUN [RUN ...] --out docs/learning_curves.png [--methods a,b] [--book]
        [--objective micro|macro]

Rows are read from each RUN/results.csv (ok rows only); a (method, slice, seed) that appears in several
runs keeps the row of the first run that has it, so one method's slices may come from several runs.
`--book` adds the book's ch. 9 best figure per slice (BENCHMARKS.md table A) as a dashed reference line.

Prints, in Markdown: test micro and macro F1 per method and slice as mean ± sd [95% t-interval over
seeds] (``(n=1)`` for one seed: no interval), the method best by validation at each slice (mean
``val_micro_f1``, or ``val_macro_f1`` with ``--objective macro``) with its test figures, and the exact
command of every run. Runs written before results.csv had ``val_*`` columns have no validation choice.
The figure's band is the 95% t-interval.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path

from fewtag.eval.curves import plot_learning_curves
from fewtag.eval.result import summary_entry
from fewtag.metrics import format_interval

#: BENCHMARKS.md table A: the best book figure at each slice (micro, macro). The book's slices are
#: 10..223 issues of its own data; they are drawn at our slice of the same name ("223" at "all").
BOOK_BEST = {
    "8": (0.462, 0.394),
    "16": (0.462, 0.394),
    "32": (0.495, 0.394),
    "64": (0.597, 0.395),
    "128": (0.690, 0.540),
    "all": (0.776, 0.676),
}
KEYS = ("val_micro_f1", "val_macro_f1", "micro_f1", "macro_f1")


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
    """One entry per (method, slice): for each of KEYS the mean, _sd, _min, _max, _lo, _hi and n."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["method"], r["slice"])].append(r)
    return [summary_entry(method, sl, rs, KEYS) for (method, sl), rs in groups.items()]


def cell(entry: dict, key: str) -> str:
    return format_interval(
        {
            "mean": entry[key],
            "sd": entry[key + "_sd"],
            "n": entry["n"],
            "lo": entry[key + "_lo"],
            "hi": entry[key + "_hi"],
        }
    )


def best_by_validation(summary: list[dict], slices: list[str], objective: str) -> list[tuple[str, dict]]:
    by, other = ("val_macro_f1", "val_micro_f1") if objective == "macro" else ("val_micro_f1", "val_macro_f1")
    order = {m: i for i, m in enumerate(dict.fromkeys(e["method"] for e in summary))}
    picks = []
    for sl in slices:
        rows = [e for e in summary if e["slice"] == sl and e[by] is not None]
        if rows:
            picks.append((sl, max(rows, key=lambda e: (e[by], e[other] or -1.0, -order[e["method"]]))))
    return picks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--methods", default=None, help="comma-separated rows to keep, in this order")
    parser.add_argument("--book", action="store_true", help="add the book's best figure per slice")
    parser.add_argument(
        "--objective",
        choices=("micro", "macro"),
        default="micro",
        help="validation F1 that picks the best method per slice",
    )
    args = parser.parse_args()
    keep = [m.strip() for m in args.methods.split(",")] if args.methods else None
    summary = summarise(read_rows(args.runs, set(keep) if keep else None))
    if keep:
        summary.sort(key=lambda e: keep.index(e["method"]))
    slices = sorted({e["slice"] for e in summary}, key=lambda s: float("inf") if s == "all" else int(s))
    measured = list(summary)
    if args.book:
        sizes = {e["slice"]: e["slice_size"] for e in summary}
        for name, (mi, ma) in BOOK_BEST.items():
            if name in sizes:
                summary.append(
                    {
                        "method": "book ch. 9: best at that slice",
                        "slice": name,
                        "n": 1,
                        "slice_size": sizes[name],
                        "micro_f1": mi,
                        "macro_f1": ma,
                        "micro_f1_lo": None,
                        "micro_f1_hi": None,
                        "macro_f1_lo": None,
                        "macro_f1_hi": None,
                    }
                )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot_learning_curves(summary, args.out, title="huggingface/datasets issues: test F1 vs training slice")
    for key, title in (("micro_f1", "Micro F1 (test)"), ("macro_f1", "Macro F1 (test)")):
        print(f"\n{title}, mean ± sd [95% t-interval over seeds]\n")
        print("| method | " + " | ".join(slices) + " |\n|---|" + "---|" * len(slices))
        for method in dict.fromkeys(e["method"] for e in measured):
            cells = {e["slice"]: cell(e, key) for e in measured if e["method"] == method}
            print(f"| {method} | " + " | ".join(cells.get(s, "") for s in slices) + " |")
    by = f"val_{args.objective}_f1"
    print(f"\nBest by validation ({args.objective} F1), with its test figures\n")
    print(f"| slice | method | {by} | test micro F1 | test macro F1 |\n|---|---|---|---|---|")
    for sl, e in best_by_validation(measured, slices, args.objective):
        print(f"| {sl} | {e['method']} | {cell(e, by)} | {cell(e, 'micro_f1')} | {cell(e, 'macro_f1')} |")
    print("\nCommands:\n")
    for run in args.runs:
        cfg = run / "config.json"
        command = json.loads(cfg.read_text()).get("command") if cfg.is_file() else None
        print(f"    {command or f'(no config.json in {run})'}")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
