"""Compatibility alias: the metrics live in :mod:`fewtag.metrics` (import them from there).

>>> from fewtag.eval.metrics import micro_f1
>>> micro_f1([[1, 0]], [[1, 0]])
1.0
"""

from __future__ import annotations

from fewtag.metrics import (
    NO_LABEL,
    accuracy,
    confusion_matrix,
    fast_micro_f1,
    format_interval,
    macro_f1,
    mean_interval,
    micro_f1,
    per_label_scores,
    score,
    t_interval,
    text_losses,
)

__all__ = [
    "micro_f1",
    "macro_f1",
    "accuracy",
    "per_label_scores",
    "confusion_matrix",
    "score",
    "NO_LABEL",
    "text_losses",
    "fast_micro_f1",
    "t_interval",
    "mean_interval",
    "format_interval",
]
