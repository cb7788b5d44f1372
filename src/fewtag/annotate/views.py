"""What the templates are given: the label options, the progress box, the estimate as text."""

from __future__ import annotations

import math
from typing import Any

from fewtag.annotate.state import AnnotateState, Entry
from fewtag.metrics import format_interval

__all__ = ["describe_estimate", "estimate_mean", "options", "progress", "key_of"]


def key_of(index: int) -> str:
    """The key that toggles the ``index``-th label: 1..9, then 0; none after ten.

    >>> [key_of(i) for i in (0, 8, 9, 10)]
    ['1', '9', '0', '']
    """
    return str(index + 1) if index < 9 else ("0" if index == 9 else "")


def describe_estimate(summary: dict[str, Any] | None) -> str | None:
    """The cross-validated F1 of :meth:`CVEstimate.summary` as one line: micro (and macro) with their intervals.

    >>> from fewtag.metrics import mean_interval
    >>> describe_estimate({"micro_f1": mean_interval([0.6, 0.7, 0.65]), "macro_f1": mean_interval([0.5, 0.6, 0.55])})
    'micro 0.650 ± 0.050 [0.526, 0.774] · macro 0.550 ± 0.050 [0.426, 0.674]'
    >>> describe_estimate(None) is None
    True
    """
    if not summary or "micro_f1" not in summary:
        return None
    text = f"micro {format_interval(summary['micro_f1'])}"
    if "macro_f1" in summary:
        text += f" · macro {format_interval(summary['macro_f1'])}"
    return text


def estimate_mean(summary: dict[str, Any] | None, key: str = "macro_f1") -> float | None:
    """The mean F1 of a summary (``None`` without one)."""
    if not summary or key not in summary:
        return None
    value = summary[key].get("mean")
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def progress(state: AnnotateState) -> dict[str, Any]:
    """The header and the progress box."""
    snap = state.snapshot
    history = " → ".join(f"{m:.2f} ({n})" for n, e in snap.history[-6:] if (m := estimate_mean(e)) is not None)
    return {
        "n_labelled": snap.n_labelled,
        "session": state.session_saves,
        "estimate": describe_estimate(snap.estimate),
        "version": snap.version,
        "busy": state.busy,
        "error": state.error,
        "counts": list(snap.counts.items()),
        "top": max([1, *snap.counts.values()]),
        "history": history,
        "stop_hint": snap.stop_hint,
    }


def options(state: AnnotateState, entry: Entry, checked: list[str]) -> list[dict[str, Any]]:
    """One row per label: its key, description, score and whether the model suggests it."""
    task = state.task
    return [
        {
            "name": name,
            "key": key_of(i),
            "description": task.descriptions.get(name, ""),
            "score": entry.scores.get(name),
            "suggested": name in entry.labels,
            "checked": name in checked,
        }
        for i, name in enumerate(task.labels)
    ]
