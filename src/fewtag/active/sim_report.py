"""What ``fewtag simulate`` writes: results.csv, summary.csv, summary.md and the learning curves."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fewtag.active.simulate import budgets_to_match
from fewtag.metrics import format_interval, mean_interval

__all__ = ["summarise", "write_simulation", "RESULT_COLUMNS", "choose_strategy"]

RESULT_COLUMNS = [
    "strategy",
    "budget",
    "seed",
    "labelled",
    "labels_seen",
    "micro_f1",
    "macro_f1",
    "val_micro_f1",
    "val_macro_f1",
    "seconds_per_round",
    "rounds",
    "pool",
]
_KEYS = ("micro_f1", "macro_f1", "val_micro_f1", "val_macro_f1", "seconds_per_round")


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean, sd and 95% t-interval over seeds per (strategy, budget).

    Each row: ``strategy, budget, seeds`` and for each of micro/macro F1 (test), their
    ``val_`` versions and ``seconds_per_round``: the mean, ``_sd``, ``_lo``, ``_hi``.
    """
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["strategy"], int(r["budget"])), []).append(r)
    out = []
    for (strategy, budget), rs in groups.items():
        row: dict[str, Any] = {"strategy": strategy, "budget": budget, "seeds": len(rs)}
        for key in _KEYS:
            stats = mean_interval([float(r[key]) for r in rs])
            row[key] = stats["mean"]
            row[key + "_sd"] = stats["sd"]
            row[key + "_lo"] = stats["lo"]
            row[key + "_hi"] = stats["hi"]
            row[key + "_text"] = format_interval(stats)
        out.append(row)
    return out


def choose_strategy(
    summary: Sequence[dict[str, Any]], *, baseline: str = "random", key: str = "val_macro_f1"
) -> str | None:
    """The strategy with the best mean validation ``key`` over budgets (never test); None if only the baseline."""
    names = sorted({r["strategy"] for r in summary} - {baseline})
    if not names:
        return None

    def mean_over_budgets(name: str) -> float:
        vals = [r[key] for r in summary if r["strategy"] == name]
        return sum(vals) / len(vals)

    return max(names, key=mean_over_budgets)


def _table(summary: Sequence[dict[str, Any]], key: str, title: str) -> list[str]:
    budgets = sorted({r["budget"] for r in summary})
    names = list(dict.fromkeys(r["strategy"] for r in summary))
    cell = {(r["strategy"], r["budget"]): r[key + "_text"] for r in summary}
    lines = [f"**{title}** (mean ± sd [95% interval] over seeds)", ""]
    lines.append("| strategy | " + " | ".join(str(b) for b in budgets) + " |")
    lines.append("|---|" + "---|" * len(budgets))
    for name in names:
        lines.append(f"| {name} | " + " | ".join(cell.get((name, b), "") for b in budgets) + " |")
    return lines + [""]


def _matching(summary: Sequence[dict[str, Any]], at: int) -> list[str]:
    names = [n for n in dict.fromkeys(r["strategy"] for r in summary) if n != "random"]
    if not any(r["strategy"] == "random" and r["budget"] == at for r in summary):
        return []
    lines = [f"**Labels needed to reach random sampling's mean F1 at {at} labels** (smallest budget measured)", ""]
    lines += ["| strategy | micro (val) | macro (val) | micro (test) | macro (test) |", "|---|---|---|---|---|"]
    for name in names:
        cells = []
        for key in ("val_micro_f1", "val_macro_f1", "micro_f1", "macro_f1"):
            b = budgets_to_match(summary, name, at=at, key=key)
            cells.append(f"> {max(r['budget'] for r in summary)}" if b is None else str(b))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines + [""]


def write_simulation(
    rows: Sequence[dict[str, Any]], out: str | Path, *, title: str, command: str | None = None, match_at: int = 128
) -> dict[str, Path]:
    """Write ``results.csv`` (one row per run and budget), ``summary.csv``, ``summary.md`` and the figures.

    Figures: ``curves.png`` (every strategy, test F1) and ``curve_<strategy>.png`` (the strategy beside
    random sampling), each with the 95% interval over seeds as a band (:func:`fewtag.eval.curves.plot_learning_curves`).
    """
    from fewtag.eval.curves import plot_learning_curves

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=RESULT_COLUMNS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    paths["results"] = out / "results.csv"
    summary = summarise(rows)
    cols = ["strategy", "budget", "seeds"] + [k + s for k in _KEYS for s in ("", "_sd", "_lo", "_hi")]
    with open(out / "summary.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in summary:
            w.writerow({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()})
    paths["summary"] = out / "summary.csv"
    curve_rows = [
        {"method": r["strategy"], "slice_size": r["budget"], **{k: r[k] for k in r if k.startswith(("micro", "macro"))}}
        for r in summary
    ]
    paths["curves"] = plot_learning_curves(curve_rows, out / "curves.png", title=f"{title}: every strategy (test)")
    for name in dict.fromkeys(r["strategy"] for r in summary):
        if name == "random":
            continue
        pair = [r for r in curve_rows if r["method"] in ("random", name)]
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")
        paths[f"curve_{name}"] = plot_learning_curves(pair, out / f"curve_{safe}.png", title=f"{title}: {name} (test)")
    best = choose_strategy(summary)
    seconds = [r["seconds_per_round"] for r in rows]
    lines = [f"# {title}", ""]
    if command:
        lines += ["```", command, "```", ""]
    lines += _table(summary, "val_macro_f1", "Validation macro F1")
    lines += _table(summary, "macro_f1", "Test macro F1")
    lines += _table(summary, "micro_f1", "Test micro F1")
    lines += _matching(summary, match_at)
    if best is not None:
        lines.append(f"Best strategy on validation macro F1 (mean over budgets): **{best}**.")
    if seconds:
        lines.append(
            f"Seconds per round (retrain + score the pool + pick), mean over all rounds: "
            f"{sum(seconds) / len(seconds):.3f} (2 shared cores: upper bounds)."
        )
    (out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths["report"] = out / "summary.md"
    return paths
