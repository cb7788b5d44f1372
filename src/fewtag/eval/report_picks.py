"""What a bench report picks out of a run: the best method by validation, its worst
validation texts, its confusion matrix, and the ``mean ± sd [interval]`` figures.

Test scores choose nothing here: every pick is made on validation
(:meth:`fewtag.eval.result.BenchResult.best_by_validation`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fewtag.eval.result import BenchResult
from fewtag.metrics import NO_LABEL, confusion_matrix, format_interval, text_losses

__all__ = ["best_at_largest", "best_lines", "error_analysis", "ERROR_COLUMNS", "best_confusion", "stats"]


def stats(entry: dict[str, Any], key: str) -> dict[str, Any]:
    """The ``mean / sd / n / lo / hi`` of ``key`` in a summary entry, for :func:`fewtag.metrics.format_interval`."""
    return {
        "mean": entry[key],
        "sd": entry[key + "_sd"],
        "n": entry["n"],
        "lo": entry[key + "_lo"],
        "hi": entry[key + "_hi"],
    }


def best_at_largest(result: BenchResult) -> tuple[str, str] | None:
    """(method, slice) best by validation at the largest slice (see :meth:`BenchResult.best_at_largest`)."""
    return result.best_at_largest()


def best_lines(result: BenchResult) -> list[str]:
    """One "best by validation" line per slice: the pick, its validation score, its test figures.

    Figures are ``mean ± sd [95% t-interval]`` over seeds, or ``mean (n=1)``.
    """
    lines = []
    for pick in result.best_by_validation():
        e = pick["summary"]
        metric = "macro" if pick["by"] == "val_macro_f1" else "micro"
        lines.append(
            f"best by validation at slice {pick['slice']} (n={e['slice_size']:.0f} texts): "
            f"{pick['method']}, validation {metric} F1 {format_interval(stats(e, pick['by']))}; "
            f"test micro F1 {format_interval(stats(e, 'micro_f1'))}, "
            f"macro F1 {format_interval(stats(e, 'macro_f1'))}"
        )
    return lines


def error_analysis(result: BenchResult, top: int = 50) -> dict[str, Any] | None:
    """Validation texts with the highest loss for the method best by validation at the largest slice (seed 0).

    Returns
    -------
    dict with ``method``, ``slice`` and ``rows`` (rank, id, loss, true, predicted, text), or None.
    """
    best = best_at_largest(result)
    if best is None or best[0] not in result.valid_scores or result.valid is None:
        return None
    method, sl = best
    scores, pred = result.valid_scores[method]
    y = result.valid.y(result.labels)
    losses = text_losses(y, scores, multi_label=result.multi_label)
    order = np.argsort(-losses, kind="stable")[:top]
    rows = []
    for rank, i in enumerate(order, 1):
        rows.append(
            {
                "rank": rank,
                "id": result.valid.ids[i],
                "loss": float(losses[i]),
                "true": "; ".join(result.valid.labels[i]),
                "predicted": "; ".join(result.labels[j] for j in np.flatnonzero(pred[i])),
                "text": " ".join(result.valid.texts[i].split())[:500],
            }
        )
    return {"method": method, "slice": sl, "rows": rows}


ERROR_COLUMNS = ["rank", "id", "loss", "true", "predicted", "text"]


def best_confusion(result: BenchResult) -> dict[str, Any] | None:
    """Confusion matrix of the best method at the largest slice (first seed); None for multi-label data."""
    if result.multi_label or result.y_test is None:
        return None
    best = best_at_largest(result)
    if best is None:
        return None
    method, sl = best
    seeds = sorted(seed for (m, s, seed) in result.predictions if m == method and s == sl)
    if not seeds:
        return None
    pred = result.predictions[(method, sl, seeds[0])]
    mat = confusion_matrix(result.y_test, pred)
    columns = list(result.labels)
    if mat[:, -1].sum() == 0:
        mat = mat[:, :-1]
    else:
        columns.append(NO_LABEL)
    return {"method": method, "slice": sl, "seed": seeds[0], "matrix": mat, "columns": columns}
