"""The CSV tables of a bench run folder: results.csv, per_label.csv and error_analysis.csv.

Rows are written in the run's order (method as configured, slice, seed; then split and
label for per_label.csv), and floats with a fixed number of digits per column.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fewtag.eval.result import SPLITS, BenchResult

__all__ = ["write_csv", "ordered_rows", "ordered_per_label"]


def _fmt(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


_DIGITS = {
    "val_micro_f1": 6,
    "val_macro_f1": 6,
    "micro_f1": 6,
    "macro_f1": 6,
    "accuracy": 6,
    "train_s": 4,
    "predict_s": 4,
    "peak_mb": 1,
    "precision": 6,
    "recall": 6,
    "f1": 6,
}


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rows`` under ``columns`` to ``path``; floats with the digits of their column, blanks for None and NaN."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow([_fmt(r.get(c), _DIGITS.get(c, 6)) for c in columns])


def ordered_rows(result: BenchResult) -> list[dict[str, Any]]:
    """results.csv rows in run order: method as configured, slice, seed."""
    m_order = {m.display: i for i, m in enumerate(result.settings.methods)}
    s_order = {s: i for i, s in enumerate(result.slices_run)}
    return sorted(result.rows, key=lambda r: (m_order.get(r["method"], 0), s_order.get(r["slice"], 0), r["seed"]))


def ordered_per_label(result: BenchResult) -> list[dict[str, Any]]:
    """per_label.csv rows in run order: method, slice, seed, split, label."""
    m_order = {m.display: i for i, m in enumerate(result.settings.methods)}
    s_order = {s: i for i, s in enumerate(result.slices_run)}
    l_order = {lab: i for i, lab in enumerate(result.labels)}
    sp_order = {sp: i for i, sp in enumerate(SPLITS)}
    return sorted(
        result.per_label,
        key=lambda r: (
            m_order.get(r["method"], 0),
            s_order.get(r["slice"], 0),
            r["seed"],
            sp_order.get(r.get("split", "test"), 0),
            l_order.get(r["label"], 0),
        ),
    )
