"""Uncertainty of a score matrix, one number per row (larger = more uncertain).

Single-label scores are class probabilities (rows sum to 1); multi-label scores are
independent per-label probabilities. The definitions follow Settles (2009), *Active
Learning Literature Survey*, section 3.1, and small-text's ``LeastConfidence``,
``BreakingTies`` and ``PredictionEntropy``; for multi-label data each label is a
binary problem and the most uncertain label decides (least confidence, margin) or
the binary entropies add up (entropy).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["least_confidence", "breaking_ties", "entropy", "confidence", "MEASURES"]


def _check(scores: NDArray) -> NDArray[np.float64]:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores must have shape (n_items, n_labels); got shape {s.shape}")
    return np.clip(s, 0.0, 1.0)


def least_confidence(scores: NDArray, *, multi_label: bool = False) -> NDArray[np.float64]:
    """``1 - max_j p_j`` (single-label); ``1 - min_j max(p_j, 1 - p_j)`` (multi-label).

    >>> least_confidence(np.array([[0.9, 0.1], [0.5, 0.5]])).round(2).tolist()
    [0.1, 0.5]
    """
    s = _check(scores)
    if multi_label:
        return 1.0 - np.maximum(s, 1.0 - s).min(axis=1)
    return 1.0 - s.max(axis=1)


def breaking_ties(scores: NDArray, *, multi_label: bool = False) -> NDArray[np.float64]:
    """Minus the margin: ``-(p_top1 - p_top2)`` (single-label); ``-min_j |2 p_j - 1|`` (multi-label).

    The item with the smallest margin between its two most likely labels ranks first.

    >>> breaking_ties(np.array([[0.6, 0.3, 0.1], [0.45, 0.44, 0.11]])).round(2).tolist()
    [-0.3, -0.01]
    """
    s = _check(scores)
    if multi_label:
        return -np.abs(2.0 * s - 1.0).min(axis=1)
    if s.shape[1] < 2:
        return -s[:, 0]
    top = np.sort(s, axis=1)
    return -(top[:, -1] - top[:, -2])


def entropy(scores: NDArray, *, multi_label: bool = False) -> NDArray[np.float64]:
    """Shannon entropy of the row (single-label); the sum of per-label binary entropies (multi-label).

    >>> entropy(np.array([[1.0, 0.0], [0.5, 0.5]])).round(3).tolist()
    [0.0, 0.693]
    """
    s = _check(scores)
    with np.errstate(divide="ignore", invalid="ignore"):
        if multi_label:
            h = -(s * np.log(s) + (1 - s) * np.log(1 - s))
        else:
            h = -(s * np.log(s))
    return np.nan_to_num(h, nan=0.0).sum(axis=1)


def confidence(scores: NDArray, *, multi_label: bool = False) -> NDArray[np.float64]:
    """How sure the model is (larger = surer): minus :func:`least_confidence`."""
    return -least_confidence(scores, multi_label=multi_label)


#: name -> measure, for the strategies that take ``measure=``.
MEASURES = {"least-confidence": least_confidence, "breaking-ties": breaking_ties, "entropy": entropy}
